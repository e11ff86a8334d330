"""What the kernel says of one AF_UNIX socket through sock_diag(7), the netlink interface
`ss -x` reads: its state and type, the name it is bound to, its peer's inode, and
UNIX_DIAG_RQLEN -- for a listening socket the connections waiting for accept() and the
backlog, for any other the bytes queued to read and the memory of its unread sends (the
kernel's SIOCINQ / SIOCOUTQ numbers) -- and UNIX_DIAG_ICONS, the inodes of the clients
whose connections wait in a listener's queue.

One request per socket, by inode; it opens nothing of the lesson's and borrows no fd.
Parsed from bytes, so the parser is tested on made-up replies.
"""

from __future__ import annotations

import errno
import socket
import struct
from dataclasses import dataclass

from ..kernel import (
    NETLINK_SOCK_DIAG,
    SOCK_DIAG_BY_FAMILY,
    UDIAG_SHOW_ICONS,
    UDIAG_SHOW_NAME,
    UDIAG_SHOW_PEER,
    UDIAG_SHOW_RQLEN,
)

NLMSG_ERROR = 2
NLM_F_REQUEST = 1
NO_COOKIE = 0xFFFFFFFF  # INET_DIAG_NOCOOKIE: ask by inode alone
UNIX_DIAG_NAME, UNIX_DIAG_PEER, UNIX_DIAG_ICONS, UNIX_DIAG_RQLEN = 0, 2, 3, 4
UNIX_DIAG_SHUTDOWN = 6  # sent whatever was asked: the socket's sk_shutdown
SHUTDOWN_MASK = 3  # RCV_SHUTDOWN | SEND_SHUTDOWN: set on a socket when its peer is released
TCP_LISTEN = 10
_HDR = struct.Struct("=IHHII")  # struct nlmsghdr
_REQ = struct.Struct("=BBHIIIII")  # struct unix_diag_req
_MSG = struct.Struct("=BBBBIII")  # struct unix_diag_msg
_ATTR = struct.Struct("=HH")  # struct rtattr


@dataclass(frozen=True)
class Diag:
    inode: int
    type: int  # SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5
    state: int  # the kernel's sk_state: TCP_LISTEN 10, TCP_ESTABLISHED 1, TCP_CLOSE 7
    name: str | None = None
    peer: int | None = None  # the peer's inode (0: a connection not accepted yet)
    icons: tuple[int, ...] = ()  # listening: the waiting clients' inodes, oldest first
    rqueue: int | None = None  # listening: waiting connections; else SIOCINQ
    wqueue: int | None = None  # listening: the backlog; else SIOCOUTQ
    shutdown: int | None = None  # sk_shutdown: both bits once the peer was closed

    @property
    def listening(self) -> bool:
        return self.state == TCP_LISTEN


def request(inode: int, seq: int = 1) -> bytes:
    body = _REQ.pack(socket.AF_UNIX, 0, 0, 0xFFFFFFFF, inode,
                     UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN,
                     NO_COOKIE, NO_COOKIE)
    return _HDR.pack(_HDR.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, seq, 0) + body


def parse(data: bytes) -> Diag | None:
    """The first unix_diag_msg of a reply; None for an error reply (ENOENT: no such
    socket) or anything cut short."""
    if len(data) < _HDR.size:
        return None
    length, kind, _, _, _ = _HDR.unpack_from(data, 0)
    if kind != SOCK_DIAG_BY_FAMILY or length > len(data) or length < _HDR.size + _MSG.size:
        return None
    _, typ, state, _, ino, _, _ = _MSG.unpack_from(data, _HDR.size)
    fields: dict[str, object] = {}
    off = _HDR.size + _MSG.size
    while off + _ATTR.size <= length:
        alen, atype = _ATTR.unpack_from(data, off)
        if alen < _ATTR.size or off + alen > length:
            break
        payload = data[off + _ATTR.size: off + alen]
        if atype == UNIX_DIAG_NAME:
            fields["name"] = payload.split(b"\0", 1)[0].decode("utf-8", "replace")
        elif atype == UNIX_DIAG_PEER and len(payload) >= 4:
            fields["peer"] = struct.unpack_from("=I", payload)[0]
        elif atype == UNIX_DIAG_ICONS:
            n = len(payload) // 4
            fields["icons"] = struct.unpack_from(f"={n}I", payload) if n else ()
        elif atype == UNIX_DIAG_SHUTDOWN and len(payload) >= 1:
            fields["shutdown"] = payload[0]
        elif atype == UNIX_DIAG_RQLEN and len(payload) >= 8:
            fields["rqueue"], fields["wqueue"] = struct.unpack_from("=II", payload)
        off += (alen + 3) & ~3
    return Diag(ino, typ, state, **fields)  # type: ignore[arg-type]


def query(inode: int) -> Diag | None:
    """What sock_diag says of the AF_UNIX socket `inode`; None if it is gone.  OSError if
    the kernel has no sock_diag for AF_UNIX (the caller falls back to ioctls)."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(1.0)  # a netlink reply is immediate; never hang the probe
        nl.sendto(request(inode), (0, 0))
        data = nl.recv(65536)
    if len(data) >= _HDR.size + 4 and _HDR.unpack_from(data, 0)[1] == NLMSG_ERROR:
        err = -struct.unpack_from("=i", data, _HDR.size)[0]
        if err == errno.ENOENT:  # no socket of that inode any more
            return None
        raise OSError(err, "sock_diag refused the request")
    return parse(data)
