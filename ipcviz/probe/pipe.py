"""The pipe's probe: fill and capacity through an end a scenario process holds; readers,
writers and blocked processes from the fd tables and system calls of all processes."""

from __future__ import annotations

from ..model.pipe import PipeState
from ..model.snapshot import BLOCKED, EXITED, ZOMBIE, Process
from .pipe_io import ProbeUnavailable, read_pipe
from .sampler import READ_CALLS, WRITE_CALLS


def ends_of(target: str, processes: tuple[Process, ...]):
    """(reader fds, writer fds, a live holder (pid, fd)) of the object behind `target`."""
    readers, writers, holder = [], [], None
    for p in processes:
        for f in p.fds:
            if f.target == target:
                (writers if f.end == "write" else readers).append(f"{p.name}:{f.fd}")
                if holder is None and p.state not in (ZOMBIE, EXITED):
                    holder = (p.pid, f.fd)
    return readers, writers, holder


def blocked_on(oid: str, processes: tuple[Process, ...], calls: frozenset[str]) -> tuple:
    return tuple(p.name for p in processes
                 if p.state == BLOCKED and p.waits_on == oid and p.syscall in calls)


def fill(sampler, holder) -> tuple[int | None, int | None]:
    """FIONREAD and F_GETPIPE_SZ through the holder's own file description (or unknown)."""
    if holder is None:
        return None, None
    try:
        return read_pipe(sampler.pidfds, *holder)
    except (ProbeUnavailable, OSError):
        return None, None


def probe_pipe(sampler, rec: dict, processes: tuple[Process, ...]) -> PipeState:
    oid, inode = rec["id"], rec.get("inode")
    readers, writers, holder = ends_of(f"pipe:[{inode}]", processes)
    nbytes, capacity = fill(sampler, holder)
    return PipeState(oid, "pipe", inode, nbytes, capacity, len(readers), len(writers),
                     tuple(readers), tuple(writers), blocked_on(oid, processes, READ_CALLS),
                     blocked_on(oid, processes, WRITE_CALLS))


PROBES = {"pipe": probe_pipe}
WAITS_ON: list = []  # a pipe call takes the fd: the sampler finds the object from it
