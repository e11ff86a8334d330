"""Narration of a traced run, made from the facts of one snapshot only (no quiz, no guess).

"reader is asleep in read(): the pipe is empty and a write end is still open — held by
reader itself, fd 4."  Every clause names a value the probe read (bytes, ends, holders) or a
call the tracer saw; holders of a semaphore are inferred from traced semop calls and said so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...model.snapshot import BLOCKED, ObjectState, Process
from ...probe.sampler import READ_CALLS, WRITE_CALLS
from .calls import WAKES_BY_ITSELF

MAX_READY_SHOWN = 3


def _holders(me: str, ends: Sequence[str]) -> str:
    """"reader itself, fd 4 and writer, fd 3" from ("reader:4", "writer:3")."""
    parts = []
    for end in ends:
        name, _, fd = end.rpartition(":")
        parts.append(f"{name} itself, fd {fd}" if name == me else f"{name}, fd {fd}")
    return " and ".join(parts)


def _pipe_like(p: Process, o: Any, by_name: dict[str, Process]) -> str:
    what = "pipe" if o.kind == "pipe" else f"FIFO {o.path}"
    call = f"{p.name} is asleep in {p.syscall}()"
    if p.syscall in READ_CALLS:
        if o.bytes == 0 and o.writers:
            text = (f"{call}: the {what} is empty and a write end is still open — held by "
                    f"{_holders(p.name, o.writer_fds)}.")
            if all(by_name.get(e.rpartition(':')[0]) is not None
                   and by_name[e.rpartition(':')[0]].state == BLOCKED
                   and by_name[e.rpartition(':')[0]].syscall not in WAKES_BY_ITSELF
                   for e in o.writer_fds):
                text += (" Every holder of a write end is itself asleep, so no byte and no "
                         "end-of-file can ever come.")
            return text
        return f"{call}: the {what} holds {o.bytes} bytes."
    if p.syscall in WRITE_CALLS:
        return (f"{call}: the {what} is full ({o.bytes} of {o.capacity} bytes) and a read end "
                f"is open — held by {_holders(p.name, o.reader_fds)}.")
    if p.syscall in ("open", "openat"):
        return f"{call}: nobody has opened the other end of {what} yet."
    return f"{call} on the {what}."


def _sem(p: Process, o: Any, by_name: dict[str, Process]) -> str:
    if o.kind == "sem":
        return (f"{p.name} is asleep in sem_wait() (a futex) on {o.id}, the POSIX semaphore "
                f"{o.name}: its value is {o.value}. Who holds it cannot be known: a sem_wait "
                "that does not have to wait makes no system call.")
    text = f"{p.name} is asleep in semop() on {o.id} (semid {o.semid}): its value is {o.value}"
    if o.holders:
        text += f"; held by {', '.join(o.holders)} (inferred from their traced semop calls)"
    return text + "."


def _queue(p: Process, o: Any, by_name: dict[str, Process]) -> str:
    if p.syscall == "msgrcv":
        return (f"{p.name} is asleep in msgrcv() on {o.id} (msqid {o.msqid}): the queue "
                f"holds {o.messages} message(s), none of the type it asked for.")
    return (f"{p.name} is asleep in msgsnd() on {o.id} (msqid {o.msqid}): the queue is full "
            f"({o.bytes} of {o.max_bytes} bytes).")


def _socket(p: Process, o: Any, by_name: dict[str, Process]) -> str:
    return (f"{p.name} is asleep in {p.syscall}() on {o.id} (a socketpair): "
            f"{o.inq_a if o.inq_a is not None else '?'} and "
            f"{o.inq_b if o.inq_b is not None else '?'} bytes wait at its two ends.")


def _posix_queue(p: Process, o: Any, by_name: dict[str, Process]) -> str:
    what = "empty" if "receive" in (p.syscall or "") else "full"
    return f"{p.name} is asleep in {p.syscall}() on {o.id}, the POSIX queue {o.name}: it is {what}."


BY_KIND: dict[str, Callable[[Process, Any, dict[str, Process]], str]] = {
    "pipe": _pipe_like, "fifo": _pipe_like, "sysv_sem": _sem, "sem": _sem,
    "sysv_msgq": _queue, "socketpair": _socket, "posix_mq": _posix_queue,
}


def blocked(p: Process, objects: dict[str, ObjectState], by_name: dict[str, Process]) -> str:
    o = objects.get(p.waits_on or "")
    if o is not None and o.kind in BY_KIND:
        return BY_KIND[o.kind](p, o, by_name)
    if p.syscall in ("wait4", "waitid"):
        kids = [q.name for q in by_name.values() if q.parent == p.name
                and q.state not in ("zombie", "exited")]
        return (f"{p.name} is asleep in {p.syscall}(): it waits for a child to end"
                + (f" ({', '.join(kids)} still alive)." if kids else "."))
    return f"{p.name} is asleep in {p.syscall}() (wait channel {p.wchan or '?'})."


def world(processes: Sequence[Process], objects: Sequence[ObjectState], ready: Sequence[Any],
          name_of: Callable[[int], str], stuck: bool, finished: bool,
          attached: bool = False) -> str:
    by_name = {p.name: p for p in processes}
    objs = {o.id: o for o in objects}
    said = [blocked(p, objs, by_name) for p in processes if p.state == BLOCKED]
    cycles = {tuple(getattr(o, "deadlock", ()) or ()) for o in objects} - {()}
    for cycle in sorted(cycles):
        chain = ", ".join(f"{a} waits for {b}" for a, b in zip(cycle, cycle[1:] + cycle[:1]))
        said.append(f"Deadlock: {chain} — nothing can move.")
    if stuck and not cycles and attached:
        # an attached program is not the whole world: a process outside it, or a signal,
        # may still wake one of its processes
        said.append("Every attached process is asleep in a call: none of them can wake "
                    "another; only a process outside them, or a signal, can.")
    elif stuck and not cycles:
        said.append("Nothing can move: every process is asleep in a call.")
    if finished:
        said.append("Every traced process has ended.")
    for r in list(ready)[:MAX_READY_SHOWN]:
        said.append(f"{r.name} is about to call {r.call}.")
    if len(ready) > MAX_READY_SHOWN:
        said.append(f"({len(ready) - MAX_READY_SHOWN} more processes are held at a call.)")
    return " ".join(said)


def returned(name: str, call: str, ret: dict[str, Any]) -> str:
    if ret.get("errno"):
        return f"{name}: {call} failed with {ret['errno']}."
    return f"{name}: {call} returned {ret.get('text', ret.get('result'))}."
