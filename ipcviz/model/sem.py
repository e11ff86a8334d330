"""Semaphores (POSIX named and System V): what the kernel said about one at one moment.

The value comes from the kernel (sem_getvalue through the probe's own sem_open of the name;
semctl GETVAL).  Waiters are read from /proc: a process asleep in semop/semtimedop whose
first argument is this semid, or asleep in futex() on an address inside its own mapping of
/dev/shm/sem.NAME.  System V also counts them (semncnt, semzcnt) and keeps the pid of the
last operation (sempid).  Who *holds* a unit is not kernel state at all: it is inferred
from the lesson's steps (a wait that returned, not yet posted), and so is SEM_UNDO's
adjustment (semadj: no /proc file shows it).  The deadlock list is a cycle found in "waits
on" (kernel) → "held by" (inferred).
"""

from __future__ import annotations

from dataclasses import dataclass

from .snapshot import OBJECT_KINDS, ObjectState


@dataclass(frozen=True)
class SemState(ObjectState):
    flavor: str = "posix"  # "posix" (sem_open) or "sysv" (semget)
    name: str | None = None  # POSIX: "/ipcviz.RUN.obj" (/dev/shm/sem.ipcviz.RUN.obj)
    key: str | None = None  # System V
    semid: int | None = None
    exists: bool = True
    value: int | None = None  # the count (None: cannot be asked any more)
    waiters: tuple[str, ...] = ()  # processes the kernel shows asleep waiting on it
    ncount: int | None = None  # System V semncnt: waiting for the value to increase
    zcount: int | None = None  # System V semzcnt: waiting for it to become zero
    last_pid: int | None = None  # System V sempid: the process of the last operation
    last_op_by: str | None = None  # its scenario name (or "pid N")
    holders: tuple[str, ...] = ()  # INFERRED from steps: live processes holding a unit
    dead_holders: tuple[str, ...] = ()  # INFERRED: holders that died without giving it back
    undo: tuple[str, ...] = ()  # INFERRED: "holder:+1", the semadj the kernel will apply
    deadlock: tuple[str, ...] = ()  # processes of a wait-for cycle through this semaphore

    @property
    def nwaiters(self) -> int:
        return len(self.waiters)

    def describe(self) -> str:
        if self.flavor == "posix":
            head = f"sem {self.id} ({self.name})"
        else:
            head = f"sysv sem {self.id} (key {self.key}, id {self.semid})"
        if not self.exists:
            return head + ": gone"
        value = "?" if self.value is None else self.value
        text = f"{head}: value {value}"
        if self.flavor == "sysv":
            last = self.last_op_by or "-"
            text += f", semncnt {self.ncount}, semzcnt {self.zcount}, last op by {last}"
        text += f"; waiting (kernel): {', '.join(self.waiters) or 'nobody'}"
        held = list(self.holders) + [f"{h} (dead)" for h in self.dead_holders]
        text += f"; held by (inferred from steps): {', '.join(held) or 'nobody'}"
        if self.undo:
            text += f"; SEM_UNDO adjustments (inferred, /proc does not show semadj): " \
                    f"{', '.join(self.undo)}"
        if self.deadlock:
            cycle = " → ".join([*self.deadlock, self.deadlock[0]])
            text += f"; DEADLOCK: {cycle} (each waits for a semaphore the next one holds)"
        return text


OBJECT_KINDS["sem"] = SemState
OBJECT_KINDS["sysv_sem"] = SemState
