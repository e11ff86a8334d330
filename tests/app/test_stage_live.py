"""The stage driven by a REAL run: what the widgets show is what the kernel reported."""

from __future__ import annotations

import os

import pytest

from ipcviz.app.app import IpcvizApp
from ipcviz.app.widgets import Narration, PipeView, ProcessCard, StatusBar, SyscallLog

from .helpers import (
    BLOCKED_STEP,
    catalog_entries,
    scenario,
    step_to,
    sync,
    text_of,
    wait_for,
)

pytestmark = pytest.mark.kernel


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@sync
async def test_blocked_writer_is_drawn_as_the_kernel_reported(runs):
    """Step a real pipe scenario to the blocked write(); the stage shows what the Run returned.

    Then ← / → redraw old snapshots exactly without running a step, and the next real step
    (the child reads) wakes the writer.
    """
    # GIVEN the app on a real run of the full-pipe scenario
    app = IpcvizApp(run_factory=runs, entries=catalog_entries(), scenario=scenario())
    async with app.run_test(size=(100, 30)) as pilot:
        # WHEN the parent's write() into the full pipe has run
        await step_to(pilot, BLOCKED_STEP, timeout=15)
        run = runs.made[0]
        snap = run.timeline[-1]  # what the Run returned for that step
        assert snap.outcome == "blocked"
        stage = app.screen
        # THEN the parent's card says what the kernel said
        parent = snap.process_named("parent")
        card = stage.query_one("#proc-parent", ProcessCard)
        card_text = text_of(card)
        assert parent.state == "blocked"
        assert f"blocked in {parent.syscall}() on pipe p" in card_text
        assert str(parent.pid) in str(card.border_title)
        assert parent.wchan in card_text
        assert "fd 4 → p (write end)" in card_text
        child = snap.process_named("child")
        assert "sleeping" in text_of(stage.query_one("#proc-child", ProcessCard))
        card = stage.query_one("#proc-child", ProcessCard)
        assert f"ppid {child.ppid}" in str(card.border_subtitle)
        # and the pipe shows the kernel's numbers and who sleeps on it
        pipe = snap.object_named("p")
        view = stage.query_one("#obj-p", PipeView)
        view_text = text_of(view)
        assert f"{pipe.bytes} / {pipe.capacity} bytes" in view_text
        assert pipe.bytes == pipe.capacity  # full: the writer blocked for a reason
        for name in pipe.blocked_writers:
            assert f"{name} sleeps in write()" in view_text
        for fd in pipe.writer_fds + pipe.reader_fds:
            assert fd in view_text
        assert stage.query_one("PipeBar").fill == pytest.approx(pipe.bytes / pipe.capacity)
        # and the narration and the log tell the same step
        assert "blocked" in text_of(stage.query_one(Narration))
        assert "<unfinished ...>" in text_of(stage.query_one(SyscallLog))

        # WHEN going back two snapshots in history
        steps_run = len(run.timeline)
        await pilot.press("left", "left")
        await pilot.pause()
        old = run.timeline[BLOCKED_STEP - 2]
        # THEN the stage draws that snapshot, and says it is history
        assert stage.shown is old
        assert "HISTORY" in str(stage.query_one(StatusBar).content)
        pipe = old.object_named("p")
        assert f"{pipe.bytes} / {pipe.capacity} bytes" in text_of(stage.query_one("#obj-p"))
        assert "blocked in" not in text_of(stage.query_one("#proc-parent"))
        assert len(run.timeline) == steps_run  # no step ran
        # WHEN going forward again: back at the head, still without running a step
        await pilot.press("right", "right")
        await pilot.pause()
        assert stage.viewing == len(stage.history) - 1
        assert len(run.timeline) == steps_run
        assert "blocked in write()" in text_of(stage.query_one("#proc-parent"))

        # WHEN the child reads: the kernel wakes the writer
        await step_to(pilot, BLOCKED_STEP + 1)
        snap = run.timeline[-1]
        pipe = snap.object_named("p")
        assert f"{pipe.bytes} / {pipe.capacity} bytes" in text_of(view)
        assert pipe.bytes < pipe.capacity
        assert snap.process_named("parent").state != "blocked"
        assert "blocked in" not in text_of(card)
        assert "resumed>" in text_of(stage.query_one(SyscallLog))


@sync
async def test_restart_and_quit_leave_no_process(runs):
    """r kills the old run's processes and starts fresh ones; q ends the new ones too."""
    app = IpcvizApp(run_factory=runs, entries=catalog_entries(), scenario=scenario())
    async with app.run_test(size=(100, 30)) as pilot:
        await step_to(pilot, BLOCKED_STEP, timeout=15)
        old_pids = [p.pid for p in runs.made[0].timeline[-1].processes]
        assert all(alive(pid) for pid in old_pids)
        await pilot.press("r")
        stage = app.screen
        await wait_for(pilot, lambda: len(runs.made) == 2 and bool(stage.history)
                       and not stage.busy, 15, "the restarted run")
        await wait_for(pilot, lambda: not any(alive(pid) for pid in old_pids), 10,
                       "the old processes to end")
        assert stage.history[-1].step == 0
        await step_to(pilot, 2)
        new_pids = [p.pid for p in runs.made[1].timeline[-1].processes]
        assert set(new_pids).isdisjoint(old_pids)
        await pilot.press("q")
    # run_test has returned: the app unmounted and closed every run
    assert not any(alive(pid) for pid in new_pids)
