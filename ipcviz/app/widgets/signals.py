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
    EXITED,
    STOPPED,
    ZOMBIE,
    LogEntry,
    Process,
    Signals,
    Snapshot,
)
from ...scenario.model import Scenario, Step
from ..i18n import TEXTS as _TEXT_KEYS
from ..i18n import cells as _cells
from ..i18n import lang_of, tr
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

_KILL = re.compile(r"^kill\((-?\d+), (SIG[A-Z0-9+-]+)\)")
_HANDLED = re.compile(r"--- (SIG[A-Z0-9+-]+) handler ran ---")
_KILLED = re.compile(r"killed by (SIG[A-Z0-9+-]+)")
STOP_SIGNALS = ("SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU")


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
        for label, style in SETS:
            cells: list[tuple[str, str] | str] = [(_pad(set_label(label, lang), LABEL),
                                                   "$text-muted")]
            for n in range(first, last + 1):
                on = n in nums[label]
                cell_style = style if on else "$text-muted"
                if n in hot:
                    cell_style = f"{cell_style} {HIGHLIGHT}"
                cells.append(("●" if on else "·", cell_style))
            if rt:
                rts = [n for n in sets[label] if (signal_number(n) or 0) > STD_LAST]
                cells.append((" " + ("●" if rts else "·"), style if rts else "$text-muted"))
                names = ",".join(short(n) for n in sets[label])
                room = width - LABEL - (last - first + 1) - 3
                if len(names) > room:  # clipped; too little room for a name: none
                    names = names[:room - 1] + "…" if room >= 5 else ""
                if names:
                    cells.append((f" {names}", style))
            lines.append(Content.assemble(*cells))
    lines.append(Content.styled(
        tr("sig_queued", lang, queued=s.queued, limit=s.queue_limit), "$text-muted"))
    return Content("\n").join(lines)


# -- deliveries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One signal of this step: where it came from, who got it, what it did."""

    signal: str
    receiver: str
    origin: str  # the sending process, "terminal" or "kernel"
    via: str  # "kill()", "typed ^C", "fault", "alarm() timer"
    fate: str  # "handler ran", "pending: blocked", "killed", "stopped", ...

    def line(self) -> str:
        """'SIGUSR1: parent ─kill()→ child (handler ran)'."""
        return f"{self.signal}: {self.origin} ─{self.via}→ {self.receiver} ({self.fate})"


def _handled_signal(e: LogEntry) -> str | None:
    m = _HANDLED.search(e.call) if e.outcome == "handled" else None
    return m.group(1) if m else None


def fresh_entries(snapshot: Snapshot) -> tuple[LogEntry, ...]:
    return snapshot.log[len(snapshot.log) - snapshot.fresh:] if snapshot.fresh else ()


def _step(scenario: Scenario | None, number: int) -> Step | None:
    if scenario is None:
        return None
    return next((s for s in scenario.steps if s.number == number), None)


def _fate(sig: str, p: Process | None, handled: int) -> str:
    """What became of a signal sent this step, from the receiver's state after the step."""
    if handled:
        return "handler ran" if handled == 1 else f"handler ran {handled}×"
    if p is None:
        return "sent"
    if p.exit is not None and p.exit.signal == sig and p.state in (ZOMBIE, EXITED):
        return "killed, core dumped" if p.exit.core else "killed"
    s = p.signals
    if s is not None and sig in s.pending + s.shared_pending:
        if sig in s.blocked:
            return "pending: blocked"
        if p.state == STOPPED:
            return "pending: the process is stopped"
        return "pending"
    if p.state == STOPPED and sig in STOP_SIGNALS:
        return "stopped"
    if sig == "SIGCONT":
        return "continued"
    if s is not None and sig in s.ignored:
        return "ignored: discarded"
    return "delivered, default action"


def _earlier_kills(snapshot: Snapshot, sig: str, p: Process, before: int) -> list[LogEntry]:
    """kill() calls of sig to p since p last ran its handler for sig (log index < before)."""
    out: list[LogEntry] = []
    for e in snapshot.log[:before]:
        h = _HANDLED.search(e.call) if e.outcome == "handled" else None
        if h and e.process == p.name and h.group(1) == sig:
            out = []
            continue
        m = _KILL.match(e.call)
        if m and e.outcome == "returned" and int(m.group(1)) == p.pid and m.group(2) == sig:
            out.append(e)
    return out


def _steps_text(steps: list[int]) -> str:
    if len(steps) == 1:
        return f"step {steps[0]}"
    if steps == list(range(steps[0], steps[-1] + 1)):
        return f"steps {steps[0]}-{steps[-1]}"
    return "steps " + ",".join(str(s) for s in steps)


def _origin(sig: str, receiver: str, step_no: int, snapshot: Snapshot,
            scenario: Scenario | None, before: int) -> tuple[str, str, bool]:
    """(origin, via, was pending) of a signal that reached `receiver` in step step_no
    without a kill() of this step: the step's action, or an earlier kill() that waited."""
    step = _step(scenario, step_no)
    if step is not None and step.action == "type":
        return "terminal", f"typed {step.args.get('keys', '')}".strip(), False
    if step is not None and step.action == "raise_fault" and step.process == receiver:
        return "kernel", f"{step.args.get('kind', '')} fault".strip(), False
    if sig == "SIGALRM" and scenario is not None:
        alarm = [s for s in scenario.steps
                 if s.process == receiver and s.action == "alarm" and s.number <= step_no]
        if alarm:
            return "kernel", f"alarm() timer of step {alarm[-1].number}", False
    if sig == "SIGCHLD" and scenario is not None and step is not None:
        spec = next((p for p in scenario.processes if p.name == step.process), None)
        if spec is not None and spec.parent == receiver:
            return "kernel", f"{step.process} ended", False
    p = snapshot.process_named(receiver)
    kills = _earlier_kills(snapshot, sig, p, before) if p is not None else []
    if kills:
        n = f" ×{len(kills)}" if len(kills) > 1 else ""
        steps = sorted({e.step for e in kills})
        return kills[-1].process, f"kill(){n} at {_steps_text(steps)}", True
    if sig == "SIGPIPE":
        return "kernel", "write() with no reader", False
    return "kernel", "", False


_CACHE: list = [None, None]  # (snapshot, deliveries) of the last snapshot asked about


def deliveries(snapshot: Snapshot, scenario: Scenario | None = None) -> list[Delivery]:
    """The signals sent or delivered by the step of this snapshot (its `fresh` log lines)."""
    if _CACHE[0] is snapshot:
        return _CACHE[1]
    fresh = fresh_entries(snapshot)
    start = len(snapshot.log) - len(fresh)
    by_pid = {p.pid: p for p in snapshot.processes}
    handled: dict[tuple[str, str], int] = {}
    for e in fresh:
        m = _HANDLED.search(e.call) if e.outcome == "handled" else None
        if m:
            key = (e.process, m.group(1))
            handled[key] = handled.get(key, 0) + 1
    out: list[Delivery] = []
    explained: set[tuple[str, str]] = set()
    for e in fresh:  # kill() calls of this step: sender and receiver are in the log line
        m = _KILL.match(e.call)
        if not m or e.outcome in ("handled", "blocked"):
            continue
        pid, sig = int(m.group(1)), m.group(2)
        p = by_pid.get(pid)
        receiver = p.name if p else (f"group {-pid}" if pid < 0 else str(pid))
        if e.outcome == "failed":
            out.append(Delivery(sig, receiver, e.process, "kill()",
                                f"kill() failed: {e.errno or '?'}"))
            continue
        n = handled.pop((receiver, sig), 0)
        explained.add((receiver, sig))
        out.append(Delivery(sig, receiver, e.process, "kill()", _fate(sig, p, n)))
    for (receiver, sig), n in handled.items():  # handlers that ran for another reason
        first = next(e for e in fresh if e.process == receiver and e.outcome == "handled"
                     and _handled_signal(e) == sig)
        origin, via, waited = _origin(sig, receiver, first.step, snapshot, scenario, start)
        fate = _fate(sig, None, n)
        out.append(Delivery(sig, receiver, origin, via, f"was pending; {fate}" if waited
                            else fate))
        explained.add((receiver, sig))
    for e in fresh:  # processes a signal killed (a fault, SIGPIPE, a timer, a key)
        m = _KILLED.search(str(e.result or "")) if e.outcome == "killed" else None
        if not m or (e.process, m.group(1)) in explained:
            continue
        sig = m.group(1)
        explained.add((e.process, sig))
        origin, via, waited = _origin(sig, e.process, e.step, snapshot, scenario, start)
        p = snapshot.process_named(e.process)
        fate = "killed, core dumped" if p and p.exit and p.exit.core else "killed"
        out.append(Delivery(sig, e.process, origin, via,
                            f"was pending; {fate}" if waited else fate))
    step = _step(scenario, snapshot.step)
    if step is not None and step.action == "type" and snapshot.fresh:
        for p in snapshot.processes:  # a typed key killed the foreground job: no log line
            if (p.state == ZOMBIE and p.exit is not None and p.exit.signal
                    and (p.name, p.exit.signal) not in explained):
                out.append(Delivery(p.exit.signal, p.name, "terminal",
                                    f"typed {step.args.get('keys', '')}".strip(),
                                    "killed, core dumped" if p.exit.core else "killed"))
    _CACHE[0], _CACHE[1] = snapshot, out
    return out


_FATE_N = re.compile(r"handler ran (\d+)×")
_FAILED = re.compile(r"kill\(\) failed: (.*)")


def fate_words(fate: str, lang: str = "en") -> str:
    """A Delivery's fate (English in the Delivery) in `lang`."""
    if lang == "en":
        return fate
    if fate.startswith("was pending; "):
        return tr("sig_was_pending", lang, fate=fate_words(fate.removeprefix("was pending; "),
                                                           lang))
    if f"sig_fate_{fate}" in _TEXT_KEYS:
        return tr(f"sig_fate_{fate}", lang)
    if m := _FATE_N.fullmatch(fate):
        return tr("sig_handler_n", lang, n=m[1])
    if m := _FAILED.fullmatch(fate):
        return tr("sig_failed", lang, errno=m[1])
    return fate


def via_words(via: str, lang: str = "en") -> str:
    """A Delivery's 'via' in `lang`: call names stay, the few words around them do not."""
    if lang == "en":
        return via
    if via.startswith("typed "):
        return tr("sig_typed", lang, keys=via.removeprefix("typed "))
    if via == "write() with no reader":
        return tr("sig_no_reader", lang)
    return via


def origin_words(origin: str, lang: str = "en") -> str:
    if lang == "en" or origin not in ("terminal", "kernel"):
        return origin
    return tr(f"sig_{origin}", lang)


def delivery_content(d: Delivery, lang: str = "en") -> Content:
    """'↯ SIGUSR1: parent ─kill()→ child (handler ran)', the signal and the fate in bold."""
    via = f" ─{via_words(d.via, lang)}→ " if d.via else " ─→ "
    fate_style = ("b $text-error" if "killed" in d.fate or "failed" in d.fate
                  else "b $text-warning" if d.fate.startswith(("pending", "stopped"))
                  else "b $text-success")
    if lang == "en":
        return Content.assemble(("↯ ", "b $text-accent"), (d.signal, "b $text-accent"), ": ",
                                (d.origin, "b"), (via, "$text-accent"), (d.receiver, "b"),
                                " (", (d.fate, fate_style), ")")
    return Content.assemble(("↯ ", "b $text-accent"), (d.signal, "b $text-accent"), "：",
                            (origin_words(d.origin, lang), "b"), (via, "$text-accent"),
                            (d.receiver, "b"), "（", (fate_words(d.fate, lang), fate_style), "）")


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
