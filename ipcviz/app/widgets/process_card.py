"""One process of the scenario: who it is, what the kernel says it is doing, its fd table."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ...model import provenance
from ...model.snapshot import (
    BLOCKED,
    EXITED,
    RUNNING,
    SLEEPING,
    STOPPED,
    ZOMBIE,
    Process,
    Snapshot,
)
from ...scenario.model import WATCHED, Scenario
from ...textsafe import printable
from .. import words
from ..i18n import lang_of, tr
from .signals import (
    GRID_WIDE,
    any_set,
    deliveries,
    delivery_content,
    signal_grid,
    signal_summary,
)
from .sources import sources_content

STATE_STYLE = {
    RUNNING: "b $text-success",
    BLOCKED: "b $text-error",
    SLEEPING: "$text-muted",
    STOPPED: "b $text-warning",
    ZOMBIE: "b $text-accent",
    EXITED: "$text-muted",
}
STATE_MARK = {RUNNING: "▶", BLOCKED: "■", SLEEPING: "○", STOPPED: "‖", ZOMBIE: "☠", EXITED: "✕"}


class ProcessCard(Static):
    """A card per process: name, PID, parent, state, current call, fd table, C line."""

    DEFAULT_CSS = """
    ProcessCard {
        width: 1fr;
        min-width: 28;
        height: auto;
        border: round $foreground 40%;
        border-title-style: bold;
        border-title-color: $foreground;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    ProcessCard.-blocked { border: heavy $error; border-title-color: $text-error; }
    ProcessCard.-running { border: round $success; }
    ProcessCard.-stopped { border: heavy $warning; }
    ProcessCard.-zombie { border: dashed $accent; }
    ProcessCard.-exited, ProcessCard.-unborn { border: dashed $foreground 25%; color: $text-muted; }
    ProcessCard.-current { border-title-background: $accent 30%; }
    """

    def __init__(self, name: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.process_name = name
        self.scenario = scenario
        self.border_title = name
        self.lang = "en"  # the app's language when the card was last drawn
        self.process: Process | None = None
        self.delivered: list = []  # signals.Delivery of the shown step that reached it
        self.signal_mode = ""  # "", "summary", "grid" or "grid16": how its signal sets show
        self._shown: tuple[Snapshot, bool] | None = None
        self._drawn_key: tuple | None = None  # what the card shows now (see show)
        self.folded = False  # one line: the state (the stage folds cards out of focus)

    def fold(self, folded: bool) -> None:
        """Show only the state line (True) or everything (False); the stage's layout pass
        folds the cards of processes the step is not about."""
        if folded == self.folded:
            return
        self.folded = folded
        self.set_class(folded, "-folded")
        if self._shown is not None:
            self.show(*self._shown)

    def on_resize(self) -> None:
        """The signal grid needs the room of a wide card: redraw when that changes."""
        if self._shown is not None and self.signal_mode and \
                self._signal_mode(self.process, *self._shown) != self.signal_mode:
            self.show(*self._shown)

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        self._shown = (snapshot, sources)
        p = snapshot.process_named(self.process_name)
        self.process = p
        self.delivered = [d for d in deliveries(snapshot, self.scenario)
                          if d.receiver == self.process_name]
        self.signal_mode = self._signal_mode(p, snapshot, sources)
        # Everything the card draws comes from these: when none changed, neither does the
        # card (with 64 processes, most cards stay as they are from one step to the next).
        waited = snapshot.object_named(p.waits_on) if p is not None and p.waits_on else None
        lang = self.lang = lang_of(self)
        key = (p, sources, snapshot.process == self.process_name, tuple(self.delivered),
               self.signal_mode, waited, self._last_call(snapshot), lang, self.folded)
        if key == self._drawn_key:
            return
        self._drawn_key = key
        state = p.state if p else "unborn"
        for s in (*STATE_STYLE, "unborn"):
            self.set_class(s == state, f"-{s}")
        self.set_class(snapshot.process == self.process_name, "-current")
        if p is None:
            self.border_title = self.process_name  # no PID of another snapshot's process
            self.border_subtitle = tr("unborn", lang)
            self.update(self._unborn())
            return
        self.border_title = f"{p.name}  PID {p.pid}"
        parent = p.parent or "ipcviz"
        self.border_subtitle = (tr("parent_is", lang, parent=parent)
                                if p.state == EXITED or not p.ppid
                                else tr("ppid_is", lang, ppid=p.ppid, parent=parent))
        body = self._body(p, snapshot)
        if self.folded:
            self.update(body.split("\n")[0])
            return
        if sources:
            body = Content("\n").join([body, sources_content(provenance.for_process(p))])
        self.update(body)

    def _unborn(self) -> Content:
        spec = self.scenario.process(self.process_name)
        fork = words.fork_step(self.scenario, self.process_name)
        lang = self.lang
        when = (tr("forks_it", lang, parent=spec.parent, step=fork.number) if fork
                else tr("started_by_ipcviz", lang))
        lines = [Content.styled(tr("unborn", lang), "italic"), Content(when)]
        if self.folded:
            return Content(when)
        if spec.description:
            lines.append(Content.styled(printable(spec.description), "dim"))  # the file's
        return Content("\n").join(lines)

    def _body(self, p: Process, snapshot: Snapshot) -> Content:
        lines: list[Content] = []
        lang = self.lang
        style = STATE_STYLE.get(p.state, "")
        lines.append(Content.assemble((f"{STATE_MARK.get(p.state, '?')} ", style),
                                      (words.state_words(p, snapshot, lang, self.scenario), style)))
        reason = words.blocked_reason(p, snapshot, lang)
        if reason:
            lines.append(Content.styled(f"  {reason}", "$text-error"))
        if p.state in (BLOCKED, STOPPED) and p.syscall:
            args = ", ".join(_arg(p.syscall, i, a) for i, a in enumerate(p.syscall_args[:3]))
            lines.append(Content.assemble(("syscall ", "$text-muted"), f"{p.syscall}({args})"))
        if p.site is not None and p.state in (BLOCKED, STOPPED):  # a watched program's line
            lines.append(Content.assemble(("called ", "$text-muted"), (p.site.describe(),
                                                                      "bold")))
        if p.wchan and p.state in (BLOCKED, STOPPED, RUNNING):
            lines.append(Content.assemble(("wchan ", "$text-muted"), p.wchan))
        lines += [delivery_content(d, lang=lang) for d in self.delivered]
        if self.signal_mode and p.signals is not None:
            hot = {d.signal for d in self.delivered}
            lines.append(signal_grid(p.signals, self.content_region.width, hot, lang=lang)
                         if self.signal_mode.startswith("grid")
                         else signal_summary(p.signals, hot, lang=lang))
        if p.state not in (EXITED, ZOMBIE):
            lines.append(self._fds(p, snapshot))
        elif p.state == ZOMBIE:
            lines.append(Content.styled(tr("fds_closed", lang), "$text-muted"))
        last = self._last_call(snapshot)
        if last:
            lines.append(Content.assemble((tr("last_call", lang), "$text-muted"),
                                          (last, "italic")))
        return Content("\n").join(lines)

    def _signal_mode(self, p: Process | None, snapshot: Snapshot, sources: bool) -> str:
        """'' (nothing to show), 'summary' (one line), 'grid' (a wide card) or 'grid16'
        (sources on in a narrow card: the grid in two blocks of 16)."""
        if p is None or p.signals is None:
            return ""
        if not (self.scenario.mechanism == "signal" or any_set(p.signals)):
            return ""
        if self.content_region.width >= GRID_WIDE:
            return "grid"
        return "grid16" if sources else "summary"

    def _fds(self, p: Process, snapshot: Snapshot) -> Content:
        ours = self.scenario.mechanism != WATCHED  # a watched program's fds are all its own
        plumbing = [f for f in p.fds if ours and words.is_plumbing(f)]
        rest = [f for f in p.fds if f not in plumbing]
        waiting_fd = p.syscall_args[0] if p.state == BLOCKED and p.syscall_args else None
        rows = []
        if plumbing:
            nums = ",".join(str(f.fd) for f in plumbing)
            rows.append(Content.styled(tr("plumbing", self.lang, nums=nums), "$text-muted"))
        for f in rest:
            style = "b" if f.object else ""
            what = words.fd_words(f, self.lang, words.kind_of(snapshot, f.object))
            row = Content.assemble(("fd ", "$text-muted"), f"{f.fd} → ", (what, style))
            if f.fd == waiting_fd:
                row = Content.assemble(row, (tr("asleep_here", self.lang), "b $text-error"))
            rows.append(row)
        if not p.fds:
            rows.append(Content.styled(tr("no_fd", self.lang), "$text-muted"))
        return Content("\n").join(rows)

    def _last_call(self, snapshot: Snapshot) -> str | None:
        return _last_calls(snapshot).get(self.process_name)


_LAST: list = [None, {}]  # (snapshot, {process: last call}) of the snapshot last asked about


def _last_calls(snapshot: Snapshot) -> dict[str, str]:
    """Each process's last call in the log, found in one pass per snapshot (not per card)."""
    if _LAST[0] is not snapshot:
        last: dict[str, str] = {}
        for e in snapshot.log:
            if e.outcome != "handled":
                last[e.process] = e.call
        _LAST[0], _LAST[1] = snapshot, last
    return _LAST[1]


def _arg(syscall: str, i: int, a: int) -> str:
    """A syscall argument: small numbers and IPC ids in decimal, addresses shortened
    (0x7ff4…0080)."""
    text = provenance.arg_text(syscall, i, a)
    return f"{text[:6]}…{text[-4:]}" if text.startswith("0x") and len(text) > 12 else text
