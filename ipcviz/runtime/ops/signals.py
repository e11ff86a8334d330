"""Signals: handlers that report every delivery, masks, pause, alarm, real faults, a pty.

Handlers.  Python runs a signal handler in the main thread between bytecodes, and keeps
one "tripped" flag per signal: three real-time signals delivered in a row would run the
Python function once.  The kernel delivers them three times, though, and each time Python's
C-level handler runs and writes the signal number as one byte to the wake-up fd
(signal.set_wakeup_fd).  So a handler installed by a scenario drains that pipe and reports
one "handled" message per byte, in delivery order: one per real kernel delivery.  The pipe
lives on fds 901/902 (next to the control socket on 900; the probe hides fds >= 900) and
every forked child gets its own (os.register_at_fork).
"""

from __future__ import annotations

import ctypes
import errno
import faulthandler
import fcntl
import mmap
import os
import platform
import resource
import signal
import struct
import termios
from types import FrameType
from typing import Any, NoReturn

from ...scenario.actions import signal_name
from ...scenario.limits import WAKE_R, WAKE_W
from .fds import HANDLED_DURING_CALL, SA_RESTART_SIGNALS, as_in_c, signum_of
from .handlers import SigInfo, sigset_of, siginfo_facts
from .types import Arg0, Args, Call, Op, OpWorker, Outcome, Pids

TIOCGSID = getattr(termios, "TIOCGSID", 0x5429)  # asm-generic/ioctls.h (x86, arm64)
PR_SET_DUMPABLE = 4
CORE_PATTERN = "/proc/sys/kernel/core_pattern"

_libc = ctypes.CDLL(None, use_errno=True)

class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_libc.sleep.restype = ctypes.c_uint
_libc.sleep.argtypes = (ctypes.c_uint,)
_state: dict[str, Any] = {"owner": None, "worker": None}
DISPOSITIONS: dict[int, str] = {}  # signal number -> "handler" / "reap" (inherited by fork)


def _new_wakeup_pipe() -> None:
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    os.dup2(r, WAKE_R, inheritable=False)
    os.dup2(w, WAKE_W, inheritable=False)
    os.close(r)
    os.close(w)
    signal.set_wakeup_fd(WAKE_W, warn_on_full_buffer=False)
    _state["owner"] = os.getpid()


def _after_fork_in_child() -> None:
    # A child must not share its parent's wake-up pipe: each reads its own deliveries.
    if _state["owner"] is not None:
        _new_wakeup_pipe()


os.register_at_fork(after_in_child=_after_fork_in_child)


def install_handler(w: OpWorker, signum: int, disposition: str, restart: bool = False) -> None:
    """sigaction(signum, handler): the real call (EINVAL for SIGKILL / SIGSTOP).

    Python installs it without SA_RESTART, so a blocked call ends with EINTR and the
    handler's report is sent at once; with `restart` (the lesson's SA_RESTART) the worker
    makes the call again after the handler ran (fds.read_as_in_c), as the kernel would.
    """
    if _state["owner"] != os.getpid():
        _new_wakeup_pipe()
    _state["worker"] = w
    signal.signal(signum, _on_signal)
    DISPOSITIONS[signum] = disposition
    if restart:
        SA_RESTART_SIGNALS.add(signum)
    else:
        SA_RESTART_SIGNALS.discard(signum)


def forget_handler(signum: int) -> None:
    DISPOSITIONS.pop(signum, None)
    SA_RESTART_SIGNALS.discard(signum)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Python's part of a handler: report each kernel delivery the C part recorded."""
    w = _state["worker"]
    data = b""
    while True:
        try:
            chunk = os.read(WAKE_R, 4096)
        except (BlockingIOError, InterruptedError):
            break
        if not chunk:
            break
        data += chunk
    for num in data:
        HANDLED_DURING_CALL.append(num)
        w.send({"t": "handled", "signal": signal_name(num), "pid": os.getpid()})
        if DISPOSITIONS.get(num) == "reap":
            _reap(w)


def _reap(w: OpWorker) -> None:
    """A SIGCHLD handler's loop: waitpid(-1, &status, WNOHANG) until no zombie is left."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        w.send({"t": "reaped", "pid": pid, "status": status, "by": os.getpid()})


def run_handlers() -> None:
    """Let Python run pending handlers now (PyErr_CheckSignals, via a no-op mask change)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, [])


# -- masks, waiting, timers ------------------------------------------------------------

_HOW = {"block": signal.SIG_BLOCK, "unblock": signal.SIG_UNBLOCK,
        "setmask": signal.SIG_SETMASK}


def _nums(names: list[str]) -> list[int]:
    return [signum_of(n) for n in names]


def do_sigprocmask(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    # Unblocking delivers what was pending before the call returns; Python's
    # pthread_sigmask runs the handlers right after it, so their reports come first.
    signal.pthread_sigmask(_HOW[args["how"]], _nums(args["signals"]))
    return {"result": 0}


def do_pause(w: OpWorker, args: Args, pids: Pids, k: int) -> NoReturn:
    _libc.pause()  # the real pause(2): returns -1 / EINTR once a handler has run
    err = ctypes.get_errno()
    run_handlers()
    raise OSError(err, os.strerror(err))


def do_sigwait(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    """sigwait(3) as glibc makes it: rt_sigtimedwait, made again after a caught signal's
    handler ended it with EINTR (SA_RESTART or not).  Python's signal.sigwait makes the
    same loop inside glibc, so the handler's report would wait until a signal of the set
    came."""
    mask = sigset_of(args["signals"])
    while True:
        num = _libc.sigtimedwait(mask, None, None)
        err = ctypes.get_errno()
        run_handlers()
        if num > 0:
            return {"result": signal_name(num)}
        if err != errno.EINTR:
            raise OSError(err, os.strerror(err))


def do_alarm(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    return {"result": signal.alarm(int(args["seconds"]))}  # seconds left of an earlier one


def do_setitimer(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    left, _ = signal.setitimer(signal.ITIMER_REAL, float(args["seconds"]))
    return {"result": 0, "facts": {"timer_left": round(left, 3)}}


def do_sleep(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    """sleep(3) / nanosleep(2) as the C shown: a caught signal ends either, SA_RESTART or
    not (signal(7)); sleep() then returns the whole seconds it did not sleep, nanosleep()
    fails with EINTR.  (time.sleep would sleep the rest after the handler, PEP 475.)"""
    seconds = float(args["seconds"])
    if seconds.is_integer():
        left = _libc.sleep(int(seconds))
        run_handlers()
        return {"result": left}
    sec, nsec = divmod(round(seconds * 1_000_000_000), 1_000_000_000)
    req = _Timespec(sec, nsec)
    as_in_c(lambda: _libc.nanosleep(ctypes.byref(req), None), restart=False)
    return {"result": 0}


def _sleep_call(seconds: float) -> str:
    """sleep(2) for whole seconds; nanosleep() for a time below a second (sleep() takes
    an unsigned int)."""
    if float(seconds).is_integer():
        return f"sleep({int(seconds)})"
    sec, nsec = divmod(round(float(seconds) * 1_000_000_000), 1_000_000_000)
    return f"nanosleep(&(struct timespec){{{sec}, {nsec}}}, NULL)"


def _timeval(seconds: float) -> str:
    sec, usec = divmod(round(float(seconds) * 1_000_000), 1_000_000)
    return f"{{{sec}, {usec}}}"


def _timespec(seconds: float) -> str:
    sec, nsec = divmod(round(float(seconds) * 1_000_000_000), 1_000_000_000)
    return f"{{{sec}, {nsec}}}"


# -- sigsuspend, sigtimedwait, sigqueue, raise ----------------------------------------

def do_sigsuspend(w: OpWorker, args: Args, pids: Pids, k: int) -> NoReturn:
    """The real sigsuspend(2): the mask becomes `signals` and the process sleeps, in one
    call, until a handler has run; then the old mask is back and it returns -1 / EINTR."""
    mask = sigset_of(args["signals"])
    _libc.sigsuspend(mask)
    err = ctypes.get_errno()
    run_handlers()
    raise OSError(err, os.strerror(err))


def do_sigtimedwait(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    """The real sigtimedwait(2), with a siginfo_t of our own: the sender's pid and the value
    sigqueue() sent are read from what the kernel wrote, not from Python's struct (which
    has no si_value)."""
    info = SigInfo()
    sec, nsec = divmod(round(float(args["timeout"]) * 1_000_000_000), 1_000_000_000)
    timeout = _Timespec(sec, nsec)
    num = _libc.sigtimedwait(sigset_of(args["signals"]), ctypes.byref(info),
                             ctypes.byref(timeout))
    if num < 0:
        err = ctypes.get_errno()
        run_handlers()
        raise OSError(err, os.strerror(err))  # EAGAIN: nothing came in time
    return {"result": signal_name(num), "facts": siginfo_facts(info)}


def do_sigqueue(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    from .process import of_this_run

    pid = pids[args["target"]]
    if not isinstance(pid, int) or pid <= 0 or not of_this_run(pid, w.rundir.run_id):
        raise OSError(errno.ESRCH, f"{args['target']} is no process of this run")
    # union sigval is passed as one register: sival_int in its low 32 bits.
    value = ctypes.c_long(int(args.get("value", 0)) & 0xFFFFFFFF)
    if _libc.sigqueue(pid, signum_of(args["signal"]), value) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return {"result": 0, "signalled": [{"pid": pid, "signal": args["signal"]}]}


def do_raise(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    # raise(3) is tgkill(getpid(), gettid(), sig): pending for this thread (SigPnd) while
    # blocked; a handler runs before it returns.
    signal.raise_signal(signum_of(args["signal"]))
    return {"result": 0, "signalled": [{"pid": os.getpid(), "signal": args["signal"]}]}


# -- core dumps and faults -------------------------------------------------------------

def core_pattern() -> str:
    try:
        with open(CORE_PATTERN) as f:
            return f.read().strip()
    except OSError:
        return "?"


def _cores_off() -> str:
    """RLIMIT_CORE 0, so the "core" action writes no file anywhere.  When core_pattern
    pipes cores to a program, the kernel ignores RLIMIT_CORE: then the process is also
    marked not dumpable (prctl PR_SET_DUMPABLE 0)."""
    pattern = core_pattern()
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    if pattern.startswith("|") or pattern == "?":
        _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    return pattern


def do_setrlimit(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    if int(args["limit"]) != 0:
        # A core could land outside the run's directory (or in a crash reporter).
        raise OSError(errno.EPERM, "ipcviz only lowers RLIMIT_CORE to 0")
    pattern = _cores_off()
    return {"result": 0, "facts": {"core_pattern": pattern}}


_FAULT_SIGNAL = {"segv": signal.SIGSEGV, "bus": signal.SIGBUS, "fpe": signal.SIGFPE}


def traps_on_division_by_zero() -> bool:
    """x86 raises a divide error (SIGFPE); arm64 and most RISC machines return 0."""
    return platform.machine() in ("x86_64", "i386", "i686", "AMD64")


def do_raise_fault(w: OpWorker, args: Args, pids: Pids, k: int) -> NoReturn:
    kind = args["kind"]
    sig = _FAULT_SIGNAL[kind]
    _cores_off()
    faulthandler.disable()
    signal.signal(sig, signal.SIG_DFL)  # the default action, as in a C program
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
    if kind == "segv":
        ctypes.string_at(0)  # read address 0: no page there
    elif kind == "bus":
        page = mmap.PAGESIZE
        # In the run's private directory, never through a link, never an existing file.
        name = f"bus-page.{os.getpid()}"
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
        os.unlink(name)  # the mapping keeps the file; nothing is left in the directory
        os.ftruncate(fd, page)
        m = mmap.mmap(fd, page)
        os.ftruncate(fd, 0)  # the file no longer has the mapped page
        m[0]  # touching it: no page of the file to map -> SIGBUS
    elif kind == "fpe":
        _libc.div(1, 0)  # glibc div(): an idiv instruction
        if not traps_on_division_by_zero():
            os.kill(os.getpid(), sig)  # this CPU returned 0: send SIGFPE by hand (narrated)
    raise OSError(errno.EFAULT, "the fault did not happen")


def _call_fault(w: OpWorker, a: Args, p: Pids) -> str:
    kind = a["kind"]
    if kind == "segv":
        return "*(volatile char *)0   /* read address 0 */"
    if kind == "bus":
        return "ftruncate(fd, 0); p[0]   /* touch a mapped page the file no longer has */"
    if traps_on_division_by_zero():
        return "div(1, 0)   /* idiv by zero */"
    return f"div(1, 0) = 0 ({platform.machine()} does not trap); raise(SIGFPE)"


# -- a pseudo-terminal ------------------------------------------------------------------

def _master(w: OpWorker, obj: str) -> int:
    fd = w.ends.get(f"{obj}.master")
    if fd is None:
        raise OSError(errno.EBADF, f"{w.name} holds no master of {obj}")
    return fd


def _slave(w: OpWorker, obj: str) -> int:
    fd = w.ends.get(f"{obj}.slave")
    if fd is None:
        raise OSError(errno.EBADF, f"{w.name} holds no slave of {obj}")
    return fd


def do_openpty(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    master, slave = os.openpty()
    os.set_inheritable(master, True)
    os.set_inheritable(slave, True)
    w.ends[f"{obj}.master"] = master
    w.ends[f"{obj}.slave"] = slave
    slave_path = os.ttyname(slave)
    master_target = os.readlink(f"/proc/self/fd/{master}")
    return {"result": [master, slave],
            "objects": [{"id": obj, "kind": "pty", "slave": slave_path,
                         "master_target": master_target, "tty_index": _tty_index(master),
                         "fd_targets": [master_target, slave_path],
                         "fd_ends": {master_target: "master", slave_path: "slave"}}]}


def do_setsid(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    os.setsid()
    return {"result": os.getsid(0)}  # setsid() returns the new session id


def do_set_ctty(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fcntl.ioctl(_slave(w, args["object"]), termios.TIOCSCTTY, 0)
    return {"result": 0}


def keys_bytes(keys: str) -> bytes:
    """'^C' -> b'\\x03', '^\\\\' -> b'\\x1c'; other characters as they are."""
    out = bytearray()
    i = 0
    while i < len(keys):
        if keys[i] == "^" and i + 1 < len(keys):
            out.append(ord(keys[i + 1].upper()) ^ 0x40)
            i += 2
        else:
            out.extend(keys[i].encode())
            i += 1
    return bytes(out)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode()
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()


def _signals_of_keys(master: int, data: bytes) -> list[str]:
    """Which signals the line discipline sends for these bytes, from the terminal's own
    settings (ISIG and the c_cc characters of tcgetattr)."""
    attrs = termios.tcgetattr(master)
    lflag, cc = attrs[3], attrs[6]
    if not lflag & termios.ISIG:
        return []
    table = {termios.VINTR: "SIGINT", termios.VQUIT: "SIGQUIT", termios.VSUSP: "SIGTSTP"}
    out = []
    for b in data:
        for idx, sig in table.items():
            c = cc[idx]
            c = c[0] if isinstance(c, bytes) else c
            if c == b:
                out.append(sig)
    return out


def do_type(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    master = _master(w, args["object"])
    data = keys_bytes(args["keys"])
    sigs = _signals_of_keys(master, data)
    try:
        fg = os.tcgetpgrp(master)
    except OSError:
        fg = None
    n = os.write(master, data)
    # The line discipline sends them from a kernel worker, after write() returned: tell
    # the conductor whom to wait for (the scenario's processes in the foreground group).
    signalled = []
    if fg is not None:
        for pid in pids.values():
            f = _stat_fields(pid)
            if f is not None and f[0] != "Z" and int(f[2]) == fg:
                signalled += [{"pid": pid, "signal": s} for s in sigs]
    return {"result": n, "signalled": signalled}


def _tty_index(fd: int, pid: int | str = "self") -> int | None:
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}") as f:
            for line in f:
                if line.startswith("tty-index:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _others_hold_master(pids: Pids, target: str, index: int | None) -> bool:
    me = os.getpid()
    for pid in pids.values():
        if pid == me:
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") != target:
                    continue
            except OSError:
                continue
            if index is None or _tty_index(int(fd), pid) == index:
                return True
    return False


def do_close_pty(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj, end = args["object"], args["end"]
    if end == "slave":
        fd = _slave(w, obj)
        os.close(fd)
        del w.ends[f"{obj}.slave"]
        return {"result": 0}
    fd = _master(w, obj)
    target = os.readlink(f"/proc/self/fd/{fd}")
    index = _tty_index(fd)
    try:
        leader = struct.unpack("i", fcntl.ioctl(fd, TIOCGSID, b"\0\0\0\0"))[0]
    except OSError:
        leader = None  # the terminal is nobody's controlling terminal
    os.close(fd)
    del w.ends[f"{obj}.master"]
    # The last close of the master hangs the terminal up: the kernel sends SIGHUP (and
    # SIGCONT) to the session leader of the terminal, inside close().
    signalled = []
    if leader is not None and leader in pids.values() and not _others_hold_master(
            pids, target, index):
        signalled.append({"pid": leader, "signal": "SIGHUP"})
    return {"result": 0, "signalled": signalled}


OPS: dict[str, Op] = {
    "sigprocmask": do_sigprocmask, "pause": do_pause, "sigwait": do_sigwait,
    "alarm": do_alarm, "sleep": do_sleep, "raise_fault": do_raise_fault,
    "setitimer": do_setitimer, "sigsuspend": do_sigsuspend, "sigtimedwait": do_sigtimedwait,
    "sigqueue": do_sigqueue, "raise": do_raise,
    "setrlimit": do_setrlimit, "openpty": do_openpty, "setsid": do_setsid,
    "set_ctty": do_set_ctty, "type": do_type, "close_pty": do_close_pty,
}

_HOW_C = {"block": "SIG_BLOCK", "unblock": "SIG_UNBLOCK", "setmask": "SIG_SETMASK"}


def _set(names: list[str]) -> str:
    return "{" + ", ".join(names) + "}"


def _call_type(w: OpWorker, a: Args, p: Pids) -> str:
    data = keys_bytes(a["keys"])
    text = "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in data)
    return f'write({_master(w, a["object"])}, "{text}", {len(data)})   /* typed: {a["keys"]} */'


CALLS: dict[str, Call] = {
    "sigprocmask": lambda w, a, p: f"sigprocmask({_HOW_C[a['how']]}, {_set(a['signals'])}, "
                                   "NULL)",
    "pause": lambda w, a, p: "pause()",
    "sigwait": lambda w, a, p: f"sigwait({_set(a['signals'])}, &sig)",
    "alarm": lambda w, a, p: f"alarm({a['seconds']})",
    "sleep": lambda w, a, p: _sleep_call(a["seconds"]),
    "setitimer": lambda w, a, p: "setitimer(ITIMER_REAL, &(struct itimerval){{0, 0}, "
                                 f"{_timeval(a['seconds'])}}}, &old)",
    "sigsuspend": lambda w, a, p: f"sigsuspend({_set(a['signals'])})",
    "sigtimedwait": lambda w, a, p: f"sigtimedwait({_set(a['signals'])}, &info, "
                                    f"&(struct timespec){_timespec(a['timeout'])})",
    "sigqueue": lambda w, a, p: f"sigqueue({p.get(a['target'], '?')}, {a['signal']}, "
                                f"(union sigval){{.sival_int = {a.get('value', 0)}}})",
    "raise": lambda w, a, p: f"raise({a['signal']})",
    "raise_fault": _call_fault,
    "setrlimit": lambda w, a, p: f"setrlimit(RLIMIT_CORE, {{{a['limit']}, ...}})   "
                                 f"/* core_pattern: {core_pattern()} */",
    "openpty": lambda w, a, p: "openpty(&master, &slave, NULL, NULL, NULL)",
    "setsid": lambda w, a, p: "setsid()",
    "set_ctty": lambda w, a, p: f"ioctl({_slave(w, a['object'])}, TIOCSCTTY, 0)",
    "type": _call_type,
    "close_pty": lambda w, a, p: f"close({w.ends.get(a['object'] + '.' + a['end'], '?')})",
}

ARG0: dict[str, Arg0] = {}
