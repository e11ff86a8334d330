"""Other local users are untrusted (issue 14): they can read `ps`, guess names, create
objects first and own directories.  The suite runs as root; the other user is `nobody`,
played by a forked child that drops its uid."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import posix_ipc
import pytest

from ipcviz.runtime import Run
from ipcviz.runtime.rundir import runtime_root
from ipcviz.scenario import loads

from .conftest import ROOT, ipcviz

NOBODY = 65534

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="plays another user: needs root")


def as_nobody(fn) -> None:
    """Run fn() in a forked child as uid/gid nobody; fail if it fails."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            os.umask(0)
            fn()
            code = 0
        except BaseException as err:  # noqa: BLE001 - report in the parent's assertion
            print(f"nobody: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _lesson(kind: str, create: str, open_: str, use: str) -> str:
    return f"""
title = "squat"
[[process]]
name = "a"
[[process]]
name = "b"
[[object]]
name = "x"
kind = "{kind}"
[[step]]
process = "a"
{create}
narration = "a creates x"
[[step]]
process = "b"
{open_}
narration = "b opens x by its name"
[[step]]
process = "b"
{use}
narration = "b uses x"
"""


LESSONS = {
    "posix_mq": _lesson(
        "posix_mq",
        'action = "mq_open"\nobject = "x"\ncreate = true',
        'action = "mq_open"\nobject = "x"\naccess = "read"\nnonblock = true',
        'action = "mq_receive"\nobject = "x"'),
    "shm": _lesson(
        "shm",
        'action = "shm_open"\nobject = "x"\nsize = 4096',
        'action = "shm_open"\nobject = "x"\ncreate = false',
        'action = "mmap"\nobject = "x"'),
    "sem": _lesson(
        "sem",
        'action = "sem_open"\nobject = "x"\nvalue = 0',
        'action = "sem_open"\nobject = "x"\ncreate = false',
        'action = "sem_trywait"\nobject = "x"'),
}

SECRET_WORD = b"attacker's message"


def _squat(kind: str, name: str) -> None:
    """As nobody: make `name` first, mode 0666, with something in it."""
    if kind == "posix_mq":
        q = posix_ipc.MessageQueue(name, posix_ipc.O_CREX, mode=0o666)
        q.send(SECRET_WORD)
        q.close()
    elif kind == "shm":
        m = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, mode=0o666, size=4096)
        os.pwrite(m.fd, SECRET_WORD, 0)
        m.close_fd()
    else:
        posix_ipc.Semaphore(name, posix_ipc.O_CREX, mode=0o666, initial_value=5).close()


def _foreign_intact(kind: str, name: str) -> bool:
    try:
        if kind == "posix_mq":
            q = posix_ipc.MessageQueue(name)
            try:
                return q.current_messages == 1
            finally:
                q.close()
        if kind == "shm":
            m = posix_ipc.SharedMemory(name)
            try:
                return os.pread(m.fd, len(SECRET_WORD), 0) == SECRET_WORD
            finally:
                m.close_fd()
        s = posix_ipc.Semaphore(name)
        try:
            return s.value == 5
        finally:
            s.close()
    except posix_ipc.ExistentialError:
        return False


def _unlink(kind: str, name: str) -> None:
    fn = {"posix_mq": posix_ipc.unlink_message_queue, "shm": posix_ipc.unlink_shared_memory,
          "sem": posix_ipc.unlink_semaphore}[kind]
    try:
        fn(name)
    except posix_ipc.ExistentialError:
        pass


@pytest.mark.kernel
@pytest.mark.parametrize("kind", sorted(LESSONS))
def test_a_squatted_posix_name_is_never_used_nor_removed(kind, runtime_dir):
    # GIVEN another user who learnt the name of the run's object (here: from the run's
    # own directory, as root can: the strongest guess) and made it first, 0666
    with Run(loads(LESSONS[kind], "squat.toml", "custom/squat")) as run:
        snap = run.start()
        name = run.rundir.object_name("x")
        as_nobody(lambda: _squat(kind, name))
        try:
            # WHEN the lesson creates, opens and uses it
            snaps = [snap]
            while not run.finished:
                snaps.append(run.step())
            # THEN creating fails, the later open fails too, nothing reaches the attacker's
            # object and nothing of it reaches the lesson
            create, open_, use = snaps[1:]
            assert create.errno == "EEXIST"
            assert open_.errno in ("ENOENT", "EACCES"), open_.outcome
            assert use.errno is not None, use.outcome
            assert not any(SECRET_WORD.decode() in str(e.detail) for e in use.log)
            assert _foreign_intact(kind, name)
        except BaseException:
            _unlink(kind, name)
            raise
    try:
        # and neither the end of the run nor `ipcviz clean` removes it
        assert _foreign_intact(kind, name)
        assert ipcviz("clean").returncode == 0
        assert _foreign_intact(kind, name)
    finally:
        _unlink(kind, name)


@pytest.mark.kernel
def test_posix_names_cannot_be_derived_from_ps(runtime_dir):
    with Run(loads(LESSONS["posix_mq"], "squat.toml", "custom/squat")) as run:
        run.start()
        snap = run.step()
        name = snap.object_named("x").name
        run_id = run.rundir.run_id
        # what any user can read: the command lines of every process of the system
        lines = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    lines.append(f.read().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
        assert any(run_id in line for line in lines)  # the run id is visible, as said
        tag = name.split(".")[-2]
        assert name != f"/ipcviz.{run_id}.x" and len(tag) >= 16
        assert not any(tag in line for line in lines)
        # nor in a world-readable place: the run directory is ours alone
        st = os.stat(run.rundir.path)
        assert st.st_uid == os.geteuid() and not st.st_mode & 0o077


# -- the removers: only this run's names, only our objects --------------------------------


def _dead_run(root: Path, run_id: str, lines: list[dict]) -> Path:
    """A run directory whose conductor is long gone, with these manifest lines."""
    d = root / f"run-{run_id}"
    (d / "fifo").mkdir(parents=True, mode=0o700)
    os.chmod(d, 0o700)
    (d / "run.json").write_text(json.dumps({"run_id": run_id, "conductor_pid": 1,
                                            "conductor_start": -1}))
    (d / "objects.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    return d


@pytest.mark.kernel
def test_clean_skips_other_runs_names_and_other_users_objects(runtime_dir):
    root = runtime_root()
    theirs = "/ipcviz.77dead01.0123456789abcdef.q"  # a name of this run, made by nobody
    other_run = "/ipcviz.99other.0123456789abcdef.q"  # ours, but another run's name
    as_nobody(lambda: _squat("posix_mq", theirs))
    q = posix_ipc.MessageQueue(other_run, posix_ipc.O_CREX, mode=0o600)
    q.close()
    try:
        _dead_run(root, "77dead01", [{"kind": "posix_mq", "name": theirs},
                                     {"kind": "posix_mq", "name": other_run},
                                     {"kind": "shm", "name": other_run},
                                     {"kind": "sem", "name": other_run}])
        r = ipcviz("clean")
        assert r.returncode == 0, r.stderr
        assert _foreign_intact("posix_mq", theirs)
        posix_ipc.MessageQueue(other_run).close()  # still there
    finally:
        _unlink("posix_mq", theirs)
        _unlink("posix_mq", other_run)


# -- the runtime directory ------------------------------------------------------------------


def _nobody_dir(path: Path) -> Path:
    path.mkdir(mode=0o777)
    os.chown(path, NOBODY, NOBODY)
    return path


def test_a_runtime_root_of_another_user_is_refused_in_one_line(tmp_path, monkeypatch):
    os.chmod(tmp_path, 0o755)
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.fifo"
    os.mkfifo(victim, 0o600)
    root = _nobody_dir(tmp_path / "rt")
    forged = root / "run-66forged"
    forged.mkdir()
    (forged / "run.json").write_text(json.dumps({"conductor_pid": 1, "conductor_start": -1}))
    (forged / "objects.jsonl").write_text(json.dumps({"kind": "fifo", "name": str(victim)}))
    for p in (forged, forged / "run.json", forged / "objects.jsonl"):
        os.chown(p, NOBODY, NOBODY)
    monkeypatch.setenv("IPCVIZ_RUNTIME_DIR", str(root))
    r = ipcviz("clean")
    assert r.returncode == 2, r
    assert r.stderr.count("\n") == 1 and "owned by uid 65534" in r.stderr, r.stderr
    assert stat.S_ISFIFO(os.lstat(victim).st_mode)
    assert forged.exists()


def test_xdg_runtime_dir_of_another_user_is_not_used(tmp_path, monkeypatch):
    os.chmod(tmp_path, 0o755)
    xdg = _nobody_dir(tmp_path / "xdg")
    monkeypatch.delenv("IPCVIZ_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(xdg))
    root = runtime_root()
    assert xdg not in root.parents and root == Path(f"/tmp/ipcviz-{os.geteuid()}")
    assert not (xdg / "ipcviz").exists()


def test_a_symlinked_runtime_root_is_refused_in_one_line(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    monkeypatch.setenv("IPCVIZ_RUNTIME_DIR", str(link))
    for args in (("clean",), ("run", "pipe/eof", "--headless")):
        r = ipcviz(*args)
        assert r.returncode == 2, (args, r)
        assert r.stderr.count("\n") == 1 and "symbolic link" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    assert list(real.iterdir()) == []


@pytest.mark.kernel
def test_clean_removes_nothing_outside_a_forged_run_of_our_root(tmp_path, runtime_dir):
    root = runtime_root()
    outside = tmp_path / "outside"
    outside.mkdir()
    for n in ("f", "g"):
        os.mkfifo(outside / n, 0o600)
    (outside / "run.json").write_text(json.dumps({"conductor_pid": 1, "conductor_start": -1}))
    d = _dead_run(root, "55forged", [{"kind": "fifo", "name": str(root / "run-55forged/fifo/f")},
                                     {"kind": "fifo", "name": str(outside / "g")}])
    (d / "fifo").rmdir()
    (d / "fifo").symlink_to(outside)  # fifo/ leads outside the run
    (outside / "objects.jsonl").write_text(
        json.dumps({"kind": "fifo", "name": str(outside / "f")}) + "\n")
    (root / "run-44linked").symlink_to(outside)  # a whole run directory that is a link
    r = ipcviz("clean")
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(outside)) == ["f", "g", "objects.jsonl", "run.json"]
    assert all(stat.S_ISFIFO(os.lstat(outside / n).st_mode) for n in ("f", "g"))
    assert not d.exists()  # the forged run itself is gone, through its own directory fd


# -- runs starting at once --------------------------------------------------------------------


@pytest.mark.kernel
def test_twelve_runs_started_at_once_all_finish_while_clean_sweeps(runtime_dir):
    env = dict(os.environ)
    runs = [subprocess.Popen([sys.executable, "-m", "ipcviz", "run", "pipe/eof", "--headless"],
                             cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(12)]
    cleans = 0
    try:
        while any(p.poll() is None for p in runs):
            assert ipcviz("clean").returncode == 0
            cleans += 1
        errors = [p.stderr.read().decode() for p in runs if p.returncode != 0]
        assert errors == [], errors
        assert cleans >= 1
    finally:
        for p in runs:
            if p.poll() is None:
                p.kill()
            p.wait()


# -- a full disk -------------------------------------------------------------------------------


@pytest.mark.kernel
def test_a_full_run_directory_disk_says_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        root = mnt / "rt"
        root.mkdir(mode=0o700)
        fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT, 0o600)  # fill it up
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        monkeypatch.setenv("IPCVIZ_RUNTIME_DIR", str(root))
        r = ipcviz("run", "pipe/eof", "--headless")
        assert r.returncode == 3, r
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
        assert "No space left" in r.stderr
        assert os.listdir(root) == []
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
