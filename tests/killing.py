"""Kill a headless run of ipcviz at a chosen step, then account for everything it made.

Shared by tests/test_kills.py and the stress script tests/bench/stress_kills.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ipcviz.runtime.rundir import RunDir  # noqa: E402
from ipcviz.runtime.sweep import REMOVERS, _load_removers  # noqa: E402


@dataclass
class Outcome:
    lesson: str
    step: int
    how: str
    run_id: str | None = None
    leftovers: list[str] = field(default_factory=list)


def marked(run_id: str) -> list[int]:
    mark = f"IPCVIZ_RUN={run_id}".encode()
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                env = Path(f"/proc/{entry}/environ").read_bytes()
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            if mark in env.split(b"\0") and stat[stat.rindex(b")") + 2:][:1] != b"Z":
                out.append(int(entry))
    return out


def kill_at(lesson: str, step: int, how: str, runtime_dir: Path, delay: float = 0.05,
            timeout: float = 20) -> Outcome:
    """how: SIGKILL (then `ipcviz clean`), SIGKILL-both (runner too, then clean),
    SIGTERM, SIGHUP, SIGINT (no clean: ipcviz must clean up by itself)."""
    env = dict(os.environ, IPCVIZ_RUNTIME_DIR=str(runtime_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipcviz", "run", lesson, "--headless", "--json", "--delay",
         str(delay)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        text=True, cwd=ROOT, env=env)
    out = Outcome(lesson, step, how)
    manifest: list[dict] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if json.loads(line)["step"] >= step:
                break
        runs = list(runtime_dir.glob("run-*"))
        if runs:
            out.run_id = runs[0].name[4:]
            try:
                manifest = [json.loads(x) for x in
                            (runs[0] / "objects.jsonl").read_text().splitlines() if x.strip()]
            except (OSError, ValueError):
                manifest = []
            if how == "SIGKILL-both":
                info = json.loads((runs[0] / "run.json").read_text())
                if info.get("runner_pid"):
                    os.kill(info["runner_pid"], signal.SIGKILL)
        sig = {"SIGKILL": signal.SIGKILL, "SIGKILL-both": signal.SIGKILL,
               "SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP,
               "SIGINT": signal.SIGINT}[how]
        if proc.poll() is None:
            proc.send_signal(sig)
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    if how.startswith("SIGKILL"):
        # Give the runner its moment (it cleans up when the conductor's socket closes),
        # then do what a user would: ipcviz clean.
        _wait(lambda: not out.run_id or not marked(out.run_id), 3)
        subprocess.run([sys.executable, "-m", "ipcviz", "clean"], env=env, cwd=ROOT,
                       capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    if out.run_id:
        _wait(lambda: not marked(out.run_id) and not (runtime_dir / f"run-{out.run_id}").exists(),
              5)
        out.leftovers += [f"process {p}" for p in marked(out.run_id)]
        if (runtime_dir / f"run-{out.run_id}").exists():
            out.leftovers.append(f"directory run-{out.run_id}")
    # Every object the manifest named must be gone: a remover that still finds it is a leak
    # (and removes it, so one failure does not poison the next test).
    _load_removers()  # else a test run alone would find no remover and check nothing
    rd = RunDir(out.run_id or "?", runtime_dir / f"run-{out.run_id}")
    for entry in manifest:
        remover = REMOVERS.get(entry.get("kind", ""))
        if remover is not None:
            try:
                found = remover(entry, rd)
            except OSError:
                found = None
            if found:
                out.leftovers.append(f"object {found}")
    return out


def _wait(cond, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.02)
