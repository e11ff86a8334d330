"""The building blocks of the scenario vocabulary (shared by every mechanism's module)."""

from __future__ import annotations

from dataclasses import dataclass

# Argument types:
#   process       a process name of the scenario
#   object:KIND   an object name of the scenario of that kind ("object:" for any kind;
#                 "object:a|b" for one of several kinds)
#   fd            an fd number (int >= 0) or an end of an object: "p.read", "p.write"
#   size          a byte count: an int, or "capacity", "PIPE_BUF", optionally "* N", "+ N", "- N"
#   int, str, bool
#   seconds       a time: an int or a decimal number (0.2), within the action's range
#   signal        a signal name of this system ("SIGUSR1", "SIGRTMIN+1")
#   signals       a list of signal names
#   semops        a list of System V semaphore operations [sem_num, sem_op, "FLAGS"?]
#   choice:a|b    one of the words listed


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    required: bool = True
    default: object = None
    doc: str = ""  # one line for docs/lessons.md, where the name and type do not say it


@dataclass(frozen=True)
class Action:
    name: str
    args: tuple[Arg, ...]
    summary: str
    one_of: tuple[str, ...] = ()  # at least one of these arguments must be given
    # System calls the action may sleep in (names from ipcviz.probe.syscalls).  A step of
    # this action is "blocked" when the kernel shows its process asleep in one of them,
    # with the first argument the worker announced in its "began" message (if any).
    sleeps_in: tuple[str, ...] = ()
    # The C function the lesson's code calls, by the system call the kernel shows, where the
    # two differ: glibc's semop() is the semtimedop system call, sem_wait() sleeps in futex.
    # The card says the C name ('blocked in semop()'); the strace log keeps the kernel's.
    c_calls: tuple[tuple[str, str], ...] = ()

    def c_call(self, syscall: str) -> str:
        """The C name of `syscall` as this action makes it ('semtimedop' -> 'semop')."""
        return dict(self.c_calls).get(syscall, syscall)
