"""Semaphores: values and waiters from the kernel; holders inferred from the steps.

* POSIX named: the value with sem_getvalue() through the probe's own sem_open() of the
  name (no O_CREAT; opening a named semaphore changes nothing: no count, no waiter), closed
  at once.  Waiters: processes asleep in futex() whose address (first argument in
  /proc/PID/syscall) lies inside *their own* mapping of /dev/shm/sem.NAME (matched by
  device and inode in /proc/PID/maps: glibc creates the file under a temporary name, so the
  creator's mapping shows another path).  The kernel keeps no count of them for us.
* System V: semctl GETVAL, GETNCNT (semncnt), GETZCNT (semzcnt), GETPID (sempid) by id,
  for each semaphore of the set (nsems from /proc/sysvipc/sem); waiters: processes asleep
  in semop/semtimedop with this semid as first argument.  *Which* semaphore of a set a
  sleeper waits on is not in /proc (the sops pointer is in its memory, readable only with
  ptrace): inferred from the operations its step announced before the call (the first one
  that cannot be done with the values now, as the kernel counts it in semncnt/semzcnt).
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


def semctl_read(semid: int, cmd: int, semnum: int = 0) -> int:
    r: int = _libc.semctl(ctypes.c_int(semid), ctypes.c_int(semnum), ctypes.c_int(cmd))
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


def value_after_unlink(inode: int, processes: tuple[Process, ...]) -> tuple[int, str] | None:
    """(value, process) of a POSIX semaphore whose name is gone but which a process still
    maps: sem_unlink(3) removes the name at once, the semaphore lives while it is open.
    The count is the low 32 bits of the first word of the mapping (glibc's new_sem), read
    from that process's /proc/PID/mem (a read: no open of the semaphore, no count).  glibc
    made the file under a temporary name and linked it to the semaphore's, so the mapping
    is found by the inode the name had (its path in maps is that temporary name)."""
    for p in processes:
        if p.state in (EXITED, ZOMBIE) or not p.pid:
            continue
        try:
            with open(f"/proc/{p.pid}/maps") as f:
                maps = parse_maps(f.read())
            start = next((lo for lo, _hi, _dev, ino, path in maps
                          if ino == inode and path.startswith("/dev/shm/sem.")), None)
            if start is None:
                continue
            with open(f"/proc/{p.pid}/mem", "rb", buffering=0) as m:
                m.seek(start)
                word = m.read(8)
        except (OSError, ValueError):
            continue
        if len(word) == 8:
            return int.from_bytes(word, "little") & 0xFFFFFFFF, p.name
    return None


# -- who holds a unit: inferred from the steps --------------------------------------------

def holdings(events: list[dict[str, Any]], gone: Collection[str] = frozenset()
             ) -> tuple[dict[str, int], dict[str, int]]:
    """(units held, semadj) per process name, from the lesson's waits and posts.

    A post gives back the poster's own units first; a post beyond them (someone posting
    on behalf of a process that died holding a unit) is counted against the dead; what is
    left is a unit the poster added (a count kept in a semaphore: a reader counting itself
    in), which its own later wait takes back without holding anything."""
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
            if rest > 0:
                held[who] = held.get(who, 0) - rest
            if ev.get("undo"):
                adj[who] = adj.get(who, 0) - n
    return held, adj


def _gone(p: Process | None) -> bool:
    return p is None or p.state in (ZOMBIE, EXITED)


def _holders(rec: Record, by_name: dict[str, Process], semnum: int | None = None
             ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(live holders, dead holders, SEM_UNDO adjustments) of the object, or of one
    semaphore of its set."""
    events = [e for e in rec.get("events", [])
              if semnum is None or e.get("sem", 0) == semnum]
    gone = {e.get("by") for e in events if _gone(by_name.get(e.get("by")))}
    held, adj = holdings(events, gone)
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


def blocking_semnum(ops: Sequence[Sequence[Any]], values: Sequence[int]) -> int | None:
    """The semaphore an atomic semop sleeps on: its first operation that cannot be done
    after the ones before it (a decrease below 0, a wait-for-zero on a non-zero value), as
    the kernel counts the sleeper in that semaphore's semncnt / semzcnt.  None when every
    operation could be done now (the values changed since it slept)."""
    now = list(values)
    for n, op, *_ in ops:
        if not 0 <= n < len(now):
            return None  # EFBIG: the call failed, it does not sleep
        if (op < 0 and now[n] + op < 0) or (op == 0 and now[n] != 0):
            return int(n)
        now[n] += op
    return None


def waiting_for(rec: Record, processes: tuple[Process, ...], values: Sequence[int]
                ) -> dict[str, int | None]:
    """Kernel waiters of a System V set -> the semaphore each waits on, INFERRED from the
    operations its blocked step announced (None: not known)."""
    wants = rec.get("wants", {})
    out: dict[str, int | None] = {}
    for p in processes:
        if p.state != BLOCKED or p.waits_on != rec["id"]:
            continue
        want = wants.get(p.name)
        if len(values) == 1:
            out[p.name] = 0
        elif want is not None and want.get("step") == p.step:
            out[p.name] = blocking_semnum(want.get("ops", []), values)
        else:
            out[p.name] = None
    return out


def deadlock_through(oid: str, records: Sequence[Record], processes: tuple[Process, ...]
                     ) -> tuple[str, ...]:
    """The processes of a wait-for cycle that passes through semaphore `oid`, in cycle
    order (P waits on a semaphore that Q holds → edge P → Q), or ()."""
    nsems = sysv_nsems()
    by_name = {p.name: p for p in processes}
    edges: dict[str, set[str]] = {}
    through: dict[tuple[str, str], set[str]] = {}
    for rec in records:
        if rec.get("kind") not in ("sem", "sysv_sem"):
            continue
        for w, h in _wait_pairs(rec, processes, by_name, nsems):
            if h == w:
                # waiting for more units of a semaphore it took before is no cycle: any
                # other process may post it (a producer on `empty` of a full ring)
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


def sysv_nsems(path: str = "/proc/sysvipc/sem") -> dict[int, int]:
    """semid -> nsems, from /proc/sysvipc/sem (one line per set)."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    if not lines:
        return {}
    head = lines[0].split()
    try:
        at_id, at_n = head.index("semid"), head.index("nsems")
    except ValueError:
        return {}
    out = {}
    for line in lines[1:]:
        cols = line.split()
        if len(cols) > max(at_id, at_n):
            out[int(cols[at_id])] = int(cols[at_n])
    return out


def set_values(semid: int, nsems: int) -> list[int] | None:
    """GETVAL of each semaphore of a set; None if the set is gone."""
    try:
        return [semctl_read(semid, GETVAL, n) for n in range(nsems)]
    except OSError as err:
        if err.errno in (errno.EINVAL, errno.EIDRM):
            return None
        raise


def _wait_pairs(rec: Record, processes: tuple[Process, ...], by_name: dict[str, Process],
                nsems: dict[int, int]) -> list[tuple[str, str]]:
    """(waiter, holder) pairs of one semaphore object: of the same semaphore of a set
    (the waiter's semaphore inferred from its step, its holders from the steps)."""
    n_of = nsems.get(rec.get("semid", -1), 1) if rec.get("kind") == "sysv_sem" else 1
    values = set_values(rec["semid"], n_of) if n_of > 1 else None
    if not values:
        holders, _, _ = _holders(rec, by_name)
        return [(w, h) for w in waiters_of(rec["id"], processes) for h in holders
                if not _waits_for_zero(rec, by_name.get(w), None)]
    pairs = []
    for w, n in waiting_for(rec, processes, values).items():
        if n is None:
            continue  # which semaphore it waits on is not known: no edge drawn
        if _waits_for_zero(rec, by_name.get(w), values):
            continue  # it waits for others to *take* units (a barrier), not for a holder
        holders, _, _ = _holders(rec, by_name, n)
        pairs += [(w, h) for h in holders]
    return pairs


def _waits_for_zero(rec: Record, p: Process | None, values: Sequence[int] | None) -> bool:
    """Does P sleep on a wait-for-zero (op 0: until the value is 0)?  From the operations
    its blocked step announced (INFERRED, as the semnum): such a sleeper is woken by a
    process that takes units, so it waits for no holder and makes no wait-for edge."""
    want = rec.get("wants", {}).get(p.name) if p is not None else None
    if p is None or want is None or want.get("step") != p.step:
        return False
    ops = want.get("ops", [])
    if values is None:
        return bool(ops) and all(op == 0 for _n, op, *_ in ops)
    n = blocking_semnum(ops, values)
    return n is not None and any(int(m) == n and op == 0 for m, op, *_ in ops)


def _name_of(pid: int, processes: tuple[Process, ...]) -> str | None:
    if not pid:
        return None
    p = next((p for p in processes if p.pid == pid), None)
    return p.name if p else f"pid {pid}"


def probe_posix_sem(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> SemState:
    oid, name = rec["id"], rec.get("name")
    value = posix_value(name) if name else None
    inodes: dict[str, int] = sampler.cache("sem_inodes")
    if value is not None and name:
        mine = _our_file(f"/dev/shm/sem.{name.lstrip('/')}")
        if mine:
            inodes[oid] = mine[1]
    unlinked = (value_after_unlink(inodes[oid], processes)
                if value is None and oid in inodes else None)
    if unlinked is not None:
        value = unlinked[0]
    by_name = {p.name: p for p in processes}
    holders, dead, undo = _holders(rec, by_name)
    return SemState(oid, "sem", flavor="posix", name=name, exists=value is not None,
                    value=value, removed=unlinked is not None,
                    read_in=unlinked[1] if unlinked else None,
                    waiters=waiters_of(oid, processes), holders=holders,
                    dead_holders=dead, undo=undo,
                    deadlock=deadlock_through(oid, sampler.records,
                                              processes))


def probe_sysv_sem(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> SemState:
    oid, key, semid = rec["id"], rec.get("key"), rec["semid"]  # do_semget writes the id
    by_name = {p.name: p for p in processes}
    holders, dead, undo = _holders(rec, by_name)
    common: dict[str, Any] = dict(flavor="sysv", key=f"0x{key or 0:08x}", semid=semid,
                  waiters=waiters_of(oid, processes), holders=holders, dead_holders=dead,
                  undo=undo)
    nsems = sysv_nsems().get(semid, 1)
    try:
        rows = [(semctl_read(semid, GETVAL, n), semctl_read(semid, GETNCNT, n),
                 semctl_read(semid, GETZCNT, n), semctl_read(semid, GETPID, n))
                for n in range(nsems)]
    except OSError as err:
        if err.errno in (errno.EINVAL, errno.EIDRM):
            return SemState(oid, "sysv_sem", exists=False, **common)
        raise
    values, ncounts, zcounts, lasts = (tuple(col) for col in zip(*rows))
    by_sem = waiting_for(rec, processes, values)
    sem_waiters = tuple(tuple(w for w, n in by_sem.items() if n == j) for j in range(nsems))
    sem_holders = tuple(_holders(rec, by_name, j)[0] for j in range(nsems))
    return SemState(oid, "sysv_sem", exists=True, value=values[0], ncount=ncounts[0],
                    zcount=zcounts[0], last_pid=lasts[0],
                    last_op_by=_name_of(lasts[0], processes), nsems=nsems, values=values,
                    ncounts=ncounts, zcounts=zcounts, last_pids=lasts,
                    last_ops_by=tuple(_name_of(x, processes) or "-" for x in lasts),
                    sem_waiters=sem_waiters, sem_holders=sem_holders,
                    deadlock=deadlock_through(oid, sampler.records,
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
    return _mapped_at(pid, args[0], sems)


def _mapped_at(pid: int, addr: int, recs: Sequence[Record]) -> str | None:
    """The object of RECS whose file process PID maps at address ADDR (by device and
    inode, from /proc/PID/maps), or None."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            maps = parse_maps(f.read())
    except OSError:
        return None
    for start, end, dev, inode, _path in maps:
        if start <= addr < end:
            for rec in recs:
                if rec["inode"] == inode and dev_text(rec["dev"]) == dev:
                    oid: str = rec["id"]
                    return oid
            return None
    return None


def waits_on_unnamed_sem(syscall: str | None, args: tuple[int, ...], fds: tuple[Fd, ...],
                         records: Sequence[Record], pid: int) -> str | None:
    """futex(addr, ...) inside this process's mapping of a POSIX region that holds a sem_t
    of the lesson (sem_init): the region."""
    if syscall != "futex" or not args:
        return None
    regions = [r for r in records if r.get("kind") == "shm" and r.get("inode") is not None
               and any("sem_at" in e for e in r.get("events", []))]
    if not regions:
        return None
    return _mapped_at(pid, args[0], regions)


PROBES = {"sem": probe_posix_sem, "sysv_sem": probe_sysv_sem}
WAITS_ON = [waits_on_sysv_sem, waits_on_posix_sem, waits_on_unnamed_sem]
