"""System call numbers of /proc/PID/syscall, by architecture (from the kernel's unistd tables).

Only the calls a scenario process can sleep in, or that a lesson names, are listed; an
unknown number is shown as "syscall_N" rather than guessed.
"""

from __future__ import annotations

import functools
import platform

X86_64 = {
    0: "read", 1: "write", 2: "open", 3: "close", 7: "poll", 23: "select", 32: "dup",
    33: "dup2", 34: "pause", 35: "nanosleep", 37: "alarm", 56: "clone", 57: "fork",
    59: "execve", 60: "exit", 61: "wait4", 62: "kill", 64: "semget", 65: "semop",
    66: "semctl", 68: "msgget", 69: "msgsnd", 70: "msgrcv", 71: "msgctl", 72: "fcntl",
    8: "lseek", 13: "rt_sigaction", 14: "rt_sigprocmask", 16: "ioctl", 22: "pipe",
    29: "shmget", 30: "shmat", 31: "shmctl", 67: "shmdt", 128: "rt_sigtimedwait",
    130: "rt_sigsuspend", 202: "futex", 220: "semtimedop", 230: "clock_nanosleep",
    231: "exit_group", 232: "epoll_wait", 240: "mq_open", 242: "mq_timedsend",
    243: "mq_timedreceive", 247: "waitid", 257: "openat", 270: "pselect6", 271: "ppoll",
    293: "pipe2", 45: "recvfrom", 44: "sendto", 46: "sendmsg", 47: "recvmsg", 43: "accept",
    288: "accept4", 42: "connect", 19: "readv", 20: "writev", 9: "mmap", 11: "munmap",
    # more calls that `ipcviz trace` stops at (runtime/trace/calls.py)
    41: "socket", 48: "shutdown", 49: "bind", 50: "listen", 53: "socketpair", 58: "vfork",
    87: "unlink", 133: "mknod", 129: "rt_sigqueueinfo", 200: "tkill", 234: "tgkill",
    241: "mq_unlink", 244: "mq_notify", 245: "mq_getsetattr", 259: "mknodat",
    263: "unlinkat", 292: "dup3", 297: "rt_tgsigqueueinfo", 322: "execveat",
    424: "pidfd_send_signal", 435: "clone3", 38: "setitimer", 223: "timer_settime",
}

AARCH64 = {
    63: "read", 64: "write", 57: "close", 23: "dup", 24: "dup3", 101: "nanosleep",
    220: "clone", 221: "execve", 93: "exit", 94: "exit_group", 260: "wait4", 129: "kill",
    190: "semget", 193: "semop", 191: "semctl", 186: "msgget", 189: "msgsnd", 188: "msgrcv",
    187: "msgctl", 25: "fcntl", 62: "lseek", 134: "rt_sigaction", 135: "rt_sigprocmask",
    29: "ioctl", 59: "pipe2", 194: "shmget", 196: "shmat", 195: "shmctl", 197: "shmdt",
    137: "rt_sigtimedwait", 133: "rt_sigsuspend", 98: "futex", 192: "semtimedop",
    115: "clock_nanosleep", 22: "epoll_pwait", 180: "mq_open", 182: "mq_timedsend",
    183: "mq_timedreceive", 95: "waitid", 56: "openat", 72: "pselect6", 73: "ppoll",
    207: "recvfrom", 206: "sendto", 211: "sendmsg", 212: "recvmsg", 202: "accept",
    242: "accept4", 203: "connect", 65: "readv", 66: "writev", 222: "mmap", 215: "munmap",
    # more calls that `ipcviz trace` stops at (runtime/trace/calls.py)
    198: "socket", 199: "socketpair", 200: "bind", 201: "listen", 210: "shutdown",
    33: "mknodat", 35: "unlinkat", 138: "rt_sigqueueinfo", 130: "tkill", 131: "tgkill",
    181: "mq_unlink", 184: "mq_notify", 185: "mq_getsetattr", 240: "rt_tgsigqueueinfo",
    281: "execveat", 424: "pidfd_send_signal", 435: "clone3", 103: "setitimer",
    110: "timer_settime",
}

TABLES = {"x86_64": X86_64, "aarch64": AARCH64, "arm64": AARCH64}


_MACHINE = platform.machine()


def table(machine: str | None = None) -> dict[int, str]:
    return TABLES.get(machine or _MACHINE, {})


def name(number: int | None, machine: str | None = None) -> str | None:
    if number is None:
        return None
    return table(machine).get(number, f"syscall_{number}")


def numbers(*names: str, machine: str | None = None) -> frozenset[int]:
    """The numbers of the named calls on this machine (absent ones are skipped)."""
    return _numbers(names, machine or _MACHINE)


@functools.lru_cache(maxsize=256)  # asked every millisecond while a step settles
def _numbers(names: tuple[str, ...], machine: str) -> frozenset[int]:
    wanted = set(names)
    return frozenset(n for n, nm in table(machine).items() if nm in wanted)
