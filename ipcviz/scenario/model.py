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

    def process(self, name: str) -> ProcessSpec:
        return next(p for p in self.processes if p.name == name)

    def object(self, name: str) -> ObjectSpec:
        return next(o for o in self.objects if o.name == name)

    @property
    def roots(self) -> tuple[ProcessSpec, ...]:
        return tuple(p for p in self.processes if p.parent is None)
