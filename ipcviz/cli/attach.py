"""`ipcviz attach PID [--headless] [--json] [--record FILE] [--follow] [--seconds N]`

Seizes a running program (PID, its descendants and every thread) with ptrace, shows what
each of its processes waits for, and with `--follow` (until Ctrl+C) or `--seconds N` the
IPC calls as they come; then detaches and leaves the program running exactly as it was.

A running program cannot be given a seccomp filter from outside, so, attached, every call
of the program stops in the tracer (PTRACE_SYSCALL) and the calls that are no IPC go on at
once without an event: the program runs slower while attached (README, "Attaching").

Exit codes: 0 detached; 1 detached, and every attached process was asleep in a call (a
hang, explained); 2 it could not be attached (no such process, ptrace refused: the cause
and the fix in one line); 3 the trace could not go on.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..command import EXIT_EXPECT, EXIT_INPUT, EXIT_OK, EXIT_RUN
from ..command import Terminated as _Terminated
from ..command import raise_on_terminating, restore_handlers
from .trace import MAX_STOPS, _commit, _emit, _fail, _open_record

if TYPE_CHECKING:
    from ..files import NewFile
    from ..runtime.trace.session import TraceSession

CHUNK = 1.0  # seconds of one free-run chunk while following (the calls printed after each)


def main(pid: int, headless: bool, as_json: bool, record: str | None, follow: bool,
         seconds: float | None, out: TextIO) -> int:
    if seconds is not None and not 0 <= seconds <= 86400:
        return _fail("--seconds must be between 0 and 86400", EXIT_INPUT)
    if headless or as_json:
        return run_headless(pid, out, as_json=as_json, record=record, follow=follow,
                            seconds=seconds)
    if record is not None:
        return _fail("--record needs --headless (the live stage does not record)", EXIT_INPUT)
    return run_live(pid)


def run_live(pid: int) -> int:
    """The app's stage on the seized program, as `ipcviz trace` shows a started one: you
    choose who runs; quitting detaches and leaves it running as it was."""
    from ..runtime.trace.session import TraceError, TraceSession

    from ..runtime.ptrace_check import NoTarget, diagnose

    try:
        why = diagnose(pid)
        comm = Path(f"/proc/{pid}/comm").read_text().strip() or str(pid)
    except (NoTarget, OSError):
        return _fail(f"no process {pid}", EXIT_INPUT)
    if why is not None:
        return _fail(why.line(), EXIT_INPUT)
    from ..app import trace_app

    try:
        code, _runs = trace_app([comm], session=lambda: TraceSession.attached(pid))
    except TraceError as err:
        return _fail(str(err), err.code)
    sys.stdout.write(f"ipcviz: detached from {pid}; it runs on as it was.\n")
    return code


def run_headless(pid: int, out: TextIO, as_json: bool = False, record: str | None = None,
                 follow: bool = False, seconds: float | None = None) -> int:
    from ..files import WriteError
    from ..runtime.trace.session import TraceError, TraceSession

    try:
        session = TraceSession.attached(pid)
    except TraceError as err:
        return _fail(str(err), EXIT_INPUT)
    old = raise_on_terminating()
    try:
        trace = _open_record(record, ["attach", str(pid)])
    except WriteError as err:
        restore_handlers(old)
        return _fail(f"cannot write the trace: {err}", EXIT_INPUT)
    end = time.monotonic() + (seconds if seconds is not None else
                              (float("inf") if follow else 0.0))
    try:
        code = _watch(session, out, as_json, trace, end)
    except TraceError as err:
        return _fail(str(err), err.code)
    except WriteError as err:
        return _fail(f"cannot write the trace: {err}", EXIT_RUN)
    except _Terminated as err:
        code = 128 + signal.Signals[str(err)]
        _said(out, as_json, f"stopped by {err}")
    except KeyboardInterrupt:
        code = 130
        _said(out, as_json, "interrupted")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        session.close()  # detaches: the program goes on as it was
        unwritten = _commit(trace)
        restore_handlers(old)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if session.root is not None:
        _said(out, as_json, f"detached from {pid}: it runs on as it was")
    if unwritten:
        return _fail(f"cannot write the trace: {unwritten}", EXIT_RUN)
    return code


def _said(out: TextIO, as_json: bool, text: str) -> None:
    from ..textsafe import printable

    (sys.stderr if as_json else out).write("\n" + printable(f"{text}.") + "\n")


def _watch(session: TraceSession, out: TextIO, as_json: bool, trace: NewFile | None,
           end: float) -> int:
    snap = session.start()
    if not as_json:
        others = len(snap.processes) - 1
        out.write(f"Attached to {session.argv[0]} (pid {session.root})"
                  + (f" and {others} process{'es' if others > 1 else ''} it started" if others
                     else "")
                  + ": a running program gets no seccomp filter, so every call of it stops "
                  "here and the calls that are no IPC go on at once.\n")
    _emit(snap, out, as_json, trace)
    if not as_json and snap.narration:  # the world before any step: who waits for what
        import textwrap

        from ..textsafe import printable

        out.write("\n" + textwrap.fill(printable(snap.narration), 92) + "\n")
    stuck = session.stuck
    stops = 0
    while not session.finished and stops < MAX_STOPS:
        left = end - time.monotonic()
        if left <= 0:
            break
        snap = session.run(stop_at=("block", "exit"), bound=min(CHUNK, left), stuck=False)
        stops += 1
        if snap.fresh:  # something happened: its calls, then the world
            _emit(snap, out, as_json, trace)
        stuck = session.stuck
    if session.finished:
        _said(out, as_json, "every attached process has ended")
    return EXIT_EXPECT if stuck else EXIT_OK
