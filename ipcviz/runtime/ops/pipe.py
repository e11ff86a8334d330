"""pipe, and the fd calls pipes and FIFOs share: close, dup2, write, read; O_NONBLOCK,
F_SETPIPE_SZ and poll() on their fds."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import select
from typing import Any

from ...kernel import F_SETPIPE_SZ, PIPE_MAX_SIZE
from ...scenario.limits import reserved_fd
from .fds import PREVIEW, as_in_c, fd_of, read_as_in_c, size_of, write_as_in_c
from .types import Arg0, Args, Call, Op, OpWorker, Outcome, Pids


def payload_of(args: dict[str, Any], fd: int) -> bytes:
    if "data" in args:
        payload: bytes = args["data"].encode()
        if "size" in args:
            n = size_of(args["size"], fd)
            payload = (payload * (n // max(1, len(payload)) + 1))[:n]
    else:
        payload = (args.get("fill") or "x").encode()[:1] * size_of(args["size"], fd)
    if args.get("frame") == "length":
        payload = f"{len(payload)}:".encode() + payload
    return payload


def do_pipe(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    # As C's pipe(): without O_CLOEXEC unless asked (Python's os.pipe() always sets it).
    flags = ((os.O_CLOEXEC if args.get("cloexec") else 0)
             | (os.O_NONBLOCK if args.get("nonblock") else 0))
    r, wr = os.pipe2(flags)
    obj = args["object"]
    w.ends[f"{obj}.read"] = r
    w.ends[f"{obj}.write"] = wr
    ino = os.fstat(r).st_ino
    return {"result": [r, wr],
            "objects": [{"id": obj, "kind": "pipe", "inode": ino,
                         "fd_targets": [f"pipe:[{ino}]"]}]}


def do_close(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, args["fd"])
    os.close(fd)
    for key, value in list(w.ends.items()):
        if value == fd:
            del w.ends[key]
    return {"result": 0}


def do_dup2(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, args["fd"])
    to = args["to"]
    if reserved_fd(to):
        raise OSError(errno.EBADF, f"fd {to} is not the lesson's")
    r = os.dup2(fd, to)
    for key, value in list(w.ends.items()):
        if value == to and key != args["fd"]:
            del w.ends[key]
    return {"result": r}


def do_write(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, args["fd"])
    return {"result": write_as_in_c(fd, payload_of(args, fd))}


def _read_framed(fd: int) -> bytes:
    header = b""
    while not header.endswith(b":"):
        b = read_as_in_c(fd, 1)
        if not b:
            break
        header += b
    want = int(header[:-1] or b"0") if header.endswith(b":") else 0
    body = b""
    while len(body) < want:
        b = read_as_in_c(fd, want - len(body))
        if not b:
            break
        body += b
    return body


def do_read(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, args["fd"])
    size = size_of(args.get("size", 4096), fd)
    if args.get("frame") == "length":
        data = _read_framed(fd)
    elif args.get("all"):
        chunks, total = [], 0
        while total < size:
            b = read_as_in_c(fd, min(65536, size - total))
            if not b:
                break
            chunks.append(b)
            total += len(b)
        data = b"".join(chunks)
    else:
        data = read_as_in_c(fd, size)
    return {"result": len(data), "data": data[:PREVIEW].decode("utf-8", "replace"),
            "facts": w.note_read(data)}


def do_set_nonblock(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, args["fd"])
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    on = args.get("on", True)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK if on else flags & ~os.O_NONBLOCK)
    return {"result": 0}


def do_set_pipe_size(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, args["fd"])
    size = size_of(args["size"], fd)
    try:
        return {"result": fcntl.fcntl(fd, F_SETPIPE_SZ, size)}
    except OSError as err:
        raise _explain_set_size(err, fd, size) from None


def _explain_set_size(err: OSError, fd: int, size: int) -> OSError:
    if err.errno == errno.EBUSY:
        return OSError(err.errno, f"the pipe holds more bytes than {size} rounded up to whole "
                       "pages: the kernel never drops data to shrink it")
    if err.errno == errno.EPERM:
        return OSError(err.errno, f"{size} is above {PIPE_MAX_SIZE} and this process lacks "
                       "CAP_SYS_RESOURCE (or the user's pipe pages are used up)")
    return err


_POLL_BITS = (("POLLIN", select.POLLIN), ("POLLPRI", select.POLLPRI),
              ("POLLOUT", select.POLLOUT), ("POLLERR", select.POLLERR),
              ("POLLHUP", select.POLLHUP), ("POLLNVAL", select.POLLNVAL))


class _PollFd(ctypes.Structure):
    _fields_ = (("fd", ctypes.c_int), ("events", ctypes.c_short), ("revents", ctypes.c_short))


_libc = ctypes.CDLL(None, use_errno=True)
_libc.poll.restype = ctypes.c_int
_libc.poll.argtypes = (ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int)


def _events(words: str) -> int:
    return sum(select.POLLIN if e == "in" else select.POLLOUT for e in words.split(","))


def _event_names(bits: int) -> list[str]:
    return [name for name, bit in _POLL_BITS if bits & bit]


def _pollfd(w: OpWorker, args: Args) -> _PollFd:
    """The step's struct pollfd, made once (by ARG0, before the call): its address is the
    first argument /proc/PID/syscall shows while poll() sleeps."""
    pfd = w.handles.get("poll:pollfd")
    if not isinstance(pfd, _PollFd):
        pfd = _PollFd(fd_of(w, args["fd"]), _events(args.get("events", "in")), 0)
        w.handles["poll:pollfd"] = pfd
    return pfd


def _poll_arg0(w: OpWorker, args: Args, pids: Pids) -> int:
    """The pollfd array's address, so that only this very call counts as blocked.  A poll
    with a timeout is a step that lasts until it returns (as `sleep`): an address that never
    matches, so the conductor waits for its result instead of calling it blocked."""
    w.handles.pop("poll:pollfd", None)
    address = ctypes.addressof(_pollfd(w, args))
    return address if args.get("timeout_ms", -1) < 0 else -1


def do_poll(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    pfd = _pollfd(w, args)
    w.handles.pop("poll:pollfd", None)
    # libc's poll through as_in_c: a caught signal ends it with EINTR, as in C
    n = as_in_c(lambda: _libc.poll(ctypes.byref(pfd), 1, args.get("timeout_ms", -1)),
                restart=False)  # never restarted (signal(7))
    w.facts["revents"] = _event_names(pfd.revents)
    return {"result": n, "facts": dict(w.facts)}


class _FdSet(ctypes.Structure):
    _fields_ = (("bits", ctypes.c_ulong * (1024 // (8 * ctypes.sizeof(ctypes.c_ulong)))),)


class _Timeval(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long))


_libc.select.restype = ctypes.c_int
_libc.select.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                         ctypes.c_void_p)
_BITS = 8 * ctypes.sizeof(ctypes.c_ulong)


def _fd_set(fd: int) -> _FdSet:
    if not 0 <= fd < 1024:  # FD_SETSIZE: select() cannot name a larger fd
        raise OSError(errno.EINVAL, f"fd {fd} is past FD_SETSIZE (1024)")
    s = _FdSet()
    s.bits[fd // _BITS] = 1 << (fd % _BITS)
    return s


def _is_set(s: _FdSet, fd: int) -> bool:
    return bool(s.bits[fd // _BITS] >> (fd % _BITS) & 1)


def _select_arg0(w: OpWorker, args: Args, pids: Pids) -> int:
    """nfds = fd + 1, as /proc/PID/syscall shows it while select sleeps; with a timeout, a
    value no call shows: the step lasts until select returns (see _poll_arg0)."""
    return fd_of(w, args["fd"]) + 1 if args.get("timeout_ms", -1) < 0 else -1


def do_select(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, args["fd"])
    events = args.get("events", "in").split(",")
    rd = _fd_set(fd) if "in" in events else None
    wr = _fd_set(fd) if "out" in events else None
    ms = args.get("timeout_ms", -1)
    tv = _Timeval(ms // 1000, ms % 1000 * 1000) if ms >= 0 else None
    n = as_in_c(lambda: _libc.select(
        fd + 1, ctypes.byref(rd) if rd else None, ctypes.byref(wr) if wr else None, None,
        ctypes.byref(tv) if tv else None), restart=False)  # never restarted (signal(7))
    w.facts["ready"] = [name for name, s in (("read", rd), ("write", wr))
                        if s is not None and _is_set(s, fd)]
    return {"result": n, "facts": dict(w.facts)}


def _call_select(w: OpWorker, a: Args, p: Pids) -> str:
    fd = fd_of(w, a["fd"])
    events = a.get("events", "in").split(",")
    sets = ", ".join(f"[{fd}]" if e in events else "NULL" for e in ("in", "out"))
    ms = a.get("timeout_ms", -1)
    tv = f"{{{ms // 1000}, {ms % 1000 * 1000}}}" if ms >= 0 else "NULL"
    return f"select({fd + 1}, {sets}, NULL, {tv})"


OPS: dict[str, Op] = {"pipe": do_pipe, "close": do_close, "dup2": do_dup2, "write": do_write,
       "read": do_read, "set_nonblock": do_set_nonblock, "set_pipe_size": do_set_pipe_size,
       "poll": do_poll, "select": do_select}


def _q(text: str, limit: int = 24) -> str:
    t = text if len(text) <= limit else text[:limit] + "..."
    return '"' + t.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _call_write(w: OpWorker, a: Args, p: Pids) -> str:
    fd = fd_of(w, a["fd"])
    payload = payload_of(a, fd)
    text = payload.decode("utf-8", "replace")
    if len(set(payload)) == 1 and len(payload) > 24:
        return f"write({fd}, \"{text[0]}\"..., {len(payload)})"
    return f"write({fd}, {_q(text)}, {len(payload)})"


def _call_read(w: OpWorker, a: Args, p: Pids) -> str:
    fd = fd_of(w, a["fd"])
    if a.get("frame") == "length":
        return f"read_message({fd})"
    size = size_of(a.get("size", 4096), fd)
    return f"read({fd}, buf, {size})" + (" until EOF or full" if a.get("all") else "")


def _call_poll(w: OpWorker, a: Args, p: Pids) -> str:
    events = "|".join(_event_names(_events(a.get("events", "in"))))
    return f"poll([{{fd={fd_of(w, a['fd'])}, events={events}}}], 1, {a.get('timeout_ms', -1)})"


def _call_set_nonblock(w: OpWorker, a: Args, p: Pids) -> str:
    change = "flags | O_NONBLOCK" if a.get("on", True) else "flags & ~O_NONBLOCK"
    return f"fcntl({fd_of(w, a['fd'])}, F_SETFL, {change})"


def _call_pipe(w: OpWorker, a: Args, p: Pids) -> str:
    flags = [f for f, on in (("O_CLOEXEC", a.get("cloexec")),
                             ("O_NONBLOCK", a.get("nonblock"))) if on]
    return f"pipe2(fd, {'|'.join(flags)})" if flags else "pipe(fd)"


CALLS: dict[str, Call] = {
    "pipe": _call_pipe,
    "set_nonblock": _call_set_nonblock,
    "set_pipe_size": lambda w, a, p: (f"fcntl({fd_of(w, a['fd'])}, F_SETPIPE_SZ, "
                                      f"{size_of(a['size'], fd_of(w, a['fd']))})"),
    "poll": _call_poll,
    "select": _call_select,
    "close": lambda w, a, p: f"close({fd_of(w, a['fd'])})",
    "dup2": lambda w, a, p: f"dup2({fd_of(w, a['fd'])}, {a['to']})",
    "write": _call_write,
    "read": _call_read,
}

# The first argument of the call, for matching /proc/PID/syscall while it sleeps.
ARG0: dict[str, Arg0] = {"write": lambda w, a, p: fd_of(w, a["fd"]),
                         "read": lambda w, a, p: fd_of(w, a["fd"]),
                         "poll": _poll_arg0, "select": _select_arg0}
