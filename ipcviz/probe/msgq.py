"""Message queues: the kernel calls (ctypes, so every errno is the kernel's own), the probes
of System V and POSIX queues, and a system-wide view of System V queues like `ipcs -q`.

System V, for a queue of the lesson:
  * /proc/sysvipc/msg (what `ipcs -q` prints): key, msqid, perms, cbytes, qnum, lspid, lrpid,
    uid, cuid, stime, rtime, ctime.  Absent: the queue is gone (IPC_RMID).
  * msgctl(IPC_STAT): msg_qbytes, the byte limit, which /proc/sysvipc/msg does not show.
  * msgrcv(MSG_COPY | IPC_NOWAIT): a copy of the message at position n, left in the queue
    (no msg_lrpid, msg_rtime or count changes): the list shown is the kernel's own.
POSIX, for a queue of the lesson:
  * mq_getattr(2) through a descriptor a scenario process holds (pidfd_getfd duplicates its
    open file description; no message is received, nothing is changed); when nobody holds one,
    through a descriptor opened by name (mq_open without O_CREAT, neither read nor written,
    closed at once).  Whether the name still exists: mq_open by name, ENOENT when unlinked
    (/dev/mqueue is not always mounted, so listing it is no answer).
  * mq_notify's registration: the queue file's line (QSIZE, NOTIFY, SIGNO, NOTIFY_PID),
    read with pread(2) at offset 0 through that same descriptor: what `cat /dev/mqueue/NAME`
    prints where the mqueue file system is mounted; nothing is taken, no offset moves.
  * The messages cannot be looked at without taking them: the list is rebuilt from the
    lesson's own sends and receives (highest priority first, FIFO within one), and marked
    incomplete when the kernel's count disagrees.
"""

from __future__ import annotations

import ctypes
import errno as errno_mod
import os
import signal
import time
from dataclasses import dataclass
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..model.msgq import INFERRED, KERNEL, PosixQueueState, SysvQueueState
from ..model.snapshot import BLOCKED, EXITED, ZOMBIE, Process
from .pipe_io import ProbeUnavailable, pidfd_getfd

if TYPE_CHECKING:
    from ..model.msgq import Message
    from ..model.snapshot import Fd
    from .kinds import Record
    from .sampler import Sampler

# -- kernel constants (linux/ipc.h, linux/msg.h) -------------------------------------------

IPC_PRIVATE = 0
IPC_CREAT = 0o1000
IPC_EXCL = 0o2000
IPC_NOWAIT = 0o4000
IPC_RMID = 0
IPC_SET = 1
IPC_STAT = 2
MSG_NOERROR = 0o10000
MSG_EXCEPT = 0o20000
MSG_COPY = 0o40000

PROC_MSG = "/proc/sysvipc/msg"
MSGMNB = "/proc/sys/kernel/msgmnb"
MSGMAX = "/proc/sys/kernel/msgmax"
MQ_DIR = "/proc/sys/fs/mqueue"
COPY_LIMIT = 64  # messages of one queue the probe copies per sample (the list says if more)
PREVIEW = 40  # characters of a message kept as its preview

_libc = ctypes.CDLL(None, use_errno=True)
_libc.msgget.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.msgget.restype = ctypes.c_int
_libc.msgsnd.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.msgsnd.restype = ctypes.c_int
_libc.msgrcv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long,
                         ctypes.c_int]
_libc.msgrcv.restype = ctypes.c_ssize_t
_libc.msgctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
_libc.msgctl.restype = ctypes.c_int


def _fail(what: str) -> OSError:
    """The errno of the call that just failed (`what` names it, for a reader of the code)."""
    err = ctypes.get_errno()
    return OSError(err, os.strerror(err))


def read_int(path: str) -> int | None:
    try:
        with open(path, "rb") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def preview(data: bytes) -> str:
    return data[:PREVIEW].decode("utf-8", "replace")


# -- System V calls ----------------------------------------------------------------------


@dataclass(frozen=True)
class MsqidDs:
    """struct msqid_ds as msgctl(IPC_STAT) fills it (64-bit layout)."""

    key: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    mode: int
    stime: int
    rtime: int
    ctime: int
    cbytes: int
    qnum: int
    qbytes: int
    lspid: int
    lrpid: int


_DS_SIZE = 256  # larger than struct msqid_ds (120 bytes on 64-bit Linux)


def _parse_ds(raw: bytes) -> MsqidDs:
    i32: Callable[[int], int] = lambda off: int.from_bytes(raw[off:off + 4], "little", signed=True)  # noqa: E731
    u64: Callable[[int], int] = lambda off: int.from_bytes(raw[off:off + 8], "little")  # noqa: E731
    return MsqidDs(
        key=i32(0) & 0xFFFFFFFF, uid=i32(4), gid=i32(8), cuid=i32(12), cgid=i32(16),
        mode=int.from_bytes(raw[20:22], "little") & 0o777,  # ushort or uint: low bytes first
        stime=u64(48), rtime=u64(56), ctime=u64(64), cbytes=u64(72), qnum=u64(80),
        qbytes=u64(88), lspid=i32(96), lrpid=i32(100))


def msgget(key: int, flags: int) -> int:
    r: int = _libc.msgget(ctypes.c_int(key if key < 2**31 else key - 2**32), flags)
    if r < 0:
        raise _fail("msgget")
    return r


def msgsnd(msqid: int, mtype: int, data: bytes, flags: int = 0) -> None:
    buf = ctypes.create_string_buffer(8 + len(data))
    ctypes.c_long.from_buffer(buf).value = mtype
    ctypes.memmove(ctypes.addressof(buf) + 8, data, len(data))
    if _libc.msgsnd(msqid, buf, len(data), flags) < 0:
        raise _fail("msgsnd")


def msgrcv(msqid: int, size: int, mtype: int, flags: int = 0) -> tuple[int, bytes]:
    """(type, text) of the message taken (or copied, with MSG_COPY)."""
    buf = ctypes.create_string_buffer(8 + size)
    n = _libc.msgrcv(msqid, buf, size, mtype, flags)
    if n < 0:
        raise _fail("msgrcv")
    return ctypes.c_long.from_buffer(buf).value, buf.raw[8:8 + n]


def msgctl_stat(msqid: int) -> MsqidDs:
    buf = ctypes.create_string_buffer(_DS_SIZE)
    if _libc.msgctl(msqid, IPC_STAT, buf) < 0:
        raise _fail("msgctl IPC_STAT")
    return _parse_ds(buf.raw)


def msgctl_set_qbytes(msqid: int, qbytes: int) -> None:
    """IPC_SET of msg_qbytes (uid, gid and mode set back to what IPC_STAT said)."""
    buf = ctypes.create_string_buffer(_DS_SIZE)
    if _libc.msgctl(msqid, IPC_STAT, buf) < 0:
        raise _fail("msgctl IPC_STAT")
    ctypes.c_ulong.from_buffer(buf, 88).value = qbytes
    if _libc.msgctl(msqid, IPC_SET, buf) < 0:
        raise _fail("msgctl IPC_SET")


def msgctl_rmid(msqid: int) -> None:
    if _libc.msgctl(msqid, IPC_RMID, None) < 0:
        raise _fail("msgctl IPC_RMID")


def msg_copy(msqid: int, count: int, size: int) -> tuple[list[tuple[int, bytes]], bool]:
    """The first `count` messages of a queue, copied and left in place (MSG_COPY).

    Returns (messages, supported): supported is False when this kernel lacks MSG_COPY
    (built without CONFIG_CHECKPOINT_RESTORE).
    """
    out = []
    for i in range(count):
        try:
            out.append(msgrcv(msqid, size, i, MSG_COPY | IPC_NOWAIT | MSG_NOERROR))
        except OSError as err:
            if err.errno == errno_mod.ENOSYS:
                return out, False
            break  # ENOMSG: fewer than counted (it changed meanwhile); EIDRM: removed
    return out, True


# -- /proc/sysvipc/msg ---------------------------------------------------------------------


@dataclass(frozen=True)
class SysvQueueLine:
    """One line of /proc/sysvipc/msg."""

    key: int
    msqid: int
    perms: int
    cbytes: int
    qnum: int
    lspid: int
    lrpid: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    stime: int
    rtime: int
    ctime: int


def parse_proc_msg(text: str) -> dict[int, SysvQueueLine]:
    """msqid -> line, from the text of /proc/sysvipc/msg (the first line is the header)."""
    out = {}
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 14:
            continue
        try:
            key = int(f[0]) & 0xFFFFFFFF  # printed signed
            v = [int(x) for x in f[1:14]]
        except ValueError:
            continue
        out[v[0]] = SysvQueueLine(key, v[0], int(f[2], 8), *v[2:])
    return out


def read_proc_msg() -> dict[int, SysvQueueLine]:
    try:
        with open(PROC_MSG) as f:
            return parse_proc_msg(f.read())
    except OSError:
        return {}


# -- POSIX calls ---------------------------------------------------------------------------


class MqAttr(ctypes.Structure):
    _fields_ = [("mq_flags", ctypes.c_long), ("mq_maxmsg", ctypes.c_long),
                ("mq_msgsize", ctypes.c_long), ("mq_curmsgs", ctypes.c_long),
                ("_reserved", ctypes.c_long * 4)]


_libc.mq_open.restype = ctypes.c_int
_libc.mq_send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint]
_libc.mq_send.restype = ctypes.c_int
_libc.mq_receive.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t,
                             ctypes.POINTER(ctypes.c_uint)]
_libc.mq_receive.restype = ctypes.c_ssize_t
_libc.mq_getattr.argtypes = [ctypes.c_int, ctypes.POINTER(MqAttr)]
_libc.mq_setattr.argtypes = [ctypes.c_int, ctypes.POINTER(MqAttr), ctypes.POINTER(MqAttr)]
_libc.mq_close.argtypes = [ctypes.c_int]
_libc.mq_unlink.argtypes = [ctypes.c_char_p]


def mq_open(name: str, flags: int, mode: int = 0o600,
            attr: tuple[int, int] | None = None) -> int:
    a = None
    if attr is not None:
        a = ctypes.byref(MqAttr(0, attr[0], attr[1], 0))
    fd: int = _libc.mq_open(ctypes.c_char_p(name.encode()), ctypes.c_int(flags),
                       ctypes.c_uint(mode), a)
    if fd < 0:
        raise _fail("mq_open")
    return fd


def mq_send(fd: int, data: bytes, priority: int) -> None:
    if _libc.mq_send(fd, data, len(data), priority) < 0:
        raise _fail("mq_send")


def mq_receive(fd: int, size: int) -> tuple[bytes, int]:
    buf = ctypes.create_string_buffer(size)
    prio = ctypes.c_uint(0)
    n = _libc.mq_receive(fd, buf, size, ctypes.byref(prio))
    if n < 0:
        raise _fail("mq_receive")
    return buf.raw[:n], prio.value


class Timespec(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long))


class SigEvent(ctypes.Structure):
    """struct sigevent (glibc, 64 bytes): a value, the signal, how to notify, padding."""
    _fields_ = (("sigev_value", ctypes.c_void_p), ("sigev_signo", ctypes.c_int),
                ("sigev_notify", ctypes.c_int), ("_pad", ctypes.c_char * 48))


SIGEV_SIGNAL = 0
_libc.mq_timedsend.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint,
                               ctypes.POINTER(Timespec)]
_libc.mq_timedsend.restype = ctypes.c_int
_libc.mq_timedreceive.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t,
                                  ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(Timespec)]
_libc.mq_timedreceive.restype = ctypes.c_ssize_t
_libc.mq_notify.argtypes = [ctypes.c_int, ctypes.POINTER(SigEvent)]
_libc.mq_notify.restype = ctypes.c_int


def deadline(timeout_ms: int) -> Timespec:
    """The absolute CLOCK_REALTIME time `timeout_ms` from now, as mq_timed* take it."""
    ns = time.clock_gettime_ns(time.CLOCK_REALTIME) + timeout_ms * 1_000_000
    return Timespec(ns // 1_000_000_000, ns % 1_000_000_000)


def mq_timedsend(fd: int, data: bytes, priority: int, timeout_ms: int) -> None:
    if _libc.mq_timedsend(fd, data, len(data), priority, ctypes.byref(deadline(timeout_ms))) < 0:
        raise _fail("mq_timedsend")


def mq_timedreceive(fd: int, size: int, timeout_ms: int) -> tuple[bytes, int]:
    buf = ctypes.create_string_buffer(size)
    prio = ctypes.c_uint(0)
    n = _libc.mq_timedreceive(fd, buf, size, ctypes.byref(prio),
                              ctypes.byref(deadline(timeout_ms)))
    if n < 0:
        raise _fail("mq_timedreceive")
    return buf.raw[:n], prio.value


def mq_notify(fd: int, signum: int | None) -> None:
    """Register this process for a signal when a message arrives on the empty queue
    (SIGEV_SIGNAL); None: remove its registration (mq_notify(fd, NULL))."""
    ev = None if signum is None else ctypes.byref(SigEvent(None, signum, SIGEV_SIGNAL))
    if _libc.mq_notify(fd, ev) < 0:
        raise _fail("mq_notify")


def parse_mq_file(text: str) -> dict[str, int]:
    """The fields of a POSIX queue's file ("QSIZE:0 NOTIFY:0 SIGNO:10 NOTIFY_PID:123")."""
    out = {}
    for item in text.split():
        key, _, value = item.partition(":")
        if value.lstrip("-").isdigit():
            out[key] = int(value)
    return out


def read_mq_file(fd: int) -> str | None:
    """The queue file's one line, read at offset 0 with pread: the descriptor's offset and
    the queue are untouched."""
    try:
        return os.pread(fd, 256, 0).decode("ascii", "replace").strip()
    except OSError:
        return None


def mq_getattr(fd: int) -> MqAttr:
    a = MqAttr()
    if _libc.mq_getattr(fd, ctypes.byref(a)) < 0:
        raise _fail("mq_getattr")
    return a


def mq_setattr(fd: int, flags: int) -> MqAttr:
    new, old = MqAttr(flags, 0, 0, 0), MqAttr()
    if _libc.mq_setattr(fd, ctypes.byref(new), ctypes.byref(old)) < 0:
        raise _fail("mq_setattr")
    return old


def mq_close(fd: int) -> None:
    if _libc.mq_close(fd) < 0:
        raise _fail("mq_close")


def mq_unlink(name: str) -> None:
    if _libc.mq_unlink(name.encode()) < 0:
        raise _fail("mq_unlink")


def mq_limits() -> dict[str, int | None]:
    """The POSIX queue limits of this system, read now."""
    return {k: read_int(f"{MQ_DIR}/{k}") for k in
            ("msg_default", "msgsize_default", "msg_max", "msgsize_max", "queues_max")}


# -- what the lesson did to a queue (its record's events) ----------------------------------


def rebuild(events: list[dict[str, Any]], by_priority: bool
            ) -> tuple[list[list[Any]], int, int, int]:
    """The queue as the lesson's own sends and receives leave it, in the kernel's order.

    System V keeps one FIFO list; msgrcv takes the first message of the type it asked for,
    which is always the first message *of the type it got*.  POSIX keeps the highest priority
    first, FIFO within one priority; mq_receive takes the first.  So a receive of (key, text)
    removes the first message with that key and text.  Returns (messages, sent, received,
    duplicates): a receive is a duplicate when more copies of that message were received
    than were ever sent.
    """
    msgs: list[list[Any]] = []  # rows of a Message, as lists
    sent = received = duplicates = 0
    sent_of: dict[tuple[Any, Any, Any], int] = {}
    received_of: dict[tuple[Any, Any, Any], int] = {}
    for ev in events:
        op = ev.get("op")
        if op not in ("send", "receive", "remove"):
            continue
        if op == "remove":
            msgs = []
            continue
        ident = (ev["key"], ev["size"], ev["text"])
        if op == "send":
            sent += 1
            sent_of[ident] = sent_of.get(ident, 0) + 1
            m = [ev["key"], ev["size"], ev["text"], ev.get("by", "?")]
            if by_priority:
                i = next((i for i, x in enumerate(msgs) if x[0] < m[0]), len(msgs))
                msgs.insert(i, m)
            else:
                msgs.append(m)
            continue
        received += 1
        if received_of.get(ident, 0) >= sent_of.get(ident, 0):
            duplicates += 1  # more copies of it received than were ever sent
        received_of[ident] = received_of.get(ident, 0) + 1
        at = next((i for i, x in enumerate(msgs) if (x[0], x[1], x[2]) == ident), None)
        if at is not None:
            del msgs[at]
    return msgs, sent, received, duplicates


def _name_of(pid: int, processes: tuple[Process, ...]) -> str | None:
    if not pid:
        return None
    p = next((p for p in processes if p.pid == pid), None)
    return p.name if p else f"pid {pid}"


def _blocked(oid: str, processes: tuple[Process, ...], calls: tuple[str, ...]
             ) -> tuple[str, ...]:
    return tuple(p.name for p in processes
                 if p.state == BLOCKED and p.waits_on == oid and p.syscall in calls)


# -- System V probe ------------------------------------------------------------------------


def probe_sysv(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> SysvQueueState:
    oid, key, msqid = rec["id"], rec.get("key"), rec.get("msqid")
    events = rec.get("events", [])
    rebuilt, sent, received, dups = rebuild(events, by_priority=False)
    common: dict[str, Any] = dict(
                  key=key, msqid=msqid, sent=sent, received=received, duplicates=dups,
                  system_max_bytes=read_int(MSGMNB), max_message_size=read_int(MSGMAX),
                  blocked_senders=_blocked(oid, processes, ("msgsnd",)),
                  blocked_receivers=_blocked(oid, processes, ("msgrcv",)))
    line = read_proc_msg().get(msqid) if msqid is not None else None
    if line is None or msqid is None or line.key != key:
        return SysvQueueState(oid, "sysv_msgq", present=False, complete=True, **common)
    try:
        qbytes = msgctl_stat(msqid).qbytes
    except OSError:
        qbytes = None
    size = common["max_message_size"] or 65536
    copied, supported = msg_copy(msqid, min(line.qnum, COPY_LIMIT), size)
    if supported:
        contents, source = _attribute(copied, rebuilt), KERNEL
    else:
        contents, source = tuple(tuple(m) for m in rebuilt), INFERRED
    return SysvQueueState(
        oid, "sysv_msgq", present=True, mode=f"{line.perms & 0o777:04o}", messages=line.qnum,
        contents=contents, contents_source=source, complete=len(contents) == line.qnum,
        bytes=line.cbytes, max_bytes=qbytes, owner_uid=line.cuid,
        last_sender=_name_of(line.lspid, processes),
        last_receiver=_name_of(line.lrpid, processes),
        last_send_time=line.stime, last_receive_time=line.rtime, last_change_time=line.ctime,
        **common)


def _attribute(copied: list[tuple[int, bytes]], rebuilt: list[list[Any]]
               ) -> tuple[Message, ...]:
    """The kernel's messages, each with the lesson process whose send matches it."""
    pool = [list(m) for m in rebuilt]
    out = []
    for mtype, data in copied:
        text = preview(data)
        i = next((i for i, m in enumerate(pool)
                  if m[0] == mtype and m[1] == len(data) and m[2] == text), None)
        by = pool.pop(i)[3] if i is not None else "?"
        out.append((mtype, len(data), text, by))
    return tuple(out)


def waits_on_sysv(syscall: str | None, args: tuple[int, ...], fds: tuple[Fd, ...],
                  records: Sequence[Record], pid: int) -> str | None:
    """msgsnd/msgrcv take the msqid as first argument: name the queue it belongs to."""
    if syscall not in ("msgsnd", "msgrcv") or not args:
        return None
    for rec in records:
        if rec.get("kind") == "sysv_msgq" and rec.get("msqid") == args[0]:
            oid: str = rec["id"]
            return oid
    return None


# -- POSIX probe ---------------------------------------------------------------------------


def _holders(oid: str, processes: tuple[Process, ...]) -> list[tuple[Process, Any]]:
    return [(p, f) for p in processes if p.state not in (ZOMBIE, EXITED)
            for f in p.fds if f.object == oid]


def _attr_via_holder(sampler: Sampler, pid: int, fd: int) -> tuple[MqAttr, int, str | None]:
    try:
        mine = pidfd_getfd(sampler.pidfds.get(pid), fd)
    except OSError as err:
        raise ProbeUnavailable(f"pidfd_getfd({pid}, {fd}): {err.strerror}") from None
    try:
        return mq_getattr(mine), os.fstat(mine).st_mode, read_mq_file(mine)
    finally:
        os.close(mine)


def _notify(text: str | None, processes: tuple[Process, ...]
            ) -> tuple[str | None, str | None]:
    """(process to be signalled or "", signal name) from the queue file's text."""
    if text is None:
        return None, None
    fields = parse_mq_file(text)
    pid = fields.get("NOTIFY_PID")
    if pid is None:
        return None, None
    if pid == 0:
        return "", None
    signo = fields.get("SIGNO", 0)
    try:
        sig = signal.Signals(signo).name
    except ValueError:
        sig = f"signal {signo}"
    return _name_of(pid, processes), sig


def _ours(fd: int) -> bool:
    st = os.fstat(fd)
    return st.st_uid == os.geteuid() and not st.st_mode & 0o077


def probe_posix(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> PosixQueueState:
    oid, name = rec["id"], rec.get("name")
    rebuilt, sent, received, dups = rebuild(rec.get("events", []), by_priority=True)
    limits = mq_limits()
    holders = _holders(oid, processes)
    attr = mode = None
    through = text = None
    for p, f in holders:
        try:
            attr, mode, text = _attr_via_holder(sampler, p.pid, f.fd)
            through = f"{p.name}:{f.fd}"
            break
        except (ProbeUnavailable, OSError):
            continue
    present = False
    if name:
        try:
            # Neither O_RDONLY's reading nor anything else happens through this descriptor:
            # it only answers "does the name exist" (and the attributes, if nobody holds it).
            fd = mq_open(name, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            fd = None
        if fd is not None and not _ours(fd):
            os.close(fd)  # the name is another user's queue now: not the lesson's
            fd = None
        if fd is not None:
            present = True
            try:
                if attr is None:
                    attr, mode = mq_getattr(fd), os.fstat(fd).st_mode
                    through, text = "name", read_mq_file(fd)
            finally:
                os.close(fd)
    messages = attr.mq_curmsgs if attr is not None else None
    contents = tuple(tuple(m) for m in rebuilt)
    notify = _notify(text, processes)
    return PosixQueueState(
        oid, "posix_mq", present=present,
        mode=f"{mode & 0o777:04o}" if mode is not None else None,
        messages=messages, contents=contents if attr is not None else (),
        contents_source=INFERRED,
        complete=messages is None or len(contents) == messages,
        sent=sent, received=received, duplicates=dups,
        blocked_senders=_blocked(oid, processes, ("mq_timedsend",)),
        blocked_receivers=_blocked(oid, processes, ("mq_timedreceive",)),
        name=name,
        max_messages=attr.mq_maxmsg if attr is not None else None,
        max_message_size=attr.mq_msgsize if attr is not None else None,
        default_max_messages=limits["msg_default"],
        default_max_message_size=limits["msgsize_default"],
        system_max_messages=limits["msg_max"],
        system_max_message_size=limits["msgsize_max"],
        holders=tuple(f"{p.name}:{f.fd} ({f.end})" if f.end else f"{p.name}:{f.fd}"
                      for p, f in holders),
        read_through=through,
        notify_process=notify[0], notify_signal=notify[1], notify_text=text,
    )


PROBES = {"sysv_msgq": probe_sysv, "posix_mq": probe_posix}
WAITS_ON = [waits_on_sysv]


# -- the system view: every System V queue, like `ipcs -q` ---------------------------------
