"""A socketpair: two connected Unix domain sockets, each end its own socket (own inode).

Unlike a pipe, both ends read and write: bytes sent on end a wait in end b's receive
queue, and the other way round.  Per end the probe asks SIOCINQ and SIOCOUTQ through an fd
a scenario process holds, as `ss -x` shows them in its Recv-Q and Send-Q columns.
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


OBJECT_KINDS = {"socketpair": SocketPairState}
