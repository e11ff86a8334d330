"""A semaphore in kernel space: its count, who sleeps on it, who holds it (inferred).

     ┌─┐   value 0   (no token left: the next wait sleeps)
     │0│   waiting (kernel)   ■ p3  ■ p4        semncnt 2 · semzcnt 0
     └─┘   held by ≈          p1  p2            (inferred from the steps)

The count is the kernel's (sem_getvalue / semctl GETVAL), drawn as a big number and a row
of tokens; the waiters are the processes the kernel shows asleep on it; the holders are
inferred from the lesson's steps and say so.  When the model finds a wait-for cycle through
this semaphore, the first semaphore of the cycle draws the graph

    a ──waits for──▶ s2 ╌╌held by╌╌▶ b ──waits for──▶ s1 ╌╌held by╌╌▶ a

solid where the kernel says it (a sleeps in semop on s2's id), dashed where it is inferred
(b holds s2), on one line when it fits and one hop per line when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Digits, Static

from ...model import provenance
from ...model.sem import SemState
from ...model.snapshot import Snapshot
from ...scenario.model import Scenario
from .. import words
from .sources import sources_content

MAX_TOKENS = 12
KERNEL_EDGE = "waits for"
INFERRED_EDGE = "held by"


@dataclass(frozen=True)
class Hop:
    """One edge of the wait-for graph: `src` ──label──▶ `dst`; inferred edges are dashed."""

    src: str
    label: str
    dst: str
    inferred: bool


def cycle_hops(snapshot: Snapshot, cycle: tuple[str, ...]) -> list[Hop]:
    """The cycle P1 → P2 → … (P waits on a semaphore Q holds) as process/semaphore hops."""
    sems = [o for o in snapshot.objects if isinstance(o, SemState)]
    hops: list[Hop] = []
    for i, p in enumerate(cycle):
        q = cycle[(i + 1) % len(cycle)]
        via = next((s.id for s in sems if p in s.waiters and q in s.holders), None)
        if via is None:
            proc = snapshot.process_named(p)
            via = proc.waits_on if proc and proc.waits_on else "?"
        hops.append(Hop(p, KERNEL_EDGE, via, False))
        hops.append(Hop(via, INFERRED_EDGE, q, True))
    return hops


def cycle_text(hops: list[Hop]) -> str:
    """The cycle on one line, as plain text (tests, and a reader of a failure message)."""
    if not hops:
        return ""
    out = hops[0].src
    for h in hops:
        dash = "╌╌" if h.inferred else "──"
        out += f" {dash}{h.label}{dash}▶ {h.dst}"
    return out


class WaitForGraph(Widget):
    """The deadlock cycle: one line when it fits the width, else one hop per line."""

    DEFAULT_CSS = """
    WaitForGraph { height: auto; width: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hops: list[Hop] = []

    def set_hops(self, hops: list[Hop]) -> None:
        self.hops = list(hops)
        self.display = bool(self.hops)
        self.refresh(layout=True)

    def _one_line(self, width: int) -> bool:
        return len(cycle_text(self.hops)) <= width

    def get_content_height(self, container, viewport, width: int) -> int:
        if not self.hops:
            return 0
        return 2 if self._one_line(width) else len(self.hops) + 1

    def _edge(self, h: Hop, pad: int = 0) -> Content:
        d = "╌" if h.inferred else "─"
        style = "i $text-warning" if h.inferred else "b $text-error"
        return Content.styled(f" {d * 2}{h.label}{d * (2 + pad)}▶ ", style)

    def _node(self, name: str, width: int = 0) -> Content:
        is_proc = not any(h.src == name and h.label == INFERRED_EDGE for h in self.hops)
        style = "b reverse $text-accent" if is_proc else "b $text-primary"
        return Content.styled(f"{name:<{width}}" if width else name, style)

    def render(self) -> Content:
        if not self.hops:
            return Content("")
        width = self.content_region.width or self.size.width
        legend = Content.assemble(
            ("── ", "b $text-error"), ("the kernel: asleep in the call on this semaphore   ",
                                      "$text-muted"),
            ("╌╌ ", "i $text-warning"), ("inferred from the steps", "$text-muted"))
        if self._one_line(width):
            parts = [self._node(self.hops[0].src)]
            for h in self.hops:
                parts += [self._edge(h), self._node(h.dst)]
            return Content("\n").join([Content.assemble(*parts), legend])
        w = max(len(h.src) for h in self.hops)
        rows = []
        longest = max(len(h.label) for h in self.hops)
        for k, h in enumerate(self.hops):
            row = Content.assemble(self._node(h.src, w), self._edge(h, longest - len(h.label)),
                                   self._node(h.dst))
            if k == len(self.hops) - 1:
                row = Content.assemble(row, ("  ↺ back to the start", "$text-muted"))
            rows.append(row)
        return Content("\n").join([*rows, legend])


class SemView(Vertical):
    """Kernel-space box of one semaphore (POSIX named or System V)."""

    DEFAULT_CSS = """
    SemView {
        height: auto;
        width: 1fr;
        border: round $primary;
        border-title-style: bold;
        border-title-color: $text-primary;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    SemView.-waiting { border: heavy $error 70%; }
    SemView.-deadlock { border: heavy $error; border-title-color: $text-error; }
    SemView.-unborn { border: dashed $foreground 25%; color: $text-muted; }
    SemView.-gone { border: dashed $foreground 40%; color: $text-muted; }
    SemView.-gone > .sem--top, SemView.-unborn > .sem--top { display: none; }
    SemView > .sem--top { height: auto; }
    SemView .sem--value {
        width: auto; min-width: 5; height: auto; padding: 0 2 0 0; color: $text-primary;
    }
    SemView .sem--value.-zero { color: $text-error; }
    SemView .sem--facts { width: 1fr; height: auto; }
    SemView > .sem--deadlock { height: auto; color: $text-error; text-style: bold; }
    SemView > WaitForGraph { margin-bottom: 1; }
    SemView > .sem--details { height: auto; }
    """

    def __init__(self, oid: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.oid = oid
        self.scenario = scenario
        self.kind = scenario.object(oid).kind
        self.what = "POSIX semaphore" if self.kind == "sem" else "System V semaphore"
        self.border_title = f"{self.what} {oid}"
        self.state: SemState | None = None
        self.hops: list[Hop] = []

    def compose(self):
        yield Static(classes="sem--deadlock")
        yield WaitForGraph()
        with Horizontal(classes="sem--top"):
            yield Digits("", classes="sem--value")
            yield Static(classes="sem--facts")
        yield Static(classes="sem--details")

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        o = snapshot.object_named(self.oid)
        digits = self.query_one(".sem--value", Digits)
        facts = self.query_one(".sem--facts", Static)
        banner = self.query_one(".sem--deadlock", Static)
        graph = self.query_one(WaitForGraph)
        details = self.query_one(".sem--details", Static)
        self.set_class(o is None, "-unborn")
        if not isinstance(o, SemState):
            self.state = None
            self.hops = []
            for cls in ("-gone", "-waiting", "-deadlock"):
                self.set_class(False, cls)
            step = words.create_step(self.scenario, self.oid)
            when = f" ({step.process} creates it at step {step.number})" if step else ""
            self.border_subtitle = ""
            _put(banner, Content.styled(f"not created yet{when}", "italic $text-muted"))
            graph.set_hops([])
            _put(details, Content(""))
            return
        self.state = o
        gone = not o.exists
        self.set_class(gone, "-gone")
        self.set_class(bool(o.waiters) and not gone, "-waiting")
        self.set_class(bool(o.deadlock), "-deadlock")
        self.border_subtitle = self._subtitle(o)
        value = "?" if o.value is None else str(o.value)
        digits.update(value if o.value is not None else "-")
        digits.set_class(o.value == 0, "-zero")
        facts.update(self._facts(o, snapshot))
        self.hops = []
        if gone:
            _put(banner, self._gone(o))
            graph.set_hops([])
        else:
            _put(banner, self._deadlock(o, snapshot))
            graph.set_hops(self.hops)
        body = Content("")
        if sources:
            pids = {p.name: p.pid for p in snapshot.processes}
            body = sources_content(provenance.for_object(o, None, pids))
        _put(details, body)

    # -- parts ----------------------------------------------------------------------------

    def _subtitle(self, o: SemState) -> str:
        if o.flavor == "posix":
            return f"/dev/shm/sem.{o.name.lstrip('/')}" if o.name else ""
        return f"key {o.key} · semid {o.semid}"

    def _facts(self, o: SemState, snapshot: Snapshot) -> Content:
        lines: list[Content] = []
        if o.value is None:
            lines.append(Content.styled("value unknown", "$text-muted"))
        else:
            tokens = ("● " * min(o.value, MAX_TOKENS)).rstrip()
            more = f" +{o.value - MAX_TOKENS}" if o.value > MAX_TOKENS else ""
            meaning = ("no unit free: the next wait sleeps" if o.value == 0
                       else f"{words.count(o.value, 'unit')} free: a wait returns at once")
            lines.append(Content.assemble(("value ", "$text-secondary"), (str(o.value), "b"),
                                          "  ", (tokens + more, "b $text-success"),
                                          (f"  {meaning}", "$text-muted")))
        wait_call = "semop" if o.flavor == "sysv" else "sem_wait"
        if o.waiters:
            parts: list = [("waiting ", "$text-secondary"), ("(kernel) ", "$text-muted")]
            for name in o.waiters:
                parts += [(f"■ {name}", "b $text-error"), "  "]
            parts.append((f"asleep in {wait_call}", "$text-muted"))
            lines.append(Content.assemble(*parts))
        else:
            lines.append(Content.assemble(("waiting ", "$text-secondary"),
                                          ("nobody", "$text-muted")))
        held: list = [("held by ≈ ", "$text-secondary")]
        for name in o.holders:
            held += [(name, "b i"), "  "]
        for name in o.dead_holders:
            held += [(f"☠ {name}", "b i $text-warning"), ("(died holding it) ", "$text-warning")]
        if not o.holders and not o.dead_holders:
            held.append(("nobody", "i $text-muted"))
        held.append(("(inferred from the steps)", "$text-muted"))
        lines.append(Content.assemble(*held))
        if o.flavor == "sysv":
            last = o.last_op_by or "-"
            pid = f" (sempid {o.last_pid})" if o.last_pid else ""
            lines.append(Content.assemble(
                ("semncnt ", "$text-secondary"), (str(_q(o.ncount)), "b"),
                ("  semzcnt ", "$text-secondary"), (str(_q(o.zcount)), "b"),
                ("  last semop by ", "$text-secondary"), (last, "b"), (pid, "$text-muted")))
        if o.undo:
            lines.append(Content.assemble(
                ("SEM_UNDO ≈ ", "$text-secondary"), (", ".join(o.undo), "b"),
                ("  the kernel gives these back when the process exits (inferred)",
                 "$text-muted")))
        return Content("\n").join(lines)

    def _gone(self, o: SemState) -> Content:
        if o.flavor == "sysv":
            return Content.assemble(("removed (IPC_RMID)", "b"),
                                    f": semid {o.semid} is no longer in /proc/sysvipc/sem")
        return Content.assemble(("gone", "b"), ": the name is unlinked (sem_unlink)")

    def _deadlock(self, o: SemState, snapshot: Snapshot) -> Content:
        """The banner; sets self.hops when this view draws the graph."""
        if not o.deadlock:
            return Content("")
        members = set(o.deadlock)
        first = next((s for s in snapshot.objects if isinstance(s, SemState)
                      and set(s.deadlock) == members), o)
        who = " and ".join(o.deadlock) if len(o.deadlock) == 2 else ", ".join(o.deadlock)
        if first.id != o.id:
            where = f"  {self.oid} is part of the cycle of {who}, drawn under {first.id}"
            return Content.assemble(("⟳ DEADLOCK", "b reverse $text-error"),
                                    (where, "b $text-error"))
        self.hops = cycle_hops(snapshot, o.deadlock)
        text = (f"{who} each wait for a semaphore the other holds: neither can ever go on"
                if len(o.deadlock) == 2 else
                f"{who} wait in a circle, each for a semaphore the next one holds")
        return Content.assemble(("⟳ DEADLOCK", "b reverse $text-error"), (f"  {text}",
                                                                          "b $text-error"))


def _put(widget: Static, content: Content) -> None:
    """Show content; an empty part takes no row."""
    widget.display = bool(content.plain)
    widget.update(content)


def _q(v) -> str:
    return "?" if v is None else str(v)


def _register() -> None:
    from .objects import OBJECT_VIEWS

    OBJECT_VIEWS["sem"] = SemView
    OBJECT_VIEWS["sysv_sem"] = SemView


_register()
