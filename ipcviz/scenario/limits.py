"""The bounds an (untrusted) lesson file must stay within, in one place.

A lesson describes what its processes do; it never reaches outside its own run.  The loader
refuses a file that goes past one of these bounds (one line naming file, line, field and the
bound), and the runtime checks the ones that matter again (defence in depth): the worker
refuses reserved fds and out-of-range numbers, the conductor counts processes.
"""

from __future__ import annotations

# -- fds ---------------------------------------------------------------------------------
# fds from RESERVED_FD_FLOOR up belong to ipcviz, not to the lesson: the control socket
# (900, runtime/protocol.py CONTROL_FD) and a handler's signal wake-up pipe (901 / 902,
# runtime/ops/signals.py).  The probe hides them.  A lesson names fds 0 .. MAX_FD only.
from ..reserved import CONTROL_FD as CONTROL_FD
from ..reserved import RESERVED_FD_FLOOR as RESERVED_FD_FLOOR
from ..reserved import WAKE_R as WAKE_R
from ..reserved import WAKE_W as WAKE_W

MAX_FD = RESERVED_FD_FLOOR - 1

# -- sizes -------------------------------------------------------------------------------
MAX_FILE_BYTES = 1024 * 1024  # a lesson file (the largest shipped one is 40 KB)
MAX_DEPTH = 10  # arrays and tables nested in a lesson file (the shipped ones reach 6)
MAX_SIZE = 64 * 1024 * 1024  # bytes one step may move (size = ...): a lesson, not a benchmark
MAX_STEP_TEXT = 512 * 1024  # bytes of text (data, fill, keys) one step may carry, in UTF-8
MAX_MESSAGE = 4 * 1024 * 1024  # bytes of one control message line (larger: a protocol error)

# -- processes and time ------------------------------------------------------------------
MAX_PROCESSES = 128  # processes one lesson may have: its roots plus its fork steps
MAX_STEP_TIMEOUT = 600.0  # seconds: the largest --step-timeout
MAX_DELAY = 600.0  # seconds: the largest --delay
MAX_ALARM = 3600  # seconds an alarm() may be set for
MAX_LOOP = 10_000_000  # iterations of a loop step (increment times = N)
MAX_SLOTS = 65536  # slots of a ring buffer (put / get / produce / consume)
MAX_POSTS = 1024  # sem_post count = N
MAX_NSEMS = 64  # semaphores in one System V set of a lesson (semget nsems; the panel draws
# one row each).  The kernel's own limit is SEMMSL, the first number of /proc/sys/kernel/sem:
# a set larger than that fails with EINVAL, which a lesson may show.
SEM_FILE = "/proc/sys/kernel/sem"  # SEMMSL SEMMNS SEMOPM SEMMNI

INT32 = (-(2**31), 2**31 - 1)
UINT32 = (0, 2**32 - 1)
INT64 = (-(2**63), 2**63 - 1)
SIZE64 = (0, 2**63 - 1)
BYTES = (0, MAX_SIZE)

# (action, argument) -> (lowest, highest) an integer argument may take.  The range is what
# the kernel call accepts (so a lesson can still show EINVAL where the kernel gives it),
# or a sane cap where the kernel would accept a lesson-breaking value.
INT_RANGES: dict[tuple[str, str], tuple[int, int]] = {
    ("exit", "status"): (0, 255),  # _exit() keeps the low 8 bits
    ("dup2", "to"): (0, MAX_FD),
    ("alarm", "seconds"): (0, MAX_ALARM),
    ("sigqueue", "value"): INT32,  # union sigval's sival_int
    ("setrlimit", "limit"): SIZE64,  # rlim_t (ipcviz only lowers RLIMIT_CORE to 0)
    ("lseek", "offset"): INT64,  # off_t
    ("poll", "timeout_ms"): (-1, int(MAX_STEP_TIMEOUT) * 1000),  # int timeout, -1: none
    ("select", "timeout_ms"): (-1, int(MAX_STEP_TIMEOUT) * 1000),  # -1: a NULL timeval
    ("listen", "backlog"): (0, INT32[1]),  # int (the kernel caps it at net.core.somaxconn)
    ("msgsnd", "type"): INT64,  # long mtype (the kernel says EINVAL for < 1)
    ("msgrcv", "type"): INT64,  # long msgtyp
    ("msgrcv", "size"): BYTES,  # size_t msgsz (a lesson's buffer, not a benchmark's)
    ("msgctl", "max_bytes"): SIZE64,  # msg_qbytes
    ("mq_open", "max_messages"): (0, INT32[1]),  # mq_attr.mq_maxmsg
    ("mq_open", "max_message_size"): (0, INT32[1]),  # mq_attr.mq_msgsize
    ("mq_send", "priority"): UINT32,  # unsigned msg_prio (EINVAL from MQ_PRIO_MAX)
    ("mq_send", "timeout_ms"): (0, int(MAX_STEP_TIMEOUT) * 1000),  # a step's own wait
    ("mq_receive", "timeout_ms"): (0, int(MAX_STEP_TIMEOUT) * 1000),
    ("store", "at"): BYTES,
    ("store", "value"): INT64,  # one 8-byte word
    ("store", "register_plus"): INT64,
    ("load", "at"): BYTES,
    ("load", "size"): BYTES,
    ("increment", "times"): (0, MAX_LOOP),
    ("increment", "at"): BYTES,
    ("put", "slots"): (1, MAX_SLOTS),
    ("put", "value"): INT64,
    ("get", "slots"): (1, MAX_SLOTS),
    ("read_into", "at"): BYTES,
    ("write_from", "at"): BYTES,
    ("sem_open", "value"): (0, INT32[1]),  # SEM_VALUE_MAX
    ("sem_post", "count"): (0, MAX_POSTS),
    ("sem_timedwait", "timeout_ms"): (1, int(MAX_STEP_TIMEOUT * 1000)),  # 0: a trywait
    ("sem_init", "at"): BYTES,
    ("sem_init", "value"): (0, INT32[1]),  # SEM_VALUE_MAX
    ("sem_wait_at", "at"): BYTES,
    ("sem_post_at", "at"): BYTES,
    ("semget", "value"): INT32,  # semctl(SETVAL) takes an int (ERANGE above SEMVMX)
    ("semop", "op"): (-(2**15), 2**15 - 1),  # short sem_op
    ("semop", "sem"): (0, MAX_NSEMS - 1),  # unsigned short sem_num (EFBIG past the set)
    ("semget", "nsems"): (1, MAX_NSEMS),
    ("semctl", "sem"): (0, MAX_NSEMS - 1),
    ("semctl", "value"): INT32,
    ("produce", "slots"): (1, MAX_SLOTS),
    ("produce", "value"): INT64,
    ("consume", "slots"): (1, MAX_SLOTS),
}


# (action, argument) -> (lowest, highest) seconds of a `seconds` argument.  A step that
# lasts until its call returns (sleep, sigtimedwait) must also stay below the step bound
# (5 s by default, --step-timeout up to MAX_STEP_TIMEOUT).
SECONDS_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("sleep", "seconds"): (0.0, MAX_STEP_TIMEOUT),
    ("sigtimedwait", "timeout"): (0.0, MAX_STEP_TIMEOUT),
    ("setitimer", "seconds"): (0.0, float(MAX_ALARM)),
}
MIN_SECONDS = 0.001  # a nonzero time below a millisecond is refused: too short to teach


def seconds_range(action: str, arg: str) -> tuple[float, float]:
    return SECONDS_RANGES.get((action, arg), (0.0, MAX_STEP_TIMEOUT))


def seconds_ok(action: str, arg: str, value: object) -> bool:
    """A `seconds` argument: a finite number in its range, 0 or at least a millisecond."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    low, high = seconds_range(action, arg)
    return low <= value <= high and (value == 0 or value >= MIN_SECONDS)


def semopm(path: str = SEM_FILE) -> int | None:
    """SEMOPM, the most operations one semop() may carry (E2BIG above it): the third number
    of /proc/sys/kernel/sem, read when a lesson is loaded; None if it cannot be read."""
    try:
        with open(path) as f:
            fields = f.read().split()
        return int(fields[2])
    except (OSError, IndexError, ValueError):
        return None


def int_range(action: str, arg: str) -> tuple[int, int]:
    """The range of an integer argument (int64 for one not listed: never unbounded)."""
    return INT_RANGES.get((action, arg), INT64)


def reserved_fd(fd: object) -> bool:
    """An fd number a lesson may not name: ipcviz's own (or out of range)."""
    return isinstance(fd, int) and not isinstance(fd, bool) and not 0 <= fd <= MAX_FD
