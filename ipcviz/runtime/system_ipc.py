"""Every System V queue of this machine, ipcviz's own marked: what the kernel lists
(/proc/sysvipc/msg, read by the probe) joined with the runs' manifests (runtime).  The
probe knows no run directory, so the join lives here, above both."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..probe.msgq import read_proc_msg
from .rundir import RunDir, RunDirError, runtime_root


@dataclass(frozen=True)
class SystemQueue:
    """One System V queue of this machine, as `ipcs -q` lists it."""

    key: int
    msqid: int
    owner_uid: int
    perms: str  # "0600"
    bytes: int  # used-bytes
    messages: int
    last_sender_pid: int
    last_receiver_pid: int
    ours: bool  # created by an ipcviz run of this user (found in a manifest)
    run_id: str | None = None
    object: str | None = None  # the lesson's name for it


def manifest_queues() -> dict[tuple[int, int | None], tuple[str, str]]:
    """(key, msqid or None) -> (run id, object) for every System V queue in a manifest."""
    try:
        root = runtime_root()
    except RunDirError:
        return {}
    out: dict[tuple[int, int | None], tuple[str, str]] = {}
    for path in root.glob("run-*"):
        rd = RunDir(path.name[4:], path)
        for entry in rd.objects():
            if entry.get("kind") == "sysv_msgq" and isinstance(entry.get("key"), int):
                out[(entry["key"], entry.get("msqid"))] = (rd.run_id, entry.get("name", "?"))
    return out


def system_queues() -> list[SystemQueue]:
    """Every System V queue on this machine (from /proc/sysvipc/msg), ipcviz's own marked."""
    mine = manifest_queues()
    out = []
    for line in sorted(read_proc_msg().values(), key=lambda q: q.msqid):
        owner = mine.get((line.key, line.msqid))
        if owner is None and line.cuid == os.getuid():
            owner = mine.get((line.key, None))
        out.append(SystemQueue(line.key, line.msqid, line.uid, f"{line.perms & 0o777:04o}",
                               line.cbytes, line.qnum, line.lspid, line.lrpid,
                               owner is not None, *(owner or (None, None))))
    return out
