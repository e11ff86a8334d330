"""Message queues: msgget/msgsnd/msgrcv/msgctl (System V) and mq_open/mq_send/mq_receive/
mq_setattr/mq_close/mq_unlink (POSIX), each the real call through ctypes so that every
errno is the kernel's.

Every queue is written into the run's manifest before it is created: a System V queue by
its key (then once more with its msqid), a POSIX queue by its name.  The removers below
delete what is still there when the run ends, after checking that it is really ours.
What a process sends and receives is reported as "object_events" (the kernel cannot say
later who sent a message, nor what a POSIX queue holds).
"""

from __future__ import annotations

import errno
import os
import secrets
import select
import time
from collections.abc import Callable
from typing import Any

from ...probe import msgq as k
from ...scenario.actions import SIZE_RE
from ...scenario.limits import MAX_SIZE
from ..rundir import RunDir, check_posix_ours, ours
from .fds import restarting, signum_of
from .types import Arg0, Args, Call, Op, OpWorker, Outcome, Pids, Remover

KEY_TRIES = 16


def _q(text: str, limit: int = 24) -> str:
    t = text if len(text) <= limit else text[:limit] + "..."
    return '"' + t.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _handle(w: OpWorker, obj: str, family: str) -> dict[str, Any]:
    h: dict[str, Any] | None = w.handles.get(obj)
    if not h or h.get("family") != family:
        call = "msgget" if family == "sysv" else "mq_open"
        raise OSError(errno.EBADF, f"{w.name} has not opened {obj} ({call} first)")
    return h


def _resolve(expr: Any, base: Callable[[], int]) -> int:
    """A number, or "capacity" (± N, * N) with base() giving capacity; PIPE_BUF as for pipes."""
    if isinstance(expr, int):
        return expr
    m = SIZE_RE.match(expr)
    if m is None:  # the loader refuses it: a step that should never have been sent
        raise ValueError(f"count {expr!r} is not a number")
    base_txt, op, n = m.groups()
    if base_txt == "capacity":
        value = base()
    elif base_txt == "PIPE_BUF":
        value = select.PIPE_BUF
    else:
        value = int(base_txt)
    if op == "+":
        value += int(n)
    elif op == "-":
        value = max(0, value - int(n))
    elif op == "*":
        value *= int(n)
    if value > MAX_SIZE:
        raise OSError(errno.EINVAL, f"{expr} is more than {MAX_SIZE}")
    return value


def _payload(w: OpWorker, args: Args, obj: str, n: int, capacity: Callable[[], int]
             ) -> bytes:
    """The bytes of the n-th message this process sends on obj ({n} in data becomes n)."""
    if "data" in args:
        data: bytes = args["data"].replace("{n}", str(n)).encode()
        if "size" in args:
            size = _resolve(args["size"], capacity)
            data = (data * (size // max(1, len(data)) + 1))[:size]
        return data
    return (args.get("fill") or "x").encode()[:1] * _resolve(args["size"], capacity)


def _next_n(w: OpWorker, obj: str) -> int:
    sent: int = w.handles.get(f"{obj}#sent", 0)
    return sent + 1


def _note_sent(w: OpWorker, obj: str, n: int) -> None:
    w.handles[f"{obj}#sent"] = n
    w.facts["sent_count"] = w.facts.get("sent_count", 0) + 1


def _note_received(w: OpWorker, text: str, key_name: str, key: int) -> None:
    w.facts["message"] = text
    w.facts[key_name] = key
    w.facts["received_count"] = w.facts.get("received_count", 0) + 1
    w.facts.setdefault("received_messages", []).append(text)


def _facts(w: OpWorker) -> dict[str, Any]:
    out = dict(w.facts)
    if "received_messages" in out:
        out["received_messages"] = list(out["received_messages"])
    return out


def _event(obj: str, op: str, key: int, data: bytes) -> dict[str, Any]:
    return {"id": obj, "op": op, "key": key, "size": len(data), "text": k.preview(data)}


# -- System V ----------------------------------------------------------------------------


def _new_key(w: OpWorker, obj: str) -> int:
    """A random key for a new queue (never IPC_PRIVATE), kept until msgget uses it."""
    key: int | None = w.handles.get(f"{obj}#key")
    if key is None:
        key = 1 + secrets.randbelow(0x7FFFFFFE)
        w.handles[f"{obj}#key"] = key
    return key


def _agreed_key(w: OpWorker, obj: str) -> int:
    """The key of the lesson's queue: the one its creator wrote in the run's manifest.

    In C two unrelated programs agree on a key (a constant, or ftok() of a path they both
    know); here the creator picked a random unused key, and the manifest is where both look.
    """
    h = w.handles.get(obj)
    if h and h.get("family") == "sysv":
        key: int = h["key"]
        return key
    found = _created_queues(w, obj)
    if not found:
        raise OSError(errno.ENOENT, f"no queue {obj} has been created in this run")
    return found[-1][0]


def _created_queues(w: OpWorker, obj: str) -> list[tuple[int, int]]:
    """(key, msqid) of each queue `obj` this run created (the line written after msgget)."""
    return [(e["key"], e["msqid"]) for e in w.rundir.objects()
            if e.get("kind") == "sysv_msgq" and e.get("name") == obj
            and isinstance(e.get("key"), int) and isinstance(e.get("msqid"), int)
            and not e.get("foreign")]


def _check_sysv_ours(w: OpWorker, obj: str, key: int, msqid: int) -> None:
    """The queue msgget found is the one this run created (same id, created by our uid):
    a queue another user made after ours was removed is never used."""
    ds = k.msgctl_stat(msqid)
    if (key, msqid) not in _created_queues(w, obj) or ds.cuid != os.geteuid():
        raise OSError(errno.EACCES, f"the queue with key 0x{key:08x} (msqid {msqid}, creator "
                      f"uid {ds.cuid}) is not the one this run created: not used")


def do_msgget(w: OpWorker, args: Args, pids: Pids, step: int) -> Outcome:
    obj = args["object"]
    if not args.get("create"):
        key = _agreed_key(w, obj)
        try:
            msqid = k.msgget(key, 0)
        except OSError as err:
            if err.errno == errno.ENOENT:
                raise OSError(err.errno, f"no queue has key 0x{key:08x} (removed?)") from None
            raise
        _check_sysv_ours(w, obj, key, msqid)
    else:
        for _ in range(KEY_TRIES):
            key = _new_key(w, obj)
            # The manifest first: if we are killed right after msgget, `ipcviz clean`
            # still knows the key.
            w.rundir.record("sysv_msgq", obj, key=key, t=time.time())
            try:
                msqid = k.msgget(key, k.IPC_CREAT | k.IPC_EXCL | 0o600)
                break
            except OSError as err:
                w.handles.pop(f"{obj}#key", None)
                if err.errno != errno.EEXIST:
                    raise _explain_msgget(err) from None
                # Another program's queue has this key: never touch it, pick another.
                w.rundir.record("sysv_msgq", obj, key=key, foreign=True)
        else:
            raise OSError(errno.EEXIST, f"{KEY_TRIES} random keys were all taken")
        w.rundir.record("sysv_msgq", obj, key=key, msqid=msqid)
    w.handles[obj] = {"family": "sysv", "msqid": msqid, "key": key}
    return {"result": msqid,
            "objects": [{"id": obj, "kind": "sysv_msgq", "key": key, "msqid": msqid}]}


def _explain_msgget(err: OSError) -> OSError:
    if err.errno == errno.ENOSPC:
        n = k.read_int("/proc/sys/kernel/msgmni")
        return OSError(err.errno, f"the system's System V queues are all in use: msgmni = {n} "
                       "(/proc/sys/kernel/msgmni)")
    return err


def _qbytes(msqid: int) -> Callable[[], int]:
    return lambda: k.msgctl_stat(msqid).qbytes


def _send_count(args: Args, msqid: int, size_hint: int) -> int:
    def room() -> int:
        ds = k.msgctl_stat(msqid)
        return max(0, (ds.qbytes - ds.cbytes) // max(1, size_hint))

    return _resolve(args.get("count", 1), room)


def do_msgsnd(w: OpWorker, args: Args, pids: Pids, step: int) -> Outcome:
    obj = args["object"]
    h = _handle(w, obj, "sysv")
    msqid, mtype = h["msqid"], args.get("type", 1)
    flags = k.IPC_NOWAIT if args.get("nowait") else 0
    first = _payload(w, args, obj, _next_n(w, obj), _qbytes(msqid))
    count = _send_count(args, msqid, len(first))
    events = []
    for _ in range(count):
        n = _next_n(w, obj)
        data = _payload(w, args, obj, n, _qbytes(msqid))
        try:
            k.msgsnd(msqid, mtype, data, flags)
        except OSError as err:
            raise _explain_msgsnd(err, msqid, mtype, data) from None
        _note_sent(w, obj, n)
        events.append(_event(obj, "send", mtype, data))
    return {"result": 0, "facts": _facts(w), "object_events": events}


def _explain_msgsnd(err: OSError, msqid: int, mtype: int, data: bytes) -> OSError:
    try:
        ds = k.msgctl_stat(msqid)
    except OSError:
        ds = None
    msgmax = k.read_int(k.MSGMAX)
    if err.errno == errno.EAGAIN and ds is not None:
        return OSError(err.errno, f"no room and IPC_NOWAIT: the queue holds {ds.cbytes} of its "
                       f"msg_qbytes = {ds.qbytes} bytes ({ds.qnum} messages); this message "
                       f"needs {len(data)}")
    if err.errno == errno.EINVAL and msgmax is not None and len(data) > msgmax:
        return OSError(err.errno, f"the message is {len(data)} bytes, more than msgmax = "
                       f"{msgmax} (/proc/sys/kernel/msgmax)")
    if err.errno == errno.EINVAL and mtype < 1:
        return OSError(err.errno, f"a message type must be 1 or more, not {mtype}")
    if err.errno == errno.EIDRM:
        return OSError(err.errno, "the queue was removed (IPC_RMID) while this process waited")
    return err


def _msgmax() -> int:
    return k.read_int(k.MSGMAX) or 8192


def _msgrcv_flags(args: Args) -> int:
    return ((k.IPC_NOWAIT if args.get("nowait") else 0)
            | (k.MSG_EXCEPT if args.get("except") else 0)
            | (k.MSG_NOERROR if args.get("noerror") else 0))


def _msgrcv_flags_text(args: Args) -> str:
    names = [n for n, on in (("IPC_NOWAIT", args.get("nowait")),
                             ("MSG_EXCEPT", args.get("except")),
                             ("MSG_NOERROR", args.get("noerror"))) if on]
    return "|".join(names) or "0"


def do_msgrcv(w: OpWorker, args: Args, pids: Pids, step: int) -> Outcome:
    obj = args["object"]
    h = _handle(w, obj, "sysv")
    msqid, mtype = h["msqid"], args.get("type", 0)
    flags = _msgrcv_flags(args)
    size = args.get("size", _msgmax())
    count = _resolve(args.get("count", 1), lambda: k.msgctl_stat(msqid).qnum)
    events, last = [], None
    for _ in range(count):
        try:
            got_type, data = k.msgrcv(msqid, size, mtype, flags)
        except OSError as err:
            raise _explain_msgrcv(err, mtype, size, bool(args.get("except"))) from None
        text = k.preview(data)
        _note_received(w, text, "mtype", got_type)
        events.append(_event(obj, "receive", got_type, data))
        last = data
    out = {"result": len(last) if last is not None else 0, "facts": _facts(w),
           "object_events": events}
    if last is not None:
        out["data"] = k.preview(last)
    return out


def _explain_msgrcv(err: OSError, mtype: int, size: int, other: bool = False) -> OSError:
    if err.errno == errno.E2BIG:
        return OSError(err.errno, f"the message chosen is longer than the buffer's {size} "
                       "bytes, and no MSG_NOERROR: it stays in the queue")
    if err.errno == errno.ENOMSG:
        which = ("no message" if mtype == 0 else f"no message of a type other than {mtype}"
                 if other and mtype > 0 else f"no message of type {mtype}" if mtype > 0
                 else f"no message of a type <= {-mtype}")
        return OSError(err.errno, f"{which} in the queue, and IPC_NOWAIT: no waiting")
    if err.errno == errno.EIDRM:
        return OSError(err.errno, "the queue was removed (IPC_RMID) while this process waited")
    return err


def do_msgctl(w: OpWorker, args: Args, pids: Pids, step: int) -> Outcome:
    obj = args["object"]
    h = _handle(w, obj, "sysv")
    if args["command"] == "IPC_RMID":
        k.msgctl_rmid(h["msqid"])
        return {"result": 0, "object_events": [{"id": obj, "op": "remove"}]}
    if "max_bytes" not in args:
        raise OSError(errno.EINVAL, "IPC_SET needs max_bytes (the new msg_qbytes)")
    try:
        k.msgctl_set_qbytes(h["msqid"], args["max_bytes"])
    except OSError as err:
        if err.errno == errno.EPERM:
            raise OSError(err.errno, f"raising msg_qbytes above msgmnb = {k.read_int(k.MSGMNB)}"
                          " (/proc/sys/kernel/msgmnb) needs CAP_SYS_RESOURCE") from None
        raise
    return {"result": 0}


# -- POSIX -------------------------------------------------------------------------------

_ACCESS = {"read": os.O_RDONLY, "write": os.O_WRONLY, "read-write": os.O_RDWR}
_ACCESS_TEXT = {"read": "O_RDONLY", "write": "O_WRONLY", "read-write": "O_RDWR"}


def _mq_attr(args: Args) -> tuple[int, int] | None:
    if "max_messages" not in args and "max_message_size" not in args:
        return None  # NULL: the system's defaults
    lim = k.mq_limits()
    return (args.get("max_messages", lim["msg_default"] or 10),
            args.get("max_message_size", lim["msgsize_default"] or 8192))


def do_mq_open(w: OpWorker, args: Args, pids: Pids, step: int) -> Outcome:
    obj = args["object"]
    name = w.rundir.object_name(obj)
    flags = _ACCESS[args.get("access", "read-write")]
    if args.get("nonblock"):
        flags |= os.O_NONBLOCK
    attr = _mq_attr(args)
    create = bool(args.get("create"))
    if create:
        flags |= os.O_CREAT | os.O_EXCL
        w.rundir.record("posix_mq", name)  # the manifest first, then the queue
    elif not w.rundir.created("posix_mq", name):
        # Only a queue this run made may be opened by name: if its creation failed (the
        # name was taken), whatever has the name now is somebody else's.
        raise OSError(errno.ENOENT, f"no queue {name} was created by this run")
    try:
        fd = k.mq_open(name, flags, 0o600, attr)
    except OSError as err:
        raise _explain_mq_open(err, attr, name) from None
    try:
        check_posix_ours(fd, name, "queue")
    except OSError:
        k.mq_close(fd)
        raise
    if create:
        w.rundir.record("posix_mq", name, created=True)
    w.handles[obj] = {"family": "posix", "fd": fd, "name": name}
    return {"result": fd,
            "objects": [{"id": obj, "kind": "posix_mq", "name": name,
                         "fd_targets": [name, f"{name} (deleted)"]}]}


def _explain_mq_open(err: OSError, attr: tuple[int, int] | None, name: str) -> OSError:
    lim = k.mq_limits()
    if err.errno == errno.EINVAL and attr is not None:
        parts = []
        if lim["msg_max"] is not None and attr[0] > lim["msg_max"]:
            parts.append(f"mq_maxmsg {attr[0]} is more than msg_max = {lim['msg_max']} "
                         "(/proc/sys/fs/mqueue/msg_max)")
        if lim["msgsize_max"] is not None and attr[1] > lim["msgsize_max"]:
            parts.append(f"mq_msgsize {attr[1]} is more than msgsize_max = "
                         f"{lim['msgsize_max']} (/proc/sys/fs/mqueue/msgsize_max)")
        if attr[0] <= 0 or attr[1] <= 0:
            parts.append("mq_maxmsg and mq_msgsize must be more than 0")
        if parts:
            return OSError(err.errno, "; ".join(parts) + " (only CAP_SYS_RESOURCE may exceed"
                           " the maximums)")
    if err.errno == errno.EMFILE:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_MSGQUEUE)[0]
        return OSError(err.errno, f"RLIMIT_MSGQUEUE = {soft} bytes for this user's queues "
                       "(`ulimit -q`) is used up, or too many open files")
    if err.errno == errno.ENOSPC:
        return OSError(err.errno, f"queues_max = {lim['queues_max']} POSIX queues "
                       "(/proc/sys/fs/mqueue/queues_max) exist already")
    if err.errno == errno.ENOENT:
        return OSError(err.errno, f"no queue is named {name}")
    return err


def _mq_room(fd: int) -> int:
    a = k.mq_getattr(fd)
    room: int = a.mq_maxmsg - a.mq_curmsgs  # c_long fields of struct mq_attr
    return max(0, room)


def _time_left(timeout_ms: int) -> Callable[[], int]:
    """The ms left to a deadline fixed now: a call SA_RESTART restarts keeps its absolute
    deadline, as C's mq_timedsend / mq_timedreceive do."""
    end = time.monotonic_ns() + timeout_ms * 1_000_000
    return lambda: max(0, (end - time.monotonic_ns()) // 1_000_000)


def _mq_send(fd: int, data: bytes, prio: int, timeout_ms: int | None) -> None:
    """mq_send / mq_timedsend as in C: restarted after handlers with SA_RESTART."""
    if timeout_ms is None:
        restarting(lambda: k.mq_send(fd, data, prio))
        return
    left = _time_left(timeout_ms)
    restarting(lambda: k.mq_timedsend(fd, data, prio, left()))


def _mq_receive(fd: int, size: int, timeout_ms: int | None) -> tuple[bytes, int]:
    """mq_receive / mq_timedreceive as in C: restarted after handlers with SA_RESTART."""
    if timeout_ms is None:
        return restarting(lambda: k.mq_receive(fd, size))
    left = _time_left(timeout_ms)
    return restarting(lambda: k.mq_timedreceive(fd, size, left()))


def do_mq_send(w: OpWorker, args: Args, pids: Pids, step: int) -> Outcome:
    obj = args["object"]
    h = _handle(w, obj, "posix")
    fd, prio = h["fd"], args.get("priority", 0)
    msgsize = lambda: k.mq_getattr(fd).mq_msgsize  # noqa: E731
    count = _resolve(args.get("count", 1), lambda: _mq_room(fd))
    events = []
    for _ in range(count):
        n = _next_n(w, obj)
        data = _payload(w, args, obj, n, msgsize)
        try:
            _mq_send(fd, data, prio, args.get("timeout_ms"))
        except OSError as err:
            raise _explain_mq(err, fd, len(data)) from None
        _note_sent(w, obj, n)
        events.append(_event(obj, "send", prio, data))
    return {"result": 0, "facts": _facts(w), "object_events": events}


def _explain_mq(err: OSError, fd: int, size: int | None = None) -> OSError:
    try:
        a = k.mq_getattr(fd)
    except OSError:
        return err
    if err.errno == errno.EMSGSIZE and size is not None:
        return OSError(err.errno, f"the message is {size} bytes, more than this queue's "
                       f"mq_msgsize = {a.mq_msgsize}")
    if err.errno == errno.EMSGSIZE:
        return OSError(err.errno, f"the buffer is smaller than mq_msgsize = {a.mq_msgsize}")
    if err.errno == errno.EAGAIN and size is not None:
        return OSError(err.errno, f"the queue is full: {a.mq_curmsgs} of mq_maxmsg = "
                       f"{a.mq_maxmsg} messages, and this descriptor has O_NONBLOCK")
    if err.errno == errno.EAGAIN:
        return OSError(err.errno, "the queue is empty, and this descriptor has O_NONBLOCK")
    if err.errno == errno.ETIMEDOUT:
        return OSError(err.errno, f"the deadline passed with the queue still "
                       f"{'full' if size is not None else 'empty'} ({a.mq_curmsgs} of "
                       f"{a.mq_maxmsg} messages)")
    return err


def do_mq_receive(w: OpWorker, args: Args, pids: Pids, step: int) -> Outcome:
    obj = args["object"]
    h = _handle(w, obj, "posix")
    fd = h["fd"]
    count = _resolve(args.get("count", 1), lambda: k.mq_getattr(fd).mq_curmsgs)
    events, last = [], None
    for _ in range(count):
        size = k.mq_getattr(fd).mq_msgsize  # the buffer must hold mq_msgsize bytes
        try:
            data, prio = _mq_receive(fd, size, args.get("timeout_ms"))
        except OSError as err:
            raise _explain_mq(err, fd) from None
        _note_received(w, k.preview(data), "priority", prio)
        events.append(_event(obj, "receive", prio, data))
        last = data
    out = {"result": len(last) if last is not None else 0, "facts": _facts(w),
           "object_events": events}
    if last is not None:
        out["data"] = k.preview(last)
    return out


def do_mq_notify(w: OpWorker, args: Args, pids: Pids, step: int) -> Outcome:
    h = _handle(w, args["object"], "posix")
    signum = signum_of(args["signal"]) if args.get("signal") else None
    try:
        k.mq_notify(h["fd"], signum)
    except OSError as err:
        if err.errno == errno.EBUSY:
            raise OSError(err.errno, "another process is registered for this queue "
                          "(one registration per queue)") from None
        raise
    return {"result": 0}


def do_mq_setattr(w: OpWorker, args: Args, pids: Pids, step: int) -> Outcome:
    h = _handle(w, args["object"], "posix")
    k.mq_setattr(h["fd"], os.O_NONBLOCK if args["nonblock"] else 0)
    return {"result": 0}


def do_mq_close(w: OpWorker, args: Args, pids: Pids, step: int) -> Outcome:
    obj = args["object"]
    h = _handle(w, obj, "posix")
    k.mq_close(h["fd"])
    del w.handles[obj]
    return {"result": 0}


def do_mq_unlink(w: OpWorker, args: Args, pids: Pids, step: int) -> Outcome:
    obj = args["object"]
    name = w.rundir.object_name(obj)
    try:
        k.mq_unlink(name)
    except OSError as err:
        if err.errno == errno.ENOENT:
            raise OSError(err.errno, f"no queue is named {name} (unlinked already?)") from None
        raise
    return {"result": 0, "object_events": [{"id": obj, "op": "unlink"}]}


OPS: dict[str, Op] = {
    "msgget": do_msgget, "msgsnd": do_msgsnd, "msgrcv": do_msgrcv, "msgctl": do_msgctl,
    "mq_open": do_mq_open, "mq_send": do_mq_send, "mq_receive": do_mq_receive,
    "mq_setattr": do_mq_setattr, "mq_close": do_mq_close, "mq_unlink": do_mq_unlink,
    "mq_notify": do_mq_notify,
}


# -- the calls as strace would print them (sent before the call) --------------------------


def _times(count: Any, text: str, capacity: Callable[[], int] | None = None) -> str:
    """The call, with "×N" when a step makes it N times (N resolved as the op will)."""
    if count == 1:
        return text
    if not isinstance(count, int) and capacity is not None:
        try:
            count = _resolve(count, capacity)
        except OSError:
            pass
    return f"{text}  ×{count}"


def _call_msgget(w: OpWorker, a: Args, p: Pids) -> str:
    obj = a["object"]
    if a.get("create"):
        return f"msgget(0x{_new_key(w, obj):08x}, IPC_CREAT|IPC_EXCL|0600)"
    try:
        return f"msgget(0x{_agreed_key(w, obj):08x}, 0)"
    except OSError:
        return "msgget(key, 0)"


def _call_msgsnd(w: OpWorker, a: Args, p: Pids) -> str:
    obj = a["object"]
    h = _handle(w, obj, "sysv")
    data = _payload(w, a, obj, _next_n(w, obj), _qbytes(h["msqid"]))
    flags = "IPC_NOWAIT" if a.get("nowait") else "0"
    return _times(a.get("count", 1), f"msgsnd({h['msqid']}, {{{a.get('type', 1)}, "
                  f"{_q(data.decode('utf-8', 'replace'))}}}, {len(data)}, {flags})",
                  lambda: _send_count({"count": a.get("count")}, h["msqid"], len(data)))


def _call_msgrcv(w: OpWorker, a: Args, p: Pids) -> str:
    h = _handle(w, a["object"], "sysv")
    return _times(a.get("count", 1),
                  f"msgrcv({h['msqid']}, &msg, {a.get('size', _msgmax())}, {a.get('type', 0)}, "
                  f"{_msgrcv_flags_text(a)})",
                  lambda: k.msgctl_stat(h["msqid"]).qnum)


def _call_msgctl(w: OpWorker, a: Args, p: Pids) -> str:
    h = _handle(w, a["object"], "sysv")
    if a["command"] == "IPC_RMID":
        return f"msgctl({h['msqid']}, IPC_RMID, NULL)"
    return f"msgctl({h['msqid']}, IPC_SET, {{msg_qbytes={a.get('max_bytes')}}})"


def _call_mq_open(w: OpWorker, a: Args, p: Pids) -> str:
    name = w.rundir.object_name(a["object"])
    flags = ["O_CREAT", "O_EXCL"] if a.get("create") else []
    flags.append(_ACCESS_TEXT[a.get("access", "read-write")])
    if a.get("nonblock"):
        flags.append("O_NONBLOCK")
    attr = _mq_attr(a)
    attr_text = f"{{mq_maxmsg={attr[0]}, mq_msgsize={attr[1]}}}" if attr else "NULL"
    mode = ", 0600, " + attr_text if a.get("create") else ""
    return f'mq_open("{name}", {"|".join(flags)}{mode})'


def _call_mq_send(w: OpWorker, a: Args, p: Pids) -> str:
    obj = a["object"]
    h = _handle(w, obj, "posix")
    data = _payload(w, a, obj, _next_n(w, obj), lambda: k.mq_getattr(h["fd"]).mq_msgsize)
    call, until = ("mq_timedsend", f", &deadline /* +{a['timeout_ms']} ms */") \
        if "timeout_ms" in a else ("mq_send", "")
    return _times(a.get("count", 1), f"{call}({h['fd']}, "
                  f"{_q(data.decode('utf-8', 'replace'))}, {len(data)}, {a.get('priority', 0)}"
                  f"{until})",
                  lambda: _mq_room(h["fd"]))


def _call_mq_receive(w: OpWorker, a: Args, p: Pids) -> str:
    h = _handle(w, a["object"], "posix")
    size = k.mq_getattr(h["fd"]).mq_msgsize
    call, until = ("mq_timedreceive", f", &deadline /* +{a['timeout_ms']} ms */") \
        if "timeout_ms" in a else ("mq_receive", "")
    return _times(a.get("count", 1), f"{call}({h['fd']}, buf, {size}, &prio{until})",
                  lambda: k.mq_getattr(h["fd"]).mq_curmsgs)


CALLS: dict[str, Call] = {
    "msgget": _call_msgget,
    "msgsnd": _call_msgsnd,
    "msgrcv": _call_msgrcv,
    "msgctl": _call_msgctl,
    "mq_open": _call_mq_open,
    "mq_send": _call_mq_send,
    "mq_receive": _call_mq_receive,
    "mq_setattr": lambda w, a, p: (f"mq_setattr({_handle(w, a['object'], 'posix')['fd']}, "
                                   f"{{mq_flags={'O_NONBLOCK' if a['nonblock'] else '0'}}}, "
                                   "&old)"),
    "mq_close": lambda w, a, p: f"mq_close({_handle(w, a['object'], 'posix')['fd']})",
    "mq_notify": lambda w, a, p: (
        f"mq_notify({_handle(w, a['object'], 'posix')['fd']}, "
        + (f"{{SIGEV_SIGNAL, {a['signal']}}})" if a.get("signal") else "NULL)")),
    "mq_unlink": lambda w, a, p: f'mq_unlink("{w.rundir.object_name(a["object"])}")',
}

# The first argument of the call that may sleep: the msqid (System V) or the mqd (POSIX).
ARG0: dict[str, Arg0] = {
    "msgsnd": lambda w, a, p: _handle(w, a["object"], "sysv")["msqid"],
    "msgrcv": lambda w, a, p: _handle(w, a["object"], "sysv")["msqid"],
    "mq_send": lambda w, a, p: _timed_arg0(w, a),
    "mq_receive": lambda w, a, p: _timed_arg0(w, a),
}


def _timed_arg0(w: OpWorker, a: Args) -> int:
    """The mqd; with a timeout, -1, which no call shows: a timed send or receive is a step
    that lasts until it returns (ETIMEDOUT or a message), as `sleep`, not one that blocks."""
    return -1 if "timeout_ms" in a else int(_handle(w, a["object"], "posix")["fd"])


# -- removers: what `ipcviz clean` and the end of a run do -------------------------------


def remove_sysv_queue(entry: dict[str, Any], rd: RunDir) -> str | None:
    """Remove a System V queue of a manifest, if it still exists and is really ours."""
    key, msqid = entry.get("key"), entry.get("msqid")
    if not isinstance(key, int) or entry.get("foreign"):
        return None  # a key that was already another program's: never ours
    if not isinstance(msqid, int):
        # Only the key was written (killed between msgget and the second line).
        try:
            msqid = k.msgget(key, 0)
        except OSError:
            return None
        try:
            ds = k.msgctl_stat(msqid)
        except OSError:
            return None
        # Ours: made by this uid, and created (or changed) after the key was written down.
        if ds.cuid != os.geteuid() or ds.ctime < int(entry.get("t", 0)) - 1:
            return None
    else:
        try:
            ds = k.msgctl_stat(msqid)
        except OSError:
            return None  # EINVAL / EIDRM: gone already
        if ds.key != key or ds.cuid != os.geteuid():
            return None  # the id was reused by another queue
    try:
        k.msgctl_rmid(msqid)
    except OSError:
        return None
    return f"System V message queue key 0x{key:08x} msqid {msqid} ({ds.qnum} messages)"


def remove_posix_queue(entry: dict[str, Any], rd: RunDir) -> str | None:
    """Unlink a POSIX queue of the run's manifest: only a name of this very run, and only
    if the queue with that name is ours (another user's queue under a squatted name stays)."""
    name = entry.get("name")
    if not isinstance(name, str) or not rd.owns_name(name):
        return None
    try:
        fd = k.mq_open(name, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not ours(os.fstat(fd)):
            return None
    finally:
        k.mq_close(fd)
    try:
        k.mq_unlink(name)
    except OSError:
        return None
    return f"POSIX message queue {name}"


# kind -> what `ipcviz clean` and the end of a run call for each manifest line of that kind
REMOVERS: dict[str, Remover] = {"sysv_msgq": remove_sysv_queue, "posix_mq": remove_posix_queue}
