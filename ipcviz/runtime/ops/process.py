"""fork, exit, wait, signal dispositions, kill."""

from __future__ import annotations

import errno
import os
import signal
from typing import Any, NoReturn

from ...scenario.actions import signal_name
from .fds import signum_of, waitpid_as_in_c
from .types import Arg0, Args, Call, Op, OpWorker, Outcome, Pids


def do_fork(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome | None:
    child = args["child"]
    pid = os.fork()
    if pid == 0:
        # The child: same fds as the parent (pipe ends are really shared), its own control
        # connection, its own name, nothing yet read.
        w.become_child(child)
        return None
    return {"result": pid}


def do_exit(w: OpWorker, args: Args, pids: Pids, k: int) -> NoReturn:
    os._exit(int(args.get("status", 0)))


def do_wait(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    target = pids.get(args["child"], -1) if args.get("child") else -1
    pid, status = waitpid_as_in_c(target, 0)
    out: dict[str, Any] = {"result": pid, "status": status}
    if os.WIFEXITED(status):
        out["exit_code"] = os.WEXITSTATUS(status)
    elif os.WIFSIGNALED(status):
        out["exit_signal"] = signal_name(os.WTERMSIG(status))
        out["core"] = os.WCOREDUMP(status)
    return out


def do_signal(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    signum = signum_of(args["signal"])
    disp = args["disposition"]
    if disp == "ignore":
        signal.signal(signum, signal.SIG_IGN)
    elif disp == "default":
        signal.signal(signum, signal.SIG_DFL)
    else:  # handler / reap: every kernel delivery is reported (see ops/signals.py)
        from .signals import install_handler

        install_handler(w, signum, disp, bool(args.get("restart")))
    if disp in ("ignore", "default"):
        from .signals import forget_handler

        forget_handler(signum)
    return {"result": 0}


def do_kill(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    pid = pids[args["target"]]
    # Only a process of this run: a positive pid (never 0, -1 or -pgid: a whole group), and
    # still carrying this run's mark (a reaped target's pid may belong to anyone by now).
    if not isinstance(pid, int) or pid <= 0 or not _of_this_run(pid, w.rundir.run_id):
        raise OSError(errno.ESRCH, f"{args['target']} is no process of this run")
    os.kill(pid, signum_of(args["signal"]))
    return {"result": 0}


def _of_this_run(pid: int, run_id: str) -> bool:
    from ..rundir import ENV_RUN

    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return True  # a zombie keeps its pid, and a signal to it does nothing
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f"{ENV_RUN}={run_id}".encode() in f.read().split(b"\0")
    except (OSError, IndexError):
        return False  # gone


OPS: dict[str, Op] = {"fork": do_fork, "exit": do_exit, "wait": do_wait, "signal": do_signal,
       "kill": do_kill}

_DISP = {"ignore": "SIG_IGN", "default": "SIG_DFL", "handler": "handler",
         "reap": "reap_children"}

CALLS: dict[str, Call] = {
    "fork": lambda w, a, p: "fork()",
    "exit": lambda w, a, p: f"_exit({a.get('status', 0)})",
    "wait": lambda w, a, p: f"waitpid({p.get(a['child'], -1) if a.get('child') else -1}, "
                            "&status, 0)",
    "signal": lambda w, a, p: f"signal({a['signal']}, {_DISP[a['disposition']]})"
              if not a.get("restart") else
              f"sigaction({a['signal']}, {{{_DISP[a['disposition']]}, SA_RESTART}})",
    "kill": lambda w, a, p: f"kill({p.get(a['target'], '?')}, {a['signal']})",
}

ARG0: dict[str, Arg0] = {}  # no action here blocks on an fd the conductor must check
