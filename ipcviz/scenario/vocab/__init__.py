"""The scenario vocabulary, one module per mechanism.

Each module defines ACTIONS (a list of Action), PROCESS_ATTRS (what `expect` may name of a
process, beyond the common ones) and OBJECT_ATTRS (kind -> attributes of its objects).
The modules are the common vocabulary (process) and one per mechanism of
ipcviz.mechanisms: to add a mechanism, write its module here and name it there.
"""

from __future__ import annotations

from ...mechanisms import load
from .base import Action, Arg

ACTIONS: dict[str, Action] = {}
PROCESS_ATTRS: set[str] = set()
OBJECT_ATTRS: dict[str, frozenset[str]] = {}

for _mod in load(__name__, common=True):
    for _action in _mod.ACTIONS:
        assert _action.name not in ACTIONS, f"action {_action.name} defined twice"
        ACTIONS[_action.name] = _action
    PROCESS_ATTRS |= set(_mod.PROCESS_ATTRS)
    OBJECT_ATTRS.update(_mod.OBJECT_ATTRS)

__all__ = ["ACTIONS", "OBJECT_ATTRS", "PROCESS_ATTRS", "Action", "Arg"]
