"""Text from a file, made safe to show on a terminal (no textual, no rich: the core uses it).

A lesson file or a trace is input, not code: its titles, names and narration may hold an
escape sequence (OSC 52 writes the clipboard, OSC 0 the window title, ESC [2J clears the
screen).  Every such text passes through `printable()` before it reaches a terminal, so a
control character is shown as what it is (`\\x1b`), never obeyed.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol, TypeVar, cast

_T = TypeVar("_T")

# C0 controls, DEL, C1 controls (0x80-0x9f: 0x9b is a one-byte CSI on some terminals), the
# line and paragraph separators, and the bidirectional overrides and isolates that reorder
# what is drawn (the "Trojan Source" characters).
_UNSAFE = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029,
           *range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def _shown(code: int) -> str:
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_ONE_LINE = {c: _shown(c) for c in _UNSAFE}
_MULTI_LINE = {c: v for c, v in _ONE_LINE.items() if c not in (0x09, 0x0A)}


def printable(text: object, multiline: bool = False) -> str:
    """`text` with every control character shown escaped (ESC becomes the four characters
    \\x1b).  A single-line field escapes newlines and tabs too, so it cannot forge a line of
    output; `multiline=True` keeps them (narration, a step's C code)."""
    if not isinstance(text, str):
        text = str(text)
    return text.translate(_MULTI_LINE if multiline else _ONE_LINE)


MULTILINE_FIELDS = frozenset({"narration", "code"})  # texts whose newlines are their own


def printable_data(value: _T, multiline: bool = False) -> _T:
    """`value` (a frozen dataclass such as a Snapshot, a tuple, a text) with every text
    made printable; the parts that needed nothing are the same objects (views compare log
    entries by identity), so a clean snapshot costs one isprintable() per text."""
    # of the same type: a text stays a str, a tuple a tuple, a dataclass its own class
    return cast(_T, _printable_data(value, multiline))


def _printable_data(value: object, multiline: bool) -> object:
    if isinstance(value, str):
        if value.isprintable():
            return value
        return printable(value, multiline)
    if isinstance(value, tuple):
        new = tuple(_printable_data(v, False) for v in value)
        return value if all(a is b for a, b in zip(new, value)) else new
    if isinstance(value, list):
        new_list = [_printable_data(v, False) for v in value]
        return value if all(a is b for a, b in zip(new_list, value)) else new_list
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes: dict[str, object] = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new_value = _printable_data(old, f.name in MULTILINE_FIELDS)
            if new_value is not old:
                changes[f.name] = new_value
        return dataclasses.replace(value, **changes) if changes else value
    return value


def is_printable(text: str, multiline: bool = False) -> bool:
    """True when printable(text) would change nothing."""
    return printable(text, multiline) == text


__all__ = ["SafeWriter", "is_printable", "printable", "printable_data"]


class _Stream(Protocol):
    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...


class SafeWriter:
    """A text stream whose every write passes through printable(multiline=True): wrap a
    terminal's stream with it where text from a file is printed, so no escape sequence can
    reach the terminal whatever a caller forgot."""

    def __init__(self, out: _Stream) -> None:
        self._out: _Stream = out.raw if isinstance(out, SafeWriter) else out

    @property
    def raw(self) -> _Stream:
        return self._out

    def write(self, text: str) -> int:
        return self._out.write(printable(text, multiline=True))

    def flush(self) -> None:
        self._out.flush()
