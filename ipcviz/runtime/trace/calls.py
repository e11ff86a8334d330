"""Which calls `ipcviz trace` stops at, which of those matter, and how each is written.

The seccomp filter stops a tracee at every call named in TRACED (mmap only when shared,
futex only when not process-private).  At the stop the tracer looks closer: a read() of a
regular file or a close() of a library's fd is no IPC and runs on with no event.  Words are
strace's: `write(4, "hello", 5) = 5`.
"""

from __future__ import annotations

import errno as errno_mod
import os
import stat
import struct
from collections.abc import Callable
from typing import Any

from ...scenario.actions import signal_name
from .kernel import read_cstr, read_mem, signed

# every call the filter traps (names of ipcviz.probe.syscalls; absent ones are skipped)
TRACED = frozenset({
    "pipe", "pipe2", "fork", "vfork", "clone", "clone3", "execve", "execveat",
    "dup", "dup2", "dup3", "close", "read", "write", "readv", "writev",
    "open", "openat", "mknod", "mknodat", "unlink", "unlinkat",
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal",
    "rt_sigaction", "rt_sigprocmask", "pause", "rt_sigsuspend", "rt_sigtimedwait",
    "wait4", "waitid",
    "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl",
    "shmget", "shmat", "shmdt", "shmctl",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    "socket", "socketpair", "bind", "listen", "connect", "accept", "accept4",
    "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown",
    "exit", "exit_group",
    "alarm", "setitimer", "timer_settime",  # a timer's signal can end any sleep
})
MAP_SHARED = 0x01
FUTEX_PRIVATE_FLAG = 128
# call -> (argument, mask, trace when the bits are set): the filter looks at the argument
MASKED = {"mmap": (3, MAP_SHARED, True), "futex": (1, FUTEX_PRIVATE_FLAG, False)}

# calls that sleep at most until a timeout, when this argument is not NULL: a process asleep
# in one will wake by itself, so it never makes a hang
TIMEOUT_ARG = {"semtimedop": 3, "rt_sigtimedwait": 2, "mq_timedsend": 4,
               "mq_timedreceive": 4, "futex": 3}
# calls that always end by themselves (an attached program stops at every call, these too):
# a process asleep in one is never part of a hang
WAKES_BY_ITSELF = frozenset({"nanosleep", "clock_nanosleep", "clock_nanosleep_time64"})

# calls whose first argument is an fd: they matter only on an IPC object
FD_FIRST = frozenset({
    "read", "write", "readv", "writev", "close", "recvfrom", "sendto", "recvmsg", "sendmsg",
    "shutdown", "connect", "accept", "accept4", "bind", "listen", "mq_timedsend",
    "mq_timedreceive", "mq_notify", "mq_getsetattr",
})
PATH_CALLS = {"open": 0, "openat": 1, "mknod": 0, "mknodat": 1, "unlink": 0, "unlinkat": 1,
              "execve": 0, "execveat": 1, "mq_open": 0, "mq_unlink": 0}
DATA_OUT = frozenset({"write", "sendto", "mq_timedsend"})  # (fd, buf, len): bytes sent
DATA_IN = frozenset({"read", "recvfrom", "mq_timedreceive"})  # (fd, buf, len): bytes got
PREVIEW = 32  # bytes of a buffer shown in the log
AT_FDCWD = -100
# kernel-internal codes a tracer sees at the exit of an interrupted call (never returned
# to the program): linux/errno.h
RESTART_CODES = {512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND",
                 516: "ERESTART_RESTARTBLOCK"}
# What a tracer can say about each (strace's words)
RESTART_MEANING = {"ERESTARTSYS": "to be restarted if SA_RESTART is set",
                   "ERESTARTNOINTR": "to be restarted",
                   "ERESTARTNOHAND": "to be restarted if no handler",
                   "ERESTART_RESTARTBLOCK": "interrupted by signal"}


TIMER_CALLS = frozenset({"alarm", "setitimer", "timer_settime"})


def timer_seconds(pid: int, name: str, args: tuple[int, ...]) -> float | None:
    """Seconds until the timer this call arms fires (inf: it repeats, or an absolute time;
    0: it disarms), None if unknown.  alarm(secs); setitimer(which, struct itimerval *);
    timer_settime(id, flags, struct itimerspec *): {interval, value} of two 64-bit words."""
    if name == "alarm":
        return float(args[0] & 0xFFFFFFFF)
    at, frac = (args[1], 1e6) if name == "setitimer" else (args[2], 1e9)
    raw = read_mem(pid, at, 32)
    if len(raw) < 32:
        return None
    isec, ifrac, vsec, vfrac = struct.unpack("<qqqq", raw)
    if vsec == 0 and vfrac == 0:
        return 0.0
    if isec or ifrac or (name == "timer_settime" and args[1] & 1):  # TIMER_ABSTIME
        return float("inf")
    return float(vsec) + float(vfrac) / frac


def _int(value: int) -> int:
    """An int argument as C sees it: the low 32 bits, signed (wait4(-1), not 4294967295)."""
    low = value & 0xFFFFFFFF
    return low - (1 << 32) if low >= 1 << 31 else low


def fd_target(pid: int, fd: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None


def is_ipc_target(target: str | None) -> bool:
    """pipe:[N], socket:[N], a FIFO's path, a POSIX queue or shared-memory name."""
    if target is None:
        return False
    if target.startswith(("pipe:", "socket:")):
        return True
    if target.startswith("/dev/shm/") or target.startswith("/dev/mqueue/"):
        return True
    if target.startswith("/") and not target.endswith(" (deleted)"):
        try:
            return stat.S_ISFIFO(os.stat(target).st_mode)
        except OSError:
            return False
    return False


def resolve_path(pid: int, dirfd: int, path: str) -> str:
    """An absolute form of PATH as the tracee sees it (its cwd or dirfd)."""
    if path.startswith("/"):
        return path
    base = f"/proc/{pid}/cwd" if dirfd == AT_FDCWD else f"/proc/{pid}/fd/{dirfd}"
    try:
        return os.path.join(os.readlink(base), path)
    except OSError:
        return path


def _is_fifo_or_shm(path: str) -> bool:
    if path.startswith("/dev/shm/"):
        return True
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False


def _entry_fd(pid: int, name: str, args: tuple[int, ...]) -> dict[str, Any] | None:
    target = fd_target(pid, signed(args[0]) if args[0] < 1 << 31 else -1)
    # an mq_* call's fd is a POSIX queue (its link reads "/NAME", like a path)
    return {"target": target} if name.startswith("mq_") or is_ipc_target(target) else None


def _entry_dup(pid: int, name: str, args: tuple[int, ...]) -> dict[str, Any] | None:
    old, new = fd_target(pid, args[0]), (fd_target(pid, args[1]) if name != "dup" else None)
    return {"target": old} if is_ipc_target(old) or is_ipc_target(new) else None


def _entry_path(pid: int, name: str, args: tuple[int, ...]) -> dict[str, Any] | None:
    at = PATH_CALLS[name]
    path = read_cstr(pid, args[at])
    if path is None:
        return None
    if name in ("execve", "execveat"):
        return {"path": path, "argv": _argv(pid, args[at + 1])}
    if name in ("mq_open", "mq_unlink"):
        return {"path": path}
    dirfd = signed(args[0]) if name.endswith("at") else AT_FDCWD
    full = resolve_path(pid, dirfd, path)
    fifo_made = name in ("mknod", "mknodat") and stat.S_ISFIFO(args[at + 1])
    return {"path": full} if fifo_made or _is_fifo_or_shm(full) else None


def _entry_mmap(pid: int, name: str, args: tuple[int, ...]) -> dict[str, Any] | None:
    fd = _int(args[4])
    target = fd_target(pid, fd) if fd >= 0 else None
    if fd >= 0 and not (target or "").startswith("/dev/shm/"):
        return None  # a shared mapping of a file (a locale cache): no IPC object
    return {"target": target}


_ENTRY = {**{n: _entry_fd for n in FD_FIRST}, **{n: _entry_path for n in PATH_CALLS},
          "dup": _entry_dup, "dup2": _entry_dup, "dup3": _entry_dup, "mmap": _entry_mmap}


def entry(pid: int, name: str, args: tuple[int, ...]) -> dict[str, Any] | None:
    """What the call about to run is about, or None when it is no IPC (let it run)."""
    look = _ENTRY.get(name)
    info = look(pid, name, args) if look is not None else {}
    if info is None:
        return None
    if name in DATA_OUT:
        info["data"] = read_mem(pid, args[1], min(args[2], PREVIEW)).hex()
    if name in ("semop", "semtimedop"):
        info["sops"] = _sembufs(pid, args[1], args[2])
    if name == "futex":
        info["addr"] = f"{args[0]:#x}"
    return info


def _argv(pid: int, addr: int, limit: int = 16) -> list[str]:
    out = []
    for i in range(limit):
        ptr = read_mem(pid, addr + 8 * i, 8)
        if len(ptr) < 8:
            break
        (p,) = struct.unpack("<Q", ptr)
        if p == 0:
            break
        out.append(read_cstr(pid, p, 256) or "")
    return out


def _sembufs(pid: int, addr: int, n: int) -> list[list[int]]:
    """struct sembuf {unsigned short sem_num; short sem_op; short sem_flg;} × n."""
    n = min(n, 16)
    raw = read_mem(pid, addr, 6 * n)
    return [list(struct.unpack_from("<Hhh", raw, 6 * i)) for i in range(len(raw) // 6)]


def result(pid: int, name: str, args: tuple[int, ...], raw: int) -> dict[str, Any]:
    """The return value (or errno name) and what the call produced, at its exit stop."""
    value = signed(raw)
    out: dict[str, Any] = {}
    if -4096 < value < 0:
        code = -value
        out["errno"] = RESTART_CODES.get(code) or errno_mod.errorcode.get(code, str(code))
        out["result"] = -1
        return out
    out["result"] = value
    if name in ("pipe", "pipe2", "socketpair"):
        at = args[3] if name == "socketpair" else args[0]
        out["fds"] = list(struct.unpack("<ii", read_mem(pid, at, 8) or b"\0" * 8))
        out["targets"] = [fd_target(pid, fd) for fd in out["fds"]]  # stopped: still these
    elif name == "mq_open":
        out["targets"] = [fd_target(pid, value)]
    elif name in DATA_IN and value > 0:
        out["data"] = read_mem(pid, args[1], min(value, PREVIEW)).hex()
    return out


def _quote(data_hex: str, total: int) -> str:
    data = bytes.fromhex(data_hex)
    text = "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else
                   {10: "\\n", 9: "\\t", 34: '\\"', 92: "\\\\"}.get(b, f"\\x{b:02x}")
                   for b in data)
    return f'"{text}"' + ("..." if total > len(data) else "")


def _sig(n: int) -> str:
    try:
        return signal_name(n)
    except (ValueError, KeyError):
        return str(n)


def _flags(value: int, names: dict[int, str]) -> str:
    got = [nm for bit, nm in names.items() if value & bit]
    return "|".join(got) if got else str(value)


def _sops(a: list[int], info: dict[str, Any]) -> str:
    sops = ", ".join(f"{{{n}, {op:+d}, {fl}}}" for n, op, fl in info.get("sops", []))
    return f"{a[0]}, [{sops}], {a[2]}"


def _path_flags(a: list[int], info: dict[str, Any]) -> str:
    return f'"{info.get("path")}", ' + _flags(a[2], {1: "O_WRONLY", 2: "O_RDWR", 64: "O_CREAT"})


_Format = Callable[[list[int], dict[str, Any]], str]
_FIRST3: _Format = lambda a, i: ", ".join(str(x) for x in a[:3])  # noqa: E731
_FORMATS: dict[str, _Format] = {
    **{n: (lambda a, i: f"{a[0]}, ..., {a[2]}") for n in ("read", "recvfrom",
                                                           "mq_timedreceive")},
    **{n: (lambda a, i: f"{a[0]}, {_quote(i.get('data', ''), a[2])}, {a[2]}")
       for n in DATA_OUT},
    **{n: (lambda a, i: str(a[0])) for n in ("close", "dup", "readv", "writev", "wait4",
                                            "exit", "exit_group")},
    **{n: (lambda a, i: f"{a[0]}, {a[1]}") for n in ("dup2", "dup3")},
    **{n: (lambda a, i: "[...]") for n in ("pipe", "pipe2")},
    **{n: (lambda a, i: f"{a[0]}, {_sig(a[1])}") for n in ("kill", "tkill")},
    **{n: (lambda a, i: f'"{i.get("path")}"') for n in ("open", "mknod", "mknodat", "unlink",
                                                       "unlinkat", "mq_open", "mq_unlink")},
    **{n: (lambda a, i: f"0x{a[0] & 0xFFFFFFFF:x}, {a[1]}, {a[2]:#o}")
       for n in ("msgget", "semget", "shmget")},
    **{n: _sops for n in ("semop", "semtimedop")},
    "pause": lambda a, i: "",
    "tgkill": lambda a, i: f"{a[0]}, {a[1]}, {_sig(a[2])}",
    "rt_sigaction": lambda a, i: f"{_sig(a[0])}, ...",
    "execve": lambda a, i: f'"{i.get("path")}", {i.get("argv", [])}',
    "execveat": lambda a, i: f'"{i.get("path")}", {i.get("argv", [])}',
    "openat": _path_flags,
    "waitid": lambda a, i: str(a[1]),
    "futex": lambda a, i: f"{i.get('addr', '?')}, {a[1]}, {a[2]}",
    "alarm": lambda a, i: str(a[0]),
}


def call_text(name: str, args: tuple[int, ...], info: dict[str, Any]) -> str:
    """The call as strace prints it, from its raw arguments and what was read at entry."""
    a = [_int(x) for x in args]
    return f"{name}({_FORMATS.get(name, _FIRST3)(a, info)})"


def result_text(name: str, out: dict[str, Any]) -> str:
    if out.get("errno"):
        err = out["errno"]
        if err in RESTART_MEANING:
            return f"? {err} ({RESTART_MEANING[err]})"
        return f"-1 {err}"
    text = str(out.get("result"))
    if "fds" in out:
        text += f" {out['fds']}"
    if "data" in out:
        text += f" {_quote(out['data'], out['result'])}"
    return text
