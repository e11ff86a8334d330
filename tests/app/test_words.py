"""words: Snapshot facts as the stage says them (no App needed)."""

from __future__ import annotations

from ipcviz.app import words
from ipcviz.model.pipe import PipeState
from ipcviz.model.snapshot import Exit, Fd, LogEntry, Process, Snapshot
from ipcviz.model.timeline import read_trace

from .helpers import BLOCKED_STEP, TRACE_PATH, scenario


def test_states_in_words():
    trace = read_trace(TRACE_PATH)
    snap = trace[BLOCKED_STEP]
    parent = snap.process_named("parent")
    assert words.state_words(parent, snap) == "blocked in write() on pipe p"
    assert words.blocked_reason(parent, snap) == "buffer full: 65536/65536 bytes"
    assert words.state_words(Process("c", 1, 0, "p", "exited", exit=Exit(None, "SIGPIPE"))) \
        == "killed by SIGPIPE"
    assert words.state_words(Process("c", 1, 0, "p", "exited", exit=Exit(3))) \
        == "exited with code 3"
    assert words.state_words(Process("c", 1, 0, "p", "zombie", exit=Exit(0))) \
        == "zombie: exited with code 0, not reaped yet"


def test_reader_blocked_on_empty_pipe():
    p = Process("child", 5, 4, "parent", "blocked", syscall="read", waits_on="p")
    snap = Snapshot(0, 1, 1, 0.0, processes=(p,),
                    objects=(PipeState("p", "pipe", 9, 0, 65536, 1, 1),))
    assert words.state_words(p, snap) == "blocked in read() on pipe p"
    assert words.blocked_reason(p, snap) == "buffer empty, a writer is still open"


def test_fd_words_and_plumbing():
    assert words.fd_words(Fd(3, "pipe:[9]", "p", "read")) == "p (read end)"
    assert words.fd_words(Fd(5, "pipe:[10]", None, "write")) == "pipe:[10] (write end)"
    assert words.is_plumbing(Fd(1, "/tmp/ipcviz-0/run-x/worker.log"))
    assert not words.is_plumbing(Fd(3, "/dev/null"))


def test_log_lines_follow_strace():
    blocked = LogEntry(6, "parent", 10, 'write(4, "x", 1)', "blocked")
    assert words.log_line(blocked)[2] == "<unfinished ...>"
    woke = LogEntry(3, "child", 11, "read(3, buf, 100)", "returned", 5, None,
                    "(step 3, woken) 'hello'", late=True)
    who, call, out = words.log_line(woke)
    assert call == "<... read resumed>" and out == "= 5  'hello'"
    failed = LogEntry(4, "w", 12, 'write(4, "x", 1)', "failed", -1, "EPIPE")
    assert words.log_line(failed)[2] == "= -1 EPIPE"
    long = LogEntry(7, "child", 11, "read(3, buf, 4096)", "returned", 4096, None, "'" + "x" * 4096)
    assert len(words.log_line(long)[2]) < 50


def test_program_of_a_process():
    prog = words.program_of(scenario(), "child")
    assert [n for n, _ in prog] == [3, 7, 8]
    assert prog[0][1] == ["close(fds[1]);"]
    assert words.fork_step(scenario(), "child").number == 2
    assert words.count(1, "read end") == "1 read end"
    assert words.count(0, "read end") == "0 read ends"
