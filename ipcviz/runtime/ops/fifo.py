"""FIFOs: mkfifo in the run's private directory, open (blocking or not), lseek, unlink.

The fd open() returns becomes the object's end ("f.read" / "f.write"), so the pipe's
read / write / close / dup2 work on it unchanged.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from ..rundir import RunDir
from .fds import fd_of, open_as_in_c
from .ipc import remove_in_run_subdir
from .types import Arg0, Args, Call, Op, OpWorker, Outcome, Pids, Remover

AT_FDCWD = -100


def fifo_path(w: OpWorker, obj: str) -> str:
    return str(w.rundir.fifo_dir / obj)


def _record(obj: str, path: str) -> dict[str, Any]:
    # A FIFO's fds readlink to its path ("... (deleted)" once unlinked).
    return {"id": obj, "kind": "fifo", "path": path,
            "fd_targets": [path, f"{path} (deleted)"]}


def do_mkfifo(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    path = fifo_path(w, obj)
    w.rundir.record("fifo", path)  # in the manifest before it exists
    os.mkfifo(path, 0o600)
    return {"result": 0, "objects": [_record(obj, path)]}


def do_open(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    path = fifo_path(w, obj)
    flags = os.O_RDONLY if args["mode"] == "read" else os.O_WRONLY
    if args.get("nonblock"):
        flags |= os.O_NONBLOCK
    fd = open_as_in_c(path, flags)  # openat(AT_FDCWD, path, flags): may sleep for a partner
    w.ends[f"{obj}.{args['mode']}"] = fd
    return {"result": fd, "objects": [_record(obj, path)]}


_WHENCE = {"set": os.SEEK_SET, "cur": os.SEEK_CUR, "end": os.SEEK_END}


def do_lseek(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, args["fd"])
    return {"result": os.lseek(fd, int(args.get("offset", 0)), _WHENCE[args.get("whence",
                                                                               "set")])}


def do_unlink(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    os.unlink(fifo_path(w, args["object"]))
    return {"result": 0}


OPS: dict[str, Op] = {"mkfifo": do_mkfifo, "open": do_open, "lseek": do_lseek, "unlink": do_unlink}


def _call_open(w: OpWorker, a: Args, p: Pids) -> str:
    flags = "O_RDONLY" if a["mode"] == "read" else "O_WRONLY"
    if a.get("nonblock"):
        flags += " | O_NONBLOCK"
    return f'open("{fifo_path(w, a["object"])}", {flags})'


CALLS: dict[str, Call] = {
    "mkfifo": lambda w, a, p: f'mkfifo("{fifo_path(w, a["object"])}", 0600)',
    "open": _call_open,
    "lseek": lambda w, a, p: f"lseek({fd_of(w, a['fd'])}, {a.get('offset', 0)}, "
                             f"SEEK_{a.get('whence', 'set').upper()})",
    "unlink": lambda w, a, p: f'unlink("{fifo_path(w, a["object"])}")',
}

# open() of a FIFO sleeps in openat(AT_FDCWD, path, ...) (glibc's open).  The dirfd is an
# int: it travels in the low 32 bits of the register, and /proc/PID/syscall shows
# 0xffffff9c, not -100 sign-extended to 64 bits.  lseek takes the fd.
ARG0: dict[str, Arg0] = {"open": lambda w, a, p: AT_FDCWD % (1 << 32),
        "lseek": lambda w, a, p: fd_of(w, a["fd"])}


def remove_fifo(entry: dict[str, Any], rd: RunDir) -> str | None:
    """Remove a FIFO of the manifest: only a FIFO of ours in the run's own fifo/."""
    path = remove_in_run_subdir(entry, rd, "fifo", stat.S_ISFIFO)
    return f"fifo {path}" if path else None


# kind -> what `ipcviz clean` and the end of a run call for each manifest line of that kind
REMOVERS: dict[str, Remover] = {"fifo": remove_fifo}
