"""No key press is lost (issue 15, item 4): a burst of spaces sent at once to the real app
in a real terminal runs exactly that many steps of a real lesson.

pipe/eof has 17 steps: 17 spaces reach step 17/17, at 80x24 and at 100x30.  A step asked for
while one runs is queued (the stage's Player); a lost press would stop the run short.
"""

from __future__ import annotations

import sys
import time
import uuid

import pytest

from .test_e2e_tmux import REPO, pytestmark, run_processes, screen, tmux, wait_screen  # noqa: F401

LESSON = "pipe/eof"
STEPS = 17
BURST = 17
BOUND = 120.0  # seconds for 17 real steps on a loaded machine


def status(shown: str) -> str:
    """The status line: the one naming the lesson and its step."""
    return next((line for line in shown.splitlines() if LESSON in line and "step " in line), "")


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
def test_burst_of_spaces_reaches_the_step_it_asked_for(size, tmp_path):
    width, height = size
    session = f"ipcviz-burst-{uuid.uuid4().hex[:8]}"
    runtime_dir = tmp_path / "rt"
    env = f"env -u COLUMNS -u LINES PYTHONPATH={REPO} IPCVIZ_RUNTIME_DIR={runtime_dir}"
    tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height),
         f"cd {REPO} && {env} {sys.executable} -m ipcviz {LESSON}")
    run_ids: set[str] = set()
    try:
        wait_screen(session, f"step 0/{STEPS}", timeout=30)
        run_ids = {d.name[4:] for d in runtime_dir.glob("run-*")}
        # WHEN 17 spaces arrive at once (one send-keys: one write to the terminal)
        tmux("send-keys", "-t", session, *["Space"] * BURST)
        # THEN the app runs every one of them: the status line reaches the last step
        want = min(BURST, STEPS)
        shown = wait_screen(session, f"step {want}/{STEPS}", timeout=BOUND)
        # AND stays there: nothing is still queued, nothing ran past it
        deadline = time.monotonic() + BOUND
        while "queued" in status(shown) and time.monotonic() < deadline:
            time.sleep(0.2)
            shown = screen(session)
        line = status(shown)
        assert f"step {want}/{STEPS}" in line and "queued" not in line, shown
        tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 10
        while session in tmux("list-sessions", "-F", "#{session_name}", check=False):
            if time.monotonic() > deadline:
                pytest.fail("the app did not quit on q")
            time.sleep(0.1)
    finally:
        tmux("kill-session", "-t", session, check=False)
    deadline = time.monotonic() + 5
    left = run_processes(run_ids)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = run_processes(run_ids)
    assert not left, f"processes of the run were left behind: {left}"
    assert not any(runtime_dir.glob("run-*")), "the run's directory was left behind"
