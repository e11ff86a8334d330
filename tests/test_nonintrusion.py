"""The probe must not change what it observes.

A probe that held a pipe end would keep a reader from seeing EOF or a writer from getting
SIGPIPE; one that opened /proc/PID/fd/N would add a reader or writer of its own.
"""

from __future__ import annotations

import os
import re
import sys
import threading

import pytest

from ipcviz.runtime import Run
from ipcviz.scenario import load

from .conftest import SCENARIOS

_opened: list[str] = []
_recording = threading.Event()


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _recording.is_set() and args and isinstance(args[0], (str, bytes)):
        _opened.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


def _pipe_inodes_held_by_me() -> set[str]:
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("pipe:"):
            held.add(target)
    return held


@pytest.mark.kernel
def test_probe_never_opens_a_pipe_through_proc_and_keeps_no_end(runtime_dir):
    # GIVEN a run with a pipe held by two processes and a writer asleep on it
    scenario = load(SCENARIOS / "pipe/full-blocks-writer.toml")
    with Run(scenario) as run:
        run.start()
        snap = run.step()
        while snap.outcome != "blocked":
            snap = run.step()
        inode = f"pipe:[{snap.object_named('p').inode}]"
        mine_before = _pipe_inodes_held_by_me()
        # WHEN the probe samples many times
        _opened.clear()
        _recording.set()
        try:
            for _ in range(50):
                snap = run.sample()
        finally:
            _recording.clear()
        # THEN it read the fill through the processes' own ends, never by opening one
        assert snap.object_named("p").bytes == snap.object_named("p").capacity
        assert not [p for p in _opened if re.fullmatch(r"/proc/\d+/fd/\d+", p)]
        assert not [p for p in _opened if re.fullmatch(r"/proc/\d+/fd/\d+/?.*", p)]
        # AND it holds no end of the pipe afterwards
        assert inode not in _pipe_inodes_held_by_me()
        # AND it read the bytes in the buffer (tee through the reader's own end), and
        # closed its own pipe each time: no pipe of ours is left
        assert snap.object_named("p").contents
        assert _pipe_inodes_held_by_me() == mine_before


@pytest.mark.kernel
@pytest.mark.parametrize("lesson", ["pipe/eof", "pipe/sigpipe", "pipe/empty-blocks-reader"])
def test_eof_and_sigpipe_still_happen_under_heavy_sampling(lesson, runtime_dir):
    # GIVEN lessons whose point is EOF and SIGPIPE / WHEN a thread samples all the time
    scenario = load(SCENARIOS / f"{lesson}.toml")
    failed = []
    with Run(scenario) as run:
        run.start()
        stop = threading.Event()
        samples = []
        peeked = []

        def sampler():
            while not stop.is_set():
                samples.append(run.sample())

        t = threading.Thread(target=sampler, daemon=True)
        t.start()
        try:
            while not run.finished:
                snap = run.step()
                for _ in range(10):
                    samples.append(run.sample())  # the main thread samples too
                    peeked += [o.contents for o in samples[-1].objects
                               if getattr(o, "contents", None)]
                failed += [c for c in snap.checks if not c.ok]
        finally:
            stop.set()
            t.join(timeout=10)
    # THEN the readers still saw EOF and the writer still died of SIGPIPE (the expects)
    assert failed == []
    assert len(samples) > 10  # (the thread's count alone depends on the scheduler)
    # AND that while the probe was copying the bytes in the buffers with tee(2)
    if lesson == "pipe/eof":  # the others never hold bytes while a reader is there
        assert peeked
