"""The one list of IPC mechanisms, read by every layer.

Each mechanism is one module of the same name in each part of ipcviz:

    scenario/vocab/NAME.py   ACTIONS, PROCESS_ATTRS, OBJECT_ATTRS   (what a lesson may say)
    runtime/ops/NAME.py      OPS, CALLS, ARG0                        (what a worker does)
    probe/NAME.py            PROBES, WAITS_ON                        (what the kernel says)
    model/NAME.py            OBJECT_KINDS                            (the immutable state)
    app/widgets/NAME.py      OBJECT_VIEWS                            (how it is drawn)

Each layer collects those module-level names with `load()`; none of them registers itself
by side effect.  To add a mechanism: write its module in each layer and add its name here.

"process" (fork, exit, wait, the signal disposition of a process) is the common vocabulary
every mechanism uses, not a mechanism: the scenario and runtime layers load it first, by
itself (COMMON), and it has no kernel object to probe, model or draw.

This module imports nothing of ipcviz, so every layer may read it.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

MECHANISMS: tuple[str, ...] = ("pipe", "fifo", "signals", "msgq", "shm", "sem", "sock")

# What every lesson may use whatever its mechanism: a layer module of this name, where the
# layer has one, is loaded before the mechanisms.
COMMON = "process"


def load(package: str, *, common: bool = False) -> list[ModuleType]:
    """Import `package.NAME` for every mechanism (after `package.process` if `common`)."""
    names = ((COMMON,) if common else ()) + MECHANISMS
    return [import_module(f"{package}.{name}") for name in names]


__all__ = ["COMMON", "MECHANISMS", "load"]
