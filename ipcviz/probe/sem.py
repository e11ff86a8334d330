"""Semaphores: values and waiters from the kernel; holders inferred from the steps.

* POSIX named: the value with sem_getvalue() through the probe's own sem_open() of the
  name (no O_CREAT; opening a named semaphore changes nothing: no count, no waiter), closed
  at once.  Waiters: processes asleep in futex() whose address (first argument in
  /proc/PID/syscall) lies inside *their own* mapping of /dev/shm/sem.NAME (matched by
  device and inode in /proc/PID/maps: glibc creates the file under a temporary name, so the
  creator's mapping shows another path).  The kernel keeps no count of them for us.
* System V: semctl GETVAL, GETNCNT (semncnt), GETZCNT (semzcnt), GETPID (sempid) by id;
  waiters: processes asleep in semop/semtimedop with this semid as first argument.
  SEM_UNDO adjustments (semadj) are not shown by any /proc file: inferred from the steps.
* Holders: inferred from the lesson's own steps (a wait that returned and was not posted);
  a holder that died keeps its unit unless its wait used SEM_UNDO.
* Deadlock: a cycle in "P waits on S" (kernel) → "S is held by Q" (inferred).
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import posix_ipc

from ..model.sem import SemState
from ..model.snapshot import BLOCKED, EXITED, ZOMBIE, Process
from .shm import dev_text, parse_maps

if TYPE_CHECKING:
    from ..model.snapshot import Fd
    from .kinds import Record
    from .sampler import Sampler

GETPID, GETVAL, GETNCNT, GETZCNT = 11, 12, 14, 15
_libc = ctypes.CDLL(None, use_errno=True)
_libc.semctl.restype = ctypes.c_int


def semctl_read(semid: int, cmd: int) -> int:
    r: int = _libc.semctl(ctypes.c_int(semid), ctypes.c_int(0), ctypes.c_int(cmd))
    if r < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return r


def _our_file(path: str) -> tuple[int, int] | None:
    """(dev, inode) of /dev/shm/sem.NAME if it is a file of ours (not a link, 0600)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        return None
    return st.st_dev, st.st_ino


def posix_value(name: str) -> int | None:
    """sem_getvalue through our own sem_open of the name; None if the name is gone (or
    is now another user's semaphore: its file is checked before and after the open)."""
    path = f"/dev/shm/sem.{name.lstrip('/')}"
    before = _our_file(path)
    if before is None:
        return None
    try:
        s = posix_ipc.Semaphore(name, 0)
    except (posix_ipc.ExistentialError, posix_ipc.PermissionsError):
        return None
    try:
        return s.value if _our_file(path) == before else None
    finally:
        s.close()


# -- who holds a unit: inferred from the steps --------------------------------------------

def holdings(events: list[dict[str, Any]], gone: Collection[str] = frozenset()
             ) -> tuple[dict[str, int], dict[str, int]]:
    """(units held, semadj) per process name, from the lesson's waits and posts.

    A post gives back the poster's own units first; a post beyond them (someone posting
    on behalf of a process that died holding a unit) is counted against the dead."""
    held: dict[str, int] = {}
    adj: dict[str, int] = {}
    for ev in events:
        op, n, who = ev.get("op"), ev.get("n", 1), ev.get("by", "?")
        if op == "wait":
            held[who] = held.get(who, 0) + n
            if ev.get("undo"):
                adj[who] = adj.get(who, 0) + n
        elif op == "post":
            own = min(n, held.get(who, 0))
            held[who] = held.get(who, 0) - own
            rest = n - own
            for dead in sorted(gone):
                if rest <= 0:
                    break
                give = min(rest, held.get(dead, 0) - max(0, adj.get(dead, 0)))
                if give > 0:
                    held[dead] -= give
                    rest -= give
            if ev.get("undo"):
                adj[who] = adj.get(who, 0) - n
    return held, adj


def _gone(p: Process | None) -> bool:
    return p is None or p.state in (ZOMBIE, EXITED)


def _holders(rec: Record, by_name: dict[str, Process]
             ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    gone = {e.get("by") for e in rec.get("events", []) if _gone(by_name.get(e.get("by")))}
    held, adj = holdings(rec.get("events", []), gone)
    alive, dead, undo = [], [], []
    for who, n in held.items():
        if n <= 0:
            continue
        if not _gone(by_name.get(who)):
            alive.append(who)
        elif adj.get(who, 0) < n:
            dead.append(who)  # died holding it; no (or not enough) SEM_UNDO to give it back
    for who, a in adj.items():
        p = by_name.get(who)
        if a and p is not None and p.state not in (ZOMBIE, EXITED):
            undo.append(f"{who}:{a:+d}")
    return tuple(sorted(alive)), tuple(sorted(dead)), tuple(undo)


def waiters_of(oid: str, processes: tuple[Process, ...]) -> tuple[str, ...]:
    return tuple(p.name for p in processes if p.state == BLOCKED and p.waits_on == oid)


def deadlock_through(oid: str, records: Sequence[Record], processes: tuple[Process, ...]
                     ) -> tuple[str, ...]:
    """The processes of a wait-for cycle that passes through semaphore `oid`, in cycle
    order (P waits on a semaphore that Q holds → edge P → Q), or ()."""
    by_name = {p.name: p for p in processes}
    edges: dict[str, set[str]] = {}
    through: dict[tuple[str, str], set[str]] = {}
    for rec in records:
        if rec.get("kind") not in ("sem", "sysv_sem"):
            continue
        holders, _, _ = _holders(rec, by_name)
        for w in waiters_of(rec["id"], processes):
            for h in holders:
                if h == w:
                    # waiting for more units of a semaphore it took before is no cycle:
                    # any other process may post it (a producer on `empty` of a full ring)
                    continue
                edges.setdefault(w, set()).add(h)
                through.setdefault((w, h), set()).add(rec["id"])
    for start in sorted(edges):
        # follow edges from start; a path that comes back to start is a cycle
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    cycle = path
                    pairs = list(zip(cycle, cycle[1:] + cycle[:1]))
                    if any(oid in through.get(pair, ()) for pair in pairs):
                        return tuple(cycle)
                elif nxt not in path:
                    stack.append((nxt, path + [nxt]))
    return ()


def _name_of(pid: int, processes: tuple[Process, ...]) -> str | None:
    if not pid:
        return None
    p = next((p for p in processes if p.pid == pid), None)
    return p.name if p else f"pid {pid}"


def probe_posix_sem(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> SemState:
    oid, name = rec["id"], rec.get("name")
    value = posix_value(name) if name else None
    by_name = {p.name: p for p in processes}
    holders, dead, undo = _holders(rec, by_name)
    return SemState(oid, "sem", flavor="posix", name=name, exists=value is not None,
                    value=value, waiters=waiters_of(oid, processes), holders=holders,
                    dead_holders=dead, undo=undo,
                    deadlock=deadlock_through(oid, getattr(sampler, "records", [rec]),
                                              processes))


def probe_sysv_sem(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> SemState:
    oid, key, semid = rec["id"], rec.get("key"), rec["semid"]  # do_semget writes the id
    by_name = {p.name: p for p in processes}
    holders, dead, undo = _holders(rec, by_name)
    common: dict[str, Any] = dict(flavor="sysv", key=f"0x{key or 0:08x}", semid=semid,
                  waiters=waiters_of(oid, processes), holders=holders, dead_holders=dead,
                  undo=undo)
    try:
        value = semctl_read(semid, GETVAL)
        ncount = semctl_read(semid, GETNCNT)
        zcount = semctl_read(semid, GETZCNT)
        last = semctl_read(semid, GETPID)
    except OSError as err:
        if err.errno in (errno.EINVAL, errno.EIDRM):
            return SemState(oid, "sysv_sem", exists=False, **common)
        raise
    return SemState(oid, "sysv_sem", exists=True, value=value, ncount=ncount, zcount=zcount,
                    last_pid=last, last_op_by=_name_of(last, processes),
                    deadlock=deadlock_through(oid, getattr(sampler, "records", [rec]),
                                              processes), **common)


# -- which semaphore a sleeping process waits on -------------------------------------------

def waits_on_sysv_sem(syscall: str | None, args: tuple[int, ...], fds: tuple[Fd, ...],
                      records: Sequence[Record], pid: int) -> str | None:
    """semop/semtimedop take the semid as first argument."""
    if syscall not in ("semop", "semtimedop") or not args:
        return None
    for rec in records:
        if rec.get("kind") == "sysv_sem" and rec.get("semid") == args[0]:
            oid: str = rec["id"]
            return oid
    return None


def waits_on_posix_sem(syscall: str | None, args: tuple[int, ...], fds: tuple[Fd, ...],
                       records: Sequence[Record], pid: int) -> str | None:
    """futex(addr, ...): the semaphore whose file this process maps around addr."""
    if syscall != "futex" or not args or pid is None:
        return None
    sems = [r for r in records if r.get("kind") == "sem" and r.get("inode") is not None]
    if not sems:
        return None
    try:
        with open(f"/proc/{pid}/maps") as f:
            maps = parse_maps(f.read())
    except OSError:
        return None
    addr = args[0]
    for start, end, dev, inode, _path in maps:
        if start <= addr < end:
            for rec in sems:
                if rec["inode"] == inode and dev_text(rec["dev"]) == dev:
                    oid: str = rec["id"]
                    return oid
            return None
    return None


PROBES = {"sem": probe_posix_sem, "sysv_sem": probe_sysv_sem}
WAITS_ON = [waits_on_sysv_sem, waits_on_posix_sem]
