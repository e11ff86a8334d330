"""provenance: every value on the stage names its kernel source and a command to check it."""

from __future__ import annotations

import itertools
import re
import shlex
import subprocess
import sys

import pytest

from ipcviz.model import provenance as pv
from ipcviz.model.pipe import PipeState
from ipcviz.model.snapshot import Exit, Fd, Process, Signals
from ipcviz.model.timeline import read_trace

from .helpers import BLOCKED_STEP, HERE, TRACE_PATH


@pytest.fixture(scope="module")
def trace():
    return read_trace(TRACE_PATH)


def by_field(sources):
    return {s.field: s for s in sources}


def test_blocked_process_sources_name_proc_files(trace):
    """A blocked writer: state, syscall, wchan, fds and fd ends each cite /proc of its PID."""
    # GIVEN the snapshot after the parent's write() blocked
    snap = trace[BLOCKED_STEP]
    parent = snap.process_named("parent")
    # WHEN
    src = by_field(pv.for_process(parent))
    # THEN
    pid = parent.pid
    assert src["state"].command == f"ps -o stat= -p {pid}"
    assert "stat field 3" in src["state"].interface
    assert src["state"].value.startswith("blocked")
    assert src["syscall"].command == f"cat /proc/{pid}/syscall"
    assert src["syscall"].value.startswith("write(4, 0x")
    assert src["wchan"].value == parent.wchan
    assert src["wchan"].command.startswith(f"cat /proc/{pid}/wchan")
    assert src["fds"].command == f"ls -l /proc/{pid}/fd"
    assert src["fd 4 end"].value == "write end"
    assert src["fd 4 end"].command == f"grep flags /proc/{pid}/fdinfo/4"
    assert src["signals"].command == f"grep Sig /proc/{pid}/status"


def test_pipe_sources_ask_through_the_holder(trace):
    """bytes and capacity name FIONREAD / F_GETPIPE_SZ through the holder's fd, with a command."""
    snap = trace[BLOCKED_STEP]
    pipe = snap.object_named("p")
    holder = pv.pipe_holder(snap, pipe)
    assert holder is not None
    pid, fd = holder
    src = by_field(pv.for_object(pipe, holder, {p.name: p.pid for p in snap.processes}))
    assert src["bytes"].value == str(pipe.bytes)
    assert f"ioctl(FIONREAD) through pidfd_getfd on {pid}'s fd {fd}" == src["bytes"].interface
    assert f"os.pidfd_open({pid})" in src["bytes"].command and f", {fd}, 0)" in src["bytes"].command
    assert "1032" in src["capacity"].command and src["capacity"].value == str(pipe.capacity)
    assert "reader" in src["capacity"].note  # opening it adds a reader: the student is told
    assert f"pipe:\\[{pipe.inode}\\]" in src["readers"].command
    parent = snap.process_named("parent")
    assert src["blocked writers"].value == "parent"
    assert f"/proc/{parent.pid}/wchan" in src["blocked writers"].command


def test_pipe_holder_skips_zombies_and_the_gone():
    """The probe asks through a live process's end, never a zombie's (it has no fds)."""
    fds = (Fd(3, "pipe:[77]", "p", "read"),)
    zombie = Process("a", 10, 1, None, "zombie", fds=fds)
    live = Process("b", 11, 10, "a", "sleeping", fds=(Fd(5, "pipe:[77]", "p", "write"),))
    from ipcviz.model.snapshot import Snapshot

    snap = Snapshot(0, 0, 1, 0.0, processes=(zombie, live),
                    objects=(PipeState("p", "pipe", inode=77),))
    assert pv.pipe_holder(snap, snap.objects[0]) == (11, 5)
    gone = Snapshot(0, 0, 1, 0.0, processes=(zombie,), objects=snap.objects)
    assert pv.pipe_holder(gone, gone.objects[0]) is None
    src = by_field(pv.for_object(gone.objects[0], None))
    assert src["bytes"].command is None and src["bytes"].value == "unknown"


def test_exited_and_zombie_processes():
    """A reaped process has no /proc entry; a zombie's exit code is stat field 52."""
    gone = Process("c", 42, 0, "p", "exited", exit=Exit(None, "SIGPIPE"))
    src = by_field(pv.for_process(gone))
    assert src["state"].command == "ls /proc/42"
    assert src["exit"].value == "killed by SIGPIPE" and src["exit"].command is None
    zombie = Process("c", 43, 1, "p", "zombie", exit=Exit(3), kernel_state="Z")
    src = by_field(pv.for_process(zombie))
    assert src["exit"].value == "exited with code 3"
    assert src["exit"].command == "cut -d' ' -f52 /proc/43/stat"


def test_signals_are_summarised(trace):
    p = Process("x", 5, 1, None, "sleeping",
                signals=Signals(pending=("SIGUSR1",), blocked=("SIGUSR1",), queued=1,
                                queue_limit=100))
    src = by_field(pv.for_process(p))
    assert "pending SIGUSR1" in src["signals"].value
    assert "blocked SIGUSR1" in src["signals"].value


def test_source_line_is_one_line(trace):
    for s in pv.for_process(trace[BLOCKED_STEP].processes[0]):
        assert "\n" not in s.line()


def test_provenance_is_pure():
    """The headless report uses provenance: it must not import textual or rich."""
    code = ("import sys, ipcviz.model.provenance; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30, check=True, cwd=HERE.parents[1])
    assert out.stdout.strip() == "[]"


# What a suggested command must never do: open a pipe, FIFO or queue, attach or map memory,
# or change the system.  Each would change what it claims to show (DESIGN.md).
_DISTURBING = [
    (re.compile(r"(?<!\w)open\("), "opens a file (a pipe end via /proc/PID/fd/N adds a reader)"),
    (re.compile(r"mq_open|sem_open|shm_open"), "opens an IPC object"),
    (re.compile(r"shmat|mmap"), "attaches or maps memory"),
    (re.compile(r"posix_ipc|sysv_ipc"), "opens or attaches through a Python IPC module"),
    (re.compile(r"<\s*/"), "reads a path through a shell redirection"),
    (re.compile(r"\b(ipcrm|kill|rm|mount|mkfifo)\b"), "changes the system"),
]


def _states():
    """Objects of every kind, through the branches their sources() take."""
    from ipcviz.model.fifo import FifoState
    from ipcviz.model.msgq import KERNEL, PosixQueueState, SysvQueueState
    from ipcviz.model.sem import SemState
    from ipcviz.model.shm import AnonState, FileState, RegionState
    from ipcviz.model.signals import PtyState
    from ipcviz.model.snapshot import OBJECT_KINDS
    from ipcviz.model.sock import OpenFileState, SocketPairState, SocketState

    some = ((), ("a",))
    variants = {
        PipeState: dict(inode=[None, 77], blocked_readers=some, blocked_writers=some,
                        max_capacity=[None, 1048576], nonblocking=[(), ("a:3",)]),
        FifoState: dict(path=["/tmp/ipcviz-x/fifo"], bytes=[None, 5], capacity=[65536],
                        opening_readers=some, opening_writers=some),
        SysvQueueState: dict(msqid=[7], present=[True, False], contents_source=[KERNEL, "steps"]),
        PosixQueueState: dict(name=["/ipcviz.r.q"], read_through=[None, "name", "a:3"],
                              notify_process=[None, "", "a"], notify_signal=["SIGUSR1"]),
        AnonState: dict(address=[None, 0x7F0000000000], shared=[None, True, False],
                        mapped_by=[(), ("a",)], rss_kb=[(4,)], shared_dirty_kb=[(4,)],
                        private_dirty_kb=[(0,)], anonymous_kb=[(0,)], counters=[(None,), (7,)]),
        RegionState: dict(flavor=["posix", "sysv"], name=["/ipcviz.r.m"], shmid=[9],
                          exists=[True, False], removed=[False, True],
                          bytes_source=[None, "/dev/shm/ipcviz.r.m", "/proc/10/mem"],
                          mappings=[(), ("a@0x1000",)], mapped_by=some, data=["00" * 24],
                          slots=[0, 2], layout=["counter", "ring"], counter=[None, 3],
                          increments=[0, 4]),
        FileState: dict(path=["/tmp/ipcviz-x/f"], size=[None, 5], content=[None, "ab"],
                        copies=[0, 2]),
        SemState: dict(flavor=["posix", "sysv"], name=["/ipcviz.r.s"], semid=[4],
                       exists=[True, False], waiters=some, undo=some, deadlock=[(), ("a", "b")]),
        PtyState: dict(slave=["/dev/pts/9"], foreground=some),
        SocketPairState: dict(type=[None, "stream", "dgram"], inode_a=[None, 5], inode_b=[6],
                              inq_b=[None, 3], fds_a=[(), ("a:3",)], blocked_readers=some),
        SocketState: dict(inode=[None, 8], listening=[False, True], path=["", "/tmp/x/sock/s"],
                          peer=[None, "pending", "c"], peer_closed=[False, True],
                          fds=[(), ("a:3",)], blocked_connecting=some, diag=["sock_diag",
                                                                            "ioctl"]),
        OpenFileState: dict(path=["/tmp/x/sock/f"], fds=[(), ("a:3", "b:4")],
                            offsets=[(), (6, 6)], descriptions=[None, 1, 2]),
    }
    assert set(OBJECT_KINDS.values()) <= set(variants), "a new kind: add its variants here"
    kinds = {cls: kind for kind, cls in OBJECT_KINDS.items()}
    for cls, fields in variants.items():
        for values in itertools.product(*fields.values()):
            yield cls("o", kinds[cls], **dict(zip(fields, values)))


def _all_sources():
    pids = {"a": 10, "b": 11}
    for o in _states():
        for holder in (None, (10, 3)):
            yield o, pv.for_object(o, holder, pids)
    recorded = [snap for path in sorted(TRACE_PATH.parent.glob("*.jsonl"))
                for snap in read_trace(path)]
    for snap in recorded:
        names = {p.name: p.pid for p in snap.processes}
        for o in snap.objects:
            yield o, pv.for_object(o, pv.holder_of(snap, o), names)
        for p in snap.processes:
            yield p, pv.for_process(p)
            for f in p.fds:
                yield p, pv.for_fd(p, f)


def test_no_suggested_command_disturbs_what_it_shows():
    """Every command --explain can suggest only observes: no open of a pipe end, FIFO or
    queue, no attach, nothing that changes the system."""
    seen = 0
    for thing, sources in _all_sources():
        for s in sources:
            if not s.command:
                continue
            seen += 1
            for pattern, why in _DISTURBING:
                assert not pattern.search(s.command), f"{s.field}: {why}: {s.command}"
            # /proc/PID/fd/N names the object itself: only its link may be read
            for word in s.command.split():
                if re.search(r"/proc/[^/]+/fd/\d", word):
                    assert s.command.startswith("readlink "), s.command
            path = getattr(thing, "path", None)
            if getattr(thing, "kind", None) == "fifo" and path in s.command:
                assert s.command.startswith(("ls -l ", "stat ")), s.command
    assert seen > 100  # the walk did reach the commands


@pytest.mark.kernel
def test_commands_print_what_the_probe_saw():
    """Cross-check: the student's commands, run on a live blocked writer, agree with the stage."""
    from ipcviz.runtime import Run

    from .helpers import scenario

    with Run(scenario()) as run:
        run.start()
        snap = None
        while not run.finished:
            snap = run.step()
            if snap.step == BLOCKED_STEP:
                break
        pipe = snap.object_named("p")
        parent = snap.process_named("parent")
        src = by_field(pv.for_object(pipe, pv.pipe_holder(snap, pipe)))
        psrc = by_field(pv.for_process(parent))

        def sh(cmd):
            return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                                  timeout=10).stdout.strip()

        assert sh(src["bytes"].command) == str(pipe.bytes)
        assert sh(src["capacity"].command) == str(pipe.capacity)
        assert sh(psrc["state"].command).startswith(parent.kernel_state)
        assert sh(psrc["wchan"].command) == parent.wchan
        assert sh(psrc["fd 4 end"].command).endswith("1")  # O_WRONLY: the write end
        found = sh(src["readers"].command).split()
        assert sorted(found) == sorted(shlex.split(" ".join(found)))
        assert len(found) == pipe.readers + pipe.writers
