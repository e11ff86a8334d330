"""pipe, and the fd calls pipes and FIFOs share: close, dup2, write, read."""

from __future__ import annotations

import errno
import os
from typing import Any

from ...scenario.limits import reserved_fd
from .fds import PREVIEW, fd_of, read_as_in_c, size_of, write_as_in_c
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
    r, wr = os.pipe2(os.O_CLOEXEC if args.get("cloexec") else 0)
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


OPS: dict[str, Op] = {"pipe": do_pipe, "close": do_close, "dup2": do_dup2, "write": do_write,
       "read": do_read}


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


CALLS: dict[str, Call] = {
    "pipe": lambda w, a, p: "pipe2(fd, O_CLOEXEC)" if a.get("cloexec") else "pipe(fd)",
    "close": lambda w, a, p: f"close({fd_of(w, a['fd'])})",
    "dup2": lambda w, a, p: f"dup2({fd_of(w, a['fd'])}, {a['to']})",
    "write": _call_write,
    "read": _call_read,
}

# The first argument of the call, for matching /proc/PID/syscall while it sleeps.
ARG0: dict[str, Arg0] = {"write": lambda w, a, p: fd_of(w, a["fd"]),
                         "read": lambda w, a, p: fd_of(w, a["fd"])}
