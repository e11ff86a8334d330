"""Per-mechanism probes of kernel objects, found by the object's kind.

A mechanism's probe module registers, at import:
    PROBES[kind] = function(sampler, record, processes) -> ObjectState
where `record` is what the worker reported when it created the object ({"id", "kind",
identifiers...}) and `processes` the Process views of this sample (for fd holders and
blocked processes).  It may also append to WAITS_ON a function
    (syscall_name, syscall_args, fds, records) -> object id | None
naming the object a process sleeps on when the call does not take an fd (a System V id,
a futex address, ...).  A resolver that must look into the process (its /proc/PID/maps or
/proc/PID/mem) may take a fifth, keyword argument `pid`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from importlib import import_module
from typing import Any

PROBES: dict[str, Callable[..., Any]] = {}
WAITS_ON: list[Callable[..., str | None]] = []

MODULES = ["pipe", "fifo", "signals", "msgq", "shm", "sem"]


_loaded = False


def load_all() -> None:
    """Import every mechanism's probe module (they register themselves), once."""
    global _loaded
    if _loaded:
        return
    for name in MODULES:
        import_module(f"ipcviz.probe.{name}")
    _loaded = True


@cache
def _takes_pid(fn: Callable[..., Any]) -> bool:
    try:
        return "pid" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def resolve(fn: Callable[..., Any], syscall_name, args, fds, records, pid: int):
    """Call one WAITS_ON resolver, with the pid if it takes one."""
    if _takes_pid(fn):
        return fn(syscall_name, args, fds, records, pid=pid)
    return fn(syscall_name, args, fds, records)
