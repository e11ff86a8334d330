"""Messages between the conductor and the run's processes: one JSON object per line.

worker -> conductor
    {"t": "hello", "name": N, "pid": P, "role": "worker"|"runner"}
    {"t": "began", "step": K}                      just before the system call
    {"t": "done", "step": K, "result": R, ...}     the call returned R
    {"t": "failed", "step": K, "errno": "EPIPE", "errno_num": 32, "message": ...}
    {"t": "handled", "signal": "SIGUSR1"}          a handler installed by a scenario ran
    {"t": "reaped", "pid": P, "status": S}         (runner) a child or orphan was reaped
conductor -> worker
    {"t": "step", "step": K, "action": A, "args": {...}, "pids": {name: pid}}
conductor -> runner
    {"t": "spawn", "name": N}                      fork a root process of the scenario
    {"t": "shutdown"}                              kill every process of the run and exit
"""

from __future__ import annotations

import json
import os
from typing import Any

# Every worker keeps its control socket on CONTROL_FD (900), out of the way of the fds a
# scenario creates (so pipe() returns 3 and 4 as it would in a C program).  The probe hides
# it.  A lesson may not name it, nor any fd from RESERVED_FD_FLOOR up: scenario/limits.py.
from ..scenario.limits import CONTROL_FD, MAX_MESSAGE

__all__ = ["CONTROL_FD", "LineReader", "ProtocolError", "encode", "send_fd"]


class ProtocolError(ValueError):
    """A control message that is not one: not JSON, not an object, or too long."""


def encode(msg: dict[str, Any]) -> bytes:
    return (json.dumps(msg, separators=(",", ":"), default=str) + "\n").encode()


class LineReader:
    """Splits a byte stream into JSON messages."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """The whole messages in what came so far.  ProtocolError for anything else."""
        self.buffer += data
        out = []
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            if line.strip():
                try:
                    msg = json.loads(line)
                except (ValueError, RecursionError):
                    raise ProtocolError(f"not a message: {line[:40]!r}") from None
                if not isinstance(msg, dict):
                    raise ProtocolError(f"not a message: {line[:40]!r}")
                out.append(msg)
        if len(self.buffer) > MAX_MESSAGE:
            raise ProtocolError(f"a message longer than {MAX_MESSAGE} bytes")
        return out


def send_fd(fd: int, msg: dict[str, Any]) -> None:
    data = encode(msg)
    while data:
        n = os.write(fd, data)
        data = data[n:]
