"""ipcviz.serve: the app in a browser, for a projector or a class (textual-serve).

    ipcviz serve                    the lesson picker, on http://127.0.0.1:8000/
    ipcviz serve pipe/eof           every viewer opens on that lesson

Each browser connection gets its own app process and so its own isolated run; the number
of viewers is capped (--max-viewers).  See server.py for how, and for the bounded stop.
"""

from __future__ import annotations

import os

ENV_SERVE = "IPCVIZ_SERVE"  # every app process of a server: IPCVIZ_SERVE=<pid>:<start time>
QUIT_BOUND = 8.0  # seconds an orphaned app may take to close its run after SIGTERM


def server_mark(pid: int, start: int | None) -> str:
    """The value of IPCVIZ_SERVE for the apps of the server (pid, start time in ticks)."""
    # an unknown start is left empty (still a mark parse_mark reads), never "None"
    return f"{pid}:{'' if start is None else start}"


def parse_mark(mark: str | bytes) -> tuple[int, int | None] | None:
    """(server pid, start time) from an IPCVIZ_SERVE value; None if it is not one."""
    text = mark.decode(errors="replace") if isinstance(mark, bytes) else mark
    pid_text, _, start_text = text.partition(":")
    if not pid_text.isdigit() or (start_text and not start_text.isdigit()):
        return None
    return int(pid_text), int(start_text) if start_text else None


def orphaned_apps(conductors: set[int]) -> list[int]:
    """Of `conductors` (the conductors of live runs in this runtime root), those marked by a
    server that is gone (its pid dead, or reused by a process that started later): apps
    whose parent-death signal did not end them.  Their runs look alive to the sweep, so
    `ipcviz clean` ends them first.  Only this root's conductors: another root's served
    apps are not ours to judge."""
    from ..runtime.cleanup import marked_processes
    from ..runtime.rundir import process_start_time

    found = []
    for pid, env in marked_processes(ENV_SERVE, exclude=(os.getpid(),)):
        mark = parse_mark(env[ENV_SERVE])
        if pid not in conductors or mark is None:
            continue
        server, start = mark
        now = process_start_time(server)
        if now is None or (start is not None and now != start):
            found.append(pid)
    return found


def end_orphaned_apps(conductors: set[int], dry_run: bool = False) -> list[str]:
    """SIGTERM each orphaned app (it closes its run), SIGKILL what is left after a bound
    (its runner then removes the run); one report line per app."""
    import psutil

    pids = orphaned_apps(conductors)
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.Error:
            continue
    report = [f"served app {p.pid} (its server is gone)" for p in procs]
    if dry_run or not procs:
        return report
    for p in procs:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=QUIT_BOUND)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=3.0)
    return report


def die_with_server() -> None:
    """In an app process started by `ipcviz serve` (IPCVIZ_SERVE=<server pid>:<start> in its
    environment): ask the kernel for SIGTERM when the server dies (PR_SET_PDEATHSIG), and
    end now if it is gone already.  A SIGKILLed server thus leaves no app behind, and the
    app's runner removes its run.  Core-free: no textual, no rich."""
    import ctypes
    import signal

    mark = parse_mark(os.environ.get(ENV_SERVE, ""))
    if mark is None:
        return
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, ctypes.c_ulong(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != mark[0]:
        raise SystemExit(3)  # the server died before the request above: so do we
