"""Shared helpers of the app tests: canned runs, a fixed-scenario app, bounded waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from ipcviz.app.app import IpcvizApp
from ipcviz.app.source import TraceRun
from ipcviz.model.timeline import read_trace, read_trace_file
from ipcviz.scenario import load, loads
from ipcviz.scenario.catalog import Entry

HERE = Path(__file__).resolve().parent
SCENARIO_PATH = HERE / "scenarios" / "pipe" / "full-pipe.toml"
TRACE_PATH = HERE / "traces" / "full-pipe.jsonl"
BLOCKED_STEP = 6  # full-pipe.toml: the step where the parent's write() blocks


def scenario():
    return load(SCENARIO_PATH)


def entry() -> Entry:
    s = scenario()
    return Entry(s.name, s.mechanism, s.title, s.summary, len(s.steps), SCENARIO_PATH)


def catalog_entries() -> list[Entry]:
    """A fixed catalog for the picker: the test scenario plus a few named stand-ins."""
    e = entry()
    more = [
        Entry("pipe/eof", "pipe", "EOF when the last writer closes",
              "read() returns 0 only when every write end is closed.", 7, SCENARIO_PATH),
        Entry("pipe/sigpipe", "pipe", "SIGPIPE when nobody reads",
              "Writing to a pipe without readers kills the writer.", 6, SCENARIO_PATH),
        Entry("signal/pending", "signal", "Blocked signals stay pending",
              "A blocked signal waits in SigPnd until it is unblocked.", 5, SCENARIO_PATH),
    ]
    return [e, *more]


class TraceRuns:
    """A run factory handing out TraceRuns of the recorded trace; remembers each run."""

    def __init__(self, trace: Path = TRACE_PATH) -> None:
        self.snapshots = read_trace(trace)
        self.made: list[TraceRun] = []

    def __call__(self, sc) -> TraceRun:
        run = TraceRun(sc, self.snapshots)
        run.replay = False  # these canned runs stand in for live ones: draw them as live
        self.made.append(run)
        return run


def trace_app(*, open_scenario: bool = True, entries: list[Entry] | None = None,
              factory: Callable | None = None) -> IpcvizApp:
    """The app drawing recorded Snapshots: same pixels every time (no process is started)."""
    app = IpcvizApp(run_factory=factory or TraceRuns(),
                    entries=catalog_entries() if entries is None else entries,
                    scenario=scenario() if open_scenario else None)
    app.animation_level = "none"
    return app


async def wait_for(pilot, cond: Callable[[], bool], timeout: float = 10.0,
                   what: str = "condition") -> None:
    """Let the app run until cond() holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.02)
    await pilot.pause()


async def step_to(pilot, n: int, timeout: float = 10.0) -> None:
    """Press space until the stage has received the snapshot after step n."""
    stage = pilot.app.screen
    await wait_for(pilot, lambda: bool(stage.history) and not stage.busy, timeout,
                   "the run to start")
    while stage.history[-1].step < n:
        want = min(n - stage.history[-1].step, 3)  # the stage queues up to 3 presses
        have = len(stage.history)
        await pilot.press(*["space"] * want)
        await wait_for(pilot, lambda: len(stage.history) >= have + want  # noqa: B023 awaited here
                       and not stage.busy,
                       timeout, f"step {have + want - 1}")
    # the stage lays itself out for the step's focus after drawing it (StageScreen._fit)
    await wait_for(pilot, lambda: not stage.fitting, timeout, "the layout")


def text_of(widget) -> str:
    """The plain text a Static-like or line-drawn widget shows (children included)."""
    from textual.widgets import Static

    parts = []
    if isinstance(widget, Static):
        parts.append(str(widget.content))
    elif callable(getattr(widget, "plain", None)):  # drawn line by line (widgets/lines.py)
        parts.append(widget.plain())
    for child in widget.query(Static):
        if child is not widget:
            parts.append(str(child.content))
    return "\n".join(parts)


def sync(fn):
    """Run an async test with asyncio.run (no pytest async plugin is pinned)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


class RecordingRuns:
    """A run factory of real Runs, remembered so a test can read what they returned and
    close them (see the `runs` fixture in conftest.py)."""

    def __init__(self) -> None:
        self.made: list = []

    def __call__(self, sc):
        from ipcviz.runtime.conductor import Run

        run = Run(sc)
        self.made.append(run)
        return run

    def close_all(self) -> None:
        for run in self.made:
            run.close()


def recorded_app(name: str) -> IpcvizApp:
    """The app replaying tests/app/traces/<name>.jsonl with the scenario it carries, drawn
    as live (like the other snapshot tests)."""
    header, snaps = read_trace_file(HERE / "traces" / f"{name}.jsonl")
    scenario = loads(header["source"], f"{name}.jsonl", header["scenario"])

    def factory(sc):
        run = TraceRun(sc, snaps)
        run.replay = False
        return run

    app = IpcvizApp(run_factory=factory, entries=[], scenario=scenario)
    app.animation_level = "none"
    return app
