"""Builds the processes and objects of a Snapshot from what the kernel says right now."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..model.snapshot import (
    BLOCKED,
    EXITED,
    RUNNING,
    SLEEPING,
    STOPPED,
    ZOMBIE,
    Exit,
    Fd,
    ObjectState,
    PipeState,
    Process,
    Signals,
)
from ..runtime.protocol import CONTROL_FD
from ..scenario.actions import signal_name
from . import procfs, syscalls
from .pipe import PidFds, ProbeUnavailable, read_pipe

# Calls that take an fd as first argument: a process asleep in one waits on that fd's object.
FD_CALLS = frozenset(
    {"read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg",
     "mq_timedsend", "mq_timedreceive", "ioctl", "fcntl", "lseek"}
)
READ_CALLS = frozenset({"read", "readv", "recvfrom", "recvmsg"})
WRITE_CALLS = frozenset({"write", "writev", "sendto", "sendmsg"})


@dataclass
class Tracked:
    """What the runtime knows of a scenario process beyond the kernel's word."""

    name: str
    pid: int
    parent: str | None
    exit: Exit | None = None  # from a waitpid status (a wait step, or the runner's reaping)
    reaped: bool = False
    step: int | None = None  # last step it began
    ppid: int = 0  # last parent pid the kernel showed (kept after the process is gone)


def exit_from_status(status: int) -> Exit:
    if os.WIFSIGNALED(status):
        return Exit(None, signal_name(os.WTERMSIG(status)), bool(os.WCOREDUMP(status)))
    if os.WIFEXITED(status):
        return Exit(os.WEXITSTATUS(status))
    return Exit(None)


@dataclass
class Sampler:
    pidfds: PidFds = field(default_factory=PidFds)
    machine: str | None = None
    procdirs: dict[int, procfs.ProcDir] = field(default_factory=dict)
    fd_cache: dict[int, tuple[tuple, tuple[Fd, ...]]] = field(default_factory=dict)

    def close(self) -> None:
        self.pidfds.close()
        for pid in list(self.procdirs):
            self._forget(pid)

    # -- processes ----------------------------------------------------------------------

    def process(self, t: Tracked, objects_by_inode: dict[int, str]) -> Process:
        if t.reaped:
            self._forget(t.pid)
            return Process(t.name, t.pid, t.ppid, t.parent, EXITED, exit=t.exit, step=t.step)
        try:
            pd = self._procdir(t.pid)
            stat = procfs.parse_stat(pd.read("stat"))
        except procfs.NoSuchProcess:
            self._forget(t.pid)
            return Process(t.name, t.pid, t.ppid, t.parent, EXITED, exit=t.exit, step=t.step)
        t.ppid = stat.ppid
        letter = stat.state
        if letter == "Z":
            ex = exit_from_status(stat.exit_code) if stat.exit_code is not None else t.exit
            return Process(t.name, t.pid, stat.ppid, t.parent, ZOMBIE, exit=ex, step=t.step,
                           kernel_state=letter)
        try:
            # A process's fd table changes only through its own calls, i.e. its own steps:
            # it is read again whenever the process began another step (or the scenario's
            # objects changed), not at every sample.
            key = (t.step, len(objects_by_inode))
            cached = self.fd_cache.get(t.pid)
            if cached is not None and cached[0] == key:
                fds = cached[1]
            else:
                fds = self.fds(pd, objects_by_inode)
                self.fd_cache[t.pid] = (key, fds)
            sig = procfs.parse_status_signals(pd.read("status"))
            wchan = procfs.parse_wchan(pd.read("wchan"))
            sc = procfs.parse_syscall(pd.read("syscall"))
        except procfs.NoSuchProcess:
            return Process(t.name, t.pid, stat.ppid, t.parent, EXITED, exit=t.exit, step=t.step)
        signals = Signals(
            pending=procfs.names(sig.pending),
            shared_pending=procfs.names(sig.shared_pending),
            blocked=procfs.names(sig.blocked),
            ignored=procfs.names(sig.ignored),
            caught=procfs.names(sig.caught),
            queued=sig.queued,
            queue_limit=sig.queue_limit,
        )
        syscall_name = syscalls.name(sc.number, self.machine)
        waits_on = None
        if letter in ("T", "t"):
            state = STOPPED
        elif letter == "R" or sc.running:
            state = RUNNING
            syscall_name = None
        elif syscall_name in READ_CALLS and sc.args and sc.args[0] == CONTROL_FD:
            state = SLEEPING  # idle: waiting for its next step on ipcviz's control socket
            syscall_name = None
        else:
            state = BLOCKED
            if syscall_name in FD_CALLS and sc.args:
                fd = next((f for f in fds if f.fd == sc.args[0]), None)
                waits_on = fd.object if fd else None
        return Process(
            t.name, t.pid, stat.ppid, t.parent, state,
            syscall=syscall_name if state in (BLOCKED, STOPPED) else None,
            syscall_args=sc.args if state in (BLOCKED, STOPPED) else (),
            wchan=wchan, waits_on=waits_on, fds=fds, signals=signals, exit=None, step=t.step,
            kernel_state=letter,
        )

    def fds(self, pd: procfs.ProcDir, objects_by_inode: dict[int, str]) -> tuple[Fd, ...]:
        out = []
        for num, target in sorted(procfs.read_fds_at(pd).items()):
            if num == CONTROL_FD:
                continue  # ipcviz's own control socket, not part of the lesson
            obj = end = None
            ino = procfs.pipe_inode(target)
            if ino is not None:
                obj = objects_by_inode.get(ino)
                try:
                    flags = procfs.parse_fdinfo_flags(pd.read(f"fdinfo/{num}"))
                except procfs.NoSuchProcess:
                    flags = None
                end = procfs.access_mode_end(flags)
            out.append(Fd(num, target, obj, end))
        return tuple(out)

    def _procdir(self, pid: int) -> procfs.ProcDir:
        pd = self.procdirs.get(pid)
        if pd is None:
            pd = self.procdirs[pid] = procfs.ProcDir(pid)
        return pd

    def _forget(self, pid: int) -> None:
        self.pidfds.forget(pid)
        self.fd_cache.pop(pid, None)
        pd = self.procdirs.pop(pid, None)
        if pd is not None:
            pd.close()

    # -- objects ------------------------------------------------------------------------

    def pipe(self, oid: str, inode: int | None, processes: tuple[Process, ...]) -> PipeState:
        readers, writers, holder = [], [], None
        for p in processes:
            for f in p.fds:
                if inode is not None and f.target == f"pipe:[{inode}]":
                    (writers if f.end == "write" else readers).append(f"{p.name}:{f.fd}")
                    if holder is None and p.state not in (ZOMBIE, EXITED):
                        holder = (p.pid, f.fd)
        nbytes = capacity = None
        if holder is not None:
            try:
                nbytes, capacity = read_pipe(self.pidfds, *holder)
            except (ProbeUnavailable, OSError):
                pass
        blocked_r = tuple(p.name for p in processes
                          if p.state == BLOCKED and p.waits_on == oid and p.syscall in READ_CALLS)
        blocked_w = tuple(p.name for p in processes
                          if p.state == BLOCKED and p.waits_on == oid and p.syscall in WRITE_CALLS)
        return PipeState(oid, "pipe", inode, nbytes, capacity, len(readers), len(writers),
                         tuple(readers), tuple(writers), blocked_r, blocked_w)

    def sample(self, tracked: list[Tracked], objects: list[tuple[str, str, int | None]]
               ) -> tuple[tuple[Process, ...], tuple[ObjectState, ...]]:
        """objects: (id, kind, inode or None) of every scenario object created so far."""
        by_inode = {ino: oid for oid, kind, ino in objects if ino is not None}
        processes = tuple(self.process(t, by_inode) for t in tracked)
        objs: list[ObjectState] = []
        for oid, kind, ino in objects:
            if kind == "pipe":
                objs.append(self.pipe(oid, ino, processes))
            else:
                objs.append(ObjectState(oid, kind))
        return processes, tuple(objs)
