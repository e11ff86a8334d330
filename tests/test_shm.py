"""Shared memory: the probe's readings against a second, independent reading at the same
moment (plain reads of /dev/shm/NAME, /proc/sysvipc/shm, `ipcs -m -i`), non-intrusion (the
probe never attaches, never maps, never raises nattch), and nothing left behind: after a
run, after a failed expect, after SIGKILL of the conductor and `ipcviz clean`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from ipcviz.runtime import Run
from ipcviz.scenario import load, loads

from .conductor_helpers import run_until
from .ipc_helpers import clean, killed_at_step, posix_leftovers, sysvipc_rows
from .conftest import SCENARIOS, ipcviz, marked_processes, wait_until

BASICS = SCENARIOS / "shm/basics.toml"


def shm_rows() -> dict[int, dict[str, int]]:
    return sysvipc_rows("shm")


def ipcs_m(shmid: int) -> dict[str, str]:
    out = subprocess.run(["ipcs", "-m", "-i", str(shmid)], capture_output=True, text=True,
                         check=True).stdout
    return dict(re.findall(r"(\w+)=(\S+)", out))


def sysv_shm_left(keys: set[int], ids: set[int]) -> list[int]:
    return [i for i, r in shm_rows().items() if i in ids or (r["key"] in keys and r["key"])]


def _manifest_ids(run: Run) -> tuple[set[int], set[int]]:
    entries = [e for e in run.rundir.objects() if e["kind"] == "sysv_shm"]
    return {e["key"] for e in entries}, {e["shmid"] for e in entries if "shmid" in e}


@pytest.mark.kernel
def test_posix_region_bytes_agree_with_a_plain_read_of_dev_shm(runtime_dir):
    # GIVEN shm/basics after the reader stored 42 into the region both processes map
    with Run(load(BASICS)) as run:
        snap = run_until(run, 7)
        region = snap.object_named("region")
        path = f"/dev/shm{region.name}"
        # WHEN the test reads the same file with plain reads, at the same moment
        with open(path, "rb") as f:
            raw = f.read()
        # THEN size and bytes agree with the probe's
        assert region.size == os.stat(path).st_size == len(raw) == 4096
        assert bytes.fromhex(region.data) == raw[:len(bytes.fromhex(region.data))]
        assert region.counter == int.from_bytes(raw[:8], "little") == 42
        # AND the mappings it shows are the ones /proc/PID/maps lists (by inode)
        ino = os.stat(path).st_ino
        for p in snap.processes:
            maps = open(f"/proc/{p.pid}/maps").read()
            mapped = any(line.split()[4] == str(ino) for line in maps.splitlines()
                         if len(line.split()) > 4)
            assert mapped == (p.name in region.mapped_by)


@pytest.mark.kernel
def test_probe_changes_nothing_of_a_posix_region(runtime_dir):
    with Run(load(BASICS)) as run:
        snap = run_until(run, 5)  # "hello" stored, both map it
        path = f"/dev/shm{snap.object_named('region').name}"
        before = os.stat(path)
        for _ in range(20):
            again = run.sample()
        after = os.stat(path)
        # the probe's reads changed neither contents nor metadata the lesson can see
        assert (before.st_mtime_ns, before.st_ctime_ns, before.st_size, before.st_nlink) == \
               (after.st_mtime_ns, after.st_ctime_ns, after.st_size, after.st_nlink)
        assert again.object_named("region").text == "hello"
        assert again.object_named("region").mapped_by == ("writer", "reader")
        # and ipcviz itself keeps neither a mapping nor an fd of it
        # no mapping of ours has that file's inode (the 5th field of a maps line)
        inodes = {line.split()[4] for line in open("/proc/self/maps") if len(line.split()) > 4}
        assert str(before.st_ino) not in inodes
        for fd in os.listdir("/proc/self/fd"):
            try:
                assert os.readlink(f"/proc/self/fd/{fd}") != path
            except FileNotFoundError:
                pass


@pytest.mark.kernel
def test_sysv_nattch_is_the_kernels_and_the_probe_never_attaches(runtime_dir):
    # GIVEN shm/basics with the System V segment attached by both processes, "System V"
    # stored in it
    with Run(load(BASICS)) as run:
        snap = run_until(run, 14)
        seg = snap.object_named("seg")
        rows = shm_rows()
        row = rows[seg.shmid]
        # THEN size and nattch are /proc/sysvipc/shm's and ipcs's
        info = ipcs_m(seg.shmid) if shutil.which("ipcs") else {"nattch": str(row["nattch"])}
        assert seg.nattch == row["nattch"] == int(info["nattch"]) == 2
        assert seg.size == row["size"]
        assert seg.mapped == 2
        # WHEN the probe samples many times
        for _ in range(20):
            again = run.sample()
        # THEN nattch did not move, and the last attach/detach is not ipcviz's (lpid)
        row2 = shm_rows()[seg.shmid]
        assert row2["nattch"] == 2 and again.object_named("seg").nattch == 2
        assert row2["lpid"] != os.getpid()
        assert row2["atime"] == row["atime"] and row2["dtime"] == row["dtime"]
        # AND the bytes agree with a read-only attach of the test's own (made after the
        # probe's readings, undone at once)
        import sysv_ipc

        mem = sysv_ipc.attach(seg.shmid, 0, sysv_ipc.SHM_RDONLY)
        try:
            raw = mem.read(16)
        finally:
            mem.detach()
        assert raw[:9] == b"System V\0"
        assert bytes.fromhex(again.object_named("seg").data)[:16] == raw
        assert again.object_named("seg").text == "System V"


@pytest.mark.kernel
def test_a_store_makes_no_system_call_and_says_so(runtime_dir):
    with Run(load(SCENARIOS / "shm/lost-updates.toml")) as run:
        snap = run_until(run, 8)  # a stores reg + 1
        entry = snap.log[-1]
        assert "no system call" in entry.call and entry.outcome == "returned"
        assert snap.object_named("counter").counter == 1


@pytest.mark.kernel
def test_a_run_leaves_no_region_behind(runtime_dir):
    run = Run(load(BASICS))
    try:
        run_until(run, 11)  # POSIX region unlinked but mapped; SysV segment attached
        run_id = run.rundir.run_id
        keys, ids = _manifest_ids(run)
        assert ids and sysv_shm_left(keys, ids)
    finally:
        run.close()
    assert posix_leftovers(run_id) == []
    assert sysv_shm_left(keys, ids) == []
    assert marked_processes(run_id) == []


FAILING = """
title = "An expect that fails"
[[process]]
name = "a"
[[object]]
name = "m"
kind = "shm"
[[object]]
name = "seg"
kind = "sysv_shm"
[[step]]
process = "a"
action = "shm_open"
object = "m"
size = 4096
narration = "create"
[[step]]
process = "a"
action = "shmget"
object = "seg"
size = 4096
narration = "create"
[[step]]
process = "a"
action = "shmat"
object = "seg"
narration = "attach"
expect = ["seg.nattch == 5"]
"""


@pytest.mark.kernel
def test_a_failed_expect_leaves_nothing_behind(runtime_dir, tmp_path):
    path = tmp_path / "failing.toml"
    path.write_text(FAILING)
    loads(FAILING)  # valid
    env = {**os.environ, "IPCVIZ_RUNTIME_DIR": str(runtime_dir)}
    r = ipcviz("run", str(path), "--headless", "--json", env=env)
    assert r.returncode == 1, r.stderr
    last = json.loads(r.stdout.splitlines()[-1])
    objs = {o["id"]: o for o in last["objects"]}
    assert not last["checks"][0]["ok"]
    name, shmid = objs["m"]["name"], objs["seg"]["shmid"]
    assert not os.path.exists(f"/dev/shm{name}")
    assert shmid not in shm_rows()
    assert not any(runtime_dir.glob("run-*"))


@pytest.mark.kernel
def test_sigkill_of_the_conductor_then_clean_leaves_no_region(runtime_dir):
    # GIVEN a headless run of shm/basics killed with SIGKILL after step 12
    snap, run_id = killed_at_step("shm/basics", runtime_dir, 12)
    seg = next(o for o in snap["objects"] if o["id"] == "seg")
    # THEN its processes die; the runner removes the manifest's objects (or, if it was
    # stopped first, `ipcviz clean` does): nothing of the run is left either way
    wait_until(lambda: marked_processes(run_id) == [], 5, "the run's processes to die")
    r = clean(runtime_dir)
    assert r.returncode == 0
    assert seg["shmid"] not in shm_rows()
    assert posix_leftovers(run_id) == []
    assert not any(runtime_dir.glob("run-*"))


@pytest.mark.kernel
def test_clean_removes_the_regions_when_conductor_and_runner_were_killed(runtime_dir):
    # GIVEN shm/basics at step 12: a POSIX region (unlinked by the lesson at step 9, kept by
    # its mappings) and a System V segment, which outlives every process
    # WHEN the runner and the conductor both die by SIGKILL
    snap, run_id = killed_at_step("shm/basics", runtime_dir, 12, runner_too=True)
    seg = next(o for o in snap["objects"] if o["id"] == "seg")
    # THEN the segment is still there (nobody removed it) ...
    assert seg["shmid"] in shm_rows()
    # ... until `ipcviz clean`, which removes it after checking it is the run's own
    r = clean(runtime_dir)
    assert r.returncode == 0 and "System V shared memory" in r.stdout, r.stdout
    assert seg["shmid"] not in shm_rows()
    assert posix_leftovers(run_id) == []
    assert marked_processes(run_id) == []
    assert not any(runtime_dir.glob("run-*"))


@pytest.mark.kernel
def test_clean_removes_a_posix_region_and_semaphore_still_named(runtime_dir):
    _, run_id = killed_at_step("shm/lost-updates", runtime_dir, 3, runner_too=True)
    assert len(posix_leftovers(run_id)) == 2  # the counter and the start semaphore
    r = clean(runtime_dir)
    assert "POSIX shared memory" in r.stdout and "POSIX semaphore" in r.stdout, r.stdout
    assert posix_leftovers(run_id) == []
    assert marked_processes(run_id) == []


@pytest.mark.kernel
def test_copy_counts_and_sizes_of_the_two_paths(runtime_dir):
    with Run(load(SCENARIOS / "shm/copies-vs-pipe.toml")) as run:
        snap = run_until(run, 14)
        data, vp, vs = (snap.object_named(n) for n in ("data", "via_pipe", "via_shm"))
        assert (vp.copies, vs.copies) == (4, 2)
        assert vp.copied == 4 * data.size and vs.copied == 2 * data.size
        # the output files, read by the test itself, are the input file
        src = open(data.path, "rb").read()
        assert open(vp.path, "rb").read() == src == open(vs.path, "rb").read()
        assert vp.elapsed_us > 0 and vs.elapsed_us > 0  # measured, whatever they are
