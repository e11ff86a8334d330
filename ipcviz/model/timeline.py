"""A Timeline keeps every snapshot of a run, so a viewer can step back through history."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..textsafe import printable
from .snapshot import Snapshot, snapshot_from_dict
from .tracecheck import MAX_SNAPSHOTS, MAX_TRACE_BYTES, TraceSchemaError, check_snapshot

if TYPE_CHECKING:
    from ..scenario import Scenario

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


class TraceError(Exception):
    """A trace file cannot be read; str() is one line naming the file and the line."""


def write_trace_header(out: IO[str], scenario_name: str, scenario_source: str | None) -> None:
    """The first line of a recorded trace: format version and the scenario itself, so a
    replay can show the lesson's code and narration without the scenario file."""
    out.write(json.dumps({"trace": "ipcviz", "version": TRACE_FORMAT, "scenario": scenario_name,
                          "source": scenario_source}) + "\n")


def write_traced_header(out: IO[str], program: list[str]) -> None:
    """The first line of a trace of a program run by `ipcviz trace`: no lesson, the
    program's command line instead; replay rebuilds a lesson-like Scenario from the
    snapshots (ipcviz.scenario.traced)."""
    out.write(json.dumps({"trace": "ipcviz", "version": TRACE_FORMAT,
                          "scenario": "trace: " + " ".join(program)[:190], "source": None,
                          "program": program[:64]}) + "\n")


def write_trace_line(out: IO[str], snapshot: Snapshot) -> None:
    """One snapshot as one JSON line."""
    out.write(json.dumps(snapshot.to_dict(), separators=(",", ":"), default=str) + "\n")


def _read_text(path: Path) -> str:
    """The trace's text: a regular file of at most MAX_TRACE_BYTES (a FIFO or a device
    such as /dev/zero is refused, never read until it ends)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise TraceError(f"{path}: no such file") from None
    except OSError as err:
        raise TraceError(f"{path}: cannot read: {err.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise TraceError(f"{path}: not a regular file")
            data = f.read(MAX_TRACE_BYTES + 1)
        except OSError as err:
            raise TraceError(f"{path}: cannot read: {err.strerror}") from None
    if len(data) > MAX_TRACE_BYTES:
        raise TraceError(f"{path}: larger than {MAX_TRACE_BYTES // (1024 * 1024)} MB, the "
                         "most a trace may be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TraceError(f"{path}: cannot read: not UTF-8 text (byte {err.start})") from None


def _check_header(path: Path, n: int, data: dict[str, Any]) -> None:
    if data.get("version") != TRACE_FORMAT:
        version = data.get("version")
        shown = repr(version) if isinstance(version, (int, float, str)) else "of another kind"
        raise TraceError(f"{path}:{n}: trace format {printable(shown[:40])}; this "
                         f"ipcviz reads format {TRACE_FORMAT} (record it again)")
    if not isinstance(data.get("scenario"), str) or not data["scenario"]:
        raise TraceError(f"{path}:{n}: scenario: a name expected")
    if len(data["scenario"]) > 200:
        raise TraceError(f"{path}:{n}: scenario: a name of at most 200 characters expected")
    if data.get("source") is not None and not isinstance(data.get("source"), str):
        raise TraceError(f"{path}:{n}: source: the scenario's text expected")
    program = data.get("program")
    if program is not None and not (isinstance(program, list) and 0 < len(program) <= 64
                                    and all(isinstance(a, str) and len(a) <= 4096
                                            for a in program)):
        raise TraceError(f"{path}:{n}: program: a list of at most 64 texts expected")


def read_trace_file(path: Path | str) -> tuple[dict[str, Any] | None, list[Snapshot]]:
    """(header or None, snapshots) of a trace: a recorded one, or the lines of --json.

    Every line is checked against the format (ipcviz.model.tracecheck) before it becomes a
    Snapshot; a problem is a TraceError of one line: file, line number, field."""
    path = Path(path)
    text = _read_text(path)
    header = None
    snaps: list[Snapshot] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            raise TraceError(f"{path}:{n}: not a JSON line (a damaged or truncated trace)") \
                from None
        if not isinstance(data, dict):
            raise TraceError(f"{path}:{n}: not a snapshot")
        if data.get("trace") == "ipcviz":
            if n != 1 and snaps:
                raise TraceError(f"{path}:{n}: a second trace header")
            _check_header(path, n, data)
            header = data
            continue
        if len(snaps) >= MAX_SNAPSHOTS:
            raise TraceError(f"{path}:{n}: more than {MAX_SNAPSHOTS} snapshots, the most a "
                             "trace may hold")
        try:
            check_snapshot(data)
        except TraceSchemaError as err:
            raise TraceError(f"{path}:{n}: {printable(str(err))}") from None
        try:
            snaps.append(snapshot_from_dict(data))
        except (TypeError, KeyError, ValueError, AttributeError) as err:
            raise TraceError(f"{path}:{n}: not a snapshot of this format "
                             f"({printable(str(err))})") from None
    if not snaps:
        raise TraceError(f"{path}: no snapshot in the file")
    if [s.step for s in snaps] != list(range(len(snaps))):
        raise TraceError(f"{path}: steps are not 0, 1, 2, ... (a damaged or edited trace)")
    return header, snaps


def read_trace(path: Path | str) -> list[Snapshot]:
    return read_trace_file(path)[1]


def load_recording(path: Path | str) -> tuple[Scenario, list[Snapshot]]:
    """(scenario, snapshots) of a recorded trace, whose header carries its scenario.

    Raises TraceError (one line) for a damaged or old trace, one without a scenario, or
    one with more steps than its scenario has."""
    from ..scenario import ScenarioError, loads

    header, snaps = read_trace_file(path)
    if header is not None and header.get("program") and not header.get("source"):
        from .traced import traced_scenario

        return traced_scenario(header["scenario"], header["program"], snaps), snaps
    if header is None or not header.get("source"):
        raise TraceError(f"{path}: this trace carries no scenario (record it with "
                         "'ipcviz run NAME --headless --record FILE')")
    try:
        scenario = loads(header["source"], f"{path} (embedded scenario)", header["scenario"])
    except ScenarioError as err:
        raise TraceError(str(err)) from None
    if len(snaps) > len(scenario.steps) + 1:
        raise TraceError(f"{path}: {len(snaps) - 1} steps recorded, the lesson has "
                         f"{len(scenario.steps)}")
    return scenario, snaps

