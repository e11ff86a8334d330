"""Signals on stage: a process's signal sets as a grid, the deliveries of a step, the pty.

A process's sets (pending, blocked, caught, ignored) come from /proc/PID/status, through
Process.signals; the card draws them with `signal_grid` (wide) or `signal_summary` (one
line).  `deliveries(snapshot, scenario)` turns the snapshot's newest log lines into "who sent
which signal to whom, and what became of it": kill() lines (sender and receiver from the
call and the PIDs of the snapshot), handler runs reported by the workers, processes killed
by a signal; where the signal came from something other than kill() (a typed key on a pty, a
fault, an alarm() timer, a child that ended) the scenario's step says which.  Nothing here is
guessed beyond that: a delivery the log does not show is not drawn.
"""

from __future__ import annotations

import re
import signal as _signal
from dataclasses import dataclass

from textual.content import Content
from textual.widgets import Static

from ...model import provenance
from ...model.signals import PtyState
from ...model.snapshot import (
    BLOCKED,
    EXITED,
    FAILED,
    KILLED,
    RETURNED,
    STOPPED,
    ZOMBIE,
    LogEntry,
    Process,
    Signals,
    Snapshot,
)
from ...scenario.model import Scenario, Step
from ..i18n import Note, add_texts, lang_of, note, say, tr
from ..i18n import cells as _cells
from .sources import sources_content

STD_LAST = 31  # standard signals are 1..31; SIGRTMIN..SIGRTMAX follow
SETS: tuple[tuple[str, str], ...] = (
    ("pending", "b $text-warning"),
    ("blocked", "b $text-error"),
    ("caught", "b $text-success"),
    ("ignored", "b $text-secondary"),
)
LABEL = 8  # width of the row labels of the grid ("pending ")
GRID_WIDE = LABEL + STD_LAST + 2  # a card this wide draws 1..31 on one row (+ the rt cell)
HIGHLIGHT = "on $accent 35%"

STOP_SIGNALS = ("SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU")

# The words of the signal parts (grid, deliveries, the pty): key -> (English, Chinese), read
# with i18n.tr().  An empty Chinese text falls back to the English: call names stay as in C.
TEXTS: dict[str, tuple[str, str]] = {
    "sig_set_pending": ("pending", "待决"),
    "sig_set_blocked": ("blocked", "阻塞"),
    "sig_set_caught": ("caught", "捕获"),
    "sig_set_ignored": ("ignored", "忽略"),
    "sig_all_empty": ("signals: all sets empty (default)", "信号：所有集合都为空（默认）"),
    "sig_head": ("signal", "信号"),
    "sig_queued": ("SigQ {queued}/{limit}: signals queued for this user",
                   "SigQ {queued}/{limit}：本用户排队中的信号"),
    # where a signal came from, and how
    "sig_terminal": ("terminal", "终端"),
    "sig_kernel": ("kernel", "内核"),
    "sig_via_kill": ("kill()", ""),
    "sig_via_earlier": ("kill(){times} at {steps}", ""),
    "sig_typed": ("typed {keys}", "键入 {keys}"),
    "sig_via_fault": ("{kind} fault", ""),
    "sig_via_alarm": ("alarm() timer of step {step}", ""),
    "sig_via_ended": ("{child} ended", ""),
    "sig_no_reader": ("write() with no reader", "无读端时 write()"),
    # what became of it
    "sig_was_pending": ("was pending; {fate}", "曾待决；{fate}"),
    "sig_fate_handled": ("handler ran", "处理函数已运行"),
    "sig_handler_n": ("handler ran {n}×", "处理函数运行了 {n} 次"),
    "sig_failed": ("kill() failed: {errno}", "kill() 失败：{errno}"),
    "sig_fate_sent": ("sent", "已发送"),
    "sig_fate_killed": ("killed", "被杀死"),
    "sig_fate_killed_core": ("killed, core dumped", "被杀死，产生 core 转储"),
    "sig_fate_pending_blocked": ("pending: blocked", "待决：被阻塞"),
    "sig_fate_pending_stopped": ("pending: the process is stopped", "待决：进程已停止"),
    "sig_fate_pending": ("pending", "待决"),
    "sig_fate_stopped": ("stopped", "已停止"),
    "sig_fate_continued": ("continued", "已继续"),
    "sig_fate_ignored": ("ignored: discarded", "被忽略：丢弃"),
    "sig_fate_default": ("delivered, default action", "已递送，执行默认动作"),
    # the pty
    "pty_title": ("pty {oid}", "伪终端 pty {oid}"),
    "pty_not_opened": ("not opened yet (openpty)", "尚未打开（openpty）"),
    "pty_nobody": ("nobody", "无"),
    "pty_master_side": ("  the terminal's side: what is written here is typed",
                        "  终端一侧：写到这里的就是键入的内容"),
    "pty_discipline": (("  ▼ line discipline: ^C ^\\ ^Z become SIGINT SIGQUIT SIGTSTP "
                       "for the foreground group"),
                       "  ▼ 行规程：^C ^\\ ^Z 变成发给前台进程组的 SIGINT SIGQUIT SIGTSTP"),
    "pty_controlling": ("controlling terminal of ", "控制终端属于 "),
    "pty_leader": ("  (session leader {leader})", "  （会话首进程 {leader}）"),
    "pty_foreground": ("foreground group ", "前台进程组 "),
    "pty_hung_up": ("hung up: no master is open any more", "已挂断：master 端已全部关闭"),
}
add_texts(TEXTS)


def signal_number(name: str) -> int | None:
    """'SIGUSR1' -> 10, 'SIGRTMIN+2' -> 36 on this system; None for a name it does not know."""
    lo, hi = int(_signal.SIGRTMIN), int(_signal.SIGRTMAX)
    m = re.fullmatch(r"SIGRT(MIN|MAX)([+-]\d+)?", name)
    if m:
        return (lo if m.group(1) == "MIN" else hi) + int(m.group(2) or 0)
    try:
        return int(_signal.Signals[name])
    except KeyError:
        return None


def short(name: str) -> str:
    return name.removeprefix("SIG")


def sets_of(s: Signals) -> dict[str, tuple[str, ...]]:
    """The four sets the grid draws; pending is the thread's and the process's together."""
    return {"pending": tuple(dict.fromkeys(s.pending + s.shared_pending)),
            "blocked": s.blocked, "caught": s.caught, "ignored": s.ignored}


def marks(s: Signals) -> dict[str, set[str]]:
    """Signal name -> the marks it has: {'pending', 'blocked', 'caught', 'ignored'}."""
    out: dict[str, set[str]] = {}
    for label, names in sets_of(s).items():
        for n in names:
            out.setdefault(n, set()).add(label)
    return out


def any_set(s: Signals | None) -> bool:
    return bool(s and any(sets_of(s).values()))


def set_label(label: str, lang: str = "en") -> str:
    """A set's name ('pending', ...) in `lang`."""
    return label if lang == "en" else tr(f"sig_set_{label}", lang)


def _pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal cells (wide characters take two)."""
    return text + " " * max(width - _cells(text), 0)


def signal_summary(s: Signals, delivered: set[str] = frozenset(), lang: str = "en") -> Content:
    """One line: 'pending USR1 · blocked USR1 · caught INT,TERM' (empty sets left out)."""
    parts: list[Content] = []
    for label, style in SETS:
        names = sets_of(s)[label]
        if not names:
            continue
        items = Content(",").join(
            Content.styled(short(n), f"{style} {HIGHLIGHT}" if n in delivered else style)
            for n in names)
        parts.append(Content.assemble((f"{set_label(label, lang)} ", "$text-muted"), items))
    if not parts:
        return Content.styled(tr("sig_all_empty", lang), "$text-muted")
    return Content.styled(" · ", "$text-muted").join(parts)


def _ticks(first: int, last: int) -> str:
    """Column labels for signals first..last: '1   5    10   15' aligned with the cells."""
    row = [" "] * (last - first + 1)
    for n in range(first, last + 1):
        if n == first or n % 5 == 0:
            label = str(n)
            i = n - first
            if i + len(label) <= len(row) and all(c == " " for c in row[max(i - 1, 0):i]):
                row[i:i + len(label)] = label
    return "".join(row)


def _grid_row(label: str, style: str, names: tuple[str, ...], nums: set[int | None],
              hot: set[int | None], first: int, last: int, width: int,
              lang: str) -> Content:
    """One set's row of the grid: a cell per signal first..last, then (on the block that
    ends at 31) the real-time cell and the names, clipped to the width."""
    cells: list[tuple[str, str] | str] = [(_pad(set_label(label, lang), LABEL), "$text-muted")]
    for n in range(first, last + 1):
        on = n in nums
        cell_style = style if on else "$text-muted"
        if n in hot:
            cell_style = f"{cell_style} {HIGHLIGHT}"
        cells.append(("●" if on else "·", cell_style))
    if last == STD_LAST:
        rts = [n for n in names if (signal_number(n) or 0) > STD_LAST]
        cells.append((" " + ("●" if rts else "·"), style if rts else "$text-muted"))
        text = ",".join(short(n) for n in names)
        room = width - LABEL - (last - first + 1) - 3
        if len(text) > room:  # clipped; too little room for a name: none
            text = text[:room - 1] + "…" if room >= 5 else ""
        if text:
            cells.append((f" {text}", style))
    return Content.assemble(*cells)


def signal_grid(s: Signals, width: int, delivered: set[str] = frozenset(),
                lang: str = "en") -> Content:
    """The signal sets as a grid: one row per set, one cell per signal number 1..31, a cell
    for the real-time range (● when any of SIGRTMIN..SIGRTMAX is in the set) and the names.

    Narrower than GRID_WIDE, the grid is drawn in two blocks (1..16, 17..31)."""
    sets = sets_of(s)
    nums = {label: {signal_number(n) for n in names} for label, names in sets.items()}
    hot = {signal_number(n) for n in delivered}
    blocks = [(1, STD_LAST)] if width >= GRID_WIDE else [(1, 16), (17, STD_LAST)]
    lines: list[Content] = []
    for first, last in blocks:
        rt = last == STD_LAST
        head = _pad(tr("sig_head", lang), LABEL) + _ticks(first, last) + (" rt" if rt else "")
        lines.append(Content.styled(head, "$text-muted"))
        lines += [_grid_row(label, style, sets[label], nums[label], hot, first, last, width,
                            lang) for label, style in SETS]
    lines.append(Content.styled(
        tr("sig_queued", lang, queued=s.queued, limit=s.queue_limit), "$text-muted"))
    return Content("\n").join(lines)


# -- deliveries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One signal of this step: where it came from, who got it, what it did.  Typed facts;
    the words are chosen where it is drawn (`delivery_content`, `line`)."""

    signal: str
    receiver: str
    origin: str  # "process" (the sender), "terminal" or "kernel"
    sender: str | None  # the sending process's name, when origin is "process"
    via: Note | None  # kill(), a typed key, a fault, a timer...; None: nothing to say
    fate: Note  # what became of it: handled, pending, killed, ...
    waited: bool = False  # it had been pending since an earlier step

    def line(self) -> str:
        """'SIGUSR1: parent ─kill()→ child (handler ran)', in English."""
        via = via_words(self.via) if self.via else ""
        return (f"{self.signal}: {origin_words(self)} ─{via}→ {self.receiver} "
                f"({fate_words(self)})")


FATE_ERROR = frozenset({"sig_fate_killed", "sig_fate_killed_core", "sig_failed"})
FATE_WARNING = frozenset({"sig_fate_pending", "sig_fate_pending_blocked",
                          "sig_fate_pending_stopped", "sig_fate_stopped"})


def fresh_entries(snapshot: Snapshot) -> tuple[LogEntry, ...]:
    return snapshot.log[len(snapshot.log) - snapshot.fresh:] if snapshot.fresh else ()


def _step(scenario: Scenario | None, number: int) -> Step | None:
    if scenario is None:
        return None
    return next((s for s in scenario.steps if s.number == number), None)


def _handled_fate(handled: int) -> Note:
    return note("sig_fate_handled") if handled == 1 else note("sig_handler_n", n=handled)


def _killed_fate(p: Process | None) -> Note:
    core = p is not None and p.exit is not None and p.exit.core
    return note("sig_fate_killed_core" if core else "sig_fate_killed")


def _pending_fate(sig: str, p: Process) -> Note | None:
    s = p.signals
    if s is None or sig not in s.pending + s.shared_pending:
        return None
    if sig in s.blocked:
        return note("sig_fate_pending_blocked")
    return note("sig_fate_pending_stopped" if p.state == STOPPED else "sig_fate_pending")


def _fate(sig: str, p: Process | None, handled: int) -> Note:
    """What became of a signal sent this step, from the receiver's state after the step."""
    if handled:
        return _handled_fate(handled)
    if p is None:
        return note("sig_fate_sent")
    if p.exit is not None and p.exit.signal == sig and p.state in (ZOMBIE, EXITED):
        return _killed_fate(p)
    if (pending := _pending_fate(sig, p)) is not None:
        return pending
    if p.state == STOPPED and sig in STOP_SIGNALS:
        return note("sig_fate_stopped")
    if sig == "SIGCONT":
        return note("sig_fate_continued")
    if p.signals is not None and sig in p.signals.ignored:
        return note("sig_fate_ignored")
    return note("sig_fate_default")


def _earlier_kills(snapshot: Snapshot, sig: str, p: Process, before: int) -> list[LogEntry]:
    """kill() calls of sig to p since p last ran its handler for sig (log index < before)."""
    out: list[LogEntry] = []
    for e in snapshot.log[:before]:
        if e.signal != sig:
            continue
        if e.outcome == "handled" and e.process == p.name:
            out = []
        elif e.target_pid == p.pid and e.outcome == RETURNED:
            out.append(e)
    return out


@dataclass(frozen=True)
class _Origin:
    origin: str  # "process", "terminal" or "kernel"
    via: Note | None
    sender: str | None = None
    waited: bool = False


def _origin_of_step(sig: str, receiver: str, step_no: int,
                    scenario: Scenario | None) -> _Origin | None:
    """Where a signal came from when the step's own action, or the lesson, says so: a key
    typed on a pty, a fault, an alarm() timer, a child that ended."""
    if scenario is None:
        return None
    step = _step(scenario, step_no)
    if step is not None and step.action == "type":
        return _Origin("terminal", note("sig_typed", keys=step.args.get("keys", "")))
    if step is not None and step.action == "raise_fault" and step.process == receiver:
        return _Origin("kernel", note("sig_via_fault", kind=step.args.get("kind", "")))
    if sig == "SIGALRM":
        alarm = [s for s in scenario.steps
                 if s.process == receiver and s.action == "alarm" and s.number <= step_no]
        if alarm:
            return _Origin("kernel", note("sig_via_alarm", step=alarm[-1].number))
    if sig == "SIGCHLD" and step is not None:
        spec = next((p for p in scenario.processes if p.name == step.process), None)
        if spec is not None and spec.parent == receiver:
            return _Origin("kernel", note("sig_via_ended", child=step.process))
    return None


def _origin(sig: str, receiver: str, step_no: int, snapshot: Snapshot,
            scenario: Scenario | None, before: int) -> _Origin:
    """Where a signal came from that reached `receiver` in step step_no without a kill()
    of this step: the step's action, or an earlier kill() that waited."""
    found = _origin_of_step(sig, receiver, step_no, scenario)
    if found is not None:
        return found
    p = snapshot.process_named(receiver)
    kills = _earlier_kills(snapshot, sig, p, before) if p is not None else []
    if kills:
        steps = tuple(sorted({e.step for e in kills}))
        return _Origin("process", note("sig_via_earlier", times=len(kills), steps=steps),
                       sender=kills[-1].process, waited=True)
    if sig == "SIGPIPE":
        return _Origin("kernel", note("sig_no_reader"))
    return _Origin("kernel", None)


class _StepDeliveries:
    """The deliveries of one snapshot's step, found from the typed fields of its fresh log
    entries (kill(): signal and target pid; a handler's run; a death's signal)."""

    def __init__(self, snapshot: Snapshot, scenario: Scenario | None) -> None:
        self.snapshot, self.scenario = snapshot, scenario
        self.fresh = fresh_entries(snapshot)
        self.start = len(snapshot.log) - len(self.fresh)
        self.out: list[Delivery] = []
        self.explained: set[tuple[str, str]] = set()
        # (receiver, signal) -> [handler runs this step, step of the first]
        self.handled: dict[tuple[str, str], list[int]] = {}
        for e in self.fresh:
            if e.outcome == "handled" and e.signal:
                self.handled.setdefault((e.process, e.signal), [0, e.step])[0] += 1

    def add(self, sig: str, receiver: str, origin: _Origin, fate: Note) -> None:
        self.explained.add((receiver, sig))
        self.out.append(Delivery(sig, receiver, origin.origin, origin.sender, origin.via,
                                 fate, origin.waited))

    def kills(self) -> None:
        """kill() calls of this step: sender and receiver are in the log entry."""
        by_pid = {p.pid: p for p in self.snapshot.processes}
        for e in self.fresh:
            if e.target_pid is None or not e.signal or e.outcome in ("handled", BLOCKED):
                continue
            p = by_pid.get(e.target_pid)
            receiver = p.name if p else (f"group {-e.target_pid}" if e.target_pid < 0
                                         else str(e.target_pid))
            sent = _Origin("process", note("sig_via_kill"), sender=e.process)
            if e.outcome == FAILED:
                self.out.append(Delivery(e.signal, receiver, "process", e.process, sent.via,
                                         note("sig_failed", errno=e.errno or "?")))
                continue
            n = self.handled.pop((receiver, e.signal), [0])[0]
            self.add(e.signal, receiver, sent, _fate(e.signal, p, n))

    def handlers(self) -> None:
        """Handlers that ran for another reason than a kill() of this step."""
        for (receiver, sig), (n, step_no) in self.handled.items():
            origin = _origin(sig, receiver, step_no, self.snapshot, self.scenario, self.start)
            self.add(sig, receiver, origin, _handled_fate(n))

    def deaths(self) -> None:
        """Processes a signal killed (a fault, SIGPIPE, a timer, a key)."""
        for e in self.fresh:
            sig = e.killed_by if e.outcome == KILLED else None
            if not sig or (e.process, sig) in self.explained:
                continue
            origin = _origin(sig, e.process, e.step, self.snapshot, self.scenario, self.start)
            self.add(sig, e.process, origin, _killed_fate(self.snapshot.process_named(e.process)))

    def typed_deaths(self) -> None:
        """A typed key killed the foreground job: no log entry says so, its exit does."""
        step = _step(self.scenario, self.snapshot.step)
        if step is None or step.action != "type" or not self.snapshot.fresh:
            return
        typed = _Origin("terminal", note("sig_typed", keys=step.args.get("keys", "")))
        for p in self.snapshot.processes:
            if (p.state == ZOMBIE and p.exit is not None and p.exit.signal
                    and (p.name, p.exit.signal) not in self.explained):
                self.add(p.exit.signal, p.name, typed, _killed_fate(p))


def deliveries(snapshot: Snapshot, scenario: Scenario | None = None) -> list[Delivery]:
    """The signals sent or delivered by the step of this snapshot (its `fresh` log lines).
    Nothing is guessed: a delivery the log and the processes' states do not show is not
    drawn."""
    found = _StepDeliveries(snapshot, scenario)
    found.kills()
    found.handlers()
    found.deaths()
    found.typed_deaths()
    return found.out


def _steps_text(steps: tuple[int, ...]) -> str:
    if len(steps) == 1:
        return f"step {steps[0]}"
    if list(steps) == list(range(steps[0], steps[-1] + 1)):
        return f"steps {steps[0]}-{steps[-1]}"
    return "steps " + ",".join(str(s) for s in steps)


def fate_words(d: Delivery, lang: str = "en") -> str:
    """What became of a delivery, in `lang`."""
    fate = say(d.fate, lang)
    return tr("sig_was_pending", lang, fate=fate) if d.waited else fate


def via_words(via: Note, lang: str = "en") -> str:
    """How a signal was sent, in `lang`: call names stay, the few words around them do not."""
    if via.key == "sig_via_earlier":
        times = int(via.get("times", 1))
        return tr(via.key, lang, times=f" ×{times}" if times > 1 else "",
                  steps=_steps_text(via.get("steps", ())))
    return say(via, lang)


def origin_words(d: Delivery, lang: str = "en") -> str:
    """Who sent it: the sending process's name, or the terminal or the kernel in `lang`."""
    if d.origin == "process":
        return d.sender or "?"
    return tr(f"sig_{d.origin}", lang)


def delivery_content(d: Delivery, lang: str = "en") -> Content:
    """'↯ SIGUSR1: parent ─kill()→ child (handler ran)', the signal and the fate in bold."""
    via = f" ─{via_words(d.via, lang)}→ " if d.via else " ─→ "
    fate_style = ("b $text-error" if d.fate.key in FATE_ERROR
                  else "b $text-warning" if d.fate.key in FATE_WARNING and not d.waited
                  else "b $text-success")
    colon, paren, close = (": ", " (", ")") if lang == "en" else ("：", "（", "）")
    return Content.assemble(("↯ ", "b $text-accent"), (d.signal, "b $text-accent"), colon,
                            (origin_words(d, lang), "b"), (via, "$text-accent"),
                            (d.receiver, "b"), paren, (fate_words(d, lang), fate_style),
                            close)


# -- the pseudo-terminal ---------------------------------------------------------------------


class PtyView(Static):
    """A pseudo-terminal: its two sides and who holds them, whose controlling terminal it is,
    the foreground process group that typed keys signal, and the signals typed this step."""

    DEFAULT_CSS = """
    PtyView {
        height: auto; width: 1fr; border: round $primary; padding: 0 1;
        border-title-style: bold; border-title-color: $text-primary;
    }
    PtyView.-unborn { border: dashed $foreground 25%; color: $text-muted; }
    PtyView.-hungup { border: dashed $foreground 40%; }
    """

    def __init__(self, oid: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.oid = oid
        self.scenario = scenario
        self.border_title = f"pty {oid}"

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = lang_of(self)
        self.border_title = tr("pty_title", lang, oid=self.oid)
        o = snapshot.object_named(self.oid)
        self.set_class(o is None, "-unborn")
        if not isinstance(o, PtyState):
            self.border_subtitle = ""
            self.update(Content.styled(tr("pty_not_opened", lang), "italic"))
            return
        self.set_class(o.hung_up, "-hungup")
        self.border_subtitle = o.slave
        muted = "$text-muted"
        lines = [
            Content.assemble(("master ", muted),
                             (" ".join(o.master_holders) or tr("pty_nobody", lang), "b"),
                             (tr("pty_master_side", lang), muted)),
            Content.styled(tr("pty_discipline", lang), "$text-secondary"),
            Content.assemble(("slave  ", muted),
                             (" ".join(o.slave_holders) or tr("pty_nobody", lang), "b"),
                             (f"  {o.slave}", muted)),
        ]
        if o.controlling:
            lines.append(Content.assemble(
                (tr("pty_controlling", lang), muted), ", ".join(o.controlling),
                (tr("pty_leader", lang, leader=o.session_leader or '?'), muted)))
        if o.foreground:
            lines.append(Content.assemble(
                (tr("pty_foreground", lang), muted), (f"{o.foreground_pgid}: ", "b"),
                (", ".join(o.foreground), "b")))
        if o.hung_up:
            lines.append(Content.styled(tr("pty_hung_up", lang), "b $text-error"))
        for d in deliveries(snapshot, self.scenario):
            if d.origin == "terminal":
                lines.append(delivery_content(d, lang))
        body = Content("\n").join(lines)
        if sources:
            pids = {p.name: p.pid for p in snapshot.processes}
            body = Content("\n").join([body, sources_content(provenance.for_object(o, None, pids))])
        self.update(body)


OBJECT_VIEWS = {"pty": PtyView}
