"""A pipe: a kernel buffer with a read end and a write end, known by the inode of its fds."""

from __future__ import annotations

from dataclasses import dataclass

from ..kernel import F_GETPIPE_SZ, FIONREAD, PIPE_MAX_SIZE, SYS_PIDFD_GETFD
from .provenance import Source
from .snapshot import ObjectState, Snapshot

PEEK = 256  # bytes of the buffer the probe copies with tee(2) (probe/pipe_io.PEEK)
NO_READER = "no-reader"  # contents unknown: no live process holds a read end to tee from
UNKNOWN_FILL = "unknown-fill"  # contents unknown: the fill itself could not be asked


_Bytes = bytes  # the builtin, for use inside PipeState, whose field `bytes` hides it


@dataclass(frozen=True)
class PipeState(ObjectState):
    """A pipe (or the buffer behind a FIFO): fill read with FIONREAD, size with F_GETPIPE_SZ."""

    inode: int | None = None
    bytes: int | None = None  # None: no scenario process holds an end to ask through
    capacity: int | None = None
    readers: int = 0  # fds open on the read end, over all scenario processes
    writers: int = 0  # fds open on the write end
    reader_fds: tuple[str, ...] = ()  # "parent:3"
    writer_fds: tuple[str, ...] = ()
    blocked_readers: tuple[str, ...] = ()  # process names asleep reading it
    blocked_writers: tuple[str, ...] = ()  # process names asleep writing it
    # The first bytes in the buffer (hex; at most PEEK of them), copied with tee(2) through
    # a read end a scenario process holds: nothing is consumed.  None: not known, and
    # `contents_missing` says why (NO_READER, UNKNOWN_FILL, "tee: EINVAL"...).  Traces
    # recorded before this field load with None and no reason.
    contents: str | None = None
    contents_missing: str | None = None
    # The largest capacity F_SETPIPE_SZ gives a process without CAP_SYS_RESOURCE
    # (/proc/sys/fs/pipe-max-size, read at each sample; None: not readable).
    max_capacity: int | None = None
    # Ends whose open file description has O_NONBLOCK (fdinfo flags): "parent:3".
    nonblocking: tuple[str, ...] = ()

    def contents_bytes(self) -> _Bytes | None:
        """`contents` as bytes (None if unknown or not hex, as an edited trace might be)."""
        if self.contents is None:
            return None
        try:
            return _Bytes.fromhex(self.contents)
        except ValueError:
            return None

    def contents_text(self) -> str | None:
        """The previewed bytes as one line of ASCII: printable as is, the rest escaped
        (\\n, \\t, \\xNN), quoted; "…" when the buffer holds more than was copied."""
        data = self.contents_bytes()
        if data is None:
            return None
        more = " …" if self.bytes is not None and self.bytes > len(data) else ""
        return f'"{escape_bytes(data)}"{more}'

    def describe(self) -> str:
        fill = "?" if self.bytes is None else str(self.bytes)
        cap = "?" if self.capacity is None else str(self.capacity)
        if self.readers == 0 and self.writers == 0:
            return f"pipe {self.id}: freed (no process holds an end)"
        text = (f"pipe {self.id}: {fill}/{cap} bytes, "
                f"readers {self.readers} ({', '.join(self.reader_fds) or '-'}), "
                f"writers {self.writers} ({', '.join(self.writer_fds) or '-'})")
        if self.blocked_writers:
            text += f"; blocked writing (full): {', '.join(self.blocked_writers)}"
        if self.blocked_readers:
            text += f"; blocked reading (empty): {', '.join(self.blocked_readers)}"
        if self.nonblocking:
            text += f"; O_NONBLOCK: {', '.join(self.nonblocking)}"
        if self.bytes and self.contents_text():
            text += f"; in the buffer: {self.contents_text()}"
        return text

    def holder(self, snapshot: Snapshot) -> tuple[int, int] | None:
        """(pid, fd) of the first live scenario process holding an end of the pipe.

        The same choice as the probe (ipcviz.probe.sampler): the fill is asked through it.
        """
        if self.inode is None:
            return None
        return snapshot.live_holder(f"pipe:[{self.inode}]")

    def sources(self, pids: dict[str, int] | None = None,
                holder: tuple[int, int] | None = None) -> list[Source]:
        """Where each value came from (holder: the end the probe asks through, see holder())."""
        o = self
        pids = pids or {}
        out: list[Source] = []
        if o.inode is not None:
            cmd = f"readlink /proc/{holder[0]}/fd/{holder[1]}" if holder else None
            out.append(Source("inode", str(o.inode),
                              "the pipe:[INODE] name of the fds (readlink /proc/PID/fd/N)", cmd))
        if holder is None:
            out.append(Source("bytes", "unknown", "no live scenario process holds an end of it",
                              None, "nobody can ask the kernel any more: the pipe is gone"))
        else:
            pid, fd = holder
            out.append(Source(
                "bytes", "?" if o.bytes is None else str(o.bytes),
                f"ioctl(FIONREAD) through pidfd_getfd on {pid}'s fd {fd}",
                _pipe_python(pid, fd, "bytes"), _BORROW_NOTE))
            out.append(Source(
                "capacity", "?" if o.capacity is None else str(o.capacity),
                f"fcntl(F_GETPIPE_SZ) through pidfd_getfd on {pid}'s fd {fd}",
                _pipe_python(pid, fd, "capacity"), _BORROW_NOTE))
        find = (f"find /proc/[0-9]*/fd -lname 'pipe:\\[{o.inode}\\]' -printf '%p\\n' 2>/dev/null"
                if o.inode is not None else None)
        out.append(Source(
            "readers", f"{o.readers} ({', '.join(o.reader_fds) or 'none'})",
            "every scenario fd on pipe:[INODE] whose fdinfo flags open it for reading",
            find, "then grep flags /proc/PID/fdinfo/N for each: last octal digit 0 = read end"))
        out.append(Source(
            "writers", f"{o.writers} ({', '.join(o.writer_fds) or 'none'})",
            "every scenario fd on pipe:[INODE] whose fdinfo flags open it for writing",
            find, "last octal digit of flags 1 = write end"))
        out.extend(_flag_sources(o, pids))
        if o.contents is not None or o.contents_missing is not None:
            out.append(_contents_source(o))
        for label, names in (("blocked readers", o.blocked_readers),
                             ("blocked writers", o.blocked_writers)):
            known = [pids[n] for n in names if n in pids]
            cmd = "; ".join(f"cat /proc/{pid}/syscall /proc/{pid}/wchan; echo" for pid in known)
            out.append(Source(
                label, ", ".join(names) or "none",
                "processes asleep (stat S/D) in read()/write() on an fd of this pipe: "
                "/proc/PID/syscall (number and fd) and /proc/PID/wchan",
                cmd or None, None if cmd else "nobody is asleep on it now"))
        return out


def _flag_sources(o: PipeState, pids: dict[str, int]) -> list[Source]:
    """pipe-max-size, and the ends whose open file description has O_NONBLOCK."""
    out = []
    if o.max_capacity is not None:
        out.append(Source("max capacity", str(o.max_capacity),
                          "the largest F_SETPIPE_SZ without CAP_SYS_RESOURCE",
                          f"cat {PIPE_MAX_SIZE}"))
    if o.nonblocking:
        ends = [e.rpartition(":") for e in o.nonblocking]
        out.append(Source(
            "O_NONBLOCK", ", ".join(o.nonblocking),
            "the flags: line of each end's /proc/PID/fdinfo/N (O_NONBLOCK is octal 04000)",
            "; ".join(f"grep flags /proc/{pids.get(name, 'PID')}/fdinfo/{fd}"
                      for name, _, fd in ends)))
    return out


def escape_bytes(data: bytes) -> str:
    """Bytes as ASCII a terminal shows literally: printable characters as they are,
    backslash and quote escaped, \\n \\t \\r, every other byte as \\xNN."""
    named = {0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x5C: "\\\\", 0x22: '\\"'}
    return "".join(named.get(b) or (chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}")
                   for b in data)


def _contents_source(o: PipeState) -> Source:
    if o.contents is None:
        why = {NO_READER: "no live scenario process holds a read end to copy through",
               UNKNOWN_FILL: "the fill itself could not be asked"}.get(
                   o.contents_missing or "", o.contents_missing or "not recorded")
        return Source("contents", "unknown", why, None)
    shown = o.contents_text() or '""'
    return Source("contents", shown,
                  f"tee(2) of the first {PEEK} bytes from a read end borrowed with "
                  "pidfd_getfd into a pipe of ipcviz's own, then read from that one: tee "
                  "copies without consuming", None,
                  "no shell command can look without reading them away (cat would consume "
                  "them)")


def _pipe_python(pid: int, fd: int, what: str) -> str:
    """A one-line python3 command asking FIONREAD or F_GETPIPE_SZ through PID's own fd N.

    It borrows the end with pidfd_getfd(2), as the probe does, and never opens
    /proc/PID/fd/N: an open would make a new open file, one more reader or writer.
    """
    borrow = (f"p=os.pidfd_open({pid}); "
              f"fd=ctypes.CDLL(None).syscall({SYS_PIDFD_GETFD}, p, {fd}, 0); ")
    if what == "bytes":
        ask = f'print(struct.unpack("i", fcntl.ioctl(fd, {FIONREAD:#x}, bytes(4)))[0])'
    else:
        ask = f"print(fcntl.fcntl(fd, {F_GETPIPE_SZ}))"
    return f"python3 -c 'import ctypes,fcntl,os,struct; {borrow}{ask}'"


_BORROW_NOTE = ("no shell command shows this without opening the pipe, which would add a "
                "reader; this one borrows the process's own end with pidfd_getfd(2), as "
                "ipcviz does (Linux 5.6 or later; needs the right to trace the process)")


OBJECT_KINDS = {"pipe": PipeState}
