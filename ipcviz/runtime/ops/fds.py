"""What the ops of every mechanism share: fd arguments, byte counts, and what a process
knows of all it has read.  Not a mechanism: it names none."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import select
import signal
from collections.abc import Callable
from typing import Any, TypeVar

from ...kernel import F_GETPIPE_SZ
from ...scenario.actions import SIZE_RE, signal_number
from ...scenario.limits import MAX_SIZE, reserved_fd
from .types import OpWorker

PREVIEW = 120  # bytes of read data sent back as text
_RUN_RE = re.compile(rb"(.)\1*", re.S)
T = TypeVar("T")
_libc = ctypes.CDLL(None, use_errno=True)
_libc.read.restype = ctypes.c_ssize_t
_libc.read.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t)
_libc.write.restype = ctypes.c_ssize_t
_libc.write.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t)
_libc.waitpid.restype = ctypes.c_int
_libc.open.restype = ctypes.c_int
_libc.open.argtypes = (ctypes.c_char_p, ctypes.c_int)
_libc.waitpid.argtypes = (ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.c_int)

# Signals whose handler the lesson installed with SA_RESTART, and the signals whose handler
# ran during the call in progress (ops/signals.py keeps both).
SA_RESTART_SIGNALS: set[int] = set()
HANDLED_DURING_CALL: list[int] = []


def fd_of(w: OpWorker, ref: Any) -> int:
    """An fd number from a step's fd argument: a number, or an end like "p.read"."""
    if isinstance(ref, int):
        if reserved_fd(ref):  # ipcviz's own (control socket, wake-up pipe): never the lesson's
            raise OSError(errno.EBADF, f"fd {ref} is not the lesson's")
        return ref
    if ref not in w.ends:
        raise OSError(errno.EBADF, f"{w.name} holds no fd for {ref}")
    return w.ends[ref]


def signum_of(name: str) -> int:
    """A signal's number from a step's signal argument (the loader refuses unknown names)."""
    signum = signal_number(name)
    if signum is None:  # a step that should never have been sent
        raise ValueError(f"unknown signal {name!r}")
    return signum


def size_of(expr: Any, fd: int) -> int:
    """A byte count: a number, or capacity / PIPE_BUF (+ - * N), read on this machine."""
    if isinstance(expr, int):
        return expr
    m = SIZE_RE.match(expr)
    if m is None:  # the loader refuses it: a step that should never have been sent
        raise ValueError(f"size {expr!r} is not a byte count")
    base_txt, op, n = m.groups()
    if base_txt == "capacity":
        base = fcntl.fcntl(fd, F_GETPIPE_SZ)
    elif base_txt == "PIPE_BUF":
        base = select.PIPE_BUF
    else:
        base = int(base_txt)
    if (op == "*" and base * int(n) > MAX_SIZE) or (op == "+" and base + int(n) > MAX_SIZE):
        raise OSError(errno.EINVAL, f"{expr} is more than {MAX_SIZE} bytes")
    if op == "+":
        return base + int(n)
    if op == "-":
        return max(0, base - int(n))
    if op == "*":
        return base * int(n)
    return base


def note_read(facts: dict[str, Any], runs: list[list[int]], data: bytes) -> dict[str, Any]:
    """Update what a process knows of all it has read: total, runs of one repeated byte."""
    for m in _RUN_RE.finditer(data):
        b, n = m.group()[0], len(m.group())
        if runs and runs[-1][0] == b:
            runs[-1][1] += n
        else:
            runs.append([b, n])
    facts["data"] = data[:PREVIEW].decode("utf-8", "replace")
    facts["received"] = facts.get("received", 0) + len(data)
    facts["runs"] = len(runs)
    facts["min_run"] = min((n for _, n in runs), default=0)
    return dict(facts)


def read_as_in_c(fd: int, size: int) -> bytes:
    """read(2) as the C program shown would see it (see _as_in_c)."""
    buf = ctypes.create_string_buffer(size)
    n = _as_in_c(lambda: _libc.read(fd, buf, size))
    return buf.raw[:n]


def read_at_as_in_c(fd: int, addr: int, size: int) -> int:
    """read(2) straight into memory at `addr` (a mapped region), as C (see _as_in_c)."""
    return _as_in_c(lambda: _libc.read(fd, addr, size))


def write_as_in_c(fd: int, data: bytes) -> int:
    """write(2) as the C program shown would see it (see _as_in_c)."""
    return _as_in_c(lambda: _libc.write(fd, data, len(data)))


def open_as_in_c(path: str, flags: int) -> int:
    """open(2) as the C program shown would see it (see _as_in_c): a FIFO's open sleeps.
    No O_CLOEXEC (os.open would add it): the fd survives an exec, as C's open() gives it."""
    return _as_in_c(lambda: _libc.open(os.fsencode(path), flags))


def waitpid_as_in_c(pid: int, options: int) -> tuple[int, int]:
    """waitpid(2) as the C program shown would see it (see _as_in_c): (pid, status)."""
    status = ctypes.c_int(0)
    got = _as_in_c(lambda: _libc.waitpid(pid, ctypes.byref(status), options))
    return got, status.value


def as_in_c(call: Callable[[], int], restart: bool = True) -> int:
    """Any libc call that may sleep, as the C program shown would see it (see _as_in_c):
    `call` returns the C result (-1 and errno on failure).  restart = False for the calls
    SA_RESTART never restarts (signal(7): poll, select, semop, msgsnd, msgrcv, nanosleep,
    sigtimedwait...): they fail with EINTR whatever the handler's flags."""
    return _as_in_c(call, restart)


def restarts_after_eintr() -> bool:
    """A call that failed with EINTR starts again: every handler that ran during it has
    SA_RESTART in the lesson (and one did run)."""
    return bool(HANDLED_DURING_CALL) and \
        all(s in SA_RESTART_SIGNALS for s in HANDLED_DURING_CALL)


def restarting(call: Callable[[], T], restart: bool = True) -> T:
    """A restartable call made through a library that raises OSError (a POSIX semaphore's
    wait, a queue's send or receive), as the C program shown would see it (see _as_in_c):
    after EINTR it is made again if every handler that ran has SA_RESTART, as the kernel
    and glibc would restart sem_wait / mq_send / mq_receive.  restart = False: EINTR
    whatever the flags (sem_timedwait: its futex wait with a deadline is not restarted)."""
    while True:
        HANDLED_DURING_CALL.clear()
        try:
            result = call()
        except OSError as err:
            signal.pthread_sigmask(signal.SIG_BLOCK, [])  # the handlers' Python part, now
            if err.errno == errno.EINTR and restart and restarts_after_eintr():
                continue
            raise
        signal.pthread_sigmask(signal.SIG_BLOCK, [])
        return result


def _as_in_c(call: Callable[[], int], restart: bool = True) -> int:
    """A blocking system call as the C program shown would see it, not as Python's os
    functions do.

    Handlers are installed without SA_RESTART (Python's signal.signal, like a C sigaction
    without that flag), so the kernel ends a call that a caught signal interrupts with
    EINTR (or, for a write, the count written so far); but os.read, os.write, os.open
    and os.waitpid would make the call again (PEP 475) and the step would show a result C
    never gets.  The libc call returns -1/EINTR instead.  If every handler that ran has
    SA_RESTART in the lesson, and the call is one SA_RESTART restarts (`restart`), the
    call starts again, as the kernel would restart it (tests/test_eintr_oracle.py checks
    each call against a C program).
    """
    while True:
        HANDLED_DURING_CALL.clear()
        n = call()
        err = ctypes.get_errno() if n < 0 else 0
        # Python's part of a handler runs now, before the call's result is reported: in C
        # it ran before the call returned.
        signal.pthread_sigmask(signal.SIG_BLOCK, [])
        if n >= 0:
            return n
        if err == errno.EINTR and restart and restarts_after_eintr():
            continue
        raise OSError(err, os.strerror(err))
