"""Finding and ending what a run left behind: its processes (by the IPCVIZ_RUN mark in their
environment) and its kernel objects (by the run's manifest)."""

from __future__ import annotations

import os
import signal
import time

from .rundir import ENV_RUN


def run_processes(run_id: str, exclude: tuple[int, ...] = ()) -> list[int]:
    """PIDs of live processes whose environment carries IPCVIZ_RUN=<run_id>."""
    mark = f"{ENV_RUN}={run_id}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid in exclude:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue  # gone, or not ours to read
        if mark in env.split(b"\0"):
            found.append(pid)
    return found


def kill_run_processes(run_id: str, exclude: tuple[int, ...] = (), timeout: float = 3.0) -> int:
    """SIGKILL every process of the run until none is left (or the time is up).

    Returns how many processes were signalled.  Zombies are not counted as left: their
    parent (or the runner, or init) reaps them.
    """
    deadline = time.monotonic() + timeout
    killed: set[int] = set()
    while True:
        alive = [p for p in run_processes(run_id, exclude) if not _is_zombie(p)]
        if not alive or time.monotonic() > deadline:
            return len(killed)
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        _reap_children()
        time.sleep(0.01)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return True
    return data[data.rindex(b")") + 2 : data.rindex(b")") + 3] in (b"Z", b"X")


def _reap_children() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
