"""A traced program as a run: the conductor role for a program ipcviz did not write.

    session = TraceSession(["./prog", "arg"])
    snap = session.start()            # snapshot 0: the program runs to its first IPC call
    session.ready()                   # the processes held at a call, about to make it
    snap = session.step(pid)          # let that process make its call (None: the first)
    snap = session.run()              # run freely until something blocks, dies, or sticks
    session.finished, session.stuck   # no process left / every process asleep
    session.leftovers()               # kernel objects the program made and left
    session.close()                   # kill the traced tree (never its objects)

    session = TraceSession.attached(pid)  # a running program: seized, not started
    snap = session.start()            # snapshot 0: the program as it is (who waits for what)
    session.close()                   # detach: the program goes on as it was

Each snapshot is built like a lesson's: the probe reads every traced process (state, wait
channel, fd table, signals) and every object found in them (pipes by inode from the fd
tables, FIFOs by path, System V queues and semaphores by the ids their calls returned),
with the same per-mechanism probes.  Narration is made from those facts alone.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ...model.snapshot import (
    BLOCKED,
    FAILED,
    KILLED,
    RETURNED,
    LogEntry,
    ObjectState,
    Process,
    Site,
    Snapshot,
)
from ...model.timeline import Timeline
from ...probe import callsite, discover, procfs
from ...probe.sock import parse_net_unix
from ...probe.sampler import Sampler, Tracked, exit_from_status
from ..protocol import LineReader, encode
from . import calls, narrate

ANSWER_BOUND = 10.0  # seconds the session waits for the tracer's answer to a command
LOG_KEPT = 500  # log entries a snapshot carries (the newest): a long run's trace stays small
ENV_PYTHONPATH = "IPCVIZ_TRACE_PROGRAM_PYTHONPATH"  # the program's own, restored at exec


class TraceError(Exception):
    """The program could not be traced; str() is one line.  code: the CLI's exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Ready:
    """A process held by the tracer at a call it is about to make."""

    pid: int  # the process (thread group)
    tid: int  # the thread held (the same as pid for a single-threaded program)
    name: str  # the process's name on the stage
    syscall: str  # "write"
    call: str  # 'write(4, "hello", 5)'


@dataclass(frozen=True)
class Leftover:
    """A kernel object the traced program made and did not remove."""

    kind: str  # "System V queue", "POSIX shared memory", "FIFO", ...
    ident: str  # "msqid 3 (key 0x1234)", "/dev/shm/ring", "/tmp/fifo"
    creator: str  # "producer (pid 1234)"
    remove: str  # the command that removes it: "ipcrm -q 3"


@dataclass
class _Pending:
    tid: int
    pid: int
    name: str
    text: str
    args: list[int]
    info: dict[str, Any]
    blocked: bool = False
    regs: dict[str, int] = field(default_factory=dict)  # at its entry stop, for the site
    site: Site | None = None
    site_done: bool = False  # looked for (found or not): once per call


@dataclass
class _Settled:
    reason: str = ""
    running: list[int] = field(default_factory=list)


def check_program(argv: Sequence[str], cwd: str | None = None) -> str:
    """The program's path, or TraceError naming why it cannot run (not found, not a file,
    not executable): said before anything is started."""
    if not argv:
        raise TraceError("no program to trace: ipcviz trace -- PROGRAM [ARGS...]")
    prog = argv[0]
    if "/" in prog:
        path = prog if os.path.isabs(prog) else os.path.join(cwd or os.getcwd(), prog)
        if not os.path.exists(path):
            raise TraceError(f"{prog}: no such file")
    else:
        found = shutil.which(prog)
        if found is None:
            raise TraceError(f"{prog}: command not found (not in PATH)")
        path = found
    if os.path.isdir(path) or not stat.S_ISREG(os.stat(path).st_mode):
        raise TraceError(f"{prog}: not a regular file")
    if not os.access(path, os.X_OK):
        raise TraceError(f"{prog}: not executable (chmod +x {prog})")
    return path


def ptrace_cause() -> str:
    """Why ptrace was refused here, in the words of the settings that refuse it."""
    causes = []
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            scope = f.read().strip()
        if scope not in ("", "0", "1"):
            causes.append(f"Yama ptrace_scope is {scope} (/proc/sys/kernel/yama/ptrace_scope;"
                          " 1 or 0 lets a process trace its own children)")
    except OSError:
        pass
    try:
        with open("/proc/self/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        if status.get("TracerPid", "0").strip() != "0":
            causes.append(f"ipcviz itself is traced by pid {status['TracerPid'].strip()} "
                          "(another tracer: a debugger or strace)")
        if status.get("Seccomp", "0").strip() != "0":
            causes.append("a seccomp profile confines ipcviz (a container's default profile "
                          "forbids ptrace: run it with --cap-add=SYS_PTRACE or "
                          "--security-opt seccomp=unconfined)")
    except OSError:
        pass
    return "; ".join(causes) or "the kernel refused it (EPERM)"


class TraceSession:
    def __init__(self, argv: Sequence[str], cwd: str | None = None,
                 attach: int | None = None) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.attach = attach  # the pid of a running program to seize instead of a start
        self.timeline = Timeline()
        # fds >= 900 are ipcviz's own only in lessons: a traced program's are all its own
        self._sampler = Sampler(hide_control_fds=False)
        self._procs: dict[int, Tracked] = {}  # pid -> what we know, in order of appearance
        self._held: dict[int, _Pending] = {}  # tid -> the call it is held at
        self._flight: dict[int, _Pending] = {}  # seq -> a released call not yet returned
        self._records: dict[str, dict[str, Any]] = {}  # object key -> probe record
        self._counts: dict[str, int] = {}  # kind -> objects of that kind found so far
        self._created: list[tuple[str, str, int, str]] = []  # (kind, ident, pid, remove)
        self._log: list[LogEntry] = []
        self._fresh = 0
        self._reader = LineReader()
        self._queue: deque[dict[str, Any]] = deque()
        self._conn: socket.socket | None = None
        self._tracer: subprocess.Popen[bytes] | None = None
        self._outdir: str | None = None
        self._t0 = time.monotonic()
        self._step = 0
        self._last_exit: tuple[int, int] | None = None
        self._last_block: int | None = None  # seq of the last call seen blocking
        self._sysv_before: dict[str, set[int]] = {}
        self._shm_before: set[str] = set()
        self._root_execed = False
        self._comms: dict[int, str] = {}  # pid -> the comm last seen
        self._blocked_call: _Pending | None = None  # the last call seen blocking
        self.finished = False
        self.stuck = False
        self.root: int | None = None

    @classmethod
    def attached(cls, pid: int) -> TraceSession:
        """A session on the running process PID and its descendants (ipcviz attach).  Its
        name is its comm; close() detaches and leaves it running as it was."""
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip() or str(pid)
        except OSError:
            raise TraceError(f"no process {pid}") from None
        session = cls([comm], attach=pid)
        session._root_execed = True  # an exec of the attached program renames it
        return session

    # -- starting and ending ----------------------------------------------------------------

    def start(self) -> Snapshot:
        if self.attach is None:
            check_program(self.argv, self.cwd)
        self._sysv_before = {k: set(_sysv_ids(k)) for k in ("msg", "sem", "shm")}
        self._shm_before = {f"/dev/shm/{n}" for n in _listdir("/dev/shm")}
        self._outdir = tempfile.mkdtemp(prefix="ipcviz-trace-")
        out = open(os.path.join(self._outdir, "output"), "wb")
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        had = env.get("PYTHONPATH")
        env[ENV_PYTHONPATH] = "0" if had is None else "1" + had
        pkg_parent = str(Path(__file__).resolve().parents[3])
        env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
        try:
            self._tracer = subprocess.Popen(
                [sys.executable, "-m", "ipcviz.runtime.trace.tracer", str(theirs.fileno()),
                 *(["--attach", str(self.attach)] if self.attach is not None
                   else ["--", *self.argv])],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, pass_fds=[theirs.fileno()],
                start_new_session=True, close_fds=True, env=env, cwd=self.cwd)
        finally:
            theirs.close()
            out.close()
        self._conn = mine
        first = self._next(ANSWER_BOUND)
        if first.get("t") == "error":
            self.close()
            raise self._start_error(first)
        if first.get("t") != "started":
            self.close()
            raise TraceError(f"the tracer said {first.get('t')!r} instead of starting")
        self.root = int(first["pid"])
        self._add_process(self.root, 0)
        self._pump_until_settled()
        return self._snapshot(None, None, None, "", None, None)

    def _start_error(self, msg: dict[str, Any]) -> TraceError:
        why, num = msg.get("why"), msg.get("errno")
        prog = self.argv[0]
        if self.attach is not None:
            return _attach_error(self.attach, why, num)
        if why == "ptrace":
            return TraceError(f"ptrace not permitted ({os.strerror(num or 1)}): "
                              f"{ptrace_cause()}")
        if why == "exec":
            return TraceError(f"{prog}: cannot execute: {os.strerror(num or 2)}")
        if why == "arch":
            return TraceError("tracing is supported on x86_64 and aarch64 only")
        return TraceError(f"{prog}: the tracer could not start it")

    def close(self) -> None:
        """Kill the traced tree (the tracer does, and dies); its objects are left alone."""
        if self._conn is not None:
            try:
                self._conn.sendall(encode({"t": "quit"}))
            except OSError:
                pass
        if self._tracer is not None:
            try:
                self._tracer.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._tracer.kill()
                self._tracer.wait(timeout=5)
            self._tracer = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._sampler.close()
        if self._outdir is not None:
            shutil.rmtree(self._outdir, ignore_errors=True)
            self._outdir = None

    def output(self) -> str:
        """What the program wrote to its stdout and stderr so far (attached: nothing;
        it writes where it always did)."""
        if self._outdir is None or self.attach is not None:
            return ""
        try:
            with open(os.path.join(self._outdir, "output"), "rb") as f:
                return f.read(1 << 20).decode("utf-8", "replace")
        except OSError:
            return ""

    # -- choosing who runs --------------------------------------------------------------------

    def ready(self) -> tuple[Ready, ...]:
        """Processes held at a call, in the order they reached it."""
        return tuple(Ready(p.pid, tid, self._name(p.pid), p.text.split("(", 1)[0], p.text)
                     for tid, p in self._held.items())

    def step(self, pid: int | None = None) -> Snapshot:
        """Let PID (a process or a thread; None: the first ready) make the call it is held
        at; return once it returned or the kernel shows it asleep inside, and every other
        process is quiet again."""
        ready = self.ready()
        if not ready:
            return self.run()
        chosen = next((r for r in ready if pid in (r.pid, r.tid)), None) if pid else ready[0]
        if chosen is None:
            raise ValueError(f"process {pid} is not held at a call")
        call = self._held.pop(chosen.tid)
        seq = self._seq_of(call)
        self._send({"t": "step", "tid": chosen.tid})
        settled = self._pump_until_settled()
        return self._step_snapshot(call, seq, settled)

    def run(self, stop_at: Sequence[str] = ("block", "exit"), bound: float = 5.0,
            stuck: bool = True) -> Snapshot:
        """Release every call as it comes until a process blocks or exits (those of
        STOP_AT), every process is asleep (stuck), none is left, or BOUND seconds passed
        (then every process is held at its next call, and the snapshot shows where).
        STUCK False: all asleep is no stop (following an attached program that waits for
        the world outside it)."""
        if self.finished:
            return self.timeline[-1]
        self._held.clear()
        self._last_block = None
        self._blocked_call = None
        self._last_exit = None
        self._send({"t": "run", "stop_at": list(stop_at), "stuck": stuck})
        settled = self._pump_until_settled(hold_after=bound)
        return self._run_snapshot(settled)

    # -- the tracer's events ------------------------------------------------------------------

    def _send(self, msg: dict[str, Any]) -> None:
        if self._conn is None:
            raise TraceError("the trace is closed", 3)
        try:
            self._conn.sendall(encode(msg))
        except OSError as err:
            raise TraceError(f"the tracer is gone ({err.strerror})", 3) from None

    def _next(self, bound: float) -> dict[str, Any]:
        assert self._conn is not None
        deadline = time.monotonic() + bound
        while not self._queue:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TraceError(f"the tracer did not answer within {bound:g} s", 3)
            self._conn.settimeout(left)
            try:
                data = self._conn.recv(1 << 16)
            except TimeoutError:
                continue
            if not data:
                raise TraceError("the tracer ended unexpectedly", 3)
            self._queue.extend(self._reader.feed(data))
        return self._queue.popleft()

    def _pump_until_settled(self, hold_after: float | None = None) -> _Settled:
        """Apply the tracer's events until it says "settled".  HOLD_AFTER: seconds after
        which a free run is asked to hold (a program that never blocks is shown too); the
        answer to that is bounded like any other."""
        start = time.monotonic()
        held_at: float | None = None
        while True:
            try:
                msg = self._next(0.5 if hold_after is not None else ANSWER_BOUND)
            except TraceError:
                now = time.monotonic()
                if hold_after is None or self._tracer is None or \
                        self._tracer.poll() is not None or \
                        (held_at is not None and now - held_at > ANSWER_BOUND):
                    raise
                if held_at is None and now - start >= hold_after:
                    self._send({"t": "hold"})
                    held_at = now
                continue
            if msg.get("t") == "settled":
                s = _Settled(str(msg.get("reason")), [int(p) for p in msg.get("running", [])])
                self.finished = s.reason == "ended"
                self.stuck = s.reason == "stuck"
                return s
            self._on_event(msg)
            if hold_after is not None and held_at is None and \
                    time.monotonic() - start >= hold_after:
                self._send({"t": "hold"})
                held_at = time.monotonic()

    def _on_event(self, msg: dict[str, Any]) -> None:
        kind = msg.get("t")
        handler = getattr(self, f"_ev_{kind}", None)
        if handler is not None:
            handler(msg)

    def _ev_proc(self, msg: dict[str, Any]) -> None:
        self._add_process(int(msg["pid"]), int(msg.get("ppid") or 0))

    def _ev_exec(self, msg: dict[str, Any]) -> None:
        pid = int(msg["pid"])
        t = self._procs.get(pid)
        if pid == self.root and not self._root_execed:
            self._root_execed = True  # the program itself: it keeps the name it was given
            self._comms.pop(pid, None)
            return
        if t is not None and msg.get("path"):
            self._rename(t, os.path.basename(str(msg["path"])))
            self._comms.pop(pid, None)

    def _ev_call(self, msg: dict[str, Any]) -> None:
        pid = int(msg["pid"])
        if pid not in self._procs:
            self._add_process(pid, 0)
        p = _Pending(int(msg["tid"]), pid, str(msg["name"]), str(msg["text"]),
                     list(msg.get("args", [])), dict(msg.get("info") or {}),
                     regs={str(k): int(v) for k, v in (msg.get("regs") or {}).items()})
        p.info["seq"] = int(msg["seq"])
        self._procs[pid].step = self._step + 1
        if isinstance(msg.get("comm"), str):
            self._follow_comm(self._procs[pid], msg["comm"])
        self._flight[int(msg["seq"])] = p
        if msg.get("held"):
            self._held[p.tid] = p

    def _ev_blocked(self, msg: dict[str, Any]) -> None:
        p = self._flight.get(int(msg["seq"]))
        if p is None:
            return
        p.blocked = True
        self._last_block = int(msg["seq"])
        self._blocked_call = p
        self._site_of(p)  # asleep inside the call: its stack still says who called it
        self._add_log(p, BLOCKED, None, None, str(msg.get("wchan") or ""))

    def _ev_ret(self, msg: dict[str, Any]) -> None:
        p = self._flight.pop(int(msg["seq"]), None)
        if p is None:
            return
        err = msg.get("errno")
        result = msg.get("result")
        if "fds" in msg:
            result = msg["fds"]
        detail = None
        if err in calls.RESTART_MEANING:
            detail = calls.RESTART_MEANING[err]  # interrupted by a signal; not the program's
        if msg.get("data"):
            detail = bytes.fromhex(msg["data"]).decode("utf-8", "replace")
        p.info["ret"] = msg
        self._add_log(p, FAILED if err else RETURNED, result, err, detail, late=p.blocked)
        if not err:
            self._after_return(p, msg)

    def _ev_signal(self, msg: dict[str, Any]) -> None:
        pid = int(msg["pid"])
        sig = str(msg.get("signal"))
        self._log.append(LogEntry(self._step + 1, self._name(pid), pid, f"--- {sig} ---",
                                  "signal", signal=sig))
        self._fresh += 1

    def _ev_exit(self, msg: dict[str, Any]) -> None:
        pid, status = int(msg["pid"]), int(msg["status"])
        t = self._procs.get(pid)
        if t is None:
            return
        t.exit = exit_from_status(status)
        self._last_exit = (pid, status)
        for tid in [k for k, v in self._held.items() if v.pid == pid]:
            del self._held[tid]
        for seq in [k for k, v in self._flight.items() if v.pid == pid]:
            del self._flight[seq]
        if os.WIFSIGNALED(status):
            self._log.append(LogEntry(self._step + 1, t.name, pid, f"+++ {t.exit.describe()} +++",
                                      KILLED, result=t.exit.describe(),
                                      killed_by=t.exit.signal))
        else:
            self._log.append(LogEntry(self._step + 1, t.name, pid,
                                      f"+++ exited with {t.exit.code} +++", RETURNED,
                                      result=t.exit.code))
        self._fresh += 1

    def _add_log(self, p: _Pending, outcome: str, result: Any, err: str | None,
                 detail: str | None, late: bool = False) -> None:
        signal_name = target = None
        if p.name in ("kill", "tkill", "tgkill") and p.args:
            from ...scenario.actions import signal_name as _sn

            try:
                signal_name = _sn(p.args[2] if p.name == "tgkill" else p.args[1])
                target = _signed(p.args[1] if p.name == "tgkill" else p.args[0])
            except (ValueError, KeyError, IndexError):
                pass
        self._log.append(LogEntry(self._step + 1, self._name(p.pid), p.pid, p.text, outcome,
                                  result=result, errno=err, detail=detail, late=late,
                                  signal=signal_name, target_pid=target,
                                  site=_site_text(p.site)))
        self._fresh += 1

    # -- call sites ---------------------------------------------------------------------------

    def _site_of(self, p: _Pending) -> Site | None:
        """Where in the program P's call was made (probe/callsite.py, from the registers of
        its entry stop and the stack it still has: held at the call, or asleep in it).
        Looked for once per call, and only for the calls that block or are shown held: a
        free run's calls that return at once cost nothing (README, "Call sites")."""
        if not p.site_done:
            p.site_done = True
            found = callsite.call_site(p.tid, p.regs or None)
            if found is not None:
                from ..watch import source_lines

                p.site = Site(found.binary, found.offset, found.function, found.file,
                              found.line, *source_lines(found.file, found.line))
        return p.site

    def _with_sites(self, processes: tuple[Process, ...]) -> tuple[Process, ...]:
        """The processes, each held at a call or asleep in one with that call's site."""
        where: dict[int, _Pending] = {}
        for p in list(self._held.values()) + [f for f in self._flight.values() if f.blocked]:
            where.setdefault(p.pid, p)
        if not where:
            return processes
        return tuple(replace(p, site=self._site_of(where[p.pid])) if p.pid in where else p
                     for p in processes)

    # -- what calls made --------------------------------------------------------------------

    def _after_return(self, p: _Pending, msg: dict[str, Any]) -> None:
        """Objects a returned call made or changed: System V ids, semaphore units taken
        and given (the holders shown are inferred from these), names the program created."""
        handler = self._AFTER.get(p.name)
        if handler is not None:
            handler(self, p, msg.get("result"))
        targets = [t for t in msg.get("targets") or [] if isinstance(t, str)]
        if p.name == "socketpair" and len(targets) == 2 and all(
                t.startswith("socket:[") for t in targets):
            ta, tb = targets
            self._record(f"socketpair:{ta}", "socketpair",
                         {"inode_a": int(ta[8:-1]), "inode_b": int(tb[8:-1]),
                          "fd_targets": [ta, tb], "fd_ends": {ta: "a", tb: "b"}})
        elif p.name == "mq_open" and targets:
            name = "/" + str(p.info.get("path", "")).lstrip("/")  # glibc passes it without
            self._record(f"posix_mq:{name}", "posix_mq",
                         {"name": name, "fd_targets": [targets[0], f"{targets[0]} (deleted)"]})

    def _made_sysv(self, p: _Pending, res: Any) -> None:
        if not isinstance(res, int):
            return
        table = {"msgget": "msg", "semget": "sem", "shmget": "shm"}[p.name]
        kind, id_field, flag = {"msg": ("sysv_msgq", "msqid", "-q"),
                                "sem": ("sysv_sem", "semid", "-s"),
                                "shm": ("sysv_shm", "shmid", "-m")}[table]
        self._record(f"{kind}:{res}", kind, {"key": p.args[0] & 0xFFFFFFFF, id_field: res})
        ident = f"{table}:{res}"
        if res not in self._sysv_before.get(table, set()) and \
                not any(c[1] == ident for c in self._created):
            self._created.append((kind, ident, p.pid, f"ipcrm {flag} {res}"))

    def _semop_done(self, p: _Pending, res: Any) -> None:
        rec = self._records.get(f"sysv_sem:{_signed(p.args[0])}")
        if rec is None:
            return
        for _num, op, flg in p.info.get("sops", []):
            if op:
                rec.setdefault("events", []).append(
                    {"op": "wait" if op < 0 else "post", "n": abs(op),
                     "undo": bool(flg & 0x1000), "by": self._name(p.pid)})  # SEM_UNDO

    def _made_name(self, p: _Pending, res: Any) -> None:
        """A FIFO made by mknod, a /dev/shm name or a POSIX queue opened with O_CREAT."""
        path = str(p.info.get("path", ""))
        if not path or any(c[1] == path for c in self._created):
            return
        if p.name in ("mknod", "mknodat"):
            self._created.append(("FIFO", path, p.pid, f"rm {_shq(path)}"))
        elif p.name == "mq_open" and p.args[1] & os.O_CREAT:
            path = "/" + path.lstrip("/")
            self._created.append(("POSIX queue", path, p.pid,
                                  "python3 -c \"import posix_ipc; "
                                  f"posix_ipc.unlink_message_queue({path!r})\""))
        elif p.name in ("open", "openat") and path.startswith("/dev/shm/") and \
                p.args[2 if p.name == "openat" else 1] & os.O_CREAT:
            kind = ("POSIX semaphore" if os.path.basename(path).startswith("sem.")
                    else "POSIX shared memory")
            self._created.append((kind, path, p.pid, f"rm {_shq(path)}"))

    _AFTER: dict[str, Any] = {
        "msgget": _made_sysv, "semget": _made_sysv, "shmget": _made_sysv,
        "semop": _semop_done, "semtimedop": _semop_done,
        "mknod": _made_name, "mknodat": _made_name, "mq_open": _made_name,
        "open": _made_name, "openat": _made_name,
    }

    def leftovers(self) -> list[Leftover]:
        """Objects the traced program created that still exist, with the command that
        removes each.  ipcviz removes none of them: they are the program's own."""
        out = []
        for kind, ident, pid, remove in self._created:
            if not _still_there(kind, ident):
                continue
            who = f"{self._name(pid)} (pid {pid})"
            shown = ident
            if ident.startswith(("msg:", "sem:", "shm:")):
                table, num = ident.split(":")
                label = {"msg": "System V queue", "sem": "System V semaphore set",
                         "shm": "System V shared memory"}[table]
                out.append(Leftover(label, f"id {num}", who, remove))
                continue
            out.append(Leftover(kind, shown, who, remove))
        return out

    # -- processes and objects ----------------------------------------------------------------

    def _add_process(self, pid: int, ppid: int) -> None:
        if pid in self._procs:
            return
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip() or str(pid)
        except OSError:
            comm = os.path.basename(self.argv[0])
        self._comms[pid] = comm  # one read: the name and the baseline of a later rename
        if pid == self.root:
            comm = os.path.basename(self.argv[0])
        parent = self._procs.get(ppid)
        t = Tracked(self._unique(comm), pid, parent.name if parent else None, ppid=ppid)
        self._procs[pid] = t

    def _unique(self, name: str, exclude: Tracked | None = None) -> str:
        name = name.replace(":", "_") or "process"
        taken = {t.name for t in self._procs.values() if t is not exclude}
        if name not in taken:
            return name
        n = 2
        while f"{name}-{n}" in taken:
            n += 1
        return f"{name}-{n}"

    def _rename(self, t: Tracked, comm: str) -> None:
        old = t.name
        new = self._unique(comm, exclude=t)
        if new == old:
            return
        t.name = new
        for other in self._procs.values():
            if other.parent == old:
                other.parent = new
        for rec in self._records.values():
            for ev in rec.get("events", []):
                if ev.get("by") == old:
                    ev["by"] = new

    def _follow_comm(self, t: Tracked, comm: str | None = None) -> None:
        """A process that names itself (prctl(PR_SET_NAME)) is shown by that name.  COMM:
        as the tracer read it at the process's call; else read now."""
        if comm is None:
            if t.exit is not None or t.reaped:
                return
            try:
                comm = Path(f"/proc/{t.pid}/comm").read_text().strip()
            except OSError:
                return
        before = self._comms.setdefault(t.pid, comm)
        if comm and comm != before:
            self._comms[t.pid] = comm
            self._rename(t, comm)

    def _name(self, pid: int) -> str:
        t = self._procs.get(pid)
        return t.name if t else f"pid {pid}"

    def _record(self, key: str, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        rec = self._records.get(key)
        if rec is None:
            short = {"pipe": "pipe", "fifo": "fifo", "sysv_msgq": "msq", "sysv_sem": "sem",
                     "sysv_shm": "shm", "socketpair": "sock", "posix_mq": "mq",
                     "sem": "psem", "shm": "pshm", "socket": "usock"}.get(kind, kind)
            self._counts[short] = self._counts.get(short, 0) + 1
            rec = {"id": f"{short}{self._counts[short]}", "kind": kind, **fields}
            self._records[key] = rec
        return rec

    def _discover(self) -> list[dict[str, Any]]:
        """Records of the objects the traced processes hold now (pipes by inode, FIFOs by
        path) and of the System V objects their calls named that still exist."""
        held = self._scan_fds()
        live = {k: set(_sysv_ids(k)) for k in ("msg", "sem", "shm")}
        return [rec for key, rec in self._records.items() if _exists(key, rec, held, live)]

    def _scan_fds(self) -> set[str]:
        """Keys of the objects some live traced process holds an fd of (new ones recorded)."""
        held: set[str] = set()
        unix: dict[int, Any] | None = None  # /proc/net/unix, read once if a socket is new
        for t in self._procs.values():
            if t.reaped or t.exit is not None:
                continue
            try:
                fds = procfs.read_fds_at(self._sampler._procdir(t.pid))
            except (procfs.NoSuchProcess, OSError):
                continue
            for target in fds.values():
                if target.startswith("socket:[") and not self._known_socket(target):
                    if unix is None:
                        unix = _net_unix()
                    self._unix_socket(target, unix)
                elif target.startswith("/dev/shm/") and not os.path.basename(
                        target).startswith("sem."):
                    self._posix_shm(target)
                if target.startswith("pipe:["):
                    ino = int(target[6:-1])
                    self._record(f"pipe:{ino}", "pipe", {"inode": ino, "fd_targets": [target]})
                    held.add(f"pipe:{ino}")
                elif target.startswith("/") and _is_fifo(target):
                    self._record(f"fifo:{target}", "fifo", {"path": target,
                                                            "fd_targets": [target]})
                    held.add(f"fifo:{target}")
                else:
                    held.add(target)  # a socket or queue of a record made at its call
            held |= self._scan_maps(t.pid)
        return held

    def _known_socket(self, target: str) -> bool:
        return f"socket:{target[8:-1]}" in self._records or any(
            target in rec.get("fd_targets", ()) for rec in self._records.values()
            if rec["kind"] == "socketpair")

    def _unix_socket(self, target: str, unix: dict[int, Any]) -> None:
        """A Unix socket not made by socketpair() (a named one, a listener, an accepted
        or connecting one), as the sock probe draws it: found in /proc/net/unix."""
        ino = int(target[8:-1])
        line = unix.get(ino)
        if line is None:
            return  # not AF_UNIX (an inet socket): no panel for it here
        fields: dict[str, Any] = {"inode": ino, "fd_targets": [target]}
        if line.path and not line.path.startswith("@"):
            fields["path"] = line.path
        self._record(f"socket:{ino}", "socket", fields)

    def _posix_shm(self, path: str) -> None:
        """A POSIX shared memory object held by fd (shm_open) or mapped."""
        path = path.removesuffix(" (deleted)")
        try:
            st = os.stat(path)
        except OSError:
            return
        self._record(f"shm:{path}", "shm", {"name": "/" + path[len("/dev/shm/"):],
                                            "path": path, "inode": st.st_ino,
                                            "dev": st.st_dev,
                                            "fd_targets": [path]})

    def _scan_maps(self, pid: int) -> set[str]:
        """Shared memory a process maps: System V segments, POSIX regions, and POSIX
        semaphores (/dev/shm/sem.NAME, found by the mapping's inode: sem_open maps a
        temporary file that it then links to the name): a futex on one names it."""
        found: set[str] = set()
        for rec in discover.map_records([pid]):
            if rec["kind"] == "sysv_shm":
                key = f"sysv_shm:{rec['shmid']}"
                self._record(key, "sysv_shm", {"key": rec["key"], "shmid": rec["shmid"]})
                found.add(key)
            elif rec["kind"] == "shm":
                self._posix_shm(rec["path"])
                found.add(f"shm:{rec['path']}")
        try:
            with open(f"/proc/{pid}/maps") as f:
                lines = f.read().splitlines()
        except OSError:
            return found
        inodes = {int(parts[4]) for parts in (line.split(None, 5) for line in lines)
                  if len(parts) == 6 and parts[5].startswith("/dev/shm/sem.")}
        if not inodes:
            return found
        for name, st in _shm_sems():
            if st.st_ino not in inodes:
                continue
            self._record(f"sem:{name}", "sem", {"name": name, "inode": st.st_ino,
                                                "dev": st.st_dev})
            found.add(f"sem:{name}")
            path = f"/dev/shm/sem.{name[1:]}"
            if path not in self._shm_before and not any(c[1] == path for c in self._created):
                self._created.append(("POSIX semaphore", path, pid, f"rm {_shq(path)}"))
        return found

    # -- snapshots ----------------------------------------------------------------------------

    def _world(self) -> tuple[tuple[Process, ...], tuple[ObjectState, ...]]:
        for t in self._procs.values():
            self._follow_comm(t)
            if t.exit is not None and not t.reaped and not os.path.exists(f"/proc/{t.pid}"):
                t.reaped = True
        records = self._discover()
        self._sampler.fd_cache.clear()  # a traced call we let run freely may change fds
        return self._sampler.sample(list(self._procs.values()), records)

    def _snapshot(self, process: str | None, call: str | None, outcome: str | None,
                  narration: str, result: Any, err: str | None) -> Snapshot:
        processes, objects = self._world()
        processes = self._with_sites(processes)
        facts = narrate.world(processes, objects, self.ready(), self._name, self.stuck,
                              self.finished, attached=self.attach is not None)
        text = " ".join(x for x in (narration, facts) if x)
        log = tuple(self._log[-LOG_KEPT:])
        snap = Snapshot(index=len(self.timeline), step=self._step, total_steps=self._step,
                        time=round(time.monotonic() - self._t0, 6), process=process,
                        action="trace" if call else None, call=call, narration=text,
                        code=None, outcome=outcome, result=result, errno=err,
                        processes=processes, objects=objects, log=log,
                        fresh=min(self._fresh, len(log)))
        self._fresh = 0
        return self.timeline.append(snap)

    def _seq_of(self, p: _Pending) -> int:
        return int(p.info.get("seq", 0))

    def _step_snapshot(self, call: _Pending, seq: int, settled: _Settled) -> Snapshot:
        self._step += 1
        name = self._name(call.pid)
        ret = call.info.get("ret")
        if ret is not None:
            err = ret.get("errno")
            result = ret.get("fds", ret.get("result"))
            outcome = FAILED if err else RETURNED
            said = narrate.returned(name, call.text, ret)
        elif seq in self._flight and self._flight[seq].blocked:
            outcome, result, err = BLOCKED, None, None
            said = ""
        else:
            t = self._procs.get(call.pid)
            if t is not None and t.exit is not None:
                outcome, result, err = (KILLED if t.exit.signal else RETURNED), \
                    t.exit.describe(), None
                said = f"{name} ended: {t.exit.describe()}."
            else:
                outcome, result, err = RETURNED, None, None
                said = f"{name} is still running (it made no other IPC call within the bound)."
        return self._snapshot(name, call.text, outcome, said, result, err)

    def _run_snapshot(self, settled: _Settled) -> Snapshot:
        self._step += 1
        if self._last_block is not None and self._blocked_call is not None:
            p = self._blocked_call
            if self._last_block in self._flight:
                return self._snapshot(self._name(p.pid), p.text, BLOCKED, "", None, None)
            ret: dict[str, Any] = p.info.get("ret") or {}
            return self._snapshot(self._name(p.pid), p.text,
                                  FAILED if ret.get("errno") else RETURNED,
                                  f"{self._name(p.pid)} blocked in {p.name}() and was woken: "
                                  + narrate.returned(self._name(p.pid), p.text, ret),
                                  ret.get("fds", ret.get("result")), ret.get("errno"))
        if self._last_exit is not None:
            pid, status = self._last_exit
            t = self._procs[pid]
            ex = exit_from_status(status)
            return self._snapshot(t.name, f"exit ({ex.describe()})",
                                  KILLED if ex.signal else RETURNED,
                                  f"{t.name} ended: {ex.describe()}.", ex.describe(), None)
        asleep = [p for p in self._flight.values() if p.blocked]
        if self.stuck and asleep:
            p = asleep[-1]
            return self._snapshot(self._name(p.pid), p.text, BLOCKED, "", None, None)
        return self._snapshot(None, None, RETURNED, "", None, None)


def _site_text(site: Site | None) -> str | None:
    """A log line's "at …": file:line with debug information, else the function."""
    if site is None:
        return None
    if site.file and site.line:
        return f"{os.path.basename(site.file)}:{site.line}"
    return f"{site.function}()" if site.function else None


def _attach_error(pid: int, why: Any, num: Any) -> TraceError:
    """Why PID could not be seized: the one-line diagnosis of ptrace_check, if it finds
    the cause, else the kernel's word."""
    from ..ptrace_check import NoTarget, diagnose

    if why == "gone":
        return TraceError(f"no process {pid}")
    if why == "arch":
        return TraceError("tracing is supported on x86_64 and aarch64 only")
    try:
        refused = diagnose(pid)
    except NoTarget:
        return TraceError(f"no process {pid}")
    if refused is not None:
        return TraceError(refused.line())
    return TraceError(f"ptrace of process {pid} refused ({os.strerror(num or 1)})")


def _exists(key: str, rec: dict[str, Any], held: set[str], live: dict[str, set[int]]) -> bool:
    """Whether the object of a record is still there to be drawn."""
    kind = rec["kind"]
    if kind == "pipe":
        return key in held  # no process holds an end: the kernel freed it
    if kind == "fifo":
        return key in held or _is_fifo(rec["path"])
    if kind == "sysv_msgq":
        return rec.get("msqid") in live["msg"]
    if kind == "sysv_sem":
        return rec.get("semid") in live["sem"]
    if kind in ("socketpair", "posix_mq", "socket"):
        return any(t in held for t in rec["fd_targets"])
    if kind == "sem":
        return key in held
    if kind == "sysv_shm":
        return rec.get("shmid") in live["shm"]
    if kind == "shm":  # mapped or open, or still named
        return key in held or any(t in held for t in rec["fd_targets"]) or \
            os.path.exists(rec["path"])
    return False


def _net_unix() -> dict[int, Any]:
    try:
        with open("/proc/net/unix", encoding="utf-8", errors="replace") as f:
            return parse_net_unix(f.read())
    except OSError:
        return {}


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _shq(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _shm_sems() -> list[tuple[str, os.stat_result]]:
    """("/NAME", stat) of every /dev/shm/sem.NAME."""
    out: list[tuple[str, os.stat_result]] = []
    try:
        entries = list(os.scandir("/dev/shm"))
    except OSError:
        return out
    for e in entries:
        if e.name.startswith("sem."):
            try:
                out.append(("/" + e.name[4:], e.stat(follow_symlinks=False)))
            except OSError:
                continue
    return out


def _is_fifo(path: str) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False


def _sysv_ids(table: str) -> list[int]:
    """The ids of /proc/sysvipc/TABLE (msg, sem, shm): the second column."""
    try:
        with open(f"/proc/sysvipc/{table}") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return []
    return [int(line.split()[1]) for line in lines if len(line.split()) > 1]


def _still_there(kind: str, ident: str) -> bool:
    if ident.startswith(("msg:", "sem:", "shm:")):
        table, num = ident.split(":")
        return int(num) in _sysv_ids(table)
    if kind == "POSIX queue":
        import posix_ipc

        try:
            posix_ipc.MessageQueue(ident).close()  # opened by name, nothing received
        except (posix_ipc.ExistentialError, posix_ipc.PermissionsError, ValueError):
            return False
        return True
    return os.path.lexists(ident)
