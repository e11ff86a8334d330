"""Bad input gets a clear answer; missing mechanisms and kernel limits are named."""

from __future__ import annotations

import json
import os
import random
import resource
import string

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


def test_clean_removes_shared_memory_of_a_dead_bench(tmp_path):
    from ipcviz.runtime.sweep import sweep_bench

    # GIVEN entries named like a bench's: one of a dead pid, one of a live one (ours)
    shm = tmp_path / "shm"
    shm.mkdir()
    dead = 2 ** 22 + 12345  # above pid_max's default range: no such process
    while os.path.exists(f"/proc/{dead}"):
        dead += 1
    (shm / f"ipcviz-bench-{dead}-1-shm").write_text("x")
    (shm / f"sem.ipcviz-bench-{dead}-1-full").write_text("x")
    (shm / f"ipcviz-bench-{os.getpid()}-1-shm").write_text("x")
    (shm / "somebody-else").write_text("x")
    # WHEN swept, dry first
    assert len(sweep_bench(dry_run=True, shm_dir=str(shm))) == 2
    assert len(list(shm.iterdir())) == 4
    sweep_bench(shm_dir=str(shm))
    # THEN only the dead bench's entries are gone
    assert sorted(p.name for p in shm.iterdir()) == sorted(
        [f"ipcviz-bench-{os.getpid()}-1-shm", "somebody-else"])


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
