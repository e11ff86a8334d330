"""Signals: a process's sets come with every process sample (/proc/PID/status: SigPnd,
ShdPnd, SigBlk, SigIgn, SigCgt, SigQ -- see sampler.py).  Here: the pseudo-terminal.

A pty is read without touching it: who holds each side from the fd tables (the master's
fdinfo tty-index tells one pty from another, all masters readlink to /dev/ptmx); whose
controlling terminal it is, its foreground process group and the session from
/proc/PID/stat (tty_nr, tpgid, pgrp, session) against stat() of /dev/pts/N.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..model.signals import PtyState
from ..model.snapshot import EXITED, ZOMBIE, Process
from . import procfs

if TYPE_CHECKING:
    from .kinds import Record, WaitsOn
    from .sampler import Sampler

# The kernel's default action for signals, where a settled signal leaves no trace to read:
# "ignore" for these (SIG_KERNEL_IGNORE_MASK in include/linux/signal.h), and SIGCONT's
# "continue" happens when it is sent, so it too is gone once delivered.  The full table,
# measured on this system, is signal_table.py's.
DEFAULT_DISCARDED = ("SIGCHLD", "SIGURG", "SIGWINCH", "SIGCONT")
# Terminal stops (SIG_KERNEL_STOP_MASK less SIGSTOP): the kernel discards them instead of
# stopping a process of an orphaned process group.
TTY_STOPS = ("SIGTSTP", "SIGTTIN", "SIGTTOU")


def stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: [state, ppid, pgrp, session, tty_nr, tpgid, ...]."""
    try:
        text = procfs._read(f"/proc/{pid}/stat")
    except (procfs.NoSuchProcess, OSError):
        return None
    return text[text.rindex(")") + 2:].split()


def decode_dev(nr: int) -> tuple[int, int]:
    """(major, minor) of tty_nr (new_encode_dev: minor bits 31..20 and 7..0, major 19..8)."""
    return (nr >> 8) & 0xFFF, (nr & 0xFF) | ((nr >> 12) & 0xFFF00)


def _tty_index(pid: int, fd: int) -> int | None:
    try:
        text = procfs._read(f"/proc/{pid}/fdinfo/{fd}")
    except (procfs.NoSuchProcess, OSError):
        return None
    for line in text.splitlines():
        if line.startswith("tty-index:"):
            return int(line.split()[1])
    return None


def probe_pty(sampler: Sampler, rec: Record, processes: tuple[Process, ...]) -> PtyState:
    oid, slave = rec["id"], rec.get("slave", "")
    master_target, index = rec.get("master_target", "/dev/ptmx"), rec.get("tty_index")
    masters, slaves = [], []
    live = [p for p in processes if p.state not in (ZOMBIE, EXITED)]
    for p in live:
        for f in p.fds:
            if f.target == slave:
                slaves.append(f"{p.name}:{f.fd}")
            elif f.target == master_target and (index is None
                                                or _tty_index(p.pid, f.fd) == index):
                masters.append(f"{p.name}:{f.fd}")
    try:
        rdev = os.stat(slave).st_rdev  # stat: opens nothing
        dev = (os.major(rdev), os.minor(rdev))
    except OSError:
        dev = None  # the pty is gone
    controlling, fg_pgid, leader = [], None, None
    info = {}
    for p in live:
        sf = stat_fields(p.pid)
        if sf is None:
            continue
        pgrp, session, tty_nr, tpgid = int(sf[2]), int(sf[3]), int(sf[4]), int(sf[5])
        info[p.name] = pgrp
        if dev is not None and tty_nr and decode_dev(tty_nr) == dev:
            controlling.append(p.name)
            if tpgid > 0:
                fg_pgid = tpgid
            if session == p.pid:
                leader = p.name
    foreground = tuple(n for n, g in info.items() if fg_pgid is not None and g == fg_pgid)
    return PtyState(oid, "pty", slave, tuple(masters), tuple(slaves), tuple(controlling),
                    foreground, fg_pgid, leader, hung_up=not masters)


PROBES = {"pty": probe_pty}
WAITS_ON: list[WaitsOn] = []
