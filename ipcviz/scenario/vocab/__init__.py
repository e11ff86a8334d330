"""The scenario vocabulary, one module per mechanism.

Each module defines ACTIONS (a list of Action), PROCESS_ATTRS (what `expect` may name of a
process, beyond the common ones) and OBJECT_ATTRS (kind -> attributes of its objects).
To add a mechanism: write its module here and list it in MODULES.
"""

from __future__ import annotations

from importlib import import_module

from .base import Action, Arg

MODULES = ["process", "pipe", "fifo", "signals", "msgq", "shm", "sem"]

ACTIONS: dict[str, Action] = {}
PROCESS_ATTRS: set[str] = set()
OBJECT_ATTRS: dict[str, frozenset[str]] = {}

for _name in MODULES:
    _mod = import_module(f"{__name__}.{_name}")
    for _action in _mod.ACTIONS:
        assert _action.name not in ACTIONS, f"action {_action.name} defined twice"
        ACTIONS[_action.name] = _action
    PROCESS_ATTRS |= set(getattr(_mod, "PROCESS_ATTRS", ()))
    OBJECT_ATTRS.update(getattr(_mod, "OBJECT_ATTRS", {}))

__all__ = ["ACTIONS", "Action", "Arg", "OBJECT_ATTRS", "PROCESS_ATTRS"]
