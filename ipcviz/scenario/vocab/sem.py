"""Semaphores: POSIX named (sem_open, sem_wait, sem_post, sem_unlink) and System V sets
(semget with nsems, semop of one operation or of several applied atomically, with SEM_UNDO /
IPC_NOWAIT, semctl); the producer and consumer of a bounded buffer."""

from __future__ import annotations

from .base import Action, Arg

SEMAPHORE = "object:sem|sysv_sem"
REGION = "object:shm|sysv_shm"
# wait(s) of a POSIX or a System V semaphore, as the lesson's C code calls it
SEM_WAIT_CALLS = (("futex", "sem_wait"), ("semtimedop", "semop"))

ACTIONS = [
    Action("sem_open", (Arg("object", "object:sem"), Arg("value", "int", False, 0),
                        Arg("create", "bool", False, True)),
           "sem_open(name, O_CREAT|O_EXCL, 0600, value); create = false opens the name"),
    Action("sem_wait", (Arg("object", "object:sem"),), "sem_wait(sem)", sleeps_in=("futex",),
           c_calls=(("futex", "sem_wait"),)),
    Action("sem_trywait", (Arg("object", "object:sem"),), "sem_trywait(sem)"),
    Action("sem_timedwait", (Arg("object", "object:sem"),
                             Arg("timeout_ms", "int", True, None,
                                 "milliseconds from the call (below a second too); the "
                                 "absolute CLOCK_REALTIME deadline is computed then")),
           "sem_timedwait(sem, &deadline): a wait that fails with ETIMEDOUT at the deadline",
           sleeps_in=("futex",), c_calls=(("futex", "sem_timedwait"),)),
    Action("sem_post", (Arg("object", "object:sem"), Arg("count", "int", False, 1)),
           "sem_post(sem), `count` times"),
    Action("sem_unlink", (Arg("object", "object:sem"),), "sem_unlink(name)"),
    # Unnamed semaphores: a sem_t placed in shared memory (glibc keeps its count there).
    Action("sem_init", (Arg("object", "object:shm"),
                        Arg("at", "int", False, 0, "byte offset in the region, a multiple "
                            "of 8 (glibc's sem_t is 32 bytes)"),
                        Arg("value", "int", False, 0)),
           "sem_init((sem_t *)(region + at), 1, value): an unnamed semaphore shared by the "
           "processes that map the region (pshared = 1)"),
    Action("sem_wait_at", (Arg("object", "object:shm"), Arg("at", "int", False, 0)),
           "sem_wait((sem_t *)(region + at)) on an unnamed semaphore",
           sleeps_in=("futex",), c_calls=(("futex", "sem_wait"),)),
    Action("sem_post_at", (Arg("object", "object:shm"), Arg("at", "int", False, 0)),
           "sem_post((sem_t *)(region + at)) on an unnamed semaphore"),
    Action("semget", (Arg("object", "object:sysv_sem"), Arg("value", "int", False, 0),
                      Arg("create", "bool", False, True),
                      Arg("nsems", "int", False, 1,
                          "semaphores in the set, numbered 0 .. nsems-1 (at most 64)")),
           "semget(key, nsems, IPC_CREAT|IPC_EXCL|0600) with a random key, then every "
           "semaphore of the set set to value (SETVAL, or SETALL for a set); create = false "
           "looks the key up"),
    Action("semop", (Arg("object", "object:sysv_sem"), Arg("op", "int", False),
                     Arg("sem", "int", False, 0, "the semaphore of the set (sem_num)"),
                     Arg("undo", "bool", False, False), Arg("nowait", "bool", False, False),
                     Arg("ops", "semops", False, None,
                         "several operations applied atomically, all or none: "
                         '`[[0, -1], [1, -1, "SEM_UNDO"]]`, each [sem_num, sem_op] with '
                         "optional flags; instead of op/sem/undo/nowait")),
           "semop(semid, {sem, op, SEM_UNDO?|IPC_NOWAIT?}, 1), or semop(semid, ops, n): "
           "all n operations at once or none (the process sleeps until all can be done)",
           one_of=("op", "ops"),
           sleeps_in=("semop", "semtimedop"), c_calls=(("semtimedop", "semop"),)),
    Action("semctl", (Arg("object", "object:sysv_sem"),
                      Arg("cmd", "choice:IPC_RMID|SETVAL|GETVAL|GETNCNT|GETZCNT|GETPID"),
                      Arg("value", "int", False),
                      Arg("sem", "int", False, 0, "the semaphore of the set (semnum)")),
           "semctl(semid, sem, cmd, ...)"),
    Action("produce", (Arg("object", REGION), Arg("slots", "int"), Arg("value", "int"),
                       Arg("empty", SEMAPHORE), Arg("full", SEMAPHORE),
                       Arg("mutex", SEMAPHORE)),
           "wait(empty); wait(mutex); ring[in++] = value; post(mutex); post(full)",
           sleeps_in=("futex", "semop", "semtimedop"), c_calls=SEM_WAIT_CALLS),
    Action("consume", (Arg("object", REGION), Arg("slots", "int"),
                       Arg("empty", SEMAPHORE), Arg("full", SEMAPHORE),
                       Arg("mutex", SEMAPHORE)),
           "wait(full); wait(mutex); item = ring[out++]; post(mutex); post(empty)",
           sleeps_in=("futex", "semop", "semtimedop"), c_calls=SEM_WAIT_CALLS),
]

PROCESS_ATTRS = frozenset({"waits_on"})  # the object a blocked call is about (from /proc)

_SEM_ATTRS = frozenset(
    {"value", "exists", "removed", "waiters", "nwaiters", "holders", "dead_holders", "deadlock",
     "name", "key", "semid", "ncount", "zcount", "last_op_by", "undo",
     # a System V set, one entry per semaphore (sem_num 0 first): "1,0,1" in an expect
     "nsems", "values", "ncounts", "zcounts", "last_ops_by"}
)

OBJECT_ATTRS = {"sem": _SEM_ATTRS, "sysv_sem": _SEM_ATTRS}

ID_ARGS = {"semop": (0,), "semtimedop": (0,), "semctl": (0,)}  # the semid
