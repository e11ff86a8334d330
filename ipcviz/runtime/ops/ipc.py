"""What the shm and sem ops share: the C calls (ctypes), System V keys and ids, regions
mapped in this process and their ring buffers, and waiting on / posting a semaphore (an shm
increment may take a lock, a bounded-buffer step uses a ring).  Not a mechanism: neither
ops/shm.py nor ops/sem.py imports the other; both import this."""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import stat
import struct
import time
from collections.abc import Callable
from typing import Any

import posix_ipc

from ..rundir import RunDir, ours
from .fds import restarting
from .types import OpWorker


def open_run_subdir(rd: RunDir, subdir: str) -> int:
    """An fd of the run's own SUBDIR (fifo/, sock/), reached through the run directory
    without following a symbolic link; OSError if it cannot be (ENOENT: not made yet)."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    return (os.open(subdir, flags, dir_fd=rd.fd) if rd.fd is not None
            else os.open(rd.path / subdir, flags))


def remove_in_run_subdir(entry: dict[str, Any], rd: RunDir, subdir: str,
                         kind_ok: Callable[[int], bool]) -> str | None:
    """Remove the file a manifest line names, only inside the run's own SUBDIR and only a
    file of ours whose mode passes KIND_OK; the path removed, or None.  A line naming any
    other path, or a file that is not ours, removes nothing."""
    path = entry.get("name")
    if not isinstance(path, str):
        return None
    head, name = os.path.split(path)
    if (os.path.basename(head) != subdir or os.path.basename(os.path.dirname(head))
            != f"run-{rd.run_id}" or name in ("", ".", "..")):
        return None  # not a path of this run's SUBDIR
    try:
        dfd = open_run_subdir(rd, subdir)
    except OSError:
        return None
    try:
        if not ours(os.fstat(dfd)):
            return None
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if not kind_ok(st.st_mode) or st.st_uid != os.geteuid():
            return None  # not ours: never remove anything else
        try:
            os.unlink(name, dir_fd=dfd)
        except FileNotFoundError:
            return None
    finally:
        os.close(dfd)
    return path

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.munmap.restype = ctypes.c_int
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.shmget.restype = ctypes.c_int
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmdt.restype = ctypes.c_int
libc.shmdt.argtypes = [ctypes.c_void_p]
libc.shmctl.restype = ctypes.c_int
libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]

IPC_CREAT, IPC_EXCL, IPC_NOWAIT = 0o1000, 0o2000, 0o4000
IPC_RMID, IPC_SET, IPC_STAT = 0, 1, 2
MAP_FAILED = ctypes.c_void_p(-1).value
KEY_TRIES = 16
SHM_DIR = "/dev/shm"
NO_ARG0 = -1  # an arg0 that no sleeping call can have: "never count this step as blocked"

_LONG = struct.Struct("<q")  # the C long at a byte offset of a region (x86_64/aarch64)
RING_HEADER = 16  # ring buffer: in (long), out (long), then `slots` longs

def check(ret: int | None, what: str) -> int:
    if ret == -1 or ret is None:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret

def random_key() -> int:
    """A System V key: random, never IPC_PRIVATE (0), positive as a C int."""
    return secrets.randbelow(0x7FFFFFFE) + 1

def sysv_get(w: OpWorker, kind: str, obj: str, get: Callable[[int, int], int], what: str,
             id_field: str,
             create: bool) -> tuple[int, int]:
    """(key, id) of a System V object of the lesson, made by get(key, flags) -> id | -1.

    Creating: a fresh random key goes into the manifest *before* the call (so `ipcviz
    clean` knows it even if we die right after), IPC_CREAT|IPC_EXCL refuses a key that
    somebody else has, and another key is tried.  Opening: the key the manifest has."""
    if not create:
        entry = manifest_entry(w, kind, obj, id_field)
        if entry is None:
            raise OSError(errno.ENOENT, f"no key known for {obj}")
        ident = check(get(entry["key"], 0), what)
        row = sysv_row(kind, ident)
        # The object found by the key must be the one this run created: same id, made by
        # our uid.  Another user's object under that key (after ours was removed) is not.
        if ident != entry[id_field] or row is None or row.get("cuid") != os.geteuid():
            raise OSError(errno.EACCES, f"{what}: the object with key 0x{entry['key']:08x} "
                          f"(id {ident}) is not the one this run created: not used")
        return entry["key"], ident
    for _ in range(KEY_TRIES):
        key = random_key()
        w.rundir.record(kind, f"0x{key:08x}", obj=obj, key=key, t=int(time.time()))
        ident = get(key, IPC_CREAT | IPC_EXCL | 0o600)
        if ident >= 0:
            w.rundir.record(kind, f"0x{key:08x}", obj=obj, key=key, **{id_field: ident})
            return key, ident
        if ctypes.get_errno() != errno.EEXIST:
            check(-1, what)
    raise OSError(errno.EEXIST, f"{what}: no free key after {KEY_TRIES} tries")


def manifest_entry(w: OpWorker, kind: str, obj: str, id_field: str | None = None
                   ) -> dict[str, Any] | None:
    """The newest manifest line of `obj` (how an unrelated process learns a System V key:
    the lesson's processes agree on it the way C programs agree on an ftok() file); with
    id_field, the newest line written after a successful creation (it has the id)."""
    entry: dict[str, Any]  # (mypy sees reversed() of a list as Any)
    for entry in reversed(w.rundir.objects()):
        if entry.get("kind") == kind and entry.get("obj") == obj and \
                isinstance(entry.get("key"), int) and \
                (id_field is None or isinstance(entry.get(id_field), int)):
            return entry
    return None


SYSV_TABLES = {"sysv_shm": ("/proc/sysvipc/shm", "shmid"),
               "sysv_sem": ("/proc/sysvipc/sem", "semid")}


def sysv_row(kind: str, ident: int) -> dict[str, int] | None:
    """The /proc/sysvipc line of a System V object (uid, cuid, ... as IPC_STAT has them)."""
    path, id_col = SYSV_TABLES[kind]
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    head = lines[0].split()
    for line in lines[1:]:
        row = {n: (int(v, 8) if n == "perms" else int(v)) for n, v in zip(head, line.split())}
        if row.get(id_col) == ident:
            return row
    return None


class Region:
    """A mapping of a region in this process: its address and a byte view of it."""

    def __init__(self, addr: int, size: int) -> None:
        self.addr = addr
        self.size = size
        self.view = memoryview((ctypes.c_char * size).from_address(addr)).cast("B")

    def load(self, at: int) -> int:
        value: int = _LONG.unpack_from(self.view, at)[0]
        return value

    def store(self, at: int, value: int) -> None:
        _LONG.pack_into(self.view, at, value)

def remember(w: OpWorker, **facts: Any) -> dict[str, Any]:
    """What the process now knows (its register, its counts): kept in the worker, and sent
    to the conductor as the step's facts."""
    w.facts.update(facts)
    return facts

def handle(w: OpWorker, obj: str) -> dict[str, Any]:
    h: dict[str, Any] | None = w.handles.get(obj)
    if h is None:
        raise OSError(errno.EBADF, f"{w.name} has not opened {obj}")
    return h

def region_of(w: OpWorker, obj: str) -> Region:
    r: Region | None = w.handles.get(obj, {}).get("region")
    if r is None:
        # Touching memory that is not mapped is a segfault in C; here, a clear error.
        raise OSError(errno.EFAULT, f"{obj} is not mapped in {w.name}")
    return r

def ring_put(r: Region, slots: int, value: int) -> int:
    i = r.load(0)
    r.store(RING_HEADER + 8 * (i % slots), value)
    r.store(0, i + 1)
    return i % slots

def ring_get(r: Region, slots: int) -> tuple[int, int]:
    o = r.load(8)
    value = r.load(RING_HEADER + 8 * (o % slots))
    r.store(8, o + 1)  # the slot keeps its (now stale) value, as in C
    return o % slots, value


# -- semaphores: what an shm step that waits or locks shares with the sem ops --

class Sembuf(ctypes.Structure):
    _fields_ = [("sem_num", ctypes.c_ushort), ("sem_op", ctypes.c_short),
                ("sem_flg", ctypes.c_short)]


libc.semget.restype = ctypes.c_int
libc.semget.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
libc.semop.restype = ctypes.c_int
libc.semop.argtypes = [ctypes.c_int, ctypes.POINTER(Sembuf), ctypes.c_size_t]
libc.semctl.restype = ctypes.c_int  # variadic: (semid, semnum, cmd, ...)


def semctl(semid: int, cmd: int, value: int | None = None) -> int:
    ret: int  # restype c_int
    if value is None:
        ret = libc.semctl(ctypes.c_int(semid), ctypes.c_int(0), ctypes.c_int(cmd))
    else:
        ret = libc.semctl(ctypes.c_int(semid), ctypes.c_int(0), ctypes.c_int(cmd),
                          ctypes.c_int(value))
    return ret


def semop(semid: int, op: int, flags: int = 0) -> int:
    buf = Sembuf(0, op, flags)
    return check(libc.semop(semid, ctypes.byref(buf), 1), "semop")


def mapping_start(inode: int, dev: int, maps: str | None = None) -> int | None:
    """Start address of this process's mapping of the file (dev, inode), from its maps."""
    if maps is None:
        with open("/proc/self/maps") as f:
            maps = f.read()
    want_dev = f"{os.major(dev):02x}:{os.minor(dev):02x}"
    for line in maps.splitlines():
        parts = line.split(None, 5)
        if len(parts) >= 5 and parts[4] == str(inode) and parts[3] == want_dev:
            return int(parts[0].split("-")[0], 16)
    return None


def wait_arg0(w: OpWorker, obj: str) -> int:
    """The first argument of the call a wait on `obj` sleeps in: a futex address or a semid."""
    h: dict[str, Any] | None = w.handles.get(obj)
    if h is None:
        return NO_ARG0
    if "semid" in h:
        semid: int = h["semid"]
        return semid
    start = mapping_start(h["inode"], h["dev"])
    return start if start is not None else NO_ARG0


def sem_acquire(w: OpWorker, obj: str) -> None:
    h = handle(w, obj)
    if "semid" in h:
        semop(h["semid"], -1)
    else:
        posix_acquire(h["sem"])


def posix_acquire(sem: Any, timeout: float | None = None) -> None:
    """sem_wait(3) (or sem_timedwait with a timeout in seconds) through posix_ipc, as the
    C program shown would see it: a caught signal ends it with EINTR (posix_ipc says
    SignalError); sem_wait starts again after handlers with SA_RESTART (fds.restarting),
    sem_timedwait does not (glibc's futex wait with a deadline fails with EINTR: the
    kernel says so in tests/test_eintr_oracle.py, whatever signal(7) lists)."""
    def once() -> None:
        try:
            sem.acquire(timeout)
        except posix_ipc.SignalError:
            raise OSError(errno.EINTR, os.strerror(errno.EINTR)) from None
    restarting(once, restart=timeout is None)


def sem_release(w: OpWorker, obj: str, n: int = 1) -> None:
    h = handle(w, obj)
    if "semid" in h:
        semop(h["semid"], n)
    else:
        for _ in range(n):
            h["sem"].release()


def posix_file_ours(path: str) -> bool:
    """/dev/shm/NAME (or sem.NAME) is a regular file of ours, opened without following a
    symbolic link (what the POSIX removers check before they unlink a name)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        return stat.S_ISREG(st.st_mode) and ours(st)
    finally:
        os.close(fd)
