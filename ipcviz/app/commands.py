"""Command palette: find any scenario by its name or by words of its title."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .access import ipcviz_app


class ScenarioProvider(Provider):
    """Scenarios by 'pipe/eof', 'EOF', 'full blocks writer', ..."""

    def _entries(self):
        return ipcviz_app(self).entries

    async def discover(self) -> Hits:
        app = ipcviz_app(self)
        for e in self._entries():
            yield DiscoveryHit(f"Open {e.name}: {e.title}", partial(app.open_scenario, e.name),
                               help=e.summary or f"{e.steps} steps")

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
                yield Hit(score, matcher.highlight(text), partial(app.open_scenario, e.name),
                          help=e.summary or f"{e.steps} steps")
