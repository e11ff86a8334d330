"""Figures for the README's limits: not part of the test suite.

    .venv/bin/python tests/bench/stress_limits.py

1. Many processes: a lesson of N processes (one root, N-1 fork steps) run through the
   conductor; prints the conductor's open fds per process (what FDS_PER_PROCESS in
   runtime/conductor.py must cover) and the wall time.
2. Fd exhaustion: msgq/crowd (64 processes) run by the real command line under a lowered
   RLIMIT_NOFILE; prints the exit status, the one line it printed, and what was left.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ipcviz.runtime import Run  # noqa: E402
from ipcviz.scenario import loads  # noqa: E402
from ipcviz.scenario.limits import MAX_PROCESSES  # noqa: E402


def lesson(n: int) -> str:
    procs = "".join(f'[[process]]\nname = "c{i}"\nparent = "a"\n' for i in range(n - 1))
    steps = "".join(f'[[step]]\nprocess = "a"\naction = "fork"\nchild = "c{i}"\n'
                    f'narration = "f"\n' for i in range(n - 1))
    return f'title = "many"\n[[process]]\nname = "a"\n{procs}{steps}'


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def many_processes() -> None:
    print("processes  conductor fds  fds/process  seconds")
    for n in (2, 16, 64, MAX_PROCESSES):
        before = fds()
        t0 = time.monotonic()
        with Run(loads(lesson(n), "many.toml")) as run:
            run.start()
            while not run.finished:
                run.step()
            run.sample()
            during = fds()
        took = time.monotonic() - t0
        per = (during - before) / n
        print(f"{n:9d}  {during - before:13d}  {per:11.2f}  {took:7.2f}")


def _leftovers(runtime_dir: str) -> str:
    runs = list(Path(runtime_dir).glob("run-*"))
    procs = 0
    mark = f"IPCVIZ_RUNTIME_DIR={runtime_dir}".encode()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if mark in env:
                procs += 1
    return f"{len(runs)} run dir(s), {procs} process(es)"


def fd_exhaustion() -> None:
    print("\nRLIMIT_NOFILE  exit  left                       message")
    for limit in (64, 512, 903, 1024):
        rt = tempfile.mkdtemp(prefix="ipcviz-stress-")
        env = dict(os.environ, IPCVIZ_RUNTIME_DIR=rt)
        r = subprocess.run(
            [sys.executable, "-m", "ipcviz", "run", "msgq/crowd", "--headless"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
            preexec_fn=lambda n=limit: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n)))
        line = (r.stderr.strip().splitlines() or r.stdout.strip().splitlines()[-1:] or [""])
        print(f"{limit:13d}  {r.returncode:4d}  {_leftovers(rt):25s}  {line[-1][:90]}")


if __name__ == "__main__":
    many_processes()
    fd_exhaustion()
