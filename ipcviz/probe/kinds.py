"""Per-mechanism probes of kernel objects, found by the object's kind.

A mechanism's probe module registers, at import:
    PROBES[kind] = function(sampler, record, processes) -> ObjectState
where `record` is what the worker reported when it created the object ({"id", "kind",
identifiers...}) and `processes` the Process views of this sample (for fd holders and
blocked processes).  It may also append to WAITS_ON a function
    (syscall_name, syscall_args, fds, records) -> object id | None
naming the object a process sleeps on when the call does not take an fd (a System V id,
a futex address, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

PROBES: dict[str, Callable[..., Any]] = {}
WAITS_ON: list[Callable[..., str | None]] = []

MODULES = ["pipe", "fifo", "signals", "msgq", "shm", "sem"]


def load_all() -> None:
    for name in MODULES:
        import_module(f"ipcviz.probe.{name}")
