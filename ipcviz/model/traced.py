"""A lesson-shaped Scenario for a recorded `ipcviz trace`, so replay and export show it
like any lesson: one step per snapshot, its process, its call, and the narration the
session made from the kernel's facts.  Nothing in it is run; every text is the trace's."""

from __future__ import annotations

from collections.abc import Sequence

from ..mechanisms import MECHANISMS
from ..scenario.model import ObjectSpec, ProcessSpec, Scenario, Step
from .snapshot import Snapshot

# object kind -> the mechanism whose panels show it
_MECHANISM_OF = {"pipe": "pipe", "fifo": "fifo", "sysv_msgq": "msgq", "posix_msgq": "msgq",
                 "sem": "sem", "sysv_sem": "sem", "shm": "shm", "sysv_shm": "shm",
                 "socketpair": "sock"}


def traced_scenario(title: str, program: Sequence[str], snaps: Sequence[Snapshot]) -> Scenario:
    procs: dict[str, ProcessSpec] = {}
    objects: dict[str, ObjectSpec] = {}
    for snap in snaps:
        for p in snap.processes:
            if p.name not in procs:
                procs[p.name] = ProcessSpec(p.name, p.parent if p.parent in procs else None,
                                            f"pid {p.pid}")
        for o in snap.objects:
            objects.setdefault(o.id, ObjectSpec(o.id, o.kind))
    steps = tuple(
        Step(number=s.step, process=s.process or (next(iter(procs)) if procs else "program"),
             action="trace", args={}, narration=s.narration, code=s.call)
        for s in snaps[1:])
    kinds = [_MECHANISM_OF.get(o.kind) for o in objects.values()]
    mechanism = next((k for k in kinds if k in MECHANISMS), "pipe")
    return Scenario(name=title, mechanism=mechanism, title=title,
                    summary="A program traced by `ipcviz trace`: " + " ".join(program),
                    processes=tuple(procs.values()), objects=tuple(objects.values()),
                    steps=steps)
