"""Semaphores: POSIX named semaphores (sem_open / sem_wait / sem_post / sem_unlink, through
posix_ipc) and System V sets (semget / semop / semctl, through ctypes: one C call per step,
one operation or several in one atomic semop, SEM_UNDO and IPC_NOWAIT as the lesson says),
and the producer/consumer steps of the bounded buffer.

A blocked wait is confirmed from /proc/PID/syscall: a POSIX sem_wait sleeps in futex() on
an address inside the process's own mapping of /dev/shm/sem.NAME (its start: glibc keeps
the count in the first word), a System V semop sleeps in semop/semtimedop with the semid
as first argument.  The worker announces that address or id before the call.
"""

from __future__ import annotations

import errno
import os
from typing import Any

import posix_ipc

from ..rundir import RunDir, check_posix_ours
import ctypes

from .ipc import (
    IPC_NOWAIT,
    NO_ARG0,
    IPC_RMID,
    Sembuf,
    check,
    handle,
    libc,
    manifest_entry,
    mapping_start,
    posix_acquire,
    posix_file_ours,
    region_of,
    remember,
    ring_get,
    ring_put,
    sem_acquire,
    sem_release,
    semctl,
    sysv_get,
    wait_arg0,
)
from .fds import as_in_c
from .types import Arg0, Args, Call, Op, OpWorker, Outcome, Pids, Remover, Want

SEM_UNDO = 0x1000
GETPID, GETVAL, GETNCNT, GETZCNT, SETVAL, SETALL = 11, 12, 14, 15, 16, 17
FLAG_BITS = {"SEM_UNDO": SEM_UNDO, "IPC_NOWAIT": IPC_NOWAIT}
SEMCTL_CMDS = {"IPC_RMID": IPC_RMID, "GETPID": GETPID, "GETVAL": GETVAL,
               "GETNCNT": GETNCNT, "GETZCNT": GETZCNT, "SETVAL": SETVAL}


def sem_file(name: str) -> str:
    """/dev/shm/sem.NAME: where glibc keeps a POSIX named semaphore "/NAME"."""
    return f"/dev/shm/sem.{name.lstrip('/')}"


# -- POSIX named semaphores ----------------------------------------------------------

def do_sem_open(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    name = w.rundir.object_name(obj)
    if args.get("create", True):
        w.rundir.record("sem", name, obj=obj)
        try:
            sem = posix_ipc.Semaphore(name, posix_ipc.O_CREX, mode=0o600,
                                      initial_value=int(args.get("value", 0)))
        except posix_ipc.ExistentialError as err:
            raise OSError(errno.EEXIST, str(err)) from None
    else:
        if not w.rundir.created("sem", name):
            # its creation failed (the name was taken?): what has the name is not ours
            raise OSError(errno.ENOENT, f"no semaphore {name} was created by this run")
        try:
            sem = posix_ipc.Semaphore(name, 0)
        except posix_ipc.ExistentialError as err:
            raise OSError(errno.ENOENT, str(err)) from None
    # The semaphore is the file /dev/shm/sem.NAME that sem_open mapped: that file (opened
    # without following a link) must be ours, and be the one mapped in this process.
    try:
        fd = os.open(sem_file(name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        sem.close()
        raise OSError(errno.EACCES, f"the semaphore {name}: {err.strerror}") from None
    try:
        check_posix_ours(fd, name, "semaphore")
        st = os.fstat(fd)
        addr = mapping_start(st.st_ino, st.st_dev)
        if addr is None:
            raise OSError(errno.EACCES, f"the semaphore {name} was replaced while opened")
    except OSError:
        sem.close()
        raise
    finally:
        os.close(fd)
    if args.get("create", True):
        w.rundir.record("sem", name, obj=obj, created=True)
    w.handles[obj] = {"sem": sem, "name": name, "inode": st.st_ino, "dev": st.st_dev}
    return {"result": hex(addr) if addr is not None else 0,
            "objects": [{"id": obj, "kind": "sem", "name": name, "path": sem_file(name),
                         "inode": st.st_ino, "dev": st.st_dev}]}


def do_sem_wait(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    posix_acquire(handle(w, obj)["sem"])
    return {"result": 0, "object_events": [{"id": obj, "op": "wait", "n": 1}]}


def do_sem_trywait(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    try:
        handle(w, obj)["sem"].acquire(0)
    except posix_ipc.BusyError:
        raise OSError(errno.EAGAIN, "sem_trywait: the count is 0") from None
    return {"result": 0, "object_events": [{"id": obj, "op": "wait", "n": 1}]}


def do_sem_timedwait(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    if not posix_ipc.SEMAPHORE_TIMEOUT_SUPPORTED:
        raise OSError(errno.ENOSYS, "sem_timedwait is not available on this system")
    try:
        # posix_ipc turns the timeout into an absolute CLOCK_REALTIME deadline and calls
        # sem_timedwait(3); it reports ETIMEDOUT as BusyError
        posix_acquire(handle(w, obj)["sem"], int(args["timeout_ms"]) / 1000)
    except posix_ipc.BusyError:
        raise OSError(errno.ETIMEDOUT, "sem_timedwait: the deadline passed") from None
    return {"result": 0, "object_events": [{"id": obj, "op": "wait", "n": 1}]}


def do_sem_post(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    n = int(args.get("count", 1))
    for _ in range(n):
        handle(w, obj)["sem"].release()
    return {"result": 0, "object_events": [{"id": obj, "op": "post", "n": n}]}


def do_sem_unlink(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    name = w.rundir.object_name(args["object"])
    try:
        posix_ipc.unlink_semaphore(name)
    except posix_ipc.ExistentialError as err:
        raise OSError(errno.ENOENT, str(err)) from None
    return {"result": 0}


# -- unnamed semaphores: a sem_t in a shared region (sem_init with pshared = 1) ----------

SEM_T_SIZE = 32  # glibc's sizeof(sem_t) on 64-bit Linux (x86_64, aarch64): an ABI size
libc.sem_init.restype = ctypes.c_int
libc.sem_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint]
libc.sem_wait.restype = ctypes.c_int
libc.sem_wait.argtypes = [ctypes.c_void_p]
libc.sem_post.restype = ctypes.c_int
libc.sem_post.argtypes = [ctypes.c_void_p]


def unnamed_addr(w: OpWorker, args: Args) -> int:
    """The address of the sem_t at byte `at` of the region, as mapped in this process."""
    region = region_of(w, args["object"])
    at = int(args.get("at", 0))
    if at % 8 or at + SEM_T_SIZE > region.size:
        raise OSError(errno.EINVAL, f"a sem_t at byte {at}: it must be 8-aligned and "
                      f"its {SEM_T_SIZE} bytes inside the region's {region.size}")
    return region.addr + at


def do_sem_init(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    addr = unnamed_addr(w, args)
    check(libc.sem_init(addr, 1, int(args.get("value", 0))), "sem_init")
    return {"result": 0,
            "object_events": [{"id": args["object"], "sem_at": int(args.get("at", 0))}]}


def do_sem_wait_at(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    addr = unnamed_addr(w, args)
    as_in_c(lambda: libc.sem_wait(addr))  # restarted after SA_RESTART handlers, as in C
    return {"result": 0}


def do_sem_post_at(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    check(libc.sem_post(unnamed_addr(w, args)), "sem_post")
    return {"result": 0}


def _unnamed_arg0(w: OpWorker, a: Args, p: Pids) -> int:
    try:
        return unnamed_addr(w, a)
    except OSError:
        return NO_ARG0


# -- System V semaphore sets (of one semaphore) ----------------------------------------

def do_semget(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    create = args.get("create", True)
    nsems = int(args.get("nsems", 1)) if create else 0  # 0: any size, when opening
    key, semid = sysv_get(w, "sysv_sem", obj,
                          lambda key, flags: libc.semget(key, nsems, flags),
                          "semget", "semid", create)
    if create and nsems == 1:
        check(semctl(semid, SETVAL, int(args.get("value", 0))), "semctl")
    elif create:
        values = (ctypes.c_ushort * nsems)(*[int(args.get("value", 0))] * nsems)
        check(libc.semctl(ctypes.c_int(semid), ctypes.c_int(0), ctypes.c_int(SETALL),
                          values), "semctl")
    w.handles[obj] = {"semid": semid, "key": key}
    return {"result": semid,
            "objects": [{"id": obj, "kind": "sysv_sem", "key": key, "semid": semid}]}


def semops_of(args: Args) -> list[list[Any]]:
    """The step's operations as [sem_num, sem_op, "FLAGS"]: `ops`, or the one of op/sem."""
    if args.get("ops"):
        ops: list[list[Any]] = args["ops"]
        return ops
    flags = "|".join(f for f, on in (("SEM_UNDO", args.get("undo")),
                                      ("IPC_NOWAIT", args.get("nowait"))) if on)
    return [[int(args.get("sem", 0)), int(args["op"]), flags]]


def _flag_bits(flags: str) -> int:
    return sum(FLAG_BITS[f] for f in flags.split("|") if f)


def do_semop(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    ops = semops_of(args)
    for n, op, f in ops:  # the loader refused these already (defence in depth)
        if not (0 <= n <= 0xFFFF and -(2**15) <= op < 2**15) or \
                any(x not in FLAG_BITS for x in str(f).split("|") if x):
            raise OSError(errno.EINVAL, f"semop: operation {{{n}, {op}, {f}}} is refused")
    bufs = (Sembuf * len(ops))(*[Sembuf(n, op, _flag_bits(f)) for n, op, f in ops])
    check(libc.semop(handle(w, obj)["semid"], bufs, len(ops)), "semop")
    events = [{"id": obj, "op": "wait" if op < 0 else "post" if op > 0 else "zero",
               "n": abs(op), "undo": "SEM_UNDO" in f, "sem": n} for n, op, f in ops]
    return {"result": 0, "object_events": events}


def do_semctl(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    cmd = args["cmd"]
    semid = handle(w, obj)["semid"]
    num = ctypes.c_int(int(args.get("sem", 0)))
    if cmd == "SETVAL":
        return {"result": check(libc.semctl(ctypes.c_int(semid), num, ctypes.c_int(SETVAL),
                                            ctypes.c_int(int(args.get("value", 0)))),
                                "semctl")}
    return {"result": check(libc.semctl(ctypes.c_int(semid), num,
                                        ctypes.c_int(SEMCTL_CMDS[cmd])), "semctl")}


# -- the bounded buffer: producer and consumer over a ring in shared memory --------------

def do_produce(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    region = region_of(w, args["object"])
    slots = int(args["slots"])
    sem_acquire(w, args["empty"])
    sem_acquire(w, args["mutex"])
    ring_put(region, slots, int(args["value"]))
    sem_release(w, args["mutex"])
    sem_release(w, args["full"])
    return {"result": 0, "facts": remember(w, stored=int(args["value"])),
            "object_events": [{"id": args["object"], "ring_slots": slots}]}


def do_consume(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    region = region_of(w, args["object"])
    slots = int(args["slots"])
    sem_acquire(w, args["full"])
    sem_acquire(w, args["mutex"])
    _, value = ring_get(region, slots)
    sem_release(w, args["mutex"])
    sem_release(w, args["empty"])
    got = [*w.facts.get("got", []), value]
    return {"result": value, "facts": remember(w, register=value, got=got),
            "object_events": [{"id": args["object"], "ring_slots": slots}]}


OPS: dict[str, Op] = {
    "sem_open": do_sem_open, "sem_wait": do_sem_wait, "sem_trywait": do_sem_trywait,
    "sem_timedwait": do_sem_timedwait, "sem_init": do_sem_init,
    "sem_wait_at": do_sem_wait_at, "sem_post_at": do_sem_post_at,
    "sem_post": do_sem_post, "sem_unlink": do_sem_unlink, "semget": do_semget,
    "semop": do_semop, "semctl": do_semctl, "produce": do_produce, "consume": do_consume,
}


def _sname(w: OpWorker, a: Args) -> str:
    return w.rundir.object_name(a["object"])


def _semid(w: OpWorker, a: Args) -> int | str:
    semid: int | str = w.handles.get(a["object"], {}).get("semid", "?")
    return semid


def _call_sem_open(w: OpWorker, a: Args, p: Pids) -> str:
    if a.get("create", True):
        return f'sem_open("{_sname(w, a)}", O_CREAT|O_EXCL, 0600, {a.get("value", 0)})'
    return f'sem_open("{_sname(w, a)}", 0)'


def _call_semget(w: OpWorker, a: Args, p: Pids) -> str:
    n = a.get("nsems", 1)
    if a.get("create", True) and n > 1:
        return (f"semget(<random key>, {n}, IPC_CREAT|IPC_EXCL|0600); "
                f"semctl(id, 0, SETALL, {{{', '.join([str(a.get('value', 0))] * n)}}})")
    if a.get("create", True):
        return (f"semget(<random key>, 1, IPC_CREAT|IPC_EXCL|0600); "
                f"semctl(id, 0, SETVAL, {a.get('value', 0)})")
    entry = manifest_entry(w, "sysv_sem", a["object"])
    return f"semget({'0x' + format(entry['key'], '08x') if entry else '?'}, 0, 0)"


def _call_semop(w: OpWorker, a: Args, p: Pids) -> str:
    ops = semops_of(a)
    text = ", ".join(f"{{{n}, {op:+d}, {f or 0}}}" for n, op, f in ops)
    if len(ops) > 1:
        text = "{" + text + "}"
    return f"semop({_semid(w, a)}, {text}, {len(ops)})"


def _call_semctl(w: OpWorker, a: Args, p: Pids) -> str:
    tail = f", {a.get('value', 0)}" if a["cmd"] == "SETVAL" else ""
    return f"semctl({_semid(w, a)}, {a.get('sem', 0)}, {a['cmd']}{tail})"


def _wait_call(w: OpWorker, obj: str) -> str:
    h = w.handles.get(obj, {})
    return f"semop({h['semid']}, {{0, -1, 0}}, 1)" if "semid" in h else f"sem_wait({obj})"


def _post_call(w: OpWorker, obj: str) -> str:
    h = w.handles.get(obj, {})
    return f"semop({h['semid']}, {{0, +1, 0}}, 1)" if "semid" in h else f"sem_post({obj})"


def _call_produce(w: OpWorker, a: Args, p: Pids) -> str:
    return (f"{_wait_call(w, a['empty'])}; {_wait_call(w, a['mutex'])}; "
            f"ring[in++ % {a['slots']}] = {a['value']}; "
            f"{_post_call(w, a['mutex'])}; {_post_call(w, a['full'])}")


def _call_consume(w: OpWorker, a: Args, p: Pids) -> str:
    return (f"{_wait_call(w, a['full'])}; {_wait_call(w, a['mutex'])}; "
            f"item = ring[out++ % {a['slots']}]; "
            f"{_post_call(w, a['mutex'])}; {_post_call(w, a['empty'])}")


CALLS: dict[str, Call] = {
    "sem_open": _call_sem_open,
    "sem_wait": lambda w, a, p: f"sem_wait({a['object']})",
    "sem_trywait": lambda w, a, p: f"sem_trywait({a['object']})",
    "sem_timedwait": lambda w, a, p: (f"sem_timedwait({a['object']}, "
                                      f"{{now + {a['timeout_ms']} ms}})"),
    "sem_post": lambda w, a, p: "; ".join([f"sem_post({a['object']})"] * int(a.get("count", 1))),
    "sem_unlink": lambda w, a, p: f'sem_unlink("{_sname(w, a)}")',
    "sem_init": lambda w, a, p: (f"sem_init({a['object']} + {a.get('at', 0)}, 1, "
                                 f"{a.get('value', 0)})"),
    "sem_wait_at": lambda w, a, p: f"sem_wait({a['object']} + {a.get('at', 0)})",
    "sem_post_at": lambda w, a, p: f"sem_post({a['object']} + {a.get('at', 0)})",
    "semget": _call_semget,
    "semop": _call_semop,
    "semctl": _call_semctl,
    "produce": _call_produce,
    "consume": _call_consume,
}

# What a step's call is about to ask of an object, sent before the call (the "began"
# message): a blocked semop's operations cannot be read from the kernel (its sops pointer
# is in the sleeper's memory), so the probe infers from these which semaphore of a set it
# waits on, and says so.
WANTS: dict[str, Want] = {
    "semop": lambda w, a, p: [{"id": a["object"], "ops": semops_of(a)}],
}

ARG0: dict[str, Arg0] = {
    "sem_wait": lambda w, a, p: wait_arg0(w, a["object"]),
    "sem_timedwait": lambda w, a, p: wait_arg0(w, a["object"]),
    "sem_wait_at": _unnamed_arg0,
    "semop": lambda w, a, p: wait_arg0(w, a["object"]),
    "produce": lambda w, a, p: wait_arg0(w, a["empty"]),
    "consume": lambda w, a, p: wait_arg0(w, a["full"]),
}


# -- removers -----------------------------------------------------------------------------

def remove_posix_sem(entry: dict[str, Any], rd: RunDir) -> str | None:
    name = entry.get("name", "")
    if not rd.owns_name(name) or not posix_file_ours(sem_file(name)):
        return None  # another run's name, or another user's semaphore under our name
    try:
        posix_ipc.unlink_semaphore(name)
    except posix_ipc.ExistentialError:
        return None
    return f"POSIX semaphore {name}"


def sysv_sem_table() -> list[dict[str, int]]:
    """/proc/sysvipc/sem as dicts (key, semid, perms, nsems, uid, gid, cuid, cgid, otime,
    ctime)."""
    try:
        with open("/proc/sysvipc/sem") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    head = lines[0].split()
    return [{n: (int(v, 8) if n == "perms" else int(v)) for n, v in zip(head, line.split())}
            for line in lines[1:]]


def remove_sysv_sem(entry: dict[str, Any], rd: RunDir) -> str | None:
    key, semid = entry.get("key"), entry.get("semid")
    me = os.geteuid()
    for row in sysv_sem_table():
        if row["key"] != key or row["uid"] != me or row["cuid"] != me:
            continue
        # Ours: the recorded id; or, when the run died before the id was written, the
        # recorded random key of a set created no earlier than the line was written.
        if (semid is not None and row["semid"] == semid) or \
                (semid is None and row["ctime"] >= entry.get("t", 1 << 62) - 1):
            if semctl(row["semid"], IPC_RMID) == 0:
                return f"System V semaphore key 0x{key:08x} id {row['semid']}"
            return None
    return None


# kind -> what `ipcviz clean` and the end of a run call for each manifest line of that kind
REMOVERS: dict[str, Remover] = {"sem": remove_posix_sem, "sysv_sem": remove_sysv_sem}
