"""A semaphore in kernel space: its count, who sleeps on it, who holds it (inferred).

     ┌─┐   value 0   (no token left: the next wait sleeps)
     │0│   waiting (kernel)   ■ p3  ■ p4        semncnt 2 · semzcnt 0
     └─┘   held by ≈          p1  p2            (inferred from the steps)

The count is the kernel's (sem_getvalue / semctl GETVAL), drawn as a big number and a row
of tokens; the waiters are the processes the kernel shows asleep on it; the holders are
inferred from the lesson's steps and say so.  When the model finds a wait-for cycle through
this semaphore, the first semaphore of the cycle draws the graph as boxes and arrows
(`graph_rows`, drawn in its docstring): solid where the kernel says it (a sleeps in semop on
s2's id), dashed where it is inferred (b holds s2); on one line (a → s2 → b → s1 → a) when
the boxes do not fit the panel.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Digits, Static

from ...model import provenance
from ...model.sem import SemState
from ...model.snapshot import Snapshot
from ...scenario.model import Scenario
from .. import words
from ..i18n import add_texts, cells, lang_of, tr
from .sources import sources_content
from .lines import no_room, put
from .objects import ObjectPanel

MAX_TOKENS = 12
KERNEL_EDGE = "waits for"
INFERRED_EDGE = "held by"

# The words of the semaphore views: key -> (English, Chinese), read with i18n.tr().
TEXTS: dict[str, tuple[str, str]] = {
    "sem_posix_title": ("POSIX semaphore {oid}", "POSIX 信号量 {oid}"),
    "sem_sysv_title": ("System V semaphore {oid}", "System V 信号量 {oid}"),
    "sem_waits_for": ("waits for", "等待"),
    "sem_held_by": ("held by", "持有者"),
    "sem_legend_kernel": ("the kernel: asleep in the call on this semaphore   ",
                          "内核所见：睡在这个信号量的调用中   "),
    "sem_legend_inferred": ("inferred from the steps", "根据步骤推断"),
    "sem_value_unknown": ("value unknown", "值未知"),
    "sem_no_unit": ("no unit free: the next wait sleeps", "没有空闲单位：下一次 wait 会睡眠"),
    "sem_units_free": ("{n} unit(s) free: a wait returns at once",
                       "{n} 个空闲单位：wait 立即返回"),
    "sem_value": ("value ", "值 "),
    "sem_waiting": ("waiting ", "等待中 "),
    "sem_kernel": ("(kernel) ", "（内核） "),
    "sem_asleep_in": ("asleep in {call}", "睡在 {call} 中"),
    "sem_nobody": ("nobody", "无"),
    "sem_queue": ("queue ≈ ", "队列 ≈ "),
    "sem_queue_step": (" (step {step})", "（第 {step} 步）"),
    "sem_queue_how": (("  the order they began waiting, from the steps: the kernel shows who "
                       "waits (exact), not in which order it will wake them"),
                      "  按开始等待的顺序，来自步骤：内核只显示谁在等（精确），不显示唤醒顺序"),
    "sem_held_by_inferred": ("held by ≈ ", "持有者 ≈ "),
    "sem_died_holding": ("(died holding it) ", "（持有时死亡） "),
    "sem_inferred": ("(inferred from the steps)", "（根据步骤推断）"),
    "sem_last_semop": ("  last semop by ", "  最后 semop："),
    "sem_undo_back": ("  the kernel gives these back when the process exits (inferred)",
                      "  进程退出时内核会归还这些（推断）"),
    "sem_removed_text": (": semid {semid} is no longer in /proc/sysvipc/sem",
                         "：semid {semid} 已不在 /proc/sysvipc/sem 中"),
    "sem_gone_text": (": the name is unlinked (sem_unlink)", "：名字已被删除（sem_unlink）"),
    "sem_deadlock": ("⟳ DEADLOCK", "⟳ 死锁"),
    "sem_set_head": ("semnum  value  semncnt semzcnt  last semop  waiting ≈   held by ≈",
                     "编号    值     semncnt semzcnt  最后 semop  等待者 ≈    持有者 ≈"),
    "sem_set_how": (("  value, semncnt, semzcnt, last semop: the kernel (semctl per semnum); "
                     "≈ inferred from the steps (which semaphore a sleeper's semop blocks on "
                     "is in its memory, not in /proc)"),
                    ("  值、semncnt、semzcnt、最后 semop：内核（逐个 semnum 的 semctl）；"
                     "≈ 根据步骤推断（睡眠者的 semop 卡在哪个信号量上，"
                     "在它的内存里，/proc 中没有）")),
    "sem_and": (" and ", " 和 "),
    "sem_part_of": ("  {oid} is part of the cycle of {who}, drawn under {first}",
                    "  {oid} 属于 {who} 的等待环，画在 {first} 下面"),
    "sem_two": ("{who} each wait for a semaphore the other holds: neither can ever go on",
                "{who} 各自等待对方持有的信号量：谁都无法继续"),
    "sem_circle": ("{who} wait in a circle, each for a semaphore the next one holds",
                   "{who} 围成一圈等待，每个都在等下一个持有的信号量"),
}
add_texts(TEXTS)


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
        # A semaphore of a set: the kernel shows p asleep on the set's id, which of its
        # semaphores it waits for is inferred from its step (a dashed edge, like "held by")
        via = next((f"{s.id}[{n}]" for s in sems if s.nsems > 1
                    for n, (w, h) in enumerate(zip(s.sem_waiters, s.sem_holders))
                    if p in w and q in h), None)
        in_set = via is not None
        via = via or next((s.id for s in sems if s.nsems == 1 and p in s.waiters
                           and q in s.holders), None)
        if via is None:
            proc = snapshot.process_named(p)
            via = proc.waits_on if proc and proc.waits_on else "?"
        hops.append(Hop(p, KERNEL_EDGE, via, in_set))
        hops.append(Hop(via, INFERRED_EDGE, q, True))
    return hops


EDGE_KEYS = {KERNEL_EDGE: "sem_waits_for", INFERRED_EDGE: "sem_held_by"}


def edge_words(label: str, lang: str = "en") -> str:
    """An edge's label as drawn in `lang` (the Hop keeps the English one)."""
    return tr(EDGE_KEYS[label], lang) if label in EDGE_KEYS else label


def cycle_text(hops: list[Hop], lang: str = "en") -> str:
    """The cycle on one line, as plain text (tests, and a reader of a failure message)."""
    if not hops:
        return ""
    out = hops[0].src
    for h in hops:
        dash = "╌╌" if h.inferred else "──"
        out += f" {dash}{edge_words(h.label, lang)}{dash}▶ {h.dst}"
    return out


# Roles of the cells of the drawn graph (the widget gives each a style).
PROC, SEM, KERNEL, INFERRED, LABEL, KERNEL_LABEL = ("proc", "sem", "kernel", "inferred",
                                                    "label", "kernel_label")
Run_ = tuple[str, str]  # (text, role); role "" is blank space


def graph_rows(hops: list[Hop], lang: str = "en", width: int = 40) -> list[list[Run_]]:
    """The wait-for cycle as boxes and arrows, one list of (text, role) runs per row.

    The cycle's nodes go round a rectangle: the first half left to right on the top row,
    the second half right to left on the bottom row, so every arrow follows the cycle:

        ┌────┐ waits for ┌────┐
        │ a  │──────────▶│ s2 │
        └─▲──┘           └──┬─┘
          ╎ held by         ╎ held by
        ┌─┴──┐           ┌──▼─┐
        │ s1 │◀──────────│ b  │
        └────┘ waits for └────┘

    Kernel edges are solid (─ │), inferred ones dashed (╌ ╎).  The right edge's label goes
    left of its line when right of it would pass `width`.  Pure: no widget.  [] when the
    hops are not a process/semaphore cycle (an odd number of nodes).
    """
    n = len(hops)
    if not n or n % 2:
        return []
    g = _GraphShape(hops, lang, width)
    canvas = _Canvas(g.bottom_row + 3, g.total)
    procs = {h.src for h in hops if h.label == KERNEL_EDGE}
    for i in range(g.k):
        for row, name in ((0, g.top[i]), (g.bottom_row, g.bottom[i])):
            canvas.box(row, g.xs[i], g.width_of[i], name, PROC if name in procs else SEM)
    for i in range(g.k - 1):
        _horizontal_edges(canvas, g, i, lang)
    for x, h, at, going_down, mid in g.verticals():
        edge, label, line, _ = _edge_roles(h)
        canvas.put_chars(2, x, "┬" if going_down else "▲", edge)
        canvas.put_chars(g.bottom_row, x, "▼" if going_down else "┴", edge)
        for r in range(3, g.bottom_row):
            canvas.put_chars(r, x, line, edge)
        canvas.put_text(mid, at, edge_words(h.label, lang), label)
    return [_merge(row) for row in canvas.grid]


class _GraphShape:
    """Where graph_rows puts things: boxes on two rows, the gaps between them (wide enough
    for their labels), and the two vertical edges with their labels."""

    def __init__(self, hops: list[Hop], lang: str, width: int) -> None:
        n = len(hops)
        nodes = [h.src for h in hops]
        self.hops, self.n, self.k = hops, n, n // 2
        k = self.k
        self.top, self.bottom = nodes[:k], [nodes[n - 1 - j] for j in range(k)]
        # one column holds both vertical lines: keep them apart, the left one's label
        # between them (a process waiting for itself)
        least = cells(edge_words(hops[n - 1].label, lang)) + 8 if k == 1 else 5
        self.width_of = [max(max(cells(self.top[i]), cells(self.bottom[i])) + 4, least)
                         for i in range(k)]
        self.gaps = [max(cells(edge_words(hops[i].label, lang)),
                         cells(edge_words(hops[n - 2 - i].label, lang))) + 2
                     for i in range(k - 1)]
        self.xs = [0]
        for i in range(k - 1):
            self.xs.append(self.xs[-1] + self.width_of[i] + self.gaps[i])
        boxes_end = self.xs[-1] + self.width_of[-1]
        # the two vertical edges: down on the right (hop k-1), up on the left (hop n-1)
        self.down, self.up = hops[k - 1], hops[n - 1]
        self.x_down, self.x_up = boxes_end - 3, 2
        down_words = edge_words(self.down.label, lang)
        up_end = self.x_up + 2 + cells(edge_words(self.up.label, lang))
        if self.x_down + 2 + cells(down_words) <= max(width, boxes_end):
            self.down_at = self.x_down + 2  # right of its line
            self.two_mid = up_end >= self.x_down
        else:
            self.down_at = self.x_down - 1 - cells(down_words)  # left of its line
            self.two_mid = up_end + 2 > self.down_at  # two labels on one row need a gap
        right_label = self.x_down + 2 + cells(down_words) if self.down_at > self.x_down else 0
        self.total = max(boxes_end, right_label)
        self.bottom_row = 5 if self.two_mid else 4

    def verticals(self) -> tuple[tuple[int, Hop, int, bool, int], ...]:
        """(x, hop, label x, going down, label row) of the right and the left edge."""
        up_at = self.x_up + 2
        return ((self.x_down, self.down, self.down_at, True, 3),
                (self.x_up, self.up, up_at, False, 4 if self.two_mid else 3))


class _Canvas:
    """A grid of one (text, role) run per cell."""

    def __init__(self, rows: int, cols: int) -> None:
        self.grid: list[list[Run_]] = [[(" ", "")] * cols for _ in range(rows)]

    def put_text(self, row: int, x: int, text: str, role: str) -> None:
        self.grid[row][x] = (text, role)  # one run per cell: a wide character fills the next
        for j in range(1, cells(text)):
            self.grid[row][x + j] = ("", role)

    def put_chars(self, row: int, x: int, text: str, role: str) -> None:
        for j, ch in enumerate(text):
            self.grid[row][x + j] = (ch, role)

    def box(self, row: int, x: int, w: int, name: str, role: str) -> None:
        self.put_chars(row, x, "┌" + "─" * (w - 2) + "┐", role)
        self.put_chars(row + 1, x, "│ ", role)
        self.put_text(row + 1, x + 2, name, role)
        self.put_chars(row + 1, x + 2 + cells(name), " " * (w - 4 - cells(name)) + " │", role)
        self.put_chars(row + 2, x, "└" + "─" * (w - 2) + "┘", role)


def _edge_roles(h: Hop) -> tuple[str, str, str, str]:
    """(edge role, label role, line, arrow shaft) of an edge."""
    if h.inferred:
        return INFERRED, LABEL, "╎", "╌"
    return KERNEL, KERNEL_LABEL, "│", "─"


def _horizontal_edges(canvas: _Canvas, g: _GraphShape, i: int, lang: str) -> None:
    """The arrows between box i and box i+1: rightwards on the top, leftwards below."""
    x0, gap = g.xs[i] + g.width_of[i], g.gaps[i]
    edge, label, _, shaft = _edge_roles(g.hops[i])
    canvas.put_chars(1, x0, shaft * (gap - 1) + "▶", edge)
    canvas.put_text(0, x0 + 1, edge_words(g.hops[i].label, lang), label)
    back = g.hops[g.n - 2 - i]
    edge, label, _, shaft = _edge_roles(back)
    canvas.put_chars(g.bottom_row + 1, x0, "◀" + shaft * (gap - 1), edge)
    canvas.put_text(g.bottom_row + 2, x0 + 1, edge_words(back.label, lang), label)


def _merge(row: list[Run_]) -> list[Run_]:
    """Adjacent cells of one role as one run; trailing blanks dropped."""
    out: list[Run_] = []
    for text, role in row:
        if out and out[-1][1] == role:
            out[-1] = (out[-1][0] + text, role)
        else:
            out.append((text, role))
    while out and out[-1][1] == "" and not out[-1][0].strip():
        out.pop()
    return out


def graph_lines(hops: list[Hop], lang: str = "en", width: int = 40) -> list[str]:
    """graph_rows() as plain text lines (tests, and the width check)."""
    return ["".join(t for t, _ in row) for row in graph_rows(hops, lang, width)]


def cycle_line(hops: list[Hop]) -> str:
    """The cycle on one short line, for a panel too narrow for the boxes:
    a → s2 → b → s1 → a."""
    if not hops:
        return ""
    return " → ".join([h.src for h in hops] + [hops[0].src])


ROLE_STYLES = {PROC: "b $text-accent", SEM: "b $text-primary", KERNEL: "b $text-error",
               INFERRED: "$text-error", KERNEL_LABEL: "$text-error", LABEL: "i $text-error",
               "": ""}


class WaitForGraph(Widget):
    """The deadlock cycle as boxes and arrows (graph_rows) when they fit the width, else
    on one line (a → s2 → b → s1 → a); a legend says which edges the kernel showed."""

    DEFAULT_CSS = """
    WaitForGraph { height: auto; width: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hops: list[Hop] = []
        self.lang = "en"

    def set_hops(self, hops: list[Hop], lang: str = "en") -> None:
        self.hops = list(hops)
        self.lang = lang
        self.display = bool(self.hops)
        self.refresh(layout=True)

    def _rows(self, width: int) -> list[list[Run_]]:
        """The boxes, or [] when they do not fit `width` (then the one-line cycle)."""
        rows = graph_rows(self.hops, self.lang, width)
        if any(sum(cells(t) for t, _ in row) > width for row in rows):
            return []
        return rows

    def _legend(self, width: int) -> list[Content]:
        if no_room(self):
            return []  # the stage gives every row to the step's focus (StageScreen.FOLDS)
        lang = self.lang
        kernel = Content.assemble(("── ", ROLE_STYLES[KERNEL]),
                                  (tr("sem_legend_kernel", lang).rstrip(), "$text-muted"))
        inferred = Content.assemble(("╌╌ ", ROLE_STYLES[INFERRED]),
                                    (tr("sem_legend_inferred", lang), "$text-muted"))
        one = Content.assemble(kernel, "   ", inferred)
        return [one] if one.cell_length <= width else [kernel, inferred]

    def get_content_height(self, container, viewport, width: int) -> int:
        if not self.hops:
            return 0
        rows = self._rows(width)
        legend = len(self._legend(width))
        if rows:
            return len(rows) + legend
        line = Content(cycle_line(self.hops))
        return max(1, -(-line.cell_length // max(width, 1))) + legend

    def render(self) -> Content:
        if not self.hops:
            return Content("")
        width = self.content_region.width or self.size.width
        rows = self._rows(width)
        if rows:
            lines = [Content.assemble(*((t, ROLE_STYLES[r]) for t, r in row)) for row in rows]
        else:
            lines = [Content.styled(cycle_line(self.hops), ROLE_STYLES[KERNEL])]
        return Content("\n").join([*lines, *self._legend(width)])


def waiter_queue(snapshot: Snapshot, waiters: tuple[str, ...]) -> list[tuple[str, int | None]]:
    """The kernel's waiters (a set) in the order they began their waiting step: (name,
    step).  The step is the one the process last began, which for a process asleep in the
    wait is the wait itself.  Inferred from the steps: the kernel exposes no such order."""
    steps = {}
    for name in waiters:
        p = snapshot.process_named(name)
        steps[name] = p.step if p is not None else None
    ordered = sorted(waiters, key=lambda n: (steps[n] is None, steps[n] or 0))
    return [(n, steps[n]) for n in ordered]


class SemView(ObjectPanel):
    """Kernel-space box of one semaphore (POSIX named or System V)."""

    DEFAULT_CSS = """
    SemView { border-subtitle-color: $text-muted; }
    SemView.-waiting { border: heavy $error 70%; }
    SemView.-deadlock { border: heavy $error; border-title-color: $text-error; }
    SemView.-gone > .sem--top, SemView.-unborn > .sem--top { display: none; }
    SemView > .sem--top { height: auto; }
    SemView .sem--value {
        width: auto; min-width: 5; height: auto; padding: 0 2 0 0; color: $text-primary;
    }
    SemView .sem--value.-zero { color: $text-error; }
    SemView .sem--value.-set { display: none; }
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
        self.lang = "en"  # the app's language when the view was last drawn
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
        lang = self.lang = lang_of(self)
        self.border_title = tr("sem_posix_title" if self.kind == "sem" else "sem_sysv_title",
                               lang, oid=self.oid)
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
            when = (tr("creates_it", lang, process=step.process, step=step.number) if step
                    else "")
            self.border_subtitle = ""
            put(banner, Content.styled(tr("not_created", lang, when=when), "italic $text-muted"))
            graph.set_hops([], lang)
            put(details, Content(""))
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
        # a set's values are in its table; a class, not an inline display, so that the
        # stage's fold (-fold-detail in ipcviz.tcss) can still hide the digits
        digits.set_class(o.nsems > 1, "-set")
        facts.update(self._facts(o, snapshot))
        self.hops = []
        if gone:
            put(banner, self._gone(o))
            graph.set_hops([], lang)
        else:
            put(banner, self._deadlock(o, snapshot))
            graph.set_hops(self.hops, lang)
        body = Content("")
        if sources:
            pids = {p.name: p.pid for p in snapshot.processes}
            body = sources_content(provenance.for_object(o, None, pids))
        put(details, body)

    # -- parts ----------------------------------------------------------------------------

    def _subtitle(self, o: SemState) -> str:
        if o.flavor == "posix":
            return f"/dev/shm/sem.{o.name.lstrip('/')}" if o.name else ""
        return f"key {o.key} · semid {o.semid}"

    def _set_rows(self, o: SemState) -> list[Content]:
        """A System V set: one row per semaphore, the kernel's numbers, then ≈ inferred."""
        lang = self.lang
        lines = [Content.styled(tr("sem_set_head", lang), "$text-secondary")]
        for n, value in enumerate(o.values):
            waiting = ", ".join(o.sem_waiters[n]) if n < len(o.sem_waiters) else ""
            held = ", ".join(o.sem_holders[n]) if n < len(o.sem_holders) else ""
            tokens = ("●" * min(value, 5)) + ("+" if value > 5 else "")
            lines.append(Content.assemble(
                (f"[{n}]".ljust(8), "b"), (str(value).ljust(3), "b $text-error" if value == 0
                                            else "b"),
                (tokens.ljust(4), "b $text-success"),
                (str(o.ncounts[n]).ljust(8), "b"), (str(o.zcounts[n]).ljust(9), "b"),
                (o.last_ops_by[n][:11].ljust(12), ""),
                (waiting[:11].ljust(12), "b i $text-error"), (held[:14], "b i")))
        lines.append(Content.styled(tr("sem_set_how", lang), "$text-muted"))
        return lines

    def _facts(self, o: SemState, snapshot: Snapshot) -> Content:
        lang = self.lang
        lines: list[Content] = self._set_rows(o) if o.nsems > 1 else [self._value_line(o)]
        wait_call = "semop" if o.flavor == "sysv" else "sem_wait"
        brief = no_room(self)  # no room (StageScreen.FOLDS)
        if brief and not o.waiters:
            return Content("\n").join(lines)  # the value says it
        if o.waiters:
            parts: list = [(tr("sem_waiting", lang), "$text-secondary"),
                           (tr("sem_kernel", lang), "$text-muted")]
            for name in o.waiters:
                parts += [(f"■ {name}", "b $text-error"), "  "]
            parts.append((tr("sem_asleep_in", lang, call=wait_call), "$text-muted"))
            lines.append(Content.assemble(*parts))
            if brief:
                return Content("\n").join(lines)  # who sleeps; not the queue's order
            if len(o.waiters) > 1:
                lines.append(self._queue(o, snapshot))
        else:
            lines.append(Content.assemble((tr("sem_waiting", lang), "$text-secondary"),
                                          (tr("sem_nobody", lang), "$text-muted")))
        lines.append(self._held_line(o))
        lines += self._kernel_lines(o)
        return Content("\n").join(lines)

    def _value_line(self, o: SemState) -> Content:
        """One semaphore's count, as tokens and what a wait would do now."""
        lang = self.lang
        if o.value is None:
            return Content.styled(tr("sem_value_unknown", lang), "$text-muted")
        tokens = ("● " * min(o.value, MAX_TOKENS)).rstrip()
        more = f" +{o.value - MAX_TOKENS}" if o.value > MAX_TOKENS else ""
        if o.value == 0:
            meaning = tr("sem_no_unit", lang)
        elif lang == "en":
            meaning = f"{words.count(o.value, 'unit')} free: a wait returns at once"
        else:
            meaning = tr("sem_units_free", lang, n=o.value)
        return Content.assemble((tr("sem_value", lang), "$text-secondary"),
                                (str(o.value), "b"),
                                "  ", (tokens + more, "b $text-success"),
                                (f"  {meaning}", "$text-muted"))

    def _held_line(self, o: SemState) -> Content:
        """Who holds a unit: inferred from the steps, and marked so."""
        lang = self.lang
        held: list = [(tr("sem_held_by_inferred", lang), "$text-secondary")]
        for name in o.holders:
            held += [(name, "b i"), "  "]
        for name in o.dead_holders:
            held += [(f"☠ {name} ", "b i $text-warning"),
                     (tr("sem_died_holding", lang), "$text-warning")]
        if not o.holders and not o.dead_holders:
            held += [(tr("sem_nobody", lang), "i $text-muted"), " "]
        held.append((tr("sem_inferred", lang), "$text-muted"))
        return Content.assemble(*held)

    def _kernel_lines(self, o: SemState) -> list[Content]:
        """System V's own counts of one semaphore, and the SEM_UNDO the kernel will apply."""
        lang = self.lang
        lines = []
        if o.flavor == "sysv" and o.nsems <= 1:
            last = o.last_op_by or "-"
            pid = f" (sempid {o.last_pid})" if o.last_pid else ""
            lines.append(Content.assemble(
                ("semncnt ", "$text-secondary"), (str(_q(o.ncount)), "b"),
                ("  semzcnt ", "$text-secondary"), (str(_q(o.zcount)), "b"),
                (tr("sem_last_semop", lang), "$text-secondary"), (last, "b"), (pid, "$text-muted")))
        if o.undo:
            lines.append(Content.assemble(
                ("SEM_UNDO ≈ ", "$text-secondary"), (", ".join(o.undo), "b"),
                (tr("sem_undo_back", lang), "$text-muted")))
        return lines

    def _queue(self, o: SemState, snapshot: Snapshot) -> Content:
        """The waiters as an ordered queue, marked inferred (the order is the steps')."""
        lang = self.lang
        parts: list = [(tr("sem_queue", lang), "$text-secondary")]
        for i, (name, step) in enumerate(waiter_queue(snapshot, o.waiters)):
            if i:
                parts.append((" → ", "$text-muted"))
            parts += [(f"{i + 1}. ", "$text-muted"), (name, "b i"),
                      (tr("sem_queue_step", lang, step=step) if step else "", "$text-muted")]
        parts.append((tr("sem_queue_how", lang), "$text-muted"))
        return Content.assemble(*parts)

    def _gone(self, o: SemState) -> Content:
        lang = self.lang
        if o.flavor == "sysv":
            return Content.assemble((tr("mq_removed", lang), "b"),
                                    tr("sem_removed_text", lang, semid=o.semid))
        return Content.assemble((tr("mq_gone", lang), "b"), tr("sem_gone_text", lang))

    def _deadlock(self, o: SemState, snapshot: Snapshot) -> Content:
        """The banner; sets self.hops when this view draws the graph."""
        if not o.deadlock:
            return Content("")
        members = set(o.deadlock)
        first = next((s for s in snapshot.objects if isinstance(s, SemState)
                      and set(s.deadlock) == members), o)
        lang = self.lang
        who = (tr("sem_and", lang).join(o.deadlock) if len(o.deadlock) == 2
               else ("、" if lang == "zh" else ", ").join(o.deadlock))
        if first.id != o.id:
            where = tr("sem_part_of", lang, oid=self.oid, who=who, first=first.id)
            return Content.assemble((tr("sem_deadlock", lang), "b reverse $text-error"),
                                    (where, "b $text-error"))
        self.hops = cycle_hops(snapshot, o.deadlock)
        text = tr("sem_two" if len(o.deadlock) == 2 else "sem_circle", lang, who=who)
        return Content.assemble((tr("sem_deadlock", lang), "b reverse $text-error"),
                                (f"  {text}", "b $text-error"))


def _q(v) -> str:
    return "?" if v is None else str(v)


OBJECT_VIEWS = {"sem": SemView, "sysv_sem": SemView}
