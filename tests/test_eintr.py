"""A caught signal interrupts a blocked read() as it would in the C code the lesson shows.

sigaction without SA_RESTART (the lesson's default): read() returns -1 with EINTR.  Python's
os.read would retry (PEP 475) and show a result C never gets.  With `restart = true`
(SA_RESTART) the read goes on and returns the bytes written later, as in C.
"""

from __future__ import annotations

import pytest

from ipcviz.runtime import Run
from ipcviz.scenario import loads

_LESSON = """
title = "a handler interrupts a blocked read"
[[process]]
name = "reader"
[[process]]
name = "sender"
parent = "reader"
[[object]]
name = "p"
kind = "pipe"
[[step]]
process = "reader"
action = "pipe"
object = "p"
narration = "x"
[[step]]
process = "reader"
action = "fork"
child = "sender"
narration = "x"
[[step]]
process = "reader"
action = "signal"
signal = "SIGUSR1"
disposition = "handler"
{restart}
narration = "x"
[[step]]
process = "reader"
action = "read"
fd = "p.read"
size = 100
narration = "x"
expect = ["step.outcome == blocked"]
[[step]]
process = "sender"
action = "kill"
target = "reader"
signal = "SIGUSR1"
narration = "x"
[[step]]
process = "sender"
action = "write"
fd = "p.write"
data = "hello"
narration = "x"
"""


def _run(restart: str):
    scenario = loads(_LESSON.format(restart=restart), "eintr.toml", "custom/eintr")
    with Run(scenario) as run:
        snap = run.start()
        snaps = []
        while not run.finished:
            snap = run.step()
            assert snap.ok, [(c.expect, c.observed) for c in snap.checks if not c.ok]
            snaps.append(snap)
    return snaps


def _reads(snap):
    return [e for e in snap.log if e.process == "reader" and e.call.startswith("read(")]


@pytest.mark.kernel
def test_handler_without_sa_restart_ends_the_read_with_eintr(runtime_dir):
    """Without SA_RESTART the blocked read fails with EINTR when the handler has run."""
    # GIVEN a reader blocked in read() with a SIGUSR1 handler (no SA_RESTART)
    # WHEN the sender sends SIGUSR1
    snaps = _run("")
    after_kill = snaps[4]
    reader = after_kill.process_named("reader")
    # THEN the handler ran and read() returned -1 / EINTR: the reader is idle again
    assert after_kill.step == 5
    assert reader.state == "sleeping"
    reads = _reads(after_kill)
    assert [(r.result, r.errno) for r in reads if r.late] == [(None, "EINTR")], reads
    assert any(e.outcome == "handled" and e.signal == "SIGUSR1" for e in after_kill.log)
    # ... and the bytes written afterwards stay in the pipe: nobody read them
    assert snaps[5].object_named("p").bytes == 5


@pytest.mark.kernel
def test_handler_with_sa_restart_lets_the_read_go_on(runtime_dir):
    """With SA_RESTART the handler runs and the read goes on, returning the later bytes."""
    snaps = _run("restart = true")
    after_kill = snaps[4]
    assert after_kill.process_named("reader").state == "blocked"
    assert any(e.outcome == "handled" and e.signal == "SIGUSR1" for e in after_kill.log)
    assert not [r for r in _reads(after_kill) if r.late]
    after_write = snaps[5]
    late = [r for r in _reads(after_write) if r.late]
    assert [(r.result, r.errno) for r in late] == [(5, None)]
    assert "'hello'" in late[0].detail  # the bytes themselves, not just their count
    assert after_write.object_named("p").bytes == 0


_WRITER = """
title = "a handler interrupts a blocked write"
[[process]]
name = "writer"
[[process]]
name = "sender"
parent = "writer"
[[object]]
name = "p"
kind = "pipe"
[[step]]
process = "writer"
action = "pipe"
object = "p"
narration = "x"
[[step]]
process = "writer"
action = "fork"
child = "sender"
narration = "x"
[[step]]
process = "writer"
action = "signal"
signal = "SIGUSR1"
disposition = "handler"
narration = "x"
[[step]]
process = "writer"
action = "write"
fd = "p.write"
size = "capacity"
narration = "x"
[[step]]
process = "writer"
action = "write"
fd = "p.write"
data = "one more"
narration = "x"
expect = ["step.outcome == blocked"]
[[step]]
process = "sender"
action = "kill"
target = "writer"
signal = "SIGUSR1"
narration = "x"
"""


@pytest.mark.kernel
def test_handler_without_sa_restart_ends_an_empty_write_with_eintr(runtime_dir):
    """A write() blocked on a full pipe, nothing written yet: -1 / EINTR after the handler."""
    scenario = loads(_WRITER, "eintr.toml", "custom/eintr-write")
    with Run(scenario) as run:
        run.start()
        while not run.finished:
            snap = run.step()
            assert snap.ok, [(c.expect, c.observed) for c in snap.checks if not c.ok]
    assert snap.process_named("writer").state == "sleeping"
    late = [e for e in snap.log if e.process == "writer" and e.late]
    assert [(e.result, e.errno) for e in late] == [(None, "EINTR")], late
    p = snap.object_named("p")
    assert p.bytes == p.capacity  # the 9 bytes were never written


_WAITER = """
title = "a handler interrupts a blocked waitpid"
[[process]]
name = "parent"
[[process]]
name = "child"
parent = "parent"
[[step]]
process = "parent"
action = "fork"
child = "child"
narration = "x"
[[step]]
process = "parent"
action = "signal"
signal = "SIGUSR1"
disposition = "handler"
narration = "x"
[[step]]
process = "parent"
action = "wait"
child = "child"
narration = "x"
expect = ["step.outcome == blocked"]
[[step]]
process = "child"
action = "kill"
target = "parent"
signal = "SIGUSR1"
narration = "x"
expect = ["parent.errno == EINTR", "parent.state == sleeping", "child.state == sleeping"]
[[step]]
process = "child"
action = "exit"
narration = "x"
[[step]]
process = "parent"
action = "wait"
child = "child"
narration = "x"
expect = ["child.state == exited"]
"""


@pytest.mark.kernel
def test_handler_without_sa_restart_ends_a_waitpid_with_eintr(runtime_dir):
    """waitpid() asleep for a live child: -1 / EINTR after the handler, as in C."""
    scenario = loads(_WAITER, "eintr.toml", "custom/eintr-wait")
    with Run(scenario) as run:
        run.start()
        while not run.finished:
            snap = run.step()
            assert snap.ok, (snap.step, [(c.expect, c.observed) for c in snap.checks if not c.ok])
    waits = [e for e in snap.log if e.process == "parent" and e.call.startswith("waitpid")
             and e.outcome in ("returned", "failed")]
    assert [(e.result, e.errno) for e in waits] == [(None, "EINTR"),
                                                     (snap.process_named("child").pid, None)]


_OPENER = """
title = "a handler interrupts a FIFO's open"
[[process]]
name = "opener"
[[process]]
name = "sender"
parent = "opener"
[[object]]
name = "f"
kind = "fifo"
[[step]]
process = "opener"
action = "mkfifo"
object = "f"
narration = "x"
[[step]]
process = "opener"
action = "fork"
child = "sender"
narration = "x"
[[step]]
process = "opener"
action = "signal"
signal = "SIGUSR1"
disposition = "handler"
narration = "x"
[[step]]
process = "opener"
action = "open"
object = "f"
mode = "read"
narration = "x"
expect = ["step.outcome == blocked", "f.opening_readers has opener"]
[[step]]
process = "sender"
action = "kill"
target = "opener"
signal = "SIGUSR1"
narration = "x"
expect = ["opener.errno == EINTR", "opener.state == sleeping", "opener.ends lacks f.read"]
"""


@pytest.mark.kernel
def test_handler_without_sa_restart_ends_a_fifo_open_with_eintr(runtime_dir):
    """open() of a FIFO asleep for a writer: -1 / EINTR after the handler, as in C."""
    scenario = loads(_OPENER, "eintr.toml", "custom/eintr-open")
    with Run(scenario) as run:
        run.start()
        while not run.finished:
            snap = run.step()
            assert snap.ok, (snap.step, [(c.expect, c.observed) for c in snap.checks if not c.ok])
