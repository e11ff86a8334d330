"""A Timeline keeps every snapshot of a run, so a viewer can step back through history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .snapshot import Snapshot, snapshot_from_dict

TRACE_FORMAT = 1  # bumped when the JSON lines of a trace change incompatibly


class Timeline:
    def __init__(self) -> None:
        self._snapshots: list[Snapshot] = []

    def append(self, snapshot: Snapshot) -> Snapshot:
        self._snapshots.append(snapshot)
        return snapshot

    def __len__(self) -> int:
        return len(self._snapshots)

    def __getitem__(self, index: int) -> Snapshot:
        return self._snapshots[index]

    def __iter__(self) -> Iterator[Snapshot]:
        return iter(self._snapshots)

    @property
    def head(self) -> Snapshot | None:
        return self._snapshots[-1] if self._snapshots else None


def write_trace_line(out: IO[str], snapshot: Snapshot) -> None:
    """One snapshot as one JSON line."""
    out.write(json.dumps(snapshot.to_dict(), separators=(",", ":"), default=str) + "\n")


def read_trace(path: Path) -> list[Snapshot]:
    with open(path, encoding="utf-8") as f:
        return [snapshot_from_dict(json.loads(line)) for line in f if line.strip()]
