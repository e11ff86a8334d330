"""Pipes, and the fd calls that pipes and FIFOs share (close, dup2, read, write)."""

from __future__ import annotations

from .base import Action, Arg

ACTIONS = [
    Action("pipe", (Arg("object", "object:pipe"),
                    Arg("cloexec", "bool", False, False,
                        doc="pipe2(fd, O_CLOEXEC): both ends close at execve()")),
           "pipe(fd): create a pipe"),
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
    }
)

OBJECT_ATTRS = {
    "pipe": frozenset(
        {"bytes", "capacity", "readers", "writers", "blocked_readers", "blocked_writers"}
    ),
}
