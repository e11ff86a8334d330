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

from ..reserved import CONTROL_FD  # noqa: F401  the worker's socket fd; the probe knows it too


def encode(msg: dict[str, Any]) -> bytes:
    return (json.dumps(msg, separators=(",", ":"), default=str) + "\n").encode()


class LineReader:
    """Splits a byte stream into JSON messages."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self.buffer += data
        out = []
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            if line.strip():
                out.append(json.loads(line))
        return out


def send_fd(fd: int, msg: dict[str, Any]) -> None:
    data = encode(msg)
    while data:
        n = os.write(fd, data)
        data = data[n:]
