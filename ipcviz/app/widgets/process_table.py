"""User space as a table, one line per process: for lessons with many processes.

Sixty-four cards neither fit a projector nor draw fast; one line each says the same
things (state in words and colour, the call it sleeps in, its fds) and is one widget to
redraw per snapshot.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ...model.snapshot import Snapshot
from ...scenario.model import Scenario
from .. import words
from ..i18n import lang_of, tr
from .process_card import STATE_MARK, STATE_STYLE

MANY = 16  # above this many processes the stage shows this table instead of cards


class ProcessTable(Static):
    DEFAULT_CSS = """
    ProcessTable { height: auto; width: 1fr; padding: 0 1; }
    """

    def __init__(self, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario = scenario
        self._drawn: tuple | None = None
        self._lines_drawn = -1

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = lang_of(self)
        key = (snapshot.processes, snapshot.process, sources, lang)
        if key == self._drawn:
            return
        self._drawn = key
        by_name = {p.name: p for p in snapshot.processes}
        width = max(len(s.name) for s in self.scenario.processes)
        lines: list[Content] = []
        for spec in self.scenario.processes:
            p = by_name.get(spec.name)
            current = snapshot.process == spec.name
            name = Content.styled(f"{spec.name:<{width}}", "b reverse" if current else "b")
            if p is None:
                lines.append(Content.assemble(name, (tr("pt_not_forked", lang), "$text-muted")))
                continue
            state = Content.styled(f"{STATE_MARK.get(p.state, ' ')} "
                                   f"{words.state_words(p, snapshot, lang)}",
                                   STATE_STYLE.get(p.state, ""))
            fds = " ".join(words.fd_words(f, lang) for f in p.fds if not words.is_plumbing(f))
            parts = [name, f"  {p.pid:>7}  ", state]
            if fds:
                parts += [(tr("pt_fds", lang), "$text-muted"), fds]
            lines.append(Content.assemble(*parts))
        counts: dict[str, int] = {}
        for p in snapshot.processes:
            counts[p.state] = counts.get(p.state, 0) + 1
        summary = ("，" if lang == "zh" else ", ").join(
            f"{n} {_state(s, lang)}" for s, n in sorted(counts.items()))
        head = Content.styled(tr("pt_head", lang, n=len(snapshot.processes), summary=summary),
                              "$text-muted")
        # One line per process of the scenario, whatever happens: the height never changes
        # after the first draw, so the screen need not be laid out again (the costly part).
        self.update(Content("\n").join([head, *lines]), layout=self._lines_drawn != len(lines))
        self._lines_drawn = len(lines)


def _state(state: str, lang: str) -> str:
    """A process state's name in the summary line (the model's word in English)."""
    if lang == "en":
        return state
    try:
        return tr(f"pt_state_{state}", lang)
    except KeyError:
        return state
