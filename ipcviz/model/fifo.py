"""A FIFO (named pipe): a name in the file system in front of a pipe buffer."""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

from .snapshot import ObjectState

if TYPE_CHECKING:
    from .provenance import Source


@dataclass(frozen=True)
class FifoState(ObjectState):
    """The name from stat(2) (which never opens it); the buffer through an fd a scenario
    process holds (FIONREAD, F_GETPIPE_SZ); fds and sleepers from /proc of every process."""

    path: str = ""
    exists: bool = False  # the name is in the file system
    file_type: str | None = None  # "p" (S_ISFIFO), as ls -l shows it
    size: int | None = None  # st_size: 0 for a FIFO, whatever its buffer holds
    mode: str | None = None  # permission bits, "0600"
    inode: int | None = None
    bytes: int | None = None  # None: no scenario process holds it open (no buffer to ask)
    capacity: int | None = None
    readers: int = 0
    writers: int = 0
    reader_fds: tuple[str, ...] = ()  # "reader:3"
    writer_fds: tuple[str, ...] = ()
    blocked_readers: tuple[str, ...] = ()  # asleep in read() on it
    blocked_writers: tuple[str, ...] = ()  # asleep in write() on it
    opening_readers: tuple[str, ...] = ()  # asleep in open(O_RDONLY) of it
    opening_writers: tuple[str, ...] = ()  # asleep in open(O_WRONLY) of it

    def describe(self) -> str:
        if self.exists:
            name = f"{self.file_type or '?'} {self.mode or ''} size {self.size}"
        else:
            name = "name removed (unlinked)"
        text = f"fifo {self.id}: {self.path} [{name}]"
        if self.readers or self.writers:
            fill = "?" if self.bytes is None else str(self.bytes)
            cap = "?" if self.capacity is None else str(self.capacity)
            text += (f"; buffer {fill}/{cap} bytes, readers {self.readers} "
                     f"({', '.join(self.reader_fds) or '-'}), writers {self.writers} "
                     f"({', '.join(self.writer_fds) or '-'})")
        else:
            text += "; not open (no buffer)"
        if self.opening_readers:
            text += ("; in open() for reading, waiting for a writer: "
                     f"{', '.join(self.opening_readers)}")
        if self.opening_writers:
            text += ("; in open() for writing, waiting for a reader: "
                     f"{', '.join(self.opening_writers)}")
        if self.blocked_readers:
            text += f"; blocked reading (empty): {', '.join(self.blocked_readers)}"
        if self.blocked_writers:
            text += f"; blocked writing (full): {', '.join(self.blocked_writers)}"
        return text

    def sources(self, pids: dict[str, int], holder: tuple[int, int] | None = None) -> list[Source]:
        """Where each value came from, and a command that shows it (for --explain)."""
        from .provenance import Source

        out = [Source("name", f"{self.file_type or 'gone'}, size {self.size}",
                      f"stat({self.path}): st_mode, st_size (stat opens nothing)",
                      f"ls -l {self.path}")]
        out.append(Source("readers/writers", f"{self.readers}/{self.writers}",
                          "readlink /proc/PID/fd/N == the path, end from "
                          "/proc/PID/fdinfo/N flags", "ls -l /proc/PID/fd"))
        if self.bytes is not None:
            out.append(Source("bytes", f"{self.bytes}/{self.capacity}",
                              "FIONREAD and F_GETPIPE_SZ through a process's own fd "
                              "(pidfd_getfd)", None,
                              "no command can ask without opening the FIFO, which would "
                              "add a reader or writer"))
        for name in self.opening_readers + self.opening_writers:
            pid = pids.get(name, "PID")
            out.append(Source(f"{name} in open()", "waiting for a partner",
                              f"/proc/{pid}/syscall (openat, flags), /proc/{pid}/wchan, the "
                              f"path from /proc/{pid}/mem at the second argument",
                              f"cat /proc/{pid}/syscall /proc/{pid}/wchan"))
        return out


OBJECT_KINDS = {"fifo": FifoState}
