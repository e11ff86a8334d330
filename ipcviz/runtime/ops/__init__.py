"""What a worker does for each action: one module per mechanism.

Each module defines OPS: {action name: function(worker, args, pids, step) -> dict | None}
and CALLS: {action name: function(worker, args, pids) -> str}, the call as strace would
print it (sent in the "began" message, before the call is made).  An op returns the "done"
message's fields: "result", optionally "facts" (what the process now knows: merged into
its expect attributes), "objects" (kernel objects it created, to be probed), and
"began_arg0" is not used here (see Worker.began_fields).  Raising OSError reports the
step as failed with that errno.
"""

from __future__ import annotations

from importlib import import_module

MODULES = ["process", "pipe", "fifo", "signals", "msgq", "shm", "sem"]

OPS: dict = {}
CALLS: dict = {}
ARG0: dict = {}  # action -> function(worker, args, pids) -> first syscall argument, if known

for _name in MODULES:
    _mod = import_module(f"{__name__}.{_name}")
    OPS.update(_mod.OPS)
    CALLS.update(getattr(_mod, "CALLS", {}))
    ARG0.update(getattr(_mod, "ARG0", {}))
