"""A course: the lessons a lecturer teaches, in teaching order, in titled sections.

    [[section]]
    title = "Pipes"
    title_zh = "管道"
    lessons = ["pipe/fork-and-close", "pipe/eof", ...]

The picker, n/N on the stage and `ipcviz list` follow it.  The shipped course
(scenarios/course.toml) orders every shipped lesson; `--course FILE` names another one.
Lessons of the lecturer's own folders that the course does not name come after it, in a
section of their own; shipped lessons a custom course leaves out are not listed (they still
open by name).  A course file is input like a lesson: it is data, validated, bounded, and its
errors are one line naming file, line and field.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, NoReturn, overload

from ..files import ReadError, read_text
from .catalog import COURSE_NAME, Entry, shipped_dir
from .loader import ScenarioError, _Lines

COURSE_ENV = "IPCVIZ_COURSE"  # set by --course FILE
MAX_COURSE_BYTES = 64 * 1024  # the shipped course is 2 KB
MAX_SECTIONS = 64
MAX_LESSONS = 1024  # lesson names in all sections together
MAX_TITLE = 80  # characters of a section title
OTHER = ""  # section of the lessons the course does not name (drawn as "Other lessons")

SECTION_KEYS = {"title", "title_zh", "lessons"}
_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class CourseError(ScenarioError):
    """A course file is not valid.  str() is one line: file:line: field: problem."""


@dataclass(frozen=True)
class Section:
    title: str
    title_zh: str | None
    lessons: tuple[str, ...]

    def title_in(self, lang: str) -> str:
        return self.title_zh if lang == "zh" and self.title_zh else self.title


@dataclass(frozen=True)
class Course:
    path: str
    sections: tuple[Section, ...]

    def names(self) -> list[str]:
        return [n for s in self.sections for n in s.lessons]


def course_path() -> Path:
    """--course FILE (IPCVIZ_COURSE), or the shipped course."""
    chosen = os.environ.get(COURSE_ENV)
    return Path(chosen) if chosen else shipped_dir() / COURSE_NAME


def load_course(path: Path | str, known: Iterable[str]) -> Course:
    """The course in `path`, every lesson name checked against `known` (lesson names)."""
    path = Path(path)
    try:
        text = read_text(path, MAX_COURSE_BYTES, "a course file")
    except ReadError as err:
        raise CourseError(path, None, str(err)) from None
    return loads_course(text, path, known)


def loads_course(text: str, path: Path | str, known: Iterable[str]) -> Course:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"line (\d+)", str(err))
        raise CourseError(path, None, f"not valid TOML: {err}",
                          int(m.group(1)) if m else None) from None
    except RecursionError:
        raise CourseError(path, None, "arrays or tables nested too deep") from None
    return _Check(data, path, _Lines(text), text, set(known)).course()


class _Check:
    def __init__(self, data: dict[str, Any], path: Path | str, lines: _Lines, text: str,
                 known: set[str]) -> None:
        self.data, self.path, self.lines, self.known = data, path, lines, known
        self.text_lines = text.splitlines()

    def fail(self, field: str, message: str, index: int | None = None,
             key: str | None = None, line: int | None = None) -> NoReturn:
        if line is None and index is not None:
            line = (self.lines.key("section", index, key) if key
                    else self.lines.table("section", index))
        raise CourseError(self.path, field, message, line)

    def course(self) -> Course:
        extra = sorted(set(self.data) - {"section"})
        if extra:
            self.fail(extra[0], "unknown field (known: section)",
                      line=self.lines.key(None, 0, extra[0]))
        tables = self.data.get("section")
        if not isinstance(tables, list) or not tables \
                or not all(isinstance(t, dict) for t in tables):
            self.fail("section", "a course needs [[section]] tables (title = ..., "
                      "lessons = [...])")
        if len(tables) > MAX_SECTIONS:
            self.fail("section", f"{len(tables)} sections, more than {MAX_SECTIONS}",
                      index=MAX_SECTIONS)
        seen: dict[str, int] = {}
        sections = []
        for i, table in enumerate(tables):
            sections.append(self.section(i, table, seen))
        return Course(str(self.path), tuple(sections))

    def section(self, i: int, table: dict[str, Any], seen: dict[str, int]) -> Section:
        field = f"section[{i}]"
        extra = sorted(set(table) - SECTION_KEYS)
        if extra:
            self.fail(f"{field}.{extra[0]}",
                      f"unknown field (known: {', '.join(sorted(SECTION_KEYS))})", i, extra[0])
        title = self.title(table, "title", field, i, required=True)
        title_zh = self.title(table, "title_zh", field, i, required=False)
        lessons = table.get("lessons")
        if not isinstance(lessons, list) or not lessons:
            self.fail(f"{field}.lessons", "must be a list of lesson names, e.g. "
                      '["pipe/eof", "pipe/sigpipe"]', i, "lessons" if "lessons" in table else None)
        for k, name in enumerate(lessons):
            where = f"{field}.lessons[{k}]"
            if not isinstance(name, str):
                self.fail(where, "must be a string (a lesson name like pipe/eof)", i, "lessons")
            line = self.line_of(name, i)
            if len(seen) >= MAX_LESSONS:
                self.fail(where, f"more than {MAX_LESSONS} lessons", line=line)
            if not _NAME.match(name):
                self.fail(where, f"'{name}' is not a lesson name (folder/name, like pipe/eof)",
                          line=line)
            if name in seen:
                self.fail(where, f"'{name}' is listed twice (first in section[{seen[name]}])",
                          line=line)
            if name not in self.known:
                close = difflib.get_close_matches(name, sorted(self.known), n=3, cutoff=0.5)
                hint = f" Did you mean: {', '.join(close)}?" if close else \
                    " See 'ipcviz list'."
                self.fail(where, f"unknown lesson '{name}'.{hint}", line=line)
            seen[name] = i
        return Section(title, title_zh, tuple(lessons))

    @overload
    def title(self, table: dict[str, Any], key: str, field: str, i: int,
              required: Literal[True]) -> str: ...
    @overload
    def title(self, table: dict[str, Any], key: str, field: str, i: int,
              required: Literal[False]) -> str | None: ...

    def title(self, table: dict[str, Any], key: str, field: str, i: int,
              required: bool) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                self.fail(f"{field}.{key}", f"missing field '{key}'", i)
            return None
        if not isinstance(value, str):
            self.fail(f"{field}.{key}", "must be a string", i, key)
        if not value.strip() or not value.isprintable() or len(value) > MAX_TITLE:
            self.fail(f"{field}.{key}", f"must be one line of 1 to {MAX_TITLE} printable "
                      "characters", i, key)
        return value

    def line_of(self, name: str, i: int) -> int | None:
        """The line of `"name"` inside the i-th section (else the section's lessons line)."""
        start = self.lines.table("section", i) or 1
        end = self.lines.table("section", i + 1) or len(self.text_lines) + 1
        for n in range(start, end):
            if f'"{name}"' in self.text_lines[n - 1] or f"'{name}'" in self.text_lines[n - 1]:
                return n
        return self.lines.key("section", i, "lessons")


def arrange(entries: Sequence[Entry], course: Course) -> list[Entry]:
    """The entries in course order, each with its section's title; then the lessons of the
    lecturer's folders that the course does not name (section OTHER).  Shipped lessons the
    course leaves out are not listed."""
    by_name = {e.name: e for e in entries}
    out = []
    for section in course.sections:
        for name in section.lessons:
            if name in by_name:  # a lesson that failed to load is reported elsewhere
                out.append(replace(by_name[name], section=section.title,
                                   section_zh=section.title_zh))
    named = set(course.names())
    shipped = shipped_dir().resolve()
    for e in entries:
        if e.name not in named and not _under(e.path, shipped):
            out.append(replace(e, section=OTHER, section_zh=None))
    return out


def _under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except ValueError:
        return False
    return True


def known_names() -> list[str]:
    """Every lesson name of the user folders and the shipped one (nothing is loaded)."""
    from .catalog import names

    return names()


def ordered(entries: Sequence[Entry]) -> list[Entry]:
    """The entries in the order of the course in use (course_path()); raises CourseError."""
    course = load_course(course_path(), known_names())
    return arrange(entries, course)


__all__ = [
    "COURSE_ENV",
    "OTHER",
    "Course",
    "CourseError",
    "Section",
    "arrange",
    "course_path",
    "load_course",
    "loads_course",
    "ordered",
]
