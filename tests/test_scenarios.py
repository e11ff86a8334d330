"""Every shipped scenario, run headless against the real kernel: its expects must hold.

And a few readings cross-checked against the kernel by other means than the probe's.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from ipcviz.probe import syscalls
from ipcviz.runtime import Run
from ipcviz.scenario import load

from .conductor_helpers import run_to_end
from .conftest import SCENARIOS, marked_processes

ALL = sorted(SCENARIOS.glob("*/*.toml"))


@pytest.mark.kernel
@pytest.mark.parametrize("path", ALL, ids=[f"{p.parent.name}/{p.stem}" for p in ALL])
def test_shipped_scenario_expects_hold(path: Path, runtime_dir):
    # GIVEN a shipped lesson / WHEN it runs on the real kernel
    scenario = load(path)
    snaps, run_id = run_to_end(scenario)
    # THEN every expect held, every step ran, and nothing of the run is left
    failed = [(s.step, c.expect, c.observed) for s in snaps for c in s.checks if not c.ok]
    assert not failed
    assert [s.step for s in snaps] == list(range(len(scenario.steps) + 1))
    assert sum(len(s.checks) for s in snaps) == sum(len(st.expects) for st in scenario.steps)
    assert marked_processes(run_id) == []
    assert not any(runtime_dir.glob("run-*"))
    # every quiz is answered by the kernel: after its step, exactly one choice is true
    for s in snaps:
        st = scenario.steps[s.step - 1] if s.step else None
        if st is not None and st.quiz is not None:
            assert sum(s.answers) == 1, f"step {s.step}: the kernel's answers {s.answers}"


@pytest.mark.kernel
def test_blocked_writer_and_capacity_agree_with_the_kernel(runtime_dir):
    # GIVEN the full-pipe lesson, stopped right after the writer blocks
    scenario = load(SCENARIOS / "pipe/full-blocks-writer.toml")
    with Run(scenario) as run:
        run.start()
        snap = run.step()
        while snap.outcome != "blocked":
            snap = run.step()
        writer = snap.process_named("writer")
        pipe = snap.object_named("p")
        # THEN the capacity is this machine's F_GETPIPE_SZ (asked of a pipe of our own)
        r, w = os.pipe()
        try:
            assert pipe.capacity == fcntl.fcntl(w, 1032)  # F_GETPIPE_SZ
        finally:
            os.close(r)
            os.close(w)
        # AND the writer really sleeps in write(2) on its write end, read from /proc directly
        assert writer.state == "blocked" and writer.syscall == "write"
        stat = Path(f"/proc/{writer.pid}/stat").read_text()
        assert stat[stat.rindex(")") + 2] == "S"
        nr, fd = Path(f"/proc/{writer.pid}/syscall").read_text().split()[:2]
        assert syscalls.name(int(nr)) == "write"
        assert os.readlink(f"/proc/{writer.pid}/fd/{int(fd, 16)}") == f"pipe:[{pipe.inode}]"
        assert Path(f"/proc/{writer.pid}/wchan").read_text() == writer.wchan
        assert pipe.bytes == pipe.capacity


@pytest.mark.kernel
def test_workers_run_like_c_programs_away_from_the_terminal(runtime_dir):
    scenario = load(SCENARIOS / "pipe/fork-and-close.toml")
    with Run(scenario) as run:
        first = run.start()
        parent = first.process_named("parent")
        status = Path(f"/proc/{parent.pid}/status").read_text()
        sig = {line.split(":")[0]: int(line.split()[1], 16) for line in status.splitlines()
               if line.startswith("Sig") and not line.startswith("SigQ")}
        # C defaults: SIGPIPE not ignored, SIGINT not caught
        assert not sig["SigIgn"] & (1 << (13 - 1))
        assert not sig["SigCgt"] & (1 << (2 - 1))
        # its own session, no controlling terminal, stdin from /dev/null
        fields = Path(f"/proc/{parent.pid}/stat").read_text().rsplit(")", 1)[1].split()
        sid, tty_nr = int(fields[3]), int(fields[4])
        assert sid != os.getsid(0) and tty_nr == 0
        assert os.readlink(f"/proc/{parent.pid}/fd/0") == "/dev/null"
        assert not os.readlink(f"/proc/{parent.pid}/fd/1").startswith("/dev/pts")
