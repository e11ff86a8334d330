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

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        key = (snapshot.processes, snapshot.process, sources)
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
                lines.append(Content.assemble(name, ("  not forked yet", "$text-muted")))
                continue
            state = Content.styled(f"{STATE_MARK.get(p.state, ' ')} "
                                   f"{words.state_words(p, snapshot)}",
                                   STATE_STYLE.get(p.state, ""))
            fds = " ".join(words.fd_words(f) for f in p.fds if not words.is_plumbing(f))
            parts = [name, f"  {p.pid:>7}  ", state]
            if fds:
                parts += [("   fds: ", "$text-muted"), fds]
            lines.append(Content.assemble(*parts))
        counts: dict[str, int] = {}
        for p in snapshot.processes:
            counts[p.state] = counts.get(p.state, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        head = Content.styled(f"{len(snapshot.processes)} processes: {summary}", "$text-muted")
        self.update(Content("\n").join([head, *lines]))
