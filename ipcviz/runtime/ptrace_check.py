"""Why ptrace(2) would be refused for a target, as one line with the fix.

The causes, in the order the kernel meets them:
* our own seccomp filter returns an error for ptrace (a container's default profile):
  `Seccomp: 2` in /proc/self/status, confirmed live by a harmless ptrace call;
* the target already has a tracer (`TracerPid:` of /proc/PID/status): one tracer only;
* Yama (/proc/sys/kernel/yama/ptrace_scope): 1 = only descendants (and processes that
  named us with PR_SET_PTRACER), 2 = only with CAP_SYS_PTRACE, 3 = never (until reboot);
* another user: the target's real, effective and saved uids must all be ours, unless we
  hold CAP_SYS_PTRACE.

The decision functions are pure (they take the files' text), so each cause is tested on
given contents; `diagnose(pid)` reads the live files.  Nothing here attaches to anything.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
from dataclasses import dataclass

CAP_SYS_PTRACE = 19  # capability number (linux/capability.h)
PTRACE_PEEKDATA = 2

YAMA = "/proc/sys/kernel/yama/ptrace_scope"


@dataclass(frozen=True)
class Refusal:
    """One reason the kernel would refuse to let us trace PID."""

    cause: str  # "seccomp" | "traced" | "yama" | "uid"
    pid: int
    scope: int | None = None  # Yama's ptrace_scope
    tracer: int | None = None  # TracerPid
    target_uid: int | None = None
    our_uid: int | None = None

    def line(self) -> str:
        """What is wrong, and the fix, in one line."""
        if self.cause == "seccomp":
            return ("ptrace is blocked by a seccomp filter on ipcviz itself (a container's "
                    "profile): run the container with --cap-add SYS_PTRACE or "
                    "--security-opt seccomp=unconfined, or use `ipcviz attach --watch "
                    f"{self.pid}`")
        if self.cause == "traced":
            return (f"process {self.pid} is already traced by process {self.tracer} "
                    "(a debugger or strace): a process has one tracer only; detach that one "
                    f"first, or use `ipcviz attach --watch {self.pid}`")
        if self.cause == "yama":
            return _yama_line(self.scope or 0, self.pid)
        return (f"process {self.pid} runs as uid {self.target_uid} and you are uid "
                f"{self.our_uid}: run ipcviz as that user (or with CAP_SYS_PTRACE, e.g. "
                f"sudo), or use `ipcviz attach --watch {self.pid}`")


def _yama_line(scope: int, pid: int) -> str:
    if scope == 1:
        return ("Yama ptrace_scope is 1: a process may trace only its own descendants; "
                "allow attaching with `sudo sysctl kernel.yama.ptrace_scope=0`, run ipcviz "
                f"with sudo, start the program under `ipcviz trace`, or use `ipcviz attach "
                f"--watch {pid}`")
    if scope == 2:
        return ("Yama ptrace_scope is 2: only a process with CAP_SYS_PTRACE may trace; run "
                "ipcviz with sudo, or lower it with `sudo sysctl kernel.yama.ptrace_scope=0`"
                f", or use `ipcviz attach --watch {pid}`")
    return ("Yama ptrace_scope is 3: no process may trace, and it cannot be lowered until "
            f"the next reboot; use `ipcviz attach --watch {pid}`")


# -- parsers ---------------------------------------------------------------------------------

def parse_scope(text: str | None) -> int | None:
    """Yama's ptrace_scope; None when Yama is not there (the file is absent)."""
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def status_field(status: str, name: str) -> str | None:
    m = re.search(rf"^{name}:\s*(.*)$", status, re.M)
    return m.group(1).strip() if m else None


def has_cap(status: str, cap: int) -> bool:
    eff = status_field(status, "CapEff")
    return eff is not None and bool(int(eff, 16) >> cap & 1)


def uids(status: str) -> tuple[int, ...]:
    """Real, effective, saved, filesystem uid of a /proc/PID/status."""
    text = status_field(status, "Uid")
    return tuple(int(u) for u in text.split()) if text else ()


# -- the decision ----------------------------------------------------------------------------

def refusal(pid: int, our_status: str, target_status: str, scope_text: str | None,
            descendant: bool, seccomp_blocks: bool) -> Refusal | None:
    """Why tracing PID would be refused, from the files' contents; None if it would not.

    our_status / target_status: /proc/self/status and /proc/PID/status; scope_text: Yama's
    ptrace_scope file (None if absent); descendant: PID descends from us; seccomp_blocks:
    the live check found our own ptrace calls failing."""
    seccomp = status_field(our_status, "Seccomp")
    if seccomp == "2" and seccomp_blocks:
        return Refusal("seccomp", pid)
    tracer = int(status_field(target_status, "TracerPid") or 0)
    if tracer:
        return Refusal("traced", pid, tracer=tracer)
    cap = has_cap(our_status, CAP_SYS_PTRACE)
    scope = parse_scope(scope_text)
    if scope == 3 or (scope == 2 and not cap) or (scope == 1 and not cap and not descendant):
        return Refusal("yama", pid, scope=scope)
    ours, theirs = uids(our_status), uids(target_status)
    if not cap and ours and theirs and any(u != ours[0] for u in theirs[:3]):
        return Refusal("uid", pid, target_uid=theirs[0], our_uid=ours[0])
    return None


# -- live ------------------------------------------------------------------------------------

def seccomp_blocks_ptrace() -> bool:
    """Does a ptrace call of ours fail before the kernel looks at it?  PEEKDATA on
    ourselves, who are not our own tracee, is refused with ESRCH by ptrace itself; a seccomp
    filter answers first (EPERM, ENOSYS, or whatever errno its profile chose)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    ctypes.set_errno(0)
    libc.ptrace(PTRACE_PEEKDATA, os.getpid(), None, None)
    return ctypes.get_errno() not in (0, errno.ESRCH)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def _descends_from_us(pid: int, proc: str = "/proc") -> bool:
    me, seen = os.getpid(), 0
    while pid > 1 and seen < 4096:
        text = _read(f"{proc}/{pid}/stat")
        if text is None:
            return False
        pid = int(text[text.rindex(")") + 2:].split()[1])
        if pid == me:
            return True
        seen += 1
    return False


class NoTarget(Exception):
    """The target process does not exist (or its status cannot be read)."""


def diagnose(pid: int, proc: str = "/proc") -> Refusal | None:
    """Why ptrace of PID would be refused on this system now, or None."""
    target = _read(f"{proc}/{pid}/status")
    ours = _read(f"{proc}/self/status")
    if target is None or ours is None:
        raise NoTarget(pid)
    blocked = status_field(ours, "Seccomp") == "2" and seccomp_blocks_ptrace()
    return refusal(pid, ours, target, _read(YAMA), _descends_from_us(pid, proc), blocked)
