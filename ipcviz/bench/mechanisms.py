"""The measured loops: one channel class per IPC mechanism.

A channel is created in the parent (it creates the kernel objects; POSIX names are
``/ipcviz.<run>.<tag>.ipcviz.bench-<pid>-<n>-...``, unguessable like a lesson's), inherited by two forked children, and removed by
``close()`` in the parent's ``finally``. Each named object is first written into the
channel's manifest (a run directory, ``ipcviz.runtime.rundir``), so that if the bench is
killed with SIGKILL, ``ipcviz clean`` and the sweep at every app start remove what it left.
In *throughput* mode one child produces and the other consumes; in *latency* mode a client
sends a request of the message size and a server echoes it back, and the client times each
round trip.

The hot loops keep Python out of the way: buffers and memoryviews are allocated once, bound
methods are looked up once, the inner loop is ``for _ in repeat(None, n)`` over batches, the
stream consumer is ``iter(partial(os.readv, fd, [buf]), 0)`` (no Python-level test per read),
and checksums are computed only when ``plan.verify`` is set (tests), in separate loops.

Nothing here imports rich or textual, and nothing prints: children must stay off the terminal.
"""

from __future__ import annotations

import errno
import itertools
import mmap
import os
import secrets
import socket
import struct
import time
import zlib
from array import array
from collections import deque
from dataclasses import dataclass
from functools import partial
from itertools import islice, repeat
from time import perf_counter, perf_counter_ns
from typing import Any, ClassVar
from collections.abc import Callable

from ipcviz.runtime.rundir import RunDir

try:  # the project depends on both; a missing one makes its mechanisms "n/a", not a crash
    import posix_ipc
except ImportError:  # pragma: no cover
    posix_ipc = None  # type: ignore[assignment]
try:
    import sysv_ipc
except ImportError:  # pragma: no cover
    sysv_ipc = None  # type: ignore[assignment]

PREFIX = "ipcviz.bench"  # in every bench object's name (after the run's own prefix)
CTRL = 4096  # control page at the start of a shared region; data slots follow, page aligned
SHM_RING_BYTES = 1 << 20  # shared-memory ring: this many bytes of slots ...
SHM_MIN_SLOTS, SHM_MAX_SLOTS = 2, 256  # ... but at least 2 and at most 256 slots
KEY_TRIES = 16  # random System V keys tried before giving up

_seq = itertools.count(1)
#: the manifest lines this process wrote, newest last ({"kind", "name", ...}). The manifests
#: go with their objects, so tests read this to prove every one of them is gone.
created_objects: deque[dict[str, Any]] = deque(maxlen=100_000)


class Unavailable(Exception):
    """This mechanism cannot carry this message size here; str() names the limit."""


def new_tag() -> str:
    """A fresh name stem: ``ipcviz.bench-<pid>-<n>``."""
    return f"{PREFIX}-{os.getpid()}-{next(_seq)}"


def read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------- plan, helpers


@dataclass(frozen=True)
class Plan:
    """What one measurement does. Exactly one of count / seconds drives a throughput run."""

    size: int
    count: int | None = None  # throughput: messages to send (from --volume)
    seconds: float | None = None  # throughput: send for this long (from --seconds)
    verify: bool = False  # checksum every byte (slower; tests)
    rounds: int = 2000  # latency: at most this many timed round trips ...
    lat_seconds: float = 0.25  # ... stopping early after this long (but >= min_rounds)
    min_rounds: int = 100
    warmup: int = 50  # latency: untimed round trips first
    spin: int = 0  # shm: look at the semaphore this many times before sleeping in sem_wait

    @property
    def batch(self) -> int:
        """Messages between two looks at the clock: about 1 MiB, at most 4096 messages."""
        return max(1, min(4096, (1 << 20) // self.size))


def payload(size: int) -> bytearray:
    """A buffer of the message size filled with a non-zero pattern."""
    pattern = bytes(range(1, 256))
    return bytearray((pattern * (size // len(pattern) + 1))[:size])


def stamp(buf: bytearray, i: int) -> None:
    """Write message number i into the buffer, so the checksum also catches loss and reordering."""
    if len(buf) >= 8:
        struct.pack_into("<Q", buf, 0, i)
    else:
        buf[0] = i & 0xFF


def batches(plan: Plan):
    """Yield batch sizes: plan.count messages in all, or batches until plan.seconds passed."""
    b = plan.batch
    if plan.count is not None:
        left = plan.count
        while left > 0:
            n = b if left > b else left
            yield n
            left -= n
    else:
        end = perf_counter() + float(plan.seconds or 0.0)
        while True:
            yield b
            if perf_counter() >= end:
                return


def spin_then_wait(sem: Any, spin: int) -> Callable[[], Any]:
    """sem.acquire, but first poll sem_getvalue() up to `spin` times while it is 0.

    A plain sem_wait() on a semaphore at 0 sleeps in futex(); the partner's sem_post() then
    has to make a futex() wake-up call and the scheduler must wake us: microseconds per
    message on both sides. When the partner is running on the other core and about to post,
    a short poll avoids both. Bounded: after `spin` looks it sleeps like sem_wait() always does.
    """
    acquire = sem.acquire
    if spin <= 0:
        return acquire

    def wait() -> Any:
        if not sem.value:
            for _ in repeat(None, spin):
                if sem.value:
                    break
        return acquire()

    return wait


def client_loop(round_trip: Callable[[], None], src: bytearray, dst: memoryview,
                plan: Plan) -> dict[str, Any]:
    """Time round trips. round_trip() sends src and receives the echo into dst."""
    for i in range(plan.warmup):
        if plan.verify:
            stamp(src, i)
        round_trip()
    samples = array("q")
    append = samples.append
    clock = perf_counter_ns
    end = clock() + int(plan.lat_seconds * 1e9)
    mismatches = 0
    n = 0
    while n < plan.rounds:
        if plan.verify:
            stamp(src, n + plan.warmup)
        t = clock()
        round_trip()
        append(clock() - t)
        n += 1
        if plan.verify and dst != memoryview(src):
            mismatches += 1
        if n >= plan.min_rounds and clock() > end:
            break
    return {"samples": samples.tobytes(), "rounds": n, "mismatches": mismatches}


# --------------------------------------------------------------------------- base class


class Channel:
    """One mechanism's kernel objects plus the loops run by the two children.

    One run directory per channel, that is per measurement: it lives exactly as long as the
    objects it lists (made with the first, removed after the last), so a manifest never names
    an object already removed (whose name or key may since be someone else's), and
    measure_throughput / measure_latency stay self-contained for the app and the tests. A
    mkdir and three small files per measurement are nothing beside a 0.1 s measurement.
    """

    key: ClassVar[str]
    label: ClassVar[str]

    def __init__(self, size: int, mode: str) -> None:
        if mode not in ("throughput", "latency"):
            raise ValueError(mode)
        self.size = size
        self.mode = mode
        self.tag = new_tag()
        self.rd: RunDir | None = None  # made by manifest(): pipes and sockets need none
        self._fds: list[int] = []  # parent copies, closed after fork and in close()
        try:
            self.create()
        except BaseException:
            self.close()
            raise

    @classmethod
    def limit(cls, size: int) -> str | None:
        """Why this size cannot be measured here (checked before creating anything)."""
        return None

    def create(self) -> None:
        """Make the kernel objects, each record()ed first; close() undoes a partial create."""

    def manifest(self) -> RunDir:
        """This channel's run directory, made on first use."""
        if self.rd is None:
            self.rd = RunDir.create(f"bench {self.key} {self.size} B {self.mode}")
        return self.rd

    def posix_name(self, suffix: str) -> str:
        """A POSIX name of this channel: the run's unguessable "/ipcviz.RUN.TAG." prefix
        (see RunDir.object_name), then ``ipcviz.bench-<pid>-<n>-SUFFIX``."""
        return self.manifest().object_name(f"{self.tag}-{suffix}")

    def record(self, kind: str, name: str, **extra: Any) -> None:
        """Write an object into the manifest before creating it, with the kind and fields
        that the sweep's remover for that kind reads (ipcviz.runtime.ops)."""
        self.manifest().record(kind, name, **extra)
        created_objects.append({"kind": kind, "name": name, **extra})

    # parent side
    def parent_after_fork(self) -> None:
        self._close_fds()

    def close(self) -> None:
        """Remove the objects, then the manifest: if this is cut short (Ctrl+C meanwhile), the
        manifest stays, and the sweep takes over once this process is gone."""
        self._close_fds()
        self.remove_objects()
        if self.rd is not None:
            self.rd.remove()
            self.rd = None

    def remove_objects(self) -> None:
        """Remove what create() made and is still there."""

    def _close_fds(self) -> None:
        while self._fds:
            try:
                os.close(self._fds.pop())
            except OSError:
                pass

    # child side: rx = consumer / server (forked first), tx = producer / client
    def setup_rx(self) -> None:
        pass

    def setup_tx(self) -> None:
        pass

    def produce(self, plan: Plan) -> dict[str, Any]:
        raise NotImplementedError

    def consume(self, plan: Plan) -> dict[str, Any]:
        raise NotImplementedError

    def client(self, plan: Plan) -> dict[str, Any]:
        raise NotImplementedError

    def serve(self, plan: Plan) -> dict[str, Any]:
        raise NotImplementedError


# --------------------------------------------------------------------------- byte streams


class StreamChannel(Channel):
    """pipe, FIFO and socketpair: write()/readv() on file descriptors.

    Copies: write() copies user -> kernel buffer, readv() copies kernel -> user buffer.
    End of stream is EOF: the producer closes its end.
    """

    # set by setup_rx / setup_tx in the child
    rfd = -1
    wfd = -1

    def _close_role_fds(self) -> None:
        for fd in {self.rfd, self.wfd}:
            if fd >= 0:
                os.close(fd)
        self.rfd = self.wfd = -1

    def produce(self, plan: Plan) -> dict[str, Any]:
        fd = self.wfd
        buf = payload(plan.size)
        mv = memoryview(buf)
        w = os.write
        sent = msgs = crc = 0
        t0 = perf_counter()
        if not plan.verify:
            for n in batches(plan):
                for _ in repeat(None, n):
                    sent += w(fd, mv)  # blocking: a pipe/socket write returns only when all is in
                msgs += n
        else:
            for n in batches(plan):
                for _ in repeat(None, n):
                    stamp(buf, msgs)
                    crc = zlib.crc32(mv, crc)
                    k = w(fd, mv)
                    while k < plan.size:
                        k += w(fd, mv[k:])
                    sent += k
                    msgs += 1
        self._close_role_fds()  # EOF for the consumer
        return {"t0": t0, "messages": msgs, "bytes": sent, "crc": crc if plan.verify else None}

    def consume(self, plan: Plan) -> dict[str, Any]:
        fd = self.rfd
        buf = bytearray(plan.size)
        mv = memoryview(buf)
        got = crc = 0
        if not plan.verify:
            for n in iter(partial(os.readv, fd, [buf]), 0):
                got += n
        else:
            for n in iter(partial(os.readv, fd, [buf]), 0):
                crc = zlib.crc32(mv[:n], crc)
                got += n
        t1 = perf_counter()
        return {"t1": t1, "bytes": got, "crc": crc if plan.verify else None}

    def client(self, plan: Plan) -> dict[str, Any]:
        size = plan.size
        rfd, wfd = self.rfd, self.wfd
        src = payload(size)
        smv = memoryview(src)
        dst = memoryview(bytearray(size))
        bufs = [dst]
        w, readv = os.write, os.readv

        def round_trip() -> None:
            k = w(wfd, smv)
            while k < size:
                k += w(wfd, smv[k:])
            k = readv(rfd, bufs)
            while k < size:
                r = readv(rfd, [dst[k:]])
                if not r:
                    raise EOFError("server closed the stream")
                k += r

        out = client_loop(round_trip, src, dst, plan)
        self._close_role_fds()  # EOF: the server stops
        return out

    def serve(self, plan: Plan) -> dict[str, Any]:
        size = plan.size
        rfd, wfd = self.rfd, self.wfd
        buf = memoryview(bytearray(size))
        bufs = [buf]
        w, readv = os.write, os.readv
        rounds = 0
        while True:
            k = readv(rfd, bufs)
            if not k:
                break
            while k < size:
                r = readv(rfd, [buf[k:]])
                if not r:
                    raise EOFError("client closed mid-message")
                k += r
            k = w(wfd, buf)
            while k < size:
                k += w(wfd, buf[k:])
            rounds += 1
        return {"rounds": rounds}


class PipeChannel(StreamChannel):
    key = "pipe"
    label = "pipe"

    def create(self) -> None:
        self.a_r, self.a_w = os.pipe()  # throughput: producer -> consumer; latency: request
        self._fds += [self.a_r, self.a_w]
        if self.mode == "latency":
            self.b_r, self.b_w = os.pipe()  # response
            self._fds += [self.b_r, self.b_w]

    def setup_rx(self) -> None:
        os.close(self.a_w)
        self.rfd = self.a_r
        if self.mode == "latency":
            os.close(self.b_r)
            self.wfd = self.b_w

    def setup_tx(self) -> None:
        os.close(self.a_r)
        self.wfd = self.a_w
        if self.mode == "latency":
            os.close(self.b_w)
            self.rfd = self.b_r


class FifoChannel(StreamChannel):
    key = "fifo"
    label = "FIFO"

    def create(self) -> None:
        # In the run directory's fifo/ (0700): removing the directory takes them along.
        fifo_dir = self.manifest().fifo_dir
        self.req = str(fifo_dir / f"{self.tag}-fifo")
        self.record("fifo", self.req)
        os.mkfifo(self.req, 0o600)
        self.resp = None
        if self.mode == "latency":
            self.resp = str(fifo_dir / f"{self.tag}-fifo-resp")
            self.record("fifo", self.resp)
            os.mkfifo(self.resp, 0o600)

    # open() of a FIFO blocks until the other side opens it: both children do this
    # concurrently before reporting ready, always request FIFO first, so no deadlock.
    def setup_rx(self) -> None:
        self.rfd = os.open(self.req, os.O_RDONLY)
        if self.resp:
            self.wfd = os.open(self.resp, os.O_WRONLY)

    def setup_tx(self) -> None:
        self.wfd = os.open(self.req, os.O_WRONLY)
        if self.resp:
            self.rfd = os.open(self.resp, os.O_RDONLY)


class SocketPairChannel(StreamChannel):
    key = "socketpair"
    label = "Unix socketpair"

    def create(self) -> None:
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.a, self.b = a.detach(), b.detach()  # tx end, rx end (full duplex)
        self._fds += [self.a, self.b]

    def setup_rx(self) -> None:
        os.close(self.a)
        self.rfd = self.wfd = self.b

    def setup_tx(self) -> None:
        os.close(self.b)
        self.rfd = self.wfd = self.a


# --------------------------------------------------------------------------- message queues


def send_messages(send: Callable[[Any], Any], plan: Plan) -> dict[str, Any]:
    """A queue's producer: the plan's messages, one call each, then an empty one (end of
    stream).  The same loop for POSIX and System V queues; only `send` differs."""
    buf = payload(plan.size)
    mv = memoryview(buf)
    msgs = crc = 0
    t0 = perf_counter()
    if not plan.verify:
        for n in batches(plan):
            for _ in repeat(None, n):
                send(mv)
            msgs += n
    else:
        for n in batches(plan):
            for _ in repeat(None, n):
                stamp(buf, msgs)
                crc = zlib.crc32(mv, crc)
                send(mv)
                msgs += 1
    send(b"")  # end of stream
    return {"t0": t0, "messages": msgs, "bytes": msgs * plan.size, "crc": crc if plan.verify else None}


def receive_messages(receive: Callable[[], tuple[bytes, int]], end: tuple[bytes, int],
                     plan: Plan) -> dict[str, Any]:
    """A queue's consumer: every message until `end` (the empty one, as `receive` returns
    it: with its priority or its type)."""
    got = crc = 0
    if not plan.verify:
        for m, _ in iter(receive, end):
            got += len(m)
    else:
        for m, _ in iter(receive, end):
            got += len(m)
            crc = zlib.crc32(m, crc)
    t1 = perf_counter()
    return {"t1": t1, "bytes": got, "crc": crc if plan.verify else None}


def _mq_limits() -> dict[str, int | None]:
    return {
        "msgsize_default": read_int("/proc/sys/fs/mqueue/msgsize_default"),
        "msgsize_max": read_int("/proc/sys/fs/mqueue/msgsize_max"),
        "msg_default": read_int("/proc/sys/fs/mqueue/msg_default"),
        "msg_max": read_int("/proc/sys/fs/mqueue/msg_max"),
    }


class PosixMqChannel(Channel):
    """POSIX message queue (posix_ipc): mq_send / mq_receive, one message per call.

    The queue is created with max_message_size = the message size and the system's default
    queue length (fs.mqueue.msg_default). posix_ipc receives into its own malloc'd buffer and
    then builds a bytes object: one copy more than a pipe on the receiving side.
    End of stream is an empty message.
    """

    key = "posix-mq"
    label = "POSIX message queue"

    @classmethod
    def limit(cls, size: int) -> str | None:
        if posix_ipc is None:
            return "n/a (posix_ipc is not installed)"
        return None

    def create(self) -> None:
        self.queues: list[Any] = []
        size = self.size
        lim = _mq_limits()
        depth = lim["msg_default"] or 10
        if self.mode == "latency":
            depth = min(2, lim["msg_max"] or 2)
        suffixes = ["mq"] if self.mode == "throughput" else ["mq-req", "mq-resp"]
        try:
            for suffix in suffixes:
                name = self.posix_name(suffix)
                self.record("posix_mq", name)
                self.queues.append(posix_ipc.MessageQueue(
                    name, posix_ipc.O_CREX, 0o600, max_messages=depth, max_message_size=size))
        except (ValueError, OSError, posix_ipc.Error) as exc:
            mx = lim["msgsize_max"]
            if mx is not None and size > mx:
                raise Unavailable(
                    f"n/a (limit: fs.mqueue.msgsize_max = {mx} bytes per message; "
                    "larger needs CAP_SYS_RESOURCE)") from exc
            if getattr(exc, "errno", None) == errno.EMFILE:
                raise Unavailable("n/a (limit: RLIMIT_MSGQUEUE bytes of queues per user)") from exc
            raise Unavailable(f"n/a (mq_open failed: {exc})") from exc

    def remove_objects(self) -> None:
        for q in self.queues:
            try:
                q.close()
            except Exception:  # noqa: BLE001
                pass
            try:
                q.unlink()
            except posix_ipc.ExistentialError:
                pass
        self.queues = []

    def produce(self, plan: Plan) -> dict[str, Any]:
        return send_messages(self.queues[0].send, plan)

    def consume(self, plan: Plan) -> dict[str, Any]:
        return receive_messages(self.queues[0].receive, (b"", 0), plan)  # (data, priority)

    def client(self, plan: Plan) -> dict[str, Any]:
        req, resp = self.queues
        src = payload(plan.size)
        smv = memoryview(src)
        dst = memoryview(bytearray(plan.size))
        send, receive = req.send, resp.receive

        def round_trip() -> None:
            send(smv)
            dst[:] = receive()[0]

        out = client_loop(round_trip, src, dst, plan)
        send(b"")
        return out

    def serve(self, plan: Plan) -> dict[str, Any]:
        req, resp = self.queues
        send, receive = resp.send, req.receive
        rounds = 0
        for m, _prio in iter(receive, (b"", 0)):
            send(m)
            rounds += 1
        return {"rounds": rounds}


class SysvMqChannel(Channel):
    """System V message queue (sysv_ipc): msgsnd / msgrcv, one message per call.

    Created IPC_PRIVATE-like: IPC_CREAT|IPC_EXCL with a random key, written into the
    manifest first (a killed bench's IPC_PRIVATE queue could not be found again), mode 0600,
    with the system's default capacity (msg_qbytes = kernel.msgmnb). Messages larger than
    kernel.msgmax cannot be sent at all. sysv_ipc receives into a malloc'd buffer, then
    builds bytes. Latency uses one queue: requests are type 1, responses type 2.
    """

    key = "sysv-mq"
    label = "System V message queue"

    @classmethod
    def limit(cls, size: int) -> str | None:
        if sysv_ipc is None:
            return "n/a (sysv_ipc is not installed)"
        msgmax = read_int("/proc/sys/kernel/msgmax")
        if msgmax is not None and size > msgmax:
            return f"n/a (limit: kernel.msgmax = {msgmax} bytes per message)"
        return None

    def create(self) -> None:
        self.q: Any = None
        size = self.size
        reason = self.limit(size)
        if reason:
            raise Unavailable(reason)
        name = f"{self.tag}-msgq"
        for _ in range(KEY_TRIES):
            key = 1 + secrets.randbelow(0x7FFFFFFE)
            self.record("sysv_msgq", name, key=key, t=time.time())
            try:
                self.q = sysv_ipc.MessageQueue(key, sysv_ipc.IPC_CREX, 0o600, max_message_size=size)
                break
            except sysv_ipc.ExistentialError:  # another program's queue: never touch it
                self.record("sysv_msgq", name, key=key, foreign=True)
        else:
            raise OSError(errno.EEXIST, f"{KEY_TRIES} random System V keys were all taken")
        self.record("sysv_msgq", name, key=key, msqid=self.q.id)
        if size > self.q.max_size:
            try:
                self.q.max_size = size
            except Exception as exc:
                mnb = read_int("/proc/sys/kernel/msgmnb")
                raise Unavailable(f"n/a (limit: kernel.msgmnb = {mnb} bytes per queue)") from exc

    def remove_objects(self) -> None:
        q, self.q = self.q, None
        if q is not None:
            try:
                q.remove()
            except sysv_ipc.ExistentialError:
                pass

    def produce(self, plan: Plan) -> dict[str, Any]:
        return send_messages(self.q.send, plan)  # type 1, the end of stream too

    def consume(self, plan: Plan) -> dict[str, Any]:
        return receive_messages(self.q.receive, (b"", 1), plan)  # (data, type)

    def client(self, plan: Plan) -> dict[str, Any]:
        src = payload(plan.size)
        smv = memoryview(src)
        dst = memoryview(bytearray(plan.size))
        q = self.q
        send, receive = q.send, q.receive

        def round_trip() -> None:
            send(smv, True, 1)
            dst[:] = receive(True, 2)[0]

        out = client_loop(round_trip, src, dst, plan)
        send(b"", True, 1)
        return out

    def serve(self, plan: Plan) -> dict[str, Any]:
        send, receive = self.q.send, self.q.receive
        rounds = 0
        for m, _type in iter(partial(receive, True, 1), (b"", 1)):
            send(m, True, 2)
            rounds += 1
        return {"rounds": rounds}


# --------------------------------------------------------------------------- shared memory


class ShmChannel(Channel):
    """POSIX shared memory (shm_open + mmap) with POSIX named semaphores (posix_ipc).

    Throughput is the bounded-buffer protocol over a ring of slots (1 MiB of slots, 2 to 256
    slots): the producer waits on *empty*, copies the message from its private buffer into
    the next slot, posts *full*; the consumer waits on *full*, copies the slot out into its
    own private buffer, posts *empty*. Two copies, like a pipe (user -> kernel -> user), but
    no system call when the semaphore needs no sleep/wake. End: the producer writes the message
    count into the control page, sets a flag, and posts *full* once more.

    Latency: one request slot, one response slot, semaphores *req* and *resp*; the server
    copies the request out and the reply in (same echo as the other mechanisms).
    """

    key = "shm"
    label = "POSIX shm + semaphores"

    @classmethod
    def limit(cls, size: int) -> str | None:
        if posix_ipc is None:
            return "n/a (posix_ipc is not installed)"
        return None

    @staticmethod
    def slots_for(size: int) -> int:
        return max(SHM_MIN_SLOTS, min(SHM_MAX_SLOTS, SHM_RING_BYTES // size))

    def create(self) -> None:
        self.shm = self.mm = None
        self.sems: list[Any] = []
        self.nslots = self.slots_for(self.size) if self.mode == "throughput" else 2
        self.length = CTRL + self.nslots * self.size
        name = self.posix_name("shm")
        self.record("shm", name)
        self.shm = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, 0o600, size=self.length)
        self.mm = mmap.mmap(self.shm.fd, self.length)
        self.shm.close_fd()
        if self.mode == "throughput":
            initial = [("empty", self.nslots), ("full", 0)]
        else:
            initial = [("req", 0), ("resp", 0)]
        for suffix, value in initial:
            sname = self.posix_name(f"sem-{suffix}")
            self.record("sem", sname)
            self.sems.append(posix_ipc.Semaphore(sname, posix_ipc.O_CREX, 0o600, value))

    def remove_objects(self) -> None:
        for s in self.sems:
            try:
                s.unlink()
            except posix_ipc.ExistentialError:
                pass
            try:
                s.close()
            except Exception:  # noqa: BLE001
                pass
        self.sems = []
        if self.mm is not None:
            self.mm.close()
            self.mm = None
        if self.shm is not None:
            try:
                self.shm.unlink()
            except posix_ipc.ExistentialError:
                pass
            self.shm = None

    def _slots(self) -> tuple[memoryview, list[memoryview]]:
        reg = memoryview(self.mm)
        s = self.size
        return reg, [reg[CTRL + i * s: CTRL + (i + 1) * s] for i in range(self.nslots)]

    def produce(self, plan: Plan) -> dict[str, Any]:
        reg, slots = self._slots()
        buf = payload(plan.size)
        src = memoryview(buf)
        empty, full = self.sems
        acquire, release = spin_then_wait(empty, plan.spin), full.release
        cyc = itertools.cycle(slots)
        msgs = crc = 0
        t0 = perf_counter()
        if not plan.verify:
            for n in batches(plan):
                for slot in islice(cyc, n):
                    acquire()
                    slot[:] = src
                    release()
                msgs += n
        else:
            for n in batches(plan):
                for slot in islice(cyc, n):
                    stamp(buf, msgs)
                    crc = zlib.crc32(src, crc)
                    acquire()
                    slot[:] = src
                    release()
                    msgs += 1
        struct.pack_into("<Q", reg, 8, msgs)
        reg[0] = 1
        release()  # the end marker: one post more than there are messages
        return {"t0": t0, "messages": msgs, "bytes": msgs * plan.size, "crc": crc if plan.verify else None}

    def consume(self, plan: Plan) -> dict[str, Any]:
        reg, slots = self._slots()
        dst = memoryview(bytearray(plan.size))
        empty, full = self.sems
        acquire, release = spin_then_wait(full, plan.spin), empty.release
        got = crc = 0
        unpack = struct.unpack_from
        if not plan.verify:
            for slot in itertools.cycle(slots):
                acquire()
                if reg[0] and got == unpack("<Q", reg, 8)[0]:
                    break
                dst[:] = slot
                release()
                got += 1
        else:
            for slot in itertools.cycle(slots):
                acquire()
                if reg[0] and got == unpack("<Q", reg, 8)[0]:
                    break
                dst[:] = slot
                release()
                crc = zlib.crc32(dst, crc)
                got += 1
        t1 = perf_counter()
        return {"t1": t1, "bytes": got * plan.size, "crc": crc if plan.verify else None}

    def client(self, plan: Plan) -> dict[str, Any]:
        reg, (req_slot, resp_slot) = self._slots()
        src = payload(plan.size)
        smv = memoryview(src)
        dst = memoryview(bytearray(plan.size))
        req, resp = self.sems
        post, wait = req.release, spin_then_wait(resp, plan.spin)

        def round_trip() -> None:
            req_slot[:] = smv
            post()
            wait()
            dst[:] = resp_slot

        out = client_loop(round_trip, src, dst, plan)
        reg[0] = 1
        post()
        return out

    def serve(self, plan: Plan) -> dict[str, Any]:
        reg, (req_slot, resp_slot) = self._slots()
        buf = memoryview(bytearray(plan.size))
        req, resp = self.sems
        wait, post = spin_then_wait(req, plan.spin), resp.release
        rounds = 0
        while True:
            wait()
            if reg[0]:
                break
            buf[:] = req_slot
            resp_slot[:] = buf
            post()
            rounds += 1
        return {"rounds": rounds}


MECHANISMS: dict[str, type[Channel]] = {
    c.key: c for c in (PipeChannel, FifoChannel, SysvMqChannel, PosixMqChannel, SocketPairChannel, ShmChannel)
}
