"""What this system can provide, found once at start by trying it for real.

Some systems lack a mechanism: POSIX queues without the mqueue file system, System V IPC
disabled (some WSL set-ups, hardened containers), a /proc without the `syscall` file, a
kernel older than pidfd_getfd(2).  Each feature is tried with a real, tiny, immediately
removed object; a lesson that needs a missing feature is marked unavailable with the reason,
and the rest work.
"""

from __future__ import annotations

import errno
import functools
import os
import secrets
from collections.abc import Callable, Iterable

from ..scenario.model import Scenario


def _proc() -> None:
    for name in ("syscall", "wchan", "stat"):
        with open(f"/proc/self/{name}", "rb") as f:
            f.read()
    with open("/proc/self/status") as f:
        if "SigQ:" not in f.read():
            raise OSError(errno.ENOENT, "/proc/PID/status has no signal fields")


def _pidfd_getfd() -> None:
    from ..probe.pipe_io import pidfd_getfd

    pidfd = os.pidfd_open(os.getpid())
    try:
        os.close(pidfd_getfd(pidfd, 0 if _fd_open(0) else pidfd))
    finally:
        os.close(pidfd)


def _fd_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _name() -> str:
    return f"/ipcviz.check.{os.getpid()}.{secrets.token_hex(3)}"


def _posix_mq() -> None:
    import posix_ipc

    q = posix_ipc.MessageQueue(_name(), posix_ipc.O_CREX, mode=0o600)
    try:
        q.unlink()
    finally:
        q.close()


def _posix_sem() -> None:
    import posix_ipc

    s = posix_ipc.Semaphore(_name(), posix_ipc.O_CREX, mode=0o600)
    try:
        s.unlink()
    finally:
        s.close()


def _posix_shm() -> None:
    import posix_ipc

    m = posix_ipc.SharedMemory(_name(), posix_ipc.O_CREX, mode=0o600, size=4096)
    try:
        m.unlink()
    finally:
        m.close_fd()


def _sysv(kind: str) -> None:
    import sysv_ipc

    cls = {"msg": sysv_ipc.MessageQueue, "sem": sysv_ipc.Semaphore,
           "shm": sysv_ipc.SharedMemory}[kind]
    kw = {"size": 4096} if kind == "shm" else {}
    obj = cls(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, mode=0o600, **kw)
    try:
        if kind == "shm":
            # sysv_ipc attaches a new segment; IPC_RMID alone leaves it listed in `ipcs -m`
            # ("dest", nattch 1) for as long as this process lives, where students look.
            obj.detach()
    finally:
        obj.remove()


def _pty() -> None:
    master, slave = os.openpty()
    os.close(master)
    os.close(slave)


FEATURES: dict[str, tuple[str, Callable[[], None]]] = {
    "proc": ("/proc/PID/syscall, wchan and signal fields", _proc),
    "pidfd_getfd": ("pidfd_getfd(2), Linux 5.6 or later", _pidfd_getfd),
    "posix_mq": ("POSIX message queues", _posix_mq),
    "posix_sem": ("POSIX named semaphores", _posix_sem),
    "posix_shm": ("POSIX shared memory", _posix_shm),
    "sysv_msg": ("System V message queues", lambda: _sysv("msg")),
    "sysv_sem": ("System V semaphores", lambda: _sysv("sem")),
    "sysv_shm": ("System V shared memory", lambda: _sysv("shm")),
    "pty": ("pseudo-terminals", _pty),
}

# What a lesson needs, from the kinds of its objects and the actions of its steps.
# A name is matched as a prefix: "sysv_msg" kinds and "msgget"-like actions alike.
KIND_NEEDS: dict[str, tuple[str, ...]] = {
    "pipe": ("pidfd_getfd",),
    "fifo": ("pidfd_getfd",),
}
ACTION_NEEDS: dict[str, tuple[str, ...]] = {
    "msgget": ("sysv_msg",), "msgsnd": ("sysv_msg",), "msgrcv": ("sysv_msg",),
    "mq_": ("posix_mq",),
    "semget": ("sysv_sem",), "semop": ("sysv_sem",),
    "sem_": ("posix_sem",),
    "shmget": ("sysv_shm",), "shmat": ("sysv_shm",),
    "shm_open": ("posix_shm",),
    "openpty": ("pty",), "pty": ("pty",),
}


@functools.cache
def features() -> dict[str, str | None]:
    """feature -> None when it works here, else the reason it does not (one line)."""
    out: dict[str, str | None] = {}
    # IPCVIZ_DISABLE=posix_mq,sysv_msg pretends those are missing: to see (and test) how
    # ipcviz behaves on a system that lacks them.
    disabled = {f.strip() for f in os.environ.get("IPCVIZ_DISABLE", "").split(",") if f.strip()}
    for name, (what, probe) in FEATURES.items():
        if name in disabled:
            out[name] = f"{what} disabled by IPCVIZ_DISABLE"
            continue
        try:
            probe()
            out[name] = None
        except ImportError as err:
            out[name] = f"{what}: the Python module is missing ({err.name})"
        except (OSError, ValueError) as err:
            reason = getattr(err, "strerror", None) or str(err)
            out[name] = f"{what} unavailable on this system: {reason}"
        except Exception as err:  # noqa: BLE001 - posix_ipc/sysv_ipc raise their own classes
            out[name] = f"{what} unavailable on this system: {type(err).__name__}: {err}"
    return out


def _match(table: dict[str, tuple[str, ...]], name: str) -> tuple[str, ...]:
    return tuple(f for key, feats in table.items() if name.startswith(key) for f in feats)


def needs_of(kinds: Iterable[str], actions: Iterable[str]) -> set[str]:
    """The features a lesson with these object kinds and step actions needs."""
    out = {"proc"}
    for kind in kinds:
        out.update(_match(KIND_NEEDS, kind))
        if kind.startswith(("sysv", "posix")):
            out.update(f for f in FEATURES if kind.startswith(f) or f.startswith(kind))
    for action in actions:
        out.update(_match(ACTION_NEEDS, action))
    return out


def needs(scenario: Scenario) -> set[str]:
    return needs_of({o.kind for o in scenario.objects}, {s.action for s in scenario.steps})


def reason(needed: Iterable[str]) -> str | None:
    """Why a lesson needing these features cannot run here, or None."""
    have = features()
    missing = [m for f in sorted(needed) if (m := have.get(f))]
    return "; ".join(missing) if missing else None


def unavailable(scenario: Scenario) -> str | None:
    """Why this lesson cannot run here, or None."""
    return reason(needs(scenario))


