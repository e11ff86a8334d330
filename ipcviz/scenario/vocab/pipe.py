"""Pipes, and the fd calls that pipes and FIFOs share (close, dup2, read, write)."""

from __future__ import annotations

from .base import Action, Arg

POLL_EVENTS = "choice:in|out|in,out"

ACTIONS = [
    Action("pipe", (Arg("object", "object:pipe"),
                    Arg("cloexec", "bool", False, False,
                        doc="pipe2(fd, O_CLOEXEC): both ends close at execve()"),
                    Arg("nonblock", "bool", False, False,
                        doc="pipe2(fd, O_NONBLOCK): both ends never sleep (EAGAIN instead)")),
           "pipe(fd): create a pipe"),
    Action("set_nonblock", (Arg("fd", "fd"), Arg("on", "bool", False, True)),
           "fcntl(fd, F_SETFL, flags | O_NONBLOCK) (or without it): on the open file "
           "description, so every fd that shares it sees the change"),
    Action("set_pipe_size", (Arg("fd", "fd"), Arg("size", "size")),
           "fcntl(fd, F_SETPIPE_SZ, size): the kernel rounds up to a power of two pages and "
           "returns the new capacity (EBUSY below the bytes held; EPERM above "
           "/proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE)"),
    Action("poll", (Arg("fd", "fd"), Arg("events", POLL_EVENTS, False, "in"),
                    Arg("timeout_ms", "int", False, -1,
                        doc="-1: no timeout (the step blocks); else the step lasts until poll "
                            "returns: keep it under the step bound")),
           "poll(&(struct pollfd){fd, events}, 1, timeout_ms): sleep until the fd is ready "
           "or the time is up; the process's `revents` say what the kernel reported",
           sleeps_in=("poll", "ppoll")),
    Action("select", (Arg("fd", "fd"), Arg("events", POLL_EVENTS, False, "in"),
                      Arg("timeout_ms", "int", False, -1,
                          doc="-1: no timeout (the step blocks); else the step lasts until "
                              "select returns")),
           "select(fd + 1, &readfds, &writefds, NULL, timeout): the same wait with fd sets; "
           "the process's `ready` says which set kept the fd (read, write)",
           sleeps_in=("select", "pselect6")),
    Action("close", (Arg("fd", "fd"),), "close(fd)"),
    Action("dup2", (Arg("fd", "fd"), Arg("to", "int")), "dup2(fd, to)"),
    Action(
        "write",
        (
            Arg("fd", "fd"),
            Arg("data", "str", False,
                doc="the text written (repeated to `size` if both are given)"),
            Arg("size", "size", False, doc="write this many bytes of `fill`"),
            Arg("fill", "str", False, "x", doc="the byte repeated to make `size`"),
            Arg("frame", "choice:length", False,
                doc='length: the length as text and a colon first ("5:hello")'),
        ),
        "write(fd, buf, n)",
        one_of=("data", "size"),
        sleeps_in=("write", "writev"),
    ),
    Action(
        "read",
        (
            Arg("fd", "fd"),
            Arg("size", "size", False, 4096),
            Arg("all", "bool", False, False, doc="read again until `size` bytes or EOF"),
            Arg("frame", "choice:length", False,
                doc='length: read "N:", then N bytes'),
        ),
        "read(fd, buf, n)",
        sleeps_in=("read", "readv"),
    ),
]

PROCESS_ATTRS = frozenset(
    {
        "data",  # text its last read returned
        "received",  # bytes it has read in all
        "runs",  # maximal runs of one repeated byte in all it has read
        "min_run",  # the shortest of those runs
        "revents",  # what its last poll() reported for its fd: POLLIN, POLLOUT, POLLHUP, ...
        "ready",  # what its last select() reported for its fd: read, write
    }
)

OBJECT_ATTRS = {
    "pipe": frozenset(
        {"bytes", "capacity", "readers", "writers", "blocked_readers", "blocked_writers",
         "max_capacity", "nonblocking"}
    ),
}
