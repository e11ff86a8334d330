"""The runner: ipcviz's guardian process of one run.

Started by the conductor as a clean child (its own session and process group, stdin from
/dev/null, stdout and stderr to the run's log).  It forks the scenario's root processes when
told, is their parent and the subreaper of their orphans (so every exit status is reported),
and ends every process of the run when the conductor closes the connection or dies — even by
SIGKILL, because then the kernel closes the connection for it.

    python -m ipcviz.runtime.runner SOCKET_PATH RUN_ID
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType

from .cleanup import kill_run_processes
from .protocol import LineReader, encode

PR_SET_CHILD_SUBREAPER = 36
REAP_BOUND = 3.0  # seconds the runner waits, at its end, for killed children to be reaped


def _prctl(option: int, arg: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0)


def main(argv: list[str]) -> int:
    socket_path, run_id = argv[0], argv[1]
    from .worker import reset_signals

    reset_signals()  # not what the starter had: a background job ignores SIGINT and SIGQUIT
    # The runner itself is no lesson process: a send to a conductor that died must fail with
    # EPIPE (caught), not kill the runner before it has ended the run.  Workers reset this.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    stop = {"now": False}

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop["now"] = True

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_term)

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(socket_path)
    conn.sendall(encode({"t": "hello", "role": "runner", "pid": os.getpid()}))
    reader = LineReader()
    orderly = False  # the conductor said "shutdown": it removes the run's objects itself
    try:
        while not stop["now"]:
            try:
                watched: list[socket.socket | int] = [conn, wake_r]
                ready, _, _ = select.select(watched, [], [], 1.0)
            except InterruptedError:
                continue
            if wake_r in ready:
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
            _reap(conn)
            if conn in ready:
                data = conn.recv(65536)
                if not data:
                    break  # the conductor is gone
                for msg in reader.feed(data):
                    if msg.get("t") == "spawn":
                        pid = os.fork()
                        if pid == 0:
                            signal.set_wakeup_fd(-1)
                            os.close(wake_r)
                            os.close(wake_w)
                            conn.close()
                            from .worker import become_worker

                            become_worker(msg["name"], socket_path)
                        conn.sendall(encode({"t": "spawned", "name": msg["name"], "pid": pid}))
                    elif msg.get("t") == "shutdown":
                        stop["now"] = True
                        orderly = True
    finally:
        kill_run_processes(run_id, exclude=(os.getpid(),))
        try:
            _reap(conn, until_none=True)
        except OSError:
            pass
        if not orderly:
            # The conductor died (SIGKILL, SIGTERM, SIGHUP, a crash) or we were told to
            # stop by a signal: nobody else will remove the run's kernel objects now.
            _remove_run(run_id)
    return 0


def _remove_run(run_id: str) -> None:
    from .rundir import RunDir
    from .sweep import remove_objects

    rd = RunDir(run_id, Path.cwd())  # the runner works in the run's directory
    if rd.info_path.exists():
        try:
            remove_objects(rd)
        except Exception as err:  # noqa: BLE001 - still remove the directory below
            # what is left is in the manifest only if the directory stays: keep it then,
            # so that `ipcviz clean` can finish the job
            print(f"runner: removing objects failed: {type(err).__name__}: {err}",
                  file=sys.stderr, flush=True)
            return
        rd.remove()


def _reap(conn: socket.socket, until_none: bool = False) -> None:
    """Reap and report every child that has ended.  until_none (at the end of the run):
    also wait, within a bound, for those still exiting — a worker that is leaving on its own
    (EOF on its control socket) may be past the point where the kill finds it but not yet a
    zombie, and the runner must not leave it to init unreaped."""
    deadline = time.monotonic() + REAP_BOUND
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no child left at all
        if pid == 0:
            if not until_none or time.monotonic() > deadline:
                return
            time.sleep(0.002)
            continue
        try:
            conn.sendall(encode({"t": "reaped", "pid": pid, "status": status}))
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
