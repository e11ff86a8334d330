"""`python -m ipcviz.bench.child`: the bench in a process of its own, JSON lines on stdout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ipcviz.bench.child import result_to_json, results_from_json
from ipcviz.bench.runner import DD_KEY, Latency, Result, Run

from . import bench_objects

PLAN = {"mechanisms": ["pipe", "fifo", "sysv-mq", "posix-mq", "shm"], "sizes": [64, 4096],
        "seconds": 0.2, "repeats": 5, "rounds": 200, "latency_seconds": 0.05}


def start(plan: dict | str) -> subprocess.Popen:
    text = plan if isinstance(plan, str) else json.dumps(plan)
    return subprocess.Popen([sys.executable, "-m", "ipcviz.bench.child", text],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def test_results_cross_as_json_unchanged():
    """Every field of a Result, its Runs and its Latency comes back equal from JSON."""
    results = [
        Result("pipe", "pipe", 4096,
               runs=(Run(0.1 / 3, 7, 4096 * 7, 4096 * 7, 12345, 12345),
                     Run(0.25, 9, 4096 * 9, 4096 * 9)),
               latency=Latency(1000, 12.345678901234, 30.5, 1 / 3, 0)),
        Result("sysv-mq", "System V message queue", 65536, "n/a",
               "n/a (limit: kernel.msgmax = 8192 bytes per message)"),
        Result(DD_KEY, "dd | dd (C reference)", 65536, "error", "error: dd failed: x"),
    ]
    wire = json.loads(json.dumps([result_to_json(r) for r in results]))
    assert results_from_json(wire) == results


@pytest.mark.parametrize("bad", [
    {"results": []},  # not a list
    [{"mechanism": "pipe", "label": "pipe"}],  # no size
    [{"mechanism": "pipe", "label": "pipe", "size": "4096"}],
    [{"mechanism": "pipe", "label": "pipe", "size": 1, "runs": [{"seconds": 1.0}]}],
    [{"mechanism": "pipe", "label": "pipe", "size": 1, "colour": "red"}],
])
def test_results_that_are_not_results_are_refused(bad):
    """A results list that does not hold Results raises ValueError, not a TypeError later."""
    with pytest.raises(ValueError):
        results_from_json(bad)


@pytest.mark.parametrize("plan, says", [
    ("{not json", "PLAN is not JSON"),
    ('["pipe"]', "PLAN is not a JSON object"),
    ('{"mechanisms": ["pipe"], "verbose": true}', "unknown key 'verbose'"),
    ('{"sizes": [0]}', "bad message size 0"),
    ('{"mechanisms": ["carrier-pigeon"]}', "unknown mechanism 'carrier-pigeon'"),
])
def test_bad_plan_is_one_error_line_and_exit_2(plan, says, runtime_dir):
    """A bad PLAN: one JSON error line naming what is wrong, exit 2, nothing on stderr."""
    proc = start(plan)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    lines = out.decode().splitlines()
    assert len(lines) == 1 and says in json.loads(lines[0])["error"]
    assert err == b""


def read_until_objects(proc: subprocess.Popen, runtime_dir) -> list[dict]:
    """Read progress lines until a manifest of the bench names a live object; its entries."""
    assert proc.stdout is not None
    for line in proc.stdout:
        assert "progress" in json.loads(line)
        entries = [e for lines in bench_objects.manifests(runtime_dir, proc.pid).values()
                   for e in lines]
        if bench_objects.live(entries):
            return entries
    raise AssertionError(f"the bench ended (exit {proc.wait()}) before it made an object")


@pytest.mark.kernel
def test_sigterm_ends_the_bench_between_measurements_leaving_nothing(runtime_dir):
    """SIGTERM mid-measurement: exit 3 once the measurement is cleaned up; nothing left."""
    proc = start(PLAN)
    try:
        # GIVEN a measurement with named objects under way
        entries = read_until_objects(proc, runtime_dir)
        # WHEN SIGTERM
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # THEN it stopped early, by its own cleanup, writing no results
    assert proc.returncode == 3
    assert all("progress" in json.loads(line) for line in rest.decode().splitlines())
    assert bench_objects.live(entries) == []
    assert bench_objects.manifests(runtime_dir, proc.pid) == {}


@pytest.mark.kernel
def test_a_closed_pipe_ends_the_bench_leaving_nothing(runtime_dir):
    """The reader is gone (the app killed): the bench stops at its next report, exit 3."""
    proc = start(PLAN)
    try:
        entries = read_until_objects(proc, runtime_dir)
        # WHEN its reader goes away
        proc.stdout.close()
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert code == 3
    assert bench_objects.live(entries) == []
    assert bench_objects.manifests(runtime_dir, proc.pid) == {}


@pytest.mark.kernel
def test_repeated_sigterm_still_ends_through_cleanup(runtime_dir):
    """SIGTERM again and again (the app's escape, unmount and close each send one): still
    exit 3 through the bench's cleanup, never killed by a late one while Python shuts down."""
    proc = start(PLAN)
    try:
        entries = read_until_objects(proc, runtime_dir)
        # WHEN SIGTERM comes every millisecond until the bench has exited
        while proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                break
            time.sleep(0.001)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # THEN it ended as after one SIGTERM: exit 3, its objects and manifests removed
    assert proc.returncode == 3
    assert bench_objects.live(entries) == []
    assert bench_objects.manifests(runtime_dir, proc.pid) == {}
