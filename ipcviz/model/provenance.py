"""Where each number on the stage came from, and a command a student can type to see it.

The kernel is the source of truth (DESIGN.md).  For every field of a Snapshot that a view
shows, this module names the kernel interface the probe read it from and a shell command
that reads the same thing by hand, so a student can check the picture against the machine.

Pure: no textual or rich import, no I/O.  The Textual app and the headless report both use it.

    for_process(p)            -> [Source, ...]  pid, parent, state, syscall, wchan, fds,
                                                signals, exit
    for_fd(p, fd)             -> [Source, ...]  one fd table entry (target and, for pipes, its end)
    for_object(o, holder)     -> [Source, ...]  a kernel object (its kind's model says: o.sources)
    holder_of(snapshot, o)    -> (pid, fd) | None   the fd the probe asks through (a pipe's end)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..scenario.actions import ID_ARGS

from .snapshot import (
    BLOCKED,
    EXITED,
    RUNNING,
    SLEEPING,
    STOPPED,
    ZOMBIE,
    Fd,
    ObjectState,
    Process,
    Snapshot,
)

@dataclass(frozen=True)
class Source:
    """One shown value and where it came from."""

    field: str  # what the stage shows: "state", "bytes", "fd 3"
    value: str  # the value as shown: "blocked", "65536"
    interface: str  # the kernel interface the probe read: "/proc/123/stat field 3"
    command: str | None  # a command a student can type to see the same; None if none exists
    note: str | None = None  # a caveat: what the command changes, or why there is none

    def line(self) -> str:
        """One line of text: field = value  ← interface  $ command."""
        out = f"{self.field} = {self.value}  ← {self.interface}"
        if self.command:
            out += f"  $ {self.command}"
        if self.note:
            out += f"  ({self.note})"
        return out


def _gone(p: Process) -> bool:
    return p.state == EXITED


def for_process(p: Process) -> list[Source]:
    """Sources of what a process card shows."""
    if _gone(p):
        return _reaped(p)
    pid = p.pid
    out: list[Source] = []
    out.append(Source("pid", str(pid), "fork(2)'s return value in the parent; /proc/PID exists",
                      f"ls -d /proc/{pid}"))
    out.append(Source("parent", str(p.ppid), f"/proc/{pid}/stat field 4 (ppid)",
                      f"ps -o ppid= -p {pid}"))
    out.append(_state(p))
    if p.state == ZOMBIE:
        if p.exit is not None:
            out.append(Source("exit", p.exit.describe(),
                              f"/proc/{pid}/stat field 52 (exit_code, a wait status)",
                              f"cut -d' ' -f52 /proc/{pid}/stat"))
        return out
    return out + _alive(p)


def _reaped(p: Process) -> list[Source]:
    pid = p.pid
    out: list[Source] = []
    out.append(Source(
        "state", "exited", f"/proc/{pid} is gone (reaped)", f"ls /proc/{pid}",
        "prints 'No such file or directory': the parent has reaped it"))
    if p.exit is not None:
        out.append(Source(
            "exit", p.exit.describe(), "the status waitpid(2) returned to the parent "
            "(WIFEXITED/WEXITSTATUS, WIFSIGNALED/WTERMSIG)", None,
            "once reaped, no file shows it any more"))
    return out


def _state(p: Process) -> Source:
    pid = p.pid
    state = p.kernel_state or "?"
    how = {
        RUNNING: "R: running or runnable",
        BLOCKED: f"{state}: asleep inside a scenario system call (see syscall)",
        SLEEPING: f"{state}: asleep in read() on ipcviz's control socket, between steps",
        STOPPED: f"{state}: stopped by a signal or traced",
        ZOMBIE: "Z: exited, not yet reaped by its parent",
    }.get(p.state, state)
    return Source("state", f"{p.state} ({state})", f"/proc/{pid}/stat field 3: {how}",
                  f"ps -o stat= -p {pid}")


def arg_text(syscall: str | None, i: int, a: int) -> str:
    """Argument `i` of SYSCALL as a number: small ones and IPC ids (a semid, as ipcs and the
    object's panel print it) in decimal, the rest (addresses) in hex."""
    if a <= 0xFFFF or i in ID_ARGS.get(syscall or "", ()):
        return str(a)
    return hex(a)


def _alive(p: Process) -> list[Source]:
    """Sources of what a card shows of a process that has not ended."""
    pid = p.pid
    out: list[Source] = []
    if p.syscall or p.state in (BLOCKED, STOPPED):
        args = ", ".join(arg_text(p.syscall, i, a) for i, a in enumerate(p.syscall_args[:3]))
        out.append(Source(
            "syscall", f"{p.syscall}({args})" if p.syscall else "?",
            f"/proc/{pid}/syscall (number, then the arguments in hex)",
            f"cat /proc/{pid}/syscall", "the number is looked up in the syscall table: "
            "ausyscall NUMBER, or grep it in /usr/include/asm/unistd_64.h"))
    if p.wchan:
        out.append(Source("wchan", p.wchan, f"/proc/{pid}/wchan (the kernel function it sleeps in)",
                          f"cat /proc/{pid}/wchan; echo"))
    out.append(Source("fds", ", ".join(str(f.fd) for f in p.fds) or "none",
                      f"/proc/{pid}/fd (one symlink per open fd)", f"ls -l /proc/{pid}/fd",
                      "ipcviz's own control socket is hidden from the card"))
    for f in p.fds:
        if f.end is not None:
            out.extend(src for src in for_fd(p, f) if src.field.endswith("end"))
    if p.signals is not None:
        s = p.signals
        sets = [("pending", s.pending + s.shared_pending), ("blocked", s.blocked),
                ("caught", s.caught), ("ignored", s.ignored)]
        value = "; ".join(f"{label} {' '.join(names) or 'none'}" for label, names in sets)
        out.append(Source(
            "signals", f"{value}; queued {s.queued}/{s.queue_limit}",
            f"/proc/{pid}/status SigPnd ShdPnd SigBlk SigCgt SigIgn (hex masks: bit n-1 is "
            "signal n) and SigQ", f"grep Sig /proc/{pid}/status"))
    return out


def for_fd(p: Process, f: Fd) -> list[Source]:
    """Sources of one line of a process's fd table."""
    pid = p.pid
    out = [Source(f"fd {f.fd}", f.target, f"readlink /proc/{pid}/fd/{f.fd}",
                  f"readlink /proc/{pid}/fd/{f.fd}")]
    if f.end is not None and f.end not in ("read", "write"):
        # An end the object names by its fd target (a socketpair's a / b, a pty's master):
        # the access mode says nothing of it.
        out.append(Source(f"fd {f.fd} end", f"{f.end} end",
                          f"the object's own name for {f.target} (which end it is)",
                          f"readlink /proc/{pid}/fd/{f.fd}"))
    elif f.end is not None:
        out.append(Source(
            f"fd {f.fd} end", f"{f.end} end",
            f"/proc/{pid}/fdinfo/{f.fd} flags (access mode: 0 O_RDONLY = read end, "
            "1 O_WRONLY = write end)",
            f"grep flags /proc/{pid}/fdinfo/{f.fd}",
            "the flags are octal: look at the last digit"))
    return out


def for_object(o: ObjectState, holder: tuple[int, int] | None,
               pids: dict[str, int] | None = None) -> list[Source]:
    """Sources of what an object widget shows.

    holder: (pid, fd) the probe asked through (see holder_of); pids: process name -> PID,
    to give commands for the processes blocked on the object.
    """
    own = getattr(o, "sources", None)
    if callable(own):
        sources: list[Source] = own(pids or {}, holder)  # a mechanism's model names its own
        return sources
    return [Source(o.id, o.kind, "not probed yet for this kind of object", None)]


def holder_of(snapshot: Snapshot, o: ObjectState) -> tuple[int, int] | None:
    """(pid, fd) the probe asks an object's kernel state through, for kinds that have one
    (a pipe: see ipcviz.model.pipe.PipeState.holder); None for the others."""
    own = getattr(o, "holder", None)
    return own(snapshot) if callable(own) else None


def pipe_holder(snapshot: Snapshot, o: ObjectState) -> tuple[int, int] | None:
    """holder_of, by the name the pipe view and its tests know."""
    return holder_of(snapshot, o)


__all__ = ["Source", "for_fd", "for_object", "for_process", "holder_of", "pipe_holder"]
