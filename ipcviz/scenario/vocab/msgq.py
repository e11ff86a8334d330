"""Message queues, System V (msgget/msgsnd/msgrcv/msgctl) and POSIX (mq_*).

Objects: kind "sysv_msgq" (a System V queue: ipcviz picks a fresh random key, created with
IPC_CREAT|IPC_EXCL, 0600) and kind "posix_mq" (a POSIX queue named /ipcviz.RUN.NAME, 0600).

Message text: `data`, where "{n}" becomes this process's running count of messages sent
on that queue (1, 2, ...), so that every message of a lesson can be told apart; or `size`
bytes of `fill`.  A size may be "capacity" (± N): for a System V queue its msg_qbytes, for a
POSIX queue its mq_msgsize (the largest message) — both read from the queue at run time.
`count` sends or receives that many messages in one step, one call each (a loop in C);
"capacity" there means, for a send, as many as still fit (POSIX: mq_maxmsg minus what it
holds; System V: the free bytes of msg_qbytes divided by the message size), for a receive,
as many as the queue holds now.
"""

from __future__ import annotations

from .base import Action, Arg

_TEXT = (Arg("data", "str", False, doc="the message text; {n} is the sender's count: 1, 2, ..."),
         Arg("size", "size", False, doc="a message of this many bytes of `fill`"),
         Arg("fill", "str", False, "x", doc="the byte repeated to make `size`"))
_COUNT = "that many messages, one call each; capacity: as many as fit / as are queued"
_TIMEOUT = ("mq_timedsend / mq_timedreceive with a deadline this many ms from now (ETIMEDOUT); "
            "the step lasts until the call returns: keep it under the step bound")

ACTIONS = [
    # -- System V ----------------------------------------------------------------------
    Action("msgget", (Arg("object", "object:sysv_msgq"), Arg("create", "bool", False, False)),
           "msgget(key, IPC_CREAT|IPC_EXCL|0600) creates a queue; msgget(key, 0) opens it"),
    Action("msgsnd",
           (Arg("object", "object:sysv_msgq"), *_TEXT, Arg("type", "int", False, 1),
            Arg("nowait", "bool", False, False), Arg("count", "size", False, 1, doc=_COUNT)),
           "msgsnd(msqid, &msg, size, flags): add a message of a type (> 0) at the end",
           one_of=("data", "size"), sleeps_in=("msgsnd",)),
    Action("msgrcv",
           (Arg("object", "object:sysv_msgq"), Arg("type", "int", False, 0),
            Arg("nowait", "bool", False, False), Arg("count", "size", False, 1, doc=_COUNT),
            Arg("except", "bool", False, False,
                doc="MSG_EXCEPT: the first message whose type is not `type` (> 0)"),
            Arg("size", "int", False,
                doc="the buffer's msgsz (default msgmax): a longer message fails with E2BIG"),
            Arg("noerror", "bool", False, False,
                doc="MSG_NOERROR: a longer message is cut to `size`, the rest lost")),
           "msgrcv(msqid, &msg, msgsz, type, flags): take the first message of that type "
           "(0: the first; < 0: the lowest type <= |type|)",
           sleeps_in=("msgrcv",)),
    Action("msgctl",
           (Arg("object", "object:sysv_msgq"), Arg("command", "choice:IPC_RMID|IPC_SET"),
            Arg("max_bytes", "int", False)),
           "msgctl(msqid, IPC_RMID, NULL) removes the queue; IPC_SET changes msg_qbytes"),
    # -- POSIX -------------------------------------------------------------------------
    Action("mq_open",
           (Arg("object", "object:posix_mq"), Arg("create", "bool", False, False),
            Arg("access", "choice:read|write|read-write", False, "read-write"),
            Arg("nonblock", "bool", False, False), Arg("max_messages", "int", False),
            Arg("max_message_size", "int", False)),
           "mq_open(name, flags, 0600, attr): create or open a POSIX queue"),
    Action("mq_send",
           (Arg("object", "object:posix_mq"), *_TEXT, Arg("priority", "int", False, 0),
            Arg("count", "size", False, 1, doc=_COUNT), Arg("timeout_ms", "int", False,
                                                            doc=_TIMEOUT)),
           "mq_send(mqd, msg, size, priority)", one_of=("data", "size"),
           sleeps_in=("mq_timedsend",), c_calls=(("mq_timedsend", "mq_send"),)),
    Action("mq_receive",
           (Arg("object", "object:posix_mq"), Arg("count", "size", False, 1, doc=_COUNT),
            Arg("timeout_ms", "int", False, doc=_TIMEOUT)),
           "mq_receive(mqd, buf, mq_msgsize, &priority): take the oldest of the highest "
           "priority", sleeps_in=("mq_timedreceive",),
           c_calls=(("mq_timedreceive", "mq_receive"),)),
    Action("mq_notify", (Arg("object", "object:posix_mq"),
                         Arg("signal", "signal", False,
                             doc="the signal sent when a message arrives on the empty queue; "
                                 "left out: mq_notify(mqd, NULL) removes the registration")),
           "mq_notify(mqd, &(struct sigevent){ .sigev_notify = SIGEV_SIGNAL, .sigev_signo = "
           "signal }): once, when a message arrives on the empty queue (EBUSY if another "
           "process is registered)"),
    Action("mq_setattr", (Arg("object", "object:posix_mq"), Arg("nonblock", "bool")),
           "mq_setattr(mqd, &attr, &old): set or clear O_NONBLOCK on this descriptor"),
    Action("mq_close", (Arg("object", "object:posix_mq"),), "mq_close(mqd)"),
    Action("mq_unlink", (Arg("object", "object:posix_mq"),),
           "mq_unlink(name): remove the name; the queue lives while a descriptor is open"),
]

PROCESS_ATTRS = frozenset(
    {
        "message",  # text of the last message it received
        "mtype",  # System V type of the last message it received
        "priority",  # POSIX priority of the last message it received
        "received_count",  # messages it has received in all
        "received_messages",  # texts of every message it received, in order
        "sent_count",  # messages it has sent in all
    }
)

_QUEUE = {"exists", "mode", "messages", "texts", "complete", "all_known", "sent", "received",
          "duplicates", "lost", "blocked_senders", "blocked_receivers", "contents_source"}

ID_ARGS = {"msgsnd": (0,), "msgrcv": (0,), "msgctl": (0,)}  # the msqid

OBJECT_ATTRS = {
    "sysv_msgq": frozenset(_QUEUE | {
        "key", "msqid", "bytes", "max_bytes", "system_max_bytes", "max_message_size",
        "first_type", "types", "last_sender", "last_receiver", "owner_uid"}),
    "posix_mq": frozenset(_QUEUE | {
        "name", "max_messages", "max_message_size", "default_max_messages",
        "default_max_message_size", "system_max_messages", "system_max_message_size",
        "first_priority", "priorities", "holders", "notify_process", "notify_signal"}),
}
