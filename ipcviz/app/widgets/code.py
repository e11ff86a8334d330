"""Each process's 'program': the C code of its steps in order, its current line marked."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ...model.snapshot import Snapshot
from ...scenario.model import Scenario
from .. import words
from .process_table import MANY


class CodeView(Static):
    DEFAULT_CSS = """
    CodeView { height: auto; width: auto; min-width: 100%; padding: 0 1; text-wrap: nowrap; }
    """

    def __init__(self, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario = scenario

    def show(self, snapshot: Snapshot) -> int | None:
        """Draw the programs; returns the line of the step just run (to scroll it into view).

        With many processes (a crowd lesson) only the programs of the processes this step
        involved are drawn: the one that ran it and any it woke."""
        blocks: list[Content] = []
        current: int | None = None
        y = 0
        specs = self.scenario.processes
        if len(specs) > MANY:
            involved = {snapshot.process} | {
                e.process for e in snapshot.log[len(snapshot.log) - snapshot.fresh:]}
            specs = tuple(sp for sp in specs if sp.name in involved)
            note = Content.styled(f"{len(self.scenario.processes)} processes: the programs "
                                  "of this step's processes", "$text-muted")
            blocks.append(note)
            y = 1
        for spec in specs:
            p = snapshot.process_named(spec.name)
            last = p.step if p else None
            rows = [Content.styled(f"{spec.name}:", "b $text-secondary")]
            for number, lines in words.program_of(self.scenario, spec.name):
                done = last is not None and number <= last
                for i, line in enumerate(lines):
                    num = f"{number:>2} " if i == 0 else "   "
                    if number == snapshot.step and i == 0 and current is None:
                        current = y + len(rows)
                    if number == last and number == snapshot.step:
                        rows.append(Content.assemble(("▶", "b $text-accent"), (num, "b"),
                                                     (line, "b reverse $accent")))
                    elif number == last:
                        rows.append(Content.assemble(("›", "b $text-secondary"), (num, "b"),
                                                     (line, "b underline")))
                    else:
                        style = "" if done else "$text-muted"
                        rows.append(Content.assemble(" ", (num, "$text-muted"), (line, style)))
            blocks.append(Content("\n").join(rows))
            y += len(rows)
        self.update(Content("\n").join(blocks))
        return current
