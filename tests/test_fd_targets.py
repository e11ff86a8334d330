"""fds[].target is the raw readlink of /proc/PID/fd/N, even when another process changed it.

A holder's fd table changes only through its own calls, but the text readlink gives does
not: once *another* process unlinks the name, the holder's link reads "NAME (deleted)".
"""

from __future__ import annotations

import os

import pytest

from ipcviz.runtime import Run
from ipcviz.scenario import loads

_HEAD = """
title = "another process unlinks the name"
[[process]]
name = "owner"
[[process]]
name = "holder"
[[object]]
name = "o"
kind = "{kind}"
"""

_STEP = """
[[step]]
process = "{process}"
action = "{action}"
object = "o"
narration = "x"
"""

_LESSONS = {
    "posix_mq": [("owner", "mq_open", 'create = true\naccess = "write"'),
                 ("holder", "mq_open", 'access = "read"'),
                 ("owner", "mq_unlink", "")],
    "shm": [("owner", "shm_open", "size = 4096"),
            ("holder", "shm_open", "create = false"),
            ("owner", "shm_unlink", "")],
}


def _lesson(kind: str) -> str:
    text = _HEAD.format(kind=kind)
    for process, action, extra in _LESSONS[kind]:
        text += _STEP.format(process=process, action=action) + extra + "\n"
    return text


@pytest.mark.kernel
@pytest.mark.parametrize("kind", sorted(_LESSONS))
def test_holder_fd_reads_deleted_after_another_process_unlinks(kind, runtime_dir):
    """The holder's fd shows "NAME (deleted)" exactly as readlink does, still on the object."""
    scenario = loads(_lesson(kind), "unlink.toml", "custom/unlink")
    with Run(scenario) as run:
        # GIVEN the holder has the object open, read once into its fd table
        snap = run.start()
        while snap.step < 2:
            snap = run.step()
        before = next(f for f in snap.process_named("holder").fds if f.object == "o")
        assert not before.target.endswith(" (deleted)")
        # WHEN another process removes the name (the holder does nothing)
        snap = run.step()
        assert snap.ok and snap.step == 3
        # THEN the holder's fd reads what the kernel says now
        holder = snap.process_named("holder")
        fd = next(f for f in holder.fds if f.fd == before.fd)
        assert fd.target == os.readlink(f"/proc/{holder.pid}/fd/{fd.fd}")
        assert fd.target == before.target + " (deleted)"
        # ... and is still shown as a descriptor on the same object
        assert fd.object == "o"
        assert fd.end == before.end
