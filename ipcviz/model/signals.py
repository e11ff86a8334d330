"""Signals.  A process's signal sets are in Process.signals (snapshot.Signals); the object
here is a pseudo-terminal, whose line discipline turns keys into signals."""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

from .snapshot import ObjectState

if TYPE_CHECKING:
    from .provenance import Source


@dataclass(frozen=True)
class PtyState(ObjectState):
    """From /proc of the scenario's processes: who holds each side (fd readlinks, the
    master's tty-index in fdinfo), whose controlling terminal it is and which process group
    is in the foreground (/proc/PID/stat tty_nr, tpgid, against stat() of the slave)."""

    slave: str = ""  # /dev/pts/N
    master_holders: tuple[str, ...] = ()  # "terminal:3"
    slave_holders: tuple[str, ...] = ()
    controlling: tuple[str, ...] = ()  # processes whose controlling terminal it is
    foreground: tuple[str, ...] = ()  # processes in its foreground process group
    foreground_pgid: int | None = None
    session_leader: str | None = None
    hung_up: bool = False  # no master is open any more

    def describe(self) -> str:
        text = (f"pty {self.id}: master held by {', '.join(self.master_holders) or 'nobody'}"
                f", slave {self.slave} held by {', '.join(self.slave_holders) or 'nobody'}")
        if self.hung_up:
            text += "; hung up (the master is closed)"
        if self.controlling:
            text += (f"; controlling terminal of {', '.join(self.controlling)}"
                     f" (session leader {self.session_leader or '?'})")
        if self.foreground:
            text += (f"; foreground process group {self.foreground_pgid}: "
                     f"{', '.join(self.foreground)}")
        return text

    def sources(self, pids: dict[str, int], holder: tuple[int, int] | None = None) -> list[Source]:
        """Where each value came from, and a command that shows it (for --explain)."""
        from .provenance import Source

        return [
            Source("holders", ", ".join(self.master_holders + self.slave_holders) or "-",
                   "readlink /proc/PID/fd/N (/dev/ptmx, /dev/pts/N) and tty-index in "
                   "/proc/PID/fdinfo/N", "ls -l /proc/PID/fd"),
            Source("foreground", ", ".join(self.foreground) or "-",
                   "/proc/PID/stat fields 5-8: pgrp, session, tty_nr, tpgid",
                   f"ps -o pid,pgid,sid,tty,tpgid,comm -p "
                   f"{','.join(str(p) for p in pids.values()) or 'PID'}"),
        ]


OBJECT_KINDS = {"pty": PtyState}
