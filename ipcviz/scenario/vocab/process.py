"""Processes: fork, exit, wait, and the signal calls every lesson may use."""

from __future__ import annotations

from .base import Action, Arg

ACTIONS = [
    Action("fork", (Arg("child", "process"),), "fork(): create a child process"),
    Action("exit", (Arg("status", "int", False, 0),), "_exit(status)"),
    Action("wait",
           (Arg("child", "process", False),
            Arg("nohang", "bool", False, False,
                doc="WNOHANG: return 0 at once while the child still runs"),
            Arg("untraced", "bool", False, False,
                doc="WUNTRACED: also report a child that a signal stopped"),
            Arg("continued", "bool", False, False,
                doc="WCONTINUED: also report a stopped child that SIGCONT resumed")),
           "waitpid(pid, &status, options)",
           sleeps_in=("wait4", "waitid"),
           c_calls=(("wait4", "waitpid"), ("waitid", "waitpid"))),
    Action(
        "signal",
        (Arg("signal", "signal"), Arg("disposition", "choice:ignore|default|handler|reap"),
         Arg("restart", "bool", False, False,
             doc="SA_RESTART: a call the handler interrupts starts again instead of "
                 "failing with EINTR"),
         Arg("mask", "signals", False,
             doc="sa_mask: signals blocked while the handler runs (besides the signal "
                 "itself)"),
         Arg("nodefer", "bool", False, False,
             doc="SA_NODEFER: the signal itself is not blocked while its handler runs"),
         Arg("siginfo", "bool", False, False,
             doc="SA_SIGINFO: the handler gets a siginfo_t (si_pid, si_value, si_code)"),
         Arg("hold", "bool", False, False,
             doc="the handler does not return at once: the process's next steps run "
                 "inside it, until a handler_return step")),
        "sigaction(sig, ...)",
    ),
    Action("handler_return", (),
           "return from the held handler that runs now: the kernel restores the mask "
           "(sigreturn)"),
    Action("kill",
           (Arg("target", "process"), Arg("signal", "signal"),
            Arg("group", "bool", False, False,
                doc="kill(-pgid, sig): the whole process group whose id is the target's pid "
                    "(refused unless every member is a process of the lesson)")),
           "kill(pid, sig)"),
    Action("killpg", (Arg("group", "process"), Arg("signal", "signal")),
           "killpg(pgrp, sig): every process of the group whose id is that process's pid "
           "(refused unless every member is a process of the lesson)"),
    Action("exec", (),
           "execve(): the process runs a new program (ipcviz's worker again, so the lesson "
           "goes on); its fds stay open unless they have FD_CLOEXEC"),
    Action("cloexec", (Arg("fd", "fd"), Arg("on", "bool", False, True)),
           "fcntl(fd, F_SETFD, FD_CLOEXEC): close this fd at execve() (on = false clears it)"),
    Action("setpgid",
           (Arg("target", "process", False, doc="a child of the caller, or itself (default)"),
            Arg("group", "process", False,
                doc="join the group whose id is this process's pid; default: a new group "
                    "led by the target")),
           "setpgid(pid, pgid)"),
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
        "cloexec",  # object ends it holds with FD_CLOEXEC (/proc/PID/fdinfo flags)
        "ppid",  # parent pid, as the kernel says now (an orphan's is its subreaper's)
        "pgid",  # process group id (/proc/PID/stat)
        "sid",  # session id (/proc/PID/stat)
        "thread_pending",  # SigPnd: pending for the thread (raise, tgkill)
        "process_pending",  # ShdPnd: pending for the whole process (kill, sigqueue)
        # what its last wait reported: exited / killed / stopped / continued / nothing (0)
        "waited",
        "wait_signal",  # the signal of that report (the killing or stopping one), or none
    }
)

OBJECT_ATTRS: dict[str, frozenset[str]] = {}
