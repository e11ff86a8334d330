"""The scenario loader: valid files load as data; every kind of mistake is one clear line."""

from __future__ import annotations

import pytest

from ipcviz.scenario import ScenarioError, load, loads
from ipcviz.scenario.model import Ref

from .conftest import SCENARIOS, ipcviz

GOOD = """
title = "t"
[[process]]
name = "parent"
[[process]]
name = "child"
parent = "parent"
[[object]]
name = "p"
kind = "pipe"
[[step]]
process = "parent"
action = "pipe"
object = "p"
narration = "make it"
[[step]]
process = "parent"
action = "fork"
child = "child"
narration = "fork"
expect = ["p.writers == 2", "child.ends has p.read", "p.bytes == p.capacity - 1"]
"""


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        loads(text, "x.toml")
    return info.value


def test_a_valid_scenario_loads_as_plain_data():
    s = loads(GOOD, "x.toml", "pipe/x")
    assert [p.name for p in s.processes] == ["parent", "child"]
    assert s.steps[1].args == {"child": "child"}
    e = s.steps[1].expects
    assert (e[0].left, e[0].op, e[0].right) == (("p", "writers"), "==", 2)
    assert e[1].right == "p.read"  # an object end is a literal, not a reference
    assert e[2].right == Ref("p", "capacity", -1)


@pytest.mark.parametrize(
    "change, field, words",
    [
        (('action = "fork"', 'action = "frok"'), "step[2].action", "unknown action 'frok'"),
        (('process = "parent"\naction = "fork"', 'process = "nobody"\naction = "fork"'),
         "step[2].process", "unknown process 'nobody'"),
        (('object = "p"', 'object = "q"'), "step[1].object", "unknown object 'q'"),
        (('child = "child"', 'child = 3'), "step[2].child", "unknown process 3"),
        (('narration = "fork"', 'narration = 7'), "step[2].narration", "must be a string"),
        (('narration = "fork"\n', ''), "step[2].narration", "missing field 'narration'"),
        (('name = "child"', 'name = "parent"'), "process[2].name", "duplicate process name"),
        (('"p.writers == 2"', '"p.writerz == 2"'), "step[2].expect[1]", "'p' has no 'writerz'"),
        (('"p.writers == 2"', '"p.writers = 2"'), "step[2].expect[1]", "cannot read"),
        (('kind = "pipe"', 'kind = "tube"'), "object[1].kind", "unknown kind 'tube'"),
        (('child = "child"', 'child = "child"\nfd = 3'), "step[2].fd", "unknown field"),
    ],
)
def test_each_mistake_names_file_field_and_line(change, field, words):
    old, new = change
    assert old in GOOD
    err = error_of(GOOD.replace(old, new, 1))
    assert err.field == field
    assert words in err.message
    assert err.line is not None and err.line > 1
    assert str(err).startswith(f"x.toml:{err.line}: {field}: ")
    assert "\n" not in str(err)


def test_a_step_of_a_process_not_yet_forked_is_refused():
    text = GOOD.replace('[[step]]\nprocess = "parent"\naction = "fork"',
                        '[[step]]\nprocess = "child"\naction = "close"\nfd = 3\nnarration = "x"'
                        '\n[[step]]\nprocess = "parent"\naction = "fork"')
    err = error_of(text)
    assert err.field == "step[2].process" and "does not exist yet" in err.message


def test_a_wrong_fd_end_is_refused():
    text = GOOD.replace('child = "child"', 'child = "child"') + (
        '[[step]]\nprocess = "child"\naction = "close"\nfd = "p.middle"\nnarration = "x"\n')
    err = error_of(text)
    assert err.field == "step[3].fd" and "unknown end 'middle'" in err.message


def test_bad_toml_names_the_line():
    err = error_of('title = "t"\n[[process]\nname = "x"\n')
    assert err.line == 2 and "not valid TOML" in err.message


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load(tmp_path / "nope.toml")
    assert "no such file" in str(info.value)


def test_loading_executes_nothing(tmp_path):
    # GIVEN a scenario whose strings look like code
    marker = tmp_path / "pwned"
    text = GOOD.replace('narration = "make it"',
                        f'narration = "__import__(\'os\').system(\'touch {marker}\')"')
    # WHEN it is loaded
    loads(text, "x.toml")
    # THEN nothing ran
    assert not marker.exists()


def test_every_shipped_scenario_is_valid():
    paths = sorted(SCENARIOS.glob("*/*.toml"))
    assert len(paths) >= 9
    for path in paths:
        s = load(path)
        assert s.name == f"{path.parent.name}/{path.stem}"
        assert all(st.narration.strip() for st in s.steps)
        assert any(st.expects for st in s.steps), f"{s.name} checks nothing"


def test_check_command_exit_codes_and_one_line_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('action = "fork"', 'action = "spoon"'))
    good = tmp_path / "good.toml"
    good.write_text(GOOD)
    r = ipcviz("check", str(bad))
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 2 and lines[1].startswith("  fix: ") and "Traceback" not in r.stderr
    assert f"{bad}:" in r.stderr and "step[2].action" in r.stderr
    r = ipcviz("check", str(good))
    assert r.returncode == 0 and "ok (2 steps, 3 expects)" in r.stdout


def test_every_shipped_lesson_speaks_both_languages_and_asks_a_question():
    for path in sorted(SCENARIOS.glob("*/*.toml")):
        s = load(path)
        assert s.title_i18n.get("zh") and s.summary_i18n.get("zh"), s.name
        missing = [st.number for st in s.steps if not st.narration_i18n.get("zh")]
        assert not missing, f"{s.name}: no zh narration at steps {missing}"
        quizzes = [st.quiz for st in s.steps if st.quiz]
        assert quizzes, f"{s.name} asks no question"
        for q in quizzes:
            assert q.question.get("zh") and all(c.text.get("zh") for c in q.choices), s.name


@pytest.mark.parametrize("disposition, restart, ok", [
    ("handler", "true", True), ("reap", "true", True), ("handler", "false", True),
    ("ignore", "true", False), ("default", "true", False), ("handler", '"yes"', False),
])
def test_sigaction_restart_is_a_flag_of_a_handler(disposition, restart, ok):
    """restart = true (SA_RESTART) is a bool, and only for a handler: one line otherwise."""
    step = ('[[step]]\nprocess = "child"\naction = "signal"\nsignal = "SIGCHLD"\n'
            f'disposition = "{disposition}"\nrestart = {restart}\nnarration = "x"\n')
    if ok:
        assert loads(GOOD + step, "x.toml").steps[-1].args["restart"] is (restart == "true")
        return
    err = error_of(GOOD + step)
    assert err.field == "step[3].restart" and "\n" not in str(err)
