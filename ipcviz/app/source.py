"""Where the stage gets its Snapshots from: a live Run, or anything shaped like one.

The app receives a run factory in its constructor (STYLE habit 3).  The real one is
`ipcviz.runtime.Run`; tests and replays hand it a `TraceRun` that plays back recorded
Snapshots without starting a process.  Every method that may block is called from a
thread worker, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from ..runtime import RunError
from ..scenario.model import Scenario, Step

if TYPE_CHECKING:  # the models are imported with the first lesson, not for the picker
    from ..model.snapshot import Snapshot
    from ..model.timeline import Timeline


class RunLike(Protocol):
    """What the app needs of a Run (see ipcviz.runtime.conductor.Run)."""

    scenario: Scenario
    timeline: Timeline

    @property
    def finished(self) -> bool: ...

    @property
    def next_step(self) -> Step | None: ...

    def start(self) -> Snapshot: ...

    def step(self) -> Snapshot: ...

    def sample(self) -> Snapshot: ...

    def close(self) -> None: ...


RunFactory = Callable[[Scenario], RunLike]


class TraceRun:
    """Plays back recorded Snapshots (a trace) as if they came from a live run.

    snapshots[0] is what start() returns, snapshots[k] what the k-th step() returns.
    Nothing is started; close() only marks the run closed (tests check it was called).
    """

    replay = True  # the stage says REPLAY, not LIVE

    def __init__(self, scenario: Scenario, snapshots: Sequence[Snapshot]) -> None:
        if not snapshots:
            raise ValueError("a trace needs at least the snapshot before step 1")
        from ..model.timeline import Timeline

        self.scenario = scenario
        self.timeline = Timeline()
        self._snapshots = list(snapshots)
        self.closed = False
        self.started = False

    @property
    def finished(self) -> bool:
        return len(self.timeline) >= len(self._snapshots)

    @property
    def next_step(self) -> Step | None:
        n = len(self.timeline)
        if self.finished or n == 0 or n > len(self.scenario.steps):
            return None
        return self.scenario.steps[n - 1]

    def start(self) -> Snapshot:
        self.started = True
        return self.timeline.append(self._snapshots[0])

    def step(self) -> Snapshot:
        if self.closed:
            raise RunError("the run is closed")
        if self.finished:
            raise RunError("the scenario has no more steps")
        return self.timeline.append(self._snapshots[len(self.timeline)])

    def sample(self) -> Snapshot:
        if self.closed or self.timeline.head is None:
            raise RunError("the run has not started")
        return self.timeline.head

    def close(self) -> None:
        self.closed = True
