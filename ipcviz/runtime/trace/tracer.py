"""The tracer: a clean child process that runs a program under ptrace, stopped only at IPC
calls (a seccomp filter), and tells the session what happens over a socket.

    python -m ipcviz.runtime.trace.tracer FD -- PROGRAM [ARGS...]
    python -m ipcviz.runtime.trace.tracer FD --attach PID

FD is its end of a socketpair with the session (one JSON object per line, protocol.py).
The tracer dies with the session (PR_SET_PDEATHSIG, and EOF on FD), and the traced tree
dies with the tracer (PTRACE_O_EXITKILL; it also runs in its own session, killed by group).

Attached (--attach PID), the tracer seizes PID, its descendants and every thread of them
(PTRACE_SEIZE + PTRACE_INTERRUPT, no EXITKILL: the program is not ours).  A running program
cannot be given a seccomp filter from outside, so every call stops (PTRACE_SYSCALL) and the
calls that are no IPC go on at once, without an event.  Quitting detaches every thread at a
stop: a signal being delivered is delivered still, a group-stop stays a stop, a call held
at its entry is made.  If the tracer dies, the kernel detaches.

Events (tracer -> session), pids are thread ids; "pid" of a process is its thread group:
    {"t": "started", "pid": P}                the program runs (its first exec is next)
    {"t": "error", "why": W, "errno": E}      it could not start (nothing runs)
    {"t": "proc", "pid": P, "ppid": Q}        a process appeared (fork, vfork, clone)
    {"t": "exec", "pid": P, "path": X}        it executed a program
    {"t": "call", "pid": P, "tid": T, "seq": N, "name": C, "args": [...], "info": {...},
     "text": "write(4, \"hi\", 2)", "held": true|false, "regs": {"pc": .., "sp": ..}}
                                              about to run (held: waits for a "step")
    {"t": "blocked", "pid": P, "tid": T, "seq": N, "wchan": W}
                                              the kernel shows it asleep inside that call
    {"t": "ret", "pid": P, "tid": T, "seq": N, "result": R, "errno": E, ...}
    {"t": "signal", "pid": P, "tid": T, "signal": S}   a signal is being delivered
    {"t": "exit", "pid": P, "status": S}      a process ended (wait status)
    {"t": "settled", "reason": R, "running": [P...]}
        the answer to a command: every process is held at a call, asleep in one or gone
        (or the bound passed: "running" lists who still computes).  R: "step", "blocked",
        "exited", "stuck" (all live ones asleep: nothing can move), "ended" (none left)
Commands (session -> tracer):
    {"t": "step", "tid": T}   let T make the call it is held at
    {"t": "run", "stop_at": ["block", "exit"]}   release every call as it comes, until
                                                 one of those happens (or stuck / ended)
    {"t": "hold"}             stop releasing calls; answer "settled" once quiet
    {"t": "quit"}             kill the traced tree (attached: detach from it) and exit
"""

from __future__ import annotations

import errno
import os
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from ...probe import syscalls
from ..protocol import LineReader, encode
from . import calls
from .kernel import (
    EVENT_CLONE,
    EVENT_EXEC,
    EVENT_FORK,
    EVENT_SECCOMP,
    EVENT_STOP,
    EVENT_VFORK,
    PR_SET_PDEATHSIG,
    PTRACE_CONT,
    PTRACE_SYSCALL,
    SYSCALL_TRAP,
    WALL,
    Arch,
    detach,
    interrupt,
    listen,
    seize,
    build_filter,
    eventmsg,
    install_filter,
    numbers_of,
    prctl,
    regs,
    resume,
    OPTIONS,
    SYSCALL_INFO_ENTRY,
    syscall_stop_kind,
    this_arch,
)

SETTLE_BOUND = 0.5  # seconds a command waits for every process to be quiet
POLL = 0.001  # seconds between looks at a call in flight (is it asleep inside yet?)
IDLE = 0.25  # seconds of select when nothing is in flight
START_BOUND = 10.0
DETACH_BOUND = 3.0  # seconds to wait for every attached thread to reach a stop at quit
STOP_SIGNALS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})

FREE, HELD, ENTRY, FLIGHT = "free", "held", "entry", "flight"


@dataclass
class Tracee:
    tid: int
    tgid: int
    phase: str = FREE
    seq: int = 0
    name: str | None = None
    args: tuple[int, ...] = ()
    blocked: bool = False
    execed: bool = False  # the root's own calls before its first exec are ipcviz's
    reported: int = 0  # seq of the call last said to be blocked
    fresh: bool = False  # auto-attached: its first stop is the SIGSTOP ptrace sends it
    info: dict[str, Any] = field(default_factory=dict)


class Tracer:
    def __init__(self, conn: socket.socket, argv: list[str], arch: Arch,
                 attach: int | None = None) -> None:
        self.conn = conn
        self.attach = attach
        # how a thread goes on after a stop: attached, to its next call's entry stop
        self.cont = PTRACE_SYSCALL if attach else PTRACE_CONT
        self.stuck_ok = True  # "stuck" may be said (a follow of an attached program: not)
        self.argv = argv
        self.arch = arch
        self.reader = LineReader()
        self.tracees: dict[int, Tracee] = {}
        self.mode = "hold"
        self.stop_at: set[str] = set()
        self.settle: str | None = None  # reason of the "settled" owed, or None
        self.settle_deadline = 0.0
        self.seq = 0
        self.root = 0
        self.names = syscalls.table(arch.machine)
        nums = numbers_of(calls.TRACED, arch)
        masked = {nr: calls.MASKED[nm] for nm, nr in numbers_of(calls.MASKED, arch).items()}
        self.filter = build_filter(arch, nums.values(), masked)
        self.wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.quit = False
        self.timers: dict[int, float] = {}  # tgid -> when its last armed timer fires

    # -- talking --------------------------------------------------------------------------

    def send(self, msg: dict[str, Any]) -> None:
        try:
            self.conn.sendall(encode(msg))
        except OSError:
            self.quit = True  # the session is gone: end the traced tree

    # -- starting -------------------------------------------------------------------------

    def spawn(self) -> bool:
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        me = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(err_r)
            self._child(me, err_w)
        os.close(err_w)
        self.root = pid
        _, status = os.waitpid(pid, os.WUNTRACED)  # its own SIGSTOP, before its exec
        if not os.WIFSTOPPED(status):
            why = os.read(err_r, 200).decode(errors="replace") or "it ended at once"
            os.close(err_r)
            what, _, num = why.partition(":")
            self.send({"t": "error", "why": what, "errno": int(num) if num.isdigit() else None})
            return False
        # PTRACE_SEIZE (not TRACEME): a group-stop of the program is then reported as one
        # and stays a stop (PTRACE_LISTEN), as it would without ipcviz
        try:
            seize(pid, OPTIONS)
        except OSError as err:
            os.close(err_r)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self.send({"t": "error", "why": "ptrace", "errno": err.errno})
            return False
        root = self.tracees[pid] = Tracee(pid, pid)
        os.kill(pid, signal.SIGCONT)  # ends its stop; the seize trap stops it for us first
        # Until its exec, the child's traced calls (the execve itself) are ipcviz's own: let
        # them run; the exec event says the program runs, an exit says why it could not.
        deadline = time.monotonic() + START_BOUND
        while time.monotonic() < deadline:
            tid, status = os.waitpid(pid, WALL | os.WNOHANG)
            if tid == 0:
                select.select([self.wake_r], [], [], POLL * 10)  # SIGCHLD wakes it at once
                _drain(self.wake_r)
                continue
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                self.tracees.pop(pid, None)
                data = os.read(err_r, 200).decode(errors="replace")
                os.close(err_r)
                what, _, num = (data or "exec:").partition(":")
                self.send({"t": "error", "why": what,
                           "errno": int(num) if num.isdigit() else None})
                return False
            if os.WIFSTOPPED(status) and status >> 16 == EVENT_EXEC:
                os.close(err_r)
                root.execed = True
                self.send({"t": "started", "pid": pid})
                self.on_exec(root)
                return True
            # the seize trap (an event stop), SIGCONT's delivery, the seccomp stop of the
            # execve: ipcviz's own, let through (SIGCONT given back, as it came)
            sig = os.WSTOPSIG(status) if os.WIFSTOPPED(status) and not status >> 16 else 0
            resume(pid, PTRACE_CONT, 0 if sig in (SYSCALL_TRAP, signal.SIGSTOP) else sig)
        os.close(err_r)
        self.send({"t": "error", "why": "start", "errno": None})
        return False

    def _child(self, tracer: int, err_w: int) -> None:
        try:
            os.setsid()  # its own session and process group: killed as one
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != tracer:
                os._exit(1)
            for s in (signal.SIGCHLD, signal.SIGPIPE, signal.SIGINT, signal.SIGQUIT,
                      signal.SIGTERM, signal.SIGHUP, signal.SIGXFSZ):  # Python ignores it
                signal.signal(s, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.kill(os.getpid(), signal.SIGSTOP)  # until the tracer has seized it
            install_filter(self.filter)
            try:
                os.execvp(self.argv[0], self.argv)
            except OSError as err:
                os.write(err_w, f"exec:{err.errno}".encode())
                os._exit(127)
        finally:
            os._exit(127)

    # -- the loop -------------------------------------------------------------------------

    def loop(self) -> None:
        while not self.quit:
            self.reap_all()
            self.look_for_blocked()
            self.maybe_settle()
            if self.quit:
                break
            timeout = POLL if self._waiting() else IDLE
            try:
                ready, _, _ = select.select([self.conn.fileno(), self.wake_r], [], [], timeout)
            except InterruptedError:
                continue
            if not ready:
                # quiet for a while: a thread may have gone to sleep where the filter does
                # not stop (a private futex); look whether anything can still move
                self._check_stuck()
            if self.wake_r in ready:
                _drain(self.wake_r)
            if self.conn.fileno() in ready:
                data = self.conn.recv(65536)
                if not data:
                    break  # the session is gone
                for msg in self.reader.feed(data):
                    self.command(msg)
        self.end()

    def _waiting(self) -> bool:
        return self.settle is not None or any(
            t.phase in (ENTRY, FLIGHT) and not t.blocked for t in self.tracees.values())

    def command(self, msg: dict[str, Any]) -> None:
        kind = msg.get("t")
        if kind == "quit":
            self.quit = True
        elif kind == "step":
            t = self.tracees.get(int(msg.get("tid", 0)))
            if t is None or t.phase != HELD:
                self.send({"t": "settled", "reason": "not-held", "running": self._running()})
                return
            self.mode = "hold"
            self._release(t)
            self._owe("step")
        elif kind == "run":
            self.mode = "run"
            self.stop_at = set(msg.get("stop_at", ()))
            self.stuck_ok = bool(msg.get("stuck", True))
            for t in list(self.tracees.values()):
                if t.phase == HELD:
                    self._release(t)
            self.settle = None
            self._check_stuck()
        elif kind == "hold":
            self.mode = "hold"
            self._owe("hold")

    def _owe(self, reason: str) -> None:
        self.settle = reason
        self.settle_deadline = time.monotonic() + SETTLE_BOUND

    def _running(self) -> list[int]:
        return sorted({t.tgid for t in self.tracees.values()
                       if t.phase == FREE or (t.phase in (ENTRY, FLIGHT) and not t.blocked)})

    def maybe_settle(self) -> None:
        if not self.tracees and self.settle is None and self.mode == "run":
            self._owe("ended")
        if self.settle is None:
            return
        running = self._running()
        if running and time.monotonic() < self.settle_deadline:
            return
        reason = "ended" if not self.tracees else self.settle
        if reason == "hold" and self.tracees and not self._timer_pending() and all(
                t.phase != HELD and ((t.phase in (ENTRY, FLIGHT) and t.blocked)
                                     or (t.phase == FREE and self._asleep_untraced(t)))
                for t in self.tracees.values()):
            reason = "stuck"  # nothing held, nothing running: all asleep for good
        self.send({"t": "settled", "reason": reason, "running": running})
        self.settle = None

    def _stop_point(self, what: str) -> None:
        if self.mode == "run" and what in self.stop_at:
            self.mode = "hold"
            self._owe({"block": "blocked", "exit": "exited"}[what])

    def _arm(self, tgid: int, seconds: float | None) -> None:
        """Remember until when a timer of TGID may still send it a signal (which can end
        any sleep): until then, all asleep is no hang.  Unknown: as if for ever."""
        if seconds == 0:
            self.timers.pop(tgid, None)
        else:
            end = time.monotonic() + (seconds if seconds is not None else float("inf"))
            self.timers[tgid] = max(end, self.timers.get(tgid, 0.0))

    def _timer_pending(self) -> bool:
        now = time.monotonic()
        live = {t.tgid for t in self.tracees.values()}
        return any(end > now for tgid, end in self.timers.items() if tgid in live)

    def _check_stuck(self) -> None:
        """Free run with every live process asleep in a call: nothing can move."""
        if self.mode != "run" or not self.tracees or self._timer_pending() \
                or not self.stuck_ok:
            return
        if not all((t.phase in (ENTRY, FLIGHT) and t.blocked)
                   or (t.phase == FREE and self._asleep_untraced(t))
                   for t in self.tracees.values()):
            return
        # Look again, now: a process woken since it was seen asleep (a child's exit, which
        # the kernel tells the real parent only once the tracer has reaped it) is running.
        for t in self.tracees.values():
            if t.phase == FREE:
                continue  # just looked at
            if t.name in calls.TIMEOUT_ARG and t.args[calls.TIMEOUT_ARG[t.name]]:
                return  # asleep with a timeout: it will wake by itself
            if t.name in calls.WAKES_BY_ITSELF:
                return  # a sleep: it ends by itself
            if t.name is None or _asleep_in(t.tid, self.arch, t.name, self.names) is None:
                t.blocked = False  # look_for_blocked confirms it again if it sleeps again
                return
        self.mode = "hold"
        self._owe("stuck")

    # -- stops ----------------------------------------------------------------------------

    def reap_all(self) -> None:
        while True:
            try:
                tid, status = os.waitpid(-1, os.WNOHANG | WALL)
            except ChildProcessError:
                return
            if tid == 0:
                return
            self.on_status(tid, status)

    def on_status(self, tid: int, status: int) -> None:
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            t = self.tracees.pop(tid, None)
            if t is not None and t.tid == t.tgid:
                self.send({"t": "exit", "pid": tid, "status": status})
                self._stop_point("exit")
            self._check_stuck()
            return
        if not os.WIFSTOPPED(status):
            return
        t = self.tracees.get(tid)
        sig, event = os.WSTOPSIG(status), status >> 16
        if t is None:
            t = self._new(tid)
        if t.fresh:
            t.fresh = False
            if sig == signal.SIGSTOP and event == 0:
                resume(tid, self.cont)  # the stop every auto-attached child starts with
                return
        if event == EVENT_STOP:
            self.on_event_stop(t, sig)
        elif event == EVENT_SECCOMP:
            self.on_seccomp(t)
        elif event in (EVENT_FORK, EVENT_VFORK, EVENT_CLONE):
            try:
                child = eventmsg(tid)
            except OSError:
                child = 0
            if child and child not in self.tracees:
                self._new(child, parent=t.tgid)
            resume(tid, PTRACE_SYSCALL)
        elif event == EVENT_EXEC:
            self.on_exec(t)
        elif sig == SYSCALL_TRAP:
            self.on_syscall_stop(t)
        elif event:
            resume(tid, PTRACE_SYSCALL if t.phase in (ENTRY, FLIGHT) else self.cont)
        else:
            self.on_signal(t, sig)

    def _new(self, tid: int, parent: int | None = None) -> Tracee:
        tgid, ppid = _ids(tid)
        t = self.tracees[tid] = Tracee(tid, tgid or tid, execed=True, fresh=True)
        if tgid == tid or tgid is None:
            self.send({"t": "proc", "pid": tid, "ppid": parent or ppid})
        return t

    def on_exec(self, t: Tracee) -> None:
        t.execed = True
        try:
            exe = os.readlink(f"/proc/{t.tid}/exe")
        except OSError:
            exe = None
        self.send({"t": "exec", "pid": t.tgid, "path": exe})
        resume(t.tid, PTRACE_SYSCALL if t.phase in (ENTRY, FLIGHT) else self.cont)

    def on_event_stop(self, t: Tracee, sig: int) -> None:
        """A seized thread's PTRACE_EVENT_STOP: its first stop (attached, or a new child),
        a PTRACE_INTERRUPT, or a group-stop (WSTOPSIG a stop signal).  A group-stop stays a
        stop (PTRACE_LISTEN: as it would without ipcviz, until a SIGCONT)."""
        if sig in STOP_SIGNALS:
            listen(t.tid)
            return
        resume(t.tid, PTRACE_SYSCALL if t.phase in (ENTRY, FLIGHT) else self.cont)

    def on_seccomp(self, t: Tracee) -> None:
        r = regs(t.tid, self.arch)
        name = self.names.get(r[self.arch.nr]) if r is not None else None
        if r is None or name is None or (not t.execed and t.tid == self.root):
            resume(t.tid, self.cont)  # a foreign call, or ipcviz's own before the exec
            return
        args = tuple(r[i] for i in self.arch.args)
        info = calls.entry(t.tid, name, args)
        if info is None:
            resume(t.tid, self.cont)  # no IPC: a read() of a file, a close() of a library
            return
        if name in calls.TIMER_CALLS:
            self._arm(t.tgid, calls.timer_seconds(t.tid, name, args))
        self.seq += 1
        t.seq, t.name, t.args, t.info, t.blocked = self.seq, name, args, info, False
        held = self.mode == "hold"
        self.send({"t": "call", "pid": t.tgid, "tid": t.tid, "seq": t.seq, "name": name,
                   "args": list(args), "info": info, "held": held, "comm": _comm(t.tgid),
                   "text": calls.call_text(name, args, info),
                   "regs": {n: r[i] for n, i in self.arch.site_regs}})
        if held:
            t.phase = HELD
        else:
            self._release(t)

    def _release(self, t: Tracee) -> None:
        # PTRACE_SYSCALL from the seccomp stop: the next syscall stop of this call (an entry
        # stop on some kernels, see on_syscall_stop) leads to its exit stop, the result
        t.phase = ENTRY
        t.blocked = False
        if not resume(t.tid, PTRACE_SYSCALL):
            t.phase = FLIGHT

    def on_syscall_stop(self, t: Tracee) -> None:
        # Since 4.8 the seccomp stop comes before the syscall runs; whether PTRACE_SYSCALL
        # from there gives a syscall-entry stop first depends on the kernel (strace probes
        # the order at start-up, check_seccomp_order); 6.x goes straight to the exit stop.
        # So ask the kernel which stop this is (PTRACE_GET_SYSCALL_INFO, 5.3 and later),
        # and count stops only where it cannot say.
        kind = syscall_stop_kind(t.tid)
        if self.attach and kind == SYSCALL_INFO_ENTRY and t.phase == FREE:
            self.on_seccomp(t)  # attached: every call's entry stop, IPC or not
            return
        if kind == SYSCALL_INFO_ENTRY or (kind == 0 and t.phase == ENTRY):
            t.phase = FLIGHT
            resume(t.tid, PTRACE_SYSCALL)
            return
        if t.phase not in (ENTRY, FLIGHT) or t.name is None:
            resume(t.tid, self.cont)
            return
        r = regs(t.tid, self.arch)
        out = calls.result(t.tid, t.name, t.args, r[self.arch.ret] if r else 0)
        self.send({"t": "ret", "pid": t.tgid, "tid": t.tid, "seq": t.seq, "name": t.name,
                   "was_blocked": t.blocked, "text": calls.result_text(t.name, out), **out})
        t.phase, t.blocked = FREE, False
        resume(t.tid, self.cont)

    def on_signal(self, t: Tracee, sig: int) -> None:
        # seized, a group-stop is a PTRACE_EVENT_STOP (on_event_stop): this is a signal
        # being delivered, given back to the thread as it came
        self.send({"t": "signal", "pid": t.tgid, "tid": t.tid, "signal": calls._sig(sig)})
        resume(t.tid, PTRACE_SYSCALL if t.phase in (ENTRY, FLIGHT) else self.cont, sig)

    # -- asleep inside a call? ------------------------------------------------------------

    def look_for_blocked(self) -> None:
        for t in list(self.tracees.values()):
            if t.phase not in (ENTRY, FLIGHT) or t.blocked or t.name is None:
                continue
            wchan = _asleep_in(t.tid, self.arch, t.name, self.names)
            if wchan is None:
                continue
            t.blocked = True
            if t.reported == t.seq:  # asleep again in the same call: said once
                self._check_stuck()
                continue
            t.reported = t.seq
            self.send({"t": "blocked", "pid": t.tgid, "tid": t.tid, "seq": t.seq,
                       "name": t.name, "wchan": wchan})
            self._stop_point("block")
            self._check_stuck()

    def _asleep_untraced(self, t: Tracee) -> bool:
        """A thread the filter lets run that the kernel shows asleep in a futex wait with
        no timeout (a private mutex or condition, pthread_join): only another thread of the
        program can wake it."""
        return _futex_forever(t.tid, self.names)

    # -- attaching and detaching -----------------------------------------------------------

    def seize_tree(self) -> bool:
        """Seize the process ATTACH, every descendant and every thread of them, each
        stopped at once by PTRACE_INTERRUPT (its first stop resumes it under the tracer).
        The tree is read again until a round finds no one new (a fork between the reading
        and the seizing of its parent is found in the next round; after it, the fork
        options bring every new child)."""
        assert self.attach is not None
        self.root = self.attach
        try:
            seize(self.attach)
        except OSError as err:
            self.send({"t": "error", "why": "ptrace" if err.errno != errno.ESRCH else "gone",
                       "errno": err.errno})
            return False
        interrupt(self.attach)
        self.tracees[self.attach] = Tracee(self.attach, self.attach, execed=True, fresh=True)
        self.send({"t": "started", "pid": self.attach})
        for _round in range(64):
            if not self._seize_round():
                break
        return True

    def _seize_round(self) -> int:
        added = 0
        for tgid, ppid in _tree(self.attach or 0):
            for tid in _tasks(tgid):
                if tid in self.tracees:
                    continue
                try:
                    seize(tid)
                except OSError:
                    continue  # gone meanwhile, or not ours to trace (a set-uid child)
                interrupt(tid)
                self.tracees[tid] = Tracee(tid, tgid, execed=True, fresh=True)
                if tid == tgid:
                    self.send({"t": "proc", "pid": tid, "ppid": ppid})
                added += 1
        return added

    def end(self) -> None:
        if self.attach:
            self.detach_all()
        else:
            self.kill_all()

    def detach_all(self) -> None:
        """Leave the attached program as it was.  A thread held at a call's entry is
        detached there (the call is made); every other one is interrupted and detached at
        the stop that follows: a signal being delivered is given back (not eaten), a
        group-stop stays a stop, a child forked meanwhile is detached as well."""
        waiting: set[int] = set()
        for t in list(self.tracees.values()):
            if t.phase == HELD and detach(t.tid):
                continue
            interrupt(t.tid)
            waiting.add(t.tid)
        self.tracees.clear()
        deadline = time.monotonic() + DETACH_BOUND
        while waiting and time.monotonic() < deadline:
            try:
                tid, status = os.waitpid(-1, WALL | os.WNOHANG)
            except ChildProcessError:
                return
            if tid == 0:
                select.select([self.wake_r], [], [], POLL * 10)
                _drain(self.wake_r)
                continue
            waiting.discard(tid)
            if not os.WIFSTOPPED(status):
                continue  # it ended
            sig, event = os.WSTOPSIG(status), status >> 16
            if event in (EVENT_FORK, EVENT_VFORK, EVENT_CLONE):
                try:
                    waiting.add(eventmsg(tid))  # traced from birth: detached at its stop
                except OSError:
                    pass
            give = 0 if event or sig == SYSCALL_TRAP else sig
            detach(tid, give)

    def kill_all(self) -> None:
        if self.root:
            try:
                os.killpg(self.root, signal.SIGKILL)  # the traced tree's own session
            except OSError:
                pass
        for tid in list(self.tracees):
            try:
                os.kill(tid, signal.SIGKILL)
            except OSError:
                pass
        deadline = time.monotonic() + 3.0
        while self.tracees and time.monotonic() < deadline:
            try:
                tid, _status = os.waitpid(-1, WALL | os.WNOHANG)
            except ChildProcessError:
                break
            if tid == 0:
                select.select([self.wake_r], [], [], POLL * 10)
                _drain(self.wake_r)
                continue
            self.tracees.pop(tid, None)


def _tree(root: int) -> list[tuple[int, int]]:
    """(pid, ppid) of ROOT and its descendants, parents first (from /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                text = f.read()
            ppid = int(text[text.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out, todo = [(root, 0)], [root]
    while todo:
        pid = todo.pop(0)
        for child in sorted(children.get(pid, ())):
            out.append((child, pid))
            todo.append(child)
    return out


def _tasks(tgid: int) -> list[int]:
    """The thread ids of a process, its main thread first."""
    try:
        tids = sorted(int(n) for n in os.listdir(f"/proc/{tgid}/task") if n.isdigit())
    except OSError:
        return []
    return sorted(tids, key=lambda tid: tid != tgid)


def _comm(pid: int) -> str | None:
    """/proc/PID/comm, read while the process is stopped (it may be gone by the time the
    session reads the event)."""
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            return f.read().decode(errors="replace").strip() or None
    except OSError:
        return None


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _ids(tid: int) -> tuple[int | None, int]:
    """(Tgid, PPid) of /proc/TID/status."""
    tgid, ppid = None, 0
    try:
        with open(f"/proc/{tid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Tgid:"):
                    tgid = int(line.split()[1])
                elif line.startswith(b"PPid:"):
                    ppid = int(line.split()[1])
                    break
    except OSError:
        pass
    return tgid, ppid


FUTEX_WAITS = frozenset({0, 6, 9, 11})  # FUTEX_WAIT, LOCK_PI, WAIT_BITSET, WAIT_REQUEUE_PI


def _futex_forever(tid: int, names: dict[int, str]) -> bool:
    """/proc/TID/stat state S (or D) inside futex(), a wait op, timeout argument NULL."""
    try:
        with open(f"/proc/{tid}/stat", "rb") as f:
            text = f.read()
        if text[text.rindex(b")") + 2:text.rindex(b")") + 3] not in (b"S", b"D"):
            return False
        with open(f"/proc/{tid}/syscall", "rb") as f:
            sc = f.read().split()
        if len(sc) < 5 or sc[0] == b"running" or names.get(int(sc[0])) != "futex":
            return False
        return int(sc[2], 16) & 0x7F in FUTEX_WAITS and int(sc[4], 16) == 0
    except (OSError, ValueError):
        return False


def _asleep_in(tid: int, arch: Arch, name: str, names: dict[int, str]) -> str | None:
    """The wait channel when the kernel shows TID asleep inside NAME: state S or D in
    /proc/TID/stat and that call in /proc/TID/syscall (as the lessons confirm blocking)."""
    try:
        with open(f"/proc/{tid}/stat", "rb") as f:
            text = f.read()
        state = text[text.rindex(b")") + 2:text.rindex(b")") + 3]
        if state not in (b"S", b"D"):
            return None
        with open(f"/proc/{tid}/syscall", "rb") as f:
            sc = f.read().split()
        if not sc or sc[0] == b"running" or names.get(int(sc[0])) != name:
            return None
        with open(f"/proc/{tid}/wchan", "rb") as f:
            wchan = f.read().decode(errors="replace").strip()
    except (OSError, ValueError):
        return None
    return wchan or "?"


def main(argv: list[str]) -> int:
    fd = int(argv[0])
    # the program's environment is its starter's: PYTHONPATH as it was (see session.py)
    had = os.environ.pop("IPCVIZ_TRACE_PROGRAM_PYTHONPATH", None)
    if had == "0":
        os.environ.pop("PYTHONPATH", None)
    elif had is not None:
        os.environ["PYTHONPATH"] = had[1:]
    attach = int(argv[2]) if argv[1:2] == ["--attach"] else None
    program = argv[argv.index("--") + 1:] if attach is None else []
    os.set_inheritable(fd, False)  # the traced program must not inherit the session's end
    conn = socket.socket(fileno=fd)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the session's process
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    arch = this_arch()
    if arch is None:
        conn.sendall(encode({"t": "error", "why": "arch", "errno": None}))
        return 2
    tracer = Tracer(conn, program, arch, attach=attach)
    try:
        if attach is not None:
            if tracer.seize_tree():
                # snapshot 0: the program back in the calls it was in (an interrupted call
                # is restarted by the kernel), or after the bound, as it runs
                tracer.mode, tracer.stop_at = "run", set()
                tracer._owe("start")
                tracer.loop()
        elif tracer.spawn():
            tracer._owe("start")  # snapshot 0: once the program is held at its first call
            tracer.loop()
    finally:
        tracer.end()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
