"""Shared memory: POSIX (shm_open + mmap) and System V (shmget + shmat) regions, the plain
loads and stores into them (no system call), and the file/pipe/region copies of the
copy-count lesson.

System V calls and mmap go through ctypes, one C call per step, so that what the log says
is what the process did (sysv_ipc's SharedMemory() would shmget, shmat and memset in one
constructor; Python's mmap module would dup() the fd, adding an fd the lesson did not open).

Every object is written into the run's manifest *before* it is created; System V keys are
random (retried on EEXIST), and the key, then the id, are recorded.
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import time
from collections.abc import Callable
from typing import Any

import posix_ipc

from ..rundir import RunDir, check_posix_ours
from .fds import fd_of, read_as_in_c, read_at_as_in_c, size_of, write_as_in_c
from .ipc import (
    _LONG,
    IPC_RMID,
    IPC_STAT,
    MAP_FAILED,
    NO_ARG0,
    SHM_DIR,
    Region,
    check,
    handle,
    libc,
    manifest_entry,
    posix_file_ours,
    region_of,
    remember,
    ring_get,
    ring_put,
    sem_acquire,
    sem_release,
    sysv_get,
    wait_arg0,
)
from .types import Arg0, Args, Call, Op, OpWorker, Outcome, Pids, Remover


def posix_path(name: str) -> str:
    """/dev/shm/NAME of a POSIX shared memory name "/NAME"."""
    return f"{SHM_DIR}/{name.lstrip('/')}"


# -- POSIX shared memory -------------------------------------------------------------

def do_shm_open(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    name = w.rundir.object_name(obj)
    create = args.get("create", True)
    if create:
        size = int(size_of(args["size"], -1)) if "size" in args else 0
        w.rundir.record("shm", name, obj=obj)
        try:
            shm = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, mode=0o600, size=size)
        except posix_ipc.ExistentialError as err:
            raise OSError(errno.EEXIST, str(err)) from None
    else:
        if not w.rundir.created("shm", name):
            # its creation failed (the name was taken?): what has the name is not ours
            raise OSError(errno.ENOENT, f"no shared memory {name} was created by this run")
        try:
            shm = posix_ipc.SharedMemory(name, 0)
        except posix_ipc.ExistentialError as err:
            raise OSError(errno.ENOENT, str(err)) from None
    fd = shm.fd
    try:
        check_posix_ours(fd, name, "shared memory")
    except OSError:
        shm.close_fd()
        raise
    if create:
        w.rundir.record("shm", name, obj=obj, created=True)
    st = os.fstat(fd)
    w.handles[obj] = {"fd": fd, "name": name, "shm": shm}
    path = posix_path(name)
    return {"result": fd,
            "objects": [{"id": obj, "kind": "shm", "name": name, "path": path,
                         "inode": st.st_ino, "dev": st.st_dev,
                         "fd_targets": [path, path + " (deleted)"]}]}


def do_mmap(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    h = handle(w, obj)
    size = os.fstat(h["fd"]).st_size
    if size == 0:
        raise OSError(errno.EINVAL, "mmap of an empty region (ftruncate it first)")
    addr = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED,
                     h["fd"], 0)
    if addr == MAP_FAILED or addr is None:
        check(-1, "mmap")
    h["region"] = Region(addr, size)
    return {"result": hex(addr)}


def do_munmap(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    h = handle(w, obj)
    r = region_of(w, obj)
    check(libc.munmap(r.addr, r.size), "munmap")
    del h["region"]
    return {"result": 0}


def do_shm_unlink(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    name = w.rundir.object_name(args["object"])
    try:
        posix_ipc.unlink_shared_memory(name)
    except posix_ipc.ExistentialError as err:
        raise OSError(errno.ENOENT, str(err)) from None
    return {"result": 0}


def do_mmap_anon(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    """An anonymous mapping, MAP_SHARED or MAP_PRIVATE: no name, no manifest line (it dies
    with the processes that map it); fork children inherit it at the same address."""
    obj = args["object"]
    size = int(size_of(args["size"], -1))
    if size == 0:
        raise OSError(errno.EINVAL, "mmap of 0 bytes")
    kind = mmap.MAP_SHARED if args.get("shared", True) else mmap.MAP_PRIVATE
    addr = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, kind | mmap.MAP_ANONYMOUS,
                     -1, 0)
    if addr == MAP_FAILED or addr is None:
        check(-1, "mmap")
    w.handles[obj] = {"region": Region(addr, size)}
    return {"result": hex(addr),
            "objects": [{"id": obj, "kind": "anon", "address": addr, "size": size,
                         "shared": bool(args.get("shared", True))}]}


# -- System V shared memory ----------------------------------------------------------

def do_shmget(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    create = args.get("create", True)
    size = int(size_of(args["size"], -1)) if create else 0
    key, shmid = sysv_get(w, "sysv_shm", obj, lambda key, flags: libc.shmget(key, size, flags),
                          "shmget", "shmid", create)
    w.handles[obj] = {"shmid": shmid, "key": key}
    return {"result": shmid,
            "objects": [{"id": obj, "kind": "sysv_shm", "key": key, "shmid": shmid}]}


def do_shmat(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    h = handle(w, obj)
    addr = libc.shmat(h["shmid"], None, 0)
    if addr == MAP_FAILED or addr is None:
        check(-1, "shmat")
    size = _sysv_size(h["shmid"])
    h["region"] = Region(addr, size)
    return {"result": hex(addr)}


def _sysv_size(shmid: int) -> int:
    with open("/proc/sysvipc/shm") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if int(parts[1]) == shmid:
                return int(parts[3])
    raise OSError(errno.EINVAL, f"no segment {shmid}")


def do_shmdt(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    h = handle(w, obj)
    r = region_of(w, obj)
    check(libc.shmdt(r.addr), "shmdt")
    del h["region"]
    return {"result": 0}


def do_shmctl(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    h = handle(w, obj)
    cmd = args["cmd"]
    if cmd == "IPC_RMID":
        check(libc.shmctl(h["shmid"], IPC_RMID, None), "shmctl")
        return {"result": 0}
    buf = ctypes.create_string_buffer(256)  # struct shmid_ds is 112 bytes on x86_64
    check(libc.shmctl(h["shmid"], IPC_STAT, buf), "shmctl")
    return {"result": 0}


# -- loads and stores: plain memory, no system call ------------------------------------

def do_store(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    r = region_of(w, obj)
    at = int(args.get("at", 0))
    events: list[dict[str, Any]] = []
    if "data" in args:
        data = args["data"].encode()
        if at + len(data) < r.size:
            data += b"\0"  # strcpy() copies the terminating NUL too
        if at + len(data) > r.size:
            raise OSError(errno.EFAULT, f"{obj} is only {r.size} bytes")
        r.view[at:at + len(data)] = data
        return {"result": len(args["data"]), "facts": remember(w, stored=args["data"])}
    if "register_plus" in args:
        if "register" not in w.facts:
            raise OSError(errno.EINVAL, f"{w.name} has loaded nothing into its register")
        value = int(w.facts["register"]) + int(args["register_plus"])
        events.append({"id": obj, "increments": 1, "at": at})
    else:
        value = int(args["value"])
        events.append({"id": obj, "reset": value, "at": at})
    r.store(at, value)
    return {"result": value, "facts": remember(w, stored=value), "object_events": events}


def do_load(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    r = region_of(w, args["object"])
    at = int(args.get("at", 0))
    if "size" in args:
        raw = bytes(r.view[at:at + int(args["size"])]).split(b"\0", 1)[0]
        text = raw.decode("utf-8", "replace")
        return {"result": len(raw), "data": text, "facts": remember(w, data=text)}
    value = r.load(at)
    return {"result": value, "facts": remember(w, register=value)}


def do_increment(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    """counter++ `times` times (a load and a store each: not atomic), optionally after
    waiting on a start semaphore and inside a lock (sem_wait/sem_post around each)."""
    obj = args["object"]
    r = region_of(w, obj)
    at = int(args.get("at", 0))
    n = int(args["times"])
    if args.get("after"):
        sem_acquire(w, args["after"])
    lock = args.get("lock")
    view, unpack, pack = r.view, _LONG.unpack_from, _LONG.pack_into
    t0 = time.monotonic_ns()
    if lock:
        for _ in range(n):
            sem_acquire(w, lock)
            pack(view, at, unpack(view, at)[0] + 1)
            sem_release(w, lock)
    else:
        for _ in range(n):
            pack(view, at, unpack(view, at)[0] + 1)
    elapsed = (time.monotonic_ns() - t0) // 1000
    done = w.facts.get("increments", 0) + n
    return {"result": n, "facts": remember(w, increments=done, elapsed_us=elapsed),
            "object_events": [{"id": obj, "increments": n, "at": at}]}


# -- a ring buffer in a region: in, out, slots (plain memory) ---------------------------


def _ring_event(obj: str, slots: int) -> dict[str, Any]:
    return {"id": obj, "ring_slots": slots}


def do_put(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj, slots = args["object"], int(args["slots"])
    slot = ring_put(region_of(w, obj), slots, int(args["value"]))
    return {"result": slot, "facts": remember(w, stored=int(args["value"])),
            "object_events": [_ring_event(obj, slots)]}


def do_get(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj, slots = args["object"], int(args["slots"])
    slot, value = ring_get(region_of(w, obj), slots)
    got = [*w.facts.get("got", []), value]
    return {"result": value, "facts": remember(w, register=value, got=got),
            "object_events": [_ring_event(obj, slots)]}


# -- files, and copies between files, pipes, a process's buffer and a region ------------

def file_path(w: OpWorker, obj: str) -> str:
    return str(w.rundir.path / f"{obj}.dat")


def _file_record(w: OpWorker, obj: str) -> dict[str, Any]:
    path = file_path(w, obj)
    return {"id": obj, "kind": "file", "path": path, "fd_targets": [path]}


def do_create_file(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    size = int(size_of(args["size"], -1))
    path = file_path(w, obj)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        data = os.urandom(size)
        view, done = memoryview(data), 0
        while done < size:
            done += os.write(fd, view[done:])
    finally:
        os.close(fd)
    return {"result": size, "objects": [_file_record(w, obj)]}


def _copy_event(args: Args, what: str, nbytes: int, t0: int, t1: int, waited: int = 0
                ) -> list[dict[str, Any]]:
    route = args.get("route")
    if not route:
        return []
    return [{"id": route, "copy": what, "bytes": nbytes, "t0": t0, "t1": t1,
             "waited_ns": max(0, waited)}]


def _route_record(w: OpWorker, args: Args) -> list[dict[str, Any]]:
    """The route's file, so that the conductor knows it before the copy's event arrives."""
    return [_file_record(w, args["route"])] if args.get("route") else []


def _note_copy(w: OpWorker, nbytes: int, t0: int, t1: int) -> dict[str, Any]:
    return remember(w, copies=w.facts.get("copies", 0) + 1, copied=nbytes,
                    elapsed_us=(t1 - t0) // 1000)


def do_read_into(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    """read(): a copy from the kernel (a file's pages, a pipe's buffer) into the process's
    own buffer or straight into a mapped region.  Reads until `size` bytes or EOF."""
    region = region_of(w, args["region"]) if args.get("region") else None
    objects = _route_record(w, args)
    if args.get("file"):
        fd = os.open(file_path(w, args["file"]), os.O_RDONLY)
        src = args["file"]
        opened = True
        objects.append(_file_record(w, args["file"]))
    else:
        fd, opened, src = fd_of(w, args["fd"]), False, str(args["fd"])
    try:
        if "size" in args:
            want = int(size_of(args["size"], fd))
        elif region is not None:
            want = region.size - int(args.get("at", 0))
        else:
            want = None  # until EOF
        at = int(args.get("at", 0))
        chunks: list[bytes] = []
        got = 0
        first = last = None
        t0 = time.monotonic_ns()
        while want is None or got < want:
            if region is not None:
                assert want is not None  # a region's size when no size is given
                # libc's read, not os.readv / os.read, which retry after a handler (PEP
                # 475): a caught signal ends the C loop shown with -1 / EINTR
                n = read_at_as_in_c(fd, region.addr + at + got, want - got)
            else:
                piece = read_as_in_c(fd, 1 << 20 if want is None else min(1 << 20, want - got))
                chunks.append(piece)
                n = len(piece)
            if n == 0:
                break
            last = time.monotonic_ns()
            if first is None:
                first = last  # the first bytes are here: copying starts
            got += n
        t1 = time.monotonic_ns()
    finally:
        if opened:
            os.close(fd)
    if region is None:
        w.handles["buffer"] = b"".join(chunks)
    # The time spent copying: from a pipe, from the first bytes to the last ones (not the
    # wait for the writer to start, nor the wait for EOF after the last bytes).
    start = first if not opened and first is not None else t0
    t1 = last if not opened and last is not None else t1
    dest = args["region"] if region is not None else "buffer"
    what = f"read({src} → {dest})"
    facts = _note_copy(w, got, start, t1)
    return {"result": got, "facts": facts, "objects": objects,
            "object_events": _copy_event(args, what, got, start, t1, start - t0)}


def write_all(fd: int, data: memoryview, whole: bool) -> int:
    """One write() call through libc (a caught signal ends it as in C, see fds._as_in_c);
    `whole`: a regular file, where a short write is finished anyway."""
    done = 0
    while True:
        done += write_as_in_c(fd, data[done:].tobytes())
        if not whole or done >= len(data):
            return done


def do_write_from(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    """write(): a copy from the process's buffer (or a mapped region) into the kernel
    (a pipe's buffer, a file's pages).  One write() call; a pipe takes it piece by piece
    as its reader drains it."""
    objects = []
    if args.get("region"):
        region = region_of(w, args["region"])
        at = int(args.get("at", 0))
        n = int(size_of(args["size"], -1)) if "size" in args else region.size - at
        data = region.view[at:at + n]
        src = args["region"]
    else:
        buf = w.handles.get("buffer", b"")
        n = int(size_of(args["size"], -1)) if "size" in args else len(buf)
        data = memoryview(buf)[:n]
        src = "buffer"
    objects += _route_record(w, args)
    if args.get("file"):
        fd = os.open(file_path(w, args["file"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        dest, opened = args["file"], True
        objects.append(_file_record(w, args["file"]))
    else:
        fd, dest, opened = fd_of(w, args["fd"]), str(args["fd"]), False
    try:
        t0 = time.monotonic_ns()
        done = write_all(fd, data, opened)
        t1 = time.monotonic_ns()
    finally:
        if opened:
            os.close(fd)
    what = f"write({src} → {dest})"
    return {"result": done, "facts": _note_copy(w, done, t0, t1), "objects": objects,
            "object_events": _copy_event(args, what, done, t0, t1)}


OPS: dict[str, Op] = {
    "shm_open": do_shm_open, "mmap": do_mmap, "munmap": do_munmap, "mmap_anon": do_mmap_anon,
    "shm_unlink": do_shm_unlink, "shmget": do_shmget, "shmat": do_shmat, "shmdt": do_shmdt,
    "shmctl": do_shmctl, "store": do_store, "load": do_load, "increment": do_increment,
    "put": do_put, "get": do_get, "create_file": do_create_file, "read_into": do_read_into,
    "write_from": do_write_from,
}


# -- the calls as strace would print them ------------------------------------------------

def _name(w: OpWorker, a: Args) -> str:
    return w.rundir.object_name(a["object"])


def _call_shm_open(w: OpWorker, a: Args, p: Pids) -> str:
    if a.get("create", True):
        size = size_of(a["size"], -1) if "size" in a else 0
        return (f'shm_open("{_name(w, a)}", O_RDWR|O_CREAT|O_EXCL, 0600); '
                f"ftruncate(fd, {size})")
    return f'shm_open("{_name(w, a)}", O_RDWR, 0)'


def _call_mmap(w: OpWorker, a: Args, p: Pids) -> str:
    h = w.handles.get(a["object"], {})
    size = os.fstat(h["fd"]).st_size if "fd" in h else "?"
    return f"mmap(NULL, {size}, PROT_READ|PROT_WRITE, MAP_SHARED, {h.get('fd', '?')}, 0)"


def _call_region(w: OpWorker, a: Args, call: Callable[[str, int | str], str]) -> str:
    r: Region | None = w.handles.get(a["object"], {}).get("region")
    return call(hex(r.addr) if r else "?", r.size if r else "?")


def _call_shmget(w: OpWorker, a: Args, p: Pids) -> str:
    if a.get("create", True):
        return f"shmget(<random key>, {size_of(a['size'], -1)}, IPC_CREAT|IPC_EXCL|0600)"
    entry = manifest_entry(w, "sysv_shm", a["object"])
    key = f"0x{entry['key']:08x}" if entry else "?"
    return f"shmget({key}, 0, 0)"


def _hid(w: OpWorker, a: Args) -> int | str:
    shmid: int | str = w.handles.get(a["object"], {}).get("shmid", "?")
    return shmid


def _store_call(w: OpWorker, a: Args, p: Pids) -> str:
    obj, at = a["object"], int(a.get("at", 0))
    where = f"{obj}[{at}]" if at else f"*{obj}"
    if "data" in a:
        return f'strcpy({obj} + {at}, "{a["data"]}")   /* stores, no system call */'
    if "register_plus" in a:
        return f"{where} = reg + {a['register_plus']}   /* a store, no system call */"
    return f"{where} = {a['value']}   /* a store, no system call */"


def _load_call(w: OpWorker, a: Args, p: Pids) -> str:
    obj, at = a["object"], int(a.get("at", 0))
    if "size" in a:
        return f"printf(\"%s\", {obj} + {at})   /* loads, no system call */"
    where = f"{obj}[{at}]" if at else f"*{obj}"
    return f"reg = {where}   /* a load, no system call */"


def _increment_call(w: OpWorker, a: Args, p: Pids) -> str:
    obj = a["object"]
    body = f"(*{obj})++;"
    if a.get("lock"):
        body = f"sem_wait({a['lock']}); (*{obj})++; sem_post({a['lock']});"
    pre = f"sem_wait({a['after']}); " if a.get("after") else ""
    return (f"{pre}for (i = 0; i < {a['times']}; i++) {{ {body} }}"
            "   /* the ++ is a load and a store: no system call */")


def _copy_target(w: OpWorker, a: Args) -> str:
    if a.get("file"):
        return f"fd /* {a['file']}.dat */"
    try:
        return str(fd_of(w, a["fd"]))
    except OSError:
        return "?"


def _read_into_call(w: OpWorker, a: Args, p: Pids) -> str:
    dest = a["region"] if a.get("region") else "buf"
    size = a.get("size")
    if size is None:
        size = "until EOF" if not a.get("region") else "region size"
    loop = "" if a.get("file") else "  /* repeated until done */"
    return f"read({_copy_target(w, a)}, {dest}, {size}){loop}"


def _write_from_call(w: OpWorker, a: Args, p: Pids) -> str:
    src = a["region"] if a.get("region") else "buf"
    if "size" in a:
        n = a["size"]
    elif a.get("region"):
        r = w.handles.get(a["region"], {}).get("region")
        n = r.size if r else "?"
    else:
        n = len(w.handles.get("buffer", b""))
    return f"write({_copy_target(w, a)}, {src}, {n})"


CALLS: dict[str, Call] = {
    "shm_open": _call_shm_open,
    "mmap": _call_mmap,
    "mmap_anon": lambda w, a, p: (
        f"mmap(NULL, {size_of(a['size'], -1)}, PROT_READ|PROT_WRITE, "
        f"{'MAP_SHARED' if a.get('shared', True) else 'MAP_PRIVATE'}|MAP_ANONYMOUS, -1, 0)"),
    "munmap": lambda w, a, p: _call_region(w, a, lambda addr, n: f"munmap({addr}, {n})"),
    "shm_unlink": lambda w, a, p: f'shm_unlink("{_name(w, a)}")',
    "shmget": _call_shmget,
    "shmat": lambda w, a, p: f"shmat({_hid(w, a)}, NULL, 0)",
    "shmdt": lambda w, a, p: _call_region(w, a, lambda addr, n: f"shmdt({addr})"),
    "shmctl": lambda w, a, p: f"shmctl({_hid(w, a)}, {a['cmd']}, "
                              f"{'NULL' if a['cmd'] == 'IPC_RMID' else '&ds'})",
    "store": _store_call,
    "load": _load_call,
    "increment": _increment_call,
    "put": lambda w, a, p: f"ring->slot[ring->in++ % {a['slots']}] = {a['value']}"
                           "   /* stores, no system call */",
    "get": lambda w, a, p: f"item = ring->slot[ring->out++ % {a['slots']}]"
                           "   /* loads, no system call */",
    "create_file": lambda w, a, p: f'write(open("{a["object"]}.dat", O_CREAT|O_WRONLY, 0600),'
                                   f" random, {a['size']})",
    "read_into": _read_into_call,
    "write_from": _write_from_call,
}


def _increment_arg0(w: OpWorker, a: Args, p: Pids) -> int:
    return wait_arg0(w, a["after"]) if a.get("after") else NO_ARG0


def _read_into_arg0(w: OpWorker, a: Args, p: Pids) -> int:
    # Only a read from a pipe end can sleep for data; a file read is never "blocked".
    if a.get("file"):
        return NO_ARG0
    return fd_of(w, a["fd"])


ARG0: dict[str, Arg0] = {"increment": _increment_arg0, "read_into": _read_into_arg0}


# -- removers: what `ipcviz clean` and the end of a run call for each manifest line ------

def remove_posix_shm(entry: dict[str, Any], rd: RunDir) -> str | None:
    name = entry.get("name", "")
    if not rd.owns_name(name) or not posix_file_ours(posix_path(name)):
        return None  # another run's name, or another user's object under our name
    try:
        posix_ipc.unlink_shared_memory(name)
    except posix_ipc.ExistentialError:
        return None
    return f"POSIX shared memory {name}"


def sysv_shm_table() -> list[dict[str, int]]:
    """/proc/sysvipc/shm as dicts of ints (key, shmid, perms (octal text), size, cpid, ...)."""
    try:
        with open("/proc/sysvipc/shm") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    head = lines[0].split()
    out = []
    for line in lines[1:]:
        vals = line.split()
        row = {}
        for name, v in zip(head, vals):
            row[name] = int(v, 8) if name == "perms" else int(v)
        out.append(row)
    return out


def remove_sysv_shm(entry: dict[str, Any], rd: RunDir) -> str | None:
    key, shmid = entry.get("key"), entry.get("shmid")
    me = os.geteuid()
    for row in sysv_shm_table():
        if row["cuid"] != me or row["uid"] != me:
            continue  # created or owned by another user: never ours to remove
        # Ours: the id recorded right after creation; or, if the run died before that
        # line was written, the recorded random key created by the recording process.
        mine = (shmid is not None and row["shmid"] == shmid and row["key"] in (key, 0)) or \
               (shmid is None and row["key"] == key and row["cpid"] == entry.get("pid"))
        if mine:
            if libc.shmctl(row["shmid"], IPC_RMID, None) == 0:
                return f"System V shared memory key 0x{key:08x} id {row['shmid']}"
            return None
    return None


# kind -> what `ipcviz clean` and the end of a run call for each manifest line of that kind
REMOVERS: dict[str, Remover] = {"shm": remove_posix_shm, "sysv_shm": remove_sysv_shm}
