"""`ipcviz clean` and the sweep at every start: remove what dead runs left behind.

A run is dead when the conductor named in its run.json (pid and start time) no longer
exists.  Its processes are found by the IPCVIZ_RUN mark in their environment, its kernel
objects by its manifest.  A live run is never touched, nor anything not in a manifest.
`ipcviz bench` keeps one such run directory per measurement, so it is swept the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from .cleanup import kill_run_processes, run_processes
from .rundir import ENV_CONDUCTOR, ENV_RUN, RunDir, conductor_alive, runtime_root

# kind -> function(entry) that removes one manifest object; returns a description or None
# if it was already gone.  Mechanisms register theirs (System V queues, POSIX names, ...).
REMOVERS: dict[str, Callable[[dict], str | None]] = {}


def register_remover(kind: str):
    def deco(fn: Callable[[dict], str | None]):
        REMOVERS[kind] = fn
        return fn

    return deco


def _load_removers() -> None:
    """Import each mechanism's ops module (they register their removers); one that fails
    to import must not keep the others from cleaning up."""
    from importlib import import_module

    from .ops import MODULES

    for name in MODULES:
        try:
            import_module(f"ipcviz.runtime.ops.{name}")
        except Exception as err:  # noqa: BLE001 - report and go on with the other kinds
            print(f"ipcviz: cannot load the {name} cleanup: {type(err).__name__}: {err}",
                  file=sys.stderr)


def remove_objects(rd: RunDir, dry_run: bool = False) -> list[str]:
    """Remove every object of the run's manifest that still exists (newest first)."""
    _load_removers()

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


def _orphans() -> dict[str, list[int]]:
    """run id -> pids of this user's marked processes whose own conductor is dead."""
    found: dict[str, list[int]] = {}
    uid = os.getuid()
    run_prefix = f"{ENV_RUN}=".encode()
    cond_prefix = f"{ENV_CONDUCTOR}=".encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != uid:
                continue  # never another user's processes, even as root
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        run_id = next((e[len(run_prefix):] for e in env if e.startswith(run_prefix)), None)
        conductor = next((e[len(cond_prefix):] for e in env if e.startswith(cond_prefix)), None)
        if run_id is None or conductor is None:
            continue
        pid_text, _, start_text = conductor.decode(errors="replace").partition(":")
        try:
            info = {"conductor_pid": int(pid_text), "conductor_start": int(start_text)}
        except ValueError:
            continue
        if not conductor_alive(info):
            found.setdefault(run_id.decode(errors="replace"), []).append(int(entry.name))
    return found


def _is_runner(pid: int) -> bool:
    """The process is the runner of its run (run.json in its working directory names it):
    killing it from another runtime root would stop it half-way through removing the run's
    kernel objects, which only it can find."""
    try:
        with open(f"/proc/{pid}/cwd/run.json") as f:
            return json.load(f).get("runner_pid") == pid
    except (OSError, ValueError, AttributeError):
        return False


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
    # A directory being made (RunDir.create) by a process killed before renaming it: it
    # holds no object yet (objects are recorded after the rename), only its own files.
    for path in sorted(root.glob(".new-*")):
        if conductor_alive(RunDir(path.name[5:], path).read_info()):
            continue
        report.append(f"unfinished run directory {path}")
        if not dry_run:
            shutil.rmtree(path, ignore_errors=True)
    # Processes whose conductor is dead but whose run directory is elsewhere or gone.
    for run_id, pids in _orphans().items():
        if run_id in live_ids or (root / f"run-{run_id}").exists() or os.getpid() in pids:
            continue
        if any(_is_runner(pid) for pid in pids):
            continue  # its runner is alive and tearing the run down itself (objects too)
        report.append(f"run {run_id}: {len(pids)} process(es) {pids} (no run directory)")
        if not dry_run:
            kill_run_processes(run_id)
    return report
