"""Process groups, exec, wait options, sigaction flags and sub-second times: what the lessons
of these cannot show by themselves -- the refusals, the ranges, and readings cross-checked
against /proc directly."""

from __future__ import annotations

import errno
import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ipcviz.model.checks import observe
from ipcviz.model.snapshot import Process, Signals, Snapshot
from ipcviz.runtime import Run
from ipcviz.scenario import ScenarioError, load, loads

from .conductor_helpers import run_to_end, run_until
from .conftest import SCENARIOS, marked_processes, wait_until

TWO = """
title = "two"
[[process]]
name = "root"
[[process]]
name = "kid"
parent = "root"
[[step]]
process = "root"
action = "fork"
child = "kid"
narration = "fork"
"""


def _lesson(*steps: str) -> str:
    return TWO + "".join(f'[[step]]\nnarration = "x"\n{s}\n' for s in steps)


# -- groups: a lesson signals only groups made of its own processes ---------------------

@pytest.mark.kernel
@pytest.mark.parametrize("step", [
    'process = "kid"\naction = "kill"\ntarget = "root"\ngroup = true\nsignal = "SIGKILL"',
    'process = "kid"\naction = "killpg"\ngroup = "root"\nsignal = "SIGKILL"',
])
def test_a_lesson_cannot_signal_the_group_it_shares_with_ipcviz(step, runtime_dir):
    # GIVEN a lesson whose processes are still in the runner's process group (no setpgid)
    sc = loads(_lesson(step, 'process = "root"\naction = "kill"\ntarget = "kid"\n'
                             'signal = "SIGTERM"'))
    with Run(sc) as run:
        snap = run_until(run, 1)
        runner = run._runner
        root = snap.process_named("root")
        # the root's group is the runner's, an id no lesson process has: a lesson names a
        # group only by the pid of one of its processes
        assert os.getpgid(root.pid) == runner.pid != root.pid
        # WHEN the kid sends SIGKILL to "the root's group" (the group whose id is root's pid)
        snap = run.step()
        # THEN there is no such group (as kill(2) says), nothing was signalled, the run
        # goes on
        assert (snap.outcome, snap.errno) == ("failed", "ESRCH")
        assert runner.poll() is None
        assert snap.process_named("root").state == "sleeping"
        assert snap.process_named("kid").state == "sleeping"
        assert run.step().process_named("kid").exit.signal == "SIGTERM"


def _group(run_id: str, stranger: bool) -> subprocess.Popen[bytes]:
    """A new session and group: a leader that carries the run's mark (as a lesson process
    does) and a second member that carries it too, or not (a stranger)."""
    second = "env -u IPCVIZ_RUN sleep 30" if stranger else "sleep 30"
    leader = subprocess.Popen(["sh", "-c", f"{second} & exec sleep 30"],
                              start_new_session=True, env=dict(os.environ, IPCVIZ_RUN=run_id))
    from ipcviz.runtime.ops.process import group_members

    def both_asleep() -> bool:
        # both members have exec'ed sleep: before that, the second is a fork of sh that
        # still carries the mark `env -u` is about to drop
        names = []
        for pid in group_members(leader.pid):
            try:
                names.append(open(f"/proc/{pid}/comm").read().strip())
            except OSError:
                return False
        return names == ["sleep", "sleep"]

    wait_until(both_asleep, what="the group's two members asleep in sleep")
    return leader


def _end_group(leader: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(leader.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    leader.wait()


@pytest.mark.kernel
def test_the_worker_refuses_a_group_that_holds_a_stranger():
    from ipcviz.runtime.ops.process import do_kill, do_killpg, group_members

    # GIVEN a group of a marked leader and a stranger, the lesson naming both pids
    run_id = "procsig-test-run"
    leader = _group(run_id, stranger=True)
    try:
        members = group_members(leader.pid)
        worker = SimpleNamespace(rundir=SimpleNamespace(run_id=run_id))
        pids = {f"p{i}": pid for i, pid in enumerate(members)}
        name = next(n for n, p in pids.items() if p == leader.pid)
        for op, args in ((do_killpg, {"group": name, "signal": "SIGTERM"}),
                         (do_kill, {"target": name, "group": True, "signal": "SIGTERM"})):
            # WHEN the worker is asked to signal the group
            with pytest.raises(OSError) as err:
                op(worker, args, pids, 2)
            # THEN it refuses, and every member is still there
            assert err.value.errno == errno.EPERM
            assert sorted(group_members(leader.pid)) == sorted(members)
    finally:
        _end_group(leader)


@pytest.mark.kernel
def test_the_worker_signals_a_group_of_the_lesson_only():
    from ipcviz.runtime.ops.process import do_killpg, group_members

    # GIVEN a group whose members all carry the run's mark and are the lesson's
    run_id = "procsig-test-run"
    leader = _group(run_id, stranger=False)
    try:
        members = group_members(leader.pid)
        worker = SimpleNamespace(rundir=SimpleNamespace(run_id=run_id))
        pids = {f"p{i}": pid for i, pid in enumerate(members)}
        name = next(n for n, p in pids.items() if p == leader.pid)
        # WHEN it signals the group
        out = do_killpg(worker, {"group": name, "signal": "SIGTERM"}, pids, 2)
        # THEN both got it, and the conductor is told whom to wait for
        assert leader.wait(5) == -signal.SIGTERM
        wait_until(lambda: not group_members(leader.pid), what="the group to end")
        assert sorted(s["pid"] for s in out["signalled"]) == sorted(members)
    finally:
        _end_group(leader)


# -- exec --------------------------------------------------------------------------------

@pytest.mark.kernel
def test_exec_runs_ipcvizs_worker_and_the_kernel_decides_which_fds_stay(runtime_dir):
    # GIVEN the exec lesson, run to its exec step
    sc = load(SCENARIOS / "pipe/exec-cloexec.toml")
    k = next(st.number for st in sc.steps if st.action == "exec")
    with Run(sc) as run:
        snap = run_until(run, k - 1)
        before = snap.process_named("child")
        # the probe's FD_CLOEXEC of every end agrees with fdinfo, read here
        for p in snap.processes:
            for f in p.fds:
                if f.object:
                    text = Path(f"/proc/{p.pid}/fdinfo/{f.fd}").read_text()
                    flags = int(text.split("flags:")[1].split()[0], 8)
                    assert f.cloexec == bool(flags & os.O_CLOEXEC), (p.name, f)
        assert {f.cloexec for f in before.fds if f.object} == {True, False}
        snap = run.step()
        child = snap.process_named("child")
        # THEN the same pid runs ipcviz's worker module (never a program from the file)
        assert child.pid == before.pid
        cmdline = Path(f"/proc/{child.pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[:3] == [sys.executable.encode(), b"-m", b"ipcviz.runtime.worker"]
        # AND /proc, read here, lists the fds the kernel kept: 0-2 and the one end without
        # FD_CLOEXEC (ipcviz's own, 900 and up, aside)
        fds = sorted(int(n) for n in os.listdir(f"/proc/{child.pid}/fd") if int(n) < 900)
        assert fds == [0, 1, 2, 3]
        # fd 3 is p's read end (the first pipe made, before fork): the parent's fd 3 too
        assert os.readlink(f"/proc/{child.pid}/fd/3") == \
            os.readlink(f"/proc/{snap.process_named('parent').pid}/fd/3")
        # AND it still takes steps
        assert run.step().outcome == "returned"


def test_exec_takes_no_program_from_the_lesson():
    with pytest.raises(ScenarioError) as err:
        loads(_lesson('process = "kid"\naction = "exec"\npath = "/bin/sh"'))
    assert "path" in str(err.value)


# -- handlers ----------------------------------------------------------------------------

@pytest.mark.parametrize("flag", ['mask = ["SIGUSR2"]', "nodefer = true", "siginfo = true",
                                  "hold = true", "restart = true"])
def test_sigaction_flags_are_for_a_handler(flag):
    with pytest.raises(ScenarioError) as err:
        loads(_lesson(f'process = "kid"\naction = "signal"\nsignal = "SIGUSR1"\n'
                      f'disposition = "ignore"\n{flag}'))
    assert "for a handler" in str(err.value)


@pytest.mark.kernel
def test_handler_return_outside_a_held_handler_fails(runtime_dir):
    sc = loads(_lesson('process = "kid"\naction = "handler_return"'))
    snaps, run_id = run_to_end(sc)
    assert (snaps[-1].outcome, snaps[-1].errno) == ("failed", "EINVAL")
    assert marked_processes(run_id) == []


# -- seconds -----------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["-1", "nan", "inf", "1e9", '"0.2"', "0.0001", "true"])
def test_seconds_are_finite_numbers_in_range(value):
    with pytest.raises(ScenarioError) as err:
        loads(_lesson(f'process = "kid"\naction = "sleep"\nseconds = {value}'))
    assert "step[2].seconds" in str(err.value)


@pytest.mark.parametrize("value", [0, 0.2, 2])
def test_seconds_below_one_are_allowed(value):
    sc = loads(_lesson(f'process = "kid"\naction = "sleep"\nseconds = {value}'))
    assert sc.steps[1].args["seconds"] == value


@pytest.mark.parametrize("value", [math.nan, math.inf, -0.5, 1e9, "0.2"])
def test_the_worker_refuses_seconds_the_loader_was_bypassed_for(value):
    from ipcviz.runtime.worker import refused

    err = refused("sleep", {"seconds": value})
    assert err is not None and err.errno == errno.EINVAL


# -- expects -----------------------------------------------------------------------------

def test_pending_splits_into_the_threads_and_the_processs_sets():
    # GIVEN a process with SIGUSR1 pending for its thread and SIGTERM for the process
    proc = Process("a", 10, 1, None, "sleeping",
                   signals=Signals(pending=("SIGUSR1",), shared_pending=("SIGTERM",)))
    snap = Snapshot(0, 0, 0, 0.0, processes=(proc,))
    # THEN each set says its own, and `pending` both
    assert observe(snap, {}, "a", "thread_pending") == ["SIGUSR1"]
    assert observe(snap, {}, "a", "process_pending") == ["SIGTERM"]
    assert observe(snap, {}, "a", "pending") == ["SIGTERM", "SIGUSR1"]
