"""The vocabulary of scenario files: actions, their arguments, and what `expect` may name.

Pure data, shared by the loader (to validate) and the runtime (to execute).
"""

from __future__ import annotations

import re
import signal

from .vocab import ACTIONS, ID_ARGS, OBJECT_ATTRS, PROCESS_ATTRS, Action, Arg

# Re-exported: the loader, the schema and the runtime read the vocabulary from here.
__all__ = ["ACTIONS", "END_NAMES", "ID_ARGS", "OBJECT_ATTRS", "OPS", "PROCESS_ATTRS", "SIZE_RE",
           "STEP_ATTRS", "Action", "Arg", "signal_name", "signal_number"]

STEP_ATTRS = frozenset({"outcome", "result", "errno", "process"})
OPS = ("==", "!=", "<=", ">=", "<", ">", "has", "lacks")

SIZE_RE = re.compile(r"^\s*(\d+|capacity|PIPE_BUF)\s*(?:([-+*])\s*(\d+))?\s*$")
END_NAMES = ("read", "write", "a", "b", "fd")  # a pipe's or FIFO's; a socketpair's two ends;
# the one fd of a socket or an open file


def signal_number(name: str) -> int | None:
    """The number of a signal name on this system, SIGRTMIN+n included; None if unknown."""
    name = name.strip().upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    m = re.fullmatch(r"SIGRT(MIN|MAX)([+-]\d+)?", name)
    if m:
        base = signal.SIGRTMIN if m.group(1) == "MIN" else signal.SIGRTMAX
        n = base + int(m.group(2) or 0)
        return int(n) if signal.SIGRTMIN <= n <= signal.SIGRTMAX else None
    sig = getattr(signal.Signals, name, None) if name in signal.Signals.__members__ else None
    return int(sig) if sig is not None else None


def signal_name(number: int) -> str:
    """The conventional name of a signal number ("SIGRTMIN+2" for real-time ones)."""
    if signal.SIGRTMIN <= number <= signal.SIGRTMAX:
        off = number - signal.SIGRTMIN
        return "SIGRTMIN" if off == 0 else f"SIGRTMIN+{off}"
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"
