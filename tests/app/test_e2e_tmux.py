"""End to end: the real ipcviz app in a real terminal (tmux), on real processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .helpers import HERE, SCENARIO_PATH

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.kernel,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
REPO = HERE.parents[1]


SOCKET = f"ipcviz-test-{os.getpid()}"  # a tmux server of our own: no user session is touched


def tmux(*args: str, check: bool = True) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True,
                          timeout=10, check=check).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_screen(session: str, text: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        shown = screen(session)
        if text in shown:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"'{text}' not on screen within {timeout:g} s; screen was:\n{shown}")


def run_processes(run_ids: set[str]) -> list[str]:
    """Live processes of these ipcviz runs (IPCVIZ_RUN=<id> in their environment).

    Only this test's runs: other tests run lessons on the same machine at the same time."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            env = (d / "environ").read_bytes().split(b"\0")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        ids = {e.split(b"=", 1)[1].decode() for e in env if e.startswith(b"IPCVIZ_RUN=")}
        if ids & run_ids and state != "Z":
            found.append(f"{d.name}: {cmd.strip()}")
    return found


def app_command(runtime_dir: Path) -> str:
    code = f"import sys; from ipcviz.app import run_app; sys.exit(run_app({str(SCENARIO_PATH)!r}))"
    # COLUMNS/LINES (set under pytest) would override the size of the tmux pane; a private
    # runtime directory tells this app's runs from other tests' runs
    env = f"env -u COLUMNS -u LINES PYTHONPATH={REPO} IPCVIZ_RUNTIME_DIR={runtime_dir}"
    return f"cd {REPO} && {env} {sys.executable} -c \"{code}\""


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_real_app_in_tmux(size, tmp_path):
    """Start ipcviz on a scenario, step it to the blocked write, quit: no process is left."""
    width, height = size
    session = f"ipcviz-e2e-{uuid.uuid4().hex[:8]}"
    runtime_dir = tmp_path / "rt"
    run_ids: set[str] = set()
    tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height),
         app_command(runtime_dir))
    try:
        shown = wait_screen(session, "before step 1")
        assert "USER SPACE" in shown and "KERNEL SPACE" in shown
        assert "parent  PID" in shown
        for k in range(1, 7):
            tmux("send-keys", "-t", session, "Space")
            shown = wait_screen(session, f"step {k}/8")
        shown = wait_screen(session, "blocked in write() on pipe p")
        # the pipe: full, and who sleeps on it (at 80x24 the stage may need a scroll)
        if height >= 40:
            assert "65536 / 65536 bytes in the buffer" in shown
            assert "parent sleeps in write()" in shown
            assert "<unfinished ...>" in shown  # the strace log beside the stage
        else:
            assert "buffer full: 65536/65536 bytes" in shown  # on the parent's card
        assert "step 6/8" in shown and "LIVE" in shown
        run_ids = {d.name[4:] for d in runtime_dir.glob("run-*")}
        assert len(run_ids) == 1, "the app should have one run"
        during = run_processes(run_ids)
        assert len(during) >= 3, "the runner and the scenario's processes should be running"
        # back in history and forward again
        tmux("send-keys", "-t", session, "Left")
        wait_screen(session, "HISTORY step 5/8")
        tmux("send-keys", "-t", session, "Right")
        wait_screen(session, "step 6/8")
        tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if session not in tmux("list-sessions", "-F", "#{session_name}", check=False):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the app did not quit on q")
    finally:
        tmux("kill-session", "-t", session, check=False)
    deadline = time.monotonic() + 5
    left = run_processes(run_ids)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = run_processes(run_ids)
    assert not left, f"processes of the run were left behind: {left}"
    assert not any(runtime_dir.glob("run-*")), "the run's directory was left behind"


def test_starting_ipcviz_sweeps_what_a_killed_run_left(tmp_path):
    """A run directory whose owner is dead, with a FIFO in its manifest: starting `ipcviz`
    (the picker) removes both, after its first frame."""
    runtime_dir = tmp_path / "rt"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    run = runtime_dir / f"run-{dead}abcdef"
    run.mkdir(parents=True, mode=0o700)  # private, as ipcviz makes it: else never swept
    (run / "fifo").mkdir(mode=0o700)
    (run / "run.json").write_text(f'{{"conductor_pid": {dead}, "conductor_start": 1}}')
    fifo = run / "fifo" / "left"
    os.mkfifo(fifo, 0o600)
    (run / "objects.jsonl").write_text(f'{{"kind": "fifo", "name": "{fifo}"}}\n')
    for made in (run / "run.json", run / "objects.jsonl"):
        made.chmod(0o600)  # as ipcviz writes them: the sweep reads only private files of ours
    session = f"ipcviz-e2e-{uuid.uuid4().hex[:8]}"
    env = f"env -u COLUMNS -u LINES PYTHONPATH={REPO} IPCVIZ_RUNTIME_DIR={runtime_dir}"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30",
         f"cd {REPO} && {env} {sys.executable} -m ipcviz")
    try:
        wait_screen(session, "real kernel")  # the picker's first frame
        deadline = time.monotonic() + 10
        while run.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not fifo.exists() and not run.exists(), "the start of ipcviz swept nothing"
    finally:
        tmux("kill-session", "-t", session, check=False)
