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
    ("sleep", "seconds"): (0, int(MAX_STEP_TIMEOUT)),
    ("setrlimit", "limit"): SIZE64,  # rlim_t (ipcviz only lowers RLIMIT_CORE to 0)
    ("lseek", "offset"): INT64,  # off_t
    ("listen", "backlog"): (0, INT32[1]),  # int (the kernel caps it at net.core.somaxconn)
    ("msgsnd", "type"): INT64,  # long mtype (the kernel says EINVAL for < 1)
    ("msgrcv", "type"): INT64,  # long msgtyp
    ("msgctl", "max_bytes"): SIZE64,  # msg_qbytes
    ("mq_open", "max_messages"): (0, INT32[1]),  # mq_attr.mq_maxmsg
    ("mq_open", "max_message_size"): (0, INT32[1]),  # mq_attr.mq_msgsize
    ("mq_send", "priority"): UINT32,  # unsigned msg_prio (EINVAL from MQ_PRIO_MAX)
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
    ("semget", "value"): INT32,  # semctl(SETVAL) takes an int (ERANGE above SEMVMX)
    ("semop", "op"): (-(2**15), 2**15 - 1),  # short sem_op
    ("semctl", "value"): INT32,
    ("produce", "slots"): (1, MAX_SLOTS),
    ("produce", "value"): INT64,
    ("consume", "slots"): (1, MAX_SLOTS),
}


def int_range(action: str, arg: str) -> tuple[int, int]:
    """The range of an integer argument (int64 for one not listed: never unbounded)."""
    return INT_RANGES.get((action, arg), INT64)


def reserved_fd(fd: object) -> bool:
    """An fd number a lesson may not name: ipcviz's own (or out of range)."""
    return isinstance(fd, int) and not isinstance(fd, bool) and not 0 <= fd <= MAX_FD
