"""Nothing left behind: a run ended by SIGKILL, SIGTERM or SIGHUP leaves no process, and
`ipcviz clean` removes what a killed conductor could not."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from ipcviz.runtime import Run
from ipcviz.scenario import load

from .conftest import ROOT, SCENARIOS, ipcviz, marked_processes, wait_until


def start_headless(lesson: str, runtime_dir, delay: float = 0.3) -> subprocess.Popen:
    env = dict(os.environ, IPCVIZ_RUNTIME_DIR=str(runtime_dir))
    return subprocess.Popen(
        [sys.executable, "-m", "ipcviz", "run", lesson, "--headless", "--json",
         "--delay", str(delay)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        cwd=ROOT, env=env)


def read_until_step(proc: subprocess.Popen, step: int) -> dict:
    while True:
        line = proc.stdout.readline()
        assert line, f"the run ended before step {step}: {proc.stderr.read()}"
        snap = json.loads(line)
        if snap["step"] >= step:
            return snap


def only_run_id(runtime_dir) -> str:
    runs = list(runtime_dir.glob("run-*"))
    assert len(runs) == 1
    return runs[0].name[4:]


def runner_pid(runtime_dir, run_id: str) -> int:
    return json.loads((runtime_dir / f"run-{run_id}" / "run.json").read_text())["runner_pid"]


@pytest.mark.kernel
@pytest.mark.parametrize("step", [2, 7])
def test_sigkill_of_the_conductor_leaves_nothing(step, runtime_dir):
    # GIVEN a run in the middle of the eof lesson (at step 7 a child sleeps in read())
    proc = start_headless("pipe/eof", runtime_dir)
    try:
        read_until_step(proc, step)
        run_id = only_run_id(runtime_dir)
        assert marked_processes(run_id)
        # WHEN the conductor is killed with SIGKILL
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    # THEN the runner ends every process of the run and removes its directory
    wait_until(lambda: marked_processes(run_id) == [], 5, "the run's processes to die")
    wait_until(lambda: not (runtime_dir / f"run-{run_id}").exists(), 5, "the run dir to go")


@pytest.mark.kernel
@pytest.mark.parametrize("step", [2, 7])
def test_clean_removes_what_a_killed_conductor_and_runner_left(step, runtime_dir):
    # GIVEN a run in the middle of a lesson
    proc = start_headless("pipe/eof", runtime_dir)
    try:
        read_until_step(proc, step)
        run_id = only_run_id(runtime_dir)
        # WHEN the runner and then the conductor are both killed with SIGKILL
        os.kill(runner_pid(runtime_dir, run_id), signal.SIGKILL)
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    env = {**os.environ, "IPCVIZ_RUNTIME_DIR": str(runtime_dir)}
    # THEN `ipcviz clean --dry-run` lists the dead run and changes nothing ...
    dry = ipcviz("clean", "--dry-run", env=env)
    assert dry.returncode == 0 and f"would remove run {run_id}: directory" in dry.stdout
    assert (runtime_dir / f"run-{run_id}").exists()
    # ... and `ipcviz clean` removes it all, processes included
    real = ipcviz("clean", env=env)
    assert real.returncode == 0 and f"removed run {run_id}" in real.stdout
    assert not (runtime_dir / f"run-{run_id}").exists()
    wait_until(lambda: marked_processes(run_id) == [], 5, "the run's processes to die")
    again = ipcviz("clean", env=env)
    assert again.stdout.strip() == "nothing to clean"


@pytest.mark.kernel
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_sigterm_sighup_sigint_clean_up_without_help(sig, runtime_dir):
    proc = start_headless("pipe/full-blocks-writer", runtime_dir)
    try:
        read_until_step(proc, 6)  # the writer sleeps in write()
        run_id = only_run_id(runtime_dir)
        proc.send_signal(sig)
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read()
    assert proc.returncode != 0 and "Traceback" not in err
    assert proc.returncode == 128 + sig  # as a shell reports a process ended by `sig`
    assert "cleaned up" in err
    assert marked_processes(run_id) == []
    assert not any(runtime_dir.glob("run-*"))


@pytest.mark.kernel
def test_a_killed_runner_does_not_strand_the_workers(runtime_dir):
    scenario = load(SCENARIOS / "pipe/eof.toml")
    run = Run(scenario)
    try:
        run.start()
        for _ in range(7):
            run.step()
        run_id = run.rundir.run_id
        os.kill(run._runner.pid, signal.SIGKILL)
    finally:
        run.close()
    assert marked_processes(run_id) == []


@pytest.mark.kernel
def test_clean_never_touches_a_live_run(runtime_dir):
    scenario = load(SCENARIOS / "pipe/empty-blocks-reader.toml")
    with Run(scenario) as run:
        run.start()
        run.step()
        r = ipcviz("clean", env={**os.environ, "IPCVIZ_RUNTIME_DIR": str(runtime_dir)})
        # (other tests, in parallel, may leave orphans of killed runs for clean to report:
        # what matters is that this live run is not among them)
        assert r.returncode == 0 and run.rundir.run_id not in r.stdout, r.stdout
        assert (runtime_dir / f"run-{run.rundir.run_id}").is_dir()
        snap = run.step()  # the run goes on
        assert snap.ok and snap.step == 2


@pytest.mark.kernel
def test_two_runs_of_one_scenario_side_by_side(runtime_dir):
    scenario = load(SCENARIOS / "pipe/full-blocks-writer.toml")
    with Run(scenario) as a, Run(scenario) as b:
        sa, sb = a.start(), b.start()
        while not a.finished:
            sa, sb = a.step(), b.step()
            assert sa.ok and sb.ok
        assert {p.pid for p in sa.processes}.isdisjoint({p.pid for p in sb.processes})
        assert sa.object_named("p").inode != sb.object_named("p").inode


def test_a_run_directory_appears_whole_and_a_half_made_one_is_swept(runtime_dir):
    """RunDir.create renames a complete directory into place, so a sweep never finds a
    run-* without the run.json that names its (live) owner; one whose maker died before the
    rename is removed, one whose maker lives is kept."""
    from ipcviz.runtime.rundir import RunDir
    from ipcviz.runtime.sweep import sweep

    # GIVEN a directory made by this (live) process
    rd = RunDir.create("test")
    assert rd.path.name.startswith("run-") and (rd.path / "run.json").exists()
    assert not list(runtime_dir.glob(".new-*"))
    # AND two half-made ones: one by a process that is gone, one by this process
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    me = rd.read_info()
    for name, info in ((f".new-{dead}aaaaaa", {"conductor_pid": int(dead), "conductor_start": 1}),
                       (f".new-{os.getpid()}bbbbbb", me)):
        (runtime_dir / name).mkdir(mode=0o700)
        (runtime_dir / name / "run.json").write_text(json.dumps(info))
    # WHEN the sweep runs
    report = sweep(root=runtime_dir)
    # THEN only the dead one's directory is gone, and the live run is untouched
    assert any(f".new-{dead}aaaaaa" in line for line in report)
    assert not (runtime_dir / f".new-{dead}aaaaaa").exists()
    assert (runtime_dir / f".new-{os.getpid()}bbbbbb").exists()
    assert rd.path.exists()
    rd.remove()


def test_a_stale_pid_of_the_scan_is_not_killed_when_it_is_no_process_of_the_run(monkeypatch):
    """The pid a scan found may have died and been reused before the kill: by one of our
    own processes that is no process of the run.  The kill checks the mark again through
    the pidfd and leaves it alone."""
    from ipcviz.runtime import cleanup

    # GIVEN one of our processes that carries no run mark, and a scan that (stale) names it
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                                 stdin=subprocess.DEVNULL)
    try:
        monkeypatch.setattr(cleanup, "run_processes",
                            lambda run_id, exclude=(), conductor=None: [bystander.pid])
        # WHEN the run's processes are killed
        cleanup.kill_run_processes("deadbeef01", timeout=0.3)
        # THEN the bystander lives on
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
