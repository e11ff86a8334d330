"""Why nothing can move: the wait-for graph of one Snapshot, and the processes caught in it.

Each process asleep in a call that only another process of the snapshot can end waits for
those processes (any one of them would do):
* read() on an empty pipe or FIFO: for the holders of its write ends (a write, or the last
  close for EOF);
* write() on a full pipe or FIFO: for the holders of its read ends;
* wait4()/waitid(): for its children (the one named, or any);
* semop() on a System V semaphore at 0: for its holders (inferred, never shown by the
  kernel: marked so).
A process asleep in anything else (a sleep, a pause, a queue anyone may write) may be woken
from outside, so it is not caught.  The processes caught are those that wait only for
processes that are caught themselves (the largest such set): while that holds, none of
them can ever run again.
"""

from __future__ import annotations

from dataclasses import dataclass

from .snapshot import BLOCKED, EXITED, ZOMBIE, ObjectState, Process, Snapshot

READS = frozenset({"read", "readv", "recvfrom", "recvmsg"})
WRITES = frozenset({"write", "writev", "sendto", "sendmsg"})
WAITS = frozenset({"wait4", "waitid"})
SEMOPS = frozenset({"semop", "semtimedop"})


@dataclass(frozen=True)
class Wait:
    """PROCESS sleeps in CALL (on OBJECT) until one of ON acts."""

    process: str
    call: str
    reason: str  # "pipe-empty" | "pipe-full" | "child" | "sem"
    on: tuple[str, ...]  # the processes that could end the wait
    object: str | None = None  # the object as a student would name it: pipe:[INO], a path
    ends: tuple[str, ...] = ()  # "name:fd" of the ends that matter (pipe, FIFO)
    inferred: bool = False  # ON comes from an inference (semaphore holders)


@dataclass(frozen=True)
class Stuck:
    """Processes that wait only for each other, and how each waits."""

    waits: tuple[Wait, ...]

    @property
    def processes(self) -> tuple[str, ...]:
        return tuple(w.process for w in self.waits)

    def describe(self) -> str:
        """One sentence per waiting process, then why none of them can move."""
        parts = [_sentence(w) for w in self.waits]
        n = len(self.waits)
        who = "it waits only for itself" if n == 1 else \
            f"these {n} processes wait only for each other"
        tail = f"Nothing can move: {who}, and no one else can wake them."
        if any(w.inferred for w in self.waits):
            tail += " (Semaphore holders are inferred from the last semop() on each.)"
        return " ".join([*parts, tail])


def _ends_text(w: Wait) -> str:
    out = []
    for end in w.ends:
        name, _, fd = end.rpartition(":")
        out.append(f"{name} itself (fd {fd})" if name == w.process else f"{name} (fd {fd})")
    return ", ".join(out)


def _sentence(w: Wait) -> str:
    if w.reason == "pipe-empty":
        return (f"{w.process} is asleep in {w.call}() on {w.object}: it is empty, and every "
                f"write end is held by a process that is itself asleep: {_ends_text(w)}; "
                "no one will write, and EOF comes only when they all close.")
    if w.reason == "pipe-full":
        return (f"{w.process} is asleep in {w.call}() on {w.object}: it is full, and every "
                f"read end is held by a process that is itself asleep: {_ends_text(w)}.")
    if w.reason == "child":
        return f"{w.process} is asleep in {w.call}() for {', '.join(w.on)}."
    return (f"{w.process} is asleep in {w.call}() on {w.object} (value 0), held by "
            f"{', '.join(w.on)} (inferred).")


def _owner(end: str) -> str:
    return end.rpartition(":")[0]


def _pipe_wait(p: Process, o: ObjectState) -> Wait | None:
    nbytes = getattr(o, "bytes", None)
    if p.syscall in READS and nbytes == 0:
        ends = tuple(getattr(o, "writer_fds", ()))
        reason = "pipe-empty"
    elif p.syscall in WRITES and nbytes is not None and nbytes == getattr(o, "capacity", -1):
        ends = tuple(getattr(o, "reader_fds", ()))
        reason = "pipe-full"
    else:
        return None
    if not ends:
        return None  # no writer: EOF; no reader: EPIPE -- it will not sleep for long
    on = tuple(dict.fromkeys(_owner(e) for e in ends))
    what = getattr(o, "path", None) or f"pipe:[{getattr(o, 'inode', '?')}]"
    return Wait(p.name, p.syscall or "", reason, on, what, ends)


def _child_wait(p: Process, snap: Snapshot) -> Wait | None:
    target = p.syscall_args[0] if p.syscall == "wait4" and p.syscall_args else None
    if target is not None and target >= 2**63:
        target -= 2**64  # -1 (any child) as /proc/PID/syscall prints it
    children = tuple(c.name for c in snap.processes if c.ppid == p.pid
                     and c.state not in (ZOMBIE, EXITED)
                     and (target is None or target <= 0 or c.pid == target))
    return Wait(p.name, p.syscall or "", "child", children) if children else None


def _sem_wait(p: Process, o: ObjectState) -> Wait | None:
    holders = tuple(h for h in getattr(o, "holders", ()) if h != p.name)
    if getattr(o, "value", None) != 0 or not holders:
        return None
    semid = getattr(o, "semid", None)
    what = f"semaphore {semid}" if semid is not None else o.id
    return Wait(p.name, p.syscall or "", "sem", holders, what, inferred=True)


def wait_of(p: Process, snap: Snapshot) -> Wait | None:
    """How P waits for other processes of SNAP, if it does."""
    if p.state != BLOCKED or p.syscall is None:
        return None
    if p.syscall in WAITS:
        return _child_wait(p, snap)
    o = snap.object_named(p.waits_on) if p.waits_on else None
    if o is None:
        return None
    if o.kind in ("pipe", "fifo"):
        return _pipe_wait(p, o)
    if p.syscall in SEMOPS:
        return _sem_wait(p, o)
    return None


def stuck(snap: Snapshot) -> Stuck | None:
    """The processes of SNAP that can never move again as things stand, or None."""
    waits = {p.name: w for p in snap.processes if (w := wait_of(p, snap)) is not None}
    changed = True
    while changed:
        changed = False
        for name, w in list(waits.items()):
            if any(q not in waits for q in w.on):
                del waits[name]  # one it waits for can still move: so may it
                changed = True
    if not waits:
        return None
    order = [p.name for p in snap.processes if p.name in waits]
    return Stuck(tuple(waits[n] for n in order))
