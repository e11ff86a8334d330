"""Message queues: the probe's readings against independent ones (ipcs, /proc/sysvipc/msg,
msgctl IPC_STAT through sysv_ipc, posix_ipc), non-intrusion, nothing left behind (after a
run, an expect failure, a SIGKILL + `ipcviz clean`), limits named with their values, and
the system view of every System V queue."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import time

import posix_ipc
import pytest
import sysv_ipc

from ipcviz.model.msgq import PosixQueueState, SysvQueueState
from ipcviz.model.snapshot import snapshot_from_dict
from ipcviz.probe import msgq as probe
from ipcviz.runtime import Run
from ipcviz.runtime import system_ipc
from ipcviz.runtime.ops import msgq as ops
from ipcviz.scenario import load, loads

from .conftest import SCENARIOS, ipcviz, marked_processes, wait_until
from .test_cleanup import only_run_id, read_until_step, runner_pid, start_headless


def lesson(name: str):
    return load(SCENARIOS / f"msgq/{name}.toml")


def step_to(run: Run, n: int):
    snap = run.start() if run.timeline.head is None else run.timeline.head
    while snap.step < n:
        snap = run.step()
        assert snap.ok, [(c.expect, c.observed) for c in snap.checks if not c.ok]
    return snap


def ipcs_line(msqid: int) -> dict:
    """`ipcs -q` line of a queue: key, msqid, owner, perms, used-bytes, messages."""
    out = subprocess.run(["ipcs", "-q"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[1] == str(msqid):
            return {"key": int(f[0], 16), "perms": f[3], "bytes": int(f[4]),
                    "messages": int(f[5])}
    return {}


def ipcs_detail(msqid: int) -> dict[str, int]:
    """`ipcs -q -i ID`: qbytes, qnum, cbytes, lspid, lrpid."""
    out = subprocess.run(["ipcs", "-q", "-i", str(msqid)], capture_output=True, text=True,
                         check=True).stdout
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", out)}


def sysv_gone(key: int) -> bool:
    try:
        sysv_ipc.MessageQueue(key)
    except sysv_ipc.ExistentialError:
        return True
    return False


def posix_gone(name: str) -> bool:
    try:
        q = posix_ipc.MessageQueue(name)
    except posix_ipc.ExistentialError:
        return True
    q.close()
    return False


# -- readings against independent ones ---------------------------------------------------


@pytest.mark.kernel
def test_sysv_counts_agree_with_ipcs_proc_and_ipc_stat(runtime_dir):
    # GIVEN the by-type lesson paused with six messages of three types queued
    with Run(lesson("sysv-by-type")) as run:
        snap = step_to(run, 8)
        q = snap.object_named("q")
        producer = snap.process_named("producer")
        assert isinstance(q, SysvQueueState) and q.messages == 6
        # THEN `ipcs -q`, /proc/sysvipc/msg and msgctl(IPC_STAT) (sysv_ipc) say the same now
        line = ipcs_line(q.msqid)
        assert line == {"key": q.key, "perms": "600", "bytes": q.bytes, "messages": 6}
        detail = ipcs_detail(q.msqid)
        assert detail["qbytes"] == q.max_bytes == int(open("/proc/sys/kernel/msgmnb").read())
        assert detail["cbytes"] == q.bytes and detail["lspid"] == producer.pid
        proc = open("/proc/sysvipc/msg").read().splitlines()
        mine = [ln.split() for ln in proc[1:] if ln.split()[1] == str(q.msqid)]
        assert len(mine) == 1 and int(mine[0][3]) == q.bytes and int(mine[0][4]) == 6
        mq = sysv_ipc.MessageQueue(q.key)
        assert mq.id == q.msqid and mq.current_messages == q.messages
        assert mq.max_size == q.max_bytes and mq.last_send_pid == producer.pid
        assert mq.last_receive_pid == 0 and q.last_receiver is None
        # AND the list the probe copied out of the kernel is the order they were sent
        assert q.contents_source == "kernel" and q.complete
        assert q.types == (1, 3, 2, 1, 3, 2)
        assert sum(m[1] for m in q.contents) == q.bytes
        key = q.key
    # AND closing the run mid-lesson removed the queue
    assert sysv_gone(key) and ipcs_line(snap.object_named("q").msqid) == {}


@pytest.mark.kernel
def test_posix_count_agrees_with_an_independent_reading(runtime_dir):
    # GIVEN the priority lesson paused with five messages queued
    with Run(lesson("posix-priority")) as run:
        snap = step_to(run, 7)
        q = snap.object_named("q")
        assert isinstance(q, PosixQueueState) and q.messages == 5
        # THEN posix_ipc, opening the queue by its name, reads the same attributes
        mq = posix_ipc.MessageQueue(q.name)
        try:
            assert mq.current_messages == q.messages
            assert mq.max_messages == q.max_messages
            assert mq.max_message_size == q.max_message_size
        finally:
            mq.close()
        # AND the limits are this system's, read at run time
        assert q.max_messages == int(open("/proc/sys/fs/mqueue/msg_default").read())
        assert q.max_message_size == int(open("/proc/sys/fs/mqueue/msgsize_default").read())
        assert q.mode == "0600" and q.read_through.startswith(("sender:", "receiver:"))
        assert q.priorities == (9, 5, 5, 1, 1) and q.complete
        name = q.name
    assert posix_gone(name)


@pytest.mark.kernel
def test_an_outside_message_shows_in_the_counts_and_marks_the_list(runtime_dir):
    # GIVEN both families paused with messages queued
    with Run(lesson("posix-priority")) as prun, Run(lesson("sysv-by-type")) as srun:
        pq = step_to(prun, 7).object_named("q")
        sq = step_to(srun, 8).object_named("q")
        # WHEN a process outside the lesson sends one message to each
        outsider = posix_ipc.MessageQueue(pq.name)
        try:
            outsider.send(b"intruder", priority=3)
        finally:
            outsider.close()
        sysv_ipc.MessageQueue(sq.key).send(b"intruder", type=7)
        p, s = prun.sample().object_named("q"), srun.sample().object_named("q")
        # THEN the counts are the kernel's, and the POSIX list (inferred) says it is short
        assert p.messages == 6 and len(p.contents) == 5 and not p.complete
        assert p.all_known == "no" and p.lost == -1
        # AND the System V list, read from the kernel, shows it with an unknown sender
        assert s.messages == 7 and s.complete and s.contents[-1] == (7, 8, "intruder", "?")
        assert s.lost == -1


# -- the probe changes nothing -----------------------------------------------------------


@pytest.mark.kernel
def test_sampling_changes_neither_queue_and_keeps_no_descriptor(runtime_dir):
    with Run(lesson("sysv-by-type")) as srun, Run(lesson("posix-priority")) as prun:
        sq = step_to(srun, 8).object_named("q")
        pq = step_to(prun, 7).object_named("q")
        before = sysv_ipc.MessageQueue(sq.key)
        stat0 = (before.current_messages, before.last_receive_pid, before.last_receive_time,
                 before.last_change_time)
        lines0 = open("/proc/sysvipc/msg").read()
        for _ in range(30):
            srun.sample()
            prun.sample()
        after = sysv_ipc.MessageQueue(sq.key)
        # THEN no message was taken (MSG_COPY copies) and no receive was recorded
        assert (after.current_messages, after.last_receive_pid, after.last_receive_time,
                after.last_change_time) == stat0
        assert open("/proc/sysvipc/msg").read() == lines0
        mq = posix_ipc.MessageQueue(pq.name)
        try:
            assert mq.current_messages == 5
        finally:
            mq.close()
        # AND this process (conductor and probe) holds no descriptor of the POSIX queue
        mine = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                if os.path.exists(f"/proc/self/fd/{fd}")]
        assert not [t for t in mine if t.startswith(pq.name)]
        # AND the lesson goes on exactly as it would have
        snap = prun.step()
        assert snap.ok and snap.process_named("receiver").state != "blocked"


# -- nothing left behind -----------------------------------------------------------------


FAILING = """
title = "fails on purpose"
[[process]]
name = "a"
[[object]]
name = "s"
kind = "sysv_msgq"
[[object]]
name = "p"
kind = "posix_mq"
[[step]]
process = "a"
action = "msgget"
object = "s"
create = true
narration = "x"
[[step]]
process = "a"
action = "mq_open"
object = "p"
create = true
narration = "x"
[[step]]
process = "a"
action = "msgsnd"
object = "s"
data = "left"
narration = "x"
expect = ["s.messages == 99"]
[[step]]
process = "a"
action = "mq_send"
object = "p"
data = "left"
narration = "x"
"""


@pytest.mark.kernel
def test_nothing_left_after_an_expect_failure(tmp_path, runtime_dir):
    path = tmp_path / "fails.toml"
    path.write_text(FAILING)
    r = ipcviz("run", str(path), "--headless", "--json",
               env={**os.environ, "IPCVIZ_RUNTIME_DIR": str(runtime_dir)})
    assert r.returncode == 1, r.stderr
    last = json.loads(r.stdout.splitlines()[-1])
    objs = {o["id"]: o for o in last["objects"]}
    assert objs["s"]["messages"] == 1 and objs["p"]["messages"] == 1
    assert sysv_gone(objs["s"]["key"]) and ipcs_line(objs["s"]["msqid"]) == {}
    assert posix_gone(objs["p"]["name"])
    assert not any(runtime_dir.glob("run-*"))


@pytest.mark.kernel
@pytest.mark.parametrize("name,step,kill_runner", [
    ("msgq/sysv-persistence", 3, True),  # the creator has exited, two messages wait
    ("msgq/posix-limits", 3, True),  # full queue, the sender asleep in mq_timedsend
    ("msgq/posix-limits", 3, False),  # only the conductor dies: the runner cleans up
])
def test_sigkill_of_the_conductor_then_clean_leaves_no_queue(name, step, kill_runner,
                                                             runtime_dir):
    proc = start_headless(name, runtime_dir, delay=0.2)
    try:
        snap = read_until_step(proc, step)
        run_id = only_run_id(runtime_dir)
        q = snap["objects"][0]
        assert q["present"] and q["messages"] > 0
        if kill_runner:
            os.kill(runner_pid(runtime_dir, run_id), signal.SIGKILL)
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    env = {**os.environ, "IPCVIZ_RUNTIME_DIR": str(runtime_dir)}
    if kill_runner:
        # Nobody is left to remove the queue: it outlives its run, only the manifest knows it
        assert not (sysv_gone(q["key"]) if q["kind"] == "sysv_msgq" else posix_gone(q["name"]))
        real = ipcviz("clean", env=env)
        assert real.returncode == 0 and "message queue" in real.stdout
        wait_until(lambda: marked_processes(run_id) == [], 5, "the run's processes to die")
    else:
        wait_until(lambda: not (runtime_dir / f"run-{run_id}").exists(), 5, "the runner")
    assert sysv_gone(q["key"]) if q["kind"] == "sysv_msgq" else posix_gone(q["name"])
    assert ipcviz("clean", env=env).stdout.strip() == "nothing to clean"


@pytest.mark.kernel
def test_whole_lessons_leave_no_queue(runtime_dir):
    for name in ("many-to-many", "posix-limits"):
        with Run(lesson(name)) as run:
            snap = step_to(run, len(run.scenario.steps))
            q = snap.object_named("q")
        assert sysv_gone(q.key) if q.kind == "sysv_msgq" else posix_gone(q.name)


@pytest.mark.kernel
def test_the_remover_removes_only_its_own_queue():
    from pathlib import Path

    from ipcviz.runtime.rundir import RunDir

    RD = RunDir("1dead", Path("/nonexistent/run-1dead"))
    key = 1 + secrets.randbelow(0x7FFFFFFE)
    foreign = sysv_ipc.MessageQueue(key, sysv_ipc.IPC_CREX, mode=0o600)
    other = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX, mode=0o600)
    try:
        # a key written down as another program's, an id whose key differs, and a key-only
        # entry written after the queue was made: none of them is ours
        assert ops.remove_sysv_queue({"key": key, "foreign": True}, RD) is None
        assert ops.remove_sysv_queue({"key": key + 1, "msqid": foreign.id}, RD) is None
        assert ops.remove_sysv_queue({"key": key, "t": time.time() + 60}, RD) is None
        assert not sysv_gone(key)
        # the id with its own key is
        text = ops.remove_sysv_queue({"key": key, "msqid": foreign.id}, RD)
        assert text and f"0x{key:08x}" in text and sysv_gone(key)
        assert ops.remove_sysv_queue({"key": key, "msqid": foreign.id}, RD) is None
        assert ops.remove_posix_queue({"name": "/not-ipcviz"}, RD) is None
    finally:
        for q in (foreign, other):
            try:
                q.remove()
            except sysv_ipc.ExistentialError:
                pass


# -- limits named with their values ------------------------------------------------------


def _one_step(action: str, extra: str, kind: str) -> str:
    opener = "msgget" if kind == "sysv_msgq" else "mq_open"
    return f"""
title = "limit"
[[process]]
name = "a"
[[object]]
name = "q"
kind = "{kind}"
[[step]]
process = "a"
action = "{opener}"
object = "q"
create = true
narration = "x"
[[step]]
process = "a"
action = "{action}"
object = "q"
narration = "x"
{extra}
"""


@pytest.mark.kernel
def test_a_message_over_msgmax_names_the_limit_and_its_value(runtime_dir):
    msgmax = int(open("/proc/sys/kernel/msgmax").read())
    text = _one_step("msgsnd", f'size = {msgmax + 1}\nexpect = ["step.errno == EINVAL"]',
                     "sysv_msgq")
    with Run(loads(text, "limit.toml", "custom/limit")) as run:
        snap = step_to(run, 1)
        snap = run.step()
        assert snap.ok and snap.outcome == "failed"
        detail = snap.log[-1].detail
        assert "msgmax" in detail and str(msgmax) in detail and str(msgmax + 1) in detail


@pytest.mark.kernel
def test_more_messages_than_msg_max_names_the_limit(runtime_dir):
    msg_max = int(open("/proc/sys/fs/mqueue/msg_max").read())
    name = f"/ipcviz.test.{os.getpid()}.{secrets.token_hex(3)}"
    # As an ordinary user (no CAP_SYS_RESOURCE) mq_open refuses more than msg_max messages.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        msg = "?"
        try:
            if os.geteuid() == 0:
                os.setresgid(65534, 65534, 65534)
                os.setresuid(65534, 65534, 65534)
            attr = (msg_max + 1, 128)
            try:
                fd = probe.mq_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600, attr)
                os.close(fd)
                probe.mq_unlink(name)
                msg = "created"
            except OSError as err:
                msg = str(ops._explain_mq_open(err, attr, name))
        finally:
            os.write(w, msg.encode())
            os._exit(0)
    os.close(w)
    got = os.read(r, 4096).decode()
    os.close(r)
    os.waitpid(pid, 0)
    assert f"msg_max = {msg_max}" in got and "/proc/sys/fs/mqueue/msg_max" in got, got
    assert posix_gone(name)
    # This process (root here) may or may not have CAP_SYS_RESOURCE, which lets mq_open pass
    # msg_max up to the kernel's hard limit: whichever the kernel says, the answer is honest.
    attr = (msg_max + 1, 128)
    try:
        fd = probe.mq_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600, attr)
    except OSError as err:
        assert f"msg_max = {msg_max}" in str(ops._explain_mq_open(err, attr, name))
    else:
        try:
            assert probe.mq_getattr(fd).mq_maxmsg == msg_max + 1
        finally:
            os.close(fd)
            probe.mq_unlink(name)
    assert posix_gone(name)


# -- the system view, the model ----------------------------------------------------------


@pytest.mark.kernel
def test_system_queues_lists_every_queue_like_ipcs_and_marks_ours(runtime_dir):
    foreign = sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX, mode=0o600)
    try:
        foreign.send(b"not ipcviz's")
        with Run(lesson("sysv-persistence")) as run:
            q = step_to(run, 2).object_named("q")
            def ipcs_ids() -> set[int]:
                out = subprocess.run(["ipcs", "-q"], capture_output=True, text=True).stdout
                return {int(f[1]) for f in (ln.split() for ln in out.splitlines())
                        if len(f) >= 6 and f[1].isdigit()}

            # other runs may make or remove queues meanwhile: bracket the reading
            before = ipcs_ids()
            listed = {s.msqid: s for s in system_ipc.system_queues()}
            after = ipcs_ids()
            assert before & after <= set(listed) <= before | after
            ours, theirs = listed[q.msqid], listed[foreign.id]
            assert ours.ours and ours.run_id == run.rundir.run_id and ours.object == "q"
            assert ours.messages == 2 and ours.key == q.key
            assert not theirs.ours and theirs.messages == 1 and theirs.run_id is None
    finally:
        foreign.remove()


def test_parsing_proc_sysvipc_msg():
    text = ("       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid"
            "  cgid      stime      rtime      ctime\n"
            " -12345678      65546   600          11          3 21421     7     0     0     0"
            "     0 1795570551          0 1795570550\n")
    line = probe.parse_proc_msg(text)[65546]
    assert line.key == (-12345678) & 0xFFFFFFFF and line.perms == 0o600
    assert (line.cbytes, line.qnum, line.lspid, line.lrpid) == (11, 3, 21421, 7)
    assert (line.stime, line.rtime, line.ctime) == (1795570551, 0, 1795570550)


def test_rebuilt_lists_follow_the_kernel_rules():
    def ev(op, key, text, by="a"):
        return {"op": op, "key": key, "size": len(text), "text": text, "by": by}

    sends = [ev("send", 1, "a"), ev("send", 5, "b"), ev("send", 1, "c"), ev("send", 5, "d")]
    posix, *_ = probe.rebuild(sends, by_priority=True)
    assert [m[2] for m in posix] == ["b", "d", "a", "c"]
    sysv, *_ = probe.rebuild(sends, by_priority=False)
    assert [m[2] for m in sysv] == ["a", "b", "c", "d"]
    msgs, sent, received, dups = probe.rebuild(
        [*sends, ev("receive", 5, "b"), ev("receive", 5, "b")], by_priority=True)
    assert [m[2] for m in msgs] == ["d", "a", "c"] and (sent, received, dups) == (4, 2, 1)


def test_queue_states_survive_a_json_trace():
    s = SysvQueueState("q", "sysv_msgq", key=7, msqid=9, messages=1, bytes=5,
                       contents=((1, 5, "hello", "sender"),), last_sender="sender")
    p = PosixQueueState("m", "posix_mq", name="/ipcviz.x.m", messages=None, present=False)
    from ipcviz.model.snapshot import Snapshot

    snap = Snapshot(index=0, step=0, total_steps=1, time=0.0, objects=(s, p))
    back = snapshot_from_dict(json.loads(json.dumps(snap.to_dict())))
    assert back.objects == (s, p)
    assert back.object_named("q").first_type == 1 and back.object_named("m").exists == "no"
    assert "hello" in s.describe() and "gone" in p.describe()
