"""Name the kernel limit behind a failed call, with its value read from this system.

A lesson may fail a call on purpose (EPIPE, ESPIPE, EAGAIN with IPC_NOWAIT); when the
cause is a limit, the log says which one and what it is here, so a student (or a lecturer
whose lab machine is configured differently) can see why.
"""

from __future__ import annotations

import os
import resource


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return " ".join(f.read().split())
    except OSError:
        return None


def _rlimit(name: str, what: str, shell: str) -> str:
    soft, _ = resource.getrlimit(getattr(resource, name))
    value = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
    return f"{name} ({what}) = {value} here (`{shell}`)"


def _sysctl(path: str, what: str) -> str | None:
    value = _read(path)
    return f"{path} ({what}) = {value} here" if value is not None else None


def _shm_space() -> str | None:
    try:
        st = os.statvfs("/dev/shm")
    except OSError:
        return None
    free = st.f_bavail * st.f_frsize
    return f"/dev/shm has {free // 1024} KiB free here (`df -h /dev/shm`)"


# (action or "*", errno name) -> function giving the explanation
_EXPLAIN = {
    ("fork", "EAGAIN"): lambda: _rlimit("RLIMIT_NPROC", "processes per user", "ulimit -u"),
    ("*", "EMFILE"): lambda: _rlimit("RLIMIT_NOFILE", "open files per process", "ulimit -n"),
    ("*", "ENFILE"): lambda: _sysctl("/proc/sys/fs/file-max", "open files in the system"),
    ("pipe", "ENFILE"): lambda: _sysctl("/proc/sys/fs/pipe-user-pages-soft",
                                        "pipe pages per user"),
    ("*", "EMSGSIZE"): lambda: "the message is larger than the queue's message size limit",
    ("msgget", "ENOSPC"): lambda: _sysctl("/proc/sys/kernel/msgmni", "System V queues"),
    ("msgsnd", "EAGAIN"): lambda: _sysctl("/proc/sys/kernel/msgmnb",
                                          "default bytes per System V queue (msg_qbytes)"),
    ("mq_open", "EMFILE"): lambda: _sysctl("/proc/sys/fs/mqueue/queues_max", "POSIX queues"),
    ("mq_open", "ENOSPC"): lambda: _sysctl("/proc/sys/fs/mqueue/queues_max", "POSIX queues"),
    ("mq_open", "EINVAL"): lambda: "; ".join(filter(None, (
        _sysctl("/proc/sys/fs/mqueue/msg_max", "messages per POSIX queue"),
        _sysctl("/proc/sys/fs/mqueue/msgsize_max", "bytes per POSIX message")))),
    ("semget", "ENOSPC"): lambda: _sysctl("/proc/sys/kernel/sem",
                                          "SEMMSL SEMMNS SEMOPM SEMMNI"),
    ("shmget", "ENOSPC"): lambda: _sysctl("/proc/sys/kernel/shmmni", "System V segments"),
    ("shmget", "EINVAL"): lambda: _sysctl("/proc/sys/kernel/shmmax", "bytes per segment"),
    ("*", "ENOSPC"): _shm_space,
}


def explain(action: str, errno_name: str | None) -> str | None:
    """One line naming the limit behind (action, errno), or None if it is not a limit."""
    if not errno_name:
        return None
    fn = _EXPLAIN.get((action, errno_name)) or _EXPLAIN.get(("*", errno_name))
    if fn is None:
        return None
    try:
        return fn()
    except OSError:
        return None
