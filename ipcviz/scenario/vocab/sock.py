"""Unix domain sockets: socketpair (stream or datagram).  read / write / close / dup2 are
the pipe's actions: they take an end of the pair ("s.a" / "s.b"), as a C program may
read() and write() a connected socket (recv / send with flags 0 are the same calls)."""

from __future__ import annotations

from .base import Action, Arg

ACTIONS: list[Action] = [
    Action(
        "socketpair",
        (Arg("object", "object:socketpair"),
         Arg("type", "choice:stream|dgram", False, "stream",
             doc="stream: SOCK_STREAM, a byte stream; dgram: SOCK_DGRAM, one message per "
                 "send")),
        "socketpair(AF_UNIX, type, 0, sv): two connected sockets, ends s.a and s.b",
    ),
]

PROCESS_ATTRS: frozenset[str] = frozenset()

OBJECT_ATTRS: dict[str, frozenset[str]] = {
    "socketpair": frozenset({
        "type",  # stream / dgram, from getsockopt(SO_TYPE)
        "inq_a", "inq_b",  # SIOCINQ at that end: stream, bytes to read; dgram, the next one's
        "outq_a", "outq_b",  # SIOCOUTQ: memory its sends not yet read still hold
        "holders_a", "holders_b",  # fds open on that end, over all scenario processes
        "blocked_readers", "blocked_writers",  # asleep in read() / write() on an end
    }),
}
