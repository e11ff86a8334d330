"""Shared memory regions (POSIX and System V) and the files of the copy lesson: what the
kernel said about one of them at one moment.

The bytes are read by the probe without changing what is observed: a POSIX region with a
plain read of /dev/shm/NAME, a System V segment through /proc/PID/mem of a process that
has it attached (a shmat of our own would raise shm_nattch).  `increments` and `lost` are
inferred from the lesson's own steps (how many ++ the processes say they did), compared
with the counter read from memory; `bytes_source` says where the bytes came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

from .snapshot import ObjectState

if TYPE_CHECKING:
    from .provenance import Source as _Source

PREVIEW = 32  # bytes of the region shown in a one-line description


def _q(value: object) -> str:
    return "?" if value is None else str(value)


def _hex(data: str, n: int = PREVIEW) -> str:
    """Hex of the first n bytes (data is hex text), grouped by 8."""
    raw = data[: 2 * n]
    return " ".join(raw[i:i + 16] for i in range(0, len(raw), 16))


@dataclass(frozen=True)
class RegionState(ObjectState):
    flavor: str = "posix"  # "posix" (shm_open) or "sysv" (shmget)
    name: str | None = None  # POSIX: "/ipcviz.RUN.obj" (/dev/shm/ipcviz.RUN.obj)
    key: str | None = None  # System V: "0x1234abcd" (0x00000000 once IPC_RMID marked it)
    shmid: int | None = None
    exists: bool = True  # POSIX: the name is in /dev/shm; System V: listed in /proc/sysvipc/shm
    removed: bool = False  # POSIX: unlinked; System V: IPC_RMID done (SHM_DEST), if still there
    size: int | None = None  # st_size of /dev/shm/NAME, or size in /proc/sysvipc/shm
    nattch: int | None = None  # System V: shm_nattch from /proc/sysvipc/shm (POSIX: none)
    mapped_by: tuple[str, ...] = ()  # processes whose /proc/PID/maps has it
    mappings: tuple[str, ...] = ()  # "writer@0x7f..": where each process mapped it
    data: str = ""  # hex of the first bytes, as read by the probe
    bytes_source: str | None = None  # how the bytes were read ("/dev/shm/NAME", "/proc/PID/mem")
    counter: int | None = None  # the C long at offset 0
    text: str | None = None  # the bytes from offset 0 up to the first NUL, if printable
    increments: int = 0  # ++ the processes report since the counter was last set (inferred)
    lost: int | None = None  # increments - counter: updates that vanished
    layout: str = "bytes"  # how the lesson's steps use it: "counter", "ring" or "bytes"
    slots: int = 0  # ring buffer: slots (0: not used as a ring)
    ring: tuple[int, ...] = ()  # the slots' values, read from memory
    ring_in: int | None = None  # the producer's index (monotonic), read from memory
    ring_out: int | None = None  # the consumer's index
    items: int | None = None  # ring_in - ring_out
    free_slots: int | None = None  # slots - items
    # An unnamed semaphore (sem_init) the lesson placed at byte sem_at, read from the bytes
    # in glibc's 64-bit layout: the count (low 32 bits) and glibc's count of sleepers
    sem_at: int | None = None
    sem_value: int | None = None
    sem_nwaiters: int | None = None

    def live_slots(self) -> tuple[bool, ...]:
        """Which slots hold an item (between out and in); the others keep stale values."""
        if not self.slots or self.ring_in is None or self.ring_out is None:
            return ()
        if not 0 <= self.ring_in - self.ring_out <= self.slots or self.slots > len(self.ring):
            return ()  # not a ring's indexes (an edited trace): nothing to mark, no huge range
        live = {i % self.slots for i in range(self.ring_out, self.ring_in)}
        return tuple(i in live for i in range(self.slots))

    def ring_text(self) -> str:
        """"14 | 15 | (12) | (13)": items, and (stale) values of free slots."""
        return " | ".join(str(v) if live else f"({v})"
                          for v, live in zip(self.ring, self.live_slots()))

    @property
    def mapped(self) -> int:
        return len(self.mapped_by)

    def sources(self, pids: dict[str, int] | None = None,
                holder: tuple[int, int] | None = None) -> list[_Source]:
        """Where each value came from, and a command that shows it (see model/provenance)."""
        from .provenance import Source

        pids = pids or {}
        if self.flavor == "posix":
            return self._posix_sources(pids, Source)
        return self._sysv_sources(pids, Source)

    def _dev_shm(self) -> str:
        return f"/dev/shm{self.name}" if self.name else "/dev/shm/NAME"

    def _posix_sources(self, pids: dict[str, int], Source: type[_Source]) -> list[_Source]:
        path = self._dev_shm()
        out: list[_Source] = []
        if self.removed:
            out.append(Source("name", f"{self.name} (unlinked)",
                              f"{path} is gone, but /proc/PID/maps still lists the mapping",
                              f"ls -l {path}", "prints 'No such file': the memory lives on "
                              "while a process maps it"))
        elif not self.exists:
            out.append(Source("exists", "no", f"{path} is gone and nobody maps it",
                              f"ls -l {path}", "prints 'No such file'"))
            return out
        else:
            out.append(Source("name", str(self.name), f"{path}, a file in the tmpfs /dev/shm "
                              "(stat, matched by device and inode)", f"ls -l {path}"))
        out.append(Source("size", _q(self.size), f"st_size of {path} (set by ftruncate)"
                          if not self.removed else "the length of the mapping in /proc/PID/maps",
                          f"stat -c %s {path}" if not self.removed else None))
        out.extend(self._bytes_sources(pids, Source, path))
        out.append(self._mapped_source(pids, Source, path.rsplit("/", 1)[-1]))
        return out

    def _sysv_sources(self, pids: dict[str, int], Source: type[_Source]) -> list[_Source]:
        i = self.shmid
        if not self.exists:
            return [Source("exists", "no", f"shmid {i} is no longer in /proc/sysvipc/shm "
                           "(the last process detached after IPC_RMID)", f"ipcs -m -i {i}",
                           "prints that the id is invalid")]
        out = [
            Source("key, size", f"{self.key}, {_q(self.size)} bytes",
                   "/proc/sysvipc/shm columns key and size", f"ipcs -m -i {i}"),
            Source("nattch", _q(self.nattch), "/proc/sysvipc/shm column nattch (shm_nattch: "
                   "how many attaches the kernel counts)", f"ipcs -m -i {i}",
                   "ipcviz never attaches: that would make this number one more"),
        ]
        if self.removed:
            out.append(Source("marked for removal", "yes (SHM_DEST)",
                              "/proc/sysvipc/shm column perms, bit 01000 (SHM_DEST) after "
                              "IPC_RMID; the key reads 0x00000000", f"ipcs -m -i {i}",
                              "mode shows 'dest'; freed when nattch drops to 0"))
        out.extend(self._bytes_sources(pids, Source, None))
        out.append(self._mapped_source(pids, Source, "SYSV"))
        return out

    def _bytes_sources(self, pids: dict[str, int], Source: type[_Source], path: str | None
                       ) -> list[_Source]:
        src = self.bytes_source
        n = len(self.data) // 2
        if src is None:
            return [Source("bytes", "unknown", "nobody maps it, and ipcviz does not attach or "
                           "map it itself", None)]
        if src.startswith("/proc/"):
            pid = src.split("/")[2]
            who = next((name for name, p in pids.items() if str(p) == pid), f"PID {pid}")
            addr = next((m.split("@", 1)[1] for m in self.mappings
                         if m.startswith(f"{who}@")), None)
            how = (f"pread of {src} at the address {who} mapped it ({addr or '?'}): "
                   f"first {n} bytes, without attaching or mapping")
            cmd = (f"dd if={src} bs={min(n, 64) or 64} count=1 iflag=skip_bytes "
                   f"skip=$(({addr})) 2>/dev/null | od -A d -t x1") if addr else None
            note = "needs the right to trace the process: same user, or root"
        else:
            how = f"pread of {src} (opened read-only, not mapped): first {n} bytes"
            cmd = f"od -A d -t x1 {src} | head"
            note = "od prints * for repeated lines: all zero"
        out = [Source("bytes", f"{n} read", how, cmd, note)]
        file = src if not src.startswith("/proc/") else None
        if self.slots:
            out.append(Source(
                "ring", f"in={self.ring_in} out={self.ring_out} [{self.ring_text()}]",
                "the same bytes, read as C longs (little-endian): in at 0, out at 8, "
                f"{self.slots} slots from 16", f"od -A d -t d8 -N {16 + 8 * self.slots} {file}"
                if file else None))
        elif self.counter is not None and self.layout == "counter":
            out.append(Source("counter", str(self.counter),
                              "the same bytes: the C long at offset 0 (little-endian)",
                              f"od -A d -t d8 -N 8 {file}" if file else None))
        if self.increments:
            out.append(Source("increments, lost", f"{self.increments}, {self.lost}",
                              "inferred: the ++ the processes report having done, minus the "
                              "counter read from memory", None,
                              "no kernel interface counts stores into memory"))
        return out

    def _mapped_source(self, pids: dict[str, int], Source: type[_Source], pattern: str
                       ) -> _Source:
        known = [(n, pids[n]) for n in self.mapped_by if n in pids]
        cmd = "; ".join(f"grep {pattern} /proc/{pid}/maps" for _, pid in known)
        return Source("mapped by", ", ".join(self.mappings) or "nobody",
                      "/proc/PID/maps of every live process of the lesson (POSIX: the "
                      "device and inode of the file; System V: /SYSV<key>, inode = shmid)",
                      cmd or None, None if cmd else "no process maps it now")

    def describe(self) -> str:
        if self.flavor == "posix":
            head = f"shm {self.id} ({self.name}"
        else:
            head = f"sysv shm {self.id} (key {self.key}, id {self.shmid}"
        if not self.exists:
            return head + "): gone"
        size = "?" if self.size is None else self.size
        text = f"{head}, {size} bytes"
        if self.removed:
            text += ", unlinked" if self.flavor == "posix" else \
                ", marked for removal (IPC_RMID) until the last detach"
        text += ")"
        if self.nattch is not None:
            text += f": nattch {self.nattch}"
        text += f"; mapped by {', '.join(self.mappings) or 'nobody'}"
        if self.slots:
            text += (f"; ring in={self.ring_in} out={self.ring_out}, {self.items} of "
                     f"{self.slots} slots filled: [{self.ring_text()}]")
        elif self.layout == "counter" and self.counter is not None:
            text += f"; counter {self.counter}"
            if self.increments:
                text += (f" after {self.increments} ++ (reported by the processes): "
                         f"{self.lost} lost")
        elif self.text:
            text += f"; text {self.text!r}"
        if self.sem_value is not None:
            text += (f"; sem_t at byte {self.sem_at}: value {self.sem_value}, glibc's count "
                     f"of sleepers {self.sem_nwaiters} (read from the bytes)")
        if self.data:
            text += f"; bytes [{_hex(self.data, 16)}]"
        elif self.bytes_source is None:
            text += "; bytes unknown (no process maps it, and ipcviz does not attach)"
        return text


@dataclass(frozen=True)
class FileState(ObjectState):
    """A regular file in the run's directory, and the copies the lesson made toward it."""

    path: str | None = None
    size: int | None = None  # st_size (None: not created yet)
    content: str | None = None  # sha256 of the contents, first 16 hex digits
    copies: int = 0  # copy steps (read / write calls) the data made on its way here
    copied: int = 0  # bytes those copies moved, in all
    elapsed_us: int | None = None  # time spent copying (union of the copies' intervals)
    route: tuple[str, ...] = ()  # "read(data → buffer) by sender: 4194304 B in 812 µs"

    def sources(self, pids: dict[str, int] | None = None,
                holder: tuple[int, int] | None = None) -> list[_Source]:
        """Where each value came from, and a command that shows it (see model/provenance)."""
        from .provenance import Source

        path = self.path or "PATH"
        out = [
            Source("size", "not created" if self.size is None else str(self.size),
                   f"st_size of {path} (stat)", f"stat -c %s {path}"),
        ]
        if self.content:
            out.append(Source("sha256", f"{self.content}…", f"the contents of {path}, hashed "
                              "by ipcviz", f"sha256sum {path} | cut -c1-16",
                              "equal hashes: the copy arrived intact"))
        if self.copies:
            out.append(Source("copies", f"{self.copies} ({self.copied} bytes, "
                              f"{self.elapsed_us} µs)", "measured by the processes around "
                              "each read()/write() of the copy (their own clock)", None,
                              "strace -e trace=read,write -T shows the same calls and times"))
        return out

    def describe(self) -> str:
        size = "not created" if self.size is None else f"{self.size} bytes"
        text = f"file {self.id}: {size}"
        if self.content:
            text += f", sha256 {self.content}…"
        if self.copies:
            text += (f"; copies of the data on its way here so far: {self.copies} "
                     f"({self.copied} bytes moved, {self.elapsed_us} µs spent copying, "
                     "measured by the processes): " + "; ".join(self.route))
        return text


@dataclass(frozen=True)
class AnonState(ObjectState):
    """An anonymous mapping (mmap MAP_ANONYMOUS), MAP_SHARED or MAP_PRIVATE, as each process
    that maps it sees it: the mapping's line and page counts in /proc/PID/smaps, and the
    long at its start read through /proc/PID/mem.  The tuples run parallel to `mapped_by`.

    After fork, a MAP_SHARED page both processes touched is one page mapped twice
    (Shared_Dirty in both); a MAP_PRIVATE page is shared only until one of them writes it:
    then each has its own copy (Private_Dirty in both, copy-on-write)."""

    address: int | None = None  # where the lesson's process mapped it (children inherit it)
    size: int | None = None
    shared: bool | None = None  # the smaps line's permissions end in "s" (else "p")
    mapped_by: tuple[str, ...] = ()  # live processes whose smaps has a mapping at `address`
    rss_kb: tuple[int, ...] = ()  # Rss: kB of it in memory for that process
    shared_dirty_kb: tuple[int, ...] = ()  # Shared_Dirty: written pages mapped by others too
    private_dirty_kb: tuple[int, ...] = ()  # Private_Dirty: written pages of its own
    anonymous_kb: tuple[int, ...] = ()  # Anonymous: 0 for MAP_SHARED (shmem pages)
    # the long at `address` in that process's memory; None: no page there yet (the probe
    # does not fault one in) or unreadable
    counters: tuple[int | None, ...] = ()

    def _names(self, kb: tuple[int, ...]) -> tuple[str, ...]:
        return tuple(n for n, v in zip(self.mapped_by, kb) if v > 0)

    @property
    def shared_pages(self) -> tuple[str, ...]:
        """Processes with a written page of it that another process maps too."""
        return self._names(self.shared_dirty_kb)

    @property
    def private_pages(self) -> tuple[str, ...]:
        """Processes with a written page of it that only they map (their own copy)."""
        return self._names(self.private_dirty_kb)

    @property
    def anonymous_pages(self) -> tuple[str, ...]:
        return self._names(self.anonymous_kb)

    @property
    def values(self) -> tuple[str, ...]:
        """"parent=0": the long at the start, as each process sees it ("child=no page":
        nothing mapped there yet in that process's page table)."""
        return tuple(f"{n}={'no page' if v is None else v}"
                     for n, v in zip(self.mapped_by, self.counters))

    def rows(self) -> list[tuple[str, int, int, int, int, int | None]]:
        return list(zip(self.mapped_by, self.rss_kb, self.shared_dirty_kb,
                        self.private_dirty_kb, self.anonymous_kb, self.counters))

    def describe(self) -> str:
        kind = {True: "MAP_SHARED", False: "MAP_PRIVATE", None: "?"}[self.shared]
        where = "?" if self.address is None else hex(self.address)
        head = f"anonymous mapping {self.id} ({kind}, {_q(self.size)} bytes at {where})"
        if not self.mapped_by:
            return head + ": mapped by no live process"
        return head + ": " + "; ".join(
            f"{n}: value {'no page' if c is None else c}, Rss {r} kB, Shared_Dirty {sd} kB, "
            f"Private_Dirty {pd} kB, Anonymous {a} kB" for n, r, sd, pd, a, c in self.rows())

    def sources(self, pids: dict[str, int] | None = None,
                holder: tuple[int, int] | None = None) -> list[_Source]:
        from .provenance import Source

        pids = pids or {}
        out: list[_Source] = []
        start = "ADDR" if self.address is None else f"{self.address:x}"
        for n, r, sd, pd, a, c in self.rows():
            pid = pids.get(n, "PID")
            out.append(Source(
                f"pages of {n}", f"Rss {r}, Shared_Dirty {sd}, Private_Dirty {pd}, "
                f"Anonymous {a} kB", f"the block of /proc/{pid}/smaps that starts at {start}",
                f"grep -A12 '^{start}-' /proc/{pid}/smaps",
                "the first line's permissions end in s (MAP_SHARED) or p (MAP_PRIVATE)"))
            # Reading an absent page through /proc/PID/mem would fault one in: no command then.
            dd = (f"dd if=/proc/{pid}/mem bs=8 count=1 skip=$((0x{start}/8)) 2>/dev/null"
                  " | od -An -td8")
            out.append(Source(
                f"value in {n}", "no page" if c is None else str(c),
                f"8 bytes at {start} of /proc/{pid}/mem (no attach, no mapping added), read "
                f"only if /proc/{pid}/pagemap shows the page present",
                dd if c is not None else None,
                None if c is not None else "no page is mapped there yet: reading it would "
                "fault one in and change what is shown"))
        return out


OBJECT_KINDS = {"shm": RegionState, "sysv_shm": RegionState, "file": FileState,
                "anon": AnonState}
