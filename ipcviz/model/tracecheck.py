"""The schema check of a trace line: a trace is input, not code.

A trace (JSON lines written by `--record`, read by `replay` and `export --trace`) may have
been edited, damaged or made to hurt.  Before a line becomes a Snapshot, every field is
checked against the type its dataclass declares (`int`, `str | None`, `tuple[Fd, ...]`,
...), so everything downstream can trust the types.  A problem is one line naming the field
(`processes[2].name: a text expected, got an object`); sizes are capped by named constants.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, fields, is_dataclass
from typing import Any

from .snapshot import (
    OBJECT_KINDS,
    Check,
    Exit,
    Fd,
    LogEntry,
    ObjectState,
    Process,
    Signals,
    Site,
    Snapshot,
)

# Caps: a recorded lesson is far below each (the largest shipped trace is 0.2 MB, 40
# snapshots, 8 processes, 6 objects, 130 log lines); a trace past one is refused.
MAX_TRACE_BYTES = 32 * 1024 * 1024  # the whole file
MAX_SNAPSHOTS = 2_000  # lines of a trace (a lesson has at most a few hundred steps)
MAX_PROCESSES = 256  # per snapshot
MAX_OBJECTS = 256  # per snapshot
MAX_LOG = 20_000  # log entries per snapshot (each snapshot carries the log so far)
MAX_ITEMS = 4_096  # any other list (fds of a process, messages of a queue, ...)
MAX_TEXT = 256 * 1024  # characters of one text (shared memory is shown as hex of its bytes)
MAX_INT = 2**64  # a number's magnitude: the kernel has no larger counter
MAX_DEPTH = 4  # nesting of a free-form value (a call's result, an observed value)

_LIST_CAPS = {"processes": MAX_PROCESSES, "objects": MAX_OBJECTS, "log": MAX_LOG}
_CLASSES: dict[str, type] = {c.__name__: c for c in
                             (Check, Exit, Fd, LogEntry, ObjectState, Process, Signals,
                              Site)}


class TraceSchemaError(ValueError):
    """A line of a trace does not match the format; str() names the field."""


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _bad(where: str, wanted: str, value: Any) -> TraceSchemaError:
    return TraceSchemaError(f"{where}: {wanted} expected, got {_kind_of(value)}")


def _number(where: str, value: Any, integer: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(where, "an integer" if integer else "a number", value)
    if integer and not isinstance(value, int):
        raise _bad(where, "an integer", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise TraceSchemaError(f"{where}: a finite number expected")
    if abs(value) > MAX_INT:
        raise TraceSchemaError(f"{where}: {value:.3g} is past the largest number "
                               f"a trace may hold (2**64)")


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(where, "a text", value)
    if len(value) > MAX_TEXT:
        raise TraceSchemaError(f"{where}: a text of {len(value)} characters (at most "
                               f"{MAX_TEXT})")
    return value


def _list(where: str, value: Any, cap: int) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(where, "a list", value)
    if len(value) > cap:
        raise TraceSchemaError(f"{where}: {len(value)} items (at most {cap})")
    return value


def _free(where: str, value: Any, depth: int = 0) -> None:
    """A free-form value (`Any`): numbers, texts, lists and objects of them, bounded."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        _number(where, value, integer=False)
    elif isinstance(value, str):
        _text(where, value)
    elif depth >= MAX_DEPTH:
        raise TraceSchemaError(f"{where}: nested more than {MAX_DEPTH} deep")
    elif isinstance(value, list):
        for i, v in enumerate(_list(where, value, MAX_ITEMS)):
            _free(f"{where}[{i}]", v, depth + 1)
    else:
        if len(value) > MAX_ITEMS:
            raise TraceSchemaError(f"{where}: {len(value)} keys (at most {MAX_ITEMS})")
        for k, v in value.items():
            _free(f"{where}.{k}", v, depth + 1)


def _split_union(spec: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in spec:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "|" and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts


def _check(where: str, spec: str, value: Any) -> None:
    """value (parsed JSON) against a field's declared type, as written in the dataclass."""
    options = _split_union(spec)
    if len(options) > 1:
        _check_optional(where, spec, options, value)
        return
    if spec == "Any":
        _free(where, value)
    elif spec == "int":
        _number(where, value, integer=True)
    elif spec == "float":
        _number(where, value, integer=False)
    elif spec == "str":
        _text(where, value)
    elif spec == "bool":
        if not isinstance(value, bool):
            raise _bad(where, "true/false", value)
    elif spec == "tuple":  # rows of plain values (a queue's messages)
        _check_rows(where, value)
    elif spec.startswith("tuple[") and spec.endswith(", ...]"):
        item = spec[len("tuple["):-len(", ...]")]
        name = where.rsplit(".", 1)[-1]
        for i, v in enumerate(_list(where, value, _LIST_CAPS.get(name, MAX_ITEMS))):
            _check(f"{where}[{i}]", item, v)
    elif spec in _CLASSES:
        check_record(where, _CLASSES[spec], value)
    else:
        raise TraceSchemaError(f"{where}: unsupported type {spec}")  # not in the model


def _check_optional(where: str, spec: str, options: list[str], value: Any) -> None:
    """value against a union: X | None is the only one the model has."""
    if value is None and "None" in options:
        return
    rest = [o for o in options if o != "None"]
    if len(rest) == 1:
        _check(where, rest[0], value)
        return
    raise TraceSchemaError(f"{where}: unsupported type {spec}")  # not in the model


# A queue's message row: (type or priority, size in bytes, preview text, sender or None).
_MESSAGE_ROW = ("int", "int", "str", "str | None")


def _check_rows(where: str, value: Any) -> None:
    for i, row in enumerate(_list(where, value, MAX_ITEMS)):
        cells = _list(f"{where}[{i}]", row, len(_MESSAGE_ROW))
        if len(cells) != len(_MESSAGE_ROW):
            raise TraceSchemaError(f"{where}[{i}]: {len(cells)} values, a message has "
                                   f"{len(_MESSAGE_ROW)} (type, size, text, sender)")
        for j, (spec, cell) in enumerate(zip(_MESSAGE_ROW, cells)):
            _check(f"{where}[{i}][{j}]", spec, cell)


def check_record(where: str, cls: type, value: Any) -> None:
    """A JSON object against the fields of dataclass `cls` (unknown keys are ignored, as
    the reader ignores them)."""
    if not isinstance(value, dict):
        raise _bad(where or "the line", "an object", value)
    if cls is ObjectState:
        kind = _text(f"{where}.kind", value.get("kind"))
        cls = OBJECT_KINDS.get(kind, ObjectState)
    assert is_dataclass(cls)
    for f in fields(cls):
        at = f"{where}.{f.name}" if where else f.name
        if f.name not in value:
            if f.default is MISSING and f.default_factory is MISSING:
                raise TraceSchemaError(f"{at}: missing")
            continue
        _check(at, str(f.type), value[f.name])


def check_snapshot(data: Any) -> None:
    """Raise TraceSchemaError (one line, naming the field) unless `data` is a snapshot."""
    check_record("", Snapshot, data)


__all__ = ["MAX_ITEMS", "MAX_LOG", "MAX_OBJECTS", "MAX_PROCESSES", "MAX_SNAPSHOTS",
           "MAX_TEXT", "MAX_TRACE_BYTES", "TraceSchemaError", "check_snapshot"]
