"""SVG snapshots of the app, drawn from a recorded trace (fixed PIDs, inodes; no clock).

Update after an intended change of the look:
    pytest tests/app/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from .helpers import BLOCKED_STEP, step_to, trace_app, wait_for


def at_step(n: int, *keys: str):
    async def run_before(pilot) -> None:
        await step_to(pilot, n)
        stage = pilot.app.screen
        await wait_for(pilot, lambda: not stage.sampling and not stage.fitting, 5, "quiet")
        if keys:
            await pilot.press(*keys)
            await wait_for(pilot, lambda: not stage.fitting, 5, "the layout")
        await pilot.pause()

    return run_before


def test_picker(snap_compare):
    """The scenario picker: grouped by mechanism, with summaries and step counts."""
    assert snap_compare(trace_app(open_scenario=False), terminal_size=(80, 24))


def test_stage_blocked_writer_80x24(snap_compare):
    """The stage at 80x24 with the parent asleep in write() on a full pipe."""
    assert snap_compare(trace_app(), terminal_size=(80, 24), run_before=at_step(BLOCKED_STEP))


def test_stage_blocked_writer_wide(snap_compare):
    """The stage at 160x40: cards, pipe, code and strace log side by side."""
    assert snap_compare(trace_app(), terminal_size=(160, 40), run_before=at_step(BLOCKED_STEP))


def test_history_view(snap_compare):
    """Two steps back in history: the old snapshot, marked HISTORY."""
    assert snap_compare(trace_app(), terminal_size=(100, 30),
                        run_before=at_step(BLOCKED_STEP, "left", "left"))


def test_sources_shown(snap_compare):
    """s: each value with its kernel interface and a command to check it."""
    assert snap_compare(trace_app(), terminal_size=(120, 40),
                        run_before=at_step(BLOCKED_STEP, "s"))


def test_help_screen(snap_compare):
    """? : keys and how to read the stage."""
    assert snap_compare(trace_app(), terminal_size=(100, 30),
                        run_before=at_step(1, "question_mark"))


def test_light_theme(snap_compare):
    """t: the light theme for projectors."""
    assert snap_compare(trace_app(), terminal_size=(100, 30),
                        run_before=at_step(BLOCKED_STEP, "t"))
