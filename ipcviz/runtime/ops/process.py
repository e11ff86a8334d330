"""fork, exit, wait, signal dispositions, kill."""

from __future__ import annotations

import os
import signal
from typing import Any

from ...scenario.actions import signal_name, signal_number


def do_fork(w, args, pids, k):
    child = args["child"]
    pid = os.fork()
    if pid == 0:
        # The child: same fds as the parent (pipe ends are really shared), its own control
        # connection, its own name, nothing yet read.
        w.become_child(child)
        return None
    return {"result": pid}


def do_exit(w, args, pids, k):
    os._exit(int(args.get("status", 0)))


def do_wait(w, args, pids, k):
    target = pids.get(args["child"], -1) if args.get("child") else -1
    pid, status = os.waitpid(target, 0)
    out: dict[str, Any] = {"result": pid, "status": status}
    if os.WIFEXITED(status):
        out["exit_code"] = os.WEXITSTATUS(status)
    elif os.WIFSIGNALED(status):
        out["exit_signal"] = signal_name(os.WTERMSIG(status))
        out["core"] = os.WCOREDUMP(status)
    return out


def do_signal(w, args, pids, k):
    signum = signal_number(args["signal"])
    disp = args["disposition"]
    if disp == "ignore":
        signal.signal(signum, signal.SIG_IGN)
    elif disp == "default":
        signal.signal(signum, signal.SIG_DFL)
    else:  # handler / reap: every kernel delivery is reported (see ops/signals.py)
        from .signals import install_handler

        install_handler(w, signum, disp)
    if disp in ("ignore", "default"):
        from .signals import forget_handler

        forget_handler(signum)
    return {"result": 0}


def do_kill(w, args, pids, k):
    os.kill(pids[args["target"]], signal_number(args["signal"]))
    return {"result": 0}


OPS = {"fork": do_fork, "exit": do_exit, "wait": do_wait, "signal": do_signal,
       "kill": do_kill}

_DISP = {"ignore": "SIG_IGN", "default": "SIG_DFL", "handler": "handler",
         "reap": "reap_children"}

CALLS = {
    "fork": lambda w, a, p: "fork()",
    "exit": lambda w, a, p: f"_exit({a.get('status', 0)})",
    "wait": lambda w, a, p: f"waitpid({p.get(a['child'], -1) if a.get('child') else -1}, "
                            "&status, 0)",
    "signal": lambda w, a, p: f"signal({a['signal']}, {_DISP[a['disposition']]})",
    "kill": lambda w, a, p: f"kill({p.get(a['target'], '?')}, {a['signal']})",
}

ARG0: dict = {}  # no action here blocks on an fd the conductor must check
