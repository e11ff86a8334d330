"""Per-mechanism probes of kernel objects, found by the object's kind.

Each mechanism's probe module (ipcviz.mechanisms) defines, at module level:
    PROBES = {kind: function(sampler, record, processes) -> ObjectState}
where `record` is what the worker reported when it created the object ({"id", "kind",
identifiers...}) and `processes` the Process views of this sample (for fd holders and
blocked processes), and
    WAITS_ON = [function(syscall_name, syscall_args, fds, records, pid) -> object id | None]
naming the object a process sleeps on when the call does not take an fd (a System V id,
a futex address in its /proc/PID/maps, ...).  load_all() collects them here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..mechanisms import load

if TYPE_CHECKING:
    from ..model.snapshot import Fd

# What a worker reported when it created an object (a JSON object, merged by the conductor
# over the run): "id", "kind", the kind's identifiers ("inode", "key", "path"...) and the
# "events" the lesson's steps did to it.
Record = dict[str, Any]

PROBES: dict[str, Callable[..., Any]] = {}
# (syscall name, its arguments, the process's fds, every record, pid) -> object id or None
WaitsOn = Callable[[str | None, tuple[int, ...], "tuple[Fd, ...]", Sequence[Record], int],
                   str | None]
WAITS_ON: list[WaitsOn] = []


def load_all() -> None:
    """Import every mechanism's probe module and collect PROBES and WAITS_ON, once."""
    if PROBES:
        return
    mods = load(__package__)  # all imported before any is collected: no half-filled lists
    for mod in mods:
        WAITS_ON.extend(mod.WAITS_ON)
        PROBES.update(mod.PROBES)
