"""The stage on a watched program (attach --watch): cards of its real processes with the
line of each blocked call, the sentence of why nothing moves, refreshed live."""

from __future__ import annotations

import os
import signal

import pytest

from ipcviz.app.app import IpcvizApp
from ipcviz.app.widgets import CodeView, Narration, ProcessCard
from ipcviz.runtime.watch import Watch

from ..cprogs import compile_c, marker_line, running, wait_asleep
from .helpers import sync, text_of, wait_for

pytestmark = pytest.mark.kernel


def test_watched_hang_on_stage(tmp_path):
    exe = compile_c("hang_pipe", tmp_path, debug=True)
    with running([str(exe)]) as proc:
        child = int(proc.stdout.readline())
        wait_asleep(proc.pid, "wait4")
        wait_asleep(child, "read")
        watch = Watch(proc.pid)
        try:
            _drive(watch, child)
        finally:
            watch.close()
        assert proc.poll() is None  # still there, as it was: quitting the app touched nothing


@sync
async def _drive(watch: Watch, child: int) -> None:
    # GIVEN the app on a Watch of the hang
    app = IpcvizApp(run_factory=lambda sc: watch, entries=[], scenario=watch.scenario)
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        stage = app.screen
        await wait_for(pilot, lambda: bool(stage.history), 15, "the first look")
        name = next(p.name for p in stage.history[0].processes if p.pid == child)
        card = stage.query_one(f"#proc-{name}", ProcessCard)
        # THEN the child's card shows the line of its read() and the narration says why
        line = marker_line("hang_pipe", "CALL:child-read")
        assert f"hang_pipe.c:{line}" in text_of(card)
        assert "Nothing can move" in text_of(stage.query_one("#narration", Narration))
        # and the C code panel shows the program's own source, the read() line marked
        code = stage.query_one("#code", CodeView).plain()
        assert f"▶{line:>4}" in code and "read(fds[0]" in code
        # WHEN the child is stopped from outside, THEN the card follows without a key press
        os.kill(child, signal.SIGSTOP)
        try:
            await wait_for(pilot, lambda: "stopped" in text_of(card), 15, "the live refresh")
        finally:
            os.kill(child, signal.SIGCONT)
        await pilot.press("q")
