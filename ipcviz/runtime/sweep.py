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
import stat
import sys
import time
from collections.abc import Callable
from typing import Any
from pathlib import Path

from .cleanup import kill_run_processes, marked_processes, run_processes
from .rundir import (
    ENV_CONDUCTOR,
    ENV_RUN,
    NEW_MAX_AGE,
    RunDir,
    conductor_alive,
    new_dir_maker,
    open_root,
    process_start_time,
    runtime_root,
)

# kind -> function(entry, rundir) that removes one manifest object of that run; returns a
# description or None if it was already gone or is not the run's own.  Each mechanism's
# ops module names its own in a module-level REMOVERS, collected here.
REMOVERS: dict[str, Callable[[dict[str, Any], RunDir], str | None]] = {}


def _load_removers() -> None:
    """Collect REMOVERS from each mechanism's ops module; one that fails to import must
    not keep the others from cleaning up."""
    from importlib import import_module

    from .ops import MODULES

    for name in MODULES:
        try:
            REMOVERS.update(getattr(import_module(f"ipcviz.runtime.ops.{name}"), "REMOVERS", {}))
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
            what = fn(entry, rd)
        except OSError:
            what = None
        if what:
            done.append(what)
    return done


def _orphans() -> dict[tuple[str, str], list[int]]:
    """(run id, conductor mark) -> pids of this user's marked processes whose own conductor
    is dead."""
    found: dict[tuple[str, str], list[int]] = {}
    for pid, env in marked_processes(ENV_RUN):
        run_id, conductor = env.get(ENV_RUN), env.get(ENV_CONDUCTOR)
        if not run_id or not conductor:
            continue
        pid_text, _, start_text = conductor.partition(":")
        try:
            info = {"conductor_pid": int(pid_text), "conductor_start": int(start_text)}
        except ValueError:
            continue
        if not conductor_alive(info):
            found.setdefault((run_id, conductor), []).append(pid)
    return found


def _is_runner(pid: int) -> bool:
    """The process is the runner of its run (run.json in its working directory names it):
    killing it from another runtime root would stop it half-way through removing the run's
    kernel objects, which only it can find."""
    try:
        with open(f"/proc/{pid}/cwd/run.json") as f:
            return bool(json.load(f).get("runner_pid") == pid)
    except (OSError, ValueError, AttributeError):
        return False


def _conductor_mark(info: dict[str, Any]) -> str | None:
    pid, start = info.get("conductor_pid"), info.get("conductor_start")
    if isinstance(pid, int) and isinstance(start, int):
        return f"{pid}:{start}"
    return None


def _new_dir_stale(root_fd: int, name: str) -> bool:
    """A ".new-*" directory is left behind only if the process named in it (pid and start
    time) is gone; one of an older form, if the conductor its run.json names is gone, or
    (no run.json yet) once it is older than NEW_MAX_AGE."""
    maker = new_dir_maker(name)
    if maker is not None:
        return process_start_time(maker[0]) != maker[1]
    rd = RunDir.at(root_fd, Path("."), name, name[5:])
    if rd is not None:
        try:
            info = rd.read_info()
        finally:
            rd.close()
        if "conductor_pid" in info:  # its run.json was written: it names the maker
            return not conductor_alive(info)
    try:
        st = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
    except OSError:
        return False
    return time.time() - st.st_mtime > NEW_MAX_AGE


def _rmtree(root_fd: int, name: str) -> None:
    """Remove a directory of the root by its fd (shutil's fd-based walk: it never follows a
    symbolic link, nor leaves the tree)."""
    shutil.rmtree(name, ignore_errors=True, dir_fd=root_fd)


def sweep(dry_run: bool = False, root: Path | None = None) -> list[str]:
    root = root or runtime_root()
    root_fd = open_root(root)
    try:
        return _sweep(root, root_fd, dry_run)
    finally:
        os.close(root_fd)


def live_conductors(root: Path | None = None) -> set[int]:
    """PIDs of the conductors of this root's live runs (the runs `sweep` leaves alone)."""
    root = root or runtime_root()
    root_fd = open_root(root)
    found: set[int] = set()
    try:
        with os.scandir(root_fd) as it:
            names = sorted(e.name for e in it if e.name.startswith("run-"))
        for name in names:
            rd = RunDir.at(root_fd, root, name, name[4:])
            if rd is None:
                continue
            try:
                info = rd.read_info()
            finally:
                rd.close()
            if conductor_alive(info):
                found.add(info["conductor_pid"])
    finally:
        os.close(root_fd)
    return found


def _sweep(root: Path, root_fd: int, dry_run: bool) -> list[str]:
    report: list[str] = []
    with os.scandir(root_fd) as it:
        names = sorted(e.name for e in it)
    live_ids = _sweep_runs(root, root_fd, names, dry_run, report)
    _sweep_unfinished(root, root_fd, names, dry_run, report)
    _sweep_orphans(root_fd, live_ids, dry_run, report)
    return report


def _sweep_runs(root: Path, root_fd: int, names: list[str], dry_run: bool,
                report: list[str]) -> set[str]:
    """The run directories of dead conductors: their processes, objects and the directory
    itself; the ids of the runs still alive."""
    live_ids = set()
    for name in names:
        if not name.startswith("run-"):
            continue
        rd = RunDir.at(root_fd, root, name, name[4:])
        if rd is None:
            continue  # not a directory of ours (a symbolic link, a file): never touched
        try:
            info = rd.read_info()
            if conductor_alive(info):
                live_ids.add(rd.run_id)
                continue
            conductor = _conductor_mark(info) if info.get("run_id") == rd.run_id else None
            pids = run_processes(rd.run_id, conductor=conductor) if conductor else []
            if pids:
                report.append(f"run {rd.run_id}: {len(pids)} process(es) {pids}")
                if not dry_run:
                    kill_run_processes(rd.run_id, conductor=conductor)
            report.extend(f"run {rd.run_id}: {what}" for what in remove_objects(rd, dry_run))
            report.append(f"run {rd.run_id}: directory {rd.path}")
        finally:
            rd.close()
        if not dry_run:
            _rmtree(root_fd, name)
    return live_ids


def _sweep_unfinished(root: Path, root_fd: int, names: list[str], dry_run: bool,
                      report: list[str]) -> None:
    # A directory being made (RunDir.create) by a process killed before renaming it: it
    # holds no object yet (objects are recorded after the rename), only its own files.
    for name in names:
        if not name.startswith(".new-") or not _new_dir_stale(root_fd, name):
            continue
        try:
            st = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
            continue
        report.append(f"unfinished run directory {root / name}")
        if not dry_run:
            _rmtree(root_fd, name)


def _sweep_orphans(root_fd: int, live_ids: set[str], dry_run: bool,
                   report: list[str]) -> None:
    # Processes whose conductor is dead but whose run directory is elsewhere or gone.
    for (run_id, conductor), pids in _orphans().items():
        if run_id in live_ids or os.getpid() in pids:
            continue
        try:
            os.stat(f"run-{run_id}", dir_fd=root_fd, follow_symlinks=False)
            continue  # its directory is here: handled above (or appeared since)
        except OSError:
            pass
        if any(_is_runner(pid) for pid in pids):
            continue  # its runner is alive and tearing the run down itself (objects too)
        report.append(f"run {run_id}: {len(pids)} process(es) {pids} (no run directory)")
        if not dry_run:
            kill_run_processes(run_id, conductor=conductor)
