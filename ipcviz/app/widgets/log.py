"""The strace-like log: every call of the run so far and what it returned."""

from __future__ import annotations

from textual.content import Content

from ...model.snapshot import BLOCKED, FAILED, KILLED, LogEntry
from .. import words
from .lines import LineScroll

OUTCOME_STYLE = {BLOCKED: "b $text-error", FAILED: "b $text-warning", KILLED: "b $text-error"}
EMPTY = "(no calls yet)"


class SyscallLog(LineScroll):
    """Drawn line by line: a step adds a line or two to a log of hundreds, and only those
    (and the line that stops being the current step's) are rendered again."""

    DEFAULT_CSS = """
    SyscallLog { height: 1fr; padding: 0 1; overflow-x: hidden; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(wrap=True, id=id)  # a long call wraps, as strace's would
        self._shown: tuple[LogEntry, ...] | None = None
        self._made: dict[tuple[LogEntry, bool], Content] = {}

    def on_mount(self) -> None:
        super().on_mount()
        if self._shown is None:
            self.set_lines([Content.styled(EMPTY, "$text-muted")])

    def show(self, entries: tuple[LogEntry, ...], current_step: int) -> None:
        if entries == self._shown:
            return
        self._shown = entries
        made: dict[tuple[LogEntry, bool], Content] = {}
        lines: list[Content] = []
        for e in entries:
            key = (e, e.step == current_step)
            try:
                line = made[key] = self._made.get(key) or render_entry(*key)
            except TypeError:  # a result that is a list: not hashable, drawn every time
                line = render_entry(*key)
            lines.append(line)
        self._made = made  # the rows of this log only: history of other runs is not kept
        self.set_lines(lines or [Content.styled(EMPTY, "$text-muted")])
        self.scroll_end(animate=False, immediate=True, x_axis=False)


def render_entry(e: LogEntry, current: bool) -> Content:
    who, call, out = words.log_line(e)
    style = OUTCOME_STYLE.get(e.outcome, "")
    return Content.assemble((f"{e.step:>2} ", "$text-muted"), (who, "$text-secondary"), " ",
                            (call, "b" if current else ""), " ", (out, style))
