"""Authoring: ipcviz new, check with fixes, the JSON Schema, lecturers' own folders."""

from __future__ import annotations

import json
import os
import tomllib

import jsonschema
import pytest

from ipcviz.scenario.schema import schema

from .conftest import SCENARIOS, ipcviz


@pytest.mark.kernel
def test_new_writes_a_lesson_that_checks_and_runs(tmp_path, runtime_dir):
    env = {**os.environ, "IPCVIZ_RUNTIME_DIR": str(runtime_dir)}
    r = ipcviz("new", str(tmp_path / "mine"), env=env)
    assert r.returncode == 0
    f = tmp_path / "mine.toml"
    assert ipcviz("check", str(f)).returncode == 0
    run = ipcviz("run", str(f), "--headless", env=env)
    assert run.returncode == 0 and "All expects held" in run.stdout
    again = ipcviz("new", str(tmp_path / "mine"))
    assert again.returncode == 2 and "exists already" in again.stderr


def test_new_from_another_mechanism_copies_a_shipped_lesson(tmp_path):
    r = ipcviz("new", str(tmp_path / "x"), "--mechanism", "pipe")
    assert r.returncode == 0
    r = ipcviz("new", str(tmp_path / "y"), "--mechanism", "telepathy")
    assert r.returncode == 2 and "unknown mechanism 'telepathy'" in r.stderr


def test_check_prints_a_fix_for_each_error(tmp_path):
    f = tmp_path / "l.toml"
    f.write_text('title = "t"\n[[process]]\nname = "a"\n[[step]]\nprocess = "b"\n'
                 'action = "exit"\nnarration = "x"\n')
    r = ipcviz("check", str(f))
    lines = r.stderr.splitlines()
    assert r.returncode == 2 and len(lines) == 2
    assert "unknown process 'b'" in lines[0]
    assert lines[1] == '  fix: declare it in a [[process]] table (name = "b"), or fix the spelling'


def test_every_shipped_lesson_matches_the_json_schema():
    s = schema()
    jsonschema.Draft202012Validator.check_schema(s)
    validator = jsonschema.Draft202012Validator(s)  # built once: validate() rebuilds per call
    for path in sorted(SCENARIOS.glob("*/*.toml")):
        validator.validate(tomllib.loads(path.read_text()))


def test_the_schema_rejects_what_the_loader_rejects():
    s = schema()
    bad = {"title": "t", "process": [{"name": "a"}],
           "step": [{"process": "a", "action": "frok", "narration": "x"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, s)
    missing = {"title": "t", "process": [{"name": "a"}],
               "step": [{"process": "a", "action": "close", "narration": "x"}]}  # no fd
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(missing, s)


def test_lecturers_folders_are_listed_and_run_by_name(tmp_path):
    own = tmp_path / "lectures" / "week1"
    own.mkdir(parents=True)
    (own / "hello.toml").write_text((SCENARIOS / "pipe/empty-blocks-reader.toml").read_text()
                                    .replace("An empty pipe", "My own: an empty pipe", 1))
    r = ipcviz("--scenarios", str(tmp_path / "lectures"), "list", "--json")
    names = {i["name"]: i for i in json.loads(r.stdout)}
    assert "week1/hello" in names and "pipe/eof" in names
    cfg = tmp_path / "cfg"
    (cfg / "ipcviz" / "scenarios").mkdir(parents=True)
    (tmp_path / "lectures").rename(cfg / "ipcviz" / "scenarios" / "lectures")
    (cfg / "ipcviz" / "scenarios" / "lectures" / "week1").rename(
        cfg / "ipcviz" / "scenarios" / "week1")
    r = ipcviz("check", str(cfg / "ipcviz" / "scenarios" / "week1" / "hello.toml"))
    assert r.returncode == 0
    r = ipcviz("list", "--json", env={**os.environ, "XDG_CONFIG_HOME": str(cfg)})
    assert "week1/hello" in {i["name"] for i in json.loads(r.stdout)}
    r = ipcviz("--scenarios", str(tmp_path / "nope"), "list")
    assert r.returncode == 2 and "no such folder" in r.stderr


ESCAPED = """title = "t"
[[process]]
name = "parent"
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
action = "write"
fd = "p.write"
data = "one\\ntwo\\n"
narration = "w"
[[step]]
process = "parent"
action = "read"
fd = "p.read"
narration = "r"
"""


@pytest.mark.parametrize("expect", [
    """expect = ['parent.data == "one\\ntwo\\n"']""",  # literal TOML string: the expect escapes
    '''expect = ["parent.data == \\"one\\ntwo\\n\\""]''',  # basic string: TOML decodes \\n
    '''expect = ["parent.data == 'one\\\\x0atwo\\\\u000a'"]''',
])
def test_an_expected_value_with_escapes_is_the_text_it_stands_for(expect):
    from ipcviz.scenario import loads

    s = loads(ESCAPED + expect + "\n", "x.toml")
    assert s.steps[-1].expects[0].right == "one\ntwo\n"


def test_an_unknown_escape_in_an_expected_value_is_named():
    from ipcviz.scenario import ScenarioError, loads

    with pytest.raises(ScenarioError) as info:
        loads(ESCAPED + """expect = ['parent.data == "one\\qtwo"']\n""", "x.toml")
    assert info.value.field == "step[3].expect[1]"
    assert "unknown escape '\\q'" in info.value.message


@pytest.mark.kernel
def test_an_escaped_expected_value_holds_against_the_kernel(tmp_path, runtime_dir):
    f = tmp_path / "esc.toml"
    f.write_text(ESCAPED + """expect = ['parent.data == "one\\ntwo\\n"']\n""")
    r = ipcviz("run", str(f), "--headless",
               env={**os.environ, "IPCVIZ_RUNTIME_DIR": str(runtime_dir)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "All expects held" in r.stdout


BROKEN = 'title = "t"\n[[process]]\nname = "a"\n[[step]]\nprocess = "a"\naction = "exot"\n' \
         'narration = "x"\n'


def test_a_lecturers_folder_may_hold_lessons_flat_or_in_subfolders(tmp_path):
    own = tmp_path / "week1"
    (own / "extra").mkdir(parents=True)
    lesson = (SCENARIOS / "pipe/empty-blocks-reader.toml").read_text()
    (own / "flat.toml").write_text(lesson)
    (own / "extra" / "nested.toml").write_text(lesson)
    r = ipcviz("--scenarios", str(own), "list", "--json")
    names = {i["name"] for i in json.loads(r.stdout)}
    assert {"week1/flat", "extra/nested"} <= names, r.stderr
    r = ipcviz("--scenarios", str(own), "check", str(own / "flat.toml"))
    assert r.returncode == 0


@pytest.mark.parametrize("where", ["bad.toml", "week1/bad.toml"])
def test_a_broken_file_in_the_config_folder_is_reported_like_one_under_scenarios(tmp_path,
                                                                                 where):
    cfg = tmp_path / "cfg"
    folder = cfg / "ipcviz" / "scenarios"
    (folder / where).parent.mkdir(parents=True)
    (folder / where).write_text(BROKEN)
    env = {**os.environ, "XDG_CONFIG_HOME": str(cfg)}
    by_config = ipcviz("list", env=env)
    by_option = ipcviz("--scenarios", str(folder), "list")
    for r in (by_config, by_option):
        assert r.returncode == 0 and "pipe/eof" in r.stdout  # the good lessons still listed
        assert f"skipped a broken scenario: {folder / where}:6: step[1].action: " \
               "unknown action 'exot'" in r.stderr


def test_the_apps_scan_reports_a_dangling_lesson_link(tmp_path, monkeypatch):
    from ipcviz.scenario.catalog import scan_cached

    cfg = tmp_path / "cfg"
    folder = cfg / "ipcviz" / "scenarios" / "week1"
    folder.mkdir(parents=True)
    (folder / "gone.toml").symlink_to(tmp_path / "nowhere.toml")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(cfg))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("IPCVIZ_SCENARIOS", raising=False)
    good, bad, _ = scan_cached(lambda s: set())
    assert any(e.name == "pipe/eof" for e in good)
    assert [str(e.path) for e in bad] == [str(folder / "gone.toml")]


MANY = """title = "t"
[[process]]
name = "parent"
[[process]]
name = "child"
parent = "parent"
[[object]]
name = "pipe1"
kind = "pipe"
[[object]]
name = "q"
kind = "tube"
[[step]]
process = "parent"
action = "pipe"
object = "piep1"
narration = "make it"
[[step]]
process = "parent"
action = "frok"
child = "child"
narration = "fork"
[[step]]
process = "parnet"
action = "write"
fd = "pipe1.write"
data = "x"
daat = "y"
narration = "w"
expect = ["pipe1.bytse == 1", "q.bytes == 1", "chidl.state == running", "pipe1.bytes = 1"]
[[step]]
process = "parent"
action = "close"
fd = "q.read"
narration = 3
"""


def test_check_reports_every_error_of_a_file_with_did_you_mean(tmp_path):
    f = tmp_path / "many.toml"
    f.write_text(MANY)
    r = ipcviz("check", str(f))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if not line.startswith("  fix: ")]
    fixes = [line for line in r.stderr.splitlines() if line.startswith("  fix: ")]
    assert errors == [
        f"{f}:12: object[2].kind: unknown kind 'tube' (known: anon, fifo, file, open_file, "
        "pipe, posix_mq, pty, sem, shm, socket, socketpair, sysv_msgq, sysv_sem, sysv_shm)",
        f"{f}:16: step[1].object: unknown object 'piep1' (did you mean 'pipe1'?)",
        f"{f}:20: step[2].action: unknown action 'frok' (did you mean 'fork'?)",
        f"{f}:24: step[3].process: unknown process 'parnet' (did you mean 'parent'?)",
        f"{f}:28: step[3].daat: unknown field (did you mean 'data'?)",
        f"{f}:30: step[3].expect[1]: 'pipe1' has no 'bytse' (did you mean 'bytes'?)",
        f"{f}:30: step[3].expect[3]: unknown name 'chidl' (did you mean 'child'?)",
        f"{f}:30: step[3].expect[4]: cannot read 'pipe1.bytes = 1': write NAME.ATTR OP VALUE "
        "with OP one of == != <= >= < > has lacks",
        f"{f}:35: step[4].narration: must be a string, not an integer",
    ]
    assert len(fixes) == len(errors)
    # run and the catalog still say it in one line, and how to see the rest
    r = ipcviz("run", str(f), "--headless")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "unknown kind 'tube'" in r.stderr and "(and 8 more errors: `ipcviz check` lists " \
        "them)" in r.stderr


def test_the_first_error_alone_is_the_one_reported():
    from ipcviz.scenario import ScenarioError, loads

    with pytest.raises(ScenarioError) as info:
        loads(MANY.replace('kind = "tube"', 'kind = "pipe"'), "x.toml")
    err = info.value
    assert (err.field, err.line) == ("step[1].object", 16)
    assert len(err.errors) == 8 and err.errors[0].message.startswith("unknown object 'piep1'")
