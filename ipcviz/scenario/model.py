"""A scenario as plain data.  Loading one executes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    parent: str | None = None  # None: started by ipcviz at the beginning of the run
    description: str = ""


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    kind: str  # "pipe", ...
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Expect:
    """One check of the world after a step: `left op right`."""

    text: str  # as written in the file
    left: tuple[str, str]  # (name, attribute); name may be "step"
    op: str
    right: Any  # a literal (int / str) or a Ref
    line: int | None = None


@dataclass(frozen=True)
class Ref:
    """A reference to another observed value, optionally with an offset: p.capacity - 1."""

    name: str
    attr: str
    offset: int = 0

    def __str__(self) -> str:
        if self.offset:
            sign = "+" if self.offset > 0 else "-"
            return f"{self.name}.{self.attr} {sign} {abs(self.offset)}"
        return f"{self.name}.{self.attr}"


LANGUAGES = ("en", "zh")  # English and Simplified Chinese


@dataclass(frozen=True)
class Choice:
    """One answer of a quiz question; `when` says, in the kernel's terms, when it is right."""

    text: dict[str, str]  # language -> text
    when: Expect


@dataclass(frozen=True)
class Quiz:
    """A question asked before a step; the kernel's state after the step answers it."""

    question: dict[str, str]  # language -> text
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class Step:
    number: int  # 1-based
    process: str
    action: str
    args: dict[str, Any]
    narration: str
    code: str | None = None
    expects: tuple[Expect, ...] = ()
    line: int | None = None  # line of the step's table in the file
    narration_i18n: dict[str, str] = field(default_factory=dict, compare=False)  # lang -> text
    quiz: Quiz | None = None

    def narration_in(self, lang: str) -> str:
        """The narration in that language, or in English where it has no translation."""
        return self.narration_i18n.get(lang) or self.narration


# The mechanism of the stand-in Scenario of `attach --watch` (runtime/watch.py): no lesson
# has it, so views that word a lesson worker's plumbing (fds 0-2) leave a watched
# program's fds as they are.
WATCHED = "watched"


@dataclass(frozen=True)
class Scenario:
    name: str  # "pipe/fork-and-close"
    mechanism: str  # "pipe"
    title: str
    summary: str
    processes: tuple[ProcessSpec, ...]
    objects: tuple[ObjectSpec, ...]
    steps: tuple[Step, ...]
    path: Path | None = None
    source: str | None = field(default=None, repr=False, compare=False)  # the TOML text
    title_i18n: dict[str, str] = field(default_factory=dict, compare=False)
    summary_i18n: dict[str, str] = field(default_factory=dict, compare=False)

    def title_in(self, lang: str) -> str:
        return self.title_i18n.get(lang) or self.title

    def summary_in(self, lang: str) -> str:
        return self.summary_i18n.get(lang) or self.summary

    def process(self, name: str) -> ProcessSpec:
        return next(p for p in self.processes if p.name == name)

    def object(self, name: str) -> ObjectSpec:
        return next(o for o in self.objects if o.name == name)

    @property
    def roots(self) -> tuple[ProcessSpec, ...]:
        return tuple(p for p in self.processes if p.parent is None)
