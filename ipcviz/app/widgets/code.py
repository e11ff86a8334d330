"""Each process's 'program': the C code of its steps in order, its current line marked."""

from __future__ import annotations

from textual.content import Content

from ...model.snapshot import Site, Snapshot
from ...scenario.model import Scenario
from ...textsafe import printable
from .. import words
from .lines import LineScroll
from .process_table import MANY


class CodeView(LineScroll):
    """Drawn line by line: a step moves the marker, and only the lines it left and reached
    are rendered again (a crowd lesson's main program has a line per step)."""

    DEFAULT_CSS = """
    CodeView { padding: 0 1; }
    """

    def __init__(self, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario = scenario
        # Rows by (number, text, look): a lesson's rows are few, and a step changes the
        # look of two or three of them.
        self._made: dict[tuple[str, str, str], Content] = {}
        self._programs: dict[str, list[tuple[int, list[str]]]] = {}

    def show(self, snapshot: Snapshot) -> int | None:
        """Draw the programs, the step just run in view; returns its line.

        With many processes (a crowd lesson) only the programs of the processes this step
        involved are drawn: the one that ran it and any it woke."""
        rows: list[Content] = []
        current: int | None = None
        specs = self.scenario.processes
        if len(specs) > MANY:
            involved = {snapshot.process} | {
                e.process for e in snapshot.log[len(snapshot.log) - snapshot.fresh:]}
            specs = tuple(sp for sp in specs if sp.name in involved)
            note = Content.styled(f"{len(self.scenario.processes)} processes: the programs "
                                  "of this step's processes", "$text-muted")
            rows.append(note)
        for spec in specs:
            p = snapshot.process_named(spec.name)
            rows.append(Content.styled(f"{spec.name}:", "b $text-secondary"))
            if p is not None and p.site is not None and p.site.context:
                rows += _site_rows(p.site)  # a watched program: its own source, marked
            found = self._program_rows(spec.name, p.step if p else None, snapshot.step, rows)
            current = found if current is None else current
        self.set_lines(rows)
        self._current = current
        self.reveal()
        return current

    _current: int | None = None  # the line of the step just run

    def _program_rows(self, name: str, last: int | None, step: int, rows: list[Content]
                      ) -> int | None:
        """Append the rows of NAME's program (its last step LAST) to ROWS; the row of the
        step just run (STEP), if it is this process's."""
        current = None
        for number, lines in self._program(name):
            done = last is not None and number <= last
            for i, line in enumerate(lines):
                num = f"{number:>2} " if i == 0 else "   "
                if number == step and i == 0 and current is None:
                    current = len(rows)
                kind = (NOW if number == last and number == step else
                        LAST if number == last else DONE if done else TODO)
                key = (num, line, kind)
                row = self._made.get(key)
                if row is None:
                    row = self._made[key] = _row(num, line, kind)
                rows.append(row)
        return current

    def _program(self, name: str) -> list[tuple[int, list[str]]]:
        """A process's program: the lesson's, so made once, not at every snapshot."""
        found = self._programs.get(name)
        if found is None:
            found = self._programs[name] = words.program_of(self.scenario, name)
        return found

    def reveal(self) -> None:
        """Scroll the step just run into view, two lines from the top, if it is not."""
        line = self._current
        if line is not None and not self.shows_line(line):
            self.scroll_to(y=max(self.row_of(line) - 2, 0), animate=False, immediate=True)

    def on_resize(self) -> None:
        super().on_resize()
        self.reveal()  # shown again (c) or resized: the marked line in view


NOW, LAST, DONE, TODO = "now", "last", "done", "todo"  # a code line's look


def _site_rows(site: Site) -> list[Content]:
    """The source lines around a watched program's call, the call's line marked."""
    rows = [Content.styled(printable(f"  {site.file}"), "$text-muted")]
    for i, text in enumerate(site.context):
        number = (site.context_start or 1) + i
        rows.append(_row(f"{number:>4} ", text.expandtabs(4),
                         NOW if number == site.line else DONE))
    return rows


def _row(num: str, line: str, kind: str) -> Content:
    line = printable(line)  # the lesson's C code: shown, its control characters escaped
    if kind == NOW:  # the step just run, by this process
        return Content.assemble(("▶", "b $text-accent"), (num, "b"), (line, "b reverse $accent"))
    if kind == LAST:  # this process's last step, run earlier
        return Content.assemble(("›", "b $text-secondary"), (num, "b"), (line, "b underline"))
    return Content.assemble(" ", (num, "$text-muted"), (line, "" if kind == DONE else
                                                      "$text-muted"))
