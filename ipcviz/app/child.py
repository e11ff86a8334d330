"""A measurement in a clean child process: `python -m MODULE ARGS`, JSON lines on stdout.

The app has threads (Textual's, its workers'), and fork() in a threaded process copies
locks held by other threads into a child that will never release them (deprecated from
Python 3.12).  So the reference screens do not fork: they start a fresh interpreter the way
the runner is started (subprocess: fork and exec in C, nothing of ours between them), in a
session of its own, stdin from /dev/null, stderr to /dev/null (a child must never write to
the app's terminal), stdout a pipe of JSON objects, one per line.  Every wait is bounded;
stop() asks it to end (SIGTERM: it finishes the measurement in flight and cleans up),
close() makes sure it has (SIGKILL to its process group after a grace period).

No textual or rich here.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence

POLL = 0.1  # seconds between looks at the stop event while waiting for a line
GRACE = 10.0  # seconds a stopped child gets to clean up before SIGKILL


class ChildError(Exception):
    """The child failed, said something that is not JSON, or was silent too long."""


class JsonChild:
    def __init__(self, module: str, args: Sequence[str] = (), *, idle_timeout: float) -> None:
        self.module = module
        self.idle_timeout = idle_timeout
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
            close_fds=True)
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def lines(self, stop: threading.Event) -> Iterator[dict]:
        """Each JSON object the child writes, until EOF.  Raises ChildError when it is silent
        for idle_timeout seconds, writes a line that is not a JSON object, or exits non-zero;
        returns early (no error) when `stop` is set."""
        out = self.proc.stdout
        assert out is not None
        fd = out.fileno()
        os.set_blocking(fd, False)
        buf = b""
        last = time.monotonic()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while not stop.is_set():
                if not sel.select(POLL):
                    if time.monotonic() - last > self.idle_timeout:
                        raise ChildError(f"{self.module} said nothing for "
                                         f"{self.idle_timeout:g} s")
                    continue
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                last = time.monotonic()
                if not chunk:
                    break
                buf += chunk
                *whole, buf = buf.split(b"\n")
                for line in whole:
                    if line.strip():
                        yield self._parse(line)
        if stop.is_set():
            return
        if buf.strip():
            yield self._parse(buf)
        code = self.wait(GRACE)
        if code != 0:
            raise ChildError(f"{self.module} ended with {_describe(code)}")

    def _parse(self, line: bytes) -> dict:
        try:
            value = json.loads(line)
        except ValueError:
            raise ChildError(f"{self.module} wrote a line that is not JSON") from None
        if not isinstance(value, dict):
            raise ChildError(f"{self.module} wrote JSON that is not an object")
        return value

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """Ask the child to end (it cleans up after the measurement in flight).  Never
        blocks: callable from the event loop."""
        with self._lock:
            if self.proc.returncode is None and self.proc.poll() is None:
                try:
                    self.proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def close(self, grace: float = GRACE) -> None:
        """Make sure the child and everything in its process group has ended; reap it."""
        self.stop()
        if self.wait(grace) is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(grace)  # bounded too: a child stuck in the kernel is left
            except subprocess.TimeoutExpired:
                pass
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _describe(code: int | None) -> str:
    if code is None:
        return "no exit (still running)"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:  # a real-time signal has no name of its own
            return f"signal {-code}"
    return f"exit status {code}"

