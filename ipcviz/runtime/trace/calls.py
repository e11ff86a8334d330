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
})
MAP_SHARED = 0x01
FUTEX_PRIVATE_FLAG = 128
# call -> (argument, mask, trace when the bits are set): the filter looks at the argument
MASKED = {"mmap": (3, MAP_SHARED, True), "futex": (1, FUTEX_PRIVATE_FLAG, False)}

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


def entry(pid: int, name: str, args: tuple[int, ...]) -> dict[str, Any] | None:
    """What the call about to run is about, or None when it is no IPC (let it run)."""
    info: dict[str, Any] = {}
    if name in FD_FIRST:
        target = fd_target(pid, signed(args[0]) if args[0] < 1 << 31 else -1)
        if not is_ipc_target(target):
            return None
        info["target"] = target
    elif name in ("dup", "dup2", "dup3"):
        old, new = fd_target(pid, args[0]), (fd_target(pid, args[1]) if name != "dup" else None)
        if not (is_ipc_target(old) or is_ipc_target(new)):
            return None
        info["target"] = old
    elif name in PATH_CALLS:
        path = read_cstr(pid, args[PATH_CALLS[name]])
        if path is None:
            return None
        if name in ("execve", "execveat"):
            info["path"] = path
            info["argv"] = _argv(pid, args[PATH_CALLS[name] + 1])
        elif name in ("mq_open", "mq_unlink"):
            info["path"] = path
        else:
            dirfd = signed(args[0]) if name.endswith("at") else AT_FDCWD
            full = resolve_path(pid, dirfd, path)
            fifo_made = name in ("mknod", "mknodat") and stat.S_ISFIFO(
                args[PATH_CALLS[name] + 1])
            if not (fifo_made or _is_fifo_or_shm(full)):
                return None
            info["path"] = full
    elif name == "mmap":
        fd = signed(args[4])
        target = fd_target(pid, fd) if fd >= 0 else None
        if fd >= 0 and not (target or "").startswith("/dev/shm/"):
            return None  # a shared mapping of a file (a locale cache): no IPC object
        info["target"] = target
    if name in DATA_OUT:
        info["data"] = read_mem(pid, args[1], min(args[2], PREVIEW)).hex()
    if name in ("semop", "semtimedop"):
        info["sops"] = _sembufs(pid, args[1], args[2])
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


def _int(value: int) -> int:
    """An int argument as C sees it: the low 32 bits, signed (wait4(-1), not 4294967295)."""
    low = value & 0xFFFFFFFF
    return low - (1 << 32) if low >= 1 << 31 else low


def call_text(name: str, args: tuple[int, ...], info: dict[str, Any]) -> str:
    """The call as strace prints it, from its raw arguments and what was read at entry."""
    a = [_int(x) for x in args]
    path = info.get("path")
    if name in ("read", "recvfrom", "mq_timedreceive"):
        inner = f"{a[0]}, ..., {a[2]}"
    elif name in DATA_OUT:
        inner = f"{a[0]}, {_quote(info.get('data', ''), a[2])}, {a[2]}"
    elif name in ("close", "dup", "pause") or name in ("readv", "writev"):
        inner = "" if name == "pause" else str(a[0])
    elif name in ("dup2", "dup3"):
        inner = f"{a[0]}, {a[1]}"
    elif name in ("pipe", "pipe2"):
        inner = "[...]"
    elif name in ("kill", "tkill"):
        inner = f"{a[0]}, {_sig(a[1])}"
    elif name == "tgkill":
        inner = f"{a[0]}, {a[1]}, {_sig(a[2])}"
    elif name == "rt_sigaction":
        inner = f"{_sig(a[0])}, ..."
    elif name in ("execve", "execveat"):
        inner = f'"{path}", {info.get("argv", [])}'
    elif name in ("openat", "open", "mknod", "mknodat", "unlink", "unlinkat", "mq_open",
                  "mq_unlink"):
        inner = f'"{path}"' + (f", {_flags(a[2], {1: 'O_WRONLY', 2: 'O_RDWR', 64: 'O_CREAT'})}"
                               if name == "openat" else "")
    elif name in ("semop", "semtimedop"):
        sops = ", ".join(f"{{{n}, {op:+d}, {fl}}}" for n, op, fl in info.get("sops", []))
        inner = f"{a[0]}, [{sops}], {a[2]}"
    elif name in ("msgsnd", "msgrcv", "msgctl", "semctl", "shmat", "shmctl"):
        inner = ", ".join(str(x) for x in a[:3])
    elif name in ("msgget", "semget", "shmget"):
        inner = f"0x{args[0] & 0xFFFFFFFF:x}, " + ", ".join(str(x) for x in a[1:3])
    elif name in ("wait4", "waitid", "exit", "exit_group"):
        inner = str(a[0] if name != "waitid" else a[1])
    else:
        inner = ", ".join(str(x) for x in a[:3])
    return f"{name}({inner})"


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
