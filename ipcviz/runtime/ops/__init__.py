"""What a worker does for each action: one module per mechanism.

Each module (process, then one per mechanism of ipcviz.mechanisms) defines
OPS: {action name: function(worker, args, pids, step) -> dict | None},
CALLS: {action name: function(worker, args, pids) -> str}, the call as strace would
print it (sent in the "began" message, before the call is made), and ARG0 (see below).
An op returns the "done" message's fields: "result", optionally "facts" (what the process
now knows: merged into its expect attributes), "objects" (kernel objects it created, to be
probed), and "began_arg0" is not used here (see Worker.began_fields).  Raising OSError reports the
step as failed with that errno.  The types of these tables, and of the worker an op is
given, are in types.py.
"""

from __future__ import annotations

from ...mechanisms import COMMON, MECHANISMS, load
from .types import Arg0, Call, Op, Want

MODULES = [COMMON, *MECHANISMS]  # the modules load_all() reads (sweep loads their removers)

OPS: dict[str, Op] = {}
CALLS: dict[str, Call] = {}
ARG0: dict[str, Arg0] = {}  # action -> function(worker, args, pids) -> first syscall arg
WANTS: dict[str, Want] = {}  # action -> what its call asks of objects (optional per module)


def load_all() -> None:
    """Import every mechanism's module and fill OPS, CALLS and ARG0 (once).

    Not done at package import, so that cleanup can import one mechanism's module (for
    its remover) even if another's is broken."""
    if OPS:
        return
    for mod in load(__name__, common=True):
        OPS.update(mod.OPS)
        CALLS.update(mod.CALLS)
        ARG0.update(mod.ARG0)
        WANTS.update(getattr(mod, "WANTS", {}))
