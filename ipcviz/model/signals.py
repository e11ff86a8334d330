"""signals: snapshot dataclasses of this mechanism's objects (registered in OBJECT_KINDS)."""

from __future__ import annotations
