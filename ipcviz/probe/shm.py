"""Shared memory and the copy lesson's files: probes that change nothing they look at.

* POSIX region: st_size and the bytes with a plain read of /dev/shm/NAME (open O_RDONLY,
  pread, close: no mapping is added, no count changes); once the name is unlinked, through
  /proc/PID/mem of a process that still maps it.
* System V segment: size, nattch, key and SHM_DEST from /proc/sysvipc/shm (what `ipcs -m`
  prints); the bytes through /proc/PID/mem of a process that has it attached, at the
  address its /proc/PID/maps shows.  The probe never shmat()s: that would raise shm_nattch,
  the very number on screen.  With nobody attached, the bytes are unknown, and said so.
* Anonymous mapping (mmap MAP_ANONYMOUS, shared or private): per process, its block of
  /proc/PID/smaps (permissions, Rss, Shared_Dirty, Private_Dirty, Anonymous) and the long at
  its start through /proc/PID/mem -- only if /proc/PID/pagemap says the page is there:
  reading an absent shared page would fault it in and change the Rss shown.
* Who maps it: /proc/PID/maps of every live process of the lesson (POSIX: the mapping of
  /dev/shm/NAME, matched by device and inode, since the name may be unlinked; System V: a
  "/SYSV<key>" mapping whose inode is the shmid, see proc(5)).
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..model.shm import AnonState, FileState, RegionState
from ..model.snapshot import EXITED, ZOMBIE, Process

if TYPE_CHECKING:
    from .kinds import Record, WaitsOn
    from .sampler import Sampler

Mapping = tuple[int, int, str, int, str]  # start, end, device, inode, path of /proc/PID/maps

READ = 256  # bytes of a region the probe reads (the counter, a short text, a ring)
RING_HEADER = 16
SHM_DEST = 0o1000


# -- /proc/PID/maps -----------------------------------------------------------------------

def parse_maps(text: str) -> list[tuple[int, int, str, int, str]]:
    """(start, end, "maj:min", inode, path) of each line of a /proc/PID/maps text."""
    out = []
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        lo, _, hi = parts[0].partition("-")
        try:
            out.append((int(lo, 16), int(hi, 16), parts[3], int(parts[4]),
                        parts[5] if len(parts) > 5 else ""))
        except ValueError:
            continue
    return out


def maps_of(sampler: Sampler, p: Process) -> list[Mapping]:
    """The mappings of a live process, re-read when it began another step (a process's
    mappings change only through its own calls: mmap, munmap, shmat, shmdt, exit)."""
    cache: dict[int, tuple[tuple[int, int | None], list[Mapping]]] = \
        sampler.cache("maps_cache")
    key = (p.pid, p.step)
    hit = cache.get(p.pid)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        with open(f"/proc/{p.pid}/maps") as f:
            maps = parse_maps(f.read())
    except OSError:
        maps = []
    cache[p.pid] = (key, maps)
    return maps


def dev_text(dev: int) -> str:
    return f"{os.major(dev):02x}:{os.minor(dev):02x}"


def live(processes: tuple[Process, ...]) -> list[Process]:
    return [p for p in processes if p.state not in (ZOMBIE, EXITED)]


def mappers(sampler: Sampler, processes: tuple[Process, ...],
            match: Callable[[str, int, str], bool]) -> list[tuple[Process, int, int]]:
    """(process, start, end) of every live process mapping that matches."""
    out = []
    for p in live(processes):
        for start, end, dev, inode, path in maps_of(sampler, p):
            if match(dev, inode, path):
                out.append((p, start, end))
                break
    return out


def read_mem(pid: int, addr: int, n: int) -> bytes | None:
    """n bytes at addr in process pid, read through /proc/PID/mem (no attach, no mapping)."""
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.pread(fd, n, addr)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_file(path: str, n: int, inode: int | None = None) -> bytes | None:
    """The first n bytes of a file; with inode, only if the file opened is still that one
    (a name unlinked and made again, by anyone, is not the region the lesson maps)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if inode is not None and os.fstat(fd).st_ino != inode:
            return None
        return os.pread(fd, n, 0)
    finally:
        os.close(fd)


# -- what the bytes mean (the lesson's layout, from its own steps) -----------------------

def unnamed_sem(data: bytes, events: list[dict[str, Any]]) -> dict[str, int]:
    """The sem_t a lesson placed in the region (sem_init), read from its bytes.

    glibc's sem_t on 64-bit Linux is one 64-bit word with the count in its low 32 bits and
    glibc's own count of sleepers above (nptl/sem_waitcommon.c, __HAVE_64B_ATOMICS)."""
    sem_at = next((ev["sem_at"] for ev in events if "sem_at" in ev), None)
    if sem_at is None or len(data) < sem_at + 8:
        return {}
    word = struct.unpack_from("<Q", data, sem_at)[0]
    return {"sem_at": sem_at, "sem_value": word & 0xFFFFFFFF, "sem_nwaiters": word >> 32}


def layout_fields(data: bytes | None, events: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data is None:
        return out
    out["data"] = data.hex()
    if len(data) >= 8:
        out["counter"] = struct.unpack_from("<q", data, 0)[0]
    head = data.split(b"\0", 1)[0]
    if head and all(32 <= b < 127 for b in head):
        out["text"] = head.decode()
    out.update(unnamed_sem(data, events))
    slots = next((ev["ring_slots"] for ev in reversed(events) if "ring_slots" in ev), 0)
    if slots and len(data) >= RING_HEADER + 8 * slots:
        i, o = struct.unpack_from("<qq", data, 0)
        out.update(slots=slots, ring_in=i, ring_out=o, items=i - o, free_slots=slots - (i - o),
                   ring=struct.unpack_from(f"<{slots}q", data, RING_HEADER))
        out.pop("text", None)
    # increments the processes reported, since the counter was last set by a store
    base, incs, counted = 0, 0, False
    for ev in events:
        if ev.get("at", 0) != 0:
            continue
        if "reset" in ev:
            base, incs, counted = ev["reset"], 0, True
        elif "increments" in ev:
            incs += ev["increments"]
            counted = True
    if slots:
        out["layout"] = "ring"
    elif counted and "counter" in out:
        out["layout"] = "counter"
        out["increments"] = incs
        out["lost"] = base + incs - out["counter"]
        out.pop("text", None)
    return out


# -- POSIX shared memory -------------------------------------------------------------------

def probe_posix_shm(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> RegionState:
    oid, name, path = rec["id"], rec.get("name"), rec["path"]  # do_shm_open writes a path
    inode, dev = rec.get("inode"), rec.get("dev")
    want_dev = dev_text(dev) if dev is not None else None
    maps = mappers(sampler, processes,
                   lambda d, i, _p: i == inode and d == want_dev)
    try:
        st = os.stat(path)
        exists = st.st_ino == inode
    except OSError:
        exists = False
    size = st.st_size if exists else (maps[0][2] - maps[0][1] if maps else None)
    data = source = None
    if exists:
        data, source = read_file(path, READ, inode), path
    elif maps:
        p, start, _ = maps[0]
        data, source = read_mem(p.pid, start, min(READ, size or READ)), f"/proc/{p.pid}/mem"
    if data is not None and size is not None:
        data = data[:size]
    return RegionState(
        oid, "shm", flavor="posix", name=name, exists=exists or bool(maps),
        removed=not exists and bool(maps), size=size,
        mapped_by=tuple(p.name for p, _, _ in maps),
        mappings=tuple(f"{p.name}@{hex(s)}" for p, s, _ in maps),
        bytes_source=source, **layout_fields(data, rec.get("events", [])))


# -- System V shared memory ----------------------------------------------------------------

def sysv_shm_rows() -> dict[int, dict[str, int]]:
    """shmid -> the line of /proc/sysvipc/shm (what `ipcs -m` shows)."""
    try:
        with open("/proc/sysvipc/shm") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    head = lines[0].split() if lines else []
    out = {}
    for line in lines[1:]:
        row = {n: (int(v, 8) if n == "perms" else int(v)) for n, v in zip(head, line.split())}
        out[row["shmid"]] = row
    return out


def probe_sysv_shm(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> RegionState:
    oid, key, shmid = rec["id"], rec.get("key"), rec["shmid"]  # do_shmget writes the id
    row = sysv_shm_rows().get(shmid)
    if row is not None and row["key"] not in (key, 0):
        row = None  # the id was reused by someone else's segment
    maps = mappers(sampler, processes,
                   lambda d, i, path: i == shmid and path.startswith("/SYSV"))
    data = source = None
    if row is not None and maps:
        p, start, _ = maps[0]
        data = read_mem(p.pid, start, min(READ, row["size"]))
        source = f"/proc/{p.pid}/mem" if data is not None else None
    return RegionState(
        oid, "sysv_shm", flavor="sysv", key=f"0x{(row['key'] if row else key or 0):08x}",
        shmid=shmid, exists=row is not None,
        removed=bool(row and row["perms"] & SHM_DEST),
        size=row["size"] if row else None, nattch=row["nattch"] if row else None,
        mapped_by=tuple(p.name for p, _, _ in maps),
        mappings=tuple(f"{p.name}@{hex(s)}" for p, s, _ in maps),
        bytes_source=source, **layout_fields(data, rec.get("events", [])))


# -- files of the copy lesson ----------------------------------------------------------------

_HASHES: dict[tuple[str, int, int, int], str] = {}


def content_hash(path: str, st: os.stat_result) -> str | None:
    key = (path, st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        h = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            return None
        if len(_HASHES) > 64:
            _HASHES.clear()
        _HASHES[key] = h.hexdigest()[:16]
    return _HASHES[key]


def union_us(intervals: list[tuple[int, int]]) -> int:
    """Total length, in µs, of the union of [t0, t1] nanosecond intervals."""
    total, end = 0, None
    for t0, t1 in sorted(intervals):
        if end is None or t0 > end:
            total += t1 - t0
            end = t1
        elif t1 > end:
            total += t1 - end
            end = t1
    return total // 1000


def probe_file(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> FileState:
    path = rec.get("path")
    size: int | None = None
    content: str | None = None
    if path is not None:
        try:
            st = os.stat(path)
            size, content = st.st_size, content_hash(path, st)
        except OSError:
            pass
    copies = [ev for ev in rec.get("events", []) if "copy" in ev]
    route = tuple(f"{ev['copy']} by {ev.get('by', '?')}: {ev['bytes']} B in "
                  f"{(ev['t1'] - ev['t0']) // 1000} µs" for ev in copies)
    return FileState(rec["id"], "file", path=path, size=size, content=content,
                     copies=len(copies), copied=sum(ev["bytes"] for ev in copies),
                     elapsed_us=union_us([(ev["t0"], ev["t1"]) for ev in copies])
                     if copies else None, route=route)


# -- anonymous mappings -------------------------------------------------------------------

SMAPS_FIELDS = ("Rss", "Shared_Dirty", "Private_Dirty", "Anonymous")


def parse_smaps_block(text: str, address: int) -> tuple[str, dict[str, int]] | None:
    """(permissions, {field: kB}) of the mapping of a /proc/PID/smaps text that starts at
    `address`, or None if the process has no mapping there."""
    perms, got = None, {}
    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        if not head.endswith(":"):  # a mapping's first line: "START-END PERMS ..."
            if perms is not None:
                break
            lo, dash, _ = head.partition("-")
            if dash and _hex_or_none(lo) == address:
                perms = rest.split(" ", 1)[0]
            continue
        if perms is not None and head[:-1] in SMAPS_FIELDS:
            try:
                got[head[:-1]] = int(rest.split()[0])
            except (IndexError, ValueError):
                continue
    return None if perms is None else (perms, got)


def _hex_or_none(text: str) -> int | None:
    try:
        return int(text, 16)
    except ValueError:
        return None


def _smaps(sampler: Sampler, p: Process, address: int,
           moment: tuple[object, ...]) -> tuple[str, dict[str, int]] | None:
    """The smaps block of one process, read again only when some process of the lesson
    began another step or changed state (pages change only through the lesson's steps:
    another process's store can turn a shared page into a private one)."""
    cache: dict[tuple[int, int], tuple[object, Any]] = \
        sampler.cache("smaps_cache")
    hit = cache.get((p.pid, address))
    if hit is not None and hit[0] == moment:
        return hit[1]  # type: ignore[no-any-return]
    try:
        with open(f"/proc/{p.pid}/smaps") as f:
            block = parse_smaps_block(f.read(), address)
    except OSError:
        block = None
    if len(cache) > 4096:
        cache.clear()
    cache[(p.pid, address)] = (moment, block)
    return block


PAGEMAP_PRESENT = 1 << 63  # proc(5), /proc/PID/pagemap: bit 63 page present in RAM
PAGEMAP_SWAPPED = 1 << 62


def page_present(pid: int, address: int) -> bool:
    """The page at `address` is in the process's page table (present or swapped), read from
    /proc/PID/pagemap.  Only then is it read through /proc/PID/mem: reading an absent page
    of a MAP_SHARED mapping would fault one in and add it to the process's Rss -- the very
    number shown."""
    try:
        fd = os.open(f"/proc/{pid}/pagemap", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        raw = os.pread(fd, 8, address // os.sysconf("SC_PAGE_SIZE") * 8)
    except OSError:
        return False
    finally:
        os.close(fd)
    return len(raw) == 8 and bool(struct.unpack("<Q", raw)[0]
                                  & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED))


def probe_anon(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> AnonState:
    address = int(rec.get("address") or 0)
    moment = tuple((p.pid, p.step, p.state) for p in processes)
    names, rows, counters, shared = [], [], [], None
    for p in live(processes):
        block = _smaps(sampler, p, address, moment)
        if block is None:
            continue
        perms, kb = block
        shared = perms.endswith("s")
        names.append(p.name)
        rows.append(tuple(kb.get(f, 0) for f in SMAPS_FIELDS))
        raw = read_mem(p.pid, address, 8) if page_present(p.pid, address) else None
        counters.append(struct.unpack("<q", raw)[0] if raw and len(raw) == 8 else None)
    cols = list(zip(*rows)) if rows else [(), (), (), ()]
    return AnonState(rec["id"], "anon", address=address, size=rec.get("size"),
                     shared=shared, mapped_by=tuple(names), rss_kb=tuple(cols[0]),
                     shared_dirty_kb=tuple(cols[1]), private_dirty_kb=tuple(cols[2]),
                     anonymous_kb=tuple(cols[3]), counters=tuple(counters))


PROBES = {"shm": probe_posix_shm, "sysv_shm": probe_sysv_shm, "file": probe_file,
          "anon": probe_anon}
# nobody sleeps on a region: a load or a store is no system call
WAITS_ON: list[WaitsOn] = []
