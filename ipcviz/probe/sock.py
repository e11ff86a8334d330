"""The probes of Unix domain sockets and of the open files a lesson passes.

A socketpair: per end, the queued bytes (SIOCINQ) and what its sends still hold
(SIOCOUTQ), and the socket type (SO_TYPE), asked through an fd a scenario process holds;
holders and blocked processes from the fd tables and system calls of all processes.
As for pipes (probe/pipe_io.py), the fd is borrowed with pidfd_getfd(2) only between
steps and closed at once; /proc/PID/fd/N is never opened (a socket cannot be opened
through it anyway: ENXIO) and nothing is read from the socket.

A socket: its line of /proc/net/unix (St, Flags, Type, Path), and sock_diag (netlink, as
`ss -x`): backlog, waiting connections and their clients, peer, queued bytes -- nothing
borrowed, nothing opened.  Where sock_diag is refused, the queued bytes come from the
socketpair's borrowed-fd ioctls and the queue of a listener is unknown.  Who sleeps in
connect() to a listener: /proc/PID/syscall (connect, fd, address) and the sun_path at
that address in /proc/PID/mem.

An open file: lstat of its path; every fd on it (fd tables); each fd's offset (the pos
line of /proc/PID/fdinfo/N); which fds share one open file description (kcmp(2)).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import platform
import socket
import stat as stat_mod
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..kernel import KCMP_FILE, SIOCINQ, SIOCOUTQ, SYS_KCMP
from ..model.snapshot import BLOCKED, EXITED, ZOMBIE, Process
from ..model.sock import (
    ACCEPTCON,
    NOT_ACCEPTED,
    STATES,
    TYPE_NAMES,
    OpenFileState,
    SocketPairState,
    SocketState,
)
from . import sock_diag
from .fifo import read_user_string
from .pipe import blocked_on
from .pipe_io import PidFds, ProbeUnavailable, pidfd_getfd
from .sampler import READ_CALLS, WRITE_CALLS

if TYPE_CHECKING:
    from .kinds import Record, WaitsOn
    from .sampler import Sampler

ACCEPT_CALLS = frozenset({"accept", "accept4"})
CONNECT_CALLS = frozenset({"connect"})
NET_UNIX = "/proc/net/unix"


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


# -- sockets ------------------------------------------------------------------------------

@dataclass(frozen=True)
class NetUnix:
    """One line of /proc/net/unix (net/unix/af_unix.c, unix_seq_show)."""

    inode: int
    flags: int  # __SO_ACCEPTCON (0x10000) when it listens
    type: int
    state: int  # SS_UNCONNECTED 1, SS_CONNECTING 2, SS_CONNECTED 3, SS_DISCONNECTING 4
    path: str


def parse_net_unix(text: str) -> dict[int, NetUnix]:
    """inode -> line, for the sockets with an inode (the not yet accepted ends of waiting
    connections show inode 0 and are left out)."""
    out: dict[int, NetUnix] = {}
    for line in text.splitlines()[1:]:
        parts = line.split(None, 7)
        if len(parts) < 7:
            continue
        try:
            flags, typ, st, ino = (int(parts[3], 16), int(parts[4], 16), int(parts[5], 16),
                                   int(parts[6]))
        except ValueError:
            continue
        if ino:
            out[ino] = NetUnix(ino, flags, typ, st, parts[7] if len(parts) > 7 else "")
    return out


_net_unix: tuple[object, dict[int, NetUnix]] = (None, {})


def net_unix(processes: tuple[Process, ...]) -> dict[int, NetUnix]:
    """/proc/net/unix, read once per sample (a sample's probes share its `processes`)."""
    global _net_unix
    if _net_unix[0] is not processes:
        try:
            with open(NET_UNIX, encoding="utf-8", errors="replace") as f:
                table = parse_net_unix(f.read())
        except OSError:
            table = {}
        _net_unix = (processes, table)
    return _net_unix[1]


def connecting_to(path: str, processes: tuple[Process, ...]) -> tuple[str, ...]:
    """Processes asleep in connect() whose address (read from their memory) is `path`."""
    if not path:
        return ()
    out = []
    for p in processes:
        if p.state != BLOCKED or p.syscall not in CONNECT_CALLS or len(p.syscall_args) < 2:
            continue
        # struct sockaddr_un: sun_family (2 bytes), then sun_path
        if read_user_string(p.pid, p.syscall_args[1] + 2, 108) == path:
            out.append(p.name)
    return tuple(out)


def _diag(inode: int | None) -> tuple[sock_diag.Diag | None, bool]:
    """(what sock_diag says, whether it answered at all)."""
    if inode is None:
        return None, True
    try:
        return sock_diag.query(inode), True
    except OSError:
        return None, False


def probe_socket(sampler: Sampler, rec: Record, processes: tuple[Process, ...]
                 ) -> SocketState:
    oid, inode = rec["id"], rec.get("inode")
    holders, live = holders_of(f"socket:[{inode}]", processes)
    line = net_unix(processes).get(inode) if inode is not None else None
    diag, answered = _diag(inode) if line is not None else (None, True)
    names = {r.get("inode"): r["id"] for r in sampler.records if r.get("kind") == "socket"}
    path = line.path if line is not None and line.path else rec.get("path", "")
    exists, ftype, mode = _name(path)
    listening = bool(line and line.flags & ACCEPTCON)
    q = _queues(diag, names)
    if not answered and line is not None and not listening:
        _, inq, outq = _ask(sampler, live)  # sock_diag refused: the ioctls of a holder
        q.update(inq=inq, outq=outq)
    listeners = connecting_to(path, processes) if listening else ()
    return SocketState(
        oid, "socket", inode=inode,
        type=TYPE_NAMES.get(line.type) if line else None,
        state=STATES.get(line.state) if line else None, listening=listening,
        path=path, bound=bool(rec.get("path")), exists=exists, file_type=ftype, mode=mode,
        **q,
        holders=len(holders), fds=holders,
        blocked_accepting=blocked_on(oid, processes, ACCEPT_CALLS),
        blocked_connecting=listeners + blocked_on(oid, processes, CONNECT_CALLS),
        blocked_readers=blocked_on(oid, processes, READ_CALLS),
        blocked_writers=blocked_on(oid, processes, WRITE_CALLS),
        diag="sock_diag" if answered else "ioctl")


def _queues(diag: sock_diag.Diag | None, names: dict[Any, str]) -> dict[str, Any]:
    """A listener's backlog, waiting connections and their clients; another socket's
    queued bytes and peer (NOT_ACCEPTED while its connection waits in a queue)."""
    if diag is None:
        return {}
    if diag.listening:
        return {"pending": diag.rqueue, "backlog": diag.wqueue,
                "queue": tuple(names.get(i, f"socket:[{i}]") for i in diag.icons)}
    out: dict[str, Any] = {"inq": diag.rqueue, "outq": diag.wqueue,
                           "peer_closed": diag.shutdown is not None and
                           diag.shutdown & sock_diag.SHUTDOWN_MASK == sock_diag.SHUTDOWN_MASK}
    if diag.peer is not None:
        out["peer"] = NOT_ACCEPTED if diag.peer == 0 else names.get(diag.peer,
                                                                    f"socket:[{diag.peer}]")
    return out


def _name(path: str) -> tuple[bool, str | None, str | None]:
    """(exists, file type letter, mode) of a path, from lstat (which opens nothing)."""
    if not path:
        return False, None, None
    try:
        st = os.lstat(path)
    except OSError:
        return False, None, None
    return True, stat_mod.filemode(st.st_mode)[0], f"{stat_mod.S_IMODE(st.st_mode):04o}"


# -- open files -------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_KCMP = SYS_KCMP.get(platform.machine())


def same_description(a: tuple[int, int], b: tuple[int, int]) -> bool | None:
    """kcmp(2): fd a[1] of pid a[0] and fd b[1] of pid b[0] are one open file description
    (None: the kernel would not say)."""
    if _KCMP is None:
        return None
    r = _libc.syscall(_KCMP, a[0], b[0], KCMP_FILE, a[1], b[1])
    return None if r < 0 else r == 0


def descriptions_of(fds: Sequence[tuple[int, int]]) -> tuple[int, ...] | None:
    """For each (pid, fd), the index of its open file description among them."""
    firsts: list[tuple[int, int]] = []
    groups = []
    for fd in fds:
        for i, first in enumerate(firsts):
            same = same_description(first, fd)
            if same is None:
                return None
            if same:
                groups.append(i)
                break
        else:
            groups.append(len(firsts))
            firsts.append(fd)
    return tuple(groups)


def file_pos(pid: int, fd: int) -> int | None:
    """The pos line of /proc/PID/fdinfo/FD (the description's offset)."""
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("pos:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _file_fds(targets: Sequence[str], processes: tuple[Process, ...]
              ) -> list[tuple[str, int, int]]:
    out = []
    for p in processes:
        if p.state in (ZOMBIE, EXITED):
            continue
        for f in p.fds:
            if f.target in targets:
                out.append((p.name, p.pid, f.fd))
    return out


def probe_open_file(sampler: Sampler, rec: Record, processes: tuple[Process, ...]
                    ) -> OpenFileState:
    path = rec.get("path", "")
    try:
        st = os.lstat(path)
        exists, size = True, st.st_size
    except OSError:
        exists, size = False, None
    fds = _file_fds(rec.get("fd_targets", (path,)), processes)
    offsets = [file_pos(pid, fd) for _, pid, fd in fds]
    groups = descriptions_of([(pid, fd) for _, pid, fd in fds])
    return OpenFileState(
        rec["id"], "open_file", path=path, exists=exists, size=size, holders=len(fds),
        fds=tuple(f"{name}:{fd}" for name, _, fd in fds),
        offsets=tuple(o if o is not None else -1 for o in offsets),
        offset=offsets[0] if offsets else None,
        descriptions=len(set(groups)) if groups is not None else None,
        groups=groups or ())


PROBES = {"socketpair": probe_socketpair, "socket": probe_socket,
          "open_file": probe_open_file}
# read / write / accept / connect take the fd: the sampler finds the object from it
WAITS_ON: list[WaitsOn] = []
