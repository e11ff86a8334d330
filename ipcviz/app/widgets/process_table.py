"""User space as a table, one line per process: for lessons with many processes.

Sixty-four cards neither fit a projector nor draw fast; one line each says the same
things (state in words and colour, the call it sleeps in, its fds).  Drawn line by line
(LineBlock): a step that wakes one process redraws that process's line and the summary.
"""

from __future__ import annotations

from textual.content import Content

from ...model.snapshot import Snapshot
from ...scenario.model import Scenario
from .. import words
from ..i18n import add_texts, lang_of, tr
from .lines import LineBlock
from .process_card import STATE_MARK, STATE_STYLE

MANY = 16  # above this many processes the stage shows this table instead of cards

# The words of the process table: key -> (English, Chinese), read with i18n.tr().
TEXTS: dict[str, tuple[str, str]] = {
    "pt_not_forked": ("  not forked yet", "  尚未 fork"),
    "pt_fds": ("   fds: ", "   fd："),
    "pt_head": ("{n} processes: {summary}", "{n} 个进程：{summary}"),
    "pt_state_running": ("running", "运行中"),
    "pt_state_blocked": ("blocked", "阻塞"),
    "pt_state_sleeping": ("sleeping", "睡眠"),
    "pt_state_stopped": ("stopped", "已停止"),
    "pt_state_zombie": ("zombie", "僵尸"),
    "pt_state_exited": ("exited", "已退出"),
    "pt_more": ("  … {n} more: in the counts above, or not forked yet",
                "  … 另有 {n} 个：已计入上方，或尚未 fork"),
}
add_texts(TEXTS)


class ProcessTable(LineBlock):
    DEFAULT_CSS = """
    ProcessTable { height: auto; width: 1fr; padding: 0 1; }
    """

    def __init__(self, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario = scenario
        self._drawn: tuple | None = None
        self._rows: dict[tuple, Content] = {}
        # None: a line for every process.  A tuple of names: the crowd summarised, the
        # head line (counts by state) then a line for each of these (the step's focus).
        self.only: tuple[str, ...] | None = None
        self._order: list[str] = []  # the process of each line after the head

    def summarise(self, only: tuple[str, ...] | None) -> None:
        """Show only these processes' lines under the counts (None: every process)."""
        if only != self.only:
            self.only = only
            if self._drawn is not None:
                snapshot, sources = self._drawn_args
                self._drawn = None
                self.show(snapshot, sources)

    def rows_of(self, name: str) -> list[int] | None:
        """The rows (from the widget's top) that show process `name`: the head line and
        its own line; None when it has no line now."""
        try:
            return [0, self._order.index(name) + 1]
        except ValueError:
            return None

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = lang_of(self)
        key = (snapshot.processes, snapshot.process, sources, lang, self.only)
        self._drawn_args = (snapshot, sources)
        if key == self._drawn:
            return
        self._drawn = key
        by_name = {p.name: p for p in snapshot.processes}
        width = max(len(s.name) for s in self.scenario.processes)
        rows: dict[tuple, Content] = {}
        lines: list[Content] = []
        names = [spec.name for spec in self.scenario.processes]
        if self.only is not None:
            names = [n for n in self.only if n in names]
        self._order = names
        for name in names:
            spec = self.scenario.process(name)
            p = by_name.get(spec.name)
            waits = snapshot.object_named(p.waits_on) if p and p.waits_on else None
            key = (spec.name, p, snapshot.process == spec.name, lang,
                   waits.kind if waits else None)
            try:
                line = rows[key] = self._rows.get(key) or self._line(
                    spec.name, width, p, key[2], snapshot, lang)
            except TypeError:  # something unhashable in the process: drawn every time
                line = self._line(spec.name, width, p, key[2], snapshot, lang)
            lines.append(line)
        self._rows = rows  # a step changes a line or two: the others are kept as they were
        counts: dict[str, int] = {}
        for p in snapshot.processes:
            counts[p.state] = counts.get(p.state, 0) + 1
        summary = ("，" if lang == "zh" else ", ").join(
            f"{n} {_state(s, lang)}" for s, n in sorted(counts.items()))
        head = Content.styled(tr("pt_head", lang, n=len(snapshot.processes), summary=summary),
                              "$text-muted")
        # One line per process of the scenario, whatever happens: the height never changes
        # after the first draw, so the screen need not be laid out again (the costly part).
        # Summarised, a line per focus process and one saying how many are not listed.
        rest = []
        if self.only is not None and len(names) < len(self.scenario.processes):
            rest = [Content.styled(
                tr("pt_more", lang, n=len(self.scenario.processes) - len(names)), "dim")]
        self.set_lines([head, *lines, *rest])

    def _line(self, name: str, width: int, p, current: bool, snapshot: Snapshot,
              lang: str) -> Content:
        label = Content.styled(f"{name:<{width}}", "b reverse" if current else "b")
        if p is None:
            return Content.assemble(label, (tr("pt_not_forked", lang), "$text-muted"))
        state = Content.styled(f"{STATE_MARK.get(p.state, ' ')} "
                               f"{words.state_words(p, snapshot, lang, self.scenario)}",
                               STATE_STYLE.get(p.state, ""))
        fds = " ".join(words.fd_words(f, lang, words.kind_of(snapshot, f.object))
                       for f in p.fds if not words.is_plumbing(f))
        parts = [label, f"  {p.pid:>7}  ", state]
        if fds:
            parts += [(tr("pt_fds", lang), "$text-muted"), fds]
        return Content.assemble(*parts)


def _state(state: str, lang: str) -> str:
    """A process state's name in the summary line (the model's word in English)."""
    if lang == "en":
        return state
    try:
        return tr(f"pt_state_{state}", lang)
    except KeyError:
        return state
