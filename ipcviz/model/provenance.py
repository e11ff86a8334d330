"""Where each number on the stage came from, and a command a student can type to see it.

The kernel is the source of truth (DESIGN.md).  For every field of a Snapshot that a view
shows, this module names the kernel interface the probe read it from and a shell command
that reads the same thing by hand, so a student can check the picture against the machine.

Pure: no textual or rich import, no I/O.  The Textual app and the headless report both use it.

    for_process(p)            -> [Source, ...]  pid, parent, state, syscall, wchan, fds, signals, exit
    for_fd(p, fd)             -> [Source, ...]  one fd table entry (target and, for pipes, its end)
    for_object(o, holder)     -> [Source, ...]  a kernel object; holder = (pid, fd) the probe asked through
    pipe_holder(snapshot, o)  -> (pid, fd) | None   the end the probe uses for a pipe (as the sampler does)
"""

from __future__ import annotations

from dataclasses import dataclass

from .snapshot import (
    BLOCKED,
    EXITED,
    RUNNING,
    SLEEPING,
    STOPPED,
    ZOMBIE,
    Fd,
    ObjectState,
    PipeState,
    Process,
    Snapshot,
)

F_GETPIPE_SZ = 1032  # fcntl(2): F_LINUX_SPECIFIC_BASE + 7
FIONREAD = 0x541B  # ioctl_tty(2) / asm-generic/ioctls.h: bytes available to read


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
    pid = p.pid
    out: list[Source] = []
    if _gone(p):
        out.append(Source(
            "state", "exited", f"/proc/{pid} is gone (reaped)", f"ls /proc/{pid}",
            "prints 'No such file or directory': the parent has reaped it"))
        if p.exit is not None:
            out.append(Source(
                "exit", p.exit.describe(), "the status waitpid(2) returned to the parent "
                "(WIFEXITED/WEXITSTATUS, WIFSIGNALED/WTERMSIG)", None,
                "once reaped, no file shows it any more"))
        return out
    out.append(Source("pid", str(pid), "fork(2)'s return value in the parent; /proc/PID exists",
                      f"ls -d /proc/{pid}"))
    out.append(Source("parent", str(p.ppid), f"/proc/{pid}/stat field 4 (ppid)",
                      f"ps -o ppid= -p {pid}"))
    state = p.kernel_state or "?"
    how = {
        RUNNING: "R: running or runnable",
        BLOCKED: f"{state}: asleep inside a scenario system call (see syscall)",
        SLEEPING: f"{state}: asleep in read() on ipcviz's control socket, between steps",
        STOPPED: f"{state}: stopped by a signal or traced",
        ZOMBIE: "Z: exited, not yet reaped by its parent",
    }.get(p.state, state)
    out.append(Source("state", f"{p.state} ({state})", f"/proc/{pid}/stat field 3: {how}",
                      f"ps -o stat= -p {pid}"))
    if p.state == ZOMBIE:
        if p.exit is not None:
            out.append(Source("exit", p.exit.describe(),
                              f"/proc/{pid}/stat field 52 (exit_code, a wait status)",
                              f"cut -d' ' -f52 /proc/{pid}/stat"))
        return out
    if p.syscall or p.state in (BLOCKED, STOPPED):
        args = ", ".join(str(a) if a <= 0xFFFF else hex(a) for a in p.syscall_args[:3])
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
    if f.end is not None:
        out.append(Source(
            f"fd {f.fd} end", f"{f.end} end",
            f"/proc/{pid}/fdinfo/{f.fd} flags (access mode: 0 O_RDONLY = read end, "
            "1 O_WRONLY = write end)",
            f"grep flags /proc/{pid}/fdinfo/{f.fd}",
            "the flags are octal: look at the last digit"))
    return out


def pipe_holder(snapshot: Snapshot, o: PipeState) -> tuple[int, int] | None:
    """(pid, fd) of the first live scenario process holding an end of the pipe.

    The same choice as the probe (ipcviz.probe.sampler): the fill is asked through it.
    """
    if o.inode is None:
        return None
    target = f"pipe:[{o.inode}]"
    for p in snapshot.processes:
        if p.state in (ZOMBIE, EXITED):
            continue
        for f in p.fds:
            if f.target == target:
                return (p.pid, f.fd)
    return None


def _pipe_python(pid: int, fd: int, what: str) -> str:
    """A one-line python3 command asking FIONREAD or F_GETPIPE_SZ through /proc/PID/fd/N."""
    open_ = f'os.open("/proc/{pid}/fd/{fd}", os.O_RDONLY|os.O_NONBLOCK)'
    if what == "bytes":
        return ("python3 -c 'import fcntl,os,struct; "
                f"fd={open_}; "
                f"print(struct.unpack(\"i\", fcntl.ioctl(fd, {FIONREAD:#x}, bytes(4)))[0])'")
    return f"python3 -c 'import fcntl,os; print(fcntl.fcntl({open_}, {F_GETPIPE_SZ}))'"


_OPEN_NOTE = ("opening /proc/PID/fd/N makes a new open file: for that moment the pipe has one "
              "more reader (ipcviz itself borrows the process's own end with pidfd_getfd, "
              "which adds none)")


def for_object(o: ObjectState, holder: tuple[int, int] | None,
               pids: dict[str, int] | None = None) -> list[Source]:
    """Sources of what an object widget shows.

    holder: (pid, fd) the probe asked through (see pipe_holder); pids: process name -> PID,
    to give commands for the processes blocked on the object.
    """
    if isinstance(o, PipeState):
        return _for_pipe(o, holder, pids or {})
    own = getattr(o, "sources", None)
    if callable(own):
        return own(pids or {})  # a mechanism's model names its own sources
    return [Source(o.id, o.kind, "not probed yet for this kind of object", None)]


def _for_pipe(o: PipeState, holder: tuple[int, int] | None,
              pids: dict[str, int]) -> list[Source]:
    out: list[Source] = []
    if o.inode is not None:
        cmd = f"readlink /proc/{holder[0]}/fd/{holder[1]}" if holder else None
        out.append(Source("inode", str(o.inode),
                          "the pipe:[INODE] name of the fds (readlink /proc/PID/fd/N)", cmd))
    if holder is None:
        out.append(Source("bytes", "unknown", "no live scenario process holds an end of it",
                          None, "nobody can ask the kernel any more: the pipe is gone"))
    else:
        pid, fd = holder
        out.append(Source(
            "bytes", "?" if o.bytes is None else str(o.bytes),
            f"ioctl(FIONREAD) through pidfd_getfd on {pid}'s fd {fd}",
            _pipe_python(pid, fd, "bytes"), _OPEN_NOTE))
        out.append(Source(
            "capacity", "?" if o.capacity is None else str(o.capacity),
            f"fcntl(F_GETPIPE_SZ) through pidfd_getfd on {pid}'s fd {fd}",
            _pipe_python(pid, fd, "capacity"), _OPEN_NOTE))
    find = (f"find /proc/[0-9]*/fd -lname 'pipe:\\[{o.inode}\\]' -printf '%p\\n' 2>/dev/null"
            if o.inode is not None else None)
    out.append(Source(
        "readers", f"{o.readers} ({', '.join(o.reader_fds) or 'none'})",
        "every scenario fd on pipe:[INODE] whose fdinfo flags open it for reading",
        find, "then grep flags /proc/PID/fdinfo/N for each: last octal digit 0 = read end"))
    out.append(Source(
        "writers", f"{o.writers} ({', '.join(o.writer_fds) or 'none'})",
        "every scenario fd on pipe:[INODE] whose fdinfo flags open it for writing",
        find, "last octal digit of flags 1 = write end"))
    for label, names in (("blocked readers", o.blocked_readers),
                         ("blocked writers", o.blocked_writers)):
        known = [pids[n] for n in names if n in pids]
        cmd = "; ".join(f"cat /proc/{pid}/syscall /proc/{pid}/wchan; echo" for pid in known)
        out.append(Source(
            label, ", ".join(names) or "none",
            "processes asleep (stat S/D) in read()/write() on an fd of this pipe: "
            "/proc/PID/syscall (number and fd) and /proc/PID/wchan",
            cmd or None, None if cmd else "nobody is asleep on it now"))
    return out


__all__ = ["Source", "for_fd", "for_object", "for_process", "pipe_holder"]
