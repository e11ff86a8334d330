"""Unix domain sockets.

A socketpair: two connected sockets, each end its own socket (own inode).  Unlike a pipe,
both ends read and write: bytes sent on end a wait in end b's receive queue, and the other
way round.  Per end the probe asks SIOCINQ and SIOCOUTQ through an fd a scenario process
holds, as `ss -x` shows them in its Recv-Q and Send-Q columns.

A socket (named or not): its line of /proc/net/unix (state, flags, path) and what
sock_diag(7) says of it (the netlink query `ss -x` makes): a listening socket's backlog and
the connections waiting in its queue, a connected socket's peer and queued bytes.

An open file: a regular file whose fds (perhaps in several processes, perhaps passed with
SCM_RIGHTS) share or do not share one open file description, and so one offset.
"""

from __future__ import annotations

from dataclasses import dataclass

from .provenance import Source
from .snapshot import ObjectState, Snapshot

TYPE_NAMES = {1: "stream", 2: "dgram", 5: "seqpacket"}  # SOCK_* of getsockopt(SO_TYPE)
ENDS = ("a", "b")


@dataclass(frozen=True)
class SocketPairState(ObjectState):
    """Both ends of a socketpair(AF_UNIX, ...); None where no live process holds that end."""

    type: str | None = None  # "stream" / "dgram", from getsockopt(SO_TYPE)
    inode_a: int | None = None  # the socket:[INODE] of each end's fds
    inode_b: int | None = None
    inq_a: int | None = None  # SIOCINQ at end a: what a read() on a would find
    inq_b: int | None = None
    outq_a: int | None = None  # SIOCOUTQ at end a: memory of its sends b has not read yet
    outq_b: int | None = None
    holders_a: int = 0  # fds open on end a, over all scenario processes
    holders_b: int = 0
    fds_a: tuple[str, ...] = ()  # "parent:3"
    fds_b: tuple[str, ...] = ()
    blocked_readers: tuple[str, ...] = ()  # process names asleep in read() on an end
    blocked_writers: tuple[str, ...] = ()  # asleep in write() on an end

    def end(self, name: str) -> tuple[int | None, int | None, int | None, tuple[str, ...]]:
        """(inode, inq, outq, fds) of end "a" or "b"."""
        if name == "a":
            return self.inode_a, self.inq_a, self.outq_a, self.fds_a
        return self.inode_b, self.inq_b, self.outq_b, self.fds_b

    def inq_meaning(self) -> str:
        """What SIOCINQ counts for this type of socket (unix_inq_len in the kernel)."""
        if self.type == "dgram":
            return "the size of the next datagram (one message, whole)"
        return "bytes waiting to be read"

    def describe(self) -> str:
        if self.holders_a == 0 and self.holders_b == 0:
            return f"socketpair {self.id}: freed (no process holds an end)"
        parts = [f"socketpair {self.id} ({self.type or '?'})"]
        for name in ENDS:
            _, inq, _, fds = self.end(name)
            queued = "?" if inq is None else str(inq)
            parts.append(f"end {name} ({', '.join(fds) or 'closed'}): {queued} to read")
        text = "; ".join(parts)
        if self.type == "dgram":
            text += " (a datagram socket counts the next message only)"
        if self.blocked_readers:
            text += f"; blocked reading (empty): {', '.join(self.blocked_readers)}"
        if self.blocked_writers:
            text += f"; blocked writing (full): {', '.join(self.blocked_writers)}"
        return text

    def holder(self, snapshot: Snapshot, name: str = "a") -> tuple[int, int] | None:
        """(pid, fd) of the first live scenario process holding end `name`: the probe's choice."""
        inode = self.inode_a if name == "a" else self.inode_b
        return snapshot.live_holder(f"socket:[{inode}]")

    def sources(self, pids: dict[str, int] | None = None,
                holder: tuple[int, int] | None = None) -> list[Source]:
        """Where each value came from, and a command that shows the same (for --explain)."""
        pids = pids or {}
        inodes = [i for i in (self.inode_a, self.inode_b) if i is not None]
        grep = "|".join(str(i) for i in inodes)
        out = [Source("type", self.type or "?",
                      "getsockopt(SO_TYPE) through pidfd_getfd on a holder's fd",
                      f"grep -E ' ({grep})( |$)' /proc/net/unix" if inodes else None,
                      "the Type column: 0001 stream, 0002 dgram")]
        for name in ENDS:
            out += self._end_sources(name, pids)
        out.append(_sleepers("blocked readers", self.blocked_readers, pids))
        out.append(_sleepers("blocked writers", self.blocked_writers, pids))
        return out

    def _end_sources(self, name: str, pids: dict[str, int]) -> list[Source]:
        inode, inq, outq, fds = self.end(name)
        held = sorted({pids[f.split(":")[0]] for f in fds if f.split(":")[0] in pids})
        return [
            Source(f"end {name}", f"socket:[{inode}] held by {', '.join(fds) or 'none'}",
                   "readlink /proc/PID/fd/N of every scenario process",
                   "; ".join(f"ls -l /proc/{pid}/fd" for pid in held) or None),
            Source(f"end {name} queued", "?" if inq is None else f"{inq} in, {outq} out",
                   "ioctl(SIOCINQ) and ioctl(SIOCOUTQ) through pidfd_getfd on a holder's fd",
                   "ss -xp", f"Recv-Q is SIOCINQ ({self.inq_meaning()}); Send-Q is SIOCOUTQ, "
                             "kernel memory with its overhead, not bytes of payload"),
        ]


def _sleepers(label: str, names: tuple[str, ...], pids: dict[str, int]) -> Source:
    known = [pids[n] for n in names if n in pids]
    cmd = "; ".join(f"cat /proc/{pid}/syscall /proc/{pid}/wchan; echo" for pid in known)
    return Source(label, ", ".join(names) or "none",
                  "processes asleep in read()/write() on an fd of this pair: "
                  "/proc/PID/syscall (number and fd) and /proc/PID/wchan",
                  cmd or None, None if cmd else "nobody is asleep on it now")


STATES = {1: "unconnected", 2: "connecting", 3: "connected", 4: "disconnecting"}  # SS_*
ACCEPTCON = 0x10000  # __SO_ACCEPTCON in the Flags column: the socket listens
NOT_ACCEPTED = "pending"  # the peer of a client whose connection waits in a queue


@dataclass(frozen=True)
class SocketState(ObjectState):
    """One AF_UNIX socket made by socket() or accept().  None: not known (the socket is
    gone, or the kernel would not say)."""

    inode: int | None = None  # socket:[INODE] of its fds
    type: str | None = None  # stream / dgram
    state: str | None = None  # unconnected / connecting / connected / disconnecting
    listening: bool = False
    path: str = ""  # the address it is bound to (an accepted socket shows its listener's)
    bound: bool = False  # a bind() of the lesson named it (else `path` is its listener's)
    exists: bool = False  # a file is at `path` (lstat)
    file_type: str | None = None  # "s" for a socket, as ls -l shows it
    mode: str | None = None
    backlog: int | None = None  # listening: the backlog of listen()
    pending: int | None = None  # listening: connections waiting for accept()
    queue: tuple[str, ...] = ()  # listening: the client socket of each waiting connection
    peer: str | None = None  # connected: the socket at the other end (NOT_ACCEPTED: none yet)
    peer_closed: bool = False  # the peer was released: sk_shutdown both ways (sock_diag)
    inq: int | None = None  # bytes to read here (stream) / the next datagram's size
    outq: int | None = None  # memory its sends not yet read still hold
    holders: int = 0
    fds: tuple[str, ...] = ()  # "server:3"
    blocked_accepting: tuple[str, ...] = ()  # asleep in accept() on it
    blocked_connecting: tuple[str, ...] = ()  # asleep in connect(), to it or from it
    blocked_readers: tuple[str, ...] = ()
    blocked_writers: tuple[str, ...] = ()
    diag: str = "sock_diag"  # where queue numbers came from; "ioctl" if netlink was refused

    def describe(self) -> str:
        if self.inode is None:
            return f"socket {self.id}: not created"
        if self.holders == 0 and self.state is None:
            text = f"socket {self.id}: closed (socket:[{self.inode}] freed)"
        else:
            role = "listening" if self.listening else (self.state or "?")
            text = (f"socket {self.id} ({self.type or '?'}, {role}) socket:[{self.inode}] "
                    f"held by {', '.join(self.fds) or 'nobody'}")
        if self.path:
            name = f"file {self.file_type} {self.mode}" if self.exists else "no file there"
            whose = "bound to" if self.bound else "address (its listener's)"
            text += f"; {whose} {self.path} [{name}]"
        return text + self._connection_text() + "".join(
            f"; {label}: {', '.join(names)}" for label, names in self.sleepers() if names)

    def _connection_text(self) -> str:
        """A listener's queue, or a connection's peer and queued bytes."""
        if self.listening:
            return (f"; backlog {_q(self.backlog)}, {_q(self.pending)} waiting for accept()"
                    + (f": {', '.join(self.queue)}" if self.queue else ""))
        text = ""
        if self.peer_closed:
            text = "; its peer is closed (shut down both ways: read() gives 0 or ECONNRESET)"
        elif self.peer:
            peer = ("a connection still waiting in the listener's queue"
                    if self.peer == NOT_ACCEPTED else self.peer)
            text = f"; peer {peer}"
        if self.inq is not None:
            text += f"; {self.inq} to read, {self.outq} sent and not yet read"
        return text

    def sleepers(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(what, who) of each way a process may sleep on it."""
        return (("blocked in accept()", self.blocked_accepting),
                ("blocked in connect()", self.blocked_connecting),
                ("blocked reading", self.blocked_readers),
                ("blocked writing", self.blocked_writers))

    def sources(self, pids: dict[str, int] | None = None,
                holder: tuple[int, int] | None = None) -> list[Source]:
        """Where each value came from, and a command that shows the same (for --explain)."""
        pids = pids or {}
        ino = self.inode if self.inode is not None else "INODE"
        out = [Source("state", f"{'listening' if self.listening else self.state or '?'}, "
                      f"{self.type or '?'}",
                      "/proc/net/unix: the St column (SS_*), Flags 00010000 = listening",
                      f"grep -E ' {ino}( |$)' /proc/net/unix",
                      "ss -xp shows the same sockets with their processes")]
        if self.path:
            out.append(Source("name", f"{self.file_type or 'gone'} {self.path}",
                              "lstat(path): st_mode (lstat opens nothing)",
                              f"ls -l {self.path}"))
        if self.listening:
            out.append(Source("queue", f"{_q(self.pending)} of backlog {_q(self.backlog)}",
                              "sock_diag netlink (UNIX_DIAG_RQLEN, UNIX_DIAG_ICONS): "
                              "the listener's queue length, its backlog, the waiting "
                              "clients' inodes", "ss -xlp",
                              "for a listening socket Recv-Q is the waiting connections "
                              "and Send-Q the backlog"))
        else:
            out.append(Source("queued", f"{_q(self.inq)} in, {_q(self.outq)} out",
                              "sock_diag netlink UNIX_DIAG_RQLEN (the kernel's SIOCINQ / "
                              "SIOCOUTQ numbers)" if self.diag == "sock_diag" else
                              "ioctl(SIOCINQ / SIOCOUTQ) through pidfd_getfd on a "
                              "holder's fd", "ss -xp", "Recv-Q and Send-Q"))
        if self.peer_closed:
            out.append(Source("peer closed", "yes", "sock_diag netlink UNIX_DIAG_SHUTDOWN: "
                              "the socket's sk_shutdown, both ways once its peer is released",
                              None, "ss -xp shows no peer inode for it"))
        elif self.peer:
            out.append(Source("peer", self.peer, "sock_diag netlink UNIX_DIAG_PEER: the "
                              "peer's inode (0 while its connection waits in a queue)",
                              "ss -xp", "the Peer Address:Port column ends with its inode"))
        held = sorted({pids[f.split(":")[0]] for f in self.fds if f.split(":")[0] in pids})
        out.append(Source("fds", ", ".join(self.fds) or "none",
                          "readlink /proc/PID/fd/N == socket:[INODE]",
                          "; ".join(f"ls -l /proc/{pid}/fd" for pid in held) or None))
        for label, names in (("blocked in accept()", self.blocked_accepting),
                             ("blocked in connect()", self.blocked_connecting)):
            if names:
                out.append(_sleepers(label, names, pids))
        return out


def _q(n: int | None) -> str:
    return "?" if n is None else str(n)


@dataclass(frozen=True)
class OpenFileState(ObjectState):
    """A regular file and the fds open on it: each fd's offset (/proc/PID/fdinfo pos) and
    how many open file descriptions they are (kcmp(2) KCMP_FILE: one description, one
    offset, however many fds and processes)."""

    path: str = ""
    exists: bool = False
    size: int | None = None
    holders: int = 0
    fds: tuple[str, ...] = ()  # "parent:4"
    offsets: tuple[int, ...] = ()  # pos of each fd of `fds`
    offset: int | None = None  # pos of the first
    descriptions: int | None = None  # distinct open file descriptions among `fds`
    groups: tuple[int, ...] = ()  # for each fd of `fds`, which description (0, 1, ...)

    def describe(self) -> str:
        size = f"{self.size} bytes" if self.exists else "no file there"
        text = f"open file {self.id}: {self.path} [{size}]"
        if not self.fds:
            return text + "; no fd open on it"
        fds = ", ".join(f"{f} at offset {o}" for f, o in zip(self.fds, self.offsets))
        desc = ("?" if self.descriptions is None else
                "one open file description (one offset)" if self.descriptions == 1 else
                f"{self.descriptions} open file descriptions (offsets of their own)")
        return f"{text}; fds {fds}; {desc}"

    def sources(self, pids: dict[str, int] | None = None,
                holder: tuple[int, int] | None = None) -> list[Source]:
        pids = pids or {}
        out = [Source("size", _q(self.size), f"stat({self.path}): st_size",
                      f"stat -c %s {self.path}")]
        cmds = []
        for f in self.fds:
            name, _, fd = f.partition(":")
            if name in pids:
                cmds.append(f"grep pos /proc/{pids[name]}/fdinfo/{fd}")
        out.append(Source("offsets", ", ".join(map(str, self.offsets)) or "none",
                          "the pos line of /proc/PID/fdinfo/N of every fd on it",
                          "; ".join(cmds) or None))
        out.append(Source("descriptions", _q(self.descriptions),
                          "kcmp(pid1, pid2, KCMP_FILE, fd1, fd2) == 0: the same open file "
                          "description", None,
                          "no shell command compares descriptions; equal pos after a write "
                          "through one fd is the sign"))
        return out


OBJECT_KINDS = {"socketpair": SocketPairState, "socket": SocketState,
                "open_file": OpenFileState}
