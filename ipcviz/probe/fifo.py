"""The FIFO's probe.

It never opens the FIFO: opening it for reading would be the partner that a process asleep
in open(O_WRONLY) waits for (and the other way round), and would add a reader or a writer.
What it reads instead:
  * the name: os.lstat(path) -- file type p, size 0, mode, inode (stat opens nothing);
  * the buffer: FIONREAD and F_GETPIPE_SZ through an fd a scenario process already holds
    (pidfd_getfd, as for pipes); with no such fd there is no buffer to ask about;
  * readers and writers: the fd tables of the processes (a FIFO's fd readlinks to its path);
  * who sleeps in open() of it: /proc/PID/syscall shows openat(AT_FDCWD, ptr, flags) and
    /proc/PID/wchan wait_for_partner; the path at ptr is read from /proc/PID/mem and
    matched against the FIFOs of the run (no match, or no access: not named).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..model.fifo import FifoState
from ..model.snapshot import BLOCKED, Process
from .pipe import blocked_on, ends_of, fill, foreign_ends
from .sampler import READ_CALLS, WRITE_CALLS

if TYPE_CHECKING:
    from ..model.snapshot import Fd
    from .kinds import Record
    from .sampler import Sampler

OPEN_CALLS = frozenset({"openat", "open"})
# AT_FDCWD (-100) as /proc/PID/syscall prints it: an int, so 0xffffff9c (the low 32 bits
# of the register); compared on the low 32 bits in case a libc sign-extends it.
AT_FDCWD = 0xFFFFFF9C
PATH_MAX = 4096


def read_user_string(pid: int, addr: int, limit: int = PATH_MAX) -> str | None:
    """A NUL-terminated string at `addr` in the memory of `pid` (None if unreadable)."""
    if not addr:
        return None
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        out = b""
        while len(out) < limit:
            n = 4096 - (addr + len(out)) % 4096  # never read across into the next page
            chunk = os.pread(fd, n, addr + len(out))
            if not chunk:
                return None
            end = chunk.find(b"\0")
            if end >= 0:
                return os.fsdecode(out + chunk[:end])
            out += chunk
        return None
    except OSError:
        return None
    finally:
        os.close(fd)


def open_path_of(pid: int, syscall_name: str, args: tuple[int, ...]) -> str | None:
    """The absolute path a process asleep in open()/openat() is opening."""
    if syscall_name == "openat" and len(args) > 1:
        dirfd, ptr = args[0], args[1]
    elif syscall_name == "open" and args:
        dirfd, ptr = AT_FDCWD, args[0]
    else:
        return None
    path = read_user_string(pid, ptr)
    if path is None:
        return None
    if not path.startswith("/"):
        try:
            base = os.readlink(f"/proc/{pid}/cwd" if dirfd & 0xFFFFFFFF == AT_FDCWD
                               else f"/proc/{pid}/fd/{dirfd}")
        except OSError:
            return None
        path = os.path.join(base, path)
    return os.path.normpath(path)


def fifo_waits_on(syscall_name: str | None, args: tuple[int, ...], fds: tuple[Fd, ...],
                  records: Sequence[Record], pid: int) -> str | None:
    if syscall_name not in OPEN_CALLS or pid is None:
        return None
    fifos = [r for r in records if r.get("kind") == "fifo"]
    if not fifos:
        return None
    path = open_path_of(pid, syscall_name, tuple(args))
    return next((r["id"] for r in fifos if r.get("path") == path), None)




def open_mode(p: Process) -> str | None:
    """"read" / "write" from the flags argument of the open() the process sleeps in."""
    i = 2 if p.syscall == "openat" else 1
    if len(p.syscall_args) <= i:
        return None
    acc = p.syscall_args[i] & os.O_ACCMODE
    return {os.O_RDONLY: "read", os.O_WRONLY: "write"}.get(acc, "read-write")


def probe_fifo(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> FifoState:
    oid, path = rec["id"], rec.get("path", "")
    try:
        st = os.lstat(path)
        exists = True
        ftype = "p" if stat.S_ISFIFO(st.st_mode) else stat.filemode(st.st_mode)[0]
        size, mode, inode = st.st_size, f"{stat.S_IMODE(st.st_mode):04o}", st.st_ino
    except OSError:
        exists, ftype, size, mode, inode = False, None, None, None, None
    readers, writers, holder = [], [], None
    for target in rec.get("fd_targets", (path,)):
        r, w, h = ends_of(target, processes)
        readers += r
        writers += w
        if sampler.foreign:
            h = foreign_ends(target, processes, len(w), True)[0]
        holder = holder or h
    nbytes, capacity = fill(sampler, holder)
    opening = [p for p in processes
               if p.state == BLOCKED and p.waits_on == oid and p.syscall in OPEN_CALLS]
    return FifoState(
        oid, "fifo", path, exists, ftype, size, mode, inode, nbytes, capacity,
        len(readers), len(writers), tuple(readers), tuple(writers),
        blocked_on(oid, processes, READ_CALLS), blocked_on(oid, processes, WRITE_CALLS),
        tuple(p.name for p in opening if open_mode(p) == "read"),
        tuple(p.name for p in opening if open_mode(p) == "write"),
    )


PROBES = {"fifo": probe_fifo}
WAITS_ON = [fifo_waits_on]
