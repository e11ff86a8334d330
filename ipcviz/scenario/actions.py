"""The vocabulary of scenario files: actions, their arguments, and what `expect` may name.

Pure data, shared by the loader (to validate) and the runtime (to execute).
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass

# Argument types:
#   process       a process name of the scenario
#   object:KIND   an object name of the scenario of that kind ("object:" for any kind)
#   fd            an fd number (int >= 0) or an end of an object: "p.read", "p.write"
#   size          a byte count: an int, or "capacity", "PIPE_BUF", optionally "* N", "+ N", "- N"
#   int, str, bool
#   signal        a signal name of this system ("SIGUSR1", "SIGRTMIN+1")
#   choice:a|b    one of the words listed


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    required: bool = True
    default: object = None


@dataclass(frozen=True)
class Action:
    name: str
    args: tuple[Arg, ...]
    summary: str
    one_of: tuple[str, ...] = ()  # at least one of these arguments must be given


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("pipe", (Arg("object", "object:pipe"),), "pipe(fd): create a pipe"),
        Action("fork", (Arg("child", "process"),), "fork(): create a child process"),
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
        ),
        Action("exit", (Arg("status", "int", False, 0),), "_exit(status)"),
        Action("wait", (Arg("child", "process", False),), "waitpid(pid, &status, 0)"),
        Action(
            "signal",
            (Arg("signal", "signal"), Arg("disposition", "choice:ignore|default|handler")),
            "sigaction(sig, ...)",
        ),
        Action("kill", (Arg("target", "process"), Arg("signal", "signal")), "kill(pid, sig)"),
    )
}

# What `expect` may name: NAME.ATTR for a process, an object of a kind, or the step.
PROCESS_ATTRS = frozenset(
    {
        "state",  # running / blocked / sleeping / stopped / zombie / exited
        "syscall",  # name of the call it is blocked in
        "wchan",
        "exit_code",
        "exit_signal",
        "result",  # what its last finished call returned
        "errno",  # errno name of its last failed call
        "data",  # text its last read returned
        "received",  # bytes it has read in all
        "runs",  # maximal runs of one repeated byte in all it has read
        "min_run",  # the shortest of those runs
        "ends",  # object ends it holds: "p.read", "p.write"
        "fds",  # how many fds it has open
        "pending",
        "blocked",
        "caught",
        "ignored",
        "pid",
    }
)
OBJECT_ATTRS: dict[str, frozenset[str]] = {
    "pipe": frozenset(
        {"bytes", "capacity", "readers", "writers", "blocked_readers", "blocked_writers"}
    ),
}
STEP_ATTRS = frozenset({"outcome", "result", "errno", "process"})
OPS = ("==", "!=", "<=", ">=", "<", ">", "has", "lacks")

SIZE_RE = re.compile(r"^\s*(\d+|capacity|PIPE_BUF)\s*(?:([-+*])\s*(\d+))?\s*$")
END_NAMES = ("read", "write")


def signal_number(name: str) -> int | None:
    """The number of a signal name on this system, SIGRTMIN+n included; None if unknown."""
    name = name.strip().upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    m = re.fullmatch(r"SIGRT(MIN|MAX)([+-]\d+)?", name)
    if m:
        base = signal.SIGRTMIN if m.group(1) == "MIN" else signal.SIGRTMAX
        n = base + int(m.group(2) or 0)
        return int(n) if signal.SIGRTMIN <= n <= signal.SIGRTMAX else None
    sig = getattr(signal.Signals, name, None) if name in signal.Signals.__members__ else None
    return int(sig) if sig is not None else None


def signal_name(number: int) -> str:
    """The conventional name of a signal number ("SIGRTMIN+2" for real-time ones)."""
    if signal.SIGRTMIN <= number <= signal.SIGRTMAX:
        off = number - signal.SIGRTMIN
        return "SIGRTMIN" if off == 0 else f"SIGRTMIN+{off}"
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"
