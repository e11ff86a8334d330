"""Text from a lesson or a trace, as Content: literal (never markup), controls escaped.

Textual parses a str given to Static, update(), notify() or a palette hit as markup: a
title `x [/]` raises, `[@click=app.quit]` becomes an action, `buf[i]` loses `[i]`.  Every
text that came from a file reaches a widget through literal() (or Content(...) of text
already made printable)."""

from __future__ import annotations

from textual.content import Content

from ..textsafe import printable


def literal(text: object, multiline: bool = False) -> Content:
    """Plain Content of `text`: no markup parsed, control characters shown escaped."""
    return Content(printable("" if text is None else text, multiline))


__all__ = ["literal"]
