"""Finding and ending what a run left behind: its processes (by the IPCVIZ_RUN mark in their
environment) and its kernel objects (by the run's manifest)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import psutil

from .rundir import ENV_CONDUCTOR, ENV_RUN


def process_uids(pid: int) -> tuple[int, ...] | None:
    """Real, effective and saved uid of a process, or None if it is gone."""
    try:
        return tuple(psutil.Process(pid).uids())
    except psutil.Error:
        return None


def is_ours(pid: int) -> bool:
    """Every uid of the process is ours: never signal another user's process, even as
    root, whatever its environment says."""
    uids = process_uids(pid)
    return uids is not None and set(uids) == {os.geteuid()}


def marked_processes(mark: str, exclude: tuple[int, ...] = ()
                     ) -> Iterator[tuple[int, dict[str, str]]]:
    """(pid, environment) of this user's processes whose environment names `mark` (every
    uid ours: another user's process is never looked into, even as root).  psutil walks
    /proc; a process that ends meanwhile, or is not ours to read, is passed over."""
    me = os.geteuid()
    for proc in psutil.process_iter(["uids"]):
        if proc.pid in exclude:
            continue
        uids = proc.info["uids"]
        if uids is None or set(uids) != {me}:
            continue
        try:
            env = proc.environ()
        except psutil.Error:
            continue
        if mark in env:
            yield proc.pid, env


def run_processes(run_id: str, exclude: tuple[int, ...] = (),
                  conductor: str | None = None) -> list[int]:
    """PIDs of this user's live processes whose environment carries IPCVIZ_RUN=<run_id>
    (and, if given, IPCVIZ_CONDUCTOR=<conductor>, the "pid:start" of the run's conductor)."""
    return [pid for pid, env in marked_processes(ENV_RUN, exclude)
            if env.get(ENV_RUN) == run_id
            and (conductor is None or env.get(ENV_CONDUCTOR) == conductor)]


def kill_run_processes(run_id: str, exclude: tuple[int, ...] = (), timeout: float = 3.0,
                       conductor: str | None = None) -> int:
    """SIGKILL every process of the run until none is left (or the time is up).

    Returns how many processes were signalled.  Zombies are not counted as left: their
    parent (or the runner, or init) reaps them.
    """
    deadline = time.monotonic() + timeout
    killed: set[int] = set()
    while True:
        alive = [p for p in run_processes(run_id, exclude, conductor) if not _is_zombie(p)]
        if not alive or time.monotonic() > deadline:
            return len(killed)
        for pid in alive:
            # Through a pidfd, checked once more after it is open (the pidfd pins the
            # process: the pid cannot name another one while it is held): a pid that died
            # and was reused since the scan -- by another user's process, or by one of ours
            # that is no process of this run -- is never signalled.
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                continue
            try:
                if is_ours(pid) and _marked(pid, run_id, conductor):
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                    killed.add(pid)
            except ProcessLookupError:
                pass
            finally:
                os.close(pidfd)
        _reap_children()
        time.sleep(0.01)


def _marked(pid: int, run_id: str, conductor: str | None) -> bool:
    """The process's environment still carries this run's mark (and its conductor's)."""
    try:
        env = psutil.Process(pid).environ()
    except psutil.Error:
        return False
    return env.get(ENV_RUN) == run_id and (conductor is None
                                           or env.get(ENV_CONDUCTOR) == conductor)


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
