"""Unix domain sockets: socketpair (stream or datagram); named sockets in the run's
directory (socket, bind, listen, connect, accept); passing an open fd (send_fd / recv_fd,
SCM_RIGHTS) and the peer's credentials (peercred, SO_PEERCRED); and open_file, a regular
file whose open file description a lesson passes.

read / write / close / dup2 / lseek are the pipe's and FIFO's actions: they take an end of
the pair ("s.a" / "s.b") or the one fd of a socket or an open file ("srv.fd"), as a C
program may read() and write() a connected socket (recv / send with flags 0 are the same
calls)."""

from __future__ import annotations

from .base import Action, Arg

SOCKET = "object:socket"

ACTIONS: list[Action] = [
    Action(
        "socketpair",
        (Arg("object", "object:socketpair"),
         Arg("type", "choice:stream|dgram", False, "stream",
             doc="stream: SOCK_STREAM, a byte stream; dgram: SOCK_DGRAM, one message per "
                 "send")),
        "socketpair(AF_UNIX, type, 0, sv): two connected sockets, ends s.a and s.b",
    ),
    Action("socket", (Arg("object", SOCKET),
                      Arg("type", "choice:stream|dgram", False, "stream")),
           "socket(AF_UNIX, type, 0): one unnamed socket, its fd is the end s.fd"),
    Action("bind", (Arg("object", SOCKET),),
           "bind(fd, {AF_UNIX, path}): names the socket; a file of type s appears in the "
           "run's private directory (the path is the object's name there)"),
    Action("listen", (Arg("object", SOCKET), Arg("backlog", "int", False, 1)),
           "listen(fd, backlog): a listening socket; connections wait in its queue until "
           "accept()"),
    Action("connect", (Arg("object", SOCKET), Arg("server", SOCKET,
                                                  doc="the bound socket whose path is "
                                                      "connected to")),
           "connect(fd, {AF_UNIX, path of server}): sleeps while the server's queue is full; "
           "ECONNREFUSED when nobody listens there",
           sleeps_in=("connect",)),
    Action("accept", (Arg("object", SOCKET), Arg("as", SOCKET,
                                                 doc="the object the new connection becomes "
                                                     "(its fd is as.fd)")),
           "accept(fd, NULL, NULL): takes the first waiting connection, a new socket and "
           "fd; sleeps while none waits",
           sleeps_in=("accept4", "accept"), c_calls=(("accept4", "accept"),)),
    Action("send_fd", (Arg("fd", "fd", doc="the socket to send on"),
                       Arg("pass", "fd", doc="the fd whose open file description is sent"),
                       Arg("data", "str", False, "x",
                           doc="the bytes that carry it (at least one)")),
           "sendmsg(fd, {data, SCM_RIGHTS: pass}, 0): sends an open file description",
           sleeps_in=("sendmsg",)),
    Action("recv_fd", (Arg("fd", "fd", doc="the socket to receive on"),
                       Arg("as", "fd", doc="the end the received fd becomes in this "
                                           "process (e.g. f.fd)")),
           "recvmsg(fd, {buf, cmsg}, 0): receives bytes and a new fd to the description "
           "sent",
           sleeps_in=("recvmsg",)),
    Action("peercred", (Arg("fd", "fd"),),
           "getsockopt(fd, SOL_SOCKET, SO_PEERCRED): pid, uid and gid of the peer, as the "
           "kernel recorded them at connect() (or socketpair())"),
    Action("unlink_socket", (Arg("object", SOCKET),),
           "unlink(path): removes a bound socket's name (its file of type s) from the run's "
           "directory; the socket lives on, but connect() to the path fails with ENOENT"),
    Action("open_file", (Arg("object", "object:open_file"),),
           "open(path, O_RDWR | O_CREAT, 0600): a regular file in the run's private "
           "directory; its fd is the end f.fd"),
]

PROCESS_ATTRS: frozenset[str] = frozenset({
    "peer_pid", "peer_uid", "peer_gid",  # what its last peercred returned
    "received_fd",  # the fd number its last recv_fd got
})

OBJECT_ATTRS: dict[str, frozenset[str]] = {
    "socketpair": frozenset({
        "type",  # stream / dgram, from getsockopt(SO_TYPE)
        "inq_a", "inq_b",  # SIOCINQ at that end: stream, bytes to read; dgram, the next one's
        "outq_a", "outq_b",  # SIOCOUTQ: memory its sends not yet read still hold
        "holders_a", "holders_b",  # fds open on that end, over all scenario processes
        "blocked_readers", "blocked_writers",  # asleep in read() / write() on an end
    }),
    "socket": frozenset({
        "type",  # stream / dgram (/proc/net/unix Type)
        "state",  # unconnected / connecting / connected / disconnecting (/proc/net/unix St)
        "listening",  # true after listen() (__SO_ACCEPTCON in /proc/net/unix Flags)
        "path",  # the name it is bound to ("" if none)
        "exists",  # a file is at that path (lstat)
        "file_type",  # "s" for a socket (from st_mode), as ls -l shows it
        "backlog",  # a listening socket: the backlog listen() set (sock_diag)
        "pending",  # a listening socket: connections waiting for accept() (sock_diag)
        "queue",  # a listening socket: the client sockets of those connections, in order
        "peer",  # a connected socket: the socket at the other end
        "peer_closed",  # its peer was released (sk_shutdown both ways, from sock_diag)
        "inq", "outq",  # bytes queued to read here; memory of its sends not yet read
        "holders",  # fds open on it, over all scenario processes
        "blocked_accepting", "blocked_connecting",  # asleep in accept() / connect() on it
        "blocked_readers", "blocked_writers",
    }),
    "open_file": frozenset({
        "path", "exists", "size",
        "holders",  # fds open on it, over all scenario processes
        "offset",  # the file offset of the first holder's fd (/proc/PID/fdinfo pos)
        "offsets",  # the offset of every holder's fd, in the order of the fd tables
        "descriptions",  # how many open file descriptions those fds share (kcmp)
    }),
}
