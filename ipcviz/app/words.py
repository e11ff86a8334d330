"""Snapshot facts in words, as the stage says them.  Pure: no textual import, tested alone."""

from __future__ import annotations

from ..model.pipe import PipeState
from ..model.snapshot import (
    BLOCKED,
    EXITED,
    FAILED,
    KILLED,
    RETURNED,
    RUNNING,
    SLEEPING,
    STOPPED,
    ZOMBIE,
    Fd,
    LogEntry,
    ObjectState,
    Process,
    Snapshot,
)
from ..scenario.actions import ACTIONS
from ..scenario.model import Scenario, Step
from .i18n import kind_words, tr

WORKER_LOG = "worker.log"
DETAIL_MAX = 32  # characters of read data shown in the log, as strace's default -s 32


def call_name(syscall: str | None, lang: str = "en") -> str:
    return f"{syscall}()" if syscall else tr("a_syscall", lang)


def object_words(o: ObjectState | None, oid: str | None, lang: str = "en") -> str:
    if o is not None:
        return f"{kind_words(o.kind, lang)} {o.id}"
    return oid or "?"


def exit_words(p: Process, lang: str = "en") -> str:
    """'exited with code 0', 'killed by SIGPIPE (core dumped)' (Exit.describe, in `lang`)."""
    if p.exit is None:
        return tr("exited", lang)
    if lang == "en":
        return p.exit.describe()
    if p.exit.signal:
        return tr("killed_by", lang, signal=p.exit.signal) + (
            tr("core_dumped", lang) if p.exit.core else "")
    return tr("exited_code", lang, code=p.exit.code)


def c_call_of(p: Process, scenario: Scenario | None) -> str | None:
    """The C function of the call P sleeps in, as the lesson's code names it: its step's
    action knows it ('semop' for the semtimedop system call, 'sem_wait' for a futex)."""
    if not p.syscall or scenario is None or not p.step or p.step > len(scenario.steps):
        return p.syscall
    action = ACTIONS.get(scenario.steps[p.step - 1].action)
    return action.c_call(p.syscall) if action is not None else p.syscall


def state_words(p: Process, snapshot: Snapshot | None = None, lang: str = "en",
                scenario: Scenario | None = None) -> str:
    """The process state in words: 'blocked in write() on pipe p', 'exited with code 0'.

    With the scenario, the call is named as the lesson's C code names it (see c_call_of)."""
    if p.state == BLOCKED:
        call = call_name(c_call_of(p, scenario), lang)
        if p.waits_on:
            obj = snapshot.object_named(p.waits_on) if snapshot else None
            return tr("blocked_in_on", lang, call=call,
                      obj=object_words(obj, p.waits_on, lang))
        return tr("blocked_in", lang, call=call)
    if p.state == SLEEPING:
        return tr("sleeping", lang)
    if p.state == RUNNING:
        return tr("running", lang)
    if p.state == STOPPED:
        if p.syscall:
            return tr("stopped_in", lang, call=call_name(c_call_of(p, scenario), lang))
        return tr("stopped", lang)
    if p.state == ZOMBIE:
        return tr("zombie", lang, ended=exit_words(p, lang))
    if p.state == EXITED:
        return exit_words(p, lang)
    return p.state


def blocked_reason(p: Process, snapshot: Snapshot, lang: str = "en") -> str | None:
    """Why, in the kernel's numbers, a process blocked on a pipe sleeps."""
    if p.state != BLOCKED or not p.waits_on:
        return None
    o = snapshot.object_named(p.waits_on)
    if not isinstance(o, PipeState) or o.bytes is None or o.capacity is None:
        return None
    if p.syscall in ("write", "writev"):
        free = o.capacity - o.bytes
        if free == 0:
            return tr("buffer_full", lang, bytes=o.bytes, capacity=o.capacity)
        return tr("no_room", lang, free=free, capacity=o.capacity)
    if p.syscall in ("read", "readv"):
        if o.bytes == 0:
            return tr("empty_writer_open" if o.writers else "buffer_empty", lang)
        return tr("bytes_in_buffer", lang, bytes=o.bytes)
    return None


def short_target(target: str, lang: str = "en") -> str:
    """An fd's readlink text, shortened where it is ipcviz's own plumbing."""
    if target.endswith("/" + WORKER_LOG):
        return tr("ipcviz_log", lang)
    return target


# A pipe's or FIFO's fd is one of its ends; the fd of any other object (a shared memory
# region, a queue) has no end, only the access mode it was opened with.
ENDED_KINDS = ("pipe", "fifo")
ACCESS_MODES = {"read": "O_RDONLY", "write": "O_WRONLY", "read-write": "O_RDWR"}


def kind_of(snapshot: Snapshot, oid: str | None) -> str | None:
    """The kind of the snapshot's object `oid` ('pipe', 'shm'...), None if it has none."""
    o = snapshot.object_named(oid) if oid else None
    return o.kind if o is not None else None


def fd_words(f: Fd, lang: str = "en", kind: str | None = None) -> str:
    """'p (read end)', 'pipe:[5748] (write end)', 'region (shm, O_RDWR)', '/dev/null'.

    `kind`: the kind of the fd's object, when the snapshot knows it."""
    what = f.object or short_target(f.target, lang)
    if f.end in ACCESS_MODES and (f.end == "read-write" or
                                  (kind is not None and kind not in ENDED_KINDS)):
        mode = ACCESS_MODES[f.end]
        if kind is None or kind in ENDED_KINDS:
            return tr("fd_mode", lang, what=what, mode=mode)
        return tr("fd_kind_mode", lang, what=what, kind=kind_words(kind, lang), mode=mode)
    if f.end == "fd":  # the one fd of a socket or an open file: no end to name, its kind
        return what if kind is None else tr("fd_end", lang, what=what,
                                            end=kind_words(kind, lang).replace("_", " "))
    if f.end:
        if lang == "en":
            return what + f" ({f.end} end)"
        end = tr(f"end_{f.end}", lang) if f.end in ("read", "write") else f.end
        return tr("fd_end", lang, what=what, end=end)
    return what


def is_plumbing(f: Fd) -> bool:
    """fds 0-2 that ipcviz set up (stdin /dev/null, output to the run's log)."""
    return f.fd <= 2 and f.object is None and (
        f.target == "/dev/null" or f.target.endswith("/" + WORKER_LOG))


def format_result(e: LogEntry) -> str:
    if e.outcome == FAILED:
        return f"-1 {e.errno}" if e.errno else "-1"
    if e.result is None:
        return "0" if e.outcome == RETURNED else "?"
    return str(e.result)


def log_line(e: LogEntry) -> tuple[str, str, str]:
    """(who, call, outcome) of one strace-like log line.

    Follows strace's conventions: a call that blocks is '<unfinished ...>', the return of a
    call that was woken later is '<... read resumed>', a killed process '+++ killed by SIG +++'.
    """
    who = f"{e.process}[{e.pid or '?'}]"
    if e.outcome == "handled":
        return who, e.call, ""
    woke = e.late
    detail = e.detail
    if woke and detail is not None and detail.startswith("(step "):
        detail = detail.split(")", 1)[1].strip() or None
    if detail and len(detail) > DETAIL_MAX:
        detail = detail[:DETAIL_MAX] + "..."  # like strace -s 32: the call's result stays readable
    call = f"<... {e.call.split('(', 1)[0]} resumed>" if woke else e.call
    if e.outcome == BLOCKED:
        return who, call, "<unfinished ...>"
    if e.outcome == KILLED:
        return who, call, f"+++ {e.result or 'killed'} +++"
    out = f"= {format_result(e)}"
    if isinstance(e.result, str) and e.result.startswith(("exited", "killed")):
        out = f"+++ {e.result} +++"
    if detail:
        out += f"  {detail}"
    return who, call, out


def step_call_text(snapshot: Snapshot, lang: str = "en") -> str:
    """'parent: write(4, "x", 1) → blocked' for the status line of a snapshot."""
    if snapshot.step == 0 or snapshot.call is None:
        return tr("nothing_ran", lang)
    if snapshot.outcome == BLOCKED:
        res = tr("res_blocked", lang)
    elif snapshot.outcome == FAILED:
        res = f"= -1 {snapshot.errno or ''}".rstrip()
    elif snapshot.outcome == KILLED:
        res = f"{snapshot.result or 'killed'}"
    else:
        res = f"= {snapshot.result}" if snapshot.result is not None else tr("res_returned",
                                                                             lang)
    return f"{snapshot.process}: {snapshot.call} {res}"


def step_code(step: Step) -> list[str]:
    """The C lines of a step; a step without code shows what the action does."""
    if step.code and step.code.strip():
        return step.code.rstrip("\n").splitlines()
    action = ACTIONS.get(step.action)
    return [f"/* {action.summary if action else step.action} */"]


def program_of(scenario: Scenario, process: str) -> list[tuple[int, list[str]]]:
    """(step number, C lines) of every step of one process, in order: its 'program'."""
    return [(s.number, step_code(s)) for s in scenario.steps if s.process == process]


def fork_step(scenario: Scenario, process: str) -> Step | None:
    return next((s for s in scenario.steps
                 if s.action == "fork" and s.args.get("child") == process), None)


def create_step(scenario: Scenario, oid: str) -> Step | None:
    return next((s for s in scenario.steps
                 if s.args.get("object") == oid or s.args.get("as") == oid), None)


def count(n: int, what: str) -> str:
    """'1 write end', '2 write ends'."""
    return f"{n} {what}" + ("" if n == 1 else "s")


def pipe_meaning(o: PipeState, lang: str = "en") -> list[str]:
    """What the counts mean for the next read/write (derived from the kernel's counts)."""
    out = []
    if o.writers == 0 and o.readers == 0:
        return [tr("pipe_freed", lang)]
    if o.writers == 0:
        out.append(tr("pipe_eof", lang))
    if o.readers == 0:
        out.append(tr("pipe_sigpipe", lang))
    return out
