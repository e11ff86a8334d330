"""Diagrams where people would rather look than read (issue 15 item 2): the pipe's contents,
the bounded buffer's ring, the semaphore's waiters, the deadlock's wait-for graph.

Pilot tests on REAL runs compare what the panels draw with the Snapshot the run returned;
the layout functions are pure and tested without an app.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ipcviz.app.app import IpcvizApp
from ipcviz.app.widgets.pipe import PipeView
from ipcviz.model.pipe import NO_READER, PipeState
from ipcviz.scenario import load

from .helpers import RecordingRuns, step_to, sync, text_of

HERE = Path(__file__).resolve().parent
LESSONS = HERE.parents[1] / "scenarios"


def live_app(runs: RecordingRuns, lesson: str) -> IpcvizApp:
    app = IpcvizApp(run_factory=runs, entries=[], scenario=load(LESSONS / f"{lesson}.toml"))
    app.animation_level = "none"
    return app


# -- the pipe's contents --------------------------------------------------------------------


def test_pipe_contents_line_escapes_control_bytes_and_counts_the_rest():
    """Bytes from a lesson are shown literally: no ESC reaches the terminal, no markup."""
    view = PipeView("p", load(LESSONS / "pipe/eof.toml"))
    data = b"\x1b[31mred[/b]\n" + b"z" * 300
    o = PipeState("p", "pipe", 1, 312, 65536, 1, 1, contents=data[:256].hex())
    line = view._contents(o).plain
    assert "\x1b" not in line and "\n" not in line
    assert line.startswith('holds "\\x1b[31mred[/b]\\nzzz')
    assert "more bytes" in line and line.count("z") < 100
    shown = 13 + line.count("z")  # ESC, "[31mred[/b]", newline: 13 bytes, then the z's
    assert f"+{312 - shown} more bytes" in line
    # AND where it cannot look, it says why
    gone = PipeState("p", "pipe", 1, 3, 65536, 0, 1, contents_missing=NO_READER)
    assert "no process holds a read end" in view._contents(gone).plain
    # AND a trace recorded before the field shows nothing
    assert view._contents(PipeState("p", "pipe", 1, 3, 65536, 1, 1)).plain == ""


@pytest.mark.kernel
@sync
async def test_pipe_panel_shows_the_bytes_in_the_buffer(runs):
    """pipe/eof: after the parent's write the panel shows "last words", still unread."""
    app = live_app(runs, "pipe/eof")
    async with app.run_test(size=(100, 30)) as pilot:
        # WHEN the parent wrote (step 4)
        await step_to(pilot, 4, timeout=30)
        snap = runs.made[0].timeline[-1]
        p = snap.object_named("p")
        view = app.screen.query_one("#obj-p", PipeView)
        # THEN the panel shows the bytes the snapshot holds
        assert p.contents_bytes() == b"last words"
        assert 'holds "last words"' in text_of(view)
        # WHEN the child read them (step 6): the buffer is empty, no contents line
        await step_to(pilot, 6)
        assert runs.made[0].timeline[-1].object_named("p").bytes == 0
        assert "holds" not in text_of(view)
