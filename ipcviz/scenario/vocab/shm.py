"""Shared memory: POSIX (shm_open + mmap) and System V (shmget + shmat) regions; loads and
stores into them (plain memory: no system call); the copies of the copy-count lesson."""

from __future__ import annotations

from .base import Action, Arg
from .sem import SEM_WAIT_CALLS

REGION = "object:shm|sysv_shm|anon"
SEMAPHORE = "object:sem|sysv_sem"

ACTIONS = [
    Action("shm_open", (Arg("object", "object:shm"), Arg("size", "size", False),
                        Arg("create", "bool", False, True)),
           "shm_open(name, O_RDWR|O_CREAT|O_EXCL, 0600) and ftruncate(fd, size); "
           "create = false opens an existing name"),
    Action("mmap", (Arg("object", "object:shm"),),
           "mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)"),
    Action("munmap", (Arg("object", "object:shm"),), "munmap(addr, size)"),
    Action("shm_unlink", (Arg("object", "object:shm"),), "shm_unlink(name)"),
    Action("mmap_anon", (Arg("object", "object:anon"), Arg("size", "size"),
                         Arg("shared", "bool", False, True,
                             doc="MAP_SHARED (a fork child shares the pages); false: "
                                 "MAP_PRIVATE (copy-on-write after fork)")),
           "mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0): memory "
           "with no name, inherited by fork children at the same address"),
    Action("shmget", (Arg("object", "object:sysv_shm"), Arg("size", "size", False),
                      Arg("create", "bool", False, True)),
           "shmget(key, size, IPC_CREAT|IPC_EXCL|0600) with a random key; create = false "
           "looks the key up"),
    Action("shmat", (Arg("object", "object:sysv_shm"),), "shmat(shmid, NULL, 0)"),
    Action("shmdt", (Arg("object", "object:sysv_shm"),), "shmdt(addr)"),
    Action("shmctl", (Arg("object", "object:sysv_shm"), Arg("cmd", "choice:IPC_RMID|IPC_STAT")),
           "shmctl(shmid, cmd, ...)"),
    # Plain memory: no system call is made.
    Action("store", (Arg("object", REGION), Arg("at", "int", False, 0),
                     Arg("value", "int", False), Arg("data", "str", False),
                     Arg("register_plus", "int", False)),
           "a store into the region (a long at byte `at`, or a string): no system call",
           one_of=("value", "data", "register_plus")),
    Action("load", (Arg("object", REGION), Arg("at", "int", False, 0),
                    Arg("size", "int", False)),
           "a load from the region into the process's register (or a string of at most "
           "`size` bytes): no system call"),
    Action("increment", (Arg("object", REGION), Arg("times", "int"),
                         Arg("at", "int", False, 0), Arg("lock", SEMAPHORE, False),
                         Arg("after", SEMAPHORE, False)),
           "for (i = 0; i < times; i++) (*counter)++;  after waiting on `after`, each "
           "++ inside sem_wait/sem_post of `lock` if given",
           sleeps_in=("futex", "semop", "semtimedop"), c_calls=SEM_WAIT_CALLS),
    Action("put", (Arg("object", REGION), Arg("slots", "int"), Arg("value", "int")),
           "ring->slot[ring->in++ % slots] = value: no system call"),
    Action("get", (Arg("object", REGION), Arg("slots", "int")),
           "item = ring->slot[ring->out++ % slots]: no system call"),
    # Files and copies (shm/copies-vs-pipe).
    Action("create_file", (Arg("object", "object:file"), Arg("size", "size")),
           "create a file of `size` random bytes in the run's directory"),
    Action("read_into", (Arg("fd", "fd", False), Arg("file", "object:file", False),
                         Arg("region", REGION, False), Arg("at", "int", False, 0),
                         Arg("size", "size", False), Arg("route", "object:file", False)),
           "read(fd, buf or region, n): one copy into the process's buffer or a mapped "
           "region, until `size` bytes or EOF",
           one_of=("fd", "file"), sleeps_in=("read", "readv")),
    Action("write_from", (Arg("fd", "fd", False), Arg("file", "object:file", False),
                          Arg("region", REGION, False), Arg("at", "int", False, 0),
                          Arg("size", "size", False), Arg("route", "object:file", False)),
           "write(fd, buf or region, n): one copy out of the process's buffer or a mapped "
           "region (waits until the whole write returned)",
           one_of=("fd", "file")),
]

PROCESS_ATTRS = frozenset(
    {
        "register",  # the value its last load (or get / consume) put in its register
        "stored",  # the value its last store wrote
        "increments",  # how many ++ it has done in all (increment steps)
        "copies",  # how many copy steps (read_into / write_from) it has made
        "copied",  # bytes its last copy step moved
        "elapsed_us",  # how long its last copy or increment step took (its own clock)
        "got",  # every item it took out of a ring buffer, in order
    }
)

_REGION_ATTRS = frozenset(
    {"size", "exists", "removed", "nattch", "mapped", "mapped_by", "counter", "text",
     "increments", "lost", "slots", "items", "free_slots", "ring", "name", "key", "shmid",
     "sem_value", "sem_nwaiters"}  # an unnamed semaphore (sem_init) in the region's bytes
)

ID_ARGS = {"shmat": (0,), "shmctl": (0,)}  # the shmid

OBJECT_ATTRS = {
    "shm": _REGION_ATTRS,
    "sysv_shm": _REGION_ATTRS,
    "file": frozenset({"size", "content", "copies", "copied", "elapsed_us"}),
    # an anonymous mapping: per process, from /proc/PID/smaps and /proc/PID/mem
    "anon": frozenset({"size", "shared", "mapped_by", "values", "shared_pages",
                       "private_pages", "anonymous_pages"}),
}
