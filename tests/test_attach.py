"""`ipcviz attach PID`: a running program seized with ptrace (every thread, its children),
shown, and left exactly as it was -- checked against the kernel (/proc/PID/status,
/proc/PID/syscall, the program's own output), not against ipcviz's words."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading

import pytest

from ipcviz.model.snapshot import BLOCKED
from ipcviz.runtime.trace.session import TraceError, TraceSession

from .conftest import ipcviz, wait_until
from .cprogs import asleep_in, compile_c, marker_line, running, wait_asleep

pytestmark = pytest.mark.kernel


def _status(tid: int, field: str) -> str:
    with open(f"/proc/{tid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {field} in /proc/{tid}/status")


def _tids(pid: int) -> list[int]:
    return [int(t) for t in os.listdir(f"/proc/{pid}/task")]


def _left_alone(pid: int, states: str = "S") -> None:
    """Every thread of PID untraced and in one of STATES (S asleep, R running, T stopped;
    never t, a tracing stop)."""
    for tid in _tids(pid):
        assert _status(tid, "TracerPid") == "0", tid
        assert _status(tid, "State")[0] in states, (tid, _status(tid, "State"))


def _spawn(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, start_new_session=True)


def _reap(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    for f in (proc.stdin, proc.stdout):
        if f is not None:
            f.close()


READER = "import os; d = os.read(0, 5); os.write(1, b'got ' + d)"


def test_blocked_read_is_shown_and_still_blocked_after_detach():
    # GIVEN a program asleep in read() on a pipe before ipcviz comes
    proc = _spawn(READER)
    try:
        wait_asleep(proc.pid, "read")
        # WHEN it is attached headless (the world now, then detach)
        out = ipcviz("attach", str(proc.pid), "--headless")
        # THEN the world says what it waits for, and that it was detached
        assert out.returncode == 1, out.stderr  # every attached process asleep: a hang
        assert "asleep in read()" in out.stdout and f"detached from {proc.pid}" in out.stdout
        # AND the kernel shows it untraced, still asleep in that read()
        _left_alone(proc.pid)
        assert asleep_in(proc.pid, "read")
        # AND fed, it finishes normally with what it was fed
        data, _ = proc.communicate(b"hello", timeout=10)
        assert data == b"got hello" and proc.returncode == 0
    finally:
        _reap(proc)


COUNTER = """
import os, select, time
i = 0
while not select.select([0], [], [], 0)[0]:
    os.write(1, b"%d\\n" % i)
    i += 1
    time.sleep(0.001)
os.write(1, b"end\\n")
"""


def test_attached_mid_loop_keeps_its_output_complete_and_in_order():
    # GIVEN a program writing numbered lines to a pipe in a loop, already under way
    proc = _spawn(COUNTER)
    lines: list[bytes] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
    try:
        first = proc.stdout.readline()
        assert first == b"0\n"
        lines.append(first)
        reader.start()
        # WHEN it is attached and followed for a while, then detached
        out = ipcviz("attach", str(proc.pid), "--headless", "--seconds", "1")
        assert out.returncode == 0, out.stderr
        # THEN its writes were seen while attached
        assert "write(1, " in out.stdout
        _left_alone(proc.pid, "RS")  # in its loop: running, or asleep in its sleep
        # AND after it is told to stop, its output has every number once, in order
        proc.stdin.write(b"x")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        assert proc.wait(timeout=20) == 0
        reader.join(timeout=10)
        assert lines[-1] == b"end\n"
        numbers = [int(x) for x in lines[:-1]]
        assert numbers == list(range(len(numbers))) and len(numbers) > 1
    finally:
        _reap(proc)


FAMILY = """
import os, threading
r1, w1 = os.pipe()
r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(1, b"child %d\\n" % os.getpid())
    os.read(r1, 1)
    os._exit(0)
t = threading.Thread(target=lambda: os.read(r2, 1))
t.start()
os.write(1, b"ready\\n")
os.read(0, 1)
os.write(w1, b"x")
os.write(w2, b"y")
t.join()
os.waitpid(pid, 0)
os.write(1, b"done\\n")
"""


def test_children_and_threads_are_seized_and_all_released():
    # GIVEN a program with a child and a second thread, all asleep in read()
    proc = _spawn(FAMILY)
    try:
        assert proc.stdout is not None
        # parent and child write to one stdout: either line may come first
        lines = sorted([proc.stdout.readline(), proc.stdout.readline()])
        assert lines[1] == b"ready\n", lines
        child = int(lines[0].split()[1])
        wait_until(lambda: len(_tids(proc.pid)) == 2, timeout=10, what="two threads")
        wait_asleep(child, "read")
        # WHEN the parent is attached (through the engine: its own words are checked)
        session = TraceSession.attached(proc.pid)
        try:
            snap = session.start()
            # THEN the child came with it, and every one of them is traced by ipcviz now
            assert {p.pid for p in snap.processes} == {proc.pid, child}
            for pid in (proc.pid, child):
                for tid in _tids(pid):
                    assert _status(tid, "TracerPid") != "0", tid
        finally:
            session.close()
        # AND after the detach no thread of either is traced or stopped
        _left_alone(proc.pid)
        _left_alone(child)
        # AND the program runs to its normal end
        data, _ = proc.communicate(b"go", timeout=10)
        assert data.endswith(b"done\n") and proc.returncode == 0
    finally:
        _reap(proc)


def test_a_stopped_program_stays_stopped():
    # GIVEN a program stopped by SIGSTOP (a group-stop: state T) before ipcviz comes
    proc = _spawn(READER)
    try:
        wait_asleep(proc.pid, "read")
        os.kill(proc.pid, signal.SIGSTOP)
        wait_until(lambda: _status(proc.pid, "State")[0] == "T", timeout=10, what="stopped")
        # WHEN it is attached and detached
        out = ipcviz("attach", str(proc.pid), "--headless")
        assert out.returncode in (0, 1), out.stderr
        # THEN it is still stopped, untraced (no stop turned into a run)
        _left_alone(proc.pid, "T")
        # AND continued and fed, it ends normally
        os.kill(proc.pid, signal.SIGCONT)
        data, _ = proc.communicate(b"again", timeout=10)
        assert data == b"got again" and proc.returncode == 0
    finally:
        _reap(proc)


HANDLER = """
import os, signal
signal.signal(signal.SIGUSR1, lambda *a: os.write(1, b"usr1\\n"))
os.write(1, b"ready\\n")
while os.read(0, 1) != b"q":
    pass
os.write(1, b"done\\n")
"""


def test_a_signal_while_attached_is_delivered_not_eaten():
    # GIVEN a program with a SIGUSR1 handler, asleep in read()
    proc = _spawn(HANDLER)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        wait_asleep(proc.pid, "read")
        session = TraceSession.attached(proc.pid)
        try:
            session.start()
            # WHEN a SIGUSR1 comes while it is attached
            os.kill(proc.pid, signal.SIGUSR1)
            snap = session.run(bound=1.0, stuck=False)
            # THEN the engine saw it being delivered
            assert any(e.signal == "SIGUSR1" for e in snap.log)
        finally:
            session.close()
        # AND the program's own handler ran (its output), and it goes on reading
        assert proc.stdout.readline() == b"usr1\n"
        _left_alone(proc.pid)
        data, _ = proc.communicate(b"q", timeout=10)
        assert data == b"done\n" and proc.returncode == 0
    finally:
        _reap(proc)


def test_refused_with_the_cause_in_one_line():
    # GIVEN a program already attached by one session
    proc = _spawn(READER)
    try:
        wait_asleep(proc.pid, "read")
        first = TraceSession.attached(proc.pid)
        try:
            first.start()
            # WHEN a second ipcviz attaches to it
            out = ipcviz("attach", str(proc.pid), "--headless")
            # THEN exit 2, one line naming the other tracer (the kernel allows one)
            assert out.returncode == 2
            assert len(out.stderr.strip().splitlines()) == 1
            assert "already traced" in out.stderr
        finally:
            first.close()
        _left_alone(proc.pid)
    finally:
        _reap(proc)
    missing = ipcviz("attach", str(2**22 + 7), "--headless")
    assert missing.returncode == 2 and "no process" in missing.stderr
    with pytest.raises(TraceError):
        TraceSession.attached(2**22 + 7)


DUP900 = "import os; r, w = os.pipe(); os.dup2(w, 900); os.read(r, 1)"


def test_a_traced_program_shows_its_fds_from_900_on():
    # GIVEN a traced program that dup2s a pipe's write end onto fd 900, then reads it
    session = TraceSession([sys.executable, "-c", DUP900])
    try:
        session.start()
        snap = session.run()
        while not session.stuck and not session.finished:
            snap = session.run()
        # THEN fd 900 is on its card, naming the pipe the kernel shows at /proc/PID/fd/900
        p = next(p for p in snap.processes if p.pid == session.root)
        target = os.readlink(f"/proc/{p.pid}/fd/900")
        assert [f.target for f in p.fds if f.fd == 900] == [target]
    finally:
        session.close()


@pytest.fixture(scope="module")
def hang_pipe(tmp_path_factory):
    return compile_c("hang_pipe", tmp_path_factory.mktemp("c"), debug=True)


def test_call_sites_of_blocked_calls_traced_and_attached(hang_pipe):
    child_line = marker_line("hang_pipe", "CALL:child-read")
    parent_line = marker_line("hang_pipe", "CALL:parent-wait")
    # GIVEN the hang of tests/c/hang_pipe.c built with -g, run under the trace engine
    session = TraceSession([str(hang_pipe)])
    try:
        session.start()
        snap = session.run()
        while not session.stuck and not session.finished:
            snap = session.run()
        # THEN each blocked call carries the line of the source that made it
        reader = next(p for p in snap.processes if p.syscall == "read")
        waiter = next(p for p in snap.processes if p.syscall == "wait4")
        assert reader.site is not None and reader.site.line == child_line
        assert waiter.site is not None and waiter.site.line == parent_line
        assert reader.site.file and reader.site.file.endswith("hang_pipe.c")
        blocked = {e.call.split("(")[0]: e.site for e in snap.log if e.outcome == BLOCKED}
        assert blocked["read"] == f"hang_pipe.c:{child_line}"
        assert blocked["wait4"] == f"hang_pipe.c:{parent_line}"
    finally:
        session.close()
    # AND the same hang, running before ipcviz comes, attached: the same lines
    with running([str(hang_pipe)]) as proc:
        child = int(proc.stdout.readline())
        wait_asleep(child, "read")
        wait_asleep(proc.pid, "wait4")
        session = TraceSession.attached(proc.pid)
        try:
            snap = session.start()
        finally:
            session.close()
        lines = {p.pid: p.site.line if p.site else None for p in snap.processes}
        assert lines == {proc.pid: parent_line, child: child_line}
        assert asleep_in(child, "read") and asleep_in(proc.pid, "wait4")


def test_shared_memory_and_named_sockets_of_a_traced_program(tmp_path):
    # GIVEN a program that makes a System V segment, a POSIX region and a named listening
    # socket, then waits in accept()
    exe = compile_c("shm_sock", tmp_path, debug=True)
    name, sock = f"/ipcviz-test-{os.getpid()}", str(tmp_path / "s")
    session = TraceSession([str(exe), name, sock])
    try:
        session.start()
        snap = session.run()
        for _ in range(5):
            if session.stuck or session.finished:
                break
            snap = session.run()
        assert session.stuck
        pid = session.root
        # THEN each is on the stage, named as the kernel names it
        with open(f"/proc/{pid}/maps") as f:
            sysv = [line.split() for line in f if "/SYSV" in line]
        assert len(sysv) == 1
        by_kind = {o.kind: o for o in snap.objects}
        assert by_kind["sysv_shm"].shmid == int(sysv[0][4]) and by_kind["sysv_shm"].text == "sysv"
        region = by_kind["shm"]
        assert region.name == name and region.text == "posix"
        assert region.size == os.stat(f"/dev/shm{name}").st_size
        s = by_kind["socket"]
        assert s.path == sock and s.listening
        assert f"socket:[{s.inode}]" == os.readlink(f"/proc/{pid}/fd/4")
        assert s.blocked_accepting == (snap.processes[0].name,)
    finally:
        session.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"/dev/shm{name}")  # the program's own: ipcviz leaves it (listed)


STOPS_ITSELF = ("import os, signal; os.kill(os.getpid(), signal.SIGSTOP); "
                "os.write(1, b'resumed')")


def test_a_traced_program_that_stops_itself_stays_stopped():
    # GIVEN a traced program that sends itself SIGSTOP (as a shell's Ctrl+Z would)
    session = TraceSession([sys.executable, "-c", STOPS_ITSELF])
    try:
        session.start()
        snap = session.run(bound=0.5)
        # THEN it stays stopped (the tracer does not let it run on), as without ipcviz
        assert not session.finished
        p = next(p for p in snap.processes if p.pid == session.root)
        with open(f"/proc/{p.pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] in ("t", "T")
        assert p.state == "stopped"
        # AND a SIGCONT from outside lets it go on to its end
        os.kill(p.pid, signal.SIGCONT)
        for _ in range(20):
            if session.finished:
                break
            session.run(bound=0.5)
        assert session.finished and session.output() == "resumed"
    finally:
        session.close()


SLEEPY_PIPE = """
import os, time
r, w = os.pipe()
if os.fork() == 0:
    os.close(w)
    while os.read(r, 1):
        pass
    os._exit(0)
os.close(r)
for _ in range(600):
    os.write(w, b"x")
    time.sleep(1)
"""


@pytest.mark.kernel
def test_a_writer_asleep_in_a_sleep_makes_no_hang():
    """A reader on an empty pipe whose only writer sleeps in clock_nanosleep() can still be
    fed: the sleep ends by itself.  Attached, every call stops, the sleep too; it must not
    count as asleep for good (it once made `attach` say the program hung, exit 1)."""
    proc = _spawn(SLEEPY_PIPE)
    try:
        wait_until(lambda: len(_children(proc.pid)) == 1, what="the reader forked")
        r = ipcviz("attach", str(proc.pid), "--headless", timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "can ever come" not in r.stdout and "none of them can wake" not in r.stdout
        assert _status(proc.pid, "TracerPid") == "0"
    finally:
        _reap(proc)


def _children(pid: int) -> list[str]:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{pid}/children") as f:
        return f.read().split()
    return []
