"""`ipcviz attach --watch`: a running C program and its children, observed without ptrace:
processes, objects found from their fds and /proc/sysvipc, the line of each blocked call,
and why nothing can move -- and the program is left exactly as it was."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import threading

import pytest

from ipcviz.model.snapshot import BLOCKED, Process, Snapshot, snapshot_from_dict
from ipcviz.model.tracecheck import check_snapshot
from ipcviz.model.waitfor import stuck
from ipcviz.runtime.watch import Watch

from .conftest import ipcviz
from .cprogs import C_DIR, compile_c, marker_line, running, wait_asleep

pytestmark = pytest.mark.kernel

_libc = ctypes.CDLL(None, use_errno=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("c")
    return {name: compile_c(name, out, debug=True)
            for name in ("hang_pipe", "sem_deadlock", "ipc_mix")}


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(x) for x in f.read().split()]


def test_pipe_hang_found_explained_and_located(built):
    # GIVEN the classic hang: the child reads a pipe whose write ends it and its parent
    # (asleep in waitpid) never close
    with running([str(built["hang_pipe"])]) as proc:
        child = int(proc.stdout.readline())
        wait_asleep(proc.pid, "wait4")
        wait_asleep(child, "read")
        # WHEN watched headless, as JSON
        out = ipcviz("attach", "--watch", str(proc.pid), "--json")
        assert out.returncode == 0, out.stderr
        check_snapshot(json.loads(out.stdout))  # the trace schema, as replay checks it
        snap = snapshot_from_dict(json.loads(out.stdout))
        # THEN both stay asleep where they were: nothing was woken
        assert os.path.exists(f"/proc/{child}") and proc.poll() is None
    parent_p = next(p for p in snap.processes if p.pid == proc.pid)
    child_p = next(p for p in snap.processes if p.pid == child)
    assert (parent_p.state, parent_p.syscall) == (BLOCKED, "wait4")
    assert (child_p.state, child_p.syscall) == (BLOCKED, "read")
    # the pipe was found from the fd tables, with both write ends and the asleep reader
    pipe = snap.object_named(child_p.waits_on)
    assert pipe is not None and pipe.kind == "pipe" and pipe.bytes == 0
    assert pipe.writers == 2 and pipe.blocked_readers == (child_p.name,)
    # each call site is the marked line of hang_pipe.c
    assert child_p.site.line == marker_line("hang_pipe", "CALL:child-read")
    assert parent_p.site.line == marker_line("hang_pipe", "CALL:parent-wait")
    assert child_p.site.file.endswith("hang_pipe.c") and child_p.site.function == "main"
    # with the source around it, for the code panel: the call's own line among them
    source = (C_DIR / "hang_pipe.c").read_text().splitlines()
    site = child_p.site
    assert site.context[site.line - site.context_start] == source[site.line - 1]
    # and the wait-for analysis catches both, the reader waiting also for itself
    caught = stuck(snap)
    assert caught is not None and set(caught.processes) == {parent_p.name, child_p.name}
    reader = next(w for w in caught.waits if w.process == child_p.name)
    assert reader.reason == "pipe-empty" and child_p.name in reader.on
    assert "Nothing can move" in snap.narration and "itself" in snap.narration


def test_semaphore_deadlock_with_inferred_holders(built):
    # GIVEN two processes deadlocked on two System V semaphores
    with running([str(built["sem_deadlock"])]) as proc:
        a, b = (int(x) for x in proc.stdout.readline().split())
        try:
            wait_until_children = _children_when(proc.pid)
            child = wait_until_children()
            wait_asleep(proc.pid, "semtimedop")
            wait_asleep(child, "semtimedop")
            # WHEN watched (in this process)
            w = Watch(proc.pid)
            try:
                snap = w.start()
            finally:
                w.close()
        finally:
            for semid in (a, b):
                _libc.semctl(semid, 0, 0)  # IPC_RMID: EIDRM ends both waits
    # THEN each waits for the other, through semaphores whose holders are inferred
    names = {p.pid: p.name for p in snap.processes}
    caught = stuck(snap)
    assert caught is not None and len(caught.waits) == 2
    by = {wt.process: wt for wt in caught.waits}
    assert by[names[proc.pid]].on == (names[child],)
    assert by[names[child]].on == (names[proc.pid],)
    assert all(wt.reason == "sem" and wt.inferred for wt in caught.waits)
    # the parent waits on b, last taken by the child; the child on a
    assert by[names[proc.pid]].object == f"semaphore {b}"
    assert by[names[child]].object == f"semaphore {a}"
    # the semaphores' own view draws the cycle, as in the lesson
    sems = [o for o in snap.objects if o.kind == "sysv_sem"]
    assert {o.semid for o in sems} == {a, b} and all(o.deadlock for o in sems)
    sites = {p.pid: p.site.line for p in snap.processes}
    assert sites[proc.pid] == marker_line("sem_deadlock", "CALL:parent-takes-b")
    assert sites[child] == marker_line("sem_deadlock", "CALL:child-takes-a")
    assert "inferred" in snap.narration


def test_queue_and_shared_memory_found_from_sysvipc_and_maps(built):
    # GIVEN a program holding a System V segment, a POSIX region and semaphore, asleep in
    # msgrcv() on an empty System V queue
    name = f"/ipcviz-watch-test-{os.getpid()}"
    with running([str(built["ipc_mix"]), name]) as proc:
        msqid, shmid = (int(x) for x in proc.stdout.readline().split())
        try:
            wait_asleep(proc.pid, "msgrcv")
            # WHEN watched
            w = Watch(proc.pid)
            try:
                snap = w.start()
            finally:
                w.close()
        finally:
            _libc.msgctl(msqid, 0, None)  # IPC_RMID
            _libc.shmctl(shmid, 0, None)
            for path in (f"/dev/shm{name}", f"/dev/shm/sem.{name[1:]}"):
                if os.path.exists(path):
                    os.unlink(path)
    # THEN each object is found, and the process is asleep on the queue, at its line
    by_kind = {o.kind: o for o in snap.objects}
    assert by_kind["sysv_msgq"].msqid == msqid and by_kind["sysv_msgq"].messages == 0
    assert by_kind["sysv_shm"].shmid == shmid and by_kind["sysv_shm"].nattch == 1
    assert by_kind["shm"].name == name and by_kind["shm"].size == 4096
    assert by_kind["sem"].name == name and by_kind["sem"].value == 3
    p = snap.processes[0]
    assert p.syscall == "msgrcv" and p.waits_on == by_kind["sysv_msgq"].id
    assert p.site.line == marker_line("ipc_mix", "CALL:msgrcv")
    assert stuck(snap) is None  # anyone may send to a queue: no one is caught


def _children_when(pid: int):
    from .conftest import wait_until

    def get() -> int:
        wait_until(lambda: bool(_children(pid)), timeout=10, what="the child")
        return _children(pid)[0]
    return get


_opened: list[str] = []
_recording = threading.Event()


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _recording.is_set() and args and isinstance(args[0], (str, bytes)):
        _opened.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


def test_watching_changes_nothing_and_the_program_finishes():
    # GIVEN a shell pipeline `cat | cat`, its first cat asleep reading our pipe
    proc = subprocess.Popen(["sh", "-c", "cat | cat"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, start_new_session=True)
    try:
        from .conftest import wait_until

        wait_until(lambda: len(_children(proc.pid)) == 2, timeout=10, what="both cats")
        cats = _children(proc.pid)
        for c in cats:
            wait_asleep(c, "read")
        # WHEN it is watched, looked at many times, and the watch closed
        mine_before = {t for t in _own_fd_targets() if t.startswith("pipe:")}
        w = Watch(proc.pid)
        _opened.clear()
        _recording.set()
        try:
            snaps = [w.start()] + [w.sample() for _ in range(20)]
        finally:
            _recording.clear()
            w.close()
        # THEN no pipe was opened through /proc, none is held by us
        assert not [p for p in _opened if "/fd/" in p], _opened
        assert {t for t in _own_fd_targets() if t.startswith("pipe:")} == mine_before
        # a writer outside the tree (this test) could still write: no one is caught
        assert stuck(snaps[-1]) is None and "none is caught" in snaps[-1].narration
        # AND the program goes on as if never watched: our bytes come out, it exits 0
        later = Watch(proc.pid)
        try:
            out, _ = proc.communicate(b"hello through two cats\n", timeout=20)
            assert out == b"hello through two cats\n" and proc.returncode == 0
            # and a watch that saw it shows each of its processes as gone, none as unborn
            states = {p.pid: p.state for p in later.sample().processes}
        finally:
            later.close()
        assert set(states) == {proc.pid, *cats} and set(states.values()) == {"exited"}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=10)


def _own_fd_targets() -> set[str]:
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return out


def _proc(name: str, pid: int, ppid: int, state: str = BLOCKED, syscall: str | None = None,
          args: tuple[int, ...] = (), waits_on: str | None = None) -> Process:
    return Process(name, pid, ppid, None, state, syscall=syscall, syscall_args=args,
                   waits_on=waits_on)


def test_a_sleeper_outside_the_cycle_frees_it():
    from ipcviz.model.pipe import PipeState

    # GIVEN a reader asleep on an empty pipe whose only writer sleeps in nanosleep
    pipe = PipeState("pipe:[1]", "pipe", 1, bytes=0, capacity=65536, readers=1, writers=1,
                     reader_fds=("r:3",), writer_fds=("w:4",))
    reader = _proc("r", 10, 1, syscall="read", args=(3,), waits_on="pipe:[1]")
    writer = _proc("w", 11, 1, syscall="clock_nanosleep")
    snap = Snapshot(0, 0, 0, 0.0, processes=(reader, writer), objects=(pipe,))
    # THEN nothing is caught: the writer wakes up by itself
    assert stuck(snap) is None
    # WHEN the writer instead waits in wait4 for the reader (its child)
    waiting = _proc("w", 11, 1, syscall="wait4", args=(2**64 - 1,))
    reader_child = _proc("r", 10, 11, syscall="read", args=(3,), waits_on="pipe:[1]")
    caught = stuck(Snapshot(0, 0, 0, 0.0, processes=(reader_child, waiting), objects=(pipe,)))
    # THEN both are caught
    assert caught is not None and caught.processes == ("r", "w")
    # and a pipe with data in it is no wait at all
    full = PipeState("pipe:[1]", "pipe", 1, bytes=5, capacity=65536, readers=1, writers=1,
                     reader_fds=("r:3",), writer_fds=("w:4",))
    assert stuck(Snapshot(0, 0, 0, 0.0, processes=(reader_child, waiting),
                          objects=(full,))) is None


def test_attach_unknown_pid():
    missing = ipcviz("attach", "--watch", str(2**22 + 7))
    assert missing.returncode == 2 and "no process" in missing.stderr
    # (attach without --watch seizes the program: tests/test_attach.py)


def test_fifo_being_opened_is_found_and_not_opened(tmp_path):
    # GIVEN a process asleep in open() of a FIFO for reading (no writer yet)
    fifo = tmp_path / "f"
    os.mkfifo(fifo, 0o600)
    with running([sys.executable, "-c",
                  f"import os; f = open({str(fifo)!r}, 'rb'); os.write(1, f.read())"]) as proc:
        wait_asleep(proc.pid, "openat")
        # WHEN it is watched
        w = Watch(proc.pid)
        try:
            snap = w.start()
        finally:
            w.close()
        # THEN the FIFO is found from the path it is opening, the opener named ...
        f = next(o for o in snap.objects if o.kind == "fifo")
        p = snap.processes[0]
        assert f.path == str(fifo) and f.opening_readers == (p.name,)
        assert p.syscall == "openat" and p.waits_on == f.id
        # ... and it still sleeps there: the watch opened nothing that would pair with it
        wait_asleep(proc.pid, "openat")
        fd = os.open(fifo, os.O_WRONLY)  # now a writer comes: the reader wakes, reads, exits
        os.write(fd, b"ok")
        os.close(fd)
        assert proc.stdout.read() == "ok" and proc.wait(timeout=20) == 0
