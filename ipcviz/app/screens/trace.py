"""The stage on a live `ipcviz trace`: you choose who runs.

Space / → lets the first ready process make the call it is held at; a digit (1–9, shown on
the cards) or a click on a card lets *that* process go next; p plays (the session runs freely
until a process blocks or ends, or nothing can move).  A process that cannot go (asleep,
running, gone) is refused with one line on screen.  Every call to the session runs in one
thread worker (`LiveTrace` in app/tracing.py); the screen only draws what comes back.

The cast grows as the program forks: when a snapshot brings a process or an object the stage
has no card or panel for, the screen is composed again from the snapshots so far (cards by
pid, named as last seen).  When every process is asleep, a panel above the cards
draws the wait-for cycle (the lessons' WaitForGraph) and says why nothing can move (the
sentence of model/waitfor.py, as `attach --watch` says it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from ...model.snapshot import EXITED, STOPPED, ZOMBIE, Process, Snapshot
from ...model.waitfor import Stuck, stuck
from ...runtime import RunError
from ...scenario.model import Scenario
from ...textsafe import printable, printable_data
from ..access import ipcviz_app
from ..tracing import MAX_KEYS, LiveTrace, after_step, cast, cast_key, refusal, stop_reason
from ..widgets import ProcessCard
from ..widgets.sem import INFERRED_EDGE, KERNEL_EDGE, Hop, WaitForGraph, cycle_hops
from .stage import StageScreen


class TraceCard(ProcessCard):
    """A traced process's card, keyed by pid: its key, the call it is about to make (as the
    tracer decoded it), and what its last step got."""

    def __init__(self, name: str, scenario: Scenario, pid: int, key: int | None, *,
                 id: str | None = None) -> None:
        super().__init__(name, scenario, id=id)
        self.pid = pid
        self.key = key
        self.about: str | None = None
        self.after: str | None = None

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        p = next((q for q in snapshot.processes if q.pid == self.pid), None)
        if p is not None:
            self.process_name = p.name  # renamed by exec or prctl: the name of that moment
        held = getattr(self.screen, "held_calls", None)
        about = (held(snapshot).get(self.pid) if held and p is not None
                 and p.state == STOPPED else None)
        after = after_step(p, snapshot) if p is not None else None
        if (about, after) != (self.about, self.after):
            self.about, self.after = about, after
            self._drawn_key = None
        super().show(snapshot, sources)
        prefix = f"{self.key} · " if self.key is not None else ""
        if prefix and not str(self.border_title).startswith(prefix):
            self.border_title = prefix + str(self.border_title)

    def _body(self, p: Process, snapshot: Snapshot) -> Content:
        body = super()._body(p, snapshot)
        lines = []
        if self.after:
            lines.append(Content.assemble(("→ ", "b"), (printable(self.after), "b")))
        if self.about:
            lines.append(Content.assemble(("about to: ", "b $text-warning"),
                                          (printable(self.about), "b")))
        return Content("\n").join([*lines, body])

    def on_click(self) -> None:
        choose = getattr(self.screen, "choose_pid", None)
        if choose is not None:
            choose(self.pid)


class CycleGraph(WaitForGraph):
    """The lessons' wait-for drawing; a cycle through pipes and children is all kernel
    facts (who sleeps in which call, who holds which end): its legend says so."""

    def _legend(self, width: int) -> list[Content]:
        if any(h.inferred for h in self.hops):
            return super()._legend(width)
        return [Content.styled("── the kernel: who sleeps in which call, who holds which end "
                               "(fd tables)", "$text-muted")]


class StuckPanel(Vertical):
    """Nothing can move: the wait-for cycle drawn, and one sentence saying why."""

    DEFAULT_CSS = """
    StuckPanel { height: auto; border: heavy $error; border-title-color: $text-error;
                 padding: 0 1; display: none; }
    StuckPanel.-shown { display: block; }
    StuckPanel > .stuck--why { color: $text-error; }
    """

    def compose(self) -> ComposeResult:
        self.border_title = "⟳ Nothing can move"
        yield CycleGraph()
        yield Static(classes="stuck--why")

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        caught = stuck(snapshot)
        hung = getattr(self.screen, "hung_at", lambda s: False)(snapshot)
        self.set_class(caught is not None or hung, "-shown")
        if caught is None and not hung:
            return
        self.query_one(CycleGraph).set_hops(hops_of(snapshot, caught), ipcviz_app(self).lang)
        why = caught.describe() if caught is not None else (
            "Nothing can move: every live process is asleep in a call, and no process of "
            "the program is left to wake it (a hang).")
        self.query_one(".stuck--why", Static).update(Content(printable(why)))


def hops_of(snapshot: Snapshot, caught: Stuck | None) -> list[Hop]:
    """The cycle to draw: a semaphore deadlock as the lessons draw it, else the first cycle
    through the processes caught (asleep on a pipe or FIFO end, in wait4 for a child)."""
    for o in snapshot.objects:
        cycle = getattr(o, "deadlock", ())
        if cycle:
            return cycle_hops(snapshot, tuple(cycle))
    if caught is None:
        return []
    waits = {w.process: w for w in caught.waits}
    path: list[str] = []
    name = caught.waits[0].process
    while name not in path:
        path.append(name)
        w = waits[name]
        others = [q for q in w.on if q in waits and q != name]
        name = others[0] if others else (w.on[0] if w.on else name)
        if name not in waits:
            return []
    path = path[path.index(name):]
    hops: list[Hop] = []
    for i, p in enumerate(path):
        w = waits[p]
        via = w.object or f"{w.call}()"
        hops.append(Hop(p, KERNEL_EDGE, via, False))
        hops.append(Hop(via, INFERRED_EDGE if w.inferred else "held by",
                        path[(i + 1) % len(path)], w.inferred))
    return hops


class TraceStageScreen(StageScreen):
    """A traced program on stage: you choose which process makes its call next."""

    BINDINGS = [
        Binding("space", "forward", "Next ready", priority=True),
        Binding("p", "play", "Play"),
        Binding("ctrl+c", "app.quit", "Quit", show=False, priority=True),
        Binding("1", "choose(1)", "Choose", key_display="1-9"),
        *[Binding(str(n), f"choose({n})", f"Choose {n}", show=False)
          for n in range(2, MAX_KEYS + 1)],
    ]

    @dataclass
    class Went(Message, bubble=False):
        generation: int
        snapshot: Snapshot
        finished: bool
        stuck: bool
        played: bool

    @dataclass
    class Refused(Message, bubble=False):
        generation: int
        message: str

    def __init__(self, scenario: Scenario, program: list[str]) -> None:
        super().__init__(scenario)
        self.program = program
        self._cast: tuple | None = None
        self._recasting = False
        self.refused: str | None = None  # the last refusal shown (tests read it)

    # -- the cast ---------------------------------------------------------------------------

    def _card(self, name: str) -> ProcessCard:
        pids = [pid for pid, n in (self._cast or ((), ()))[0] if n == name]
        if not pids:
            return super()._card(name)
        order = [pid for pid, _ in (self._cast or ((), ()))[0]]
        i = order.index(pids[0]) + 1
        return TraceCard(name, self.scenario, pids[0], i if i <= MAX_KEYS else None,
                         id=f"pid-{pids[0]}")

    def _stage_first(self) -> ComposeResult:
        yield StuckPanel(id="stuck", classes="object-view")

    def _show(self, reset_fold: bool = False) -> None:
        if self._recasting:
            return
        key = cast_key(self.player.history)
        if key != self._cast and self.player.history:
            self._cast = key
            self.scenario = cast(self.scenario.name, self.program, self.player.history)
            if self.run is not None:
                self.run.scenario = self.scenario
            self._shown_views = None
            self._recasting = True
            self.call_later(self._recompose_then_show)  # on this screen's own loop
            return
        if self.player.total != self.player.head_step:  # a trace's length: what ran so far
            self.player = replace(self.player, total=self.player.head_step)
        super()._show(reset_fold)

    async def _recompose_then_show(self) -> None:
        try:
            await self.recompose()
        finally:
            self._recasting = False
        self._fit_cards()
        self._show()

    def held_calls(self, snapshot: Snapshot) -> dict[int, str]:
        """pid -> the decoded call it is held at, as the tracer read it for SNAPSHOT."""
        run = self.run
        return run.about.get(snapshot.index, {}) if isinstance(run, LiveTrace) else {}

    def hung_at(self, snapshot: Snapshot) -> bool:
        """SNAPSHOT is the head of a session where every process is asleep."""
        run = self.run
        return (isinstance(run, LiveTrace) and run.stuck and bool(self.player.history)
                and snapshot.index == self.player.history[-1].index)

    def _next_step(self):
        return None  # no quiz: a traced program has no lesson steps

    def _narration(self, snap: Snapshot, lang: str) -> str | None:
        return None  # the session's own sentences, made from the kernel's facts

    # -- choosing who runs ------------------------------------------------------------------

    def _why_not(self, pid: int | None) -> str | None:
        run = self.run
        if not isinstance(run, LiveTrace) or self.player.failed:
            return "The trace is not running (r starts the program again)."
        if self.player.busy or not self.player.history:
            return "Wait: the last call has not settled yet."
        if self.player.in_history:
            return "You are looking back in history: End returns to the head, where you choose."
        if run.finished:
            return "The program has ended: no process is left to run (r runs it again)."
        if self._nothing_moves(self.player.history[-1]):
            return "Nothing can move: every process is asleep (see the wait-for panel)."
        if pid is None:
            return None
        head = self.player.history[-1]
        p = next((q for q in head.processes if q.pid == pid), None)
        return refusal(p, f"process {pid}")

    def _nothing_moves(self, head: Snapshot, stuck_now: bool = False) -> bool:
        """The session found every process asleep, or the head shows a wait-for cycle
        holding every live process (then no process is held at a call either)."""
        if stuck_now or self.hung_at(head):
            return True
        caught = stuck(head)
        live = {p.name for p in head.processes if p.state not in (EXITED, ZOMBIE)}
        return caught is not None and live <= set(caught.processes)

    def _refuse(self, message: str) -> None:
        self.refused = message
        self.notify(message, severity="warning", timeout=4, markup=False)

    def _go(self, pid: int | None, play: bool = False) -> None:
        why = self._why_not(pid)
        if why is not None:
            self._refuse(why)
            return
        self.refused = None
        self.player = self.player.stepping()
        self._worker_go(self.run, self.player.generation, pid, play)

    def choose_pid(self, pid: int) -> None:
        """A card was clicked: that process makes its call."""
        self._go(pid)

    def action_choose(self, n: int) -> None:
        order = [pid for pid, _ in (self._cast or ((), ()))[0]]
        if not 0 < n <= len(order):
            self._refuse(f"There is no card {n}: the program has {len(order)} processes.")
            return
        self._go(order[n - 1])

    def action_forward(self) -> None:
        if self.player.in_history:
            super().action_forward()  # through history, as in lessons
            return
        self._go(None)

    def action_play(self) -> None:
        """p: the live program runs freely (from history: back to the head first)."""
        if self.player.in_history and not self.player.busy:
            self.player = self.player.last()
            self._show()
        self._go(None, play=True)

    def action_restart(self) -> None:
        self._cast = None
        super().action_restart()

    @work(thread=True, exclusive=True, group="trace", exit_on_error=False)
    def _worker_go(self, run: LiveTrace, generation: int, pid: int | None,
                   play: bool) -> None:
        try:
            snap = printable_data(run.play() if play else run.step(pid))
            done, caught = run.finished, run.stuck
        except ValueError as err:
            self.post_message(self.Refused(generation, str(err)))
            return
        except RunError as err:
            self.post_message(self.Failed(generation, str(err)))
            return
        self.post_message(self.Went(generation, snap, done, caught, play))

    @on(Went)
    def _on_went(self, message: Went) -> None:
        if message.generation != self.player.generation:
            return
        snap = message.snapshot
        player = self.player.stepped(snap, message.finished)
        frozen = self._nothing_moves(snap, message.stuck)
        note = (stop_reason(snap, message.finished, frozen) if message.played
                else "nothing can move" if frozen
                else "the program ended" if message.finished else "")
        self.player = replace(player, total=snap.step, note=note)
        self._show()

    @on(Refused)
    def _on_refused(self, message: Refused) -> None:
        if message.generation != self.player.generation:
            return
        self.player = replace(self.player, busy=False)
        self._refuse(message.message)

    def trace_commands(self):
        """The command palette's entries of this stage: (title, help, callback)."""
        yield ("Next ready process makes its call (space)",
               "The first process held at a call makes it", lambda: self._go(None))
        yield ("Play until something blocks (p)",
               "Run freely; stop when a process blocks or ends, or nothing can move",
               self.action_play)
        for i, (pid, name) in enumerate((self._cast or ((), ()))[0][:MAX_KEYS], 1):
            yield (f"Choose {printable(name)} (pid {pid}) ({i})",
                   "This process makes its held call next",
                   lambda pid=pid: self._go(pid))
