"""signals: the scenario vocabulary (actions, expect attributes). See vocab/pipe.py for the form."""

from __future__ import annotations

from .base import Action, Arg  # noqa: F401

ACTIONS: list[Action] = []
PROCESS_ATTRS: frozenset[str] = frozenset()
OBJECT_ATTRS: dict[str, frozenset[str]] = {}
