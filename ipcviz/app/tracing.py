"""A live `ipcviz trace` on the stage: the TraceSession shaped like a run, and the words the
stage says about choosing who runs.

`LiveTrace` wraps a `runtime.trace.session.TraceSession` (docs/trace-api.md).  Every method
that talks to the session blocks for a bounded time and is called from one thread worker at a
time (the session is not thread-safe); `sample()` never touches the session: the traced
processes are held by the tracer, so the head is the newest snapshot.  Nothing here imports
Textual: the rules (who may go, why play stopped, the cast) are tested without a screen.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..model.snapshot import BLOCKED, EXITED, KILLED, RUNNING, SLEEPING, STOPPED, ZOMBIE
from ..model.traced import traced_scenario
from ..runtime import RunError
from ..scenario.model import ProcessSpec, Scenario, Step

if TYPE_CHECKING:
    from ..model.snapshot import Process, Snapshot
    from ..model.timeline import Timeline
    from ..runtime.trace.session import Leftover, TraceSession

MAX_KEYS = 9  # cards chosen by a digit key: 1..9, in card order


class LiveTrace:
    """The RunLike the stage drives: start, step (any held process), play, close."""

    replay = False

    def __init__(self, session: TraceSession, title: str) -> None:
        self.session = session
        self.title = title
        self.scenario = Scenario(name=title, mechanism="pipe", title=title,
                                 summary="A program traced by `ipcviz trace`: "
                                 + " ".join(session.argv), processes=(), objects=(), steps=())
        self.timeline: Timeline = session.timeline
        # snapshot index -> {pid: the decoded call it is held at}, read right after the step
        self.about: dict[int, dict[int, str]] = {}
        self.closed = False
        self._closing = threading.Lock()  # close() from a worker and at exit: one at a time
        self.left: list[Leftover] = []
        self.output = ""  # what the program wrote, kept at close
        self._sources: dict[tuple[str, int], tuple[int | None, tuple[str, ...]]] = {}

    @property
    def finished(self) -> bool:
        return self.session.finished

    @property
    def stuck(self) -> bool:
        return self.session.stuck

    @property
    def next_step(self) -> Step | None:
        return None

    def _took(self, snap: Snapshot) -> Snapshot:
        held: dict[int, str] = {}
        for r in self.session.ready():
            if r.pid not in held or r.tid == r.pid:  # a process: its main thread's call
                held[r.pid] = r.call
        self.about[snap.index] = held
        return with_sources(snap, self._sources)

    def start(self) -> Snapshot:
        from ..runtime.trace.session import TraceError

        try:
            return self._took(self.session.start())
        except TraceError as err:
            raise RunError(str(err)) from None

    def step(self, pid: int | None = None) -> Snapshot:
        """PID (None: the first ready) makes its held call; ValueError if it cannot."""
        from ..runtime.trace.session import TraceError

        if self.closed:
            raise RunError("the trace is closed")
        try:
            return self._took(self.session.step(pid))
        except TraceError as err:
            raise RunError(str(err)) from None

    def play(self) -> Snapshot:
        """Run freely until something blocks, a process ends, all are stuck, or the bound."""
        from ..runtime.trace.session import TraceError

        if self.closed:
            raise RunError("the trace is closed")
        try:
            return self._took(self.session.run())
        except TraceError as err:
            raise RunError(str(err)) from None

    def sample(self) -> Snapshot:
        head = self.timeline.head
        if self.closed or head is None:
            raise RunError("the trace has not started")
        return head

    def close(self) -> None:
        """Kill the traced tree (once; a second caller waits for the first); the objects
        it made are listed, never removed."""
        with self._closing:
            if self.closed:
                return
            self.closed = True
            self.output = self.session.output()  # the file goes with close()
            try:
                self.session.close()
            finally:
                self.left = self.session.leftovers()


# -- the cast: cards by pid, named as last seen ------------------------------------------------

def cast_key(snaps: Sequence[Snapshot]) -> tuple[tuple[tuple[int, str], ...], tuple[str, ...]]:
    """What the stage's cards and panels depend on: (pid, newest name) in order of
    appearance, and every object id seen."""
    names: dict[int, str] = {}
    objects: dict[str, None] = {}
    for snap in snaps:
        for p in snap.processes:
            names[p.pid] = p.name
        for o in snap.objects:
            objects.setdefault(o.id)
    return tuple(names.items()), tuple(objects)


def cast(title: str, program: Sequence[str], snaps: Sequence[Snapshot]) -> Scenario:
    """The stage's Scenario for the snapshots so far: one process per pid (its newest name:
    a process renames itself when it execs or calls prctl), every object seen, no steps."""
    base = traced_scenario(title, program, snaps)
    procs, _ = cast_key(snaps)
    names = dict(procs)
    parents: dict[int, int] = {}
    for snap in snaps:
        for p in snap.processes:
            parents.setdefault(p.pid, p.ppid)
    specs = tuple(ProcessSpec(name, names.get(parents.get(pid, 0)), f"pid {pid}")
                  for pid, name in procs)
    return replace(base, processes=specs, steps=())


# -- who may go ----------------------------------------------------------------------------------

def refusal(p: Process | None, what: str) -> str | None:
    """Why process P cannot make a call now (one line), or None: it is held at a call."""
    if p is None:
        return f"{what} is not there yet: it has not been created at this point."
    if p.state == STOPPED and p.syscall:
        return None
    if p.state == BLOCKED:
        return (f"{p.name} cannot go: it is asleep inside {p.syscall or 'a call'}() (the "
                "kernel says so); only another process can wake it.")
    if p.state in (RUNNING, SLEEPING):
        return f"{p.name} cannot go: it is running, not held at a call."
    if p.state in (EXITED, ZOMBIE):
        return f"{p.name} cannot go: it has ended."
    return f"{p.name} cannot go: it is not held at a call ({p.state})."


def stop_reason(snap: Snapshot, finished: bool, stuck: bool) -> str:
    """Why play stopped, for the status bar."""
    if finished:
        return "stopped: the program ended"
    if stuck:
        return "stopped: nothing can move (every process asleep)"
    if snap.outcome == BLOCKED and snap.process:
        call = (snap.call or "").split("(", 1)[0]
        return f"stopped: {snap.process} blocked in {call}()"
    if snap.process and (snap.outcome == KILLED or (snap.call or "").startswith("exit")):
        return f"stopped: {snap.process} ended"
    return "stopped: time bound reached, every process held at its next call"


def after_step(p: Process, snap: Snapshot) -> str | None:
    """What the process that made the shown step got: its result, or asleep inside."""
    if snap.process != p.name or not snap.call:
        return _woken(p, snap)
    if snap.outcome == BLOCKED:
        call = snap.call.split("(", 1)[0]
        if p.state == BLOCKED:
            return f"asleep inside {call}() (the kernel says: state {p.kernel_state or 'S'})"
        return f"{snap.call}: blocked"
    if snap.errno:
        return f"{snap.call} = -1 {snap.errno}"
    if snap.result is None:
        return f"{snap.call}: still running"
    return f"{snap.call} = {snap.result}"


def _woken(p: Process, snap: Snapshot) -> str | None:
    """A call P was asleep in that returned with this snapshot (another's step woke it)."""
    fresh = snap.log[len(snap.log) - snap.fresh:] if snap.fresh else ()
    for e in reversed(fresh):
        if e.pid == p.pid and e.late:
            got = f"-1 {e.errno}" if e.errno else e.result
            return f"woken: {e.call} = {got}"
    return None


def with_sources(snap: Snapshot, cache: dict[tuple[str, int], tuple[int | None, tuple[str, ...]]]
                 ) -> Snapshot:
    """SNAP with the source lines around each process's call site (`Process.site`: file and
    line from the program's debug information), read as `attach --watch` reads them, so
    the C code panel shows the program's own source with that line marked."""
    from ..runtime.watch import source_lines

    procs = []
    for p in snap.processes:
        s = p.site
        if s is not None and s.file and s.line and not s.context:
            key = (s.file, s.line)
            if key not in cache:
                if len(cache) > 1024:
                    cache.clear()
                cache[key] = source_lines(s.file, s.line)
            start, lines = cache[key]
            if lines:
                p = replace(p, site=replace(s, context_start=start, context=lines))
        procs.append(p)
    if all(a is b for a, b in zip(procs, snap.processes)):
        return snap
    return replace(snap, processes=tuple(procs))
