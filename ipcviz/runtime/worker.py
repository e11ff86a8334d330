"""A scenario process: waits for a step, makes the one system call, reports what happened.

Runs in a process forked by the runner (a root of the scenario) or by another worker (a
`fork` step).  It never writes to the terminal: stdout and stderr are the run's log.
"""

from __future__ import annotations

import errno as errno_mod
import fcntl
import os
import re
import select
import signal
import socket
import sys
from typing import Any

from ..scenario.actions import SIZE_RE, signal_name, signal_number
from .protocol import CONTROL_FD, LineReader, send_fd

F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)
PREVIEW = 120  # bytes of read data sent back as text


class Worker:
    def __init__(self, name: str, socket_path: str) -> None:
        self.name = name
        self.socket_path = socket_path
        self.ends: dict[str, int] = {}  # "p.read" -> fd, inherited through fork
        self.reader = LineReader()

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

    def send(self, msg: dict[str, Any]) -> None:
        send_fd(CONTROL_FD, msg)

    def commands(self):
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

    # -- steps --------------------------------------------------------------------------

    def run_step(self, cmd: dict[str, Any]) -> None:
        k = cmd["step"]
        action = cmd["action"]
        args = cmd.get("args", {})
        pids = cmd.get("pids", {})
        handler = getattr(self, "do_" + action)
        began: dict[str, Any] = {"t": "began", "step": k}
        if "fd" in args:
            try:
                began["fd"] = self.fd(args["fd"])  # the number the call will get
            except OSError:
                pass  # the call itself will fail with EBADF
        self.send(began)
        try:
            outcome = handler(args, pids, k)
        except OSError as err:
            self.send(
                {
                    "t": "failed",
                    "step": k,
                    "errno": errno_mod.errorcode.get(err.errno, str(err.errno)),
                    "errno_num": err.errno,
                    "message": err.strerror,
                }
            )
            return
        if outcome is None:
            return  # fork child: already reported, or exit
        outcome.setdefault("t", "done")
        outcome["step"] = k
        self.send(outcome)

    def fd(self, ref: Any) -> int:
        if isinstance(ref, int):
            return ref
        if ref not in self.ends:
            raise OSError(errno_mod.EBADF, f"{self.name} holds no fd for {ref}")
        return self.ends[ref]

    def size(self, expr: Any, fd: int) -> int:
        if isinstance(expr, int):
            return expr
        m = SIZE_RE.match(expr)
        base_txt, op, n = m.groups()
        if base_txt == "capacity":
            base = fcntl.fcntl(fd, F_GETPIPE_SZ)
        elif base_txt == "PIPE_BUF":
            base = select.PIPE_BUF
        else:
            base = int(base_txt)
        if op == "+":
            return base + int(n)
        if op == "-":
            return max(0, base - int(n))
        if op == "*":
            return base * int(n)
        return base

    def do_pipe(self, args, pids, k):
        r, w = os.pipe()
        obj = args["object"]
        self.ends[f"{obj}.read"] = r
        self.ends[f"{obj}.write"] = w
        return {"result": [r, w], "ends": {"read": r, "write": w}}

    def do_fork(self, args, pids, k):
        child = args["child"]
        pid = os.fork()
        if pid == 0:
            # The child: same fds as the parent (the pipe ends are really shared), its own
            # control connection, its own name.
            os.close(CONTROL_FD)
            self.name = child
            self.connect()
            return None
        return {"result": pid}

    def do_close(self, args, pids, k):
        fd = self.fd(args["fd"])
        os.close(fd)
        for key, value in list(self.ends.items()):
            if value == fd:
                del self.ends[key]
        return {"result": 0}

    def do_dup2(self, args, pids, k):
        fd = self.fd(args["fd"])
        to = args["to"]
        r = os.dup2(fd, to)
        for key, value in list(self.ends.items()):
            if value == to and key != args["fd"]:
                del self.ends[key]
        return {"result": r}

    def do_write(self, args, pids, k):
        fd = self.fd(args["fd"])
        if "data" in args:
            payload = args["data"].encode()
            if "size" in args:
                n = self.size(args["size"], fd)
                payload = (payload * (n // max(1, len(payload)) + 1))[:n]
        else:
            n = self.size(args["size"], fd)
            payload = (args.get("fill") or "x").encode()[:1] * n
        if args.get("frame") == "length":
            payload = f"{len(payload)}:".encode() + payload
        n = os.write(fd, payload)
        return {"result": n}

    def do_read(self, args, pids, k):
        fd = self.fd(args["fd"])
        size = self.size(args.get("size", 4096), fd)
        chunks: list[bytes] = []
        if args.get("frame") == "length":
            header = b""
            while not header.endswith(b":"):
                b = os.read(fd, 1)
                if not b:
                    break
                header += b
            want = int(header[:-1] or b"0") if header.endswith(b":") else 0
            body = b""
            while len(body) < want:
                b = os.read(fd, want - len(body))
                if not b:
                    break
                body += b
            chunks = [body]
            result = len(body)
        elif args.get("all"):
            total = 0
            while total < size:
                b = os.read(fd, min(65536, size - total))
                if not b:
                    break
                chunks.append(b)
                total += len(b)
            result = total
        else:
            b = os.read(fd, size)
            chunks = [b]
            result = len(b)
        data = b"".join(chunks)
        return {
            "result": result,
            "data": data[:PREVIEW].decode("utf-8", "replace"),
            "runs": _runs(data),
        }

    def do_exit(self, args, pids, k):
        os._exit(int(args.get("status", 0)))

    def do_wait(self, args, pids, k):
        target = pids.get(args["child"], -1) if args.get("child") else -1
        pid, status = os.waitpid(target, 0)
        out: dict[str, Any] = {"result": pid, "status": status}
        if os.WIFEXITED(status):
            out["exit_code"] = os.WEXITSTATUS(status)
        elif os.WIFSIGNALED(status):
            out["exit_signal"] = signal_name(os.WTERMSIG(status))
            out["core"] = os.WCOREDUMP(status)
        return out

    def do_signal(self, args, pids, k):
        signum = signal_number(args["signal"])
        disp = args["disposition"]
        if disp == "ignore":
            signal.signal(signum, signal.SIG_IGN)
        elif disp == "default":
            signal.signal(signum, signal.SIG_DFL)
        else:
            signal.signal(signum, self._handler)
        return {"result": 0}

    def _handler(self, signum, frame):
        self.send({"t": "handled", "signal": signal_name(signum), "pid": os.getpid()})

    def do_kill(self, args, pids, k):
        target = pids[args["target"]]
        os.kill(target, signal_number(args["signal"]))
        return {"result": 0}


def _runs(data: bytes) -> list[list[int]]:
    """Maximal runs of one repeated byte: [[byte, length], ...] (for interleaving checks)."""
    return [[m.group()[0], len(m.group())] for m in _RUN_RE.finditer(data)]


_RUN_RE = re.compile(rb"(.)\1*", re.S)


def reset_signals() -> None:
    """C defaults: Python ignores SIGPIPE and catches SIGINT; a C program does neither."""
    for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGTERM,
                signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


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
