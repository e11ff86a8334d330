"""The pipe's probe: fill and capacity through an end a scenario process holds; the first
bytes in the buffer through a read end one holds (tee(2), nothing consumed); readers,
writers and blocked processes from the fd tables and system calls of all processes."""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from ..kernel import PIPE_MAX_SIZE

from ..model.pipe import NO_READER, UNKNOWN_FILL, PipeState
from ..model.snapshot import BLOCKED, EXITED, ZOMBIE, Process
from .pipe_io import ProbeUnavailable, peek_pipe, read_pipe
from .procfs import parse_fdinfo_flags
from .sampler import READ_CALLS, WRITE_CALLS

if TYPE_CHECKING:
    from .kinds import Record
    from .kinds import WaitsOn
    from .sampler import Sampler


def ends_of(target: str, processes: tuple[Process, ...]
            ) -> tuple[list[str], list[str], tuple[int, int] | None]:
    """(reader fds, writer fds, a live holder (pid, fd)) of the object behind `target`."""
    readers: list[str] = []
    writers: list[str] = []
    holder = None
    for p in processes:
        for f in p.fds:
            if f.target == target:
                (writers if f.end == "write" else readers).append(f"{p.name}:{f.fd}")
                if holder is None and p.state not in (ZOMBIE, EXITED):
                    holder = (p.pid, f.fd)
    return readers, writers, holder


def read_end_of(target: str, processes: tuple[Process, ...], end: str = "read"
                ) -> tuple[int, int] | None:
    """(pid, fd) of a read end (or END) of `target` that a live scenario process holds."""
    for p in processes:
        if p.state in (ZOMBIE, EXITED):
            continue
        for f in p.fds:
            if f.target == target and f.end == end:
                return p.pid, f.fd
    return None


def foreign_ends(target: str, processes: tuple[Process, ...], writers: int, fifo: bool
                 ) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """(end to ask fill through, read end to tee from) of a program that runs freely
    (attach --watch): a borrowed write end can only delay an EOF by the microseconds it is
    held (the reader wakes when we close it); a borrowed read end could let a write succeed
    that would have met EPIPE, so one is used only when no writer exists, and never for a
    FIFO (a writer may open it any time)."""
    reader = None if writers or fifo else read_end_of(target, processes)
    return read_end_of(target, processes, "write") or reader, reader


def contents(sampler: Sampler, reader: tuple[int, int] | None, nbytes: int | None
             ) -> tuple[str | None, str | None]:
    """(hex of the first bytes in the buffer, None) or (None, why they are unknown).

    The reason is a code the views translate: "no-reader" (no live process holds a read
    end to tee from), "unknown-fill", or "tee: <errno name>".
    """
    if reader is None:
        return None, NO_READER
    if nbytes is None:
        return None, UNKNOWN_FILL
    if nbytes == 0:
        return "", None  # FIONREAD said empty: nothing to copy, no call needed
    try:
        return peek_pipe(sampler.pidfds, *reader).hex(), None
    except OSError as err:  # what the kernel said, not a guess at why
        said = str(err.strerror or "")
        call = said.split(":", 1)[0] if said.startswith(("pidfd_open:", "pidfd_getfd:")) \
            else "tee"
        return None, f"{call}: {errno.errorcode.get(err.errno or 0, err.errno)}"  # 0: no code


def blocked_on(oid: str, processes: tuple[Process, ...], calls: frozenset[str]) -> tuple[str, ...]:
    return tuple(p.name for p in processes
                 if p.state == BLOCKED and p.waits_on == oid and p.syscall in calls)


def fill(sampler: Sampler, holder: tuple[int, int] | None) -> tuple[int | None, int | None]:
    """FIONREAD and F_GETPIPE_SZ through the holder's own file description (or unknown)."""
    if holder is None:
        return None, None
    try:
        return read_pipe(sampler.pidfds, *holder)
    except (ProbeUnavailable, OSError):
        return None, None


def max_capacity() -> int | None:
    """/proc/sys/fs/pipe-max-size: F_SETPIPE_SZ's cap without CAP_SYS_RESOURCE."""
    try:
        with open(PIPE_MAX_SIZE, "rb") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def nonblocking(sampler: Sampler, target: str, processes: tuple[Process, ...]
                ) -> tuple[str, ...]:
    """"name:fd" of every end of `target` whose open file description has O_NONBLOCK
    (the flags: field of /proc/PID/fdinfo/N; reading it changes nothing).  The flags change
    only through a call of a process that shares the description, so each is read again
    only when some process began another step or changed state."""
    cache: dict[tuple[int, int], tuple[object, bool]] = \
        sampler.cache("nonblock_cache")
    moment = tuple((p.pid, p.step, p.state) for p in processes)
    out = []
    for p in processes:
        if p.state in (ZOMBIE, EXITED):
            continue
        for f in p.fds:
            if f.target != target:
                continue
            hit = cache.get((p.pid, f.fd))
            if hit is None or hit[0] != moment:
                hit = (moment, _has_nonblock(p.pid, f.fd))
                cache[(p.pid, f.fd)] = hit
            if hit[1]:
                out.append(f"{p.name}:{f.fd}")
    return tuple(out)


def _has_nonblock(pid: int, fd: int) -> bool:
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", "rb") as f:
            flags = parse_fdinfo_flags(f.read().decode("ascii", "replace"))
    except OSError:
        return False
    return flags is not None and bool(flags & os.O_NONBLOCK)


def probe_pipe(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> PipeState:
    oid, inode = rec["id"], rec.get("inode")
    target = f"pipe:[{inode}]"
    readers, writers, holder = ends_of(target, processes)
    reader = read_end_of(target, processes)
    if sampler.foreign:
        holder, reader = foreign_ends(target, processes, len(writers), False)
    nbytes, capacity = fill(sampler, holder)
    data, missing = contents(sampler, reader, nbytes)
    return PipeState(oid, "pipe", inode, nbytes, capacity, len(readers), len(writers),
                     tuple(readers), tuple(writers), blocked_on(oid, processes, READ_CALLS),
                     blocked_on(oid, processes, WRITE_CALLS), data, missing,
                     max_capacity(), nonblocking(sampler, target, processes))


PROBES = {"pipe": probe_pipe}
# a pipe call takes the fd: the sampler finds the object from it
WAITS_ON: list[WaitsOn] = []
