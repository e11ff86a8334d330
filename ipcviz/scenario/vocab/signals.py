"""Signals: masks, waiting for a signal, timers, real faults, and a pseudo-terminal.

`signal` (dispositions, including `reap` for SIGCHLD) and `kill` are in vocab/process.py.
"""

from __future__ import annotations

from .base import Action, Arg

ACTIONS: list[Action] = [
    Action("sigprocmask",
           (Arg("how", "choice:block|unblock|setmask"), Arg("signals", "signals")),
           "sigprocmask(how, &set, NULL)"),
    Action("pause", (), "pause(): sleep until a handler has run",
           sleeps_in=("pause", "rt_sigsuspend", "ppoll"),
           c_calls=(("rt_sigsuspend", "pause"), ("ppoll", "pause"))),
    Action("sigwait", (Arg("signals", "signals"),), "sigwait(&set, &sig)",
           sleeps_in=("rt_sigtimedwait",), c_calls=(("rt_sigtimedwait", "sigwait"),)),
    Action("sigsuspend", (Arg("signals", "signals", doc="the mask while it waits"),),
           "sigsuspend(&mask): set the mask and wait for a handler, in one step",
           sleeps_in=("rt_sigsuspend",), c_calls=(("rt_sigsuspend", "sigsuspend"),)),
    # A step that lasts until the call returns (never "blocked"): a signal already
    # pending, or EAGAIN when the timeout has passed.
    Action("sigtimedwait",
           (Arg("signals", "signals"),
            Arg("timeout", "seconds", doc="how long to wait, below a second allowed")),
           "sigtimedwait(&set, &info, &timeout): take a pending signal and its siginfo"),
    Action("sigqueue",
           (Arg("target", "process"), Arg("signal", "signal"),
            Arg("value", "int", False, 0, doc="si_value.sival_int, delivered with it")),
           "sigqueue(pid, sig, value): a signal that carries a number"),
    Action("raise", (Arg("signal", "signal"),),
           "raise(sig): a signal to the calling thread (tgkill), pending in SigPnd"),
    Action("alarm", (Arg("seconds", "int"),), "alarm(seconds): SIGALRM later"),
    Action("setitimer", (Arg("seconds", "seconds", doc="0.2 is 200 ms; 0 cancels"),),
           "setitimer(ITIMER_REAL, ...): SIGALRM after a time below a second too"),
    # A step that lasts until the call returns (it is never "blocked"): seconds must stay
    # below the step bound (5 s by default).
    Action("sleep", (Arg("seconds", "seconds", doc="0.2 is nanosleep() of 200 ms"),),
           "sleep(seconds) / nanosleep(): a caught signal ends either early, SA_RESTART or "
           "not: sleep() returns the whole seconds left, nanosleep() fails with EINTR"),
    Action("raise_fault", (Arg("kind", "choice:segv|bus|fpe"),),
           "a real fault: NULL read, a truncated mapping, integer division by zero"),
    Action("setrlimit", (Arg("resource", "choice:core"), Arg("limit", "int")),
           "setrlimit(RLIMIT_CORE, ...)"),
    # A pseudo-terminal, for the keys that send signals.
    Action("openpty", (Arg("object", "object:pty"),), "openpty(&master, &slave)"),
    Action("setsid", (), "setsid(): a new session and process group"),
    Action("set_ctty", (Arg("object", "object:pty"),),
           "ioctl(slave, TIOCSCTTY, 0): make the terminal the controlling terminal"),
    Action("type", (Arg("object", "object:pty"), Arg("keys", "str")),
           "write(master, keys): what typing on the terminal does (^C is Ctrl+C)"),
    Action("close_pty", (Arg("object", "object:pty"), Arg("end", "choice:master|slave")),
           "close(master) / close(slave)"),
]

PROCESS_ATTRS: frozenset[str] = frozenset({
    "queued",  # SigQ: signals queued to the process's user
    "queue_limit",  # SigQ: RLIMIT_SIGPENDING
    "core",  # the exit status says a core was dumped (WCOREDUMP)
    "core_pattern",  # /proc/sys/kernel/core_pattern, read by setrlimit
    "si_pid",  # of the signal sigtimedwait took: the sender's pid (siginfo_t)
    "si_value",  # its si_value.sival_int (what sigqueue sent; 0 for kill)
    "si_code",  # SI_QUEUE (sigqueue), SI_USER (kill), SI_TKILL (raise), SI_KERNEL, ...
})

OBJECT_ATTRS: dict[str, frozenset[str]] = {
    "pty": frozenset({
        "slave",  # /dev/pts/N
        "master_holders", "slave_holders",  # processes holding an fd of each side
        "controlling",  # processes whose controlling terminal it is (/proc/PID/stat tty_nr)
        "foreground",  # processes in its foreground process group (tpgid)
        "session_leader",
    }),
}
