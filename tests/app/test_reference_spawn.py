"""Reference screens measure in a clean child process, never a fork of the threaded app
(issue 18 item 4), and quitting mid-measurement leaves nothing behind."""

from __future__ import annotations

import os
import signal
import time

import pytest

from ipcviz.app.screens.signal_table import SignalTableScreen

from .helpers import sync, trace_app, wait_for

pytestmark = pytest.mark.kernel


def no_fork(*args, **kwargs):
    raise AssertionError("os.fork() called in the app's process")


def in_session(sid: int) -> list[int]:
    """Live processes whose session is `sid` (the measuring child's own)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(name))
    return found


@sync
async def test_signal_table_measures_without_forking_the_app(monkeypatch):
    """g: the table is measured with os.fork() forbidden in the app's process."""
    import ipcviz.app.screens.signal_table as module

    monkeypatch.setattr(module, "_MEASURED", None, raising=False)
    monkeypatch.setattr(os, "fork", no_fork)
    app = trace_app(open_scenario=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = SignalTableScreen()
        app.push_screen(screen)
        await wait_for(pilot, lambda: screen.rows is not None, 60, "the measurement")
        names = {s.name for s in screen.rows}
        assert {"SIGKILL", "SIGSTOP", "SIGINT"} <= names
        kill = next(s for s in screen.rows if s.name == "SIGKILL")
        assert not kill.can_catch and not kill.can_block
        assert screen.child is not None and screen.child.proc.returncode == 0


@sync
async def test_quitting_mid_measurement_leaves_no_process(monkeypatch):
    """The app quits while the signal table is measured: the child and its sleepers end."""
    import ipcviz.app.screens.signal_table as module

    monkeypatch.setattr(module, "_MEASURED", None, raising=False)
    app = trace_app(open_scenario=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = SignalTableScreen()
        app.push_screen(screen)
        deadline = time.monotonic() + 10
        while screen.child is None:  # (not wait_for: its last pause lets the child run on)
            assert time.monotonic() < deadline, "no measuring process"
            await pilot.pause(0.002)
        child = screen.child
        # hold it mid-measurement while we look (on a quiet machine it is done in moments)
        os.kill(child.pid, signal.SIGSTOP)
        try:
            assert screen.rows is None  # still measuring
        finally:
            os.kill(child.pid, signal.SIGCONT)
        app.exit()
    # THEN the measuring process ends, reaped, with every process of its session
    assert child.wait(15) is not None
    assert in_session(child.pid) == []


def test_a_child_ended_by_a_real_time_signal_is_described_not_raised():
    """signal.Signals has no member for SIGRTMIN+1: the description falls back to the
    number instead of raising ValueError where callers expect a ChildError."""
    from ipcviz.app.child import _describe

    assert _describe(-(signal.SIGRTMIN + 1)) == f"signal {signal.SIGRTMIN + 1}"
    assert _describe(-signal.SIGTERM) == "signal SIGTERM"
