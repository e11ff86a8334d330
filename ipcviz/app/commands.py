"""Command palette: find any scenario by its name or by words of its title.

A lesson's title and summary come from a file: they are shown literally.  Textual parses
a hit's prompt and help as markup, so the prompt is given as Content (plain text) and the
help escaped; a title `[@click=app.quit]` is words in the palette, never an action."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.markup import escape

from ..textsafe import printable
from .access import ipcviz_app


def _plain(text: str) -> Content:
    return Content(printable(text))


def _help(e) -> str:
    return escape(printable(e.summary)) if e.summary else f"{e.steps} steps"


def _highlight(matcher: Matcher, text: str) -> Content:
    """matcher.highlight(text) without parsing text as markup (Textual's parses it)."""
    content = _plain(text)
    score, offsets = matcher.fuzzy_search.match(matcher.query, content.plain)
    if not score:
        return content
    for offset in offsets:
        if not content.plain[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class ScenarioProvider(Provider):
    """Scenarios by 'pipe/eof', 'EOF', 'full blocks writer', ..."""

    def _entries(self):
        return ipcviz_app(self).entries

    async def discover(self) -> Hits:
        app = ipcviz_app(self)
        for e in self._entries():
            yield DiscoveryHit(_plain(f"Open {e.name}: {e.title}"),
                               partial(app.open_scenario, e.name),
                               text=printable(f"Open {e.name}: {e.title}"), help=_help(e))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = ipcviz_app(self)
        for e in self._entries():
            text = f"{e.name} {e.title}"
            score = max(matcher.match(text), matcher.match(e.title), matcher.match(e.name))
            words_hit = all(w in f"{text} {e.summary}".lower() for w in query.lower().split())
            if words_hit and score == 0:
                score = 0.5
            if score > 0:
                yield Hit(score, _highlight(matcher, text),
                          partial(app.open_scenario, e.name), text=printable(text),
                          help=_help(e))
