"""ipcviz bench: bytes really move, results are well formed, nothing is left behind.

No assertion here is about speed: these machines are shared and timing flakes. The targets
are checked by running the bench (docs/bench.md), not by tests.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time

import psutil
import pytest

from ipcviz.bench import BenchError, Unavailable, measure_latency, measure_throughput, run_bench
from ipcviz.bench import mechanisms as mech_mod
from ipcviz.bench.cli import main
from ipcviz.bench.mechanisms import (
    MECHANISMS, PREFIX, FifoChannel, PosixMqChannel, ShmChannel, SysvMqChannel, created_objects, read_int,
)
from ipcviz.bench.procs import run_pair

from .bench_objects import live

pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")]

ALL = list(MECHANISMS)
import ipcviz  # noqa: E402

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(ipcviz.__file__)))
_ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p))
SMALL = 64 * 1024  # bytes per throughput run in tests


def _ours_in_dev_shm() -> list[str]:
    return glob.glob(f"/dev/shm/*{PREFIX}-{os.getpid()}-*")


@pytest.fixture(autouse=True)
def no_leftovers(tmp_path, monkeypatch):
    """After each test: no child process, nothing in /dev/shm, no SysV object, FIFO, mq, and
    no run directory (the manifests) in this test's private runtime directory."""
    root = tmp_path / "rt"
    monkeypatch.setenv("IPCVIZ_RUNTIME_DIR", str(root))
    me = psutil.Process()
    children_before = {c.pid for c in me.children(recursive=True)}
    mark = len(created_objects)
    yield
    assert not _ours_in_dev_shm()
    assert not list(root.glob("run-*")), "run directory left behind"
    # Other developers' test runs share this machine, so a global before/after diff of
    # `ipcs` could see their objects: look for the objects this test created instead.
    made = list(created_objects)[mark:]
    assert not live(made), f"left behind: {live(made)}"
    for e in made:
        kind, name = e["kind"], e["name"]
        assert f"{PREFIX}-{os.getpid()}-" in name, name
        if kind == "sysv_msgq":
            assert e["key"] != 0  # a random key, never IPC_PRIVATE: the sweep must find it
        elif kind == "fifo":
            assert name.startswith(str(root)), name
        else:  # POSIX names: "/ipcviz." is what the sweep's removers accept as ours
            assert name.startswith("/ipcviz."), name
    left = [c for c in me.children(recursive=True) if c.pid not in children_before]
    assert not left, f"children left: {left}"


def _expect_limit(mechanism: str, size: int) -> str | None:
    """The limit the machine imposes on this mechanism/size, if any (read, never hard-coded)."""
    if mechanism == "sysv-mq":
        msgmax = read_int("/proc/sys/kernel/msgmax")
        if msgmax is not None and size > msgmax:
            return "kernel.msgmax"
    if mechanism == "posix-mq":
        mx = read_int("/proc/sys/fs/mqueue/msgsize_max")
        if mx is not None and size > mx:
            return "maybe:fs.mqueue.msgsize_max"  # root with CAP_SYS_RESOURCE may still create it
    return None


# --------------------------------------------------------------------------- bytes really move


@pytest.mark.parametrize("size", [64, 4096, 65536])
@pytest.mark.parametrize("mechanism", ALL)
def test_throughput_moves_every_byte_checksummed(mechanism, size):
    limit = _expect_limit(mechanism, size)
    try:
        run = measure_throughput(mechanism, size, volume=SMALL, verify=True)
    except Unavailable as exc:
        assert limit is not None, f"unexpected n/a: {exc}"
        assert limit.removeprefix("maybe:") in str(exc)
        return
    assert limit is None or limit.startswith("maybe:")
    count = -(-SMALL // size)
    assert run.messages == count
    assert run.bytes_sent == run.bytes_received == count * size
    assert run.checksum_sent is not None
    assert run.checksum_sent == run.checksum_received
    assert run.seconds > 0


@pytest.mark.parametrize("mechanism", ALL)
def test_fast_path_counts_every_byte(mechanism):
    # the loops used for the numbers (no checksum), in both volume and seconds mode
    run = measure_throughput(mechanism, 4096, volume=SMALL + 1)
    assert run.bytes_sent == run.bytes_received == (SMALL // 4096 + 1) * 4096
    assert run.checksum_sent is None
    run = measure_throughput(mechanism, 64, seconds=0.02)
    assert run.messages > 0 and run.bytes_sent == run.bytes_received == run.messages * 64


@pytest.mark.parametrize("mechanism", ALL)
def test_latency_round_trips_echo(mechanism):
    lat = measure_latency(mechanism, 4096, rounds=30, seconds=1.0, verify=True)
    assert lat.rounds == 30
    assert lat.mismatches == 0
    assert 0 < lat.min_us <= lat.median_us <= lat.p99_us


def test_shm_without_spin_and_tiny_messages():
    run = measure_throughput("shm", 1, volume=1000, verify=True, spin=0)
    assert run.bytes_received == 1000 and run.checksum_sent == run.checksum_received
    lat = measure_latency("shm", 1, rounds=20, verify=True, spin=0)
    assert lat.median_us > 0


# --------------------------------------------------------------------------- run_bench / results


def test_run_bench_results_are_frozen_and_complete():
    seen = []
    results = run_bench(["pipe", "sysv-mq", "shm"], [64, 65536], SMALL, repeats=2, rounds=20,
                        latency_seconds=0.01, progress=lambda d, t, w: seen.append((d, t, w)))
    assert [(r.mechanism, r.size) for r in results] == [
        ("pipe", 64), ("pipe", 65536), ("sysv-mq", 64), ("sysv-mq", 65536), ("shm", 64), ("shm", 65536),
        ("dd", 65536)]
    for r in results:
        if r.mechanism == "sysv-mq" and _expect_limit("sysv-mq", r.size):
            assert r.status == "n/a" and "kernel.msgmax" in r.note
            continue
        assert r.status == "ok", r.note
        assert r.repeats == 2 and r.throughput_mib_s > 0 and r.bytes >= 2 * SMALL
        if r.mechanism != "dd":
            assert 0 < r.latency_median_us <= r.latency_p99_us
    with pytest.raises(dataclasses.FrozenInstanceError):
        results[0].size = 1  # type: ignore[misc]
    done = [d for d, _t, _w in seen]
    assert done[0] == 0 and done == sorted(done) and done[-1] == seen[-1][1]


def test_run_bench_rejects_bad_arguments():
    with pytest.raises(ValueError):
        run_bench(["carrier-pigeon"], [64], SMALL)
    with pytest.raises(ValueError):
        run_bench(["pipe"], [0], SMALL)
    with pytest.raises(ValueError):
        run_bench(["pipe"], [64], SMALL, seconds=1.0)


# --------------------------------------------------------------------------- the command line

FAST = ["--volume", "64k", "--repeats", "1", "--rounds", "20", "--latency-seconds", "0.01"]


def test_cli_json_document(capsys):
    rc = main(["--mechanisms", "pipe,sysv-mq,shm", "--sizes", "64,64k", "--json", *FAST])
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out)
    assert {"machine", "parameters", "results", "targets"} <= set(doc)
    assert {"kernel", "cpu", "cpus", "python", "limits"} <= set(doc["machine"])
    p = doc["parameters"]
    assert p["mechanisms"] == ["pipe", "sysv-mq", "shm"] and p["sizes"] == [64, 65536]
    assert p["volume"] == 65536 and p["repeats"] == 1
    keys = {"mechanism", "label", "size", "status", "note", "throughput_mib_s", "latency_median_us",
            "latency_p99_us", "messages", "bytes", "repeats", "runs"}
    for r in doc["results"]:
        assert keys <= set(r)
        if r["status"] == "ok":
            assert r["throughput_mib_s"] > 0 and r["bytes"] > 0 and r["messages"] > 0 and r["repeats"] == 1
    labels = [r["label"] for r in doc["results"]]
    assert labels[-1] == "dd | dd (C reference)"
    assert {t["key"] for t in doc["targets"]} == {"pipe_vs_dd", "shm_vs_pipe"}


def test_cli_table(capsys):
    rc = main(["--mechanisms", "pipe,posix-mq", "--sizes", "4096,65536", *FAST])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "dd | dd (C reference)" in out and "POSIX message queue" in out and "targets:" in out
    if _expect_limit("posix-mq", 65536):
        assert "msgsize_max" in out or "64 KiB" in out


@pytest.mark.parametrize("argv", [
    ["--sizes", "0"],
    ["--sizes", "abc"],
    ["--sizes", "64,99999999999"],
    ["--mechanisms", "carrier-pigeon"],
    ["--mechanisms", ","],
    ["--volume", "1M", "--seconds", "1"],
    ["--volume", "-5"],
    ["--seconds", "zero"],
    ["--repeats", "0"],
    ["--bogus"],
])
def test_cli_bad_options_exit_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("ipcviz bench: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_cli_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "ipcviz bench" in capsys.readouterr().out


def test_measuring_code_imports_no_ui():
    code = ("import sys, ipcviz.bench, ipcviz.bench.runner, ipcviz.bench.report\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('rich', 'textual')]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=_ENV)


# --------------------------------------------------------------------------- cleanliness


def test_fifo_dir_is_private_and_removed():
    chan = FifoChannel(64, "latency")
    try:
        run_dir = chan.rd.path
        assert stat.S_IMODE(os.stat(chan.rd.fifo_dir).st_mode) == 0o700
        for path in (chan.req, chan.resp):
            st = os.stat(path)
            assert stat.S_ISFIFO(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
            assert os.path.dirname(path) == str(chan.rd.fifo_dir)
            assert f"{PREFIX}-{os.getpid()}-" in path
        assert [e["name"] for e in chan.rd.objects()] == [chan.req, chan.resp]
    finally:
        chan.close()
    assert not os.path.exists(run_dir)


def test_names_carry_the_prefix():
    mark = len(created_objects)
    measure_throughput("shm", 64, volume=640)
    measure_throughput("posix-mq", 64, volume=640)
    names = [e["name"] for e in list(created_objects)[mark:]]
    # the run's unguessable prefix "/ipcviz.RUN.TAG.", then the bench's own stem
    assert len(names) == 4 and all(n.startswith("/ipcviz.") and f".{PREFIX}-{os.getpid()}-"
                                   in n for n in names)


NAMED = (FifoChannel, SysvMqChannel, PosixMqChannel, ShmChannel)


def test_each_manifest_lists_what_exists_and_goes_with_it():
    from ipcviz.runtime.rundir import conductor_alive
    from ipcviz.runtime.sweep import REMOVERS, _load_removers

    _load_removers()
    for cls in NAMED:
        for mode in ("throughput", "latency"):
            chan = cls(64, mode)
            try:
                info = chan.rd.read_info()
                assert info["conductor_pid"] == os.getpid() and conductor_alive(info)
                objects = chan.rd.objects()
                assert {e["kind"] for e in objects} <= set(REMOVERS), objects
                there = live(objects)  # one per name: a System V queue has a key line too
                assert there and len(there) == len({e["name"] for e in objects}), (cls.key, mode, objects)
            finally:
                chan.close()
            assert not live(objects) and chan.rd is None


def test_a_live_bench_is_not_swept():
    from ipcviz.runtime.sweep import sweep

    chans = [cls(64, "throughput") for cls in NAMED]
    try:
        # `ipcviz clean` or an app starting meanwhile (dry: the sweep also ends other
        # people's orphaned processes, and a dry run decides exactly as a real one)
        report = sweep(dry_run=True)
        assert not [line for chan in chans for line in report if chan.rd.run_id in line], report
        for chan in chans:
            assert chan.rd.path.exists() and len(live(chan.rd.objects())) == len(
                {e["name"] for e in chan.rd.objects()}), chan.key
    finally:
        for chan in chans:
            chan.close()


def test_the_sweep_removes_a_bench_objects_from_its_manifest_alone():
    """What `ipcviz clean` does after a SIGKILL, in-process: only the manifest is used. The
    System V queue also by its key alone (killed between msgget and the line with the msqid)."""
    from ipcviz.runtime.sweep import remove_objects

    chans = [cls(64, "latency") for cls in NAMED]
    key_only = SysvMqChannel(64, "throughput")
    try:
        lines = key_only.rd.path / "objects.jsonl"
        lines.write_text(lines.read_text().splitlines(keepends=True)[0])
        assert "msqid" not in key_only.rd.objects()[0]
        for chan in [*chans, key_only]:
            objects = chan.rd.objects()
            done = remove_objects(chan.rd)
            assert len(done) == len({e["name"] for e in objects}) and not live(objects), (chan.key, done)
    finally:
        for chan in [*chans, key_only]:
            chan.close()  # what is already gone is no error


def _forever() -> None:
    while True:
        time.sleep(3600)


def test_dead_child_does_not_hang_the_parent():
    def die():
        os._exit(7)

    t0 = time.monotonic()
    with pytest.raises(BenchError, match="consumer"):
        run_pair([("consumer", lambda: None, die), ("producer", lambda: None, _forever)],
                 lambda: None, timeout=60)
    assert time.monotonic() - t0 < 50  # noticed through EOF, not through the 60 s timeout


def test_hung_children_time_out_and_are_killed():
    with pytest.raises(BenchError, match="timed out"):
        run_pair([("a", lambda: None, _forever), ("b", lambda: None, _forever)], lambda: None, timeout=0.3)
    with pytest.raises(BenchError, match="setup"):
        run_pair([("a", _forever, lambda: None), ("b", lambda: None, lambda: None)], lambda: None,
                 timeout=1, setup_timeout=0.3)


def test_child_error_is_reported_not_printed(capfd):
    def noisy():
        print("to stdout")
        os.write(2, b"to stderr\n")
        raise RuntimeError("boom")

    with pytest.raises(BenchError, match="boom"):
        run_pair([("a", lambda: None, noisy), ("b", lambda: None, lambda: 1)], lambda: None, timeout=10)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_children_die_with_the_parent(tmp_path):
    """SIGKILL a process in the middle of run_pair: its children (PR_SET_PDEATHSIG) die too.

    A helper process makes itself a child subreaper, starts the victim, kills it, and reaps
    the orphaned grandchildren itself, so we see how they died (and leave no zombie behind).
    """
    pidfile = tmp_path / "pids"
    victim = textwrap.dedent(f"""
        import os, time
        from ipcviz.bench.procs import run_pair
        def setup():
            with open({str(pidfile)!r}, "a") as f:
                f.write(f"{{os.getpid()}}\\n")
        def forever():
            while True:
                time.sleep(3600)
        run_pair([("a", setup, forever), ("b", setup, forever)], lambda: None, timeout=600)
    """)
    helper = textwrap.dedent(f"""
        import ctypes, json, os, signal, subprocess, sys, time
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        victim = subprocess.Popen([sys.executable, "-c", {victim!r}], stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        pids = []
        while len(pids) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
            if os.path.exists({str(pidfile)!r}):
                pids = [int(x) for x in open({str(pidfile)!r}).read().split()]
        victim.kill()
        victim.wait()
        died = {{}}
        deadline = time.monotonic() + 10
        while len(died) < len(pids) and time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid in pids:
                died[pid] = os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1
            elif not pid:
                time.sleep(0.01)
        for pid in pids:
            if pid not in died:
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except OSError:
                    pass
        print(json.dumps({{"pids": pids, "died": {{str(k): v for k, v in died.items()}}}}))
    """)
    out = subprocess.run([sys.executable, "-c", helper], env=_ENV, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert len(report["pids"]) == 2
    assert report["died"] == {str(p): int(signal.SIGKILL) for p in report["pids"]}


def test_dd_reference_moves_the_volume():
    from ipcviz.bench import measure_dd

    run = measure_dd(3 * 65536)
    assert run.bytes_received == run.bytes_sent == 3 * 65536 and run.seconds > 0


def test_fifos_make_no_tempdirs():
    pattern = os.path.join(tempfile.gettempdir(), f"*bench-{os.getpid()}-*")
    before = set(glob.glob(pattern))
    mark = len(created_objects)
    measure_throughput("fifo", 64, volume=640)
    measure_latency("fifo", 64, rounds=10)
    assert set(glob.glob(pattern)) <= before
    fifos = [e["name"] for e in list(created_objects)[mark:]]
    assert len(fifos) == 3 and all(os.environ["IPCVIZ_RUNTIME_DIR"] in f for f in fifos)
    assert mech_mod.PREFIX == "ipcviz.bench"  # what the patterns above and in the fixture use
