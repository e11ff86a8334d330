"""The call site behind the libc wrapper (ipcviz.probe.callsite), on real C programs
blocked in read(), semop() and msgrcv(): the line is the marked line of the source."""

from __future__ import annotations

import ctypes
import os

import pytest

from ipcviz.probe import callsite

from .cprogs import compile_c, marker_line, running, wait_asleep

pytestmark = pytest.mark.kernel

IPC_RMID = 0
_libc = ctypes.CDLL(None, use_errno=True)


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    out = tmp_path_factory.mktemp("c")
    return {debug: compile_c("blocked", out, debug) for debug in (True, False)}


def _remove(call: str, ident: int) -> None:
    """IPC_RMID of the program's own object (it wakes with EIDRM and exits)."""
    if call == "semop":
        _libc.semctl(ident, 0, IPC_RMID)
    elif call == "msgrcv":
        _libc.msgctl(ident, IPC_RMID, None)


CALLS = ["read", "semop", "msgrcv"]
# glibc's semop() is semtimedop(…, NULL): the kernel names the call the program sleeps in
KERNEL_NAME = {"read": "read", "semop": "semtimedop", "msgrcv": "msgrcv"}


@pytest.mark.parametrize("call", CALLS)
def test_debug_build_gives_the_line_of_the_call(programs, call):
    # GIVEN the -g build asleep in CALL (as the kernel says)
    with running([str(programs[True]), call]) as proc:
        first = proc.stdout.readline().strip()
        try:
            wait_asleep(proc.pid, KERNEL_NAME[call])
            # WHEN the call site is looked up from /proc/PID/syscall alone
            site = callsite.call_site(proc.pid)
        finally:
            if call != "read":
                _remove(call, int(first))
    # THEN it is the marked line of blocked.c, in the function that made the call
    assert site is not None
    assert site.file is not None and os.path.basename(site.file) == "blocked.c"
    assert site.line == marker_line("blocked", f"CALL:{call}")
    assert site.function == f"wait_{call}"
    assert site.binary == str(programs[True])
    assert site.depth >= 1  # at least the libc wrapper was unwound


@pytest.mark.parametrize("call", ["read", "msgrcv"])
def test_build_without_debug_info_gives_the_function_only(programs, call):
    with running([str(programs[False]), call]) as proc:
        first = proc.stdout.readline().strip()
        try:
            wait_asleep(proc.pid, KERNEL_NAME[call])
            site = callsite.call_site(proc.pid)
        finally:
            if call != "read":
                _remove(call, int(first))
    assert site is not None
    assert site.function == f"wait_{call}"
    assert site.file is None and site.line is None
    assert site.describe() == f"wait_{call}()"


def test_a_gone_process_or_a_running_one_gives_none(programs):
    assert callsite.call_site(2**22 + 12345) is None  # beyond pid_max: no such process
    assert callsite.call_site(os.getpid()) is None  # this one is running: no syscall regs


def test_registers_of_proc_syscall():
    text = "0 0x3 0x7ffd 0x1 0x0 0x0 0x0 0x7ffc1000 0x7f00aa\n"
    assert callsite.regs_from_syscall(text) == {"sp": 0x7FFC1000, "pc": 0x7F00AA}
    assert callsite.regs_from_syscall("running\n") is None
    assert callsite.regs_from_syscall("-1 0x7ffc1000 0x7f00aa\n") is None


def test_maps_keep_file_backed_mappings_only():
    text = ("55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234 /usr/bin/prog\n"
            "55d0c0001000-55d0c0002000 r-xp 00001000 08:01 1234 /usr/bin/prog\n"
            "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n"
            "7f0000000000-7f0000001000 rw-p 00000000 00:00 0\n")
    maps = callsite.parse_maps(text)
    assert [(m.start, m.offset, m.inode, m.path) for m in maps] == [
        (0x55D0C0000000, 0, 1234, "/usr/bin/prog"),
        (0x55D0C0001000, 0x1000, 1234, "/usr/bin/prog")]


def test_aarch64_leaf_without_x30_is_unknown():
    # GIVEN a leaf wrapper's row (aarch64): CFA = sp, no rule for x30 (it keeps its value)
    from elftools.dwarf.callframe import CFARule

    row = {"pc": 0, "cfa": CFARule(reg=31, offset=0)}
    # WHEN only sp is known (/proc shows no x30)
    with pytest.raises(callsite._Unwound):
        callsite._step(row, 30, {31: 0x1000}, 31, -1)
    # THEN with x30 given (a tracer's registers) the caller's pc is x30
    regs = callsite._step(row, 30, {31: 0x1000, 30: 0x4242}, 31, -1)
    assert regs[30] == 0x4242 and regs[31] == 0x1000


def test_given_registers_as_a_tracer_has_them(programs):
    """The trace engine passes the registers it read; the answer is the same, and the
    binary's tables are cached under its path and build-id."""
    with running([str(programs[True]), "read"]) as proc:
        proc.stdout.readline()
        wait_asleep(proc.pid, "read")
        with open(f"/proc/{proc.pid}/syscall") as f:
            regs = callsite.regs_from_syscall(f.read())
        from_regs = callsite.call_site(proc.pid, regs=regs)
        from_proc = callsite.call_site(proc.pid)
    assert from_regs is not None and from_regs == from_proc
    assert from_regs.line == marker_line("blocked", "CALL:read")
    keys = [k for k in callsite._CACHE if k[0] == str(programs[True])]
    assert keys and keys[0][1]  # gcc wrote a build-id note; it is part of the key
