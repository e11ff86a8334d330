"""Pipes, and the fd calls that pipes and FIFOs share (close, dup2, read, write)."""

from __future__ import annotations

from .base import Action, Arg

ACTIONS = [
    Action("pipe", (Arg("object", "object:pipe"),), "pipe(fd): create a pipe"),
    Action("close", (Arg("fd", "fd"),), "close(fd)"),
    Action("dup2", (Arg("fd", "fd"), Arg("to", "int")), "dup2(fd, to)"),
    Action(
        "write",
        (
            Arg("fd", "fd"),
            Arg("data", "str", False),
            Arg("size", "size", False),
            Arg("fill", "str", False, "x"),
            Arg("frame", "choice:length", False),
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
            Arg("all", "bool", False, False),
            Arg("frame", "choice:length", False),
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
