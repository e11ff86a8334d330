"""Small, named readers of /proc files.  Parsers take text, so they are tested on fake
contents; readers take a pid and an optional /proc root.

Every read turns "the process is gone" into NoSuchProcess (like psutil does), so callers
handle one exception for the ordinary race of a process exiting while we look.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..scenario.actions import signal_name

PROC = "/proc"


class NoSuchProcess(Exception):
    pass


def _read(path: str, dir_fd: int | None = None) -> str:
    """A whole /proc file as text, with raw os calls (text-mode open() costs 10x more)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dir_fd)
    except (FileNotFoundError, ProcessLookupError) as err:
        raise NoSuchProcess(path) from err
    try:
        # These are single-record seq files: one read returns all of a file shorter than
        # the buffer; read on only when the buffer came back full.
        chunks = [os.read(fd, 16384)]
        while len(chunks[-1]) == 16384:
            chunks.append(os.read(fd, 16384))
    except OSError as err:
        if err.errno == 3:  # ESRCH: the process went away while we read
            raise NoSuchProcess(path) from err
        raise
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


class ProcDir:
    """An O_PATH fd of /proc/PID: files are opened relative to it, without a path lookup,
    and reads fail (ESRCH / ENOENT) once that very process is gone, even if its PID is
    reused."""

    def __init__(self, pid: int, proc: str | None = None) -> None:
        self.pid = pid
        self.files: dict[str, int] = {}
        try:
            self.fd = os.open(f"{proc or PROC}/{pid}", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except (FileNotFoundError, ProcessLookupError) as err:
            raise NoSuchProcess(f"/proc/{pid}") from err

    # Files re-read on every sample are kept open and read again with pread(..., 0): a
    # seq file regenerates its text when read from offset 0.  Holding them open changes
    # nothing about the process.
    KEEP_OPEN = frozenset({"stat", "status", "wchan", "syscall"})

    def read(self, name: str) -> str:
        if name not in self.KEEP_OPEN:
            return _read(name, self.fd)
        fd = self.files.get(name)
        if fd is None:
            try:
                fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=self.fd)
            except (FileNotFoundError, ProcessLookupError) as err:
                raise NoSuchProcess(f"/proc/{self.pid}/{name}") from err
            self.files[name] = fd
        try:
            data = os.pread(fd, 16384, 0)
        except OSError as err:
            if err.errno == 3:  # ESRCH: that process is gone
                raise NoSuchProcess(f"/proc/{self.pid}/{name}") from err
            raise
        return data.decode("utf-8", "replace")

    def close(self) -> None:
        for fd in self.files.values():
            os.close(fd)
        self.files.clear()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@dataclass(frozen=True)
class Stat:
    """Fields of /proc/PID/stat (proc(5)) that ipcviz uses."""

    state: str  # field 3
    ppid: int  # field 4
    pgid: int  # field 5
    sid: int  # field 6
    start_time: int  # field 22, clock ticks after boot
    exit_code: int | None  # field 52, waitpid-style status of a zombie (Linux >= 3.5)


def parse_stat(text: str) -> Stat:
    # comm (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = text[text.rindex(")") + 2 :].split()
    # rest[0] is field 3
    exit_code = int(rest[49]) if len(rest) > 49 else None
    return Stat(
        state=rest[0],
        ppid=int(rest[1]),
        pgid=int(rest[2]),
        sid=int(rest[3]),
        start_time=int(rest[19]),
        exit_code=exit_code,
    )


def read_stat(pid: int, proc: str = PROC) -> Stat:
    return parse_stat(_read(f"{proc}/{pid}/stat"))


def parse_wchan(text: str) -> str | None:
    text = text.strip()
    return None if text in ("", "0") else text


@dataclass(frozen=True)
class SyscallState:
    """/proc/PID/syscall: "running", or the number and arguments of the blocking call."""

    running: bool
    number: int | None = None
    args: tuple[int, ...] = ()


def parse_syscall(text: str) -> SyscallState:
    text = text.strip()
    if not text or text == "running":
        return SyscallState(True)
    parts = text.split()
    number = int(parts[0])
    if number < 0:  # -1: blocked, but not in a system call (e.g. a page fault)
        return SyscallState(False, None, ())
    args = tuple(int(p, 16) for p in parts[1:7])
    return SyscallState(False, number, args)


@dataclass(frozen=True)
class SignalStatus:
    pending: frozenset[int]
    shared_pending: frozenset[int]
    blocked: frozenset[int]
    ignored: frozenset[int]
    caught: frozenset[int]
    queued: int
    queue_limit: int


def mask_to_signals(hex_mask: str) -> frozenset[int]:
    """A SigXxx mask of /proc/PID/status: bit n-1 set means signal n is in the set."""
    mask = int(hex_mask, 16)
    out = set()
    n = 1
    while mask:
        if mask & 1:
            out.add(n)
        mask >>= 1
        n += 1
    return frozenset(out)


_SIG_LINE = re.compile(r"^(SigQ|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):\s*(\S+)", re.M)


def parse_status_signals(text: str) -> SignalStatus:
    fields = dict(_SIG_LINE.findall(text))
    queued, _, limit = fields.get("SigQ", "0/0").partition("/")
    return SignalStatus(
        pending=mask_to_signals(fields.get("SigPnd", "0")),
        shared_pending=mask_to_signals(fields.get("ShdPnd", "0")),
        blocked=mask_to_signals(fields.get("SigBlk", "0")),
        ignored=mask_to_signals(fields.get("SigIgn", "0")),
        caught=mask_to_signals(fields.get("SigCgt", "0")),
        queued=int(queued or 0),
        queue_limit=int(limit or 0),
    )


def read_status_signals(pid: int, proc: str = PROC) -> SignalStatus:
    return parse_status_signals(_read(f"{proc}/{pid}/status"))


def names(signals: frozenset[int]) -> tuple[str, ...]:
    return tuple(signal_name(n) for n in sorted(signals))


def read_fds_at(pd: ProcDir) -> dict[int, str]:
    """fd number -> readlink of /proc/PID/fd/N ("pipe:[123]", "/dev/null", ...)."""
    try:
        dfd = os.open("fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=pd.fd)
    except (FileNotFoundError, ProcessLookupError) as err:
        raise NoSuchProcess(f"/proc/{pd.pid}/fd") from err
    try:
        entries = os.listdir(dfd)
        out = {}
        for name in entries:
            try:
                out[int(name)] = os.readlink(name, dir_fd=dfd)
            except (FileNotFoundError, ValueError):
                continue  # closed while we listed
        return out
    finally:
        os.close(dfd)


def read_fd_link(pd: ProcDir, num: int) -> str | None:
    """readlink of /proc/PID/fd/N, or None once that fd (or the process) is gone."""
    try:
        return os.readlink(f"fd/{num}", dir_fd=pd.fd)
    except (FileNotFoundError, ProcessLookupError):
        return None


def parse_fdinfo_flags(text: str) -> int | None:
    """The octal `flags:` field of /proc/PID/fdinfo/N (open(2) flags of the file description)."""
    for line in text.splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8)
    return None


def access_mode_end(flags: int | None) -> str | None:
    """'read' or 'write' from O_ACCMODE of the flags (a pipe's ends are O_RDONLY/O_WRONLY)."""
    if flags is None:
        return None
    mode = flags & os.O_ACCMODE
    return {os.O_RDONLY: "read", os.O_WRONLY: "write"}.get(mode, "read-write")
