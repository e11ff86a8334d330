"""What the ops of every mechanism share: fd arguments, byte counts, and what a process
knows of all it has read.  Not a mechanism: it names none."""

from __future__ import annotations

import errno
import fcntl
import re
import select
from typing import Any

from ...scenario.actions import SIZE_RE
from ...scenario.limits import MAX_SIZE, reserved_fd

F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)
PREVIEW = 120  # bytes of read data sent back as text
_RUN_RE = re.compile(rb"(.)\1*", re.S)


def fd_of(w, ref: Any) -> int:
    """An fd number from a step's fd argument: a number, or an end like "p.read"."""
    if isinstance(ref, int):
        if reserved_fd(ref):  # ipcviz's own (control socket, wake-up pipe): never the lesson's
            raise OSError(errno.EBADF, f"fd {ref} is not the lesson's")
        return ref
    if ref not in w.ends:
        raise OSError(errno.EBADF, f"{w.name} holds no fd for {ref}")
    return w.ends[ref]


def size_of(expr: Any, fd: int) -> int:
    """A byte count: a number, or capacity / PIPE_BUF (+ - * N), read on this machine."""
    if isinstance(expr, int):
        return expr
    base_txt, op, n = SIZE_RE.match(expr).groups()
    if base_txt == "capacity":
        base = fcntl.fcntl(fd, F_GETPIPE_SZ)
    elif base_txt == "PIPE_BUF":
        base = select.PIPE_BUF
    else:
        base = int(base_txt)
    if (op == "*" and base * int(n) > MAX_SIZE) or (op == "+" and base + int(n) > MAX_SIZE):
        raise OSError(errno.EINVAL, f"{expr} is more than {MAX_SIZE} bytes")
    if op == "+":
        return base + int(n)
    if op == "-":
        return max(0, base - int(n))
    if op == "*":
        return base * int(n)
    return base


def note_read(facts: dict, runs: list, data: bytes) -> dict:
    """Update what a process knows of all it has read: total, runs of one repeated byte."""
    for m in _RUN_RE.finditer(data):
        b, n = m.group()[0], len(m.group())
        if runs and runs[-1][0] == b:
            runs[-1][1] += n
        else:
            runs.append([b, n])
    facts["data"] = data[:PREVIEW].decode("utf-8", "replace")
    facts["received"] = facts.get("received", 0) + len(data)
    facts["runs"] = len(runs)
    facts["min_run"] = min((n for _, n in runs), default=0)
    return dict(facts)
