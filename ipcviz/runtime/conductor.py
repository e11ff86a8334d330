"""The conductor: runs a scenario step by step on real processes and snapshots the kernel.

    with Run(scenario) as run:
        first = run.start()          # snapshot 0, before step 1
        while not run.finished:
            snap = run.step()        # one step: returned, failed, killed, or blocked

A step is finished when its process reports that the call returned, or when the kernel
shows the process asleep inside that very call (then the step is *blocked*).  After every
step the conductor waits until the world is quiet (every earlier blocked call has either
returned or is asleep again), then samples the kernel.  Every wait has a bound.

`step()` and `sample()` block for up to the step bound: call them off a UI event loop.
"""

from __future__ import annotations

import os
import resource
import select
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..model.checks import evaluate
from ..model.snapshot import (
    BLOCKED,
    FAILED,
    KILLED,
    RETURNED,
    LogEntry,
    Snapshot,
)
from ..model.timeline import Timeline
from ..probe import procfs, syscalls
from ..probe import signals as signal_probe
from ..probe.sampler import Sampler, Tracked, exit_from_status
from ..scenario.actions import ACTIONS, signal_number
from ..scenario.model import Scenario, Step
from .cleanup import kill_run_processes
from .errors import RunError
from .limits import explain as explain_limit
from .sweep import remove_objects
from ..scenario.limits import MAX_PROCESSES, WAKE_W
from .protocol import CONTROL_FD, LineReader, ProtocolError, encode
from .rundir import ENV_CONDUCTOR, ENV_RUN, SOCKET_NAME, RunDir

STEP_BOUND = 5.0  # seconds a step may take to return or to be seen asleep in its call
START_BOUND = 15.0  # seconds for the runner and the root processes to start
POLL = 0.001  # seconds between looks at /proc while a step is in flight
# A look that comes back this much later than asked means the conductor itself was not
# running (stopped by Ctrl+Z / SIGSTOP, or the machine suspended): that time is not the
# step's, and the deadline moves on by as much.
STALL = 1.0
# fds the conductor holds per process of the run (its control connection and the probe's
# kept /proc files and pidfd): 6 measured with tests/bench/stress_limits.py, 8 with room;
# and the fds it needs besides (listener, selector, runner pipes, log, Python itself).
# Every process of the run inherits the limit, and keeps its own fds at 900-902.
FDS_PER_PROCESS = 8
FDS_BASE = 64


class Deadline:
    """A time bound that does not count time during which the conductor was stopped."""

    def __init__(self, seconds: float) -> None:
        self.last = time.monotonic()
        self.end = self.last + seconds

    def passed(self) -> bool:
        now = time.monotonic()
        gap = now - self.last
        if gap > STALL:
            self.end += gap  # we were not running: nobody could have looked
        self.last = now
        return now > self.end


def raise_nofile(needed: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards the hard one if `needed` fds do not fit.
    Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(hard, max(needed, soft))
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        except (ValueError, OSError):
            pass
    return soft


@dataclass
class Peer:
    conn: socket.socket
    reader: LineReader = field(default_factory=LineReader)
    role: str | None = None
    name: str | None = None
    pid: int | None = None
    closed: bool = False


class Run:
    def __init__(self, scenario: Scenario, step_bound: float = STEP_BOUND) -> None:
        self.scenario = scenario
        self.step_bound = step_bound
        self.timeline = Timeline()
        self.rundir: RunDir | None = None
        self.started_at = 0.0
        self._lock = threading.RLock()
        self._sel = selectors.DefaultSelector()
        self._listener: socket.socket | None = None
        self._runner: subprocess.Popen[bytes] | None = None
        self._runner_peer: Peer | None = None
        self._peers: dict[str, Peer] = {}  # by process name
        self._tracked: dict[str, Tracked] = {}
        self._objects: list[dict[str, Any]] = []  # {"id", "kind", ...} as the worker made it
        self._results: dict[int, dict[str, Any]] = {}  # step -> done/failed message
        self._began: dict[int, dict[str, Any]] = {}
        self._in_flight: dict[str, int] = {}  # process name -> blocked step
        self._facts: dict[str, dict[str, Any]] = {}
        self._log: list[LogEntry] = []
        self._log_mark = 0  # length of the log at the last step snapshot
        self._handled: list[tuple[int, str]] = []  # (pid, signal) of handler runs
        self._messages = 0  # messages received so far
        self._sampler = Sampler()
        self._names = {p.name for p in scenario.processes}
        self._next = 1
        self._closed = False

    # -- life cycle ---------------------------------------------------------------------

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def finished(self) -> bool:
        return self._next > len(self.scenario.steps)

    @property
    def next_step(self) -> Step | None:
        return None if self.finished else self.scenario.steps[self._next - 1]

    def start(self) -> Snapshot:
        try:
            return self._start()
        except OSError as err:  # EMFILE, ENOMEM, ...: the run cannot go on (close() cleans)
            raise RunError(f"the run could not start: {err.strerror or err}") from None

    def _start(self) -> Snapshot:
        with self._lock:
            self._check_capacity()
            self.started_at = time.monotonic()
            self.rundir = RunDir.create(self.scenario.name)
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            # A socket path may not exceed 108 bytes; the run directory can be deeper than
            # that.  Bind through an fd of the directory; the runner and the workers connect
            # with the relative name (their working directory is the run directory).
            dirfd = os.open(self.rundir.path, os.O_PATH | os.O_DIRECTORY)
            try:
                self._listener.bind(f"/proc/self/fd/{dirfd}/{SOCKET_NAME}")
            finally:
                os.close(dirfd)
            os.chmod(self.rundir.socket_path, 0o600)
            self._listener.listen(64)
            self._listener.setblocking(False)
            self._sel.register(self._listener, selectors.EVENT_READ, None)
            self._start_runner()
            deadline = Deadline(START_BOUND)
            self._wait(lambda: self._runner_peer is not None, deadline, "the runner to start")
            for proc in self.scenario.roots:
                self._send(self._runner_peer, {"t": "spawn", "name": proc.name})
                self._wait(lambda p=proc.name: p in self._peers, deadline,
                           f"process '{proc.name}' to start")
                self._tracked[proc.name] = Tracked(proc.name, self._pid(proc.name), None)
            self._wait_idle(list(self._tracked), deadline)
            return self._snapshot(None, None, None)

    def _check_capacity(self) -> None:
        """Refuse a lesson this conductor cannot hold, before anything is made."""
        n = len(self.scenario.processes)
        if n > MAX_PROCESSES:
            raise RunError(f"{n} processes: a lesson may have at most {MAX_PROCESSES}")
        needed = max(FDS_BASE + FDS_PER_PROCESS * n, WAKE_W + 1)
        soft = raise_nofile(needed)
        if soft != resource.RLIM_INFINITY and soft < needed:
            raise RunError(f"{n} processes need about {needed} open files here, and the "
                           f"limit is {soft} (`ulimit -n`; raise it, or run a smaller lesson)")

    def _start_runner(self) -> None:
        assert self.rundir is not None
        env = dict(os.environ)
        env[ENV_RUN] = self.rundir.run_id
        info = self.rundir.read_info()
        env[ENV_CONDUCTOR] = f"{info['conductor_pid']}:{info['conductor_start']}"
        pkg_parent = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
        env.pop("PYTHONSTARTUP", None)
        log = open(self.rundir.log_path, "ab")
        try:
            self._runner = subprocess.Popen(
                [sys.executable, "-m", "ipcviz.runtime.runner", SOCKET_NAME, self.rundir.run_id],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True, env=env, cwd=str(self.rundir.path),
            )
        finally:
            log.close()
        self.rundir.update_info(runner_pid=self._runner.pid)

    def close(self) -> None:
        """End every process of the run and remove what it made.  Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            # The fds first: a run that ended because fds ran out (EMFILE) still needs
            # some to look in /proc and remove its objects.
            self._sampler.close()
            for peer in self._peers.values():
                peer.conn.close()
            if self._runner_peer is not None and not self._runner_peer.closed:
                try:
                    self._runner_peer.conn.sendall(encode({"t": "shutdown"}))
                except OSError:
                    pass
            if self._runner is not None:
                try:
                    self._runner.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    self._runner.kill()
                    self._runner.wait(timeout=3)
            if self._runner_peer is not None:
                self._runner_peer.conn.close()
            if self._listener is not None:
                self._listener.close()
            self._sel.close()
            if self.rundir is not None:
                kill_run_processes(self.rundir.run_id, exclude=(os.getpid(),))
                remove_objects(self.rundir)
                self.rundir.remove()

    # -- the event pump -----------------------------------------------------------------

    def _send(self, peer: Peer | None, msg: dict[str, Any]) -> None:
        """Send a whole message.  The socket is non-blocking and a step may be larger than
        its buffer: wait for room (the worker reads whole messages), within a bound."""
        if peer is None or peer.closed:
            raise RunError("a process of the run is gone: cannot send it a step")
        data = memoryview(encode(msg))
        deadline = Deadline(self.step_bound)
        while data:
            try:
                n = peer.conn.send(data)
            except (BlockingIOError, InterruptedError):
                n = 0
            except (BrokenPipeError, ConnectionResetError):
                raise RunError(f"process '{peer.name or peer.role}' is gone: cannot send "
                               "it a step") from None
            data = data[n:]
            if data:
                if deadline.passed():
                    raise RunError(f"process '{peer.name or peer.role}' did not read its "
                                   f"step within {self.step_bound:g} s")
                select.select([], [peer.conn], [], POLL * 10)

    def _pid(self, name: str) -> int:
        """The pid a worker said hello with (it is in _peers only after its hello)."""
        pid = self._peers[name].pid
        assert pid is not None
        return pid

    def _pump(self, timeout: float) -> None:
        for key, _ in self._sel.select(timeout):
            if key.data is None:  # the listener's key (registered without data)
                assert self._listener is not None
                try:
                    conn, _ = self._listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                self._sel.register(conn, selectors.EVENT_READ, Peer(conn))
                continue
            peer: Peer = key.data
            try:
                data = peer.conn.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                peer.closed = True
                self._sel.unregister(peer.conn)
                continue
            try:
                for msg in peer.reader.feed(data):
                    self._on_message(peer, msg)
            except (ProtocolError, KeyError, TypeError, ValueError, AttributeError) as err:
                # Nothing but ipcviz writes on a control channel: garbage there means the
                # run cannot be trusted to go on.
                who = peer.name or peer.role or "a process"
                raise RunError(f"{who} sent a malformed control message "
                               f"({type(err).__name__}: {str(err)[:80]})") from None

    def _note_wants(self, peer: Peer, msg: dict[str, Any]) -> None:
        """What a call is about to ask of an object (a semop's operations, which no /proc
        file shows while it sleeps): kept in the object's record, the newest per process,
        for its probe to infer from (and say so)."""
        known = {o["id"]: o for o in self._objects}
        for want in msg.get("wants", []):
            rec = known.get(want.get("id"))
            if rec is not None and peer.name:
                rec.setdefault("wants", {})[peer.name] = {**want, "step": int(msg["step"])}

    def _on_message(self, peer: Peer, msg: dict[str, Any]) -> None:
        self._messages += 1
        if peer.role is None and msg.get("t") != "hello":
            raise ProtocolError("a message before hello")
        t = msg.get("t")
        if t == "hello":
            self._on_hello(peer, msg)
        elif t == "began":
            self._began[msg["step"]] = msg
            self._note_wants(peer, msg)
        elif t in ("done", "failed"):
            self._results[int(msg["step"])] = msg
        elif t == "error":
            raise RunError(f"step {msg.get('step')} ({peer.name}): the step could not be run "
                           f"({str(msg.get('message'))[:120]})")
        elif t == "handled":
            self._on_handled(peer, msg)
        elif t == "reaped":
            for tr in self._tracked.values():
                if tr.pid == msg["pid"] and not tr.reaped:
                    tr.reaped = True
                    tr.exit = exit_from_status(msg["status"])

    def _on_hello(self, peer: Peer, msg: dict[str, Any]) -> None:
        role, pid, name = msg["role"], msg["pid"], msg.get("name")
        if peer.role is not None or not isinstance(pid, int) or isinstance(pid, bool) \
                or pid <= 0 or role not in ("runner", "worker"):
            raise ProtocolError("a second or malformed hello")
        if role == "runner":
            if self._runner_peer is not None:
                raise ProtocolError("a second runner")
            self._runner_peer = peer
        else:
            if not isinstance(name, str) or name in self._peers \
                    or name not in self._names:
                raise ProtocolError(f"hello from an unknown or known process {name!r}")
            if len(self._peers) >= MAX_PROCESSES:
                raise RunError(f"more than {MAX_PROCESSES} processes")
            self._peers[name] = peer
        peer.role, peer.pid, peer.name = role, pid, name

    def _on_handled(self, peer: Peer, msg: dict[str, Any]) -> None:
        self._handled.append((msg["pid"], msg["signal"]))
        name = peer.name or "?"
        facts = self._facts.setdefault(name, {})
        facts.setdefault("handled", []).append(msg["signal"])
        info = msg.get("facts")
        if isinstance(info, dict):  # an SA_SIGINFO handler's siginfo_t
            facts.update({k: info[k] for k in ("si_pid", "si_value", "si_code") if k in info})
        self._log.append(LogEntry(self._next - 1, name, msg["pid"],
                                  f"--- {msg['signal']} handler ran ---", "handled",
                                  signal=msg["signal"]))

    def _wait(self, cond: Callable[..., object], deadline: Deadline, what: str) -> None:
        while not cond():
            if self._runner is not None and self._runner.poll() is not None:
                raise RunError(f"ipcviz's runner process ended (status {self._runner.returncode})"
                               f" while waiting for {what}{self._log_tail()}")
            late = deadline.passed()
            self._pump(0.005)
            if late and not cond():  # looked once more after the time was up
                raise RunError(f"timed out waiting for {what}{self._log_tail()}")

    def _log_tail(self) -> str:
        if self.rundir is None:
            return ""
        try:
            lines = self.rundir.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f" (process log: {lines[-1]})" if lines else ""

    # -- kernel looks used while stepping ------------------------------------------------

    def _asleep_in(self, pid: int, calls: tuple[str, ...], fd: int | None,
                   stat: procfs.Stat | None = None) -> bool:
        """The kernel shows `pid` asleep inside one of `calls` (on `fd`, if given).
        `stat`: its /proc/PID/stat if the caller has just read it (not read twice)."""
        try:
            stat = stat or self._sampler.stat(pid)
            if stat.state not in ("S", "D"):
                return False
            sc = self._sampler.syscall(pid)
        except procfs.NoSuchProcess:
            return False
        if sc.running or sc.number not in syscalls.numbers(*calls):
            return False
        # The kernel prints arguments as unsigned 64-bit: AT_FDCWD (-100) is 0xff...9c.
        return fd is None or (bool(sc.args) and sc.args[0] == fd % (1 << 64))

    def _ended(self, name: str) -> bool:
        """The process is a zombie or reaped (its exit status is known)."""
        tr = self._tracked[name]
        if tr.reaped:
            return True
        try:
            stat = self._sampler.stat(tr.pid)
        except procfs.NoSuchProcess:
            return True
        if stat.state == "Z" and stat.exit_code is not None:
            tr.exit = exit_from_status(stat.exit_code)
            return True
        return False

    def _quiet(self, name: str) -> bool:
        """Idle (asleep waiting for its next step), stopped, or ended."""
        tr = self._tracked[name]
        if tr.reaped or self._peers[name].closed:
            return tr.reaped or self._ended(name)
        stat = self._stat(tr.pid)
        if stat is None or stat.state in ("T", "t"):
            return True
        return self._asleep_in(tr.pid, ("read",), CONTROL_FD, stat)

    def _stat(self, pid: int) -> procfs.Stat | None:
        try:
            return self._sampler.stat(pid)
        except procfs.NoSuchProcess:
            return None

    def _wait_idle(self, names: list[str], deadline: Deadline) -> None:
        """Wait until each named process sleeps waiting for its next step."""
        for name in names:
            pid = self._tracked[name].pid
            # The lambda is called by _wait before the loop moves on: no late binding.
            self._wait(lambda: self._asleep_in(pid, ("read",), CONTROL_FD)  # noqa: B023
                       or self._ended(name),  # noqa: B023
                       deadline, f"process '{name}' to be ready")

    # -- steps --------------------------------------------------------------------------

    def step(self) -> Snapshot:
        with self._lock:
            if self._closed:
                raise RunError("the run is closed")
            if self.finished:
                raise RunError("the scenario has no more steps")
            st = self.scenario.steps[self._next - 1]
            self._next += 1
            try:
                return self._run_step(st)
            except OSError as err:  # EMFILE, ENOMEM, ...: the run cannot go on
                raise RunError(f"step {st.number} ({st.process}: {st.action}): the run "
                               f"could not go on: {err.strerror or err}") from None

    def _run_step(self, st: Step) -> Snapshot:
        name = st.process
        tr, peer, where = self._step_process(st)
        pids = {n: t.pid for n, t in self._tracked.items()}
        tr.step = st.number
        deadline = Deadline(self.step_bound)
        handled_mark = len(self._handled)  # handler runs reported before this step
        log_mark = len(self._log)
        self._send(peer, {"t": "step", "step": st.number, "action": st.action,
                          "args": st.args, "pids": pids})
        outcome, res = self._await_outcome(st, tr, peer, deadline, where)
        if res and "t" in res:
            self._record(st, res)
        # The step's own log line comes before what it caused (a woken reader, a handler),
        # also when a handler reported before the call's result came (a C-level handler
        # runs inside the kill(), before kill() returns).
        step_entry = self._log_entry(st, outcome, res if res else {})
        self._log.insert(log_mark, step_entry)
        if st.action == "fork" and outcome == RETURNED:
            child = st.args["child"]
            self._wait(lambda: child in self._peers, deadline, f"'{child}' to start")
            self._tracked[child] = Tracked(child, self._pid(child), name)
            self._wait_idle([child], deadline)
        if outcome == RETURNED:
            for target, sig in self._signals_sent(st, res or {}):
                self._settle_signal(target, sig, deadline, handled_mark)
        self._settle(deadline)
        result = res.get("result") if res else None
        return self._snapshot(st, outcome, result, res.get("errno") if res else None,
                              call=step_entry.call)

    def _step_process(self, st: Step) -> tuple[Tracked, Peer, str]:
        """The process that runs ST and its channel, if it can run a step now."""
        name = st.process
        tr = self._tracked.get(name)
        peer = self._peers.get(name)
        where = f"step {st.number} ({name}: {st.action})"
        if tr is None or peer is None:
            raise RunError(f"{where}: process '{name}' does not exist")
        if name in self._in_flight:
            raise RunError(f"{where}: '{name}' is still blocked in step {self._in_flight[name]}")
        if tr.reaped or peer.closed:
            raise RunError(f"{where}: '{name}' has already ended")
        if st.action == "fork" and len(self._tracked) >= MAX_PROCESSES:
            raise RunError(f"{where}: a lesson may have at most {MAX_PROCESSES} processes")
        return tr, peer, where

    def _await_outcome(self, st: Step, tr: Tracked, peer: Peer, deadline: Deadline,
                       where: str) -> tuple[str, dict[str, Any] | None]:
        """Look until ST has returned, failed, ended its process or blocked in the kernel."""
        name = st.process
        outcome: str | None = None
        while outcome is None:
            late = deadline.passed()  # and then one more look at what came
            self._pump(POLL)
            res = self._results.get(st.number)
            began = self._began.get(st.number)
            if res is not None:
                outcome = RETURNED if res["t"] == "done" else FAILED
            elif (peer.closed or st.action == "exit") and self._ended(name):
                ex = tr.exit
                outcome = KILLED if ex and ex.signal else RETURNED
                res = {"result": ex.describe() if ex else None}
            elif (began is not None and ACTIONS[st.action].sleeps_in
                  and self._asleep_in(tr.pid, ACTIONS[st.action].sleeps_in, began.get("arg0"))):
                outcome = BLOCKED
                self._in_flight[name] = st.number
            elif late:
                raise RunError(f"{where} neither returned nor blocked within "
                               f"{self.step_bound:g} s{self._log_tail()}")
        return outcome, res

    def _record(self, st: Step, res: dict[str, Any]) -> None:
        """Remember what a finished call returned, for expects and the log."""
        name = st.process
        facts = self._facts.setdefault(name, {})
        if res["t"] == "failed":
            facts["errno"] = res.get("errno")
            facts["result"] = -1
            return
        facts["result"] = res.get("result")
        facts["errno"] = None
        facts.update(res.get("facts", {}))
        known = {o["id"]: o for o in self._objects}
        for obj in res.get("objects", []):
            if obj["id"] in known:
                known[obj["id"]].update(obj)  # e.g. a second process opened it too
            else:
                self._objects.append(obj)
                known[obj["id"]] = obj
        # What a process did to an object that the kernel cannot show afterwards (the
        # messages it sent): kept in the object's record, in order, for its probe.
        for ev in res.get("object_events", []):
            if ev.get("id") in known:
                known[ev["id"]].setdefault("events", []).append({**ev, "by": name,
                                                                 "step": st.number})
        if st.action == "wait" and "status" in res:
            for tr in self._tracked.values():
                if tr.pid == res["result"]:
                    tr.reaped = True
                    tr.exit = exit_from_status(res["status"])

    def _signals_sent(self, st: Step, res: dict[str, Any]) -> list[tuple[str, str]]:
        """(target, signal) of the signals a returned step sent: kill(), and the ones an op
        reports in "signalled" ([{"pid", "signal"}], e.g. a terminal's line discipline)."""
        out = []
        if st.action == "kill":
            out.append((st.args["target"], st.args["signal"]))
        by_pid = {t.pid: n for n, t in self._tracked.items()}
        for s in res.get("signalled", ()):
            if s.get("pid") in by_pid and s.get("signal"):
                out.append((by_pid[s["pid"]], s["signal"]))
        return out

    # Default actions that leave nothing to wait for: the signals mechanism's probe knows.
    _DEFAULT_IGNORED = frozenset(signal_number(n) for n in signal_probe.DEFAULT_DISCARDED)
    _TTY_STOPS = frozenset(signal_number(n) for n in signal_probe.TTY_STOPS)

    def _settle_signal(self, target: str, sig: str, deadline: Deadline, mark: int = 0) -> None:
        """After a signal was sent: wait until the kernel has dealt with it at the target.

        Dealt with means: kept pending (blocked, or the target is stopped), discarded
        (ignored), the default action taken (the target ended or stopped), or delivered to
        a handler whose run the target reported (after `mark` in the handler reports).
        """
        num = signal_number(sig)
        tr = self._tracked.get(target)
        if tr is None or num is None:
            return

        def dealt_with() -> bool:
            if self._ended(target):
                return True
            try:
                s = self._sampler.status_signals(tr.pid)  # kept fds, as every look here
                letter = self._sampler.stat(tr.pid).state
            except procfs.NoSuchProcess:
                return True
            if any(p == tr.pid and signal_number(x) == num for p, x in self._handled[mark:]):
                return True  # a handler ran (the mask may block it again: sigsuspend)
            pending = s.pending | s.shared_pending
            if num in s.blocked:
                return num in pending  # stays pending until unblocked
            if letter in ("T", "t"):
                return True  # stopped: the signal stays pending until SIGCONT
            if pending - s.blocked:
                return False  # the kernel has not delivered it yet
            if num in s.caught:
                return any(p == tr.pid and signal_number(x) == num
                           for p, x in self._handled[mark:])
            if num in s.ignored or num in self._DEFAULT_IGNORED:
                return True  # discarded by the kernel
            if num in self._TTY_STOPS:
                return True  # stopped, or discarded (an orphaned process group)
            return False  # terminate / core / stop: wait until it has ended or stopped

        self._wait(dealt_with, deadline, f"{sig} to reach '{target}'")

    def _settle(self, deadline: Deadline) -> None:
        """Wait until every blocked call has returned or is asleep again.

        While some are busy only those are looked at again (64 processes, a look every
        millisecond); when none is, one more look at all of them confirms it."""
        busy: list[str] = []
        while True:
            late = deadline.passed()  # a look at everyone follows before it counts
            self._pump(0)
            suspects = set(busy) if busy else None  # None: everyone
            busy = [name for name, k in list(self._in_flight.items())
                    if self._still_busy(name, k, suspects)]
            for name in self._tracked:
                if (suspects is None or name in suspects) and name not in self._in_flight \
                        and not self._quiet(name):
                    busy.append(name)
            if not busy and suspects is not None:
                continue  # the busy ones are quiet now: look at everyone once more
            if not busy:
                # Everyone is quiet, so all they sent (a handler's report) is written:
                # read it before the snapshot, and look again if anything came.
                seen = self._messages
                self._pump(0)
                if self._messages == seen:
                    return
                continue
            if late:
                raise RunError(f"{', '.join(busy)} neither returned nor slept again within "
                               f"{self.step_bound:g} s")
            self._pump(POLL)

    def _still_busy(self, name: str, k: int, suspects: set[str] | None) -> bool:
        """A look at NAME, blocked in step K: its call returned (logged and no longer in
        flight), its process ended, it is stopped or asleep in its call again (False), or
        it is still busy (True).  Not looked at when it is not among SUSPECTS."""
        res = self._results.get(k)
        st = self.scenario.steps[k - 1]
        tr = self._tracked[name]
        if res is not None:
            del self._in_flight[name]
            self._record(st, res)
            self._log.append(self._log_entry(st, RETURNED if res["t"] == "done"
                                             else FAILED, res, late=True))
            return False
        if suspects is not None and name not in suspects:
            return False  # asleep at the last look; the full look confirms it
        if self._peers[name].closed and self._ended(name):
            del self._in_flight[name]
            ex = tr.exit
            self._log.append(self._log_entry(
                st, KILLED if ex and ex.signal else RETURNED,
                {"result": ex.describe() if ex else None}, late=True))
            return False
        stat = self._stat(tr.pid)
        # Stopped, or asleep in its call again: not busy.
        return not (stat is not None and (
            stat.state in ("T", "t") or self._asleep_in(
                tr.pid, ACTIONS[st.action].sleeps_in,
                self._began.get(k, {}).get("arg0"), stat)))

    # -- snapshots ----------------------------------------------------------------------

    def _log_entry(self, st: Step, outcome: str, res: dict[str, Any] | None,
                   late: bool = False) -> LogEntry:
        res = res or {}
        call = self._began.get(st.number, {}).get("call") or st.action
        detail = None
        if res.get("data") is not None:
            detail = repr(res["data"])
        if outcome == FAILED:
            # An op's own explanation (it names the queue's or the system's value) beats
            # the generic table; a plain strerror does not.
            own = res.get("message")
            if own and own == os.strerror(res.get("errno_num") or 0):
                own = None
            limit = None if own else explain_limit(st.action, res.get("errno"))
            detail = f"limit: {limit}" if limit else own or res.get("message")
        if late:
            detail = f"(step {st.number}, woken)" + (f" {detail}" if detail else "")
        return LogEntry(st.number, st.process, self._tracked[st.process].pid, call, outcome,
                        res.get("result"), res.get("errno"), detail, late,
                        **self._entry_facts(st, outcome))

    def _entry_facts(self, st: Step, outcome: str) -> dict[str, Any]:
        """The typed facts of a step's log entry, for the views (never read from `call`):
        the signal a kill() sent and the pid it went to, the signal that killed."""
        facts: dict[str, Any] = {}
        if st.action == "kill":
            target = self._tracked.get(st.args["target"])
            facts["signal"] = st.args["signal"]
            facts["target_pid"] = target.pid if target is not None else None
        ex = self._tracked[st.process].exit
        if outcome == KILLED and ex is not None:
            facts["killed_by"] = ex.signal
        return facts

    def _snapshot(self, st: Step | None, outcome: str | None, result: Any,
                  errno: str | None = None, call: str | None = None) -> Snapshot:
        processes, objects = self._sampler.sample(list(self._tracked.values()), self._objects)
        snap = Snapshot(
            index=len(self.timeline),
            step=st.number if st else 0,
            total_steps=len(self.scenario.steps),
            time=round(time.monotonic() - self.started_at, 6),
            process=st.process if st else None,
            action=st.action if st else None,
            call=call,
            narration=st.narration if st else self.scenario.summary,
            code=st.code if st else None,
            outcome=outcome,
            result=result,
            errno=errno,
            processes=processes,
            objects=objects,
            log=tuple(self._log),
            fresh=len(self._log) - self._log_mark,
        )
        self._log_mark = len(self._log)
        if st is not None and st.expects:
            snap = replace(snap, checks=evaluate(st.expects, snap, self._facts))
        if st is not None and st.quiz is not None:
            found = evaluate(tuple(c.when for c in st.quiz.choices), snap, self._facts)
            snap = replace(snap, answers=tuple(c.ok for c in found))
        return self.timeline.append(snap)

    def sample(self) -> Snapshot:
        """A fresh look at the kernel now, without running a step (not kept in the timeline)."""
        with self._lock:
            head = self.timeline.head
            if head is None or self._closed:
                raise RunError("the run has not started")
            self._pump(0)
            processes, objects = self._sampler.sample(list(self._tracked.values()),
                                                      self._objects)
            return replace(head, processes=processes, objects=objects, live=True,
                           time=round(time.monotonic() - self.started_at, 6),
                           log=tuple(self._log))
