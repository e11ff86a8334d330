"""Signals: the probe's sets against /proc/PID/status read independently, the measured
signal table against `kill -l`, the pty against /proc/PID/stat, and the helpers."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from ipcviz.runtime import Run  # first: ipcviz.probe imports the runtime
from ipcviz.model.checks import _compare  # isort: skip
from ipcviz.probe import syscalls  # isort: skip
from ipcviz.probe.signal_table import signal_table  # isort: skip
from ipcviz.runtime.ops.signals import keys_bytes  # isort: skip
from ipcviz.scenario import load  # isort: skip

from .conductor_helpers import run_until
from .conftest import SCENARIOS


def _status_masks(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"):
            out[key] = int(value.strip(), 16)
    return out


def _bit(sig: int) -> int:
    return 1 << (sig - 1)


@pytest.mark.kernel
def test_pending_and_blocked_agree_with_proc_status(runtime_dir):
    # GIVEN signal/blocked-pending right after SIGUSR1 was sent to the blocking child
    with Run(load(SCENARIOS / "signal/blocked-pending.toml")) as run:
        snap = run_until(run, 4)
        child = snap.process_named("child")
        masks = _status_masks(child.pid)
        # THEN /proc/PID/status, read here, has SIGUSR1 blocked, caught and pending for the
        # process (kill() makes it shared pending), as the probe said
        usr1 = _bit(signal.SIGUSR1)
        assert masks["SigBlk"] & usr1 and masks["SigCgt"] & usr1
        assert masks["ShdPnd"] & usr1 and not masks["SigPnd"] & usr1
        assert "SIGUSR1" in child.signals.shared_pending
        assert "SIGUSR1" not in child.signals.pending
        assert "SIGUSR1" in child.signals.blocked and "SIGUSR1" in child.signals.caught
        # AND the ipcviz wake-up pipe (fds >= 900) is not shown as part of the lesson
        assert all(f.fd < 900 for f in child.fds)
        assert set(os.listdir(f"/proc/{child.pid}/fd")) >= {"900", "901", "902"}
        # WHEN it unblocks THEN the kernel delivered it: nothing pending, one handler run
        snap = run.step()
        masks = _status_masks(child.pid)
        assert not (masks["ShdPnd"] | masks["SigPnd"]) & usr1
        assert [c.ok for c in snap.checks] == [True] * len(snap.checks)


@pytest.mark.kernel
def test_a_process_in_pause_sleeps_in_pause_per_proc(runtime_dir):
    # GIVEN signal/alarm with the child asleep in pause() (step 4)
    with Run(load(SCENARIOS / "signal/alarm.toml")) as run:
        snap = run_until(run, 4)
        napper = snap.process_named("napper")
        # THEN /proc/PID/syscall names a call pause() sleeps in, and stat says S
        nr = int(Path(f"/proc/{napper.pid}/syscall").read_text().split()[0])
        name = syscalls.name(nr)
        assert name in ("pause", "rt_sigsuspend", "ppoll") and name == napper.syscall
        text = Path(f"/proc/{napper.pid}/stat").read_text()
        assert text[text.rindex(")") + 2] == "S"
        assert _status_masks(napper.pid)["SigCgt"] & _bit(signal.SIGALRM)


@pytest.mark.kernel
def test_pty_foreground_group_agrees_with_proc_stat(runtime_dir):
    # GIVEN signal/terminal-keys after the shell forked its job (step 7)
    with Run(load(SCENARIOS / "signal/terminal-keys.toml")) as run:
        snap = run_until(run, 7)
        t = snap.object_named("t")
        shell, job = snap.process_named("shell"), snap.process_named("job")
        fields = Path(f"/proc/{shell.pid}/stat").read_text().rsplit(")", 1)[1].split()
        pgrp, session, tty_nr, tpgid = (int(x) for x in fields[2:6])
        # THEN the shell leads a session whose terminal is the pty, and its group is in front
        assert session == shell.pid and tpgid == pgrp == t.foreground_pgid
        rdev = os.stat(t.slave).st_rdev
        assert (tty_nr >> 8) & 0xFFF == os.major(rdev)
        assert set(t.foreground) == {"shell", "job"} and t.session_leader == "shell"
        jf = Path(f"/proc/{job.pid}/stat").read_text().rsplit(")", 1)[1].split()
        assert int(jf[2]) == pgrp
        # AND ipcviz's own processes still have no controlling terminal
        term = snap.process_named("terminal")
        tf = Path(f"/proc/{term.pid}/stat").read_text().rsplit(")", 1)[1].split()
        assert int(tf[4]) == 0


def test_signal_table_agrees_with_kill_l():
    # GIVEN the table measured on this system
    table = signal_table()
    by_num = {s.number: s for s in table}
    # THEN its numbers and names are the shell's (kill -l prints "N) NAME" pairs)
    out = subprocess.run(["bash", "-c", "kill -l"], capture_output=True, text=True,
                         timeout=10).stdout
    words = out.replace(")", " ").split()
    shell = {int(words[i]): words[i + 1] for i in range(0, len(words) - 1, 2)}
    assert {n: s.name for n, s in by_num.items()} == shell
    # AND only SIGKILL and SIGSTOP cannot be caught or blocked
    assert {s.name for s in table if not s.can_catch} == {"SIGKILL", "SIGSTOP"}
    assert {s.name for s in table if not s.can_block} == {"SIGKILL", "SIGSTOP"}
    # AND the measured default actions are those of signal(7)
    assert by_num[signal.SIGTERM].default_action == "terminate"
    assert by_num[signal.SIGKILL].default_action == "terminate"
    assert by_num[signal.SIGCHLD].default_action == "ignore"
    assert by_num[signal.SIGWINCH].default_action == "ignore"
    assert by_num[signal.SIGSTOP].default_action == "stop"
    assert by_num[signal.SIGTSTP].default_action == "stop"
    assert by_num[signal.SIGCONT].default_action == "continue"
    assert by_num[signal.SIGSEGV].default_action in ("core", "terminate or core")
    assert by_num[signal.SIGRTMIN].default_action == "terminate"
    assert by_num[signal.SIGINT].description == signal.strsignal(signal.SIGINT)
    assert "?" not in {s.default_action for s in table}


def test_keys_and_list_expects():
    assert keys_bytes("^C") == b"\x03" and keys_bytes("^\\") == b"\x1c"
    assert keys_bytes("ab^Z") == b"ab\x1a"
    assert _compare(["SIGINT", "SIGQUIT"], "==", "SIGINT,SIGQUIT")
    assert _compare([], "==", "")
    assert _compare(["SIGINT"], "!=", "")
    assert _compare(["SIGINT"], "has", "SIGINT")
