"""The signals of this system, read from the system rather than typed in.

    signal_table() -> list[SignalInfo]

Where each column comes from:
  * number and name: signal.valid_signals() of this system (glibc leaves out the two it
    keeps for itself, 32 and 33), names from Python's signal module; real-time signals
    named SIGRTMIN+n / SIGRTMAX-n from signal.SIGRTMIN / SIGRTMAX, as `kill -l` does;
  * description: signal.strsignal() (the C library's strsignal());
  * can be caught / blocked: measured in a child process: a real sigaction() with a
    handler (the kernel answers EINVAL for SIGKILL and SIGSTOP) and a real sigprocmask()
    read back (the kernel silently drops SIGKILL and SIGSTOP from a blocked mask);
  * default action: measured -- for each signal a child (a fork that exec()s `sleep`, all
    dispositions SIG_DFL, nothing blocked, in a process group of its own that is not
    orphaned) is sent the signal, and we look at what the kernel did: waitpid() says it
    was terminated (and whether a core was dumped) or stopped; SIGCONT is sent to a
    stopped child and waitpid() says it continued; a child still asleep with nothing
    pending was left alone: ignored.  Core versus terminate can only be told apart by
    letting the kernel write a core file: that is done only when core_pattern is a plain
    relative file name (the core lands in a private temporary directory, removed at once,
    with /proc/self/coredump_filter 0 so it is small).  Otherwise (core_pattern pipes to a
    crash reporter, or names another directory) a signal that terminated is marked
    "terminate or core" and `default_source` says why.
Every wait is bounded; the result is cached per process (signal_table(refresh=True) to
measure again).

`python -m ipcviz.probe.signal_table` measures in a process of its own and prints
{"signals": [...]} as one JSON line (the app starts it so, never forking itself); SIGTERM
ends it between two signals, every child reaped.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import tempfile
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import FrameType
from typing import Any

from . import procfs

CORE_PATTERN = "/proc/sys/kernel/core_pattern"
WAIT_BOUND = 2.0  # seconds for one signal's measurement


class Stopped(Exception):
    """The measurement was asked to end before it was complete."""


@dataclass(frozen=True)
class SignalInfo:
    number: int
    name: str  # "SIGINT", "SIGRTMIN+3", "SIGRTMAX-2"
    description: str  # strsignal()
    default_action: str  # terminate / core / "terminate or core" / stop / continue / ignore / ?
    can_catch: bool  # sigaction() with a handler succeeded
    can_block: bool  # sigprocmask() kept it in the blocked mask
    default_source: str = "measured"  # how the default action was found


def rt_name(n: int) -> str:
    lo, hi = int(signal.SIGRTMIN), int(signal.SIGRTMAX)
    if n - lo <= hi - n:
        return "SIGRTMIN" if n == lo else f"SIGRTMIN+{n - lo}"
    return "SIGRTMAX" if n == hi else f"SIGRTMAX-{hi - n}"


def signal_name_of(n: int) -> str:
    if signal.SIGRTMIN <= n <= signal.SIGRTMAX:
        return rt_name(n)
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"SIG{n}"


def _core_pattern() -> str:
    try:
        with open(CORE_PATTERN) as f:
            return f.read().strip()
    except OSError:
        return ""


def _core_measurable() -> tuple[bool, str]:
    pattern = _core_pattern()
    if not pattern:
        return False, "core_pattern is unreadable or empty"
    if pattern.startswith("|"):
        return False, f"core_pattern pipes cores to a program ({pattern.split()[0]}): not measured"
    if "/" in pattern:
        return False, f"core_pattern writes to another directory ({pattern}): not measured"
    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        return False, "the hard RLIMIT_CORE is 0: no core can be written"
    return True, "measured"


def _sleeper(sig: int | None, workdir: str, allow_core: bool) -> tuple[int, int]:
    """Fork a child that execs `sleep`, with every disposition SIG_DFL and nothing blocked.
    Returns (pid, fd): the fd reads EOF once the exec happened (O_CLOEXEC pipe)."""
    sleep = shutil.which("sleep") or "/bin/sleep"
    r, w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # the child: only async-signal-safe-ish work, then exec
        try:
            os.close(r)
            os.setpgid(0, 0)  # own group, parent in the same session: not orphaned
            for n in signal.valid_signals():
                if n not in (signal.SIGKILL, signal.SIGSTOP):
                    try:
                        signal.signal(n, signal.SIG_DFL)
                    except (OSError, ValueError):
                        pass
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.chdir(workdir)
            soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
            if allow_core:
                resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
                with open("/proc/self/coredump_filter", "w") as f:
                    f.write("0")  # a small core: headers and notes only
            else:
                resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
            os.execv(sleep, [sleep, "10"])
        finally:
            os._exit(127)
    os.close(w)
    return pid, r


def _wait_exec(fd: int) -> None:
    try:
        os.read(fd, 1)  # EOF: the child has exec()ed (or died)
    finally:
        os.close(fd)


def _poll(pid: int, deadline: float, flags: int) -> tuple[int, int]:
    while True:
        wpid, status = os.waitpid(pid, os.WNOHANG | flags)
        if wpid:
            return wpid, status
        if time.monotonic() > deadline:
            return 0, 0
        time.sleep(0.001)


def _settled_alive(pid: int, sig: int) -> bool:
    """Asleep (S) with the signal not pending: the kernel discarded it."""
    try:
        st = procfs.read_stat(pid)
        s = procfs.read_status_signals(pid)
    except procfs.NoSuchProcess:
        return False
    return st.state == "S" and sig not in (s.pending | s.shared_pending)


def _finish(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _measure_default(sig: int, workdir: str, allow_core: bool) -> str:
    pid, fd = _sleeper(sig, workdir, allow_core)
    try:
        _wait_exec(fd)
        deadline = time.monotonic() + WAIT_BOUND
        if sig == signal.SIGCONT:
            os.kill(pid, signal.SIGSTOP)
            if not _poll(pid, deadline, os.WUNTRACED)[0]:
                return "?"
            os.kill(pid, sig)
            wpid, status = _poll(pid, deadline, os.WCONTINUED)
            return "continue" if wpid and os.WIFCONTINUED(status) else "?"
        os.kill(pid, sig)
        while True:
            wpid, status = os.waitpid(pid, os.WNOHANG | os.WUNTRACED)
            if wpid:
                if os.WIFSIGNALED(status):
                    if os.WCOREDUMP(status):
                        return "core"
                    return "terminate" if allow_core else "terminate or core"
                if os.WIFSTOPPED(status):
                    return "stop"
                return "?"
            if _settled_alive(pid, sig):
                return "ignore"
            if time.monotonic() > deadline:
                return "?"
            time.sleep(0.001)
    finally:
        _finish(pid)


def _catch_and_block(signals: list[int]) -> dict[int, tuple[bool, bool]]:
    """In a child: a real sigaction() with a handler and a real sigprocmask() per signal."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            out = []
            for n in signals:
                try:
                    signal.signal(n, lambda *_: None)
                    catch = True
                except OSError:
                    catch = False  # EINVAL from the kernel
                signal.pthread_sigmask(signal.SIG_BLOCK, [n])
                block = n in signal.pthread_sigmask(signal.SIG_BLOCK, [])
                out.append(f"{n} {int(catch)} {int(block)}")
            os.write(w, ("\n".join(out) + "\n").encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    try:
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    res = {}
    for line in data.decode().splitlines():
        n, c, b = (int(x) for x in line.split())
        res[n] = (bool(c), bool(b))
    return res


_CACHE: list[SignalInfo] | None = None


def signal_table(refresh: bool = False,
                 stop: Callable[[], bool] | None = None) -> list[SignalInfo]:
    """Every signal of this system, measured (see the module's docstring).  `stop()` is
    asked between two signals; True raises Stopped (every child already reaped)."""
    global _CACHE
    if _CACHE is not None and not refresh:
        return list(_CACHE)
    nums = sorted(int(n) for n in signal.valid_signals())
    caps = _catch_and_block(nums)
    allow_core, why = _core_measurable()
    workdir = tempfile.mkdtemp(prefix="ipcviz-signals-")
    try:
        out = []
        for n in nums:
            if stop is not None and stop():
                raise Stopped()
            action = _measure_default(n, workdir, allow_core)
            source = "measured" if action != "terminate or core" else f"measured; {why}"
            catch, block = caps.get(n, (False, False))
            out.append(SignalInfo(n, signal_name_of(n), signal.strsignal(n) or "", action,
                                  catch, block, source))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the core files, if any
    _CACHE = out
    return list(out)


def to_json(rows: list[SignalInfo]) -> str:
    return json.dumps({"signals": [asdict(r) for r in rows]})


def from_json(data: dict[str, Any]) -> list[SignalInfo]:
    """The rows of to_json()'s object; ValueError if it is not one."""
    try:
        return [SignalInfo(**row) for row in data["signals"]]
    except (KeyError, TypeError) as err:
        raise ValueError(f"not a signal table: {err}") from None


def main() -> int:
    """Measure in this process, print one JSON line; end early on SIGTERM / SIGHUP or when
    the parent is gone (exit 3, nothing printed)."""
    ended = False
    parent = os.getppid()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal ended
        ended = True

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        try:
            rows = signal_table(stop=lambda: ended or os.getppid() != parent)
        except Stopped:
            return 3
        try:
            print(to_json(rows), flush=True)
        except BrokenPipeError:
            return 3
        return 0
    finally:
        # Ending now: a late stop request (the app sends one per request) must not kill us
        # by Python's default action while the interpreter shuts down.
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
