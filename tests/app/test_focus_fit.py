"""Issue 15 item 1: the step's focus is on screen, at every size from 80x24 up.

Every shipped lesson with a recorded trace (tests/app/traces/, written by
record_focus_traces.py) is walked without running anything, one app per lesson: every step
run live at 80x24 with quiz mode on (a quiz step's answer shown in the narration box), then
(for the lessons the issue named, or all with IPCVIZ_FOCUS_ALL=1) the history walked back
at 100x30 and forward at 120x36, the terminal resized between.  After each snapshot the focus the
model derives (ipcviz.model.focus) is looked up on the screen: each focus object's panel and
each focus process's card (or, for a crowd, the process table's line of that process and
its head line of counts) must lie inside the screen and inside what the scrolled
containers around it show.  What did not fit is collected and reported at once.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import tempfile
from pathlib import Path

import pytest
from textual.geometry import Region

from ipcviz.app.app import IpcvizApp
from ipcviz.app.screens import StageScreen
from ipcviz.app.source import TraceRun
from ipcviz.app.widgets.process_table import ProcessTable
from ipcviz.model.focus import focus
from ipcviz.model.timeline import load_recording

from .helpers import sync

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TRACES = HERE / "traces"
SIZES = ((120, 36), (100, 30), (80, 24))
# The suite walks every lesson live at 80x24, the size with the least room, and the lessons
# issue 15 named also in history at 100x30 and 120x36; IPCVIZ_FOCUS_ALL=1 walks every
# lesson at all three (about three minutes of one core here: before a release, or after
# a change to the stage's layout or a panel's height).
ALL_SIZES = bool(os.environ.get("IPCVIZ_FOCUS_ALL"))
NAMED = ("pipe/full-blocks-writer", "sem/deadlock", "sem/bounded-buffer")  # crowd: 80x24
SHIPPED = sorted(f"{p.parent.name}/{p.stem}" for p in (ROOT / "scenarios").glob("*/*.toml"))


def _trace_of(lesson: str) -> Path | None:
    stem = lesson.replace("/", "-")
    for path in (TRACES / f"{stem}.jsonl.gz", TRACES / f"{stem}.jsonl"):
        if path.exists():
            return path
    return None


def _load(path: Path):
    if path.suffix != ".gz":
        return load_recording(path)
    with tempfile.TemporaryDirectory() as tmp:  # read as any trace is: checked line by line
        plain = Path(tmp) / path.stem
        plain.write_bytes(gzip.decompress(path.read_bytes()))
        return load_recording(plain)


def test_every_shipped_lesson_has_a_trace_to_walk():
    """A lesson added without a trace would silently not be walked: name it."""
    missing = [name for name in SHIPPED if _trace_of(name) is None]
    assert not missing, ("no trace for " + ", ".join(missing) + ": record them with "
                         "'python tests/app/record_focus_traces.py' and commit them")


def _seen(screen, widget) -> Region:
    """The part of the widget's region the viewer sees: inside the screen and inside every
    container around it (a scrolled container shows only its content region)."""
    seen = widget.region.intersection(screen.region)
    for node in widget.ancestors:
        if node is screen:
            break
        if node.is_scrollable:
            seen = seen.intersection(node.scrollable_content_region)
        else:
            seen = seen.intersection(node.region)
    return seen


def _whole(screen, widget) -> bool:
    region = widget.region
    return bool(widget.display) and region.area > 0 and _seen(screen, widget) == region


def _misses(stage: StageScreen, snap, prev) -> list[str]:
    step = stage.scenario.steps[snap.step - 1] if snap.step else None
    f = focus(snap, prev, step.args if step else None)
    missing = []
    for oid in f.objects:
        if not _whole(stage, stage.query_one(f"#obj-{oid}")):
            missing.append(f"object {oid}")
    tables = list(stage.query(ProcessTable))
    for name in f.processes:
        if not tables:
            if not _whole(stage, stage.query_one(f"#proc-{name}")):
                missing.append(f"process {name}")
            continue
        # A crowd: the head line (counts by state) and the line naming this process.
        table = tables[0]
        lines = table.plain().splitlines()
        rows = [0] + [k for k, line in enumerate(lines) if k and line.split()[:1] == [name]]
        seen, r = _seen(stage, table), table.region
        if len(rows) < 2 or any(seen.intersection(Region(r.x, r.y + k, r.width, 1)).height
                                != 1 for k in rows):
            missing.append(f"process {name}")
    return missing


async def _settle(stage: StageScreen, cond, what: str) -> None:
    """Let the app run until cond() holds and the stage has fitted the shown step (its
    layout pass ends after a frame is drawn).  Plain sleeps: the pilot's pause waits for
    the whole process to go idle, tens of milliseconds each time."""
    for _ in range(6000):
        if cond() and not stage.busy and not stage.fitting:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"the stage did not settle for {what}")


def _app(scenario, snaps) -> IpcvizApp:
    def factory(sc):
        run = TraceRun(sc, snaps)
        run.replay = False  # drawn as live, as the lecture shows it
        return run

    app = IpcvizApp(run_factory=factory, entries=[], scenario=scenario, quiz=True)
    app.animation_level = "none"
    return app


def _check(stage: StageScreen, where: str, problems: list[str]) -> None:
    k = stage.viewing
    for miss in _misses(stage, stage.shown, stage.history[k - 1]):
        problems.append(f"{where} step {k}: {miss} (fold {stage.fold})")


@pytest.mark.parametrize("lesson", SHIPPED)
@sync
async def test_focus_is_on_screen(lesson):
    """Every step's focus objects and processes are whole on screen: run live at 80x24
    with the quiz's answers shown, then walked in history at 100x30 (backwards) and at
    120x36 (forwards).  Live and history lay the stage out alike (only the status line's
    words differ); the walk's direction changes which fold each step starts from."""
    path = _trace_of(lesson)
    if path is None:
        pytest.skip(f"{lesson}: no trace (see the test above)")
    # GIVEN the lesson's recorded run on the stage at 80x24, quiz mode on
    scenario, snaps = _load(path)
    app = _app(scenario, snaps)
    problems: list[str] = []
    last = len(snaps) - 1
    async with app.run_test(size=SIZES[2]) as pilot:
        await _settle(app.screen, lambda: isinstance(app.screen, StageScreen), "start")
        stage = app.screen
        await _settle(stage, lambda: len(stage.history) == 1, "snapshot 0")
        for k in range(1, last + 1):
            # WHEN each step is run (the class's answer given, so none is asked)
            step = scenario.steps[k - 1]
            if step.quiz is not None:
                stage.guesses[step.number] = None
            stage.action_forward()
            await _settle(stage, lambda k=k: len(stage.history) == k + 1
                          and stage.viewing == k, f"step {k}")
            # THEN its focus is whole on screen
            _check(stage, "80x24 live", problems)
        if not (ALL_SIZES or lesson in NAMED):
            return _report(lesson, problems)
        # AND so it is in history at 100x30, walked back, and at 120x36, walked forward
        await pilot.resize_terminal(*SIZES[1])
        for k in range(last, 0, -1):
            if k < last:
                stage.action_back()
            await _settle(stage, lambda k=k: stage.viewing == k, f"history {k}")
            _check(stage, "100x30 history", problems)
        await pilot.resize_terminal(*SIZES[0])
        for k in range(1, last + 1):
            if k > 1:
                stage.action_forward()
            await _settle(stage, lambda k=k: stage.viewing == k, f"history {k}")
            _check(stage, "120x36 history", problems)
    _report(lesson, problems)


def _report(lesson: str, problems: list[str]) -> None:
    assert not problems, (f"{lesson}: {len(problems)} focus regions off screen:\n"
                          + "\n".join(problems[:40]))


def _bar(stage) -> str:
    """The words of the key bar."""
    from textual.widgets import Footer

    return " ".join(str(k.description) for k in stage.query_one(Footer).query("FooterKey"))


@sync
async def test_P_toggles_presentation_mode_at_every_width():
    """P hides the code and log (the objects get the room) and shows them again; the key
    bar names it from 100 columns, and the key works at 80 as well."""
    path = _trace_of("pipe/full-blocks-writer")
    assert path is not None
    scenario, snaps = _load(path)
    app = _app(scenario, snaps)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app.screen, lambda: isinstance(app.screen, StageScreen), "start")
        stage = app.screen
        await _settle(stage, lambda: len(stage.history) == 1, "snapshot 0")
        side, room = stage.query_one("#side"), stage.query_one("#stage")
        before = room.region.height
        assert side.region.area > 0 and "Present" in _bar(stage)
        # WHEN P is pressed
        await pilot.press("P")
        await _settle(stage, lambda: app.present, "presentation mode")
        # THEN the code and log are gone and the stage has their rows
        assert side.region.area == 0 and room.region.height > before
        # AND at 80 columns the key bar leaves it out, but P still switches it off
        await pilot.resize_terminal(80, 24)
        await _settle(stage, lambda: stage.size.width == 80, "80 columns")
        assert "Present" not in _bar(stage) and "Help" in _bar(stage)
        await pilot.press("P")
        await _settle(stage, lambda: not app.present, "presentation mode off")
        assert not stage.has_class("-present")
