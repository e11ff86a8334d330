"""signals: what a worker does for each action of this mechanism. See ops/pipe.py for the form."""

from __future__ import annotations

OPS: dict = {}
CALLS: dict = {}
ARG0: dict = {}
