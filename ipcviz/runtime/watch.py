"""Watch a running program and its descendants without ptrace (`ipcviz attach --watch`).

The same probe as a lesson's, pointed at processes ipcviz did not start: each sample finds
the tree again (probe/discover.py), reads every process (state, the call it sleeps in, its
fd table, its signals) and every object found from them, and adds for each process asleep
in a call where its program made that call (probe/callsite.py), and the sentence saying
why nothing can move when the tree is caught in a wait-for cycle (model/waitfor.py).

Watching changes nothing in the target: no signal, no ptrace, no open of its pipes or
FIFOs, no end of theirs kept (see probe/pipe.py's `foreign_ends`); /proc/PID/mem is only
read.  Closing a Watch releases only ipcviz's own file descriptors.

A Watch has the shape the app's stage runs (app/source.py RunLike): start() and sample()
look again; there are no steps.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import replace

from ..model.snapshot import BLOCKED, Process, Site, Snapshot
from ..model.timeline import Timeline
from ..model.waitfor import stuck
from ..probe import callsite, discover, procfs
from ..probe.sampler import Sampler, Tracked
from ..scenario.model import WATCHED, ObjectSpec, ProcessSpec, Scenario, Step
from .errors import RunError


class NoProcess(RunError):
    """The process to watch does not exist."""


class Watch:
    """Looks at process PID and its descendants whenever asked."""

    replay = False

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.timeline = Timeline()
        self._sampler = Sampler(foreign=True)
        self._sites: dict[tuple[int, str], Site | None] = {}
        self._seen: dict[int, Tracked] = {}
        self._started = time.monotonic()
        self._closed = False
        members = discover.tree(pid)
        if not members:
            raise NoProcess(f"no process {pid}")
        first = self._look(members)
        self.scenario = _scenario(pid, members, first)
        self._first: Snapshot | None = first

    # -- RunLike ----------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return True  # nothing to step: the program runs on its own

    @property
    def next_step(self) -> Step | None:
        return None

    def start(self) -> Snapshot:
        snap = self._first or self._look(discover.tree(self.pid))
        self._first = None
        return self.timeline.append(snap)

    def step(self) -> Snapshot:
        raise RunError("watching only: the program runs on its own (no steps)")

    def sample(self) -> Snapshot:
        if self._closed:
            raise RunError("the watch is closed")
        return self._look(discover.tree(self.pid))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._sampler.close()  # our own fds only: the program is not touched

    # -- one look ---------------------------------------------------------------------------

    def _look(self, members: list[discover.Member]) -> Snapshot:
        records = discover.records(members)
        self._sampler.__dict__.pop("_maps_cache", None)  # keyed on steps: a watch has none
        names = {m.pid: m.name for m in members}
        for m in members:
            if m.pid not in self._seen:
                self._seen[m.pid] = Tracked(m.name, m.pid,
                                            names.get(m.ppid) or discover.name_of(m.ppid))
        # every process seen once stays on stage: one that is gone shows as exited
        tracked = list(self._seen.values())[:discover.MAX_PROCESSES]
        processes, objects = self._sampler.sample(tracked, records)
        processes = tuple(self._with_site(p) for p in processes)
        snap = Snapshot(index=len(self.timeline), step=0, total_steps=0,
                        time=round(time.monotonic() - self._started, 6),
                        processes=processes, objects=objects, live=True)
        caught = stuck(snap)
        return replace(snap, narration=caught.describe() if caught else _summary(snap))

    def _with_site(self, p: Process) -> Process:
        if p.state != BLOCKED:
            return p
        try:
            with open(f"/proc/{p.pid}/syscall") as f:
                key = (p.pid, f.read())
        except OSError:
            return p
        if key not in self._sites:
            if len(self._sites) > 4096:
                self._sites.clear()
            found = callsite.call_site(p.pid)
            self._sites[key] = None if found is None else Site(
                found.binary, found.offset, found.function, found.file, found.line,
                *source_lines(found.file, found.line))
        return replace(p, site=self._sites[key])


CONTEXT = 3  # source lines shown before and after the call
MAX_SOURCE = 4 * 1024 * 1024  # bytes of a source file read for them


def source_lines(path: str | None, line: int | None) -> tuple[int | None, tuple[str, ...]]:
    """(first line number, the lines) around LINE of the source file PATH, which the
    program's debug information names: a regular file of reasonable size, read as text,
    else (None, ())."""
    if not path or not line:
        return None, ()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None, ()
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SOURCE:
            return None, ()
        text = os.read(fd, MAX_SOURCE).decode("utf-8", "replace").splitlines()
    except OSError:
        return None, ()
    finally:
        os.close(fd)
    if line > len(text):
        return None, ()  # not the file the binary was built from
    first = max(1, line - CONTEXT)
    return first, tuple(t[:200] for t in text[first - 1:line + CONTEXT])


def _summary(snap: Snapshot) -> str:
    asleep = sum(p.state == BLOCKED for p in snap.processes)
    return (f"{len(snap.processes)} processes, {asleep} asleep in a system call; none is "
            "caught in a wait that only the others could end.")


def _scenario(pid: int, members: list[discover.Member], first: Snapshot) -> Scenario:
    """The stage's cast: the processes and objects seen at the first look."""
    names = {m.pid: m.name for m in members}
    procs = tuple(ProcessSpec(m.name, names.get(m.ppid), f"pid {m.pid}") for m in members)
    objs = tuple(ObjectSpec(o.id, o.kind) for o in first.objects)
    try:
        cmd = procfs._read(f"/proc/{pid}/cmdline").replace("\0", " ").strip()
    except procfs.NoSuchProcess:
        cmd = ""
    return Scenario(name=f"attach --watch {pid}", mechanism=WATCHED,
                    title=f"watching {names.get(pid, pid)}", summary=cmd, processes=procs,
                    objects=objs, steps=())
