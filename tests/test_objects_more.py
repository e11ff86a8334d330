"""What the format newly says about pipes, queues and mappings (issue 16, item 3): the
parsers of the kernel's text, the loader's bounds on the new fields, and the probe's
readings cross-checked against the kernel by other means."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import pytest

from ipcviz.probe.msgq import parse_mq_file
from ipcviz.probe.shm import page_present, parse_smaps_block
from ipcviz.runtime import Run
from ipcviz.scenario import ScenarioError, load, loads

from .conftest import SCENARIOS

# as the kernel prints it: a mapping's first line and VmFlags end in a space
_SMAPS_LINES = [
    "7f0000000000-7f0000001000 rw-p 00000000 00:00 0",
    "Rss:                   4 kB",
    "Shared_Dirty:          0 kB",
    "Private_Dirty:         4 kB",
    "Anonymous:             4 kB",
    "VmFlags: rd wr mr mw me ac sd",
    "7f0000001000-7f0000003000 rw-s 00000000 00:01 1234        /dev/zero (deleted)",
    "Size:                  8 kB",
    "Rss:                   8 kB",
    "Shared_Dirty:          8 kB",
    "Private_Dirty:         0 kB",
    "Anonymous:             0 kB",
    "VmFlags: rd wr sh mr mw me ms sd",
]
SMAPS = "".join(line + (" \n" if not line.split()[0].endswith(":") or
                        line.startswith("VmFlags") else "\n") for line in _SMAPS_LINES)


def test_smaps_block_is_the_mapping_that_starts_at_the_address():
    # GIVEN two mappings / WHEN the second one's block is asked for
    block = parse_smaps_block(SMAPS, 0x7F0000001000)
    # THEN its permissions and page counts, not the first one's
    assert block == ("rw-s", {"Rss": 8, "Shared_Dirty": 8, "Private_Dirty": 0, "Anonymous": 0})
    assert parse_smaps_block(SMAPS, 0x7F0000000000)[0] == "rw-p"
    # AND an address inside a mapping, or of none, is no mapping of the lesson
    assert parse_smaps_block(SMAPS, 0x7F0000002000) is None


def test_mq_file_fields_as_the_kernel_writes_them():
    line = "QSIZE:5          NOTIFY:0     SIGNO:10    NOTIFY_PID:4242 \n"
    assert parse_mq_file(line) == {"QSIZE": 5, "NOTIFY": 0, "SIGNO": 10, "NOTIFY_PID": 4242}
    assert parse_mq_file("QSIZE:0 NOTIFY:0 SIGNO:0 NOTIFY_PID:0")["NOTIFY_PID"] == 0


def test_page_present_follows_pagemap_and_does_not_fault_a_page_in():
    # GIVEN a shared anonymous page of our own that nobody touched
    m = mmap.mmap(-1, mmap.PAGESIZE, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
    try:
        import ctypes
        addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
        # THEN it is absent, and asking twice does not make it present
        assert not page_present(os.getpid(), addr)
        assert not page_present(os.getpid(), addr)
        # WHEN it is written / THEN it is there
        m[0:1] = b"x"
        assert page_present(os.getpid(), addr)
    finally:
        del addr
        m.close()


LESSON = """
title = "t"
[[process]]
name = "a"
[[object]]
name = "{obj}"
kind = "{kind}"
[[step]]
process = "a"
action = "{action}"
narration = "n"
{args}
"""


@pytest.mark.parametrize("kind, obj, action, args, field", [
    ("pipe", "p", "poll", 'fd = 3\ntimeout_ms = -2', "timeout_ms"),
    ("pipe", "p", "poll", 'fd = 3\nevents = "err"', "events"),
    ("pipe", "p", "set_pipe_size", 'fd = 3\nsize = 99999999999', "size"),
    ("sysv_msgq", "q", "msgrcv", 'object = "q"\nsize = -1', "size"),
    ("posix_mq", "q", "mq_receive", 'object = "q"\ntimeout_ms = 600001', "timeout_ms"),
    ("posix_mq", "q", "mq_notify", 'object = "q"\nsignal = "SIGNOPE"', "signal"),
    ("anon", "m", "mmap_anon", 'object = "m"', "size"),
])
def test_new_fields_are_bounded_and_named_in_errors(kind, obj, action, args, field):
    text = LESSON.format(kind=kind, obj=obj, action=action, args=args)
    with pytest.raises(ScenarioError) as info:
        loads(text, "x.toml")
    # one line naming the file, the field's line and the field
    assert str(info.value).startswith("x.toml:"), info.value
    assert f": step[1].{field}: " in str(info.value), info.value


@pytest.mark.kernel
def test_anon_pages_and_values_agree_with_smaps_and_mem_read_directly(runtime_dir):
    # GIVEN the shared-vs-private lesson, after the child wrote into both mappings
    scenario = load(SCENARIOS / "shm/shared-vs-private.toml")
    with Run(scenario) as run:
        run.start()
        snap = run.step()
        while snap.step < 7:
            snap = run.step()
        # THEN every row is what /proc/PID/smaps and /proc/PID/mem say, read here apart
        for oid in ("s", "c"):
            o = snap.object_named(oid)
            assert o.mapped_by == ("parent", "child")
            for name, rss, sd, pd, an, value in o.rows():
                pid = snap.process_named(name).pid
                perms, kb = parse_smaps_block(Path(f"/proc/{pid}/smaps").read_text(),
                                              o.address)
                assert perms.endswith("s") == (oid == "s")
                assert (rss, sd, pd, an) == (kb["Rss"], kb["Shared_Dirty"],
                                             kb["Private_Dirty"], kb["Anonymous"])
                with open(f"/proc/{pid}/mem", "rb") as mem:
                    mem.seek(o.address)
                    assert value == int.from_bytes(mem.read(8), "little", signed=True)


SELECT = """
title = "t"
[[process]]
name = "parent"
[[process]]
name = "child"
parent = "parent"
[[object]]
name = "p"
kind = "pipe"
[[step]]
process = "parent"
action = "pipe"
object = "p"
narration = "n"
[[step]]
process = "parent"
action = "fork"
child = "child"
narration = "n"
[[step]]
process = "parent"
action = "select"
fd = "p.read"
narration = "n"
expect = ["step.outcome == blocked", "parent.state == blocked"]
[[step]]
process = "child"
action = "write"
fd = "p.write"
data = "x"
narration = "n"
expect = ["parent.state == sleeping", "parent.result == 1", "parent.ready == read"]
"""


@pytest.mark.kernel
def test_a_select_without_timeout_is_blocked_on_its_own_nfds_then_woken(runtime_dir):
    # GIVEN a select() for reading on an empty pipe
    with Run(loads(SELECT, "select.toml")) as run:
        run.start()
        snaps = [run.step() for _ in range(4)]
    # THEN the kernel showed the parent asleep in select (or pselect6) with nfds = fd + 1
    asleep = snaps[2].process_named("parent")
    assert asleep.syscall in ("select", "pselect6")
    fd = next(f.fd for f in asleep.fds if f.object == "p" and f.end == "read")
    assert asleep.syscall_args[0] == fd + 1
    # AND the child's write woke it with the read end ready
    assert all(c.ok for s in snaps for c in s.checks), [c for s in snaps for c in s.checks]
