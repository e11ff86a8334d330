"""The C programs of tests/c: compiled with gcc into a test's tmp dir, run, and waited on
until the kernel says they sleep in a given call (no sleeps that guess)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from ipcviz.probe import procfs, syscalls

from .conftest import wait_until

C_DIR = Path(__file__).resolve().parent / "c"


def compile_c(name: str, out_dir: Path, debug: bool) -> Path:
    """tests/c/NAME.c built with gcc (-g or not, -O0 so each function keeps its name)."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:  # never a silent skip: the suite needs a C compiler (.ci/run installs one)
        raise AssertionError("gcc not found: install a C compiler (apt-get install gcc) "
                             "to run the tests of tests/c")
    exe = out_dir / (name + ("-g" if debug else ""))
    flags = ["-g"] if debug else []
    subprocess.run([gcc, *flags, "-O0", "-pthread", "-o", str(exe), str(C_DIR / f"{name}.c")],
                   check=True, capture_output=True, timeout=60)
    return exe


def marker_line(name: str, marker: str) -> int:
    """The line of tests/c/NAME.c that carries the comment MARKER (1-based)."""
    lines = (C_DIR / f"{name}.c").read_text().splitlines()
    found = [i + 1 for i, text in enumerate(lines) if marker in text]
    assert len(found) == 1, f"{marker} should mark exactly one line of {name}.c"
    return found[0]


def asleep_in(pid: int, call: str) -> bool:
    """The kernel says PID sleeps (state S) inside CALL."""
    try:
        stat = procfs.read_stat(pid)
        with open(f"/proc/{pid}/syscall") as f:
            sc = procfs.parse_syscall(f.read())
    except (procfs.NoSuchProcess, OSError):
        return False
    return stat.state == "S" and not sc.running and syscalls.name(sc.number) == call


@contextlib.contextmanager
def running(argv: list[str]) -> Iterator[subprocess.Popen[str]]:
    """ARGV started in its own session; killed (its whole group) and reaped at the end."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def wait_asleep(pid: int, call: str) -> None:
    wait_until(lambda: asleep_in(pid, call), timeout=10, what=f"{pid} asleep in {call}()")
