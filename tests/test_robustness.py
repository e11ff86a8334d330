"""Bad input gets a clear answer; missing mechanisms and kernel limits are named."""

from __future__ import annotations

import json
import os
import random
import resource
import string
import subprocess
import sys
from functools import partial

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipcviz.runtime import Run
from ipcviz.runtime.limits import explain
from ipcviz.scenario import ScenarioError, load, loads

from .conftest import SCENARIOS, ipcviz

SHIPPED = sorted(SCENARIOS.glob("*/*.toml"))
TEXTS = [p.read_text() for p in SHIPPED]


def _loads_cleanly(text: str) -> None:
    """Either a Scenario or one ScenarioError line: never another exception."""
    try:
        loads(text, "fuzz.toml")
    except ScenarioError as err:
        assert "\n" not in str(err) and str(err).startswith("fuzz.toml")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_shipped_scenarios_never_raise_anything_else(data):
    text = data.draw(st.sampled_from(TEXTS))
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1))
        how = data.draw(st.sampled_from(["drop", "dup", "garble", "swap", "retype"]))
        if how == "drop":
            del lines[i]
        elif how == "dup":
            lines.insert(i, lines[i])
        elif how == "garble":
            j = data.draw(st.integers(0, max(0, len(lines[i]))))
            ch = data.draw(st.sampled_from(list(string.printable) + ["\u00e9", "\x00"]))
            lines[i] = lines[i][:j] + ch + lines[i][j:]
        elif how == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            k, _, v = lines[i].partition("=")
            if v:
                lines[i] = k + "= " + data.draw(st.sampled_from(
                    ["1", "-1", "true", "[]", "{}", '"x"', "1.5", '["a", 2]', '"p.read"',
                     '"capacity * 99999999999"', "99999999999999999999"]))
    _loads_cleanly("\n".join(lines))


_scalars = st.one_of(st.integers(-5, 70000), st.text(max_size=12), st.booleans(),
                     st.lists(st.text(max_size=5), max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["process", "action", "fd", "size", "data", "child",
                                        "object", "narration", "expect", "to", "all",
                                        "signal", "target", "disposition", "status"]),
                       _scalars, max_size=8))
def test_generated_steps_never_raise_anything_else(step):
    def toml_value(v):
        return json.dumps(v)  # JSON scalars and string lists are valid TOML values

    body = "\n".join(f"{k} = {toml_value(v)}" for k, v in step.items())
    text = ('title = "t"\n[[process]]\nname = "a"\n[[object]]\nname = "p"\nkind = "pipe"\n'
            f"[[step]]\n{body}\n")
    _loads_cleanly(text)


def test_unknown_top_level_and_wrong_table_shapes_are_one_line():
    for text in ['title = "t"\nprocess = "x"\n', 'title = 3\n', '[[step]]\n',
                 'title = "t"\n[[process]]\nname = "Bad Name"\n', "\x00"]:
        _loads_cleanly(text)


def test_limit_explanations_read_the_system():
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    text = explain("pipe", "EMFILE")
    assert "RLIMIT_NOFILE" in text and str(soft) in text
    msgmnb = open("/proc/sys/kernel/msgmnb").read().strip()
    assert msgmnb in explain("msgsnd", "EAGAIN")
    assert explain("write", "EPIPE") is None and explain("read", None) is None


def test_a_missing_mechanism_marks_its_lessons_and_the_rest_still_run(tmp_path):
    env = {**os.environ, "IPCVIZ_DISABLE": "pidfd_getfd",
           "IPCVIZ_RUNTIME_DIR": str(tmp_path / "rt")}
    r = ipcviz("list", "--json", env=env)
    items = {i["name"]: i for i in json.loads(r.stdout)}
    assert items["pipe/eof"]["available"] is False
    assert "pidfd_getfd" in items["pipe/eof"]["unavailable_reason"]
    r = ipcviz("run", "pipe/eof", "--headless", env=env)
    assert r.returncode == 3 and "cannot run on this system" in r.stderr
    assert "Traceback" not in r.stderr
    ok = ipcviz("list", "--json", env={**os.environ, "IPCVIZ_RUNTIME_DIR": str(tmp_path)})
    assert all(i["available"] for i in json.loads(ok.stdout) if i["name"].startswith("pipe/"))


@pytest.mark.kernel
def test_another_user_cannot_reach_a_run(runtime_dir):
    # GIVEN a live run / WHEN a process of another uid tries its directory and socket
    scenario = load(SCENARIOS / "pipe/empty-blocks-reader.toml")
    with Run(scenario) as run:
        run.start()
        sock = str(run.rundir.socket_path)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child drops to "nobody" and reports what it could do
            os.close(r)
            results = []
            try:
                os.setresgid(65534, 65534, 65534)
                os.setresuid(65534, 65534, 65534)
                for attempt in (lambda: os.listdir(run.rundir.path),
                                lambda: __import__("socket").socket(1).connect(sock),
                                lambda: open(run.rundir.info_path).read()):
                    try:
                        attempt()
                        results.append("allowed")
                    except PermissionError:
                        results.append("denied")
                    except OSError as err:
                        results.append(f"error {err.errno}")
            finally:
                os.write(w, json.dumps(results).encode())
                os._exit(0)
        os.close(w)
        data = os.read(r, 4096)
        os.waitpid(pid, 0)
        os.close(r)
    # THEN everything is denied: the runtime directory is 0700
    assert json.loads(data) == ["denied", "denied", "denied"]


def test_random_garbage_files_give_exit_2(tmp_path):
    rng = random.Random(7)
    for i in range(20):
        f = tmp_path / f"g{i}.toml"
        f.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))))
        r = ipcviz("check", str(f))
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert len([x for x in r.stderr.splitlines() if not x.startswith("  fix: ")]) == 1


#: What each bench mechanism creates that outlives a killed process: manifest kinds.
BENCH_KINDS = {"sysv-mq": {"sysv_msgq"}, "posix-mq": {"posix_mq"}, "fifo": {"fifo"},
               "shm": {"shm", "sem"}}


def _bench_ready(runtime_dir, proc: subprocess.Popen, mech: str) -> bool:
    """The bench has forked its two children, and its manifest names objects of every kind
    its mechanism makes that exist."""
    import psutil

    from .bench_objects import live, manifests

    assert proc.poll() is None, f"{mech} bench exited: {proc.stderr.read()}"
    found = live([e for lines in manifests(runtime_dir, proc.pid).values() for e in lines])
    return ({e["kind"] for e in found} == BENCH_KINDS[mech]
            and len(psutil.Process(proc.pid).children()) == 2)


@pytest.fixture
def benches(runtime_dir):
    """One real `ipcviz bench` per mechanism (a bench has one measurement's objects at a
    time), each waited for until _bench_ready: [(process, run ids, live manifest entries,
    child pids)]. Afterwards each is killed, and if the test failed before its run
    directories were gone, they are swept: a failing test leaves nothing behind either."""
    import psutil

    from ipcviz.runtime.sweep import sweep

    from .bench_objects import live, manifests
    from .conftest import ROOT, wait_until

    env = dict(os.environ, IPCVIZ_RUNTIME_DIR=str(runtime_dir))
    procs = {mech: subprocess.Popen(
        [sys.executable, "-m", "ipcviz", "bench", "--mechanisms", mech, "--sizes", "64",
         "--seconds", "60", "--repeats", "1", "--no-reference"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True) for mech in BENCH_KINDS}
    try:
        out = []
        for mech, proc in procs.items():
            wait_until(partial(_bench_ready, runtime_dir, proc, mech), 30,
                       f"the {mech} bench's objects and children")
            runs = manifests(runtime_dir, proc.pid)
            found = live([e for lines in runs.values() for e in lines])
            children = [c.pid for c in psutil.Process(proc.pid).children()]
            out.append((proc, list(runs), found, children))
        yield out
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stderr.close()
        if list(runtime_dir.glob("run-*")):
            sweep(root=runtime_dir)


def _gone(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.kernel
def test_clean_removes_what_a_killed_bench_left(runtime_dir, benches):
    from .bench_objects import exists, live
    from .conftest import wait_until

    # GIVEN four benches killed with SIGKILL in the middle of a measurement
    for proc, _runs, _objects, _kids in benches:
        proc.kill()
    for proc, _runs, _objects, _kids in benches:
        proc.wait(10)
    objects = [e for _p, _r, found, _k in benches for e in found]
    assert len(objects) == 6  # a queue of each kind, a FIFO, shm and its two semaphores
    # THEN their children die with them, but the objects stay: nobody removed them
    kids = [k for _p, _r, _o, pids in benches for k in pids]
    wait_until(lambda: all(_gone(k) for k in kids), 10, "the benches' children to die")
    assert all(exists(e) for e in objects)
    # WHEN `ipcviz clean` runs (as the app does at every start)
    r = ipcviz("clean", env=dict(os.environ, IPCVIZ_RUNTIME_DIR=str(runtime_dir)))
    assert r.returncode == 0, r.stderr
    # THEN every object and every run directory is gone, and clean said so
    left = [f"{e['kind']} {e['name']}" for e in live(objects)]
    assert not left, f"left behind: {left}\n{r.stdout}"
    assert not list(runtime_dir.glob("run-*"))
    ours = [line for _p, runs, _o, _k in benches for run_id in runs
            for line in r.stdout.splitlines() if line.startswith(f"removed run {run_id}: ")]
    assert len(ours) == 6 + 4, r.stdout  # each object, then each directory


@pytest.mark.kernel
def test_a_terminated_bench_removes_its_objects_itself(runtime_dir, benches):
    import signal as sig

    from .bench_objects import live

    # GIVEN four benches in the middle of a measurement (the fixture)
    # WHEN each gets SIGTERM (no `ipcviz clean` afterwards)
    for proc, _runs, _objects, _kids in benches:
        proc.send_signal(sig.SIGTERM)
    for proc, _runs, _objects, _kids in benches:
        assert proc.wait(20) == 128 + sig.SIGTERM
        assert proc.stderr.read() == "ipcviz bench: SIGTERM\n"
    # THEN each removed its objects, reaped its children and removed its run directory
    left = [f"{e['kind']} {e['name']}" for _p, _r, found, _k in benches for e in live(found)]
    assert not left, f"left behind: {left}"
    assert all(_gone(k) for _p, _r, _o, kids in benches for k in kids)
    assert not list(runtime_dir.glob("run-*"))


@pytest.mark.kernel
def test_a_process_killed_from_outside_is_shown_and_the_run_ends_cleanly(runtime_dir):
    import signal as sig

    from ipcviz.runtime import RunError

    from .conftest import marked_processes, wait_until

    scenario = load(SCENARIOS / "pipe/empty-blocks-reader.toml")
    with Run(scenario) as run:
        snap = run.start()
        run_id = run.rundir.run_id
        while snap.outcome != "blocked":  # the reader sleeps in read()
            snap = run.step()
        writer = snap.process_named("writer")
        # WHEN someone outside ipcviz kills the writer
        os.kill(writer.pid, sig.SIGKILL)
        wait_until(lambda: run.sample().process_named("writer").state == "zombie", 5,
                   "the writer to be a zombie")
        seen = run.sample().process_named("writer")
        # THEN the kernel's word is shown: a zombie, killed by SIGKILL, its parent not waiting
        assert seen.exit is not None and seen.exit.signal == "SIGKILL"
        # and its next step is refused with one clear line, not a hang
        with pytest.raises(RunError) as err:
            run.step()
        assert "has already ended" in str(err.value) and "\n" not in str(err.value)
    assert marked_processes(run_id) == []
