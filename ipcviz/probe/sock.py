"""A socketpair's probe: per end, the queued bytes (SIOCINQ) and what its sends still hold
(SIOCOUTQ), and the socket type (SO_TYPE), asked through an fd a scenario process holds;
holders and blocked processes from the fd tables and system calls of all processes.

As for pipes (probe/pipe_io.py), the fd is borrowed with pidfd_getfd(2) only between
steps and closed at once; /proc/PID/fd/N is never opened (a socket cannot be opened
through it anyway: ENXIO) and nothing is read from the socket.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct

from typing import TYPE_CHECKING

from ..model.snapshot import EXITED, ZOMBIE, Process
from ..kernel import SIOCINQ, SIOCOUTQ
from ..model.sock import TYPE_NAMES, SocketPairState
from .pipe import blocked_on
from .pipe_io import PidFds, ProbeUnavailable, pidfd_getfd
from .sampler import READ_CALLS, WRITE_CALLS

if TYPE_CHECKING:
    from .kinds import Record, WaitsOn
    from .sampler import Sampler


def holders_of(target: str, processes: tuple[Process, ...]
               ) -> tuple[tuple[str, ...], tuple[int, int] | None]:
    """("proc:fd" of every fd on the socket `target`, a live holder (pid, fd) or None)."""
    names, live = [], None
    for p in processes:
        for f in p.fds:
            if f.target == target:
                names.append(f"{p.name}:{f.fd}")
                if live is None and p.state not in (ZOMBIE, EXITED):
                    live = (p.pid, f.fd)
    return tuple(names), live


def _int_ioctl(fd: int, request: int) -> int:
    return int(struct.unpack("i", fcntl.ioctl(fd, request, b"\0\0\0\0"))[0])


def read_end(pidfds: PidFds, pid: int, fd: int) -> tuple[str | None, int, int]:
    """(type, SIOCINQ, SIOCOUTQ) of the socket behind `fd` of process `pid`, through its
    own file description (borrowed, then closed)."""
    try:
        mine = pidfd_getfd(pidfds.get(pid), fd)
    except OSError as err:
        raise ProbeUnavailable(f"pidfd_getfd({pid}, {fd}): {err.strerror}") from None
    try:
        # getsockopt needs a socket object: one over the borrowed fd, detached (not closed)
        # at once, so that the one close below is the only one
        s = socket.socket(fileno=mine)
        try:
            kind = TYPE_NAMES.get(s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE))
        finally:
            s.detach()
        return kind, _int_ioctl(mine, SIOCINQ), _int_ioctl(mine, SIOCOUTQ)
    finally:
        os.close(mine)


def _ask(sampler: Sampler, holder: tuple[int, int] | None
         ) -> tuple[str | None, int | None, int | None]:
    if holder is None:
        return None, None, None
    try:
        return read_end(sampler.pidfds, *holder)
    except (ProbeUnavailable, OSError):
        return None, None, None


def probe_socketpair(sampler: Sampler, rec: Record, processes: tuple[Process, ...]
                     ) -> SocketPairState:
    oid, ino_a, ino_b = rec["id"], rec.get("inode_a"), rec.get("inode_b")
    holders_a, live_a = holders_of(f"socket:[{ino_a}]", processes)
    holders_b, live_b = holders_of(f"socket:[{ino_b}]", processes)
    type_a, inq_a, outq_a = _ask(sampler, live_a)
    type_b, inq_b, outq_b = _ask(sampler, live_b)
    return SocketPairState(
        oid, "socketpair", type=type_a or type_b, inode_a=ino_a, inode_b=ino_b,
        inq_a=inq_a, inq_b=inq_b, outq_a=outq_a, outq_b=outq_b,
        holders_a=len(holders_a), holders_b=len(holders_b),
        fds_a=holders_a, fds_b=holders_b,
        blocked_readers=blocked_on(oid, processes, READ_CALLS),
        blocked_writers=blocked_on(oid, processes, WRITE_CALLS))


PROBES = {"socketpair": probe_socketpair}
WAITS_ON: list[WaitsOn] = []  # read / write take the fd: the sampler finds the object from it
