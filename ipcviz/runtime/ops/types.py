"""The types the ops share: what an op may use of its worker, and the shapes of the tables
each mechanism's module defines (OPS, CALLS, ARG0, REMOVERS).

The worker is described by a Protocol, not imported: runtime/worker.py imports the ops,
and an op needs only these few members of it (mypy checks that Worker has them where
worker.py calls an op)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..rundir import RunDir


class OpWorker(Protocol):
    """What an op uses of the process it runs in (runtime/worker.py: Worker)."""

    name: str
    socket_path: str  # the conductor's socket (a forked child connects anew)
    ends: dict[str, int]  # "p.read" -> fd, inherited through fork
    handles: dict[str, Any]  # other per-object handles of a mechanism
    facts: dict[str, Any]  # what this process knows
    runs: list[list[int]]  # runs of one repeated byte read so far: [byte, count]
    rundir: RunDir

    def send(self, msg: dict[str, Any]) -> None: ...

    def note_read(self, data: bytes) -> dict[str, Any]: ...

    def become_child(self, name: str) -> None: ...

    def run_steps_until(self, action: str) -> None: ...


Args = dict[str, Any]  # a step's arguments, as the loader checked them
Pids = dict[str, int]  # process name -> pid, as the conductor knows them
Outcome = dict[str, Any]  # the fields of the step's "done" message

# function(worker, args, pids, step) -> the "done" fields, or None in a fork child
Op = Callable[[OpWorker, Args, Pids, int], Outcome | None]
# function(worker, args, pids) -> the call as strace would print it
Call = Callable[[OpWorker, Args, Pids], str]
# function(worker, args, pids) -> the first syscall argument, for /proc/PID/syscall
Arg0 = Callable[[OpWorker, Args, Pids], int]
# function(worker, args, pids) -> what the call is about to ask of objects, for their probes:
# [{"id": object, ...}] (a module may define WANTS: {action: Want})
Want = Callable[[OpWorker, Args, Pids], list[dict[str, Any]]]
# function(journal entry, run directory) -> what is left to say, or None if removed
Remover = Callable[[dict[str, Any], RunDir], str | None]
