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
from typing import TYPE_CHECKING

from .snapshot import ObjectState

if TYPE_CHECKING:
    from .provenance import Source


@dataclass(frozen=True)
class SemState(ObjectState):
    flavor: str = "posix"  # "posix" (sem_open) or "sysv" (semget)
    name: str | None = None  # POSIX: "/ipcviz.RUN.obj" (/dev/shm/sem.ipcviz.RUN.obj)
    key: str | None = None  # System V
    semid: int | None = None
    exists: bool = True
    value: int | None = None  # the count (None: cannot be asked any more)
    # POSIX, after sem_unlink while some process still has it open: the name is gone
    # (removed), the semaphore lives on; its value is read in this process's mapping
    removed: bool = False
    read_in: str | None = None
    waiters: tuple[str, ...] = ()  # processes the kernel shows asleep waiting on it
    ncount: int | None = None  # System V semncnt: waiting for the value to increase
    zcount: int | None = None  # System V semzcnt: waiting for it to become zero
    last_pid: int | None = None  # System V sempid: the process of the last operation
    last_op_by: str | None = None  # its scenario name (or "pid N")
    holders: tuple[str, ...] = ()  # INFERRED from steps: live processes holding a unit
    dead_holders: tuple[str, ...] = ()  # INFERRED: holders that died without giving it back
    undo: tuple[str, ...] = ()  # INFERRED: "holder:+1", the semadj the kernel will apply
    deadlock: tuple[str, ...] = ()  # processes of a wait-for cycle through this semaphore
    # A System V set, one entry per semaphore (sem_num 0 first); value, ncount, zcount,
    # last_pid and last_op_by above are those of semaphore 0.
    nsems: int = 1  # /proc/sysvipc/sem
    values: tuple[int, ...] = ()  # semctl GETVAL per semnum
    ncounts: tuple[int, ...] = ()  # GETNCNT per semnum (the kernel counts a sleeper of an
    zcounts: tuple[int, ...] = ()  # atomic semop at the one operation it is blocked on)
    last_pids: tuple[int, ...] = ()  # GETPID per semnum
    last_ops_by: tuple[str, ...] = ()  # their scenario names ("-": none yet)
    sem_waiters: tuple[tuple[str, ...], ...] = ()  # INFERRED: which semaphore each waits on
    sem_holders: tuple[tuple[str, ...], ...] = ()  # INFERRED from the steps, per semnum

    @property
    def nwaiters(self) -> int:
        return len(self.waiters)

    def sources(self, pids: dict[str, int] | None = None,
                holder: tuple[int, int] | None = None) -> list[Source]:
        """Where each value came from, and a command that shows it (see model/provenance)."""
        from .provenance import Source

        pids = pids or {}
        path = f"/dev/shm/sem.{(self.name or '/NAME').lstrip('/')}"
        if not self.exists:
            i = self.semid
            if self.flavor == "posix":
                return [Source("exists", "no", f"sem_open of the name fails: {path} is gone",
                               f"ls -l {path}", "prints 'No such file'")]
            return [Source("exists", "no", f"semid {i} is no longer in /proc/sysvipc/sem "
                           "(IPC_RMID)", f"ipcs -s -i {i}", "prints that the id is invalid")]
        if self.flavor == "posix" and self.read_in:
            pid = pids.get(self.read_in, "PID")
            out = [Source("value", "?" if self.value is None else str(self.value),
                          f"the name is unlinked ({path} is gone), the semaphore lives while "
                          f"open: the first word of {self.read_in}'s mapping of "
                          f"'{path} (deleted)', read from /proc/{pid}/mem",
                          f"grep 'sem\\.' /proc/{pid}/maps",
                          "shows the mapping marked (deleted)")]
        elif self.flavor == "posix":
            out = self._posix_sources(path, pids)
        else:
            out = self._sysv_sources(pids)
        return out + self._inferred_sources()

    def _posix_sources(self, path: str, pids: dict[str, int]) -> list[Source]:
        from .provenance import Source

        out = [Source(
            "value", "?" if self.value is None else str(self.value),
            "sem_getvalue(3) through ipcviz's own sem_open of the name (no O_CREAT: "
            "opening it changes no count and adds no waiter), closed at once",
            f"od -A d -t u4 -N 8 {path}",
            "glibc keeps the value in the first 4 bytes of the file (x86-64); the "
            "second number is glibc's own count of waiters")]
        how = (f"/proc/PID/syscall: asleep in futex() at an address inside its own "
               f"mapping of {path} (/proc/PID/maps)")
        pattern = path.rsplit("/", 1)[-1]
        cmd = "; ".join(f"cat /proc/{pids[n]}/syscall; grep {pattern} /proc/{pids[n]}/maps"
                        for n in self.waiters if n in pids)
        out.append(Source("waiting", ", ".join(self.waiters) or "nobody", how, cmd or None,
                          None if cmd else "nobody is asleep on it now; the kernel keeps "
                          "no list of a futex's waiters that a file would show"))
        return out

    def _sysv_sources(self, pids: dict[str, int]) -> list[Source]:
        from .provenance import Source

        i = self.semid
        out = [Source("exists", f"key {self.key}, semid {i}",
                      "/proc/sysvipc/sem (one line per semaphore set)",
                      "cat /proc/sysvipc/sem")]
        out.append(Source("value", "?" if self.value is None else str(self.value),
                          "semctl(semid, 0, GETVAL)", f"ipcs -s -i {i}", "column semval"))
        if self.nsems > 1:
            out.append(Source("values", ",".join(map(str, self.values)),
                              f"semctl(semid, n, GETVAL) for n = 0 .. {self.nsems - 1} "
                              "(nsems from /proc/sysvipc/sem)", f"ipcs -s -i {i}",
                              "one row per semnum: column semval"))
            out.append(Source("semncnt, semzcnt per semnum",
                              " ".join(f"[{n}] {a},{b}" for n, (a, b) in
                                       enumerate(zip(self.ncounts, self.zcounts))),
                              "semctl GETNCNT and GETZCNT per semnum: a process asleep in "
                              "an atomic semop of several operations is counted at the one "
                              "operation it is blocked on", f"ipcs -s -i {i}",
                              "columns semncnt and semzcnt"))
            who = "; ".join(f"[{n}] {', '.join(w)}" for n, w in enumerate(self.sem_waiters)
                            if w)
            out.append(Source("waiting on which semnum (inferred)", who or "nobody",
                              "inferred: the operations the sleeper's step announced before "
                              "its semop, the first that cannot be done with the values now",
                              None, "semop's operations are in the sleeper's memory: no "
                              "/proc file shows them (only ptrace could read them)"))
        out.append(Source("semncnt, semzcnt", f"{self.ncount}, {self.zcount}",
                          "semctl GETNCNT and GETZCNT: the kernel's counts of processes "
                          "waiting for the value to grow / to become zero",
                          f"ipcs -s -i {i}", "columns semncnt and semzcnt"))
        out.append(Source("last op by", f"{self.last_op_by or '-'} (sempid "
                          f"{self.last_pid or '-'})", "semctl(semid, 0, GETPID): the "
                          "process of the last semop", f"ipcs -s -i {i}", "column sempid"))
        cmd = "; ".join(f"cat /proc/{pids[n]}/syscall" for n in self.waiters if n in pids)
        out.append(Source("waiting", ", ".join(self.waiters) or "nobody",
                          "/proc/PID/syscall: asleep in semop/semtimedop with this semid "
                          "as first argument", cmd or None,
                          "the second field is the semid, in hex" if cmd
                          else "nobody is asleep on it now"))
        return out

    def _inferred_sources(self) -> list[Source]:
        """What the lesson's own steps tell and no kernel file shows."""
        from .provenance import Source

        out = []
        held = list(self.holders) + [f"{h} (dead)" for h in self.dead_holders]
        out.append(Source("held by (inferred)", ", ".join(held) or "nobody",
                          "inferred from the lesson's own steps: waits that returned, minus "
                          "posts", None, "the kernel does not record who took a unit"))
        if self.undo:
            out.append(Source("SEM_UNDO (inferred)", ", ".join(self.undo),
                              "inferred from the lesson's semop calls with SEM_UNDO", None,
                              "no /proc file shows a process's semadj"))
        if self.deadlock:
            out.append(Source("deadlock", " → ".join([*self.deadlock, self.deadlock[0]]),
                              "a cycle in 'P waits on S' (kernel: /proc/PID/syscall; for "
                              "a semaphore of a set, which one is inferred from P's step) "
                              "and 'S is held by Q' (inferred from the steps)", None,
                              "the kernel does not detect deadlocks between semaphores"))
        return out

    def set_line(self, n: int) -> str:
        """Semaphore n of a set, in words: the kernel's numbers, then what is inferred."""
        text = (f"[{n}] value {self.values[n]}, semncnt {self.ncounts[n]}, semzcnt "
                f"{self.zcounts[n]}, last op by {self.last_ops_by[n]}")
        waiting = self.sem_waiters[n] if n < len(self.sem_waiters) else ()
        held = self.sem_holders[n] if n < len(self.sem_holders) else ()
        if waiting:
            text += f", waiting on it (inferred from the step): {', '.join(waiting)}"
        if held:
            text += f", held by (inferred): {', '.join(held)}"
        return text

    def describe(self) -> str:
        if self.flavor == "posix":
            head = f"sem {self.id} ({self.name})"
        else:
            head = f"sysv sem {self.id} (key {self.key}, id {self.semid})"
        if not self.exists:
            return head + ": gone"
        value = "?" if self.value is None else self.value
        text = f"{head}: value {value}"
        if self.read_in:
            text += f" (name unlinked; alive while open, read in {self.read_in})"
        if self.flavor == "sysv" and self.nsems > 1:
            text = f"{head}: {self.nsems} semaphores: " + "; ".join(
                self.set_line(n) for n in range(len(self.values)))
        elif self.flavor == "sysv":
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


OBJECT_KINDS = {"sem": SemState, "sysv_sem": SemState}
