"""Named Unix sockets, SCM_RIGHTS and SO_PEERCRED (issue 16, item 1): what the probe says
of a listener's queue, a connection's peer and a passed file's offset, checked against
/proc/net/unix, `ss -x` and /proc/PID/fdinfo read here; and the untrusted-input rules of
the socket paths."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import stat
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from ipcviz.runtime import Run  # first: ipcviz.probe imports the runtime
from ipcviz.probe import sock_diag, syscalls  # isort: skip
from ipcviz.probe.sock import parse_net_unix  # isort: skip
from ipcviz.runtime.ops import sock as sock_ops
from ipcviz.runtime.rundir import RunDir
from ipcviz.scenario import ScenarioError, load, loads

from .conductor_helpers import run_until
from .conftest import SCENARIOS

NAMED = SCENARIOS / "sock/named-server.toml"
PASS_FD = SCENARIOS / "sock/pass-fd.toml"


def _net_unix_line(inode: int) -> list[str]:
    for row in Path("/proc/net/unix").read_text().splitlines()[1:]:
        cols = row.split()
        if len(cols) >= 7 and cols[6] == str(inode):
            return cols
    raise AssertionError(f"socket:[{inode}] is not in /proc/net/unix")


def _ss_listener(path: str) -> tuple[int, int]:
    """(Recv-Q, Send-Q) of the listening socket bound to `path`, as `ss -xl` prints them."""
    out = subprocess.run(["ss", "-xlnH"], capture_output=True, text=True, timeout=10).stdout
    for row in out.splitlines():
        cols = row.split()
        if path in cols:
            return int(cols[2]), int(cols[3])
    raise AssertionError(f"ss -xl does not list {path}:\n{out}")


@pytest.mark.kernel
def test_a_full_backlog_blocks_connect_and_the_queue_agrees_with_the_kernel(runtime_dir):
    # GIVEN the lesson at the third connect, which sleeps (step 10)
    with Run(load(NAMED)) as run:
        snap = run_until(run, 10)
        srv, client = snap.object_named("srv"), snap.process_named("client")
        # THEN the step is blocked, and the kernel says the client sleeps in connect()
        assert snap.outcome == "blocked"
        nr = int(Path(f"/proc/{client.pid}/syscall").read_text().split()[0])
        assert syscalls.name(nr) == "connect"
        assert srv.blocked_connecting == ("client",)
        # AND /proc/net/unix, read here, says it listens (__SO_ACCEPTCON) at that path
        cols = _net_unix_line(srv.inode)
        assert int(cols[3], 16) & 0x10000 and cols[7] == srv.path and srv.listening
        # AND the name is a socket file of ours, mode 0600, in the run's sock/ directory
        st = os.lstat(srv.path)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
        assert Path(srv.path).parent == run.rundir.path / "sock" and srv.file_type == "s"
        # AND ss -xl counts the same waiting connections and the same backlog
        if shutil.which("ss"):
            assert _ss_listener(srv.path) == (srv.pending, srv.backlog)
        # AND the queue names the client sockets whose connections wait, oldest first
        assert srv.queue == ("c1", "c2") and snap.object_named("c1").peer == "pending"
        # WHEN the server accepts one
        snap = run.step()
        # THEN the client is awake, and c1 and the new socket are each other's peers
        assert snap.process_named("client").state == "sleeping"
        assert (snap.object_named("c1").peer, snap.object_named("conn").peer) == ("conn", "c1")
        path = snap.object_named("srv").path
        # WHEN the client has sent 'hello' on c1 (step 13)
        while snap.step < 13:
            snap = run.step()
        # THEN sock_diag's queue numbers are SIOCINQ / SIOCOUTQ, asked here through a
        # borrowed fd of each end (the probe's fallback, for a cross-check)
        from ipcviz.probe.pipe_io import PidFds
        from ipcviz.probe.sock import read_end

        pidfds = PidFds()
        try:
            for oid, proc in (("conn", "server"), ("c1", "client")):
                o, p = snap.object_named(oid), snap.process_named(proc)
                fd = next(f.fd for f in p.fds if f.object == oid)
                assert read_end(pidfds, p.pid, fd)[1:] == (o.inq, o.outq), oid
        finally:
            pidfds.close()
        assert snap.object_named("conn").inq == 5
    # AND nothing of the run is left: the socket's name went with the run
    assert not os.path.lexists(path)


@pytest.mark.kernel
def test_a_passed_fd_shares_the_description_and_its_offset(runtime_dir):
    # GIVEN the lesson after the child received the parent's fd and wrote (step 9)
    with Run(load(PASS_FD)) as run:
        snap = run_until(run, 9)
        f = snap.object_named("f")
        parent, child = snap.process_named("parent"), snap.process_named("child")
        # THEN each fd's offset is the pos line of its fdinfo, read here
        pos = {}
        for p in (parent, child):
            for fd in (x for x in p.fds if x.object == "f"):
                text = Path(f"/proc/{p.pid}/fdinfo/{fd.fd}").read_text()
                pos[f"{p.name}:{fd.fd}"] = int(text.split("pos:")[1].split()[0])
        assert dict(zip(f.fds, f.offsets)) == pos and len(pos) == 2
        # AND they are different fd numbers of one description: the child wrote after
        # the parent's bytes, and both offsets are the file's size
        assert len({fd.split(":")[1] for fd in f.fds}) == 2
        assert set(pos.values()) == {os.path.getsize(f.path)} and f.descriptions == 1
        # WHEN sampling many times
        for _ in range(20):
            snap = run.sample()
        # THEN nothing moved: observing read no byte and seeked nowhere
        assert snap.object_named("f").offsets == f.offsets


def test_proc_net_unix_is_parsed_by_column_and_waiting_ends_are_left_out():
    text = ("Num       RefCount Protocol Flags    Type St Inode Path\n"
            "0000000000000000: 00000002 00000000 00010000 0001 01 4242 /run/x/sock/a b\n"
            "0000000000000000: 00000003 00000000 00000000 0001 03     0 /run/x/sock/a b\n"
            "0000000000000000: 00000003 00000000 00000000 0002 03 4343\n"
            "garbage line\n")
    table = parse_net_unix(text)
    assert sorted(table) == [4242, 4343]
    a = table[4242]
    assert (a.flags, a.type, a.state, a.path) == (0x10000, 1, 1, "/run/x/sock/a b")
    assert table[4343].path == "" and table[4343].type == 2


def _diag_reply(ino: int, attrs: list[tuple[int, bytes]]) -> bytes:
    body = struct.pack("=BBBBIII", socket.AF_UNIX, 1, 10, 0, ino, 0, 0)
    for kind, payload in attrs:
        a = struct.pack("=HH", 4 + len(payload), kind) + payload
        body += a + b"\0" * (-len(a) % 4)
    return struct.pack("=IHHII", 16 + len(body), 20, 0, 1, 0) + body


def test_sock_diag_reply_gives_queue_backlog_clients_and_name():
    reply = _diag_reply(77, [(0, b"/run/x/sock/srv\0"), (3, struct.pack("=3I", 5, 6, 9)),
                             (4, struct.pack("=II", 3, 2)), (2, struct.pack("=I", 0)),
                             (6, b"\x03")])
    d = sock_diag.parse(reply)
    assert d is not None and d.listening and d.inode == 77
    assert (d.name, d.icons, d.rqueue, d.wqueue, d.peer) == ("/run/x/sock/srv", (5, 6, 9),
                                                             3, 2, 0)
    assert d.shutdown == 3  # UNIX_DIAG_SHUTDOWN: both ways
    assert sock_diag.parse(reply[:20]) is None  # cut short: nothing made up
    # a message that claims more bytes than the reply holds is not read at all
    assert sock_diag.parse(reply[:-4]) is None


def test_a_socket_path_that_does_not_fit_sun_path_is_refused():
    assert sock_ops.sockaddr("/" + "a" * 106).sun_family == socket.AF_UNIX
    with pytest.raises(OSError) as err:
        sock_ops.sockaddr("/" + "a" * 107)  # 108 bytes: no room for the NUL
    assert err.value.errno == errno.ENAMETOOLONG


class _W:
    def __init__(self, rd: RunDir) -> None:
        self.rundir = rd


def test_a_symbolic_link_at_sock_is_refused_not_followed(tmp_path):
    # GIVEN a run directory where sock/ is a symbolic link to elsewhere
    run = tmp_path / "run-1"
    run.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (run / "sock").symlink_to(elsewhere)
    # THEN the ops refuse it
    with pytest.raises(OSError) as err:
        sock_ops.sock_dir(_W(RunDir("1", run)))
    assert err.value.errno == errno.EACCES


def test_the_remover_takes_only_a_socket_of_the_runs_own_sock_directory(tmp_path):
    # GIVEN a run with a socket file in sock/ and a regular file beside it
    run = tmp_path / "run-7"
    (run / "sock").mkdir(parents=True, mode=0o700)
    os.chmod(run, 0o700)
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(run / "sock" / "srv"))
    s.close()
    (run / "sock" / "plain").write_text("x")
    outside = tmp_path / "srv"
    outside.write_text("not ours to remove")
    rd = RunDir("7", run)
    remove = sock_ops.REMOVERS["sockfile"]
    # THEN a path outside sock/, or a file that is not a socket, is left alone
    assert remove({"name": str(outside)}, rd) is None and outside.exists()
    assert remove({"name": str(run / "sock" / "plain")}, rd) is None
    assert (run / "sock" / "plain").exists()
    assert remove({"name": str(run / "sock" / ".." / "srv")}, rd) is None
    # AND the run's own socket is removed
    assert remove({"name": str(run / "sock" / "srv")}, rd) is not None
    assert not (run / "sock" / "srv").exists()


LESSON = """
title = "t"

[[process]]
name = "p"

[[object]]
name = "srv"
kind = "socket"

[[step]]
process = "p"
action = "socket"
object = "srv"
narration = "n"

[[step]]
process = "p"
action = "listen"
object = "srv"
backlog = 1
narration = "n"
"""


def test_a_lesson_names_a_socket_by_object_never_by_path():
    assert loads(LESSON).steps[1].args["backlog"] == 1
    with pytest.raises(ScenarioError) as err:
        loads(LESSON.replace("backlog = 1", "backlog = -1"))
    assert "backlog" in str(err.value) and "out of range" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        loads(LESSON.replace('object = "srv"\nnarration = "n"\n\n[[step]]',
                             'object = "srv"\npath = "/etc/x"\nnarration = "n"\n\n[[step]]'))
    assert "path" in str(err.value)


ACCEPT = """
title = "accept() on an empty queue sleeps"

[[process]]
name = "server"

[[process]]
name = "client"

[[object]]
name = "srv"
kind = "socket"

[[object]]
name = "c"
kind = "socket"

[[object]]
name = "conn"
kind = "socket"

[[step]]
process = "server"
action = "socket"
object = "srv"
narration = "n"

[[step]]
process = "server"
action = "bind"
object = "srv"
narration = "n"

[[step]]
process = "server"
action = "listen"
object = "srv"
narration = "n"

[[step]]
process = "server"
action = "accept"
object = "srv"
as = "conn"
narration = "nobody has connected yet"

[[step]]
process = "client"
action = "socket"
object = "c"
narration = "n"

[[step]]
process = "client"
action = "connect"
object = "c"
server = "srv"
narration = "wakes the server"
"""

_created: list[int] = []
_opened: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "socket.__new__" and _recording:
        _created.append(args[1])  # the family
    elif event == "open" and _recording and args and isinstance(args[0], (str, bytes)):
        _opened.append(os.fsdecode(args[0]))


_recording: list[bool] = []
sys.addaudithook(_audit)  # once, for this module's tests


@pytest.mark.kernel
def test_accept_on_an_empty_queue_sleeps_and_a_connect_wakes_it(runtime_dir):
    # GIVEN a listener nobody has connected to, and its server in accept() (step 4)
    with Run(loads(ACCEPT)) as run:
        snap = run_until(run, 4)
        # THEN the step is blocked, and the kernel says the server sleeps in accept
        assert snap.outcome == "blocked"
        pid = snap.process_named("server").pid
        text = Path(f"/proc/{pid}/stat").read_text()
        assert text[text.rindex(")") + 2] == "S"
        nr = int(Path(f"/proc/{pid}/syscall").read_text().split()[0])
        assert syscalls.name(nr) in ("accept", "accept4")
        srv = snap.object_named("srv")
        assert srv.blocked_accepting == ("server",) and srv.pending == 0
        # WHEN sampling many times
        _opened.clear()
        _created.clear()
        _recording.append(True)
        try:
            for _ in range(20):
                snap = run.sample()
        finally:
            _recording.clear()
        # THEN the probe made no Unix socket and opened no fd of a process: it only asked
        # sock_diag (netlink) and read /proc
        assert socket.AF_UNIX not in _created and _created
        assert not [p for p in _opened if "/fd/" in p]
        assert snap.object_named("srv").blocked_accepting == ("server",)
        # WHEN the client makes its socket and connects
        run.step()
        snap = run.step()
        # THEN the server is awake, with a new fd on a socket whose peer is the client's
        assert snap.process_named("server").state == "sleeping"
        assert snap.object_named("conn").peer == "c" and snap.object_named("c").peer == "conn"
        assert snap.object_named("srv").blocked_accepting == ()


def test_the_remover_never_follows_a_sock_directory_that_leads_outside(tmp_path):
    # GIVEN a run whose sock/ is a symbolic link to a directory holding a socket
    run = tmp_path / "run-8"
    run.mkdir(mode=0o700)
    outside = tmp_path / "outside"
    outside.mkdir(mode=0o700)
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(outside / "srv"))
    s.close()
    (run / "sock").symlink_to(outside)
    # WHEN the manifest's line for sock/srv is removed
    found = sock_ops.REMOVERS["sockfile"]({"name": str(run / "sock" / "srv")}, RunDir("8", run))
    # THEN nothing is removed through the link
    assert found is None and stat.S_ISSOCK(os.lstat(outside / "srv").st_mode)


def test_unlink_socket_removes_only_a_socket_file_of_the_runs_sock_directory(tmp_path):
    """unlink_socket: ENOENT when the name is gone (as C's unlink), EACCES for anything
    but a socket file of ours there, and never through a symbolic link."""
    # GIVEN a run whose sock/ holds a bound socket, a regular file and a link to a socket
    run = tmp_path / "run-9"
    (run / "sock").mkdir(parents=True, mode=0o700)
    outside = tmp_path / "outside.sock"
    keep = []
    for path in (run / "sock" / "srv", outside):
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        keep.append(s)
    (run / "sock" / "f").write_text("not a socket")
    (run / "sock" / "lnk").symlink_to(outside)
    w = _W(RunDir("9", run))
    try:
        # WHEN each is unlinked by object name
        for name, want in (("f", errno.EACCES), ("lnk", errno.EACCES),
                           ("gone", errno.ENOENT)):
            with pytest.raises(OSError) as err:
                sock_ops.do_unlink_socket(w, {"object": name}, {}, 1)
            assert err.value.errno == want, name
        assert sock_ops.do_unlink_socket(w, {"object": "srv"}, {}, 1) == {"result": 0}
        # THEN only the socket file went; the file, the link and its target stay
        assert not os.path.lexists(run / "sock" / "srv")
        assert (run / "sock" / "f").exists() and os.path.islink(run / "sock" / "lnk")
        assert stat.S_ISSOCK(os.lstat(outside).st_mode)
        with pytest.raises(OSError) as err:  # and a second unlink: ENOENT, as in C
            sock_ops.do_unlink_socket(w, {"object": "srv"}, {}, 1)
        assert err.value.errno == errno.ENOENT
    finally:
        for s in keep:
            s.close()
