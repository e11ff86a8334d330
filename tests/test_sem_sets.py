"""System V semaphore sets and atomic semops (issue 16): the loader's checks of the new
fields, the inference of which semaphore a sleeper is blocked on, and the per-semnum
readings against `ipcs -s -i` and /proc at the same moment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from ipcviz.probe.sem import blocking_semnum
from ipcviz.runtime import Run
from ipcviz.scenario import ScenarioError, load, loads

from .conftest import SCENARIOS
from .conductor_helpers import run_until

SET = """
title = "t"
[[process]]
name = "main"
[[object]]
name = "s"
kind = "sysv_sem"
[[step]]
process = "main"
action = "semget"
object = "s"
nsems = 3
narration = "make it"
[[step]]
process = "main"
action = "semop"
object = "s"
{semop}
narration = "op"
"""


def error_of(semop: str) -> str:
    with pytest.raises(ScenarioError) as info:
        loads(SET.format(semop=semop), "x.toml")
    return str(info.value)


def semopm() -> int:
    with open("/proc/sys/kernel/sem") as f:
        return int(f.read().split()[2])


def test_ops_load_with_their_flags_in_a_fixed_order():
    s = loads(SET.format(semop='ops = [[0, -1], [2, 1, "IPC_NOWAIT|SEM_UNDO"]]'), "x.toml")
    assert s.steps[1].args["ops"] == [[0, -1, ""], [2, 1, "SEM_UNDO|IPC_NOWAIT"]]
    assert s.steps[0].args["nsems"] == 3


@pytest.mark.parametrize("semop, words", [
    ("ops = [[0, -1]]\nop = -1", "step[2].op: 'op' is for one operation"),
    ("ops = [[0, -1]]\nundo = true", "step[2].undo: 'undo' is for one operation"),
    ("ops = []", "must be a list of operations"),
    ("ops = [[0]]", "operation 1: write [sem_num, sem_op]"),
    ("ops = [[0, true]]", "operation 1: write [sem_num, sem_op]"),
    ("ops = [[0, -1], [64, 1]]", "operation 2: sem_num 64 is out of range: from 0 to 63"),
    ("ops = [[0, 40000]]", "operation 1: sem_op 40000 is out of range"),
    ('ops = [[0, -1, "SEM_UNDO|IPC_PRIVATE"]]', "flags are SEM_UNDO | IPC_NOWAIT"),
    ("ops = [[0, -1, 4096]]", "flags are SEM_UNDO | IPC_NOWAIT"),
    ("sem = 1", "needs one of: op, ops"),
])
def test_a_bad_semop_is_one_line_naming_its_field(semop, words):
    assert words in error_of(semop)


def test_more_operations_than_semopm_are_refused_naming_the_kernels_limit():
    # GIVEN SEMOPM as this kernel says it (the third number of /proc/sys/kernel/sem)
    limit = semopm()
    ops = ", ".join(["[0, 1]"] * (limit + 1))
    # THEN SEMOPM operations load, one more does not, and the message says where the cap is
    loads(SET.format(semop=f"ops = [{', '.join(['[0, 1]'] * limit)}]"), "x.toml")
    msg = error_of(f"ops = [{ops}]")
    assert f"{limit + 1} operations in one semop: at most {limit} (SEMOPM" in msg


def test_nsems_is_capped():
    text = SET.format(semop="op = 1").replace("nsems = 3", "nsems = 65")
    with pytest.raises(ScenarioError) as info:
        loads(text, "x.toml")
    assert "step[1].nsems" in str(info.value) and "from 1 to 64" in str(info.value)


@pytest.mark.parametrize("ops, values, blocked_on", [
    ([[0, -1], [1, -1]], [1, 0], 1),  # the second operation cannot be done
    ([[0, -1], [1, -1]], [0, 0], 0),  # the first one already cannot
    ([[0, -1], [0, -1]], [1, 5], 0),  # the first leaves 0 for the second
    ([[0, 0], [1, 1]], [2, 0], 0),  # wait-for-zero on a non-zero value
    ([[2, -1], [2, 1], [1, 0]], [0, 1, 1], 1),  # -1 then +1 passes; then zero is wanted
    ([[0, -1]], [1], None),  # could be done now: the values changed since it slept
])
def test_blocking_semnum_is_the_first_operation_that_cannot_be_done(ops, values, blocked_on):
    assert blocking_semnum(ops, values) == blocked_on


def ipcs_set(semid: int) -> list[tuple[int, int, int, int]]:
    """(value, ncount, zcount, pid) of each semnum as `ipcs -s -i ID` prints them."""
    out = subprocess.run(["ipcs", "-s", "-i", str(semid)], capture_output=True, text=True,
                         check=True).stdout
    rows = re.findall(r"^(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", out, re.M)
    return [tuple(map(int, r[1:])) for r in sorted(rows, key=lambda r: int(r[0]))]


@pytest.mark.kernel
@pytest.mark.skipif(shutil.which("ipcs") is None, reason="needs ipcs (util-linux)")
def test_set_readings_agree_with_ipcs_and_the_inference_with_semncnt(runtime_dir):
    # GIVEN sem/philosophers-fixed with p1, p3 and p4 asleep in two-fork semops
    with Run(load(SCENARIOS / "sem/philosophers-fixed.toml")) as run:
        snap = run_until(run, 18)
        forks = snap.object_named("forks")
        # THEN every semnum's value, semncnt, semzcnt and sempid are what ipcs prints
        assert forks.nsems == 5
        assert list(zip(forks.values, forks.ncounts, forks.zcounts, forks.last_pids)) == \
            ipcs_set(forks.semid)
        # AND the kernel's waiters are the processes /proc shows asleep on that semid
        asleep = sorted(p.name for p in snap.processes
                        if open(f"/proc/{p.pid}/syscall").read().split()[1:2]
                        == [hex(forks.semid)])
        assert asleep == sorted(forks.waiters) == ["p1", "p3", "p4"]
        # AND the fork each is inferred to be blocked on carries one semncnt per sleeper
        inferred = [len(w) for w in forks.sem_waiters]
        assert inferred == list(forks.ncounts)


@pytest.mark.kernel
def test_unnamed_semaphore_is_read_from_the_regions_bytes(runtime_dir):
    # GIVEN sem/unnamed with b asleep in sem_wait on the sem_t at byte 0 of the region
    with Run(load(SCENARIOS / "sem/unnamed.toml")) as run:
        snap = run_until(run, 7)
        region = snap.object_named("region")
        b = snap.process_named("b")
        # THEN the value and glibc's sleeper count are the region's first word, read here
        # through the file, not through the probe
        with open(f"/dev/shm/{region.name.lstrip('/')}", "rb") as f:
            word = int.from_bytes(f.read(8), "little")
        assert (region.sem_value, region.sem_nwaiters) == (word & 0xFFFFFFFF, word >> 32) \
            == (0, 1)
        # AND b sleeps in futex() on an address inside its own mapping of the region
        nr, addr = open(f"/proc/{b.pid}/syscall").read().split()[:2]
        assert b.syscall == "futex" and b.waits_on == "region"
        inode = os.stat(f"/dev/shm/{region.name.lstrip('/')}").st_ino
        spans = [tuple(int(x, 16) for x in line.split()[0].split("-"))
                 for line in open(f"/proc/{b.pid}/maps") if line.split()[4] == str(inode)]
        assert any(lo <= int(addr, 16) < hi for lo, hi in spans)
