"""The /proc parsers, on fake contents, and cross-checked against the real files."""

from __future__ import annotations

import os
import signal

from ipcviz.probe import procfs, syscalls

STAT = ("1234 (a (weird) name) S 1200 1234 1234 0 -1 4194560 120 0 0 0 1 2 0 0 20 0 1 0 "
        "55555 12345678 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 "
        "0 0 0 0 0 0 0 13")


def test_stat_survives_parentheses_and_spaces_in_the_name():
    st = procfs.parse_stat(STAT)
    assert (st.state, st.ppid, st.pgid, st.sid, st.start_time) == ("S", 1200, 1234, 1234, 55555)
    assert st.exit_code == 13


def test_signal_masks_are_bit_n_minus_1():
    text = ("Name:\tx\nSigQ:\t2/96364\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000200\n"
            "SigBlk:\t0000000000000200\nSigIgn:\t0000000000001000\nSigCgt:\t0000000000000002\n")
    s = procfs.parse_status_signals(text)
    assert s.shared_pending == {signal.SIGUSR1} and s.blocked == {signal.SIGUSR1}
    assert s.ignored == {signal.SIGPIPE} and s.caught == {signal.SIGINT}
    assert (s.queued, s.queue_limit) == (2, 96364)
    assert procfs.names(s.ignored) == ("SIGPIPE",)


def test_syscall_file_forms():
    assert procfs.parse_syscall("running\n").running
    sc = procfs.parse_syscall("1 0x4 0x7ffd 0x1000 0x0 0x0 0x0 0x7ffd 0x7f00\n")
    assert (sc.running, sc.number, sc.args[:3]) == (False, 1, (4, 0x7FFD, 0x1000))
    assert procfs.parse_syscall("-1 0x7ffd 0x7f00").number is None


def test_fdinfo_flags_give_the_pipe_end():
    assert procfs.access_mode_end(procfs.parse_fdinfo_flags("pos:\t0\nflags:\t02000001\n")) \
        == "write"
    assert procfs.access_mode_end(procfs.parse_fdinfo_flags("pos:\t0\nflags:\t02000000\n")) \
        == "read"


def test_readers_agree_with_the_real_proc_of_this_process():
    me = procfs.read_stat(os.getpid())
    assert me.ppid == os.getppid() and me.state == "R"
    r, w = os.pipe()
    pd = procfs.ProcDir(os.getpid())  # the sampler's own path: fd table and fdinfo through it
    try:
        fds = procfs.read_fds_at(pd)
        ino = os.fstat(r).st_ino
        assert fds[r] == f"pipe:[{ino}]" and fds[w] == f"pipe:[{ino}]"
        assert procfs.access_mode_end(procfs.parse_fdinfo_flags(pd.read(f"fdinfo/{w}"))) \
            == "write"
        assert procfs.access_mode_end(procfs.parse_fdinfo_flags(pd.read(f"fdinfo/{r}"))) \
            == "read"
    finally:
        pd.close()
        os.close(r)
        os.close(w)


def test_syscall_tables_know_the_blocking_calls_of_both_architectures():
    assert syscalls.name(0, "x86_64") == "read" and syscalls.name(63, "aarch64") == "read"
    assert syscalls.name(1, "x86_64") == "write" and syscalls.name(64, "aarch64") == "write"
    assert syscalls.name(257, "x86_64") == "openat" and syscalls.name(56, "aarch64") == "openat"
    assert syscalls.name(9999, "x86_64") == "syscall_9999"
    assert syscalls.numbers("msgsnd", "msgrcv", machine="aarch64") == {189, 188}
