"""`ipcviz clean` and the sweep at every start: remove what dead runs left behind.

A run is dead when the conductor named in its run.json (pid and start time) no longer
exists.  Its processes are found by the IPCVIZ_RUN mark in their environment, its kernel
objects by its manifest.  A live run is never touched, nor anything not in a manifest.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .cleanup import kill_run_processes, run_processes
from .rundir import ENV_RUN, RunDir, conductor_alive, runtime_root

# kind -> function(entry) that removes one manifest object; returns a description or None
# if it was already gone.  Mechanisms register theirs (System V queues, POSIX names, ...).
REMOVERS: dict[str, Callable[[dict], str | None]] = {}


def register_remover(kind: str):
    def deco(fn: Callable[[dict], str | None]):
        REMOVERS[kind] = fn
        return fn

    return deco


def remove_objects(rd: RunDir, dry_run: bool = False) -> list[str]:
    done = []
    for entry in reversed(rd.objects()):
        fn = REMOVERS.get(entry.get("kind", ""))
        if fn is None:
            continue
        if dry_run:
            done.append(f"{entry['kind']} {entry.get('name')}")
            continue
        try:
            what = fn(entry)
        except OSError:
            what = None
        if what:
            done.append(what)
    return done


def _marked_run_ids() -> dict[str, list[int]]:
    """run id -> pids of every process on the machine carrying an IPCVIZ_RUN mark."""
    found: dict[str, list[int]] = {}
    prefix = f"{ENV_RUN}=".encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        for item in env.split(b"\0"):
            if item.startswith(prefix):
                found.setdefault(item[len(prefix):].decode(errors="replace"), []).append(
                    int(entry.name))
    return found


def sweep(dry_run: bool = False, root: Path | None = None) -> list[str]:
    root = root or runtime_root()
    report: list[str] = []
    live_ids = set()
    for path in sorted(root.glob("run-*")):
        rd = RunDir(path.name[4:], path)
        info = rd.read_info()
        if conductor_alive(info):
            live_ids.add(rd.run_id)
            continue
        pids = run_processes(rd.run_id)
        if pids:
            report.append(f"run {rd.run_id}: {len(pids)} process(es) {pids}")
            if not dry_run:
                kill_run_processes(rd.run_id)
        report.extend(f"run {rd.run_id}: {what}" for what in remove_objects(rd, dry_run))
        report.append(f"run {rd.run_id}: directory {path}")
        if not dry_run:
            rd.remove()
    # Processes of runs whose directory is already gone (e.g. removed by hand).
    for run_id, pids in _marked_run_ids().items():
        if run_id in live_ids or (root / f"run-{run_id}").exists():
            continue
        if os.getpid() in pids:
            continue
        report.append(f"run {run_id}: {len(pids)} process(es) {pids} (no run directory)")
        if not dry_run:
            kill_run_processes(run_id)
    return report
