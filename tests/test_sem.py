"""Semaphores: the probe's values and waiters against a second, independent reading at the
same moment (`ipcs -s -i`, sysv_ipc, /proc/PID/syscall, the bytes of /dev/shm/sem.NAME),
non-intrusion (sampling changes no value, no sempid, no otime, keeps no mapping), the
deadlock found from kernel state, and nothing left behind: after a run, after a failed
expect, after SIGKILL of the conductor and `ipcviz clean`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import sysv_ipc

from ipcviz.probe import syscalls
from ipcviz.runtime import Run
from ipcviz.scenario import load

from .conftest import SCENARIOS, ipcviz, marked_processes, wait_until
from .conductor_helpers import run_until
from .ipc_helpers import clean, killed_at_step, posix_leftovers, sysvipc_rows


def sem_rows() -> dict[int, dict[str, int]]:
    return sysvipc_rows("sem")


def ipcs_s(semid: int) -> dict[str, int]:
    """value, ncount, zcount, pid of semaphore 0 as `ipcs -s -i ID` prints them."""
    out = subprocess.run(["ipcs", "-s", "-i", str(semid)], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"^0\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", out, re.M)
    return dict(zip(("value", "ncount", "zcount", "pid"), map(int, m.groups())))


def syscall_of(pid: int) -> tuple[str | None, int]:
    nr, arg0 = open(f"/proc/{pid}/syscall").read().split()[:2]
    return syscalls.name(int(nr)), int(arg0, 16)


def sem_file_words(name: str) -> tuple[int, int]:
    """(value, nwaiters) from the bytes of /dev/shm/sem.NAME (glibc's 64-bit sem_t: the
    count in the low 32 bits of the first word, glibc's own count of waiters above)."""
    with open(f"/dev/shm/sem.{name.lstrip('/')}", "rb") as f:
        data = int.from_bytes(f.read(8), "little")
    return data & 0xFFFFFFFF, data >> 32


@pytest.mark.kernel
def test_sysv_value_and_waiters_agree_with_ipcs_and_proc(runtime_dir):
    # GIVEN sem/counting with both units taken and p3, p4 asleep in semop
    with Run(load(SCENARIOS / "sem/counting.toml")) as run:
        snap = run_until(run, 9)
        pool = snap.object_named("pool")
        # THEN value, semncnt, semzcnt and sempid are what semctl (sysv_ipc) and ipcs say
        sem = sysv_ipc.Semaphore(int(pool.key, 16))
        assert sem.id == pool.semid
        assert (pool.value, pool.ncount, pool.zcount, pool.last_pid) == \
               (sem.value, sem.waiting_for_nonzero, sem.waiting_for_zero, sem.last_pid) == \
               (0, 2, 0, snap.process_named("p2").pid)
        if shutil.which("ipcs"):
            assert ipcs_s(pool.semid) == {"value": 0, "ncount": 2, "zcount": 0,
                                          "pid": pool.last_pid}
        # AND the waiters are the processes /proc shows asleep in semop on that semid
        asleep = []
        for p in snap.processes:
            stat = open(f"/proc/{p.pid}/stat").read()
            name, arg0 = syscall_of(p.pid)
            if stat[stat.rindex(")") + 2] == "S" and name in ("semop", "semtimedop"):
                assert arg0 == pool.semid
                asleep.append(p.name)
        assert sorted(asleep) == sorted(pool.waiters) == ["p3", "p4"]


@pytest.mark.kernel
def test_posix_value_and_waiter_agree_with_the_semaphore_file(runtime_dir):
    # GIVEN sem/mutex with a in the critical section and b asleep in sem_wait
    with Run(load(SCENARIOS / "sem/mutex.toml")) as run:
        snap = run_until(run, 9)
        mutex = snap.object_named("mutex")
        # THEN the value is the count in the semaphore's own bytes, and glibc's count of
        # waiters there matches the waiters found from /proc
        value, nwaiters = sem_file_words(mutex.name)
        assert mutex.value == value == 0
        assert mutex.waiters == ("b",) and nwaiters == 1
        # AND b sleeps in futex() on an address inside its own mapping of that file
        b = snap.process_named("b")
        name, addr = syscall_of(b.pid)
        assert name == "futex"
        ino = os.stat(f"/dev/shm/sem.{mutex.name.lstrip('/')}").st_ino
        inside = False
        for line in open(f"/proc/{b.pid}/maps").read().splitlines():
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if parts[4] == str(ino) and lo <= addr < hi:
                inside = True
        assert inside
        assert b.waits_on == "mutex"


@pytest.mark.kernel
def test_sampling_changes_no_semaphore(runtime_dir):
    # GIVEN sem/mutex with b asleep on the POSIX mutex
    with Run(load(SCENARIOS / "sem/mutex.toml")) as run:
        snap = run_until(run, 9)
        name = snap.object_named("mutex").name
        before = sem_file_words(name)
        st = os.stat(f"/dev/shm/sem.{name.lstrip('/')}")
        for _ in range(20):
            again = run.sample()
        # THEN value and glibc's waiter count are untouched, b still sleeps, and ipcviz
        # keeps no mapping of the semaphore after its sem_open/sem_getvalue/sem_close
        assert sem_file_words(name) == before
        assert again.process_named("b").state == "blocked"
        assert again.object_named("mutex").value == 0
        maps = open("/proc/self/maps").read().splitlines()
        assert not any(len(x.split()) > 4 and x.split()[4] == str(st.st_ino) for x in maps)
    # GIVEN sem/sysv-undo with the waiter asleep in semop
    with Run(load(SCENARIOS / "sem/sysv-undo.toml")) as run:
        snap = run_until(run, 5)
        semid = snap.object_named("lock").semid
        row = sem_rows()[semid]
        sem = sysv_ipc.Semaphore(int(snap.object_named("lock").key, 16))
        last = sem.last_pid
        for _ in range(20):
            again = run.sample()
        # THEN no operation by ipcviz: same value, semncnt, sempid, otime
        assert sem_rows()[semid]["otime"] == row["otime"]
        assert (sem.value, sem.waiting_for_nonzero, sem.last_pid) == (0, 1, last)
        assert again.object_named("lock").ncount == 1


@pytest.mark.kernel
def test_deadlock_is_found_from_what_the_kernel_shows(runtime_dir):
    with Run(load(SCENARIOS / "sem/deadlock.toml")) as run:
        snap = run_until(run, 7)
        # one process waiting is not a deadlock
        assert snap.object_named("s2").deadlock == ()
        snap = run.step()
        s1, s2 = snap.object_named("s1"), snap.object_named("s2")
        a, b = snap.process_named("a"), snap.process_named("b")
        # the kernel: a sleeps in semop on s2's id, b on s1's
        assert syscall_of(a.pid)[1] == s2.semid and syscall_of(b.pid)[1] == s1.semid
        assert sysv_ipc.Semaphore(int(s1.key, 16)).waiting_for_nonzero == 1
        assert set(s1.deadlock) == set(s2.deadlock) == {"a", "b"}
        # the kill breaks the cycle
        snap = run.step()
        assert snap.object_named("s1").deadlock == () == snap.object_named("s2").deadlock


@pytest.mark.kernel
def test_a_deadlocked_run_leaves_no_semaphore(runtime_dir):
    run = Run(load(SCENARIOS / "sem/deadlock.toml"))
    try:
        snap = run_until(run, 8)  # a and b asleep for ever
        run_id = run.rundir.run_id
        ids = {snap.object_named(n).semid for n in ("s1", "s2")}
        assert ids <= set(sem_rows())
    finally:
        run.close()
    assert ids.isdisjoint(sem_rows())
    assert marked_processes(run_id) == []


FAILING = """
title = "An expect that fails"
[[process]]
name = "a"
[[object]]
name = "s"
kind = "sem"
[[object]]
name = "t"
kind = "sysv_sem"
[[step]]
process = "a"
action = "sem_open"
object = "s"
value = 1
narration = "create"
[[step]]
process = "a"
action = "semget"
object = "t"
value = 1
narration = "create"
expect = ["t.value == 7"]
"""


@pytest.mark.kernel
def test_a_failed_expect_leaves_no_semaphore(runtime_dir, tmp_path):
    path = tmp_path / "failing.toml"
    path.write_text(FAILING)
    env = {**os.environ, "IPCVIZ_RUNTIME_DIR": str(runtime_dir)}
    r = ipcviz("run", str(path), "--headless", "--json", env=env)
    assert r.returncode == 1, r.stderr
    objs = {o["id"]: o for o in json.loads(r.stdout.splitlines()[-1])["objects"]}
    assert not os.path.exists(f"/dev/shm/sem.{objs['s']['name'].lstrip('/')}")
    assert objs["t"]["semid"] not in sem_rows()
    assert not any(runtime_dir.glob("run-*"))


@pytest.mark.kernel
def test_sigkill_of_the_conductor_then_clean_leaves_no_semaphore(runtime_dir):
    # GIVEN sem/deadlock killed with SIGKILL while a and b are deadlocked
    snap, run_id = killed_at_step("sem/deadlock", runtime_dir, 8)
    ids = {o["semid"] for o in snap["objects"]}
    # THEN the deadlocked processes die too, and nothing is left after `ipcviz clean`
    wait_until(lambda: marked_processes(run_id) == [], 5, "the run's processes to die")
    r = clean(runtime_dir)
    assert r.returncode == 0
    assert ids.isdisjoint(sem_rows())
    assert not any(runtime_dir.glob("run-*"))


@pytest.mark.kernel
def test_clean_removes_semaphores_when_conductor_and_runner_were_killed(runtime_dir):
    snap, run_id = killed_at_step("sem/deadlock", runtime_dir, 8, runner_too=True)
    ids = {o["semid"] for o in snap["objects"]}
    assert ids <= set(sem_rows())  # nobody removed them
    r = clean(runtime_dir)
    assert r.stdout.count("System V semaphore") == 2, r.stdout
    assert ids.isdisjoint(sem_rows())
    assert marked_processes(run_id) == []  # a and b, asleep in semop, were killed too
    assert posix_leftovers(run_id) == []


@pytest.mark.kernel
def test_sem_undo_gives_the_unit_back_as_the_kernel_says(runtime_dir):
    with Run(load(SCENARIOS / "sem/sysv-undo.toml")) as run:
        snap = run_until(run, 13)  # holder2 (SEM_UNDO) killed: waiter woke with the unit
        lock = snap.object_named("lock")
        sem = sysv_ipc.Semaphore(int(lock.key, 16))
        assert (sem.value, sem.waiting_for_nonzero) == (0, 0)
        assert sem.last_pid == snap.process_named("waiter").pid
        assert snap.process_named("waiter").state == "sleeping"


@pytest.mark.kernel
def test_semaphore_and_region_states_replay_from_a_trace(runtime_dir):
    from ipcviz.model import snapshot_from_dict

    with Run(load(SCENARIOS / "sem/bounded-buffer.toml")) as run:
        snap = run_until(run, 22)  # the producer asleep on empty, the ring full
    data = json.loads(json.dumps(snap.to_dict()))
    again = snapshot_from_dict(data)
    assert again.objects == snap.objects
    assert again.object_named("ring").ring_text() == snap.object_named("ring").ring_text()
    assert again.object_named("empty").waiters == ("producer",)
