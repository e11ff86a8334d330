"""Immutable world state: what the kernel said at one moment of a run.

Every field here was read from the kernel by the probe, or reported by a worker
about a system call it made (its return value or errno).  Views render these
objects and nothing else; they never talk to a process or to the kernel.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_D = TypeVar("_D", bound="DataclassInstance")

# Process states, as shown to the user and written in the JSON trace.
RUNNING = "running"  # on a CPU or runnable (/proc/PID/stat state R)
BLOCKED = "blocked"  # asleep inside a scenario system call
SLEEPING = "sleeping"  # asleep, idle between steps (waiting for its next step)
STOPPED = "stopped"  # stopped by a signal (T) or traced (t)
ZOMBIE = "zombie"  # exited, not yet reaped by its parent (Z)
EXITED = "exited"  # reaped: gone from /proc
PROCESS_STATES = (RUNNING, BLOCKED, SLEEPING, STOPPED, ZOMBIE, EXITED)

# Outcomes of a step.
RETURNED = "returned"
FAILED = "failed"
KILLED = "killed"
OUTCOMES = (RETURNED, BLOCKED, FAILED, KILLED)


@dataclass(frozen=True)
class Fd:
    """One entry of a process's fd table (/proc/PID/fd/N)."""

    fd: int
    target: str  # readlink text: "pipe:[1234]", "/dev/null", "socket:[9]"
    object: str | None = None  # scenario object id this fd refers to, if any
    end: str | None = None  # "read" / "write" for pipe and FIFO ends (from fdinfo flags)
    cloexec: bool = False  # FD_CLOEXEC: closed by execve() (fdinfo flags has O_CLOEXEC)


@dataclass(frozen=True)
class Signals:
    """Signal sets of a process, from /proc/PID/status (names like "SIGUSR1")."""

    pending: tuple[str, ...] = ()  # SigPnd: pending for the thread
    shared_pending: tuple[str, ...] = ()  # ShdPnd: pending for the process
    blocked: tuple[str, ...] = ()  # SigBlk
    ignored: tuple[str, ...] = ()  # SigIgn
    caught: tuple[str, ...] = ()  # SigCgt
    queued: int = 0  # SigQ, first number
    queue_limit: int = 0  # SigQ, second number (RLIMIT_SIGPENDING)


@dataclass(frozen=True)
class Exit:
    """How a process ended (from waitpid or /proc/PID/stat exit_code of a zombie)."""

    code: int | None = None  # exit status when it exited normally
    signal: str | None = None  # signal name when a signal killed it
    core: bool = False  # a core dump was written (WCOREDUMP)

    def describe(self) -> str:
        if self.signal:
            return f"killed by {self.signal}" + (" (core dumped)" if self.core else "")
        return f"exited with code {self.code}"


@dataclass(frozen=True)
class Site:
    """Where in a program (not ipcviz's own) a blocked call was made: the call instruction
    behind the library wrapper, found by unwinding its stack (probe/callsite.py)."""

    binary: str  # the object it lies in (/proc/PID/maps path)
    offset: int  # its address in that binary
    function: str | None = None  # from the symbol table; None if stripped
    file: str | None = None  # source file and line, when the binary has debug information
    line: int | None = None
    # The source lines around `line` (read from `file` when ipcviz could), the first of
    # them numbered `context_start`: the C code panel marks the call among them.
    context_start: int | None = None
    context: tuple[str, ...] = ()

    def describe(self) -> str:
        fn = f"{self.function}()" if self.function else \
            f"{self.binary.rsplit('/', 1)[-1]}+0x{self.offset:x}"
        return f"{fn} at {self.file}:{self.line}" if self.file and self.line else fn


@dataclass(frozen=True)
class Process:
    name: str
    pid: int
    ppid: int
    parent: str | None  # scenario name of the parent process; None: ipcviz's runner
    state: str  # one of PROCESS_STATES
    syscall: str | None = None  # name of the call it sleeps in (blocked) or None
    syscall_args: tuple[int, ...] = ()
    wchan: str | None = None  # /proc/PID/wchan
    waits_on: str | None = None  # object id the blocked call is about, when known
    fds: tuple[Fd, ...] = ()
    signals: Signals | None = None
    exit: Exit | None = None
    step: int | None = None  # number of the last step this process began (1-based)
    kernel_state: str | None = None  # raw state letter of /proc/PID/stat
    pgid: int = 0  # process group (/proc/PID/stat field 5); 0: not read (gone)
    sid: int = 0  # session (/proc/PID/stat field 6); 0: not read (gone)
    site: Site | None = None  # where a watched program made the call it sleeps in


@dataclass(frozen=True)
class ObjectState:
    """A kernel object of the scenario.  Each kind subclasses this."""

    id: str
    kind: str


@dataclass(frozen=True)
class LogEntry:
    """One line of the strace-like log."""

    step: int
    process: str
    pid: int | None
    call: str  # 'write(4, "hello", 5)'
    outcome: str  # began / returned / blocked / failed / killed
    result: Any = None
    errno: str | None = None
    detail: str | None = None  # e.g. the bytes read, as text
    late: bool = False  # a blocked call that returned later, woken by another step
    # The facts a view needs, typed, so no one parses `call` or `result` (English for the
    # log panel) back.  signal: the signal a kill() sent, or whose handler ran (outcome
    # "handled"); target_pid: the pid a kill() was sent to; killed_by: the signal that
    # ended the process (outcome "killed").  None where the entry has none.
    signal: str | None = None
    target_pid: int | None = None
    killed_by: str | None = None
    # where in the program the call was made, for a traced program's call that blocked:
    # "hang_pipe.c:21" with debug information, else "main()" (probe/callsite.py)
    site: str | None = None


@dataclass(frozen=True)
class Check:
    expect: str
    observed: Any
    ok: bool


@dataclass(frozen=True)
class Snapshot:
    index: int  # position in the timeline
    step: int  # 0 before step 1; k after step k
    total_steps: int
    time: float  # seconds since the run started
    process: str | None = None  # the step's process
    action: str | None = None
    call: str | None = None  # the call as strace would print it
    narration: str = ""
    code: str | None = None
    outcome: str | None = None  # one of OUTCOMES, None for snapshot 0
    result: Any = None
    errno: str | None = None
    processes: tuple[Process, ...] = ()
    objects: tuple[ObjectState, ...] = ()
    log: tuple[LogEntry, ...] = ()  # every log line up to this snapshot
    fresh: int = 0  # how many of the last log lines came with this snapshot
    checks: tuple[Check, ...] = ()
    # For a step with a quiz: which choices the kernel's state after the step made true
    # (each choice's `when`, evaluated like an expect).  Empty for a step without a quiz.
    answers: tuple[bool, ...] = ()
    live: bool = False  # a periodic sample of the head, not the result of a step

    def process_named(self, name: str) -> Process | None:
        return self._processes_by_name.get(name)

    def object_named(self, oid: str) -> ObjectState | None:
        return self._objects_by_id.get(oid)

    def live_holder(self, target: str) -> tuple[int, int] | None:
        """(pid, fd) of the first live process with an fd whose link reads `target`
        ("pipe:[INO]", "socket:[INO]"): the end a probe asks through."""
        for p in self.processes:
            if p.state in (ZOMBIE, EXITED):
                continue
            for f in p.fds:
                if f.target == target:
                    return (p.pid, f.fd)
        return None

    # Looked up by name for every line of a 64-process table: built once per snapshot (a
    # cached_property writes the instance's __dict__, which a frozen dataclass allows).
    @functools.cached_property
    def _processes_by_name(self) -> dict[str, Process]:
        found: dict[str, Process] = {}
        for p in self.processes:
            found.setdefault(p.name, p)  # the first, as a linear search would find
        return found

    @functools.cached_property
    def _objects_by_id(self) -> dict[str, ObjectState]:
        found: dict[str, ObjectState] = {}
        for o in self.objects:
            found.setdefault(o.id, o)
        return found

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# kind -> its ObjectState subclass: every mechanism's model module's OBJECT_KINDS, collected
# by the package (ipcviz.model) when it is imported.
OBJECT_KINDS: dict[str, type[ObjectState]] = {}


def _build(cls: type[_D], data: dict[str, Any]) -> _D:
    """Rebuild a frozen dataclass from asdict() output (lists become tuples)."""
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        # Only fields declared as tuples become tuples: a call's result stays a list,
        # as it was live (pipe() returns [3, 4]).
        if isinstance(value, list) and str(f.type).startswith("tuple"):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


# Compatibility with traces recorded before log entries carried `signal` and `target_pid`
# (the traces shipped in tests/app/traces, and any a user saved): the fields are derived,
# once, from the text the conductor of that time wrote.  This is the only place that reads
# a log line's text back; a trace that has the fields is taken as it is.
_OLD_HANDLED = re.compile(r"--- (SIG[A-Z0-9+-]+) handler ran ---")
_OLD_KILL = re.compile(r"kill\((-?\d+), (SIG[A-Z0-9+-]+)\)")
_OLD_KILLED = re.compile(r"killed by (SIG[A-Z0-9+-]+)")


def _typed_log_entry(e: dict[str, Any]) -> dict[str, Any]:
    """A log entry of a trace, with the typed fields an older trace does not have."""
    if any(k in e for k in ("signal", "target_pid", "killed_by")):
        return e
    call, outcome, e = str(e.get("call", "")), e.get("outcome"), dict(e)
    if outcome == "handled" and (m := _OLD_HANDLED.fullmatch(call)):
        e["signal"] = m[1]
    elif m := _OLD_KILL.match(call):
        e["signal"], e["target_pid"] = m[2], int(m[1])
    if outcome == KILLED and (m := _OLD_KILLED.search(str(e.get("result") or ""))):
        e["killed_by"] = m[1]
    return e


def snapshot_from_dict(data: dict[str, Any]) -> Snapshot:
    """The inverse of Snapshot.to_dict(), for replaying a saved trace."""
    procs = []
    for p in data.get("processes", ()):
        p = dict(p)
        p["fds"] = tuple(_build(Fd, fd) for fd in p.get("fds", ()))
        p["signals"] = _build(Signals, p["signals"]) if p.get("signals") else None
        p["exit"] = _build(Exit, p["exit"]) if p.get("exit") else None
        p["site"] = _build(Site, p["site"]) if p.get("site") else None
        procs.append(_build(Process, p))
    objs = [
        _build(OBJECT_KINDS.get(o.get("kind"), ObjectState), o) for o in data.get("objects", ())
    ]
    d = dict(data)
    d["processes"] = tuple(procs)
    d["objects"] = tuple(objs)
    d["log"] = tuple(_build(LogEntry, _typed_log_entry(e)) for e in data.get("log", ()))
    d["checks"] = tuple(_build(Check, c) for c in data.get("checks", ()))
    return _build(Snapshot, d)


__all__ = [
    "OBJECT_KINDS",
    "Check",
    "Exit",
    "Fd",
    "LogEntry",
    "ObjectState",
    "Process",
    "Signals",
    "Site",
    "Snapshot",
    "snapshot_from_dict",
]
