"""Message queues, System V and POSIX: what the kernel said about one queue at one moment.

A message is a plain tuple so that snapshots stay JSON-friendly and replay exactly:

    (type or priority, size in bytes, text preview, sender)

`sender` is the scenario process whose send matched this message ("?" when no send of the
lesson matches it: someone outside the lesson sent it, or it was sent in a call that has not
reported yet).  For System V the messages themselves are read from the kernel (msgrcv with
MSG_COPY copies a message without taking it); for POSIX the kernel offers no way to look at
a message without receiving it, so the list is inferred from the lesson's own sends and
receives and checked against the kernel's count (mq_getattr): `contents_source` says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .snapshot import ObjectState

if TYPE_CHECKING:
    from .provenance import Source

# One message: (type or priority, size in bytes, text preview, sender).
Message = tuple[int, int, str, str | None]

KERNEL = "kernel"  # read from the kernel (System V: msgrcv MSG_COPY)
INFERRED = "inferred"  # rebuilt from the lesson's sends and receives (POSIX)
SHOWN = 6  # messages a one-line description lists


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _list(contents: tuple[Message, ...], label: str, shown: int = SHOWN) -> str:
    parts = []
    for key, size, text, by in contents[:shown]:
        t = text if len(text) <= 24 else text[:24] + "…"
        parts.append(f"[{label} {key} {t!r} {size} B{'' if by in ('?', None) else ' from ' + by}]")
    if len(contents) > shown:
        parts.append(f"… {len(contents) - shown} more")
    return " ".join(parts) if parts else "(empty)"


@dataclass(frozen=True)
class QueueState(ObjectState):
    """What both families share."""

    present: bool = True  # the kernel still has it (listed / openable by name)
    mode: str | None = None  # "0600"
    messages: int | None = None  # the kernel's count; None: cannot be asked any more
    # Messages ((key, size, preview, sender), ...) in the order the kernel keeps.  A bare
    # `tuple`: the trace schema (model/tracecheck.py) reads this annotation's text, and
    # "tuple" there means rows of plain values.
    contents: tuple = ()  # type: ignore[type-arg]
    contents_source: str = KERNEL
    complete: bool = True  # contents lists every message the kernel counts
    sent: int = 0  # messages the lesson's processes sent (calls that returned)
    received: int = 0  # messages they received
    duplicates: int = 0  # received messages that had already been received (never, if right)
    blocked_senders: tuple[str, ...] = ()  # process names asleep in a send on this queue
    blocked_receivers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "contents", _freeze(self.contents))

    # -- what `expect` may name besides the fields ----------------------------------

    @property
    def exists(self) -> str:
        return _yes(self.present)

    @property
    def all_known(self) -> str:
        return _yes(self.complete)

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(m[2] for m in self.contents)

    @property
    def lost(self) -> int | None:
        """Sent, but neither received nor in the queue: 0 unless a message vanished."""
        if self.messages is None:
            return None
        return self.sent - self.received - self.messages


@dataclass(frozen=True)
class SysvQueueState(QueueState):
    """A System V queue: /proc/sysvipc/msg (what `ipcs -q` prints) and msgctl(IPC_STAT)."""

    key: int | None = None
    msqid: int | None = None
    bytes: int | None = None  # msg_cbytes: bytes of all messages in the queue
    max_bytes: int | None = None  # msg_qbytes (IPC_STAT): a send that would pass it waits
    system_max_bytes: int | None = None  # /proc/sys/kernel/msgmnb: msg_qbytes of a new queue
    max_message_size: int | None = None  # /proc/sys/kernel/msgmax: the largest one message
    owner_uid: int | None = None  # cuid
    last_sender: str | None = None  # msg_lspid, as a process name ("pid N" if not ours)
    last_receiver: str | None = None  # msg_lrpid
    last_send_time: int = 0  # msg_stime (seconds since the epoch; 0: never)
    last_receive_time: int = 0
    last_change_time: int = 0

    @property
    def first_type(self) -> int | None:
        return self.contents[0][0] if self.contents else None

    @property
    def types(self) -> tuple[int, ...]:
        return tuple(m[0] for m in self.contents)

    def sources(self, pids: dict[str, int] | None = None,
                holder: tuple[int, int] | None = None) -> list[Source]:
        """Where each value came from, and a command that shows it (see model/provenance)."""
        from .provenance import Source

        q = self.msqid
        if not self.present:
            return [Source("exists", "no", f"msqid {q} is no longer in /proc/sysvipc/msg",
                           f"ipcs -q -i {q}", "prints that the id is invalid")]
        out = [
            Source("messages", str(self.messages), "/proc/sysvipc/msg column qnum",
                   f"ipcs -q -i {q}"),
            Source("bytes", str(self.bytes), "/proc/sysvipc/msg column cbytes",
                   f"ipcs -q -i {q}"),
            Source("max_bytes", str(self.max_bytes), "msgctl(IPC_STAT) msg_qbytes",
                   f"ipcs -q -i {q}", "qbytes="),
            Source("limits", f"msgmnb {self.system_max_bytes}, msgmax {self.max_message_size}",
                   "/proc/sys/kernel/msgmnb and msgmax",
                   "cat /proc/sys/kernel/msgmnb /proc/sys/kernel/msgmax"),
            Source("last sender / receiver", f"{self.last_sender} / {self.last_receiver}",
                   "/proc/sysvipc/msg columns lspid and lrpid", "ipcs -q -p"),
        ]
        if self.contents_source == KERNEL:
            out.append(Source("messages in order", f"{len(self.contents)} listed",
                              "msgrcv(MSG_COPY | IPC_NOWAIT) for each position: a copy, "
                              "the message stays", None,
                              "no shell tool shows a queued message; the sender of each is "
                              "matched from the lesson's own msgsnd calls"))
        else:
            out.append(Source("messages in order", f"{len(self.contents)} listed",
                              "inferred from the lesson's msgsnd/msgrcv calls (this kernel "
                              "has no MSG_COPY)", None))
        return out

    def describe(self) -> str:
        ident = f"key 0x{self.key:08x}, msqid {self.msqid}" if self.key is not None else "?"
        if not self.present:
            return (f"System V queue {self.id} ({ident}): removed — no longer in "
                    "/proc/sysvipc/msg (ipcs -q)")
        n = "?" if self.messages is None else self.messages
        b = "?" if self.bytes is None else self.bytes
        cap = "?" if self.max_bytes is None else self.max_bytes
        text = (f"System V queue {self.id} ({ident}, mode {self.mode}): {n} message(s), "
                f"{b}/{cap} bytes: {_list(self.contents, 'type')}")
        if not self.complete:
            text += " (list incomplete: the kernel counts more)"
        if self.last_sender or self.last_receiver:
            text += (f"; last msgsnd by {self.last_sender or '-'}, "
                     f"last msgrcv by {self.last_receiver or '-'}")
        if self.blocked_senders:
            text += f"; blocked in msgsnd (full): {', '.join(self.blocked_senders)}"
        if self.blocked_receivers:
            text += f"; blocked in msgrcv: {', '.join(self.blocked_receivers)}"
        return text


@dataclass(frozen=True)
class PosixQueueState(QueueState):
    """A POSIX queue: mq_getattr through a descriptor a scenario process holds."""

    name: str | None = None  # "/ipcviz.RUN.q"
    max_messages: int | None = None  # mq_maxmsg
    max_message_size: int | None = None  # mq_msgsize
    default_max_messages: int | None = None  # /proc/sys/fs/mqueue/msg_default
    default_max_message_size: int | None = None  # /proc/sys/fs/mqueue/msgsize_default
    system_max_messages: int | None = None  # /proc/sys/fs/mqueue/msg_max
    system_max_message_size: int | None = None  # /proc/sys/fs/mqueue/msgsize_max
    holders: tuple[str, ...] = ()  # "receiver:3 (read)": descriptors open on it
    read_through: str | None = None  # the descriptor the probe asked ("receiver:3"), or "name"
    # mq_notify registration, from the queue file's text (NOTIFY_PID, SIGNO), read with
    # pread(2) on the descriptor the probe asked: the process to be signalled ("" none;
    # "pid N" not of the lesson; None unknown) and the signal.
    notify_process: str | None = None
    notify_signal: str | None = None
    notify_text: str | None = None  # the line as the kernel wrote it ("QSIZE:0 NOTIFY:0 ...")

    @property
    def first_priority(self) -> int | None:
        return self.contents[0][0] if self.contents else None

    @property
    def priorities(self) -> tuple[int, ...]:
        return tuple(m[0] for m in self.contents)

    def sources(self, pids: dict[str, int] | None = None,
                holder: tuple[int, int] | None = None) -> list[Source]:
        """Where each value came from, and a command that shows it (see model/provenance)."""
        from .provenance import Source

        via = self.read_through
        if via and via != "name":
            proc, _, fd = via.partition(":")
            pid = (pids or {}).get(proc, "PID")
            how = f"mq_getattr(2) through pidfd_getfd on {proc}'s fd {fd}"
            cmd = f"cat /proc/{pid}/fdinfo/{fd}"
            note = "shows the descriptor; the count itself has no /proc file"
        elif via == "name":
            how, cmd, note = "mq_getattr(2) on a descriptor opened by name (no process holds " \
                "one), closed at once", None, None
        else:
            how, cmd, note = "nobody holds a descriptor and the name is gone", None, None
        mount = ("with the mqueue file system mounted (mount -t mqueue none /dev/mqueue), "
                 f"cat /dev/mqueue{self.name} shows QSIZE")
        return [
            Source("exists", self.exists, "mq_open(name, O_RDONLY) without O_CREAT: ENOENT "
                   "once unlinked", None, mount),
            Source("messages", str(self.messages), how, cmd, note),
            Source("limits", f"{self.max_messages} × {self.max_message_size} bytes", how, None),
            Source("defaults", f"{self.default_max_messages} × "
                   f"{self.default_max_message_size} bytes",
                   "/proc/sys/fs/mqueue/msg_default and msgsize_default",
                   "cat /proc/sys/fs/mqueue/msg_default /proc/sys/fs/mqueue/msgsize_default"),
            Source("mq_notify", f"{self.notify_signal} to {self.notify_process}"
                   if self.notify_process else "nobody registered" if self.notify_process == ""
                   else "unknown",
                   "NOTIFY_PID and SIGNO in the queue's file, read (pread, nothing taken) "
                   "through the same descriptor", f"cat /dev/mqueue{self.name}",
                   f"needs the mqueue file system mounted; the kernel's line: "
                   f"{self.notify_text or '?'}"),
            Source("messages in order", f"{len(self.contents)} listed",
                   "inferred from the lesson's mq_send/mq_receive calls: a POSIX queue cannot "
                   "be looked into without taking a message", None,
                   "checked against the kernel's count; marked incomplete if they differ"),
        ]

    def describe(self) -> str:
        where = f"{self.name}, mode {self.mode}" if self.mode else f"{self.name}"
        if not self.present and self.messages is None:
            return f"POSIX queue {self.id} ({self.name}): gone (unlinked, no descriptor open)"
        n = "?" if self.messages is None else self.messages
        cap = "?" if self.max_messages is None else self.max_messages
        text = (f"POSIX queue {self.id} ({where}): {n}/{cap} messages of at most "
                f"{self.max_message_size} bytes: {_list(self.contents, 'prio')}")
        if self.contents_source == INFERRED and self.contents:
            text += " (order inferred from the lesson's sends: mq has no peek)"
        if not self.complete:
            text += " (list incomplete: the kernel counts other messages)"
        if not self.present:
            text += "; name removed (mq_unlink), still open"
        if self.holders:
            text += f"; open in {', '.join(self.holders)}"
        if self.notify_process:
            text += f"; mq_notify: {self.notify_signal} to {self.notify_process}"
        if self.blocked_senders:
            text += f"; blocked in mq_send (full): {', '.join(self.blocked_senders)}"
        if self.blocked_receivers:
            text += f"; blocked in mq_receive (empty): {', '.join(self.blocked_receivers)}"
        return text


OBJECT_KINDS = {"sysv_msgq": SysvQueueState, "posix_mq": PosixQueueState}
