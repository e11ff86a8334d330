"""socketpair: two connected Unix domain sockets, stream or datagram.

Its two fds become the object's ends ("s.a" / "s.b"), inherited through fork like a
pipe's, so the pipe's read / write / close / dup2 work on them unchanged.  Nothing is
named in the file system, so the run's manifest has nothing to remove: the kernel frees
the pair when the last fd on it closes.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from .types import Arg0, Args, Call, Op, OpWorker, Outcome, Pids, Remover

TYPES = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM}
C_TYPES = {"stream": "SOCK_STREAM", "dgram": "SOCK_DGRAM"}


def record(obj: str, ino_a: int, ino_b: int) -> dict[str, Any]:
    """The object as the probe finds it: each end is its own socket, with its own inode."""
    ta, tb = f"socket:[{ino_a}]", f"socket:[{ino_b}]"
    return {"id": obj, "kind": "socketpair", "inode_a": ino_a, "inode_b": ino_b,
            "fd_targets": [ta, tb], "fd_ends": {ta: "a", tb: "b"}}


def do_socketpair(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    a, b = socket.socketpair(socket.AF_UNIX, TYPES[args.get("type", "stream")])
    fa, fb = a.detach(), b.detach()  # plain fds from now on, as the lesson's C has them
    w.ends[f"{obj}.a"] = fa
    w.ends[f"{obj}.b"] = fb
    return {"result": [fa, fb],
            "objects": [record(obj, os.fstat(fa).st_ino, os.fstat(fb).st_ino)]}


OPS: dict[str, Op] = {"socketpair": do_socketpair}

CALLS: dict[str, Call] = {
    "socketpair": lambda w, a, p:
        f"socketpair(AF_UNIX, {C_TYPES[a.get('type', 'stream')]}, 0, sv)",
}

ARG0: dict[str, Arg0] = {}  # socketpair never sleeps

REMOVERS: dict[str, Remover] = {}  # nothing outlives its last fd
