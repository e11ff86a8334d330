"""shm: probes of this mechanism's kernel objects (registered in kinds.PROBES)."""

from __future__ import annotations
