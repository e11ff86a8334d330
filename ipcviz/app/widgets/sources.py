"""Provenance annotations: where a shown value came from, and how to see it yourself."""

from __future__ import annotations

from collections.abc import Iterable

from textual.content import Content

from ...model.provenance import Source


def sources_content(sources: Iterable[Source]) -> Content:
    """Two lines per source: 'field = value ← interface' and '$ command' (or the note)."""
    parts: list[Content] = [Content.styled("where these values come from", "b $text-secondary")]
    for s in sources:
        parts.append(Content.assemble((f"{s.field} ", "b"), (s.value, "$text-primary")))
        if s.command:
            parts.append(Content.assemble(("  $ ", "$text-muted"), (s.command, "$text-success")))
        parts.append(Content.styled(f"  from {s.interface}", "$text-muted"))
        if s.note:
            parts.append(Content.styled(f"  ({s.note})", "$text-muted italic"))
    return Content("\n").join(parts)
