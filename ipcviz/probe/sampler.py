"""Builds the processes and objects of a Snapshot from what the kernel says right now."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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
    Process,
    Signals,
)
from ..reserved import CONTROL_FD
from ..scenario.actions import signal_name
from . import kinds, procfs, syscalls
from .pipe_io import PidFds

# Calls that take an fd as first argument: a process asleep in one waits on that fd's object.
FD_CALLS = frozenset(
    {"read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg",
     "mq_timedsend", "mq_timedreceive", "ioctl", "fcntl", "lseek", "accept", "accept4",
     "connect"}
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


def _paths_unchanged(pd: procfs.ProcDir, fds: tuple[Fd, ...]) -> bool:
    """Every fd on a named object of the lesson still reads the same through readlink.

    Once *another* process unlinks a name, the holder's link reads "PATH (deleted)".  A
    pipe's link ("pipe:[INODE]") never changes while the fd stays open, and no step touches
    the paths of the fds ipcviz set up (stdin /dev/null, stdout and stderr to the run's
    log), so only the links to the lesson's named objects are read again: three readlinks
    more per process and sample would cost the 64-process probe about 3 % of a core.
    """
    return all(procfs.read_fd_link(pd, f.fd) == f.target
               for f in fds if f.object is not None and f.target.startswith("/"))


@dataclass
class Sampler:
    pidfds: PidFds = field(default_factory=PidFds)
    machine: str | None = None
    procdirs: dict[int, procfs.ProcDir] = field(default_factory=dict)
    fd_cache: dict[int, tuple[tuple[object, ...], tuple[Fd, ...]]] = field(default_factory=dict)
    signal_cache: dict[str, Signals] = field(default_factory=dict)
    fd_ends: dict[str, str] = field(default_factory=dict)  # fd target -> end, if an object says
    records: list[dict[str, Any]] = field(default_factory=list)  # of the sample in progress
    # A program ipcviz did not start (attach --watch): all its fds are its own (no control
    # socket at 900), and it runs freely while it is probed, so no read end of its pipes is
    # borrowed while a writer may still write (see probe/pipe.py).
    foreign: bool = False
    # In lessons, fds >= 900 are ipcviz's own (control socket, signal wake-up pipe) and
    # hidden; a traced or attached program has no such fds: every fd is its own.
    hide_control_fds: bool = True
    # A probe's own memo between samples (an inode seen, fdinfo flags, a maps text), by a
    # name the probe chooses: see cache()
    caches: dict[str, dict[Any, Any]] = field(default_factory=dict)

    def cache(self, name: str) -> dict[Any, Any]:
        """The memo NAME of a probe, kept while this sampler lives."""
        return self.caches.setdefault(name, {})

    def close(self) -> None:
        self.pidfds.close()
        for pid in list(self.procdirs):
            self._forget(pid)

    # -- processes ----------------------------------------------------------------------

    def process(self, t: Tracked, targets: dict[str, str],
                records: Sequence[dict[str, Any]] = ()) -> Process:
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
                           kernel_state=letter, pgid=stat.pgid, sid=stat.sid)
        try:
            sc = procfs.parse_syscall(pd.read("syscall"))
            fds = self._fds_cached(t, pd, sc, targets)
            signals = self._signals(pd.read("status"))
            wchan = procfs.parse_wchan(pd.read("wchan"))
        except procfs.NoSuchProcess:
            return Process(t.name, t.pid, stat.ppid, t.parent, EXITED, exit=t.exit, step=t.step)
        syscall_name = syscalls.name(sc.number, self.machine)
        waits_on = None
        if letter in ("T", "t"):
            state = STOPPED
        elif letter == "R" or sc.running:
            state = RUNNING
            syscall_name = None
        elif syscall_name in READ_CALLS and sc.args and sc.args[0] == CONTROL_FD \
                and not self.foreign and self.hide_control_fds:
            state = SLEEPING  # idle: waiting for its next step on ipcviz's control socket
            syscall_name = None
        else:
            state = BLOCKED
            waits_on = _waits_on(syscall_name, sc.args, fds, records, t.pid)
        return Process(
            t.name, t.pid, stat.ppid, t.parent, state,
            syscall=syscall_name if state in (BLOCKED, STOPPED) else None,
            syscall_args=sc.args if state in (BLOCKED, STOPPED) else (),
            wchan=wchan, waits_on=waits_on, fds=fds, signals=signals, exit=None, step=t.step,
            kernel_state=letter, pgid=stat.pgid, sid=stat.sid,
        )

    def _fds_cached(self, t: Tracked, pd: procfs.ProcDir, sc: procfs.SyscallState,
                    targets: dict[str, str]) -> tuple[Fd, ...]:
        # A process's fd table changes only through its own calls, i.e. its own steps:
        # it is read again whenever the process began another step, went idle again
        # (a blocked open() that returned later), or the scenario's objects changed --
        # not at every sample.  But the text of a link to a named object changes with no
        # call of the holder (another process unlinks it): those are re-read.
        if self.foreign:
            return self.fds(pd, targets)  # no steps to key a cache on: read it every time
        idle = (not sc.running and sc.args[:1] == (CONTROL_FD,)
                and syscalls.name(sc.number, self.machine) in READ_CALLS)
        key = (t.step, idle, len(targets))
        cached = self.fd_cache.get(t.pid)
        if cached is not None and cached[0] == key and _paths_unchanged(pd, cached[1]):
            return cached[1]
        fds = self.fds(pd, targets)
        self.fd_cache[t.pid] = (key, fds)
        return fds

    def fds(self, pd: procfs.ProcDir, targets: dict[str, str]) -> tuple[Fd, ...]:
        out = []
        for num, target in sorted(procfs.read_fds_at(pd).items()):
            if num >= CONTROL_FD and not self.foreign and self.hide_control_fds:
                continue  # ipcviz's own: control socket (900), signal wake-up pipe (901, 902)
            obj = targets.get(target)
            end = None
            flags = None
            if obj is not None:
                try:
                    flags = procfs.parse_fdinfo_flags(pd.read(f"fdinfo/{num}"))
                except procfs.NoSuchProcess:
                    flags = None
            if obj is not None and target in self.fd_ends:
                end = self.fd_ends[target]  # the object names its sides (a pty's master)
            elif obj is not None:
                end = procfs.access_mode_end(flags)
            out.append(Fd(num, target, obj, end, bool(flags and flags & os.O_CLOEXEC)))
        return tuple(out)

    def _signals(self, status: str) -> Signals:
        """Signals of /proc/PID/status; the same Sig* lines give the same (cached) value."""
        start = status.find("SigQ:")
        end = status.find("\n", status.find("SigCgt:"))
        key = status[start:end]
        cached = self.signal_cache.get(key)
        if cached is None:
            sig = procfs.parse_status_signals(key)
            cached = Signals(
                pending=procfs.names(sig.pending),
                shared_pending=procfs.names(sig.shared_pending),
                blocked=procfs.names(sig.blocked),
                ignored=procfs.names(sig.ignored),
                caught=procfs.names(sig.caught),
                queued=sig.queued,
                queue_limit=sig.queue_limit,
            )
            if len(self.signal_cache) > 4096:
                self.signal_cache.clear()
            self.signal_cache[key] = cached
        return cached

    # -- quick looks (the conductor polls these every millisecond while a step settles) --

    def stat(self, pid: int) -> procfs.Stat:
        """/proc/PID/stat through the kept ProcDir: a pread, no path lookup, no open."""
        return procfs.parse_stat(self._kept(pid, "stat"))

    def syscall(self, pid: int) -> procfs.SyscallState:
        """/proc/PID/syscall through the kept ProcDir."""
        return procfs.parse_syscall(self._kept(pid, "syscall"))

    def status_signals(self, pid: int) -> procfs.SignalStatus:
        """The signal sets of /proc/PID/status through the kept ProcDir."""
        return procfs.parse_status_signals(self._kept(pid, "status"))

    def _kept(self, pid: int, name: str) -> str:
        try:
            return self._procdir(pid).read(name)
        except procfs.NoSuchProcess:
            self._forget(pid)  # that process is gone: its fds are closed
            raise

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

    def sample(self, tracked: list[Tracked], records: list[dict[str, Any]]
               ) -> tuple[tuple[Process, ...], tuple[ObjectState, ...]]:
        """records: every scenario object created so far, as its worker reported it."""
        kinds.load_all()
        targets = {t: r["id"] for r in records for t in r.get("fd_targets", ())}
        self.fd_ends = {t: e for r in records for t, e in r.get("fd_ends", {}).items()}
        processes = tuple(self.process(t, targets, records) for t in tracked)
        self.records = records  # for probes that relate objects (a deadlock spans semaphores)
        objs: list[ObjectState] = []
        for rec in records:
            probe = kinds.PROBES.get(rec["kind"])
            objs.append(probe(self, rec, processes) if probe else ObjectState(rec["id"],
                                                                               rec["kind"]))
        return processes, tuple(objs)


def _waits_on(syscall_name: str | None, args: tuple[int, ...], fds: tuple[Fd, ...],
              records: Sequence[dict[str, Any]], pid: int) -> str | None:
    """The object a process blocked in SYSCALL_NAME(ARGS) waits on, if one is known."""
    if syscall_name in FD_CALLS and args:
        fd = next((f for f in fds if f.fd == args[0]), None)
        return fd.object if fd else None
    for resolve in kinds.WAITS_ON:
        waits_on = resolve(syscall_name, args, fds, records, pid)
        if waits_on:
            return waits_on
    return None
