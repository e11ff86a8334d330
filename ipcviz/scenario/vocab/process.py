"""Processes: fork, exit, wait, and the signal calls every lesson may use."""

from __future__ import annotations

from .base import Action, Arg

ACTIONS = [
    Action("fork", (Arg("child", "process"),), "fork(): create a child process"),
    Action("exit", (Arg("status", "int", False, 0),), "_exit(status)"),
    Action("wait", (Arg("child", "process", False),), "waitpid(pid, &status, 0)",
           sleeps_in=("wait4", "waitid"),
           c_calls=(("wait4", "waitpid"), ("waitid", "waitpid"))),
    Action(
        "signal",
        (Arg("signal", "signal"), Arg("disposition", "choice:ignore|default|handler|reap"),
         Arg("restart", "bool", False, False,
             doc="SA_RESTART: a call the handler interrupts starts again instead of "
                 "failing with EINTR")),
        "sigaction(sig, ...)",
    ),
    Action("kill", (Arg("target", "process"), Arg("signal", "signal")), "kill(pid, sig)"),
]

# What `expect` may name of a process (NAME.ATTR).
PROCESS_ATTRS = frozenset(
    {
        "state",  # running / blocked / sleeping / stopped / zombie / exited
        "syscall",  # name of the call it is blocked in
        "wchan",
        "exit_code",
        "exit_signal",
        "result",  # what its last finished call returned
        "errno",  # errno name of its last failed call
        "fds",  # how many fds it has open
        "ends",  # object ends it holds: "p.read", "p.write"
        "pending",
        "blocked",
        "caught",
        "ignored",
        "pid",
        "handled",  # signals whose scenario-installed handler ran, in order
    }
)

OBJECT_ATTRS: dict[str, frozenset[str]] = {}
