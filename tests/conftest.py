"""Shared test helpers.

Every test that starts real processes goes through `run_scenario` or the `ipcviz`
subprocess helpers, and checks afterwards that its run left no process behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def ipcviz(*args: str, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    """Run the real `ipcviz` command line (as `python -m ipcviz`) and capture its output."""
    return subprocess.run([sys.executable, "-m", "ipcviz", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, stdin=subprocess.DEVNULL, **kw)


def marked_processes(run_id: str) -> list[int]:
    """Live (non-zombie) processes carrying IPCVIZ_RUN=<run_id>, read straight from /proc."""
    from .killing import marked

    return marked(run_id)


def wait_until(cond, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def runtime_dir(monkeypatch):
    """A private runtime directory, so tests never sweep each other's runs.  Short, under
    /tmp rather than pytest's tmp_path: a named socket's path (RUNTIME/run-ID/sock/NAME)
    must fit sun_path's 108 bytes, and xdist's tmp_path alone takes 70."""
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="ipv", dir="/tmp"))
    d = base / "rt"
    monkeypatch.setenv("IPCVIZ_RUNTIME_DIR", str(d))
    yield d
    shutil.rmtree(base, ignore_errors=True)


def run_cli_in_process(argv: list[str]) -> tuple[int, str, str]:
    """`ipcviz ARGV` through main() in this process (fast, for many runs): (exit code,
    stdout, stderr)."""
    import contextlib
    import io

    from ipcviz.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)  # main() passes --scenarios/--course on through the environment
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as stop:
                code = stop.code
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, out.getvalue(), err.getvalue()
