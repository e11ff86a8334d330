"""Every fd a lesson makes is inheritable across exec as the C call shown would make it.

C's open() of a FIFO, socket(), socketpair(), accept(), recvmsg() without
MSG_CMSG_CLOEXEC and open() of a file give fds without FD_CLOEXEC: they survive an
execve().  Python adds O_CLOEXEC to each of these by default, so a lesson's `exec` step
used to close them.  mq_open() is the exception: the kernel itself gives a queue
descriptor FD_CLOEXEC (ipc/mqueue.c), so it is closed by the exec in C too.  /proc says
which fds the process holds after the exec.
"""

from __future__ import annotations

import os

import pytest

from ipcviz.runtime import Run
from ipcviz.scenario import loads

_LESSON = """
title = "what survives an exec"
[[process]]
name = "p"
[[object]]
name = "f"
kind = "fifo"
[[object]]
name = "s"
kind = "socketpair"
[[object]]
name = "srv"
kind = "socket"
[[object]]
name = "c"
kind = "socket"
[[object]]
name = "conn"
kind = "socket"
[[object]]
name = "o"
kind = "open_file"
[[object]]
name = "got"
kind = "open_file"
[[object]]
name = "q"
kind = "posix_mq"
""" + "".join(
    f'[[step]]\nprocess = "p"\nnarration = "x"\n{body}\n' for body in (
        'action = "mkfifo"\nobject = "f"',
        'action = "open"\nobject = "f"\nmode = "read"\nnonblock = true',
        'action = "socketpair"\nobject = "s"',
        'action = "socket"\nobject = "srv"',
        'action = "bind"\nobject = "srv"',
        'action = "listen"\nobject = "srv"',
        'action = "socket"\nobject = "c"',
        'action = "connect"\nobject = "c"\nserver = "srv"',
        'action = "accept"\nobject = "srv"\nas = "conn"',
        'action = "open_file"\nobject = "o"',
        'action = "send_fd"\nfd = "s.a"\npass = "o.fd"',
        'action = "recv_fd"\nfd = "s.b"\nas = "got.fd"',
        'action = "mq_open"\nobject = "q"\ncreate = true',
        'action = "exec"',
    ))


def _fd_flags(pid: int) -> dict[int, int]:
    """fd -> the flags /proc/PID/fdinfo gives (octal), for the lesson's fds (below 900)."""
    out = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        if int(name) < 900:
            with open(f"/proc/{pid}/fdinfo/{name}") as f:
                flags = next(ln for ln in f if ln.startswith("flags:"))
            out[int(name)] = int(flags.split()[1], 8)
    return out


@pytest.mark.kernel
def test_the_fds_c_would_keep_survive_exec(runtime_dir):
    """FIFO, sockets, accepted and received fds, a file: open after exec; a queue: not."""
    scenario = loads(_LESSON, "exec.toml", "custom/exec-inherits")
    with Run(scenario) as run:
        run.start()
        while not run.finished:
            snap = run.step()
            assert snap.ok
            if scenario.steps[snap.step - 1].action == "mq_open":
                # GIVEN the fds the lesson made, as the kernel flags them before the exec
                p = snap.process_named("p")
                pid = p.pid
                before = _fd_flags(pid)
                made = {f.fd: f.target for f in p.fds if f.fd < 900}
                queue = [f.fd for f in p.fds if f.object == "q"]
        # WHEN the process has run exec: /proc/PID/fd of the same pid
        after = set(_fd_flags(pid))
    # THEN only the queue descriptor had FD_CLOEXEC, and only it is gone
    assert len(queue) == 1, made
    assert sum(t.startswith("socket:") for t in made.values()) == 5, made  # s.a s.b srv c conn
    assert {fd for fd, fl in before.items() if fl & os.O_CLOEXEC} == set(queue), before
    assert after == set(before) - set(queue), (made, after)


_FILE = """
title = "a file opened as C opens it"
[[process]]
name = "p"
[[object]]
name = "o"
kind = "open_file"
[[step]]
process = "p"
action = "open_file"
object = "o"
narration = "x"
"""


@pytest.mark.kernel
def test_open_file_has_the_flags_of_the_c_shown(runtime_dir):
    """open(path, O_RDWR | O_CREAT, 0600): the description's flags are O_RDWR (and
    O_LARGEFILE, which the kernel adds on 64-bit), nothing ipcviz used for its own safety."""
    scenario = loads(_FILE, "file.toml", "custom/open-file")
    with Run(scenario) as run:
        run.start()
        snap = run.step()
        p = snap.process_named("p")
        [fd] = [f.fd for f in p.fds if f.object == "o"]
        # GIVEN the same open() made here, in C's way (no O_CLOEXEC, no O_NOFOLLOW)
        mine = os.open(snap.object_named("o").path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            os.set_inheritable(mine, True)
            with open(f"/proc/self/fdinfo/{mine}") as f:
                want = int(next(ln for ln in f if ln.startswith("flags:")).split()[1], 8)
        finally:
            os.close(mine)
        # THEN the lesson's fd has the same flags, and the lowest free number (3)
        assert _fd_flags(p.pid)[fd] == want
        assert fd == 3
