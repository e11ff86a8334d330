"""FIFOs: the probe's readings against stat() and /proc read directly, the manifest, and the
rule that the probe never opens a FIFO (that would be the partner of a process asleep in
open())."""

from __future__ import annotations

import os
import stat
import sys
import threading
from pathlib import Path

import pytest

from ipcviz.runtime import Run  # first: ipcviz.probe imports the runtime
from ipcviz.probe import syscalls  # isort: skip
from ipcviz.probe.fifo import read_user_string  # isort: skip
from ipcviz.runtime.ops.fifo import remove_fifo
from ipcviz.scenario import load, loads

from .conductor_helpers import run_until
from .conftest import SCENARIOS

_opened: list[str] = []
_recording = threading.Event()


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _recording.is_set() and args and isinstance(args[0], (str, bytes)):
        _opened.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.mark.kernel
def test_fifo_name_and_buffer_agree_with_stat_and_proc(runtime_dir):
    # GIVEN fifo/unrelated after the writer wrote 15 bytes (step 4)
    with Run(load(SCENARIOS / "fifo/unrelated.toml")) as run:
        snap = run_until(run, 4)
        f = snap.object_named("f")
        # THEN stat() of the path, read here, says what the probe said: a FIFO, size 0,
        # mode 0600, in a 0700 directory of the run
        st = os.stat(f.path)
        assert stat.S_ISFIFO(st.st_mode) and f.file_type == "p"
        assert st.st_size == f.size == 0
        assert stat.S_IMODE(st.st_mode) == 0o600 and f.mode == "0600"
        assert stat.S_IMODE(os.stat(os.path.dirname(f.path)).st_mode) == 0o700
        assert st.st_ino == f.inode
        # AND the fds that /proc shows for each process are the probe's readers and writers
        writer, reader = snap.process_named("writer"), snap.process_named("reader")
        targets = {int(n): os.readlink(f"/proc/{writer.pid}/fd/{n}")
                   for n in os.listdir(f"/proc/{writer.pid}/fd")}
        assert f.path in targets.values()
        assert f.writer_fds == tuple(f"writer:{n}" for n, t in targets.items() if t == f.path)
        assert f.bytes == 15 and f.capacity and f.capacity >= 4096
        # AND it is in the run's manifest, written before it was created
        assert next(e for e in run.rundir.objects() if e["kind"] == "fifo")["name"] == f.path
        assert reader.state == "sleeping"
        path = f.path
    # AND it is gone with the run
    assert not os.path.exists(path)


@pytest.mark.kernel
def test_probe_never_opens_a_fifo_a_process_waits_to_open(runtime_dir):
    # GIVEN a reader asleep in open(O_RDONLY) of a FIFO nobody has open for writing
    with Run(load(SCENARIOS / "fifo/open-blocks.toml")) as run:
        snap = run_until(run, 2)
        assert snap.outcome == "blocked"
        path = snap.object_named("f").path
        pid = snap.process_named("reader").pid
        # WHEN the probe samples many times
        _opened.clear()
        _recording.set()
        try:
            for _ in range(50):
                snap = run.sample()
        finally:
            _recording.clear()
        # THEN it never opened the FIFO (nor anything under the FIFO directory)
        assert not [p for p in _opened if os.path.realpath(p) == os.path.realpath(path)]
        assert not [p for p in _opened if "/fifo/" in p]
        # AND the reader still sleeps in openat() waiting for a partner, read from /proc here
        text = Path(f"/proc/{pid}/stat").read_text()
        assert text[text.rindex(")") + 2] == "S"
        nr = int(Path(f"/proc/{pid}/syscall").read_text().split()[0])
        assert syscalls.name(nr) in ("openat", "open")
        f = snap.object_named("f")
        assert f.writers == 0 and f.readers == 0 and f.opening_readers == ("reader",)
        assert snap.process_named("reader").waits_on == "f"
        # AND what the probe read from the reader's memory is the path it is opening
        args = [int(a, 16) for a in Path(f"/proc/{pid}/syscall").read_text().split()[1:3]]
        assert read_user_string(pid, args[1]) == path
        # AND the next step (a writer opening) is what wakes it, not the probe
        snap = run.step()
        assert snap.process_named("reader").state == "sleeping"
        assert snap.object_named("f").readers == 1


@pytest.mark.kernel
def test_a_writer_waiting_in_open_is_not_woken_by_sampling(runtime_dir):
    # GIVEN a writer asleep in open(O_WRONLY), nobody reading (fifo/unrelated step 2)
    with Run(load(SCENARIOS / "fifo/unrelated.toml")) as run:
        snap = run_until(run, 2)
        for _ in range(50):
            snap = run.sample()
        # THEN it is still waiting for a reader
        assert snap.process_named("writer").state == "blocked"
        assert snap.object_named("f").opening_writers == ("writer",)
        assert snap.object_named("f").readers == 0


def test_the_remover_removes_only_fifos(tmp_path):
    from ipcviz.runtime.rundir import RunDir

    rd = RunDir("1dead", tmp_path / "run-1dead")
    rd.fifo_dir.mkdir(parents=True, mode=0o700)
    fifo = rd.fifo_dir / "f"
    os.mkfifo(fifo, 0o600)
    plain = rd.fifo_dir / "plain"
    plain.write_text("not a fifo")
    outside = tmp_path / "g"
    os.mkfifo(outside, 0o600)
    assert remove_fifo({"kind": "fifo", "name": str(fifo)}, rd) == f"fifo {fifo}"
    assert not fifo.exists()
    assert remove_fifo({"kind": "fifo", "name": str(fifo)}, rd) is None  # already gone
    assert remove_fifo({"kind": "fifo", "name": str(plain)}, rd) is None
    assert plain.exists()
    assert remove_fifo({"kind": "fifo", "name": str(outside)}, rd) is None  # not the run's
    assert outside.exists()


def test_open_is_validated_by_the_loader():
    text = """
title = "t"
[[process]]
name = "a"
[[object]]
name = "f"
kind = "fifo"
[[step]]
process = "a"
action = "open"
object = "f"
mode = "append"
narration = "n"
"""
    with pytest.raises(Exception) as err:
        loads(text)
    assert "mode" in str(err.value) and "read, write" in str(err.value).replace("|", ", ")
