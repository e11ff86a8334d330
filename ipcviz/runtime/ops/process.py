"""fork, exit, wait, signal dispositions, kill."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import sys
from typing import Any, NoReturn

from ...reserved import CONTROL_FD
from ...scenario.actions import signal_name
from .fds import fd_of, signum_of, waitpid_as_in_c
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


_WAIT_FLAGS = (("nohang", os.WNOHANG, "WNOHANG"), ("untraced", os.WUNTRACED, "WUNTRACED"),
               ("continued", os.WCONTINUED, "WCONTINUED"))


def _wait_options(args: Args) -> tuple[int, str]:
    """The options of a wait step: (bits, their C text "WNOHANG | WUNTRACED" or "0")."""
    chosen = [(bit, text) for key, bit, text in _WAIT_FLAGS if args.get(key)]
    bits = 0
    for bit, _ in chosen:
        bits |= bit
    return bits, " | ".join(text for _, text in chosen) or "0"


def do_wait(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    target = pids.get(args["child"], -1) if args.get("child") else -1
    pid, status = waitpid_as_in_c(target, _wait_options(args)[0])
    # What the status says, as facts: "status" only when the child is gone for good
    # (the conductor marks it reaped); a stop or a continue leaves it in the table.
    out: dict[str, Any] = {"result": pid, "facts": {"waited": "nothing", "wait_signal": None}}
    if pid == 0:  # WNOHANG, and no child has changed state yet
        return out
    facts = out["facts"]
    if os.WIFEXITED(status):
        out.update(status=status, exit_code=os.WEXITSTATUS(status))
        facts["waited"] = "exited"
    elif os.WIFSIGNALED(status):
        out.update(status=status, exit_signal=signal_name(os.WTERMSIG(status)),
                   core=os.WCOREDUMP(status))
        facts.update(waited="killed", wait_signal=signal_name(os.WTERMSIG(status)))
    elif os.WIFSTOPPED(status):
        facts.update(waited="stopped", wait_signal=signal_name(os.WSTOPSIG(status)))
    elif os.WIFCONTINUED(status):
        facts.update(waited="continued", wait_signal="SIGCONT")
    return out


def do_signal(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    signum = signum_of(args["signal"])
    disp = args["disposition"]
    if disp == "ignore":
        signal.signal(signum, signal.SIG_IGN)
    elif disp == "default":
        signal.signal(signum, signal.SIG_DFL)
    else:  # handler / reap: every kernel delivery is reported (see ops/signals.py)
        from . import handlers
        from .signals import install_handler

        if handlers.wants_sigaction(args):  # sa_mask, SA_NODEFER, SA_SIGINFO, held
            handlers.install(w, signum, args)
        else:
            install_handler(w, signum, disp, bool(args.get("restart")))
    if disp in ("ignore", "default"):
        from .signals import forget_handler

        forget_handler(signum)
    return {"result": 0}


def do_kill(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    pid = pids[args["target"]]
    if args.get("group"):
        return _kill_group(w, pid, args["signal"], pids)
    # Only a process of this run: a positive pid (never 0 or -1), and still carrying this
    # run's mark (a reaped target's pid may belong to anyone by now).
    if not isinstance(pid, int) or pid <= 0 or not of_this_run(pid, w.rundir.run_id):
        raise OSError(errno.ESRCH, f"{args['target']} is no process of this run")
    os.kill(pid, signum_of(args["signal"]))
    return {"result": 0}


def do_killpg(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    # The group keeps its id (its leader's pid) after the leader is gone: the members
    # decide, not the leader.
    return _kill_group(w, pids[args["group"]], args["signal"], pids)


def group_members(pgid: int) -> list[int]:
    """Every pid whose process group is `pgid`, from /proc/PID/stat (field 5)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if len(fields) > 2 and int(fields[2]) == pgid:
            out.append(int(entry))
    return out


def _kill_group(w: OpWorker, pgid: int, sig: str, pids: Pids) -> Outcome:
    """kill(-pgid, sig), only if every member of the group is a process of the lesson.

    ipcviz's own runner (the group every root process starts in) and anything else are
    never signalled: such a group is refused with EPERM, and nothing is sent.  Between the
    look and the kill no stranger can join: setpgid() only moves a process into a group
    of its own session, and the run's sessions hold only the run's processes (the runner
    made its own with setsid(); a lesson's setsid() makes one with just the caller)."""
    if not isinstance(pgid, int) or pgid <= 1:
        raise OSError(errno.ESRCH, f"no process group {pgid} of this run")
    members = group_members(pgid)
    if not members:
        raise OSError(errno.ESRCH, f"no process group {pgid}")
    # A member is the lesson's if it is one of its processes by pid *and* carries the run's
    # mark: a reaped process's pid may have gone to a stranger.
    lesson = set(pids.values())
    strangers = [p for p in members
                 if p not in lesson or not of_this_run(p, w.rundir.run_id)]
    if strangers:
        raise OSError(errno.EPERM, f"process group {pgid} holds {len(strangers)} process(es) "
                      "that are not the lesson's")
    os.killpg(pgid, signum_of(sig))
    # The conductor waits until each member has dealt with the signal.
    return {"result": 0, "signalled": [{"pid": p, "signal": sig} for p in sorted(members)]}


def do_setpgid(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    os.setpgid(*_setpgid_args(args, pids))
    return {"result": 0}


def _setpgid_args(args: Args, pids: Pids) -> tuple[int, int]:
    """(pid, pgid) as setpgid() takes them: 0 for "the caller" / "a group of its own"."""
    target = pids.get(args["target"], 0) if args.get("target") else 0
    group = pids.get(args["group"], 0) if args.get("group") else 0
    if target == os.getpid():
        target = 0
    return target, group


def of_this_run(pid: int, run_id: str) -> bool:
    from ..rundir import ENV_RUN

    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return True  # a zombie keeps its pid, and a signal to it does nothing
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f"{ENV_RUN}={run_id}".encode() in f.read().split(b"\0")
    except (OSError, IndexError):
        return False  # gone


# The program an exec step runs: ipcviz's own worker, never a path from the lesson file.
WORKER_MODULE = "ipcviz.runtime.worker"
AFTER_EXEC = "--after-exec"
# Python's start-up ignores SIGPIPE and SIGXFSZ and catches SIGINT: the new image puts
# back what the old one had (an ignored signal stays ignored across execve, the rest is
# SIG_DFL, as for a C program).
STARTUP_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT)


def do_exec(w: OpWorker, args: Args, pids: Pids, k: int) -> NoReturn:
    """execve() of ipcviz's worker: the kernel closes the fds with FD_CLOEXEC, resets the
    caught signals to SIG_DFL, keeps the mask, the pending set, the ignored signals, the
    pid, the parent and the group.  The new image reports the step done (worker.py)."""
    state = {"name": w.name, "socket": w.socket_path, "step": k, "ends": w.ends,
             "ignored": [int(s) for s in STARTUP_SIGNALS
                         if signal.getsignal(s) == signal.SIG_IGN]}
    sys.stdout.flush()
    sys.stderr.flush()
    os.set_inheritable(CONTROL_FD, True)  # ipcviz's channel to the conductor survives
    try:
        os.execv(sys.executable, [sys.executable, "-m", WORKER_MODULE, AFTER_EXEC,
                                  json.dumps(state)])
    finally:
        os.set_inheritable(CONTROL_FD, False)  # reached only if execv failed


def do_cloexec(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, args["fd"])
    flags = fcntl.fcntl(fd, fcntl.F_GETFD)
    on = args.get("on", True)
    flags = flags | fcntl.FD_CLOEXEC if on else flags & ~fcntl.FD_CLOEXEC
    return {"result": fcntl.fcntl(fd, fcntl.F_SETFD, flags)}


def do_handler_return(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    # Inside a held handler the worker takes this step itself (Worker.run_steps_until).
    raise OSError(errno.EINVAL, f"{w.name} is not inside a held handler")


OPS: dict[str, Op] = {"fork": do_fork, "exit": do_exit, "wait": do_wait, "signal": do_signal,
                      "kill": do_kill, "killpg": do_killpg, "setpgid": do_setpgid,
                      "exec": do_exec, "cloexec": do_cloexec,
                      "handler_return": do_handler_return}

_DISP = {"ignore": "SIG_IGN", "default": "SIG_DFL", "handler": "handler",
         "reap": "reap_children"}

def _call_signal(w: OpWorker, a: Args, p: Pids) -> str:
    disp = _DISP[a["disposition"]]
    flags = [f for f, key in (("SA_RESTART", "restart"), ("SA_NODEFER", "nodefer"),
                              ("SA_SIGINFO", "siginfo")) if a.get(key)]
    if not flags and not a.get("mask"):
        return f"signal({a['signal']}, {disp})"
    mask = f", sa_mask {{{', '.join(a['mask'])}}}" if a.get("mask") else ""
    return f"sigaction({a['signal']}, {{{disp}{mask}{', ' if flags else ''}" \
           f"{'|'.join(flags)}}})"


CALLS: dict[str, Call] = {
    "fork": lambda w, a, p: "fork()",
    "exit": lambda w, a, p: f"_exit({a.get('status', 0)})",
    "wait": lambda w, a, p: f"waitpid({p.get(a['child'], -1) if a.get('child') else -1}, "
                            f"&status, {_wait_options(a)[1]})",
    "signal": _call_signal,
    "kill": lambda w, a, p: f"kill({'-' if a.get('group') else ''}{p.get(a['target'], '?')}, "
                            f"{a['signal']})",
    "killpg": lambda w, a, p: f"killpg({p.get(a['group'], '?')}, {a['signal']})",
    "setpgid": lambda w, a, p: "setpgid({}, {})".format(*_setpgid_args(a, p)),
    "exec": lambda w, a, p: f'execve("{sys.executable}", ["python3", "-m", '
                            f'"{WORKER_MODULE}", ...], environ)',
    "handler_return": lambda w, a, p: "return   /* from the handler */",
    "cloexec": lambda w, a, p: f"fcntl({fd_of(w, a['fd'])}, F_SETFD, "
                               f"{'FD_CLOEXEC' if a.get('on', True) else '0'})",
}

ARG0: dict[str, Arg0] = {}  # no action here blocks on an fd the conductor must check
