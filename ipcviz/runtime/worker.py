"""A scenario process: waits for a step, makes the one system call, reports what happened.

Runs in a process forked by the runner (a root of the scenario) or by another worker (a
`fork` step).  It never writes to the terminal: stdout and stderr are the run's log, and
its working directory is the run's private directory.
"""

from __future__ import annotations

import errno as errno_mod
import fcntl
import json
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..scenario.actions import ACTIONS
from ..scenario.limits import MAX_FD, int_range, reserved_fd, seconds_ok
from .ops import ARG0, CALLS, OPS, WANTS, load_all
from .ops.process import AFTER_EXEC, STARTUP_SIGNALS
from .ops.fds import note_read
from .protocol import CONTROL_FD, LineReader, send_fd
from .rundir import ENV_RUN, RunDir


def refused(action: str, args: dict[str, Any]) -> OSError | None:
    """Why a step may not run here even though the conductor sent it (defence in depth:
    the loader refuses these already): an fd of ipcviz's, a number out of its range."""
    spec = ACTIONS.get(action)
    if spec is None:
        return OSError(errno_mod.ENOSYS, f"unknown action {action!r}")
    for arg in spec.args:
        value = args.get(arg.name)
        if value is None:
            continue
        if arg.type == "fd" or (action, arg.name) == ("dup2", "to"):
            if reserved_fd(value):
                return OSError(errno_mod.EBADF, f"fd {value} is not the lesson's")
        elif arg.type == "seconds" and not seconds_ok(action, arg.name, value):
            return OSError(errno_mod.EINVAL, f"{arg.name} = {value!r} is out of range")
        elif arg.type == "int":
            low, high = int_range(action, arg.name)
            if isinstance(value, bool) or not isinstance(value, int) \
                    or not low <= value <= high:
                return OSError(errno_mod.EINVAL, f"{arg.name} = {value!r} is out of range")
    return None


class Worker:
    def __init__(self, name: str, socket_path: str) -> None:
        load_all()
        self.name = name
        self.socket_path = socket_path
        self.ends: dict[str, int] = {}  # "p.read" -> fd, inherited through fork
        self.handles: dict[str, Any] = {}  # other per-object handles of a mechanism
        self.facts: dict[str, Any] = {}  # what this process knows (see ops: "facts")
        self.runs: list[list[int]] = []
        self.reader = LineReader()
        self.rundir = RunDir(os.environ.get(ENV_RUN, "?"), Path.cwd())

    # -- the control channel -----------------------------------------------------------

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.socket_path)
        fd = s.detach()
        if fd != CONTROL_FD:
            os.dup2(fd, CONTROL_FD, inheritable=False)
            os.close(fd)
        self.reader = LineReader()
        self.send({"t": "hello", "role": "worker", "name": self.name, "pid": os.getpid()})

    def become_child(self, name: str) -> None:
        """In a freshly forked child: own name, own connection, nothing read yet."""
        os.close(CONTROL_FD)
        self.name = name
        self.facts = {}
        self.runs = []
        self.connect()

    def send(self, msg: dict[str, Any]) -> None:
        send_fd(CONTROL_FD, msg)

    def commands(self) -> Iterator[dict[str, Any]]:
        while True:
            try:
                data = os.read(CONTROL_FD, 65536)
            except InterruptedError:
                continue
            if not data:
                return  # the conductor is gone: so is this run
            yield from self.reader.feed(data)

    def loop(self) -> None:
        for cmd in self.commands():
            if cmd.get("t") == "step":
                self.run_step(cmd)
        os._exit(0)

    def run_steps_until(self, action: str) -> None:
        """Take steps until one of `action` (a held handler's handler_return: reported
        done here, then the caller returns); the run's end ends the process."""
        for cmd in self.commands():
            if cmd.get("t") != "step":
                continue
            if cmd.get("action") == action:
                self.send({"t": "began", "step": cmd["step"], "call": "return"})
                self.send({"t": "done", "step": cmd["step"], "result": 0})
                return
            self.run_step(cmd)
        os._exit(0)

    # -- steps --------------------------------------------------------------------------

    def run_step(self, cmd: dict[str, Any]) -> None:
        k = cmd["step"]
        action = cmd["action"]
        args = cmd.get("args", {})
        pids = cmd.get("pids", {})
        began: dict[str, Any] = {"t": "began", "step": k}
        why = refused(action, args)
        if why is not None:
            self.send(began)
            self._failed(k, why)
            return
        try:
            began["call"] = CALLS[action](self, args, pids) if action in CALLS else action
            if action in ARG0:
                began["arg0"] = ARG0[action](self, args, pids)
            if action in WANTS:
                began["wants"] = WANTS[action](self, args, pids)
        except OSError:
            pass  # the call itself will fail, and say why
        except Exception as err:  # noqa: BLE001 - a bug, or a step the loader should refuse
            self._error(k, err)
            return
        self.send(began)
        try:
            outcome = OPS[action](self, args, pids, k)
        except OSError as err:
            self._failed(k, err)
            return
        except Exception as err:  # noqa: BLE001 - never a fake "returned": a protocol error
            self._error(k, err)
            return
        if outcome is None:
            return  # a fork child: the step is its parent's
        outcome.setdefault("t", "done")
        outcome["step"] = k
        self.send(outcome)

    def _failed(self, k: int, err: OSError) -> None:
        self.send({"t": "failed", "step": k,
                   "errno": errno_mod.errorcode.get(err.errno or 0, str(err.errno)),  # 0: none
                   "errno_num": err.errno, "message": err.strerror})

    def _error(self, k: int, err: Exception) -> None:
        """The step could not be run at all (not a failed call): the run cannot go on."""
        self.send({"t": "error", "step": k, "message": f"{type(err).__name__}: {err}"[:200]})

    def note_read(self, data: bytes) -> dict[str, Any]:
        return note_read(self.facts, self.runs, data)


def reset_signals() -> None:
    """Start as a C program started from a clean shell: every catchable signal at SIG_DFL,
    nothing blocked, nothing pending.  Python ignores SIGPIPE and catches SIGINT; a shell's
    background job (`cmd &`) ignores SIGINT and SIGQUIT, and dispositions set to "ignore"
    survive fork and exec; so does the blocked mask."""
    catchable = [s for s in signal.valid_signals()
                 if s not in (signal.SIGKILL, signal.SIGSTOP)]
    signal.pthread_sigmask(signal.SIG_BLOCK, catchable)
    for sig in catchable:
        try:
            # "ignore" first: the kernel discards a pending signal whose action becomes
            # SIG_IGN, so none arrives when the mask opens below.
            signal.signal(sig, signal.SIG_IGN)
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # the C library keeps a few real-time signals for itself (EINVAL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _still_open(fd: object) -> bool:
    if not isinstance(fd, int) or isinstance(fd, bool) or not 0 <= fd <= MAX_FD:
        return False
    try:
        fcntl.fcntl(fd, fcntl.F_GETFD)
    except OSError:
        return False  # closed by execve (FD_CLOEXEC)
    return True


def resume_after_exec(blob: str) -> None:
    """The new image of a process whose exec step ran (ops/process.py do_exec): the same
    pid and the same control channel (fd 900, inherited), the ends that survived execve.
    It reports the exec step done, then takes steps as before.  Never returns."""
    code = 0
    try:
        state = json.loads(blob)
        ignored = set(state["ignored"])
        for sig in STARTUP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN if sig in ignored else signal.SIG_DFL)
        os.set_inheritable(CONTROL_FD, False)
        w = Worker(str(state["name"]), str(state["socket"]))
        w.ends = {str(e): fd for e, fd in state["ends"].items() if _still_open(fd)}
        w.send({"t": "done", "step": int(state["step"]), "result": 0})
        w.loop()
    except BaseException as err:  # noqa: BLE001 - report, and end as a worker ends
        print(f"worker after exec: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        code = 70
    finally:
        os._exit(code)


def become_worker(name: str, socket_path: str) -> None:
    """Called in a freshly forked child of the runner: never returns."""
    code = 0
    try:
        reset_signals()
        w = Worker(name, socket_path)
        w.connect()
        w.loop()
    except BaseException as err:  # noqa: BLE001 - a child must never return into the runner
        print(f"worker {name}: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        code = 70
    finally:
        os._exit(code)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == AFTER_EXEC:
    resume_after_exec(sys.argv[2])
