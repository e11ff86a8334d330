"""A pipe's fill and capacity, asked through an end a scenario process already holds.

We never open a pipe or FIFO ourselves: opening /proc/PID/fd/N of a pipe creates a new
open file description (one more reader or writer, and for a FIFO it wakes a process asleep
in open()).  Instead pidfd_getfd(2) (Linux >= 5.6) duplicates the process's own file
description, which changes no reader or writer count.  The duplicate lives for two
ioctls, and only while no step is in flight, so it cannot delay an EOF or a SIGPIPE.

The bytes in the buffer are read the same way, without consuming them: tee(2) from the
borrowed *read* end into a pipe of our own duplicates the first buffers (tee never moves
the read position), we read our pipe, and close both its ends and the borrowed fd at once.
Our pipe is only ever a reader's of nothing and a writer's to ourselves: it adds no end to
the observed pipe.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import struct
import termios

from ..kernel import F_GETPIPE_SZ, SYS_PIDFD_GETFD
from ..model.pipe import PEEK  # bytes shown: a preview (tee copies at most our pipe's size)


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
# ssize_t tee(int fd_in, int fd_out, size_t len, unsigned int flags);  (glibc, fcntl.h)
_libc.tee.restype = ctypes.c_ssize_t
_libc.tee.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint)
SPLICE_F_NONBLOCK = 0x02  # splice(2): do not block on the pipes


class ProbeUnavailable(Exception):
    pass


def pidfd_getfd(pidfd: int, targetfd: int) -> int:
    fd: int = _libc.syscall(SYS_PIDFD_GETFD, pidfd, targetfd, 0)
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return fd


def fill_and_capacity(fd: int) -> tuple[int, int]:
    """(bytes in the buffer, buffer size) of a pipe through an fd of ours."""
    buf = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    nbytes = struct.unpack("i", buf)[0]
    capacity = fcntl.fcntl(fd, F_GETPIPE_SZ)
    return nbytes, capacity


class PidFds:
    """pidfds of the processes we watch, opened once each."""

    def __init__(self) -> None:
        self._fds: dict[int, int] = {}

    def get(self, pid: int) -> int:
        fd = self._fds.get(pid)
        if fd is None:
            fd = os.pidfd_open(pid)
            self._fds[pid] = fd
        return fd

    def forget(self, pid: int) -> None:
        fd = self._fds.pop(pid, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        for pid in list(self._fds):
            self.forget(pid)


def read_pipe(pidfds: PidFds, pid: int, fd: int) -> tuple[int, int]:
    """Fill and capacity of the pipe behind `fd` of process `pid`, via its own file description."""
    try:
        mine = pidfd_getfd(pidfds.get(pid), fd)
    except OSError as err:
        raise ProbeUnavailable(f"pidfd_getfd({pid}, {fd}): {err.strerror}") from None
    try:
        return fill_and_capacity(mine)
    finally:
        os.close(mine)


def tee_preview(fd: int, limit: int = PEEK) -> bytes:
    """The first `limit` bytes in the pipe behind our read-end `fd`, left where they are.

    tee(2) duplicates buffers into a pipe of ours (nonblocking both sides); an empty
    pipe answers EAGAIN (no writer left: 0), which is no bytes.  Raises OSError if tee
    fails otherwise (EINVAL: not a pipe; EBADF: not a read end).
    """
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        n = _libc.tee(fd, w, limit, SPLICE_F_NONBLOCK)
        if n < 0:
            err = ctypes.get_errno()
            if err == errno.EAGAIN:
                return b""
            raise OSError(err, os.strerror(err))
        os.close(w)
        w = -1
        out = b""
        while len(out) < n:
            chunk = os.read(r, n - len(out))
            if not chunk:
                break
            out += chunk
        return out
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def peek_pipe(pidfds: PidFds, pid: int, fd: int, limit: int = PEEK) -> bytes:
    """The first bytes in the pipe behind read-end `fd` of process `pid`, not consumed.
    OSError as the kernel gave it; its strerror starts with the call that failed
    ("pidfd_open: ", "pidfd_getfd: ", "tee: ")."""
    try:
        pidfd = pidfds.get(pid)
    except OSError as err:
        raise OSError(err.errno, f"pidfd_open: {err.strerror}") from None
    try:
        mine = pidfd_getfd(pidfd, fd)
    except OSError as err:
        raise OSError(err.errno, f"pidfd_getfd: {err.strerror}") from None
    try:
        return tee_preview(mine, limit)
    finally:
        os.close(mine)
