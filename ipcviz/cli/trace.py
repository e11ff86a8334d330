"""`ipcviz trace [--headless] [--json] [--record FILE] -- PROGRAM [ARGS...]`

Runs PROGRAM under ptrace, stopped only at IPC calls.  Headless, it runs freely and prints the
strace-like log (decoded arguments and results) and the world each time a process blocks or
ends; `--json` prints one snapshot per line instead; `--record FILE` saves a trace that
`ipcviz replay` and `ipcviz export --trace` show like a lesson.  At the end, the kernel
objects the program created and left are listed with the command that removes each: ipcviz
never removes them.

Exit codes: 0 the program ended; 1 it hung (every process asleep: a hang or a deadlock,
explained); 2 it could not be traced (not found, not executable, ptrace refused); 3 the
trace could not go on.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING, TextIO

from ..command import EXIT_EXPECT, EXIT_INPUT, EXIT_OK, EXIT_RUN
from ..command import Parser as _Parser
from ..command import Terminated as _Terminated
from ..command import raise_on_terminating, restore_handlers

if TYPE_CHECKING:
    from ..files import NewFile
    from ..model.snapshot import Snapshot
    from ..runtime.trace.session import TraceSession

MAX_STOPS = 1999  # stop points of one headless run (a trace holds at most 2000 snapshots)
TRACE_BYTES_ROOM = 28 * 1024 * 1024  # a recorded trace stops growing here (32 MB at most)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ipcviz trace",
                description="Run a program under ptrace and show its IPC on the real kernel.")
    p.add_argument("--headless", action="store_true",
                   help="run freely and print the log and the world at each stop, no app")
    p.add_argument("--json", action="store_true", help="one JSON object per snapshot")
    p.add_argument("--record", metavar="FILE", help="save the trace (JSON lines) for replay")
    p.add_argument("program", nargs=argparse.REMAINDER,
                   help="-- PROGRAM [ARGS...] (the program and its arguments)")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    program = list(args.program)
    if program[:1] == ["--"]:
        program = program[1:]
    if not program:
        return _fail("no program to trace: ipcviz trace [--headless] -- PROGRAM [ARGS...]",
                     EXIT_INPUT)
    if not (args.headless or args.json):
        return run_interactive(program, record=args.record)
    return run_headless(program, sys.stdout, as_json=args.json, record=args.record)


def run_interactive(program: list[str], record: str | None = None) -> int:
    """The app's stage on a live trace: you choose who runs.  At quit the traced tree is
    killed; then the objects the program made and left are listed here, with their creator
    and the command that removes each (ipcviz removes none)."""
    from ..runtime.trace.session import TraceError, check_program

    if record:
        return _fail("--record needs --headless (the interactive stage does not record)",
                     EXIT_INPUT)
    try:
        check_program(program)
    except TraceError as err:
        return _fail(str(err), EXIT_INPUT)
    from ..app import trace_app

    code, runs = trace_app(program)
    if runs:  # each run (r restarts the program): what it left, what it wrote last
        left = [o for run in runs for o in run.left]
        _print_leftovers(left, runs[-1].output, sys.stdout)
    return code


def _print_leftovers(left, output: str, out: TextIO) -> None:
    from ..textsafe import SafeWriter, printable

    safe = SafeWriter(out)
    safe.write("ipcviz: the traced program was killed at quit.\n")
    if left:
        safe.write("Kernel objects the program created and left (ipcviz does not remove "
                   "them; `ipcviz clean` never touches them):\n")
        for o in left:
            safe.write(printable(f"  {o.kind} {o.ident}, made by {o.creator}: remove with "
                                 f"`{o.remove}`") + "\n")
    else:
        safe.write("It left no kernel object behind.\n")
    if output:
        safe.write("--- what the program wrote (stdout and stderr) ---\n")
        safe.write(printable(output[-4000:], multiline=True))
        if not output.endswith("\n"):
            safe.write("\n")


def _fail(message: str, code: int) -> int:
    from ..textsafe import printable

    sys.stderr.write(f"ipcviz: {printable(message)}\n")
    return code


def run_headless(program: list[str], out: TextIO, as_json: bool = False,
                 record: str | None = None) -> int:
    from ..files import WriteError
    from ..runtime.trace.session import TraceError, TraceSession, check_program

    try:
        check_program(program)
    except TraceError as err:
        return _fail(str(err), EXIT_INPUT)
    old = raise_on_terminating()
    try:
        trace = _open_record(record, program)
    except WriteError as err:
        restore_handlers(old)
        return _fail(f"cannot write the trace: {err}", EXIT_INPUT)
    session = TraceSession(program)
    try:
        code = _play(session, out, as_json, trace)
        _finish(session, out, as_json)
    except TraceError as err:
        return _fail(str(err), err.code)
    except WriteError as err:
        return _fail(f"cannot write the trace: {err}", EXIT_RUN)
    except _Terminated as err:
        return _fail(f"stopped by {err}; the traced program was killed",
                     128 + signal.Signals[str(err)])
    except KeyboardInterrupt:
        return _fail("interrupted; the traced program was killed", 130)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        session.close()
        unwritten = _commit(trace)
        restore_handlers(old)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if unwritten:
        return _fail(f"cannot write the trace: {unwritten}", EXIT_RUN)
    return code


def _open_record(record: str | None, program: list[str]) -> NewFile | None:
    from ..files import NewFile
    from ..model.timeline import write_traced_header

    if not record:
        return None
    trace = NewFile(record)
    write_traced_header(trace, program)
    return trace


def _commit(trace: NewFile | None) -> str | None:
    from ..files import WriteError

    if trace is None:
        return None
    try:
        trace.commit()
    except WriteError as err:
        return str(err)
    return None


def _play(session: TraceSession, out: TextIO, as_json: bool, trace: NewFile | None) -> int:
    snap = session.start()
    if not as_json:
        out.write(f"Tracing {' '.join(session.argv)} (pid {session.root}): stopped only at "
                  "IPC calls.\n")
    _emit(snap, out, as_json, trace)
    stops = 0
    while not session.finished and not session.stuck and stops < MAX_STOPS:
        if trace is not None and trace.file.tell() > TRACE_BYTES_ROOM:
            break  # one more snapshot could pass the most a trace may be (replay refuses)
        snap = session.run()
        _emit(snap, out, as_json, trace)
        stops += 1
    if session.stuck:
        return EXIT_EXPECT
    if not session.finished:
        from ..textsafe import printable

        (sys.stderr if as_json else out).write(printable(
            f"\nStopped after {stops} stops (the most one trace holds); the traced "
            "processes are killed now.") + "\n")
    return EXIT_OK


def _emit(snap: Snapshot, out: TextIO, as_json: bool, trace: NewFile | None) -> None:
    from ..model.timeline import write_trace_line

    if trace is not None:
        write_trace_line(trace, snap)
    if as_json:
        write_trace_line(out, snap)
    else:
        print_traced(snap, out)
    out.flush()


def print_traced(snap: Snapshot, out: TextIO) -> None:
    """The log lines that came with SNAP, then the world at this stop."""
    from ..report.text import print_snapshot
    from ..textsafe import SafeWriter, printable

    safe = SafeWriter(out)
    for e in snap.log[len(snap.log) - snap.fresh:]:
        if e.outcome == "signal" or e.call.startswith("+++"):
            safe.write(printable(f"[{e.process} {e.pid}] {e.call}") + "\n")
            continue
        res = {"returned": f" = {e.result}", "failed": f" = -1 {e.errno}",
               "blocked": "  <blocked>", "killed": ""}.get(e.outcome, "")
        if e.outcome == "returned" and isinstance(e.result, list):
            res = f" = 0 {e.result}"
        if e.outcome == "failed" and e.errno and e.errno.startswith("ERESTART"):
            res = f" = ? {e.errno}"
        detail = f"  {e.detail!r}" if e.detail else ""
        late = "  <resumed>" if e.late else ""
        at = f"  at {e.site}" if e.site else ""
        safe.write(printable(f"[{e.process} {e.pid}] {e.call}{res}{late}{at}{detail}") + "\n")
    print_snapshot(snap, out)


def _finish(session: TraceSession, out: TextIO, as_json: bool) -> None:
    from ..textsafe import SafeWriter, printable

    left = session.leftovers()
    output = session.output()
    err = sys.stderr if as_json else out
    safe = SafeWriter(err)
    if session.stuck:
        safe.write("\nThe program hangs: every process is asleep in a call (see above). "
                   "ipcviz kills the traced processes now.\n")
    if left:
        safe.write("\nKernel objects the program created and left (ipcviz does not remove "
                   "them; `ipcviz clean` never touches them):\n")
        for o in left:
            safe.write(printable(f"  {o.kind} {o.ident}, made by {o.creator}: remove with "
                                 f"`{o.remove}`") + "\n")
    if output and not as_json:
        safe.write("\n--- what the program wrote (stdout and stderr) ---\n")
        safe.write(printable(output[-4000:], multiline=True))
        if not output.endswith("\n"):
            safe.write("\n")
