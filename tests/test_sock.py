"""Unix domain sockets (issue 16, item 1): a socketpair's ends, type and queues as the
kernel reports them, read without taking a byte away or opening anything."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from ipcviz.runtime import Run  # first: ipcviz.probe imports the runtime
from ipcviz.probe import syscalls  # isort: skip
from ipcviz.scenario import ScenarioError, load, loads

from .conductor_helpers import run_until
from .conftest import SCENARIOS

LESSON = SCENARIOS / "sock/stream-vs-datagram.toml"
_opened: list[str] = []
_recording = threading.Event()


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _recording.is_set() and args and isinstance(args[0], (str, bytes)):
        _opened.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


def _proc_net_unix() -> dict[int, str]:
    """inode -> Type column (0001 stream, 0002 dgram) of /proc/net/unix, read here."""
    rows = Path("/proc/net/unix").read_text().splitlines()[1:]
    return {int(r.split()[6]): r.split()[4] for r in rows if len(r.split()) >= 7}


@pytest.mark.kernel
def test_ends_and_types_agree_with_proc_net_unix_and_the_fd_tables(runtime_dir):
    # GIVEN the lesson after the writer sent 'hello' and 'world' on both pairs (step 11)
    with Run(load(LESSON)) as run:
        snap = run_until(run, 11)
        st, dg = snap.object_named("st"), snap.object_named("dg")
        writer, reader = snap.process_named("writer"), snap.process_named("reader")
        # THEN every end is a socket of /proc/net/unix of the type the probe reported
        table = _proc_net_unix()
        assert table[st.inode_a] == table[st.inode_b] == "0001" and st.type == "stream"
        assert table[dg.inode_a] == table[dg.inode_b] == "0002" and dg.type == "dgram"
        # AND the holders are what readlink of each process's fds says, read here
        for o, name in ((st, "st"), (dg, "dg")):
            for end, proc in (("a", writer), ("b", reader)):
                inode = getattr(o, f"inode_{end}")
                fds = [n for n in os.listdir(f"/proc/{proc.pid}/fd")
                       if os.readlink(f"/proc/{proc.pid}/fd/{n}") == f"socket:[{inode}]"]
                assert getattr(o, f"fds_{end}") == tuple(f"{proc.name}:{n}" for n in fds)
                assert f"{name}.{end}" in [f"{f.object}.{f.end}" for f in proc.fds]
        # AND the queues: 10 bytes of stream at b; the next datagram is 5 bytes
        assert (st.inq_b, st.inq_a, dg.inq_b, dg.inq_a) == (10, 0, 5, 0)
        assert dg.outq_a > 0


@pytest.mark.kernel
def test_sampling_takes_nothing_away_and_opens_no_socket(runtime_dir):
    # GIVEN two sends queued on each pair (step 11)
    with Run(load(LESSON)) as run:
        snap = run_until(run, 11)
        # WHEN the probe samples many times
        _opened.clear()
        _recording.set()
        try:
            for _ in range(50):
                snap = run.sample()
        finally:
            _recording.clear()
        # THEN it opened nothing under /proc/PID/fd, and the queues are unchanged
        assert not [p for p in _opened if "/fd/" in p]
        assert (snap.object_named("st").inq_b, snap.object_named("dg").inq_b) == (10, 5)
        # AND the lesson's reads still get every byte, message by message
        for _ in range(2):  # step 12: 'helloworld' from st; step 13: 'hello' from dg
            snap = run.step()
            assert snap.checks and all(c.ok for c in snap.checks), snap.checks
        assert snap.step == 13 and snap.object_named("dg").inq_b == 5


BLOCKING = """
title = "A read of an empty socketpair sleeps"

[[process]]
name = "p"

[[process]]
name = "c"
parent = "p"

[[object]]
name = "s"
kind = "socketpair"

[[step]]
process = "p"
action = "socketpair"
object = "s"
type = "dgram"
narration = "pair"

[[step]]
process = "p"
action = "fork"
child = "c"
narration = "fork"

[[step]]
process = "c"
action = "read"
fd = "s.b"
size = 64
narration = "nothing to read yet"

[[step]]
process = "p"
action = "write"
fd = "s.a"
data = "x"
narration = "wakes it"
"""


@pytest.mark.kernel
def test_a_reader_of_an_empty_pair_is_shown_blocked_and_woken_by_a_send(runtime_dir):
    # GIVEN a child reading end b of an empty datagram pair
    with Run(loads(BLOCKING)) as run:
        snap = run_until(run, 3)
        # THEN the step is blocked, and the kernel says the child sleeps in read() on it
        assert snap.outcome == "blocked"
        pid = snap.process_named("c").pid
        text = Path(f"/proc/{pid}/stat").read_text()
        assert text[text.rindex(")") + 2] == "S"
        assert syscalls.name(int(Path(f"/proc/{pid}/syscall").read_text().split()[0])) \
            in ("read", "readv")
        s = snap.object_named("s")
        assert s.blocked_readers == ("c",) and s.inq_b == 0
        # WHEN the parent sends one byte on end a
        snap = run.step()
        # THEN the reader is awake again: nobody sleeps on the pair
        assert snap.process_named("c").state == "sleeping"
        assert snap.object_named("s").blocked_readers == ()


def test_a_socketpair_end_is_a_or_b():
    """A lesson names a socketpair's ends s.a / s.b; another end name is refused."""
    ok = loads(BLOCKING)
    assert ok.steps[2].args["fd"] == "s.b"
    with pytest.raises(ScenarioError) as err:
        loads(BLOCKING.replace('fd = "s.b"', 'fd = "s.c"'))
    assert "unknown end 'c'" in str(err.value)


def test_explain_names_a_socket_end_without_the_access_mode():
    """A socketpair's end is the object's name for the fd's target, not an O_RDONLY /
    O_WRONLY access mode (both ends of a socketpair are O_RDWR): --explain must not say so."""
    from ipcviz.model import provenance
    from ipcviz.model.snapshot import Fd, Process

    # GIVEN a process holding end a of a socketpair on fd 3
    p = Process("w", 10, 1, None, "sleeping", fds=(Fd(3, "socket:[5]", "s", "a"),))
    # WHEN --explain says where its end came from
    end = next(s for s in provenance.for_fd(p, p.fds[0]) if s.field == "fd 3 end")
    # THEN it names the object's end and the link, not the fdinfo access mode
    assert end.value == "a end" and "fdinfo" not in end.interface + (end.command or "")
    assert end.command == "readlink /proc/10/fd/3"
