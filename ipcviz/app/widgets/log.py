"""The strace-like log: every call of the run so far and what it returned."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from ...model.snapshot import BLOCKED, FAILED, KILLED, LogEntry
from .. import words

OUTCOME_STYLE = {BLOCKED: "b $text-error", FAILED: "b $text-warning", KILLED: "b $text-error"}


class SyscallLog(VerticalScroll):
    DEFAULT_CSS = """
    SyscallLog { height: 1fr; }
    SyscallLog > Static { width: 1fr; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[LogEntry, ...] | None = None

    def compose(self):
        yield Static(Content.styled("(no calls yet)", "$text-muted"))

    def show(self, entries: tuple[LogEntry, ...], current_step: int) -> None:
        if entries == self._shown:
            return
        self._shown = entries
        rows = [render_entry(e, e.step == current_step) for e in entries]
        body = Content("\n").join(rows) if rows else Content.styled("(no calls yet)",
                                                                     "$text-muted")
        self.query_one(Static).update(body)
        self.call_after_refresh(self.scroll_end, animate=False)


def render_entry(e: LogEntry, current: bool) -> Content:
    who, call, out = words.log_line(e)
    style = OUTCOME_STYLE.get(e.outcome, "")
    return Content.assemble((f"{e.step:>2} ", "$text-muted"), (who, "$text-secondary"), " ",
                            (call, "b" if current else ""), " ", (out, style))
