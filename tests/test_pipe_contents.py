"""The bytes in a pipe, read without consuming them (tee(2) from a borrowed read end).

Real kernel, no mocks: the probe's preview must equal what was written, leave every byte
for the lesson's own read(), and keep no end of anything (the EOF side is in
tests/test_nonintrusion.py).
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import termios

import pytest

from ipcviz.model.pipe import NO_READER, PEEK, PipeState
from ipcviz.model.timeline import read_trace
from ipcviz.probe.pipe_io import PidFds, peek_pipe, read_pipe, tee_preview
from ipcviz.runtime import Run
from ipcviz.scenario import load

from .conftest import SCENARIOS


def fionread(fd: int) -> int:
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


def pipe_fds() -> set[str]:
    """pipe:[INODE] targets of this test process's own fds."""
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("pipe:"):
            out.add(f"{fd}->{target}")
    return out


# -- tee on a pipe of our own ---------------------------------------------------------------


def test_tee_preview_copies_without_consuming():
    # GIVEN a pipe with known bytes in it (binary, a NUL, more than the preview)
    r, w = os.pipe()
    try:
        data = bytes(range(256)) + b"tail" * 100
        os.write(w, data)
        before = pipe_fds()
        # WHEN the preview is taken
        seen = tee_preview(r)
        # THEN it is the first PEEK bytes, the pipe still holds every byte, no fd is left
        assert seen == data[:PEEK]
        assert fionread(r) == len(data)
        assert pipe_fds() == before
        assert os.read(r, len(data) + 1) == data
        # AND an empty pipe with a writer gives no bytes, at once (never blocks)
        assert tee_preview(r) == b""
    finally:
        os.close(r)
        os.close(w)


def test_tee_preview_refuses_a_write_end():
    # GIVEN a write end / WHEN tee'd from / THEN EBADF, and our own pipe is closed again
    r, w = os.pipe()
    try:
        os.write(w, b"x")
        before = pipe_fds()
        with pytest.raises(OSError) as err:
            tee_preview(w)
        assert err.value.errno == errno.EBADF
        assert pipe_fds() == before
    finally:
        os.close(r)
        os.close(w)


# -- in a run: the lesson reads every byte the probe saw --------------------------------------


@pytest.mark.kernel
def test_snapshot_contents_are_the_written_bytes_and_the_read_gets_them_all(runtime_dir):
    # GIVEN pipe/eof after the parent wrote "last words" (10 bytes) and closed its end
    scenario = load(SCENARIOS / "pipe/eof.toml")
    with Run(scenario) as run:
        run.start()
        for _ in range(4):
            snap = run.step()
        assert snap.action == "write"
        p = snap.object_named("p")
        # THEN the snapshot of the step holds exactly those bytes
        assert p.bytes == 10 and p.contents_bytes() == b"last words"
        assert p.contents_missing is None
        reader = next(pr for pr in snap.processes if pr.name == "forgetful")
        fd = next(f.fd for f in reader.fds if f.target == f"pipe:[{p.inode}]" and
                  f.end == "read")
        pidfds = PidFds()
        try:
            # WHEN the probe looks many times, and tees itself through the reader's end
            fill_before = read_pipe(pidfds, reader.pid, fd)[0]
            for _ in range(20):
                assert run.sample().object_named("p").contents_bytes() == b"last words"
            assert peek_pipe(pidfds, reader.pid, fd) == b"last words"
            # THEN FIONREAD is unchanged: nothing was consumed
            assert read_pipe(pidfds, reader.pid, fd)[0] == fill_before == 10
        finally:
            pidfds.close()
        # AND the lesson's own read() gets all 10 bytes (its expect checks the data)
        while snap.action != "read":
            snap = run.step()
        assert snap.process == "forgetful" and snap.result == 10
        assert [c for c in snap.checks if not c.ok] == []
        p = snap.object_named("p")
        assert p.bytes == 0 and p.contents == ""


@pytest.mark.kernel
def test_a_full_pipe_shows_a_preview_and_its_writer_stays_blocked(runtime_dir):
    # GIVEN pipe/full-blocks-writer with the writer asleep on a full pipe
    scenario = load(SCENARIOS / "pipe/full-blocks-writer.toml")
    with Run(scenario) as run:
        run.start()
        snap = run.step()
        while snap.outcome != "blocked":
            snap = run.step()
        # WHEN the probe samples many times
        for _ in range(20):
            snap = run.sample()
        p = snap.object_named("p")
        # THEN it shows the first PEEK bytes, and the pipe is still full: the writer still
        # sleeps (a tee that consumed would have made room and woken it)
        assert len(p.contents_bytes()) == PEEK
        assert p.bytes == p.capacity
        assert snap.process_named("writer").state == "blocked"
        # AND the lesson still runs to its end with every check true
        failed = []
        while not run.finished:
            failed += [c for c in run.step().checks if not c.ok]
        assert failed == []


@pytest.mark.kernel
def test_no_read_end_left_says_why(runtime_dir):
    # GIVEN pipe/sigpipe once the last reader closed / THEN the contents are unknown, said why
    scenario = load(SCENARIOS / "pipe/sigpipe.toml")
    with Run(scenario) as run:
        run.start()
        seen = []
        while not run.finished:
            p = run.step().object_named("p")
            if p is not None and p.readers == 0 and p.writers:
                seen.append(p)
        assert seen and all(p.contents is None and p.contents_missing == NO_READER
                            for p in seen)


def test_old_traces_load_without_contents():
    # GIVEN a trace recorded before the field existed / THEN it loads, contents unknown
    from pathlib import Path

    trace = Path(__file__).parent / "app" / "traces" / "pipe-full-blocks-writer.jsonl"
    snaps = read_trace(trace)
    pipes = [o for s in snaps for o in s.objects if isinstance(o, PipeState)]
    assert pipes and all(o.contents is None and o.contents_missing is None for o in pipes)


def test_contents_round_trip_through_a_trace_and_are_checked(tmp_path):
    # GIVEN a snapshot whose pipe holds bytes, and one whose reason says why not
    from ipcviz.model.snapshot import Snapshot
    from ipcviz.model.timeline import TraceError, write_trace_line

    full = PipeState("p", "pipe", inode=7, bytes=3, contents=b"a\0\n".hex())
    none = PipeState("q", "pipe", inode=8, contents_missing=NO_READER)
    path = tmp_path / "t.jsonl"
    with path.open("w") as out:
        write_trace_line(out, Snapshot(0, 0, 1, 0.0, objects=(full, none)))
    # WHEN read back / THEN the same bytes and reason
    (snap,) = read_trace(path)
    assert snap.object_named("p").contents_bytes() == b"a\0\n"
    assert snap.object_named("q").contents_missing == NO_READER
    # AND a trace with contents that are not text is refused, naming the field
    path.write_text(path.read_text().replace('"contents":"61000a"', '"contents":[1]'))
    with pytest.raises(TraceError, match=r"objects\[0\]\.contents: a text expected"):
        read_trace(path)
    # AND text that is not hex (an edited trace) is shown as unknown, never raises
    assert PipeState("p", "pipe", contents="zz").contents_bytes() is None


def test_a_read_end_that_cannot_be_borrowed_says_what_the_kernel_said():
    """A holder whose fd cannot be borrowed (here: closed since the fd table was read) is
    not 'no reader': the reason names the call and the errno the kernel gave."""
    from ipcviz.probe.pipe import contents
    from ipcviz.probe.sampler import Sampler

    # GIVEN a read end that existed and is closed now (moved to a number nothing reuses)
    r, w = os.pipe()
    gone = 850
    os.dup2(r, gone)
    for fd in (r, w, gone):
        os.close(fd)
    r = gone
    sampler = Sampler()
    try:
        # WHEN the probe asks for the bytes through it
        hexed, why = contents(sampler, (os.getpid(), r), 5)
    finally:
        sampler.close()
    # THEN nothing is shown, and the reason is the kernel's
    assert hexed is None and why == "pidfd_getfd: EBADF"
