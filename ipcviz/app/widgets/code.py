"""Each process's 'program': the C code of its steps in order, its current line marked."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ...model.snapshot import Snapshot
from ...scenario.model import Scenario
from .. import words


class CodeView(Static):
    DEFAULT_CSS = """
    CodeView { height: auto; padding: 0 1; }
    """

    def __init__(self, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario = scenario

    def show(self, snapshot: Snapshot) -> None:
        blocks: list[Content] = []
        for spec in self.scenario.processes:
            p = snapshot.process_named(spec.name)
            last = p.step if p else None
            rows = [Content.styled(f"{spec.name}:", "b $text-secondary")]
            for number, lines in words.program_of(self.scenario, spec.name):
                done = last is not None and number <= last
                for i, line in enumerate(lines):
                    num = f"{number:>2} " if i == 0 else "   "
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
        self.update(Content("\n").join(blocks))
