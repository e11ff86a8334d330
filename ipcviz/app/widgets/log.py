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
        self._step = 0  # the step whose calls were drawn in bold
        self._drawn: list[Content] = []  # the line drawn for each entry of _shown

    def on_mount(self) -> None:
        super().on_mount()
        if self._shown is None:
            self.set_lines([Content.styled(EMPTY, "$text-muted")])

    def on_resize(self) -> None:
        super().on_resize()
        # Hidden (c, or a narrow screen) it had no size to scroll in: shown again, or
        # resized, it shows the latest calls.
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def show(self, entries: tuple[LogEntry, ...], current_step: int) -> None:
        if entries == self._shown and current_step == self._step:
            return
        lines: list[Content] = []
        before, before_step, drawn = self._shown or (), self._step, self._drawn
        for i, e in enumerate(entries):
            if i < len(before) and before[i] is e and \
                    (e.step == before_step) == (e.step == current_step):
                lines.append(drawn[i])  # the same entry, drawn the same: as it was
                continue
            lines.append(render_entry(e, e.step == current_step))
        self._shown, self._drawn, self._step = entries, lines, current_step
        self.set_lines(lines or [Content.styled(EMPTY, "$text-muted")])
        self.scroll_end(animate=False, immediate=True, x_axis=False)


def render_entry(e: LogEntry, current: bool) -> Content:
    who, call, out = words.log_line(e)
    style = OUTCOME_STYLE.get(e.outcome, "")
    return Content.assemble((f"{e.step:>2} ", "$text-muted"), (who, "$text-secondary"), " ",
                            (call, "b" if current else ""), " ", (out, style))
