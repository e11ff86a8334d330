"""The FIFO panel, the signal grid of the process cards, the pty and the signal reference view.

Pilot tests drive REAL runs of shipped lessons and compare what the widgets show with the
Snapshot the Run returned; the SVG snapshots draw recorded traces (record_fifo_signal_traces.py)
so they are the same every time.  Update the SVGs after an intended change of the look:
    pytest tests/app/test_fifo_signal_panels.py --snapshot-update
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from ipcviz.app.app import IpcvizApp
from ipcviz.app.widgets.fifo import FifoView
from ipcviz.app.widgets.process_card import ProcessCard
from ipcviz.app.widgets.signals import LABEL, PtyView
from ipcviz.model.snapshot import BLOCKED
from ipcviz.scenario import load

from .helpers import TraceRuns, catalog_entries, step_to, sync, text_of, wait_for

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def lesson(name: str):
    return load(ROOT / "scenarios" / f"{name}.toml")


def grid_cell(card_text: str, row: str, number: int) -> str:
    """The mark of signal `number` in the grid row `row` ('pending', 'blocked', ...)."""
    line = next(ln for ln in card_text.splitlines() if ln.startswith(row.ljust(LABEL)))
    return line[LABEL + number - 1]


# -- real runs ---------------------------------------------------------------------------------


@pytest.mark.kernel
@sync
async def test_signal_grid_marks_what_the_kernel_says(runs):
    """signal/blocked-pending, step by step: SIGUSR1's pending and blocked cells are set
    exactly when the Snapshot's sets (SigPnd/ShdPnd, SigBlk) hold it; after the unblock the
    card says the handler ran for the kill() of the parent, and nothing is pending."""
    # GIVEN the app on a real run, wide enough for the grid
    app = IpcvizApp(run_factory=runs, entries=catalog_entries(),
                    scenario=lesson("signal/blocked-pending"))
    usr1 = int(signal.SIGUSR1)
    async with app.run_test(size=(200, 50)) as pilot:
        stage = app.screen
        seen_pending = False
        for step in range(1, 6):
            # WHEN one more real step has run
            await step_to(pilot, step, timeout=20)
            snap = runs.made[0].timeline[-1]
            card = stage.query_one("#proc-child", ProcessCard)
            child = snap.process_named("child")
            text = text_of(card)
            # THEN the grid agrees with the kernel's sets, cell by cell
            assert card.signal_mode == "grid", text
            pending = "SIGUSR1" in child.signals.pending + child.signals.shared_pending
            blocked = "SIGUSR1" in child.signals.blocked
            assert (grid_cell(text, "pending", usr1) == "●") == pending, text
            assert (grid_cell(text, "blocked", usr1) == "●") == blocked, text
            assert (grid_cell(text, "caught", usr1) == "●") == ("SIGUSR1" in child.signals.caught)
            seen_pending |= pending and blocked
        # the lesson really showed it pending and blocked at some step
        assert seen_pending
        # AND the last step delivered it: the handler ran, as the Run's log says
        fresh = snap.log[len(snap.log) - snap.fresh:]
        assert any(e.outcome == "handled" and "SIGUSR1" in e.call and e.process == "child"
                   for e in fresh)
        assert [d.signal for d in card.delivered] == ["SIGUSR1"]
        line = card.delivered[0].line()
        assert line.startswith("SIGUSR1: parent ─kill()") and "handler ran" in line, line
        assert "SIGUSR1: parent ─kill()" in text
        assert grid_cell(text, "pending", usr1) == "·"
        # the sender's card draws no delivery of its own
        assert stage.query_one("#proc-parent", ProcessCard).delivered == []


@pytest.mark.kernel
@sync
async def test_fifo_door_shows_the_process_asleep_in_open(runs):
    """fifo/open-blocks: the process 'at the door' is the one the Snapshot has blocked in
    open() of the FIFO, on either side; once the partner opens, the door is empty."""
    app = IpcvizApp(run_factory=runs, entries=catalog_entries(),
                    scenario=lesson("fifo/open-blocks"))
    async with app.run_test(size=(100, 30)) as pilot:
        stage = app.screen
        view = stage.query_one("#obj-f", FifoView)
        for step, side in ((2, "read"), (3, None), (6, "write"), (7, None)):
            await step_to(pilot, step, timeout=20)
            snap = runs.made[0].timeline[-1]
            in_open = [p.name for p in snap.processes
                       if p.state == BLOCKED and p.syscall in ("open", "openat")
                       and p.waits_on == "f"]
            assert [name for name, _ in view.waiting] == in_open
            door = view.query_one(".fifo--door")
            if side is None:
                assert in_open == [] and not door.display
                fifo = snap.object_named("f")
                assert f"{fifo.bytes} / {fifo.capacity} bytes" in text_of(view)
            else:
                assert len(in_open) == 1 and door.display
                assert [s for _, s in view.waiting] == [side]
                assert f"at the door: {in_open[0]} asleep in open(" in text_of(door)
        # the name on disk is what stat() said: type p, size 0
        fifo = snap.object_named("f")
        assert f"{fifo.file_type}rw-------" in text_of(view)
        assert f"size {fifo.size}" in text_of(view)


@pytest.mark.kernel
@sync
async def test_signal_table_from_the_measured_data():
    """g opens the reference: every row is the measured signal_table(); SIGKILL cannot be
    caught there because the kernel refused, not because a table says so; escape closes."""
    from ipcviz.app.screens.signal_table import SignalTableScreen
    from ipcviz.probe.signal_table import signal_table

    app = IpcvizApp(run_factory=TraceRuns(HERE / "traces" / "signal-blocked-pending.jsonl"),
                    entries=catalog_entries(), scenario=lesson("signal/blocked-pending"))
    app.animation_level = "none"
    async with app.run_test(size=(100, 30)) as pilot:
        await step_to(pilot, 1)
        await pilot.press("g")
        screen = app.screen
        assert isinstance(screen, SignalTableScreen)
        await wait_for(pilot, lambda: screen.rows is not None, 30, "the measurement")
        table = screen.query_one("#signals-table")
        measured = signal_table()
        assert table.row_count == len(measured)
        for info in measured:
            row = [str(c) for c in table.get_row(info.name)]
            assert row[:4] == [str(info.number), info.name, info.default_action,
                               info.description]
            assert row[4:] == ["yes" if info.can_catch else "NO",
                               "yes" if info.can_block else "NO"]
        kill = next(i for i in measured if i.name == "SIGKILL")
        assert not kill.can_catch
        assert [str(c) for c in table.get_row("SIGKILL")][4] == "NO"
        assert "measured on this machine" in text_of(screen.query_one("#signals-intro"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SignalTableScreen), 5,
                       "the screen to close")


# -- repeatable pictures (recorded traces) ---------------------------------------------------


def trace_app(name: str) -> IpcvizApp:
    trace = HERE / "traces" / f"{name.replace('/', '-')}.jsonl"
    app = IpcvizApp(run_factory=TraceRuns(trace), entries=catalog_entries(),
                    scenario=lesson(name))
    app.animation_level = "none"
    return app


def at_step(n: int, show: str | None = None):
    async def run_before(pilot) -> None:
        await step_to(pilot, n)
        stage = pilot.app.screen
        await wait_for(pilot, lambda: not stage.sampling and not stage.fitting, 5, "quiet")
        if show:
            stage.query_one(show).scroll_visible(animate=False, top=True)
        await pilot.pause()

    return run_before


def test_fifo_panel_reader_at_the_door(snap_compare):
    """The FIFO at 100x30: the name (prw------- size 0), the reader asleep in open()."""
    assert snap_compare(trace_app("fifo/open-blocks"), terminal_size=(100, 30),
                        run_before=at_step(2, "#kernel"))


def test_fifo_panel_open_80x24(snap_compare):
    """The FIFO at 80x24 after the write: 6 bytes in the buffer between writer and reader."""
    assert snap_compare(trace_app("fifo/open-blocks"), terminal_size=(80, 24),
                        run_before=at_step(8, "#kernel"))


def test_signal_grid_delivered(snap_compare):
    """Cards with the signal grid at 100x30: SIGUSR1 delivered on unblock, handler ran."""
    assert snap_compare(trace_app("signal/blocked-pending"), terminal_size=(100, 30),
                        run_before=at_step(5))


def test_signal_summary_80x24(snap_compare):
    """At 80x24 the grid folds to one line: pending, blocked and caught SIGUSR1."""
    assert snap_compare(trace_app("signal/blocked-pending"), terminal_size=(80, 24),
                        run_before=at_step(4))


def test_pty_typed_ctrl_c(snap_compare):
    """The pty after ^C: the shell's handler ran, the job was killed."""
    assert snap_compare(trace_app("signal/terminal-keys"), terminal_size=(100, 30),
                        run_before=at_step(10, "#kernel"))


def test_pty_view_is_registered():
    """A pty object is drawn by its own view, not the generic one."""
    from ipcviz.app.widgets.objects import OBJECT_VIEWS, load_views

    load_views()
    assert OBJECT_VIEWS["pty"] is PtyView
    assert OBJECT_VIEWS["fifo"] is FifoView


def test_deliveries_from_recorded_logs():
    """Deliveries are read from the log: a kill() that found the signal blocked, its later
    delivery on unblock, and keys typed on a pty (handler in one process, death of another)."""
    from ipcviz.app.widgets.signals import deliveries
    from ipcviz.model.timeline import read_trace

    sc = lesson("signal/blocked-pending")
    snaps = read_trace(HERE / "traces" / "signal-blocked-pending.jsonl")
    by_step = {s.step: [d.line() for d in deliveries(s, sc)] for s in snaps}
    assert by_step[4] == ["SIGUSR1: parent ─kill()→ child (pending: blocked)"]
    assert by_step[5] == ["SIGUSR1: parent ─kill() at step 4→ child (was pending; handler ran)"]
    assert all(by_step[n] == [] for n in (0, 1, 2, 3))

    sc = lesson("signal/terminal-keys")
    snaps = read_trace(HERE / "traces" / "signal-terminal-keys.jsonl")
    typed = next(s for s in snaps if s.step == 10)
    lines = [d.line() for d in deliveries(typed, sc)]
    job = typed.process_named("job")
    assert "SIGINT: terminal ─typed ^C→ shell (handler ran)" in lines
    assert (f"{job.exit.signal}: terminal ─typed ^C→ job (killed)" in lines) == (
        job.state == "zombie")
