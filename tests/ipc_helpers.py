"""What the shared-memory and semaphore tests share: the kernel's System V tables read
directly (an independent second reading), POSIX names left in /dev/shm, and a headless run
killed at a step, the way a crash or a closed terminal would leave it."""

from __future__ import annotations

import json
import os
import signal

from .conftest import ipcviz
from .test_cleanup import only_run_id, read_until_step, start_headless


def sysvipc_rows(table: str) -> dict[int, dict[str, int]]:
    """/proc/sysvipc/TABLE ("shm", "sem") by its id column (shmid, semid)."""
    lines = open(f"/proc/sysvipc/{table}").read().splitlines()
    head = lines[0].split()
    rows = [dict(zip(head, (int(v) for v in line.split()))) for line in lines[1:]]
    return {r[f"{table}id"]: r for r in rows}


def posix_leftovers(run_id: str) -> list[str]:
    return [n for n in os.listdir("/dev/shm") if f"ipcviz.{run_id}." in n]


def kill_conductor_and_runner(proc, runtime_dir) -> str:
    """SIGKILL the runner (which would otherwise clean up) and then the conductor: the
    worst case, which only `ipcviz clean` can tidy."""
    run_id = only_run_id(runtime_dir)
    info = json.loads((runtime_dir / f"run-{run_id}" / "run.json").read_text())
    os.kill(info["runner_pid"], signal.SIGKILL)
    proc.kill()
    proc.wait(timeout=10)
    return run_id


def killed_at_step(lesson: str, runtime_dir, step: int, runner_too: bool = False
                   ) -> tuple[dict, str]:
    """Run `lesson` headless, SIGKILL it once it printed the snapshot of `step` (and its
    runner first, if runner_too); (that snapshot as JSON, the run id)."""
    proc = start_headless(lesson, runtime_dir, delay=0.2)
    try:
        snap = read_until_step(proc, step)
        if runner_too:
            run_id = kill_conductor_and_runner(proc, runtime_dir)
        else:
            run_id = only_run_id(runtime_dir)
            proc.kill()
            proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return snap, run_id


def clean(runtime_dir):
    """`ipcviz clean` of that runtime directory."""
    return ipcviz("clean", env={**os.environ, "IPCVIZ_RUNTIME_DIR": str(runtime_dir)})
