"""The course: lessons in a teaching order, in titled sections (issue 15, item 5).

`ipcviz list`, the picker and n/N follow scenarios/course.toml, or `--course FILE`; a course
file is untrusted input like a lesson: one line naming file, line and field, exit 2.
"""

from __future__ import annotations

import json

import pytest

from ipcviz.scenario.catalog import names, scan, shipped_dir
from ipcviz.scenario.course import (COURSE_ENV, CourseError, MAX_COURSE_BYTES, load_course,
                                    loads_course, ordered)
from tests.conftest import ipcviz

SECTIONS = ["Pipes", "FIFOs (named pipes)", "Signals", "Message queues", "Shared memory",
            "Semaphores", "Classic problems", "Unix sockets"]
PIPES = ["pipe/fork-and-close", "pipe/eof", "pipe/empty-blocks-reader",
         "pipe/full-blocks-writer", "pipe/framing", "pipe/atomic-writes", "pipe/nonblocking",
         "pipe/poll", "pipe/resize", "pipe/sigpipe",
         "pipe/duplex", "pipe/shell-pipeline", "pipe/exec-cloexec"]

MY_COURSE = """\
[[section]]
title = "Week 1: signals first"
title_zh = "第一周"
lessons = ["signal/handler", "signal/default-actions"]

[[section]]
title = "Week 2"
lessons = ["pipe/eof"]
"""

MY_LESSON = """\
title = "My own lesson"
summary = "Not in any course."

[[process]]
name = "p"

[[step]]
process = "p"
action = "exit"
narration = "p exits."
"""


def listed(stdout: str) -> list[tuple[str, list[str]]]:
    """The sections of `ipcviz list` and the lesson names under each."""
    out: list[tuple[str, list[str]]] = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            out.append((line, []))
        elif not line.strip().startswith("("):
            out[-1][1].append(line.split()[0])
    return out


def test_shipped_course_names_every_shipped_lesson_once():
    course = load_course(shipped_dir() / "course.toml", names(shipped_dir()))
    assert sorted(course.names()) == sorted(names(shipped_dir()))
    assert [s.title for s in course.sections] == SECTIONS
    assert all(s.title_zh for s in course.sections)


def test_list_follows_the_teaching_order():
    """`ipcviz list`: the seed's order of mechanisms, fork-and-close first among pipes."""
    res = ipcviz("list")
    assert res.returncode == 0, res.stderr
    got = listed(res.stdout)
    assert [title for title, _ in got] == SECTIONS
    assert got[0][1] == PIPES
    js = json.loads(ipcviz("list", "--json").stdout)
    assert [e["name"] for e in js][:len(PIPES)] == PIPES
    assert js[0]["section"] == "Pipes"


def test_custom_course_chooses_lessons_order_and_titles(tmp_path):
    """--course FILE: only its lessons, in its order; a lecturer's own lessons that it
    does not name come after, in a section of their own."""
    course = tmp_path / "my-course.toml"
    course.write_text(MY_COURSE, encoding="utf-8")
    (tmp_path / "mine" / "extra").mkdir(parents=True)
    (tmp_path / "mine" / "extra" / "own.toml").write_text(MY_LESSON, encoding="utf-8")
    res = ipcviz("list", "--course", str(course), "--scenarios", str(tmp_path / "mine"))
    assert res.returncode == 0, res.stderr
    assert listed(res.stdout) == [("Week 1: signals first",
                                   ["signal/handler", "signal/default-actions"]),
                                  ("Week 2", ["pipe/eof"]),
                                  ("Other lessons", ["extra/own"])]


def test_ordered_entries_carry_their_sections(tmp_path, monkeypatch):
    course = tmp_path / "c.toml"
    course.write_text(MY_COURSE, encoding="utf-8")
    monkeypatch.setenv(COURSE_ENV, str(course))
    entries, broken = scan()
    got = ordered(entries)
    assert [(e.name, e.section, e.section_zh) for e in got] == [
        ("signal/handler", "Week 1: signals first", "第一周"),
        ("signal/default-actions", "Week 1: signals first", "第一周"),
        ("pipe/eof", "Week 2", None)]


BAD = [
    ('[[section]]\ntitle = "A"\nlessons = ["pipe/eof", "pipe/fork-and-clos"]\n',
     ":3: section[0].lessons[1]: unknown lesson 'pipe/fork-and-clos'. "
     "Did you mean: pipe/fork-and-close"),
    ('[[section]]\ntitle = "A"\nlessons = [\n  "pipe/eof",\n  "pipe/nope",\n]\n',
     ":5: section[0].lessons[1]: unknown lesson 'pipe/nope'"),
    ('[[section]]\nlessons = ["pipe/eof"]\n', ":1: section[0].title: missing field 'title'"),
    ('[[section]]\ntitle = "A"\nlesson = ["pipe/eof"]\n',
     ":3: section[0].lesson: unknown field (known: lessons, title, title_zh)"),
    ('[[section]]\ntitle = "A"\nlessons = ["pipe/eof"]\n[[section]]\ntitle = "B"\n'
     'lessons = ["pipe/eof"]\n',
     ":6: section[1].lessons[0]: 'pipe/eof' is listed twice (first in section[0])"),
    ('[[section]]\ntitle = "A\\u001b[31mred"\nlessons = ["pipe/eof"]\n',
     ":2: section[0].title: must be one line"),
    ('[[section]]\ntitle = "A"\nlessons = "pipe/eof"\n',
     ":3: section[0].lessons: must be a list of lesson names"),
    ('[[section]]\ntitle = "A"\nlessons = [1]\n', ":3: section[0].lessons[0]: must be a string"),
    ('[[section]\ntitle = "A"\n', ":1: not valid TOML"),
    ('title = "no sections"\n', ":1: title: unknown field (known: section)"),
    ('', ": section: a course needs [[section]] tables"),
    ('[[section]]\ntitle = "A"\nlessons = ["../../etc/passwd"]\n',
     ":3: section[0].lessons[0]: '../../etc/passwd' is not a lesson name"),
]


@pytest.mark.parametrize("text,want", BAD)
def test_bad_course_is_one_line_naming_file_line_and_field(tmp_path, text, want):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CourseError) as err:
        load_course(path, names())
    assert str(err.value).startswith(f"{path}{want}"), str(err.value)
    assert "\n" not in str(err.value) and "\x1b" not in str(err.value)


def test_bad_course_on_the_command_line_exits_2_without_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD[0][0], encoding="utf-8")
    for args in (["list"], ["list", "--json"]):
        res = ipcviz(*args, "--course", str(path))
        assert res.returncode == 2
        assert res.stdout == ""
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and "Did you mean: pipe/fork-and-close" in lines[0], res.stderr
    res = ipcviz("--course", str(tmp_path / "missing.toml"), "list")
    assert (res.returncode, res.stderr.strip()) == (
        2, f"ipcviz: {tmp_path / 'missing.toml'}: no such file")


def test_course_caps_its_size_and_its_file_kind(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text("# x\n" * (MAX_COURSE_BYTES // 4 + 1), encoding="utf-8")
    with pytest.raises(CourseError, match="larger than 64 KB"):
        load_course(big, names())
    with pytest.raises(CourseError, match="not a regular file"):
        load_course(tmp_path, names())
    import os

    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(CourseError, match="not a regular file"):  # and no hang
        load_course(fifo, names())
    many = "".join(f'[[section]]\ntitle = "S{i}"\nlessons = ["pipe/eof"]\n' for i in range(70))
    with pytest.raises(CourseError, match="more than 64"):
        loads_course(many, "many.toml", names())


def test_course_titles_are_shown_literally(tmp_path):
    """A title is text: markup-like brackets reach the list as written."""
    course = tmp_path / "c.toml"
    course.write_text('[[section]]\ntitle = "[bold]Week 1[/bold] <b>"\n'
                      'lessons = ["pipe/eof"]\n', encoding="utf-8")
    res = ipcviz("list", "--course", str(course))
    assert res.returncode == 0, res.stderr
    assert "\n[bold]Week 1[/bold] <b>\n  pipe/eof" in res.stdout
