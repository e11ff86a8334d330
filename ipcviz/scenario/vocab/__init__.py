"""The scenario vocabulary, one module per mechanism.

Each module defines ACTIONS (a list of Action), PROCESS_ATTRS (what `expect` may name of a
process, beyond the common ones) and OBJECT_ATTRS (kind -> attributes of its objects), and
may define ID_ARGS (system call -> positions of its arguments that are IPC identifiers, shown
in decimal as ipcs prints them, not in hex like an address).
The modules are the common vocabulary (process) and one per mechanism of
ipcviz.mechanisms: to add a mechanism, write its module here and name it there.
"""

from __future__ import annotations

from ...mechanisms import load
from .base import Action, Arg

ACTIONS: dict[str, Action] = {}
PROCESS_ATTRS: set[str] = set()
OBJECT_ATTRS: dict[str, frozenset[str]] = {}
ID_ARGS: dict[str, tuple[int, ...]] = {}

for _mod in load(__name__, common=True):
    for _action in _mod.ACTIONS:
        assert _action.name not in ACTIONS, f"action {_action.name} defined twice"
        ACTIONS[_action.name] = _action
    PROCESS_ATTRS |= set(_mod.PROCESS_ATTRS)
    OBJECT_ATTRS.update(_mod.OBJECT_ATTRS)
    ID_ARGS.update(getattr(_mod, "ID_ARGS", {}))

__all__ = ["ACTIONS", "ID_ARGS", "OBJECT_ATTRS", "PROCESS_ATTRS", "Action", "Arg"]
