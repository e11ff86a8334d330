"""Lesson files are untrusted input: they describe a lesson and never reach outside their run.

Each test writes a hostile lesson (or bends a loaded one past the loader, to test the
runtime's own checks) and runs it through the real loader, conductor or command line.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ipcviz.runtime import Run, RunError
from ipcviz.scenario import ScenarioError, loads
from ipcviz.scenario.limits import MAX_FD, MAX_PROCESSES, MAX_STEP_TEXT, RESERVED_FD_FLOOR

from .conftest import ROOT, ipcviz
from .conductor_helpers import run_until

PIPE_HEAD = """
title = "hostile"
[[process]]
name = "a"
[[object]]
name = "p"
kind = "pipe"
[[step]]
process = "a"
action = "pipe"
object = "p"
narration = "a pipe"
"""


def _step(body: str) -> str:
    return PIPE_HEAD + '[[step]]\nprocess = "a"\nnarration = "x"\n' + body + "\n"


def _env(runtime_dir: Path) -> dict[str, str]:
    return dict(os.environ, IPCVIZ_RUNTIME_DIR=str(runtime_dir))


def _run_processes(runtime_dir: Path) -> list[int]:
    """Live processes started for runs in this runtime directory (their environment says)."""
    mark = f"IPCVIZ_RUNTIME_DIR={runtime_dir}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if mark in env and b"IPCVIZ_RUN=" in b"\0".join(env) and state != b"Z":
            found.append(int(entry.name))
    return found


def _assert_nothing_left(runtime_dir: Path) -> None:
    assert _run_processes(runtime_dir) == []
    assert not list(runtime_dir.glob("run-*")), "a run directory was left"


# -- 1. ipcviz's own fds -----------------------------------------------------------------

@pytest.mark.parametrize("body,field", [
    ('action = "write"\nfd = 900\ndata = "junk"', "step[2].fd"),
    ('action = "dup2"\nfd = "p.read"\nto = 900', "step[2].to"),
    ('action = "close"\nfd = 901', "step[2].fd"),
    ('action = "read"\nfd = 902', "step[2].fd"),
    ('action = "lseek"\nfd = 4000', "step[2].fd"),
])
def test_the_loader_refuses_reserved_fds(body, field):
    with pytest.raises(ScenarioError) as err:
        loads(_step(body), "evil.toml")
    text = str(err.value)
    assert text.startswith("evil.toml:") and field in text
    assert f"{RESERVED_FD_FLOOR} and up" in text and "\n" not in text


def test_check_and_run_refuse_a_forged_control_message_lesson(tmp_path, runtime_dir):
    path = tmp_path / "forge.toml"
    path.write_text(_step('action = "write"\nfd = 900\ndata = "junk"'))
    for cmd in (["check", str(path)], ["run", str(path), "--headless"]):
        r = ipcviz(*cmd, env=_env(runtime_dir))
        assert r.returncode == 2, r.stderr
        assert "reserved" in r.stderr and "Traceback" not in r.stderr
    _assert_nothing_left(runtime_dir)


@pytest.mark.kernel
@pytest.mark.parametrize("args", [
    {"fd": 900, "data": "junk"},  # write on the control socket
    {"fd": RESERVED_FD_FLOOR + 1, "data": "junk"},
])
def test_the_worker_refuses_reserved_fds_the_loader_was_bypassed_for(args, runtime_dir):
    sc = loads(_step('action = "write"\nfd = "p.write"\ndata = "hi"'), "ok.toml")
    bent = replace(sc.steps[1], args=args)
    sc = replace(sc, steps=(sc.steps[0], bent, replace(sc.steps[1], number=3)))
    with Run(sc) as run:
        snap = run_until(run, 2)
        # THEN the write failed as on a closed fd, and the channel still works
        assert snap.outcome == "failed" and snap.errno == "EBADF"
        assert run.step().outcome == "returned"


@pytest.mark.kernel
def test_the_worker_never_dup2s_onto_a_reserved_fd(runtime_dir):
    sc = loads(_step('action = "dup2"\nfd = "p.read"\nto = 5'), "ok.toml")
    bent = replace(sc.steps[1], args={"fd": "p.read", "to": 900})
    sc = replace(sc, steps=(sc.steps[0], bent, replace(sc.steps[1], number=3)))
    with Run(sc) as run:
        snap = run_until(run, 2)
        assert snap.outcome == "failed" and snap.errno == "EBADF"
        assert run.step().result == 5  # the control socket is still the worker's


@pytest.mark.kernel
def test_garbage_on_a_control_channel_ends_the_run_in_one_line(runtime_dir):
    import socket

    sc = loads(_step('action = "close"\nfd = "p.read"'), "ok.toml")
    with Run(sc) as run:
        run.start()
        run_id = run.rundir.run_id
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(run.rundir.socket_path))
        s.sendall(b"\x00junk{\n")
        with pytest.raises(RunError) as err:
            while not run.finished:
                run.step()
        s.close()
        assert "malformed control message" in str(err.value) and "\n" not in str(err.value)
    from .conftest import marked_processes

    assert marked_processes(run_id) == []
    _assert_nothing_left(runtime_dir)


# -- 8. a step larger than the socket buffer ----------------------------------------------

@pytest.mark.kernel
def test_a_step_larger_than_the_socket_buffer_is_sent_whole(runtime_dir):
    data = "x" * 300_000
    sc = loads(_step(f'action = "write"\nfd = "p.write"\ndata = "{data}"'), "big.toml")
    with Run(sc) as run:
        snap = run_until(run, 2)
    # the pipe holds less than 300 KB: the writer sleeps in write() with all of it
    assert snap.outcome == "blocked"


def test_the_loader_caps_the_text_of_a_step():
    data = "x" * (MAX_STEP_TEXT + 1)
    with pytest.raises(ScenarioError) as err:
        loads(_step(f'action = "write"\nfd = "p.write"\ndata = "{data}"'), "big.toml")
    assert f"at most {MAX_STEP_TEXT}" in str(err.value) and "step[2]" in str(err.value)


# -- 14. time bounds -----------------------------------------------------------------------

@pytest.mark.parametrize("option", [
    ["--step-timeout", "nan"], ["--step-timeout", "inf"], ["--step-timeout", "-1"],
    ["--step-timeout", "0"], ["--step-timeout", "1e9"], ["--delay", "inf"],
    ["--delay", "-0.5"], ["--delay", "nan"], ["--delay", "1e9"],
])
def test_time_options_must_be_finite_and_bounded(option, runtime_dir):
    r = ipcviz("run", "pipe/eof", "--headless", *option, env=_env(runtime_dir))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and option[0] in r.stderr and "Traceback" not in r.stderr
    _assert_nothing_left(runtime_dir)


# -- 15. the conductor stopped (Ctrl+Z) during a step --------------------------------------

SLEEPY = """
title = "sleepy"
[[process]]
name = "a"
[[step]]
process = "a"
action = "sleep"
seconds = 1
narration = "sleep"
[[step]]
process = "a"
action = "sleep"
seconds = 1
narration = "sleep"
"""


@pytest.mark.kernel
def test_a_conductor_stopped_longer_than_the_step_bound_goes_on(tmp_path, runtime_dir):
    path = tmp_path / "sleepy.toml"
    path.write_text(SLEEPY)
    p = subprocess.Popen([sys.executable, "-m", "ipcviz", "run", str(path), "--headless",
                          "--step-timeout", "1.5"], cwd=ROOT, env=_env(runtime_dir),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        # WHEN the conductor is stopped in step 1, a second's sleep (it prints the snapshot
        # before step 1 first: its last line lists the fds)
        for line in p.stdout:
            if line.strip().startswith("fds "):
                break
        time.sleep(0.2)
        os.kill(p.pid, signal.SIGSTOP)
        time.sleep(2.5)  # longer than --step-timeout
        os.kill(p.pid, signal.SIGCONT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # THEN the time it was stopped does not count against the step
    assert p.returncode == 0, err
    _assert_nothing_left(runtime_dir)


# -- 16. lesson processes start with C defaults, whatever their starter had ---------------

CLEAN = """
title = "clean start"
[[process]]
name = "a"
[[step]]
process = "a"
action = "sigprocmask"
how = "block"
signals = []
narration = "look"
expect = ["a.ignored == ''", "a.blocked == ''", "a.pending == ''", "a.caught == ''"]
"""


def _like_a_background_job():
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGTERM, signal.SIGQUIT])


@pytest.mark.kernel
@pytest.mark.parametrize("lesson", ["clean", "signal/default-actions"])
def test_lessons_start_with_default_signals_from_a_background_job(lesson, tmp_path,
                                                                 runtime_dir):
    if lesson == "clean":
        (tmp_path / "clean.toml").write_text(CLEAN)
        lesson = str(tmp_path / "clean.toml")
    r = ipcviz("run", lesson, "--headless", env=_env(runtime_dir),
               preexec_fn=_like_a_background_job)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    _assert_nothing_left(runtime_dir)


# -- 17. names, integers, processes ----------------------------------------------------------

def test_a_name_may_not_end_in_a_newline():
    text = 'title = "t"\n[[process]]\nname = "a\\n"\n[[step]]\nprocess = "a\\n"\n' \
           'action = "exit"\nnarration = "x"\n'
    with pytest.raises(ScenarioError) as err:
        loads(text, "nl.toml")
    assert "process[1].name" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("body,field", [
    ('action = "exit"\nstatus = 256', "step[2].status"),
    ('action = "exit"\nstatus = -1', "step[2].status"),
    ('action = "alarm"\nseconds = 99999999999999', "step[2].seconds"),
    ('action = "sleep"\nseconds = 100000', "step[2].seconds"),
    ('action = "dup2"\nfd = "p.read"\nto = 99999999999', "step[2].to"),
    ('action = "lseek"\nfd = "p.read"\noffset = 9223372036854775807\nwhence = "cur"', None),
])
def test_integers_have_ranges(body, field):
    if field is None:  # the largest off_t is fine
        loads(_step(body), "int.toml")
        return
    with pytest.raises(ScenarioError) as err:
        loads(_step(body), "int.toml")
    assert field in str(err.value) and ("range" in str(err.value) or "reserved" in
                                        str(err.value))


@pytest.mark.kernel
def test_an_out_of_range_integer_past_the_loader_fails_and_never_returns(runtime_dir):
    sc = loads(_step('action = "alarm"\nseconds = 0'), "int.toml")
    bent = replace(sc.steps[1], args={"seconds": 2**80})
    sc = replace(sc, steps=(sc.steps[0], bent))
    with Run(sc) as run:
        snap = run_until(run, 2)
    assert snap.outcome == "failed" and snap.errno == "EINVAL"


@pytest.mark.kernel
def test_a_step_the_worker_cannot_run_is_a_run_error_not_returned(runtime_dir):
    sc = loads(_step('action = "exit"\nstatus = 3'), "exit.toml")
    bent = replace(sc.steps[1], action="kill", args={"signal": "SIGTERM"})  # no target
    sc = replace(sc, steps=(sc.steps[0], bent))
    with Run(sc) as run:
        run.start()
        run.step()
        with pytest.raises(RunError) as err:
            run.step()
    assert "could not be run" in str(err.value) and "\n" not in str(err.value)
    _assert_nothing_left(runtime_dir)


def _many(n: int) -> str:
    procs = "".join(f'[[process]]\nname = "c{i}"\nparent = "a"\n' for i in range(n - 1))
    steps = "".join(f'[[step]]\nprocess = "a"\naction = "fork"\nchild = "c{i}"\n'
                    f'narration = "f"\n' for i in range(n - 1))
    return f'title = "many"\n[[process]]\nname = "a"\n{procs}{steps}'


def test_the_loader_caps_the_number_of_processes():
    loads(_many(MAX_PROCESSES), "ok.toml")
    with pytest.raises(ScenarioError) as err:
        loads(_many(MAX_PROCESSES + 1), "many.toml")
    assert f"at most {MAX_PROCESSES}" in str(err.value)


def test_the_conductor_caps_the_number_of_processes_too(runtime_dir):
    sc = loads(_many(3), "ok.toml")
    extra = tuple(replace(sc.processes[0], name=f"x{i}") for i in range(MAX_PROCESSES))
    sc = replace(sc, processes=sc.processes + extra)
    run = Run(sc)
    with pytest.raises(RunError) as err:
        run.start()
    run.close()
    assert f"at most {MAX_PROCESSES}" in str(err.value)
    _assert_nothing_left(runtime_dir)


def test_max_fd_is_below_the_reserved_ones():
    from ipcviz.runtime.ops.signals import WAKE_R, WAKE_W
    from ipcviz.runtime.protocol import CONTROL_FD

    assert min(CONTROL_FD, WAKE_R, WAKE_W) > MAX_FD


# -- 5. too few fds for the lesson -----------------------------------------------------------

def _few_fds():
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


@pytest.mark.kernel
def test_a_lesson_too_big_for_the_fd_limit_is_one_line_and_leaves_nothing(runtime_dir):
    r = ipcviz("run", "msgq/crowd", "--headless", env=_env(runtime_dir), preexec_fn=_few_fds)
    assert r.returncode in (2, 3), r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "ulimit -n" in r.stderr
    _assert_nothing_left(runtime_dir)


@pytest.mark.kernel
@pytest.mark.parametrize("aim", ["outsider", 0, -1])
def test_kill_reaches_only_processes_of_this_run(aim):
    from types import SimpleNamespace

    from ipcviz.runtime.ops.process import do_kill

    # GIVEN a process outside any run, and a kill whose target pid is it (or a group)
    outsider = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        pid = outsider.pid if aim == "outsider" else aim
        worker = SimpleNamespace(rundir=SimpleNamespace(run_id="not-a-run"))
        with pytest.raises(OSError) as err:
            do_kill(worker, {"target": "a", "signal": "SIGTERM"}, {"a": pid}, 2)
        # THEN the worker refuses as kill() does for a pid that is not there
        assert err.value.errno == errno.ESRCH
        assert outsider.poll() is None
    finally:
        outsider.kill()
        outsider.wait()
