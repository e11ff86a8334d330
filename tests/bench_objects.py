"""Is an object of an `ipcviz bench` manifest there? Asked of the kernel, not of ipcviz."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def _sysv_queues() -> set[tuple[int, int]]:
    """(key, msqid) of every System V queue (/proc/sysvipc/msg, the key in decimal)."""
    with open("/proc/sysvipc/msg") as f:
        next(f)
        return {(int(line.split()[0]), int(line.split()[1])) for line in f if line.strip()}


def exists(entry: dict) -> bool:
    """The manifest line's object exists right now (a System V line: only with its msqid)."""
    kind, name = entry["kind"], entry["name"]
    if kind == "sysv_msgq":
        return (entry["key"], entry.get("msqid")) in _sysv_queues()
    if kind == "posix_mq":
        if os.path.isdir("/dev/mqueue"):
            return os.path.exists(f"/dev/mqueue{name}")
        import posix_ipc

        try:
            posix_ipc.MessageQueue(name).close()  # opens the queue, never creates it
        except posix_ipc.ExistentialError:
            return False
        return True
    if kind == "shm":
        return os.path.exists(f"/dev/shm{name}")
    if kind == "sem":
        return os.path.exists(f"/dev/shm/sem.{name[1:]}")
    if kind == "fifo":
        return os.path.exists(name) and stat.S_ISFIFO(os.lstat(name).st_mode)
    raise AssertionError(f"unexpected manifest kind {kind}")


def live(entries: list[dict]) -> list[dict]:
    return [e for e in entries if exists(e)]


def manifests(runtime_dir: Path, pid: int) -> dict[str, list[dict]]:
    """run id -> manifest lines, for every run directory that process `pid` created."""
    from ipcviz.runtime.rundir import RunDir

    out = {}
    for path in runtime_dir.glob("run-*"):
        rd = RunDir(path.name[4:], path)
        if rd.read_info().get("conductor_pid") == pid:
            out[rd.run_id] = rd.objects()
    return out
