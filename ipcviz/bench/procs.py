"""Two real processes per measurement: fork, start together, collect, kill, reap.

The parent never touches the IPC object being measured while the children run; it only
waits on their result pipes with a deadline (``select.poll``), so a child that dies or hangs
cannot leave the parent blocked: the parent sees EOF or the deadline, kills what is left with
SIGKILL and reaps it. Children die with the parent (``PR_SET_PDEATHSIG``), never write to the
terminal (fds 0, 1, 2 go to /dev/null) and always leave through ``os._exit``.

Nothing here imports rich or textual.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import select
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.prctl.restype = ctypes.c_int


class BenchError(RuntimeError):
    """A measurement failed: a child died, timed out, or the byte counts disagree."""


def child_init(parent_pid: int) -> None:
    """First thing a forked child does: die with the parent, stay off the terminal."""
    if _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        os._exit(3)
    # The parent may have died between fork() and prctl(): then nobody would kill us.
    if os.getppid() != parent_pid:
        os._exit(3)
    # Ctrl+C in the terminal reaches the whole foreground group: die quietly like C would
    # (no KeyboardInterrupt traceback), the parent cleans up. So for SIGTERM and SIGHUP,
    # which the parent may turn into exceptions (cli.py). If the parent ignores one
    # (started in the background, nohup), keep ignoring it as the parent does.
    # SIGPIPE stays ignored (Python's default) so EPIPE is an error, not a silent death.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)
    # sys.stdout may not be fd 1 (pytest's capture, an app's redirection): replace the objects too
    sink = open(os.devnull, "w")
    sys.stdout = sys.stderr = sys.__stdout__ = sys.__stderr__ = sink


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


@dataclass
class _Child:
    role: str
    pid: int
    fd: int
    buf: bytearray = field(default_factory=bytearray)
    eof: bool = False
    reaped: bool = False
    status: int | None = None


def _child_main(parent_pid: int, close_fds: list[int], go_r: int, res_w: int,
                setup: Callable[[], None], work: Callable[[], Any]) -> None:
    code = 1
    try:
        child_init(parent_pid)
        for fd in close_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            setup()
            os.write(res_w, b"R")
            os.read(go_r, 1)  # EOF when the parent closes the write end: go
            os.close(go_r)
            payload = ("ok", work())
            code = 0
        except BaseException:  # noqa: BLE001 - reported to the parent, never printed
            payload = ("error", traceback.format_exc(limit=6))
        _write_all(res_w, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(code)


def _describe_status(status: int | None) -> str:
    if status is None:
        return "still running"
    if os.WIFSIGNALED(status):
        return f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def kill_and_reap(children: list[_Child]) -> None:
    for c in children:
        if c.reaped:
            continue
        try:
            os.kill(c.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for c in children:
        if c.reaped:
            continue
        try:
            _, c.status = os.waitpid(c.pid, 0)  # after SIGKILL this returns promptly
        except ChildProcessError:
            pass
        c.reaped = True


def _pump(children: list[_Child], deadline: float, done: Callable[[_Child], bool], phase: str) -> None:
    """Read result pipes until done(child) for every child, or fail at the deadline."""
    poller = select.poll()
    live = {c.fd: c for c in children if not c.eof}
    for fd in live:
        poller.register(fd, select.POLLIN)
    while not all(done(c) for c in children):
        for c in children:
            if c.eof and (not done(c) or _child_error(c) != "ok"):
                # died or failed: the other child may wait for it forever, so stop now
                raise BenchError(f"{c.role} process failed during {phase}: {_child_error(c)}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchError(f"timed out during {phase}")
        for fd, _ev in poller.poll(max(1, int(left * 1000))):
            c = live[fd]
            chunk = os.read(fd, 1 << 16)
            if chunk:
                c.buf += chunk
            else:
                c.eof = True
                poller.unregister(fd)


def _parse(c: _Child) -> tuple[str, Any] | None:
    data = bytes(c.buf[1:] if c.buf[:1] == b"R" else c.buf)
    try:
        status, value = pickle.loads(data)
    except Exception:  # noqa: BLE001 - no (complete) result: the child died
        return None
    return status, value


def _child_error(c: _Child) -> str:
    parsed = _parse(c)
    if parsed is None:
        if not c.reaped:  # EOF on its result pipe: it is exiting, give it a moment
            for _ in range(200):
                try:
                    pid, status = os.waitpid(c.pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid:
                    c.status, c.reaped = status, True
                    break
                time.sleep(0.001)
        return f"no result ({_describe_status(c.status)})"
    status, value = parsed
    if status == "ok":
        return "ok"
    lines = str(value).strip().splitlines()
    return lines[-1] if lines else "unknown error"


def _reap(children: list[_Child], deadline: float) -> None:
    pending = [c for c in children if not c.reaped]
    while pending:
        for c in list(pending):
            try:
                pid, status = os.waitpid(c.pid, os.WNOHANG)
            except ChildProcessError:  # someone else (a SIGCHLD handler) reaped it
                pid, status = c.pid, 0
            if pid:
                c.status, c.reaped = status, True
                pending.remove(c)
        if pending:
            if time.monotonic() > deadline:
                raise BenchError("children did not exit after reporting")
            time.sleep(0.001)


def run_pair(roles: list[tuple[str, Callable[[], None], Callable[[], Any]]],
             after_fork: Callable[[], None], timeout: float,
             setup_timeout: float = 10.0) -> dict[str, Any]:
    """Fork one child per role, start them together, return {role: result}.

    Each role is (name, setup, work): ``setup`` runs in the child before it reports ready
    (open a FIFO, close unused ends), ``work`` after the common start signal; its return
    value is pickled back. ``after_fork`` runs in the parent once every child exists (close
    the parent's copies of pipe ends, so EOF works).
    """
    parent = os.getpid()
    go_r, go_w = os.pipe()
    children: list[_Child] = []
    try:
        for name, setup, work in roles:
            res_r, res_w = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which leaves through _exit
                others = [c.fd for c in children] + [go_w, res_r]
                _child_main(parent, others, go_r, res_w, setup, work)
            os.close(res_w)
            children.append(_Child(name, pid, res_r))
        after_fork()
        os.close(go_r)
        go_r = -1
        _pump(children, time.monotonic() + setup_timeout, lambda c: c.buf[:1] == b"R", "setup")
        os.close(go_w)  # every child reads EOF: start
        go_w = -1
        _pump(children, time.monotonic() + timeout, lambda c: c.eof, "the measurement")
        _reap(children, time.monotonic() + 5.0)
        results: dict[str, Any] = {}
        errors = []
        for c in children:
            parsed = _parse(c)
            if parsed is not None and parsed[0] == "ok":
                results[c.role] = parsed[1]
            else:
                errors.append(f"{c.role} process failed: {_child_error(c)}")
        if errors:
            raise BenchError("; ".join(errors))
        return results
    finally:
        for fd in (go_r, go_w):
            if fd >= 0:
                os.close(fd)
        kill_and_reap(children)
        for c in children:
            try:
                os.close(c.fd)
            except OSError:
                pass
