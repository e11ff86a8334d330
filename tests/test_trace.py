"""`ipcviz trace`: the examples' C programs run under ptrace, and what the trace says is
checked against the kernel itself (fd links, fdinfo, semctl), not against its own output.

Every session is closed in a `finally`; the objects a program leaves on purpose are removed
by the test that made them, after checking that ipcviz left them alone.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ipcviz.model.snapshot import BLOCKED, Snapshot
from ipcviz.runtime.trace import kernel
from ipcviz.runtime.trace.session import TraceError, TraceSession

from .conftest import ROOT, ipcviz, wait_until

EXAMPLES = ROOT / "examples"
RUN_BOUND = 30  # seconds a whole traced example may take here (each takes well under 1 s)
SEMCTL_GETNCNT = 14


@pytest.fixture(scope="module")
def bins(tmp_path_factory) -> Path:
    """The examples compiled with the system's C compiler (.ci/run installs one)."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    assert cc, "a C compiler is needed to build examples/ (see .ci/run)"
    out = tmp_path_factory.mktemp("examples")
    for src in EXAMPLES.glob("*.c"):
        subprocess.run([cc, "-g", "-O0", "-Wall", "-o", str(out / src.stem), str(src)],
                       check=True, timeout=60)
    return out


def play(session: TraceSession) -> Snapshot:
    """Run freely to the end or to a hang, as headless does; the last snapshot."""
    snap = session.start()
    deadline = time.monotonic() + RUN_BOUND
    while not (session.finished or session.stuck):
        assert time.monotonic() < deadline, "the traced example did not end nor hang"
        snap = session.run()
    return snap


def _fd_end(pid: int, fd: int) -> str:
    """"read"/"write" of an fd, from the kernel's fdinfo flags."""
    flags = int(Path(f"/proc/{pid}/fdinfo/{fd}").read_text().split("flags:")[1].split()[0], 8)
    return {os.O_RDONLY: "read", os.O_WRONLY: "write"}.get(flags & os.O_ACCMODE, "rw")


def test_forgotten_close_hang_is_found_and_explained(bins):
    # GIVEN the pipe example whose reader never closes its own write end
    s = TraceSession([str(bins / "never_eof")])
    try:
        # WHEN it runs freely
        snap = play(s)
        # THEN it hangs: the reader asleep in read() on the pipe, the writer in wait4()
        assert s.stuck and not s.finished
        reader = snap.process_named("reader")
        assert reader is not None and reader.state == BLOCKED and reader.syscall == "read"
        pipe = snap.object_named(reader.waits_on or "")
        assert pipe is not None and pipe.kind == "pipe"
        # the kernel says: the reader itself holds a write end of that very pipe
        own_write = [int(fd) for fd in os.listdir(f"/proc/{reader.pid}/fd")
                     if os.readlink(f"/proc/{reader.pid}/fd/{fd}") == f"pipe:[{pipe.inode}]"
                     and _fd_end(reader.pid, int(fd)) == "write"]
        assert own_write, "the example should leave the reader holding a write end"
        assert pipe.writer_fds == tuple(f"reader:{fd}" for fd in own_write)
        assert pipe.bytes == 0
        assert f"held by reader itself, fd {own_write[0]}" in snap.narration
        writer = snap.process_named("writer")
        assert writer is not None and writer.state == BLOCKED and writer.syscall == "wait4"
    finally:
        s.close()
    # AND closing the session killed the traced tree
    wait_until(lambda: not os.path.exists(f"/proc/{reader.pid}"), 5, "the reader to die")


def _semctl(semid: int, cmd: int) -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.semctl(semid, 0, cmd))


def test_semaphore_deadlock_two_processes_in_semop(bins, tmp_path):
    s = TraceSession([str(bins / "sem_deadlock")])
    left = []
    try:
        snap = play(s)
        assert s.stuck
        first, second = snap.process_named("first"), snap.process_named("second")
        assert first is not None and second is not None
        for p in (first, second):
            assert p.state == BLOCKED and p.syscall in ("semop", "semtimedop")
        sems = {o.id: o for o in snap.objects if o.kind == "sysv_sem"}
        a, b = sems[second.waits_on or ""], sems[first.waits_on or ""]
        # the kernel: one process waits on each set (semncnt), each value is 0
        assert _semctl(a.semid, SEMCTL_GETNCNT) == 1 and _semctl(b.semid, SEMCTL_GETNCNT) == 1
        assert a.value == 0 and b.value == 0
        assert set(a.deadlock) == {"first", "second"}
        assert "Deadlock" in snap.narration
        left = s.leftovers()
    finally:
        s.close()
        for o in left:
            subprocess.run(o.remove.split(), check=False, timeout=10)
    # the program's two sets are listed with their creator and the command to remove them
    assert sorted(o.remove for o in left) == sorted(f"ipcrm -s {x.semid}" for x in (a, b))
    assert all(o.creator.startswith("first") for o in left)


def test_sysv_producer_consumer_runs_to_the_end(bins):
    s = TraceSession([str(bins / "msgq_pc")])
    try:
        snap = play(s)
        assert s.finished and not s.stuck
        calls = [(e.process, e.call.split("(")[0], e.outcome) for e in snap.log]
        sends = [c for c in calls if c[1] == "msgsnd" and c[2] == "returned"]
        receives = [c for c in calls if c[1] == "msgrcv" and c[2] == "returned"]
        assert len(sends) == 3 and len(receives) == 3
        assert {c[0] for c in sends} == {"producer"} and {c[0] for c in receives} == {"consumer"}
        assert all(p.exit is not None and p.exit.code == 0 for p in snap.processes)
        assert s.leftovers() == []  # it removed its queue itself
    finally:
        s.close()


@pytest.mark.parametrize("mode", ["restart", "norestart"])
def test_handler_interrupting_read(bins, mode):
    s = TraceSession([str(bins / "sigread"), mode])
    try:
        snap = play(s)
        assert s.finished
        reads = [e for e in snap.log if e.process == "sleeper" and e.call.startswith("read(")
                 and e.outcome in ("returned", "failed")]
        signals = [e.signal for e in snap.log if e.outcome == "signal"
                   and e.process == "sleeper"]
        assert "SIGUSR1" in signals
        # the kernel's word at the exit of the interrupted read, in both cases
        assert reads[0].errno == "ERESTARTSYS"
        sleeper = snap.process_named("sleeper")
        assert sleeper is not None and sleeper.exit is not None
        if mode == "restart":
            # the kernel ran read() again after the handler, and it returned the byte
            assert [e.result for e in reads[1:]] == [1]
            assert sleeper.exit.code == 0
        else:
            # read() failed with EINTR in the program: no second read, it gave up (exit 4)
            assert reads[1:] == []
            assert sleeper.exit.code == 4
    finally:
        s.close()


def test_shell_pipeline_headless_record_replay_and_export(tmp_path):
    rec = tmp_path / "ls.jsonl"
    res = ipcviz("trace", "--headless", "--record", str(rec), "--", "sh", "-c", "echo hi | wc -c",
                 timeout=RUN_BOUND)
    assert res.returncode == 0, res.stderr
    assert "wc" in res.stdout and 'write(1, "hi\\n", 3) = 3' in res.stdout
    assert "\n3\n" in res.stdout  # the program's own output, shown at the end
    replay = ipcviz("replay", "--headless", str(rec), timeout=RUN_BOUND)
    assert replay.returncode == 0, replay.stderr
    assert "no process was run" in replay.stdout and "pipe1" in replay.stdout
    out = tmp_path / "svg"
    exp = ipcviz("export", "--trace", str(rec), "--svg", str(out), "--size", "100x30",
                 timeout=90)
    assert exp.returncode == 0, exp.stderr
    steps = len(rec.read_text().splitlines()) - 1  # header + one line per snapshot
    assert len(list(out.glob("step-*.svg"))) == steps


def test_json_is_one_snapshot_per_line():
    res = ipcviz("trace", "--json", "--", "sh", "-c", "true | true", timeout=RUN_BOUND)
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [d["step"] for d in lines] == list(range(len(lines)))
    assert lines[-1]["processes"] and all(p["state"] == "exited"
                                          for p in lines[-1]["processes"])


@pytest.mark.parametrize("argv, words", [
    (["./no/such/program"], "no such file"),
    (["no-such-command-ipcviz"], "command not found"),
    (["{tmp}/text.txt"], "not executable"),
    (["{tmp}/script"], "cannot execute: Exec format error"),
    (["/etc"], "not a regular file"),
])
def test_bad_program_is_one_line_exit_2(argv, words, tmp_path):
    (tmp_path / "text.txt").write_text("not a program\n")
    (tmp_path / "text.txt").chmod(0o644)
    (tmp_path / "script").write_bytes(b"\x00\x01 no magic here\n")
    (tmp_path / "script").chmod(0o755)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    res = ipcviz("trace", "--headless", "--", *argv, timeout=RUN_BOUND)
    assert res.returncode == 2
    assert words in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_ptrace_refused_names_the_cause(tmp_path):
    """A tracer that is itself refused ptrace (here: by a seccomp filter that fails it with
    EPERM, as a container's profile does) says so in one line, exit 2."""
    wrapper = tmp_path / "deny_ptrace.py"
    wrapper.write_text(
        "import sys\n"
        "from ipcviz.runtime.trace import kernel as k\n"
        "a = k.this_arch()\n"
        "k.install_filter([(k.BPF_LD_W_ABS, 0, 0, k.SECCOMP_DATA_ARCH),\n"
        "                  (k.BPF_JEQ_K, 0, 3, a.audit),\n"
        "                  (k.BPF_LD_W_ABS, 0, 0, k.SECCOMP_DATA_NR),\n"
        f"                  (k.BPF_JEQ_K, 0, 1, {_ptrace_nr()}),\n"
        "                  (k.BPF_RET_K, 0, 0, 0x00050000 | 1),  # SECCOMP_RET_ERRNO | EPERM\n"
        "                  (k.BPF_RET_K, 0, 0, k.SECCOMP_RET_ALLOW)])\n"
        "from ipcviz.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    res = subprocess.run([sys.executable, str(wrapper), "trace", "--headless", "--", "true"],
                         capture_output=True, text=True, timeout=RUN_BOUND, cwd=ROOT,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 2, res.stderr
    assert "ptrace not permitted" in res.stderr and "seccomp" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def _ptrace_nr() -> int:
    return {"x86_64": 101, "aarch64": 117}[kernel.this_arch().machine]  # type: ignore[union-attr]


def test_clean_never_touches_what_a_traced_program_left(bins, tmp_path, runtime_dir):
    s = TraceSession([str(bins / "msgq_pc"), "keep"])
    try:
        play(s)
        left = s.leftovers()
    finally:
        s.close()
    assert len(left) == 1 and left[0].remove.startswith("ipcrm -q ")
    msqid = int(left[0].remove.split()[-1])
    try:
        res = ipcviz("clean", timeout=RUN_BOUND)
        assert res.returncode == 0, res.stderr
        ids = [int(line.split()[1]) for line in
               Path("/proc/sysvipc/msg").read_text().splitlines()[1:]]
        assert msqid in ids, "ipcviz clean removed a queue the traced program made"
    finally:
        subprocess.run(["ipcrm", "-q", str(msqid)], check=False, timeout=10)


def test_sigkill_of_ipcviz_kills_the_traced_tree(bins, tmp_path):
    """The traced tree dies with its tracer, and the tracer with ipcviz (SIGKILL too)."""
    script = tmp_path / "hold.py"
    script.write_text(
        "import sys\n"
        "from ipcviz.runtime.trace.session import TraceSession\n"
        f"s = TraceSession([{str(bins / 'never_eof')!r}])\n"
        "s.start()\n"
        "while not s.stuck:\n"
        "    s.run()\n"
        "print(' '.join(str(p.pid) for p in s.timeline[-1].processes), flush=True)\n"
        "sys.stdin.read()\n")
    proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        pids = [int(x) for x in line.split()]
        assert len(pids) == 2
        assert all(os.path.exists(f"/proc/{p}") for p in pids)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    wait_until(lambda: not any(_alive(p) for p in pids), 5, "the traced tree to die")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_filter_checks_arch_first_and_traces_only_the_named_calls(machine):
    arch = kernel.ARCHES[machine]
    from ipcviz.runtime.trace import calls

    nums = kernel.numbers_of(calls.TRACED, arch)
    masked = {nr: calls.MASKED[nm] for nm, nr in kernel.numbers_of(calls.MASKED, arch).items()}
    prog = kernel.build_filter(arch, nums.values(), masked)
    assert prog[0] == (kernel.BPF_LD_W_ABS, 0, 0, kernel.SECCOMP_DATA_ARCH)
    assert prog[1][0] == kernel.BPF_JEQ_K and prog[1][3] == arch.audit
    assert nums["read"] != nums["write"] and "getpid" not in nums
    assert run_filter(prog, arch.audit, nums["read"]) == kernel.SECCOMP_RET_TRACE
    getpid = {"x86_64": 39, "aarch64": 172}[machine]
    assert run_filter(prog, arch.audit, getpid) == kernel.SECCOMP_RET_ALLOW
    mmap = kernel.numbers_of(["mmap"], arch)["mmap"]
    assert run_filter(prog, arch.audit, mmap, {3: 0x02}) == kernel.SECCOMP_RET_ALLOW  # private
    assert run_filter(prog, arch.audit, mmap, {3: 0x01}) == kernel.SECCOMP_RET_TRACE  # shared
    futex = kernel.numbers_of(["futex"], arch)["futex"]
    assert run_filter(prog, arch.audit, futex, {1: 128}) == kernel.SECCOMP_RET_ALLOW
    assert run_filter(prog, arch.audit, futex, {1: 0}) == kernel.SECCOMP_RET_TRACE
    assert run_filter(prog, 0x40000003, getpid) == kernel.SECCOMP_RET_TRACE  # i386: traced


def run_filter(prog, arch: int, nr: int, args: dict[int, int] | None = None) -> int:
    """A classic-BPF interpreter for the few opcodes the filter uses."""
    data = {kernel.SECCOMP_DATA_ARCH: arch, kernel.SECCOMP_DATA_NR: nr}
    for i, v in (args or {}).items():
        data[kernel.seccomp_arg_low(i)] = v
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        if code == kernel.BPF_LD_W_ABS:
            acc = data.get(k, 0)
        elif code == kernel.BPF_RET_K:
            return k
        else:
            hit = {kernel.BPF_JEQ_K: acc == k, kernel.BPF_JGE_K: acc >= k,
                   kernel.BPF_JSET_K: bool(acc & k)}[code]
            pc += jt if hit else jf
        pc += 1


def test_start_error_for_a_missing_program_is_trace_error():
    with pytest.raises(TraceError) as err:
        TraceSession(["/no/such/prog"]).start()
    assert err.value.code == 2


def test_chosen_interleaving_consumer_first_blocks_then_is_woken(bins):
    """Who runs is chosen: the consumer goes first and sleeps in msgrcv (the kernel says
    so), then the producer's msgsnd wakes it."""
    s = TraceSession([str(bins / "msgq_pc")])
    try:
        s.start()
        deadline = time.monotonic() + RUN_BOUND
        # let the producer (the only process) run until both are held at msgrcv/msgsnd
        while not {r.syscall for r in s.ready()} >= {"msgrcv", "msgsnd"}:
            assert time.monotonic() < deadline
            s.step(next(r.pid for r in s.ready() if r.syscall != "msgrcv"))
        consumer = next(r for r in s.ready() if r.syscall == "msgrcv")
        producer = next(r for r in s.ready() if r.syscall == "msgsnd")
        snap = s.step(consumer.pid)
        assert snap.outcome == BLOCKED
        proc = snap.process_named(snap.process or "")
        assert proc is not None and proc.pid == consumer.pid and proc.state == BLOCKED
        assert proc.syscall == "msgrcv" and proc.wchan and "msgrcv" in proc.wchan
        snap = s.step(producer.pid)
        assert snap.outcome == "returned" and snap.call and snap.call.startswith("msgsnd(")
        woken = [e for e in snap.log[len(snap.log) - snap.fresh:] if e.pid == consumer.pid]
        assert any(e.call.startswith("msgrcv(") and e.late and e.outcome == "returned"
                   for e in woken)
        assert any(r.pid == consumer.pid for r in s.ready())  # held at its next call
    finally:
        s.close()  # killed before its msgctl(IPC_RMID): the queue is left, listed, removed here
        for o in s.leftovers():
            subprocess.run(o.remove.split(), check=False, timeout=10)


def test_call_text_reads_int_arguments_as_c_does():
    from ipcviz.runtime.trace.calls import call_text, result_text

    minus_one = (1 << 32) - 1  # wait4(-1, ...): the kernel gets an int in a 64-bit register
    assert call_text("wait4", (minus_one, 0, 0, 0, 0, 0), {}) == "wait4(-1)"
    assert call_text("write", (4, 0, 5, 0, 0, 0), {"data": b"hello".hex()}) == \
        'write(4, "hello", 5)'
    assert call_text("kill", (1234, 10, 0, 0, 0, 0), {}) == "kill(1234, SIGUSR1)"
    assert result_text("read", {"errno": "ERESTARTSYS", "result": -1}).startswith(
        "? ERESTARTSYS")
    assert result_text("pipe2", {"result": 0, "fds": [3, 4]}) == "0 [3, 4]"
