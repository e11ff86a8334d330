"""Shared memory regions (POSIX and System V) and the files of the copy lesson: what the
kernel said about one of them at one moment.

The bytes are read by the probe without changing what is observed: a POSIX region with a
plain read of /dev/shm/NAME, a System V segment through /proc/PID/mem of a process that
has it attached (a shmat of our own would raise shm_nattch).  `increments` and `lost` are
inferred from the lesson's own steps (how many ++ the processes say they did), compared
with the counter read from memory; `bytes_source` says where the bytes came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from .snapshot import OBJECT_KINDS, ObjectState

PREVIEW = 32  # bytes of the region shown in a one-line description


def _hex(data: str, n: int = PREVIEW) -> str:
    """Hex of the first n bytes (data is hex text), grouped by 8."""
    raw = data[: 2 * n]
    return " ".join(raw[i:i + 16] for i in range(0, len(raw), 16))


@dataclass(frozen=True)
class RegionState(ObjectState):
    flavor: str = "posix"  # "posix" (shm_open) or "sysv" (shmget)
    name: str | None = None  # POSIX: "/ipcviz.RUN.obj" (/dev/shm/ipcviz.RUN.obj)
    key: str | None = None  # System V: "0x1234abcd" (0x00000000 once IPC_RMID marked it)
    shmid: int | None = None
    exists: bool = True  # POSIX: the name is in /dev/shm; System V: listed in /proc/sysvipc/shm
    removed: bool = False  # POSIX: unlinked; System V: IPC_RMID done (SHM_DEST), if still there
    size: int | None = None  # st_size of /dev/shm/NAME, or size in /proc/sysvipc/shm
    nattch: int | None = None  # System V: shm_nattch from /proc/sysvipc/shm (POSIX: none)
    mapped_by: tuple[str, ...] = ()  # processes whose /proc/PID/maps has it
    mappings: tuple[str, ...] = ()  # "writer@0x7f..": where each process mapped it
    data: str = ""  # hex of the first bytes, as read by the probe
    bytes_source: str | None = None  # how the bytes were read ("/dev/shm/NAME", "/proc/PID/mem")
    counter: int | None = None  # the C long at offset 0
    text: str | None = None  # the bytes from offset 0 up to the first NUL, if printable
    increments: int = 0  # ++ the processes report since the counter was last set (inferred)
    lost: int | None = None  # increments - counter: updates that vanished
    layout: str = "bytes"  # how the lesson's steps use it: "counter", "ring" or "bytes"
    slots: int = 0  # ring buffer: slots (0: not used as a ring)
    ring: tuple[int, ...] = ()  # the slots' values, read from memory
    ring_in: int | None = None  # the producer's index (monotonic), read from memory
    ring_out: int | None = None  # the consumer's index
    items: int | None = None  # ring_in - ring_out
    free_slots: int | None = None  # slots - items

    def live_slots(self) -> tuple[bool, ...]:
        """Which slots hold an item (between out and in); the others keep stale values."""
        if not self.slots or self.ring_in is None or self.ring_out is None:
            return ()
        live = {i % self.slots for i in range(self.ring_out, self.ring_in)}
        return tuple(i in live for i in range(self.slots))

    def ring_text(self) -> str:
        """"14 | 15 | (12) | (13)": items, and (stale) values of free slots."""
        return " | ".join(str(v) if live else f"({v})"
                          for v, live in zip(self.ring, self.live_slots()))

    @property
    def mapped(self) -> int:
        return len(self.mapped_by)

    def describe(self) -> str:
        if self.flavor == "posix":
            head = f"shm {self.id} ({self.name}"
        else:
            head = f"sysv shm {self.id} (key {self.key}, id {self.shmid}"
        if not self.exists:
            return head + "): gone"
        size = "?" if self.size is None else self.size
        text = f"{head}, {size} bytes"
        if self.removed:
            text += ", unlinked" if self.flavor == "posix" else \
                ", marked for removal (IPC_RMID) until the last detach"
        text += ")"
        if self.nattch is not None:
            text += f": nattch {self.nattch}"
        text += f"; mapped by {', '.join(self.mappings) or 'nobody'}"
        if self.slots:
            text += (f"; ring in={self.ring_in} out={self.ring_out}, {self.items} of "
                     f"{self.slots} slots filled: [{self.ring_text()}]")
        elif self.layout == "counter" and self.counter is not None:
            text += f"; counter {self.counter}"
            if self.increments:
                text += (f" after {self.increments} ++ (reported by the processes): "
                         f"{self.lost} lost")
        elif self.text:
            text += f"; text {self.text!r}"
        if self.data:
            text += f"; bytes [{_hex(self.data, 16)}]"
        elif self.bytes_source is None:
            text += "; bytes unknown (no process maps it, and ipcviz does not attach)"
        return text


@dataclass(frozen=True)
class FileState(ObjectState):
    """A regular file in the run's directory, and the copies the lesson made toward it."""

    path: str | None = None
    size: int | None = None  # st_size (None: not created yet)
    content: str | None = None  # sha256 of the contents, first 16 hex digits
    copies: int = 0  # copy steps (read / write calls) the data made on its way here
    copied: int = 0  # bytes those copies moved, in all
    elapsed_us: int | None = None  # time spent copying (union of the copies' intervals)
    route: tuple[str, ...] = ()  # "read(data → buffer) by sender: 4194304 B in 812 µs"

    def describe(self) -> str:
        size = "not created" if self.size is None else f"{self.size} bytes"
        text = f"file {self.id}: {size}"
        if self.content:
            text += f", sha256 {self.content}…"
        if self.copies:
            text += (f"; copies of the data on its way here so far: {self.copies} "
                     f"({self.copied} bytes moved, {self.elapsed_us} µs spent copying, "
                     "measured by the processes): " + "; ".join(self.route))
        return text


OBJECT_KINDS["shm"] = RegionState
OBJECT_KINDS["sysv_shm"] = RegionState
OBJECT_KINDS["file"] = FileState
