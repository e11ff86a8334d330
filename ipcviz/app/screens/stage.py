"""The stage: a scenario running on real processes, user space above kernel space.

All blocking work (start, step, sample, close of a Run) runs in thread workers; results come
back as messages carrying the generation of the run they belong to, so a result of a run
that was restarted or replaced meanwhile is dropped.  What the viewer sees and what is in
flight is one immutable Player (ipcviz.model.player) in a reactive: every key and every
result is a transition of it, the status bar is bound to it, and the screen only does what
a transition asks (start a worker, draw a snapshot, set the play timer).  The Player keeps
the snapshots received: stepping back redraws them exactly as they were, while the live
processes wait at the head.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from ...model.player import SPEEDS, Player  # noqa: F401  SPEEDS: named here for tests
from ...model.snapshot import Snapshot
from ...runtime import RunError
from ...scenario.model import Scenario, Step
from ...textsafe import printable, printable_data  # texts of a trace or a run: shown
from ..access import ipcviz_app
from ..i18n import localize_bindings, tr
from ..source import RunLike
from ..widgets.objects import view_for
from ..widgets.process_table import MANY, ProcessTable
from ..widgets import (
    CodeView,
    Narration,
    ProcessCard,
    StatusBar,
    SyscallLog,
    TooSmall,
)
from .quiz import NOT_ASKED, QuizPanel, QuizScreen

SAMPLE_EVERY = 0.4  # seconds between live looks at the kernel while idle at the head
HISTORY_FRAME = 1 / 30  # fastest replay of history: one snapshot per 1/30 s


class StageScreen(Screen):
    """A scenario on stage."""

    BINDINGS = [
        Binding("space", "forward", "Step", priority=True),
        Binding("right", "forward", "Step", show=False, priority=True),
        Binding("left", "back", "Back", priority=True),
        Binding("p", "play", "Play"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+", show=False),
        Binding("minus", "slower", "Slower", key_display="−", show=False),
        Binding("r", "restart", "Restart"),
        Binding("s", "sources", "Sources"),
        Binding("c", "toggle_side", "Code/log"),
        Binding("n", "next_scenario", "Next scenario", show=False),
        Binding("N", "previous_scenario", "Previous scenario", key_display="N", show=False),
        Binding("home", "first", "First snapshot", show=False),
        Binding("end", "last", "Head", show=False),
        Binding("escape", "picker", "Scenarios", show=False),
        Binding("g", "signal_table", "Signal table", show=False),
        Binding("i", "system_ipc", "System IPC", show=False),
        Binding("k", "toggle_quiz", "Quiz", show=False),
    ]

    # -- messages (posted by this screen's thread workers, handled by the screen only) ----

    @dataclass
    class Started(Message, bubble=False):
        generation: int
        snapshot: Snapshot

    @dataclass
    class Stepped(Message, bubble=False):
        generation: int
        snapshot: Snapshot
        finished: bool

    @dataclass
    class Sampled(Message, bubble=False):
        generation: int
        snapshot: Snapshot | None  # None: the run was closed meanwhile

    @dataclass
    class Failed(Message, bubble=False):
        generation: int
        message: str

    player: reactive[Player] = reactive(Player, init=False)

    def __init__(self, scenario: Scenario) -> None:
        super().__init__()
        self.scenario = scenario
        self.run: RunLike | None = None
        app = ipcviz_app(self)
        self.set_reactive(StageScreen.player, Player(
            total=len(scenario.steps), quiz=app.quiz, sources=app.show_sources))
        self._play_timer = None
        self.guesses: dict[int, int | None] = {}  # quiz step -> the class's guess (None: skipped)
        self._shown_views: list | None = None

    # -- the Player, read (tests and the app read these names) ----------------------------

    @property
    def history(self) -> tuple[Snapshot, ...]:
        return self.player.history

    @property
    def viewing(self) -> int:
        return self.player.viewing

    @property
    def shown(self) -> Snapshot | None:
        return self.player.shown

    @property
    def generation(self) -> int:
        return self.player.generation

    @property
    def busy(self) -> bool:
        """A start or a step is in flight for the current generation."""
        return self.player.busy

    @property
    def sampling(self) -> bool:
        """A live look at the head is in flight."""
        return self.player.sampling

    @property
    def finished(self) -> bool:
        return self.player.finished

    @property
    def playing(self) -> bool:
        return self.player.playing

    @property
    def speed(self) -> int:
        return self.player.speed

    @property
    def failed(self) -> str | None:
        return self.player.failed

    @property
    def asking(self) -> bool:
        return self.player.asking

    def watch_player(self, old: Player, new: Player) -> None:
        if not new.playing and self._play_timer is not None:
            self._play_timer.stop()  # paused, stopped at the end, failed, restarted
            self._play_timer = None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        lang = ipcviz_app(self).lang
        yield StatusBar(self.scenario.name, id="status").data_bind(StageScreen.player)
        yield TooSmall()
        yield QuizPanel(id="quiz")
        with VerticalScroll(id="narration-box"):
            yield Narration(id="narration")
        with Horizontal(id="body"):
            with VerticalScroll(id="stage"):
                yield from self._stage_first()
                with Grid(id="user") as user:
                    user.border_title = tr("user_space", lang)
                    if len(self.scenario.processes) > MANY:
                        yield ProcessTable(self.scenario, id="proc-table")
                    else:
                        for spec in self.scenario.processes:
                            yield self._card(spec.name)
                with Vertical(id="kernel") as kernel:
                    kernel.border_title = tr("kernel_space", lang)
                    for obj in self.scenario.objects:
                        yield view_for(obj.kind, obj.name, self.scenario, id=f"obj-{obj.name}")
            with Vertical(id="side"):
                code = CodeView(self.scenario, id="code")
                code.border_title = tr("code_box", lang)
                yield code
                log = SyscallLog(id="log")
                log.border_title = tr("log_box", lang)
                yield log
        yield Footer(show_command_palette=False)

    def _card(self, name: str) -> ProcessCard:
        """The card of process NAME (a traced program's stage numbers its cards)."""
        return ProcessCard(name, self.scenario, id=f"proc-{name}")

    def _stage_first(self) -> ComposeResult:
        """Widgets above the processes (a traced program's stage: why nothing can move)."""
        yield from ()

    CARD_WIDTH = 34  # columns a process card needs to be readable

    def on_resize(self) -> None:
        self._fit_cards()

    def _fit_cards(self) -> None:
        """As many card columns as fit: every card is shown, in rows, never cut off."""
        user = self.query_one("#user")
        cards = len(user.children) or 1
        width = user.size.width or self.size.width
        columns = max(1, min(cards, width // self.CARD_WIDTH))
        if user.styles.grid_size_columns != columns:
            user.styles.grid_size_columns = columns

    def on_mount(self) -> None:
        app = ipcviz_app(self)
        if app.lang != "en":
            localize_bindings(self, app.lang)
        title = printable(self.scenario.title_in(app.lang))  # the file's: literal text
        self.query_one("#narration", Narration).update(
            Content(tr("starting", app.lang, title=title)))
        self.set_interval(SAMPLE_EVERY, self._maybe_sample)
        self.call_after_refresh(self._fit_cards)
        self._start()

    def on_unmount(self) -> None:
        self._retire_run()

    # -- the run's life cycle -------------------------------------------------------------

    def _start(self) -> None:
        """Begin a new generation: fresh processes, empty history."""
        self._retire_run()
        app = ipcviz_app(self)
        self.guesses = {}
        try:
            run = app.make_run(self.scenario)
        except Exception as err:  # noqa: BLE001  the factory failed before any process: say why
            self.player = self.player.restart(len(self.scenario.steps)).start_failed()
            app.show_run_error(self.scenario.name, f"cannot start: {err}")
            return
        self.run = run
        self.player = self.player.restart(len(self.scenario.steps),
                                          replay=bool(getattr(run, "replay", False)))
        self._worker_start(run, self.player.generation)

    def _retire_run(self) -> None:
        run, self.run = self.run, None
        self.player = self.player.stop()
        if run is not None:
            ipcviz_app(self).close_run(run)

    @work(thread=True, exclusive=False, group="run", exit_on_error=False)
    def _worker_start(self, run: RunLike, generation: int) -> None:
        try:
            snap = printable_data(run.start())
        except RunError as err:
            self.post_message(self.Failed(generation, str(err)))
            return
        self.post_message(self.Started(generation, snap))

    @work(thread=True, exclusive=False, group="run", exit_on_error=False)
    def _worker_step(self, run: RunLike, generation: int) -> None:
        try:
            snap = printable_data(run.step())
            finished = run.finished
        except RunError as err:
            self.post_message(self.Failed(generation, str(err)))
            return
        self.post_message(self.Stepped(generation, snap, finished))

    @work(thread=True, exclusive=False, group="sample", exit_on_error=False)
    def _worker_sample(self, run: RunLike, generation: int) -> None:
        try:
            snap = printable_data(run.sample())
        except RunError:
            snap = None  # closed meanwhile: nothing to show
        self.post_message(self.Sampled(generation, snap))

    @on(Started)
    def _on_started(self, message: Started) -> None:
        if message.generation != self.player.generation:
            return
        self.player = self.player.started(message.snapshot,
                                          bool(self.run and self.run.finished))
        self._show()
        self._after_idle()

    @on(Stepped)
    def _on_stepped(self, message: Stepped) -> None:
        if message.generation != self.player.generation:
            return
        self.player = self.player.stepped(message.snapshot, message.finished)
        self._show()
        self._after_idle()

    @on(Sampled)
    def _on_sampled(self, message: Sampled) -> None:
        if message.generation != self.player.generation:
            return
        self.player, changed = self.player.sampled(message.snapshot)
        if changed:
            self._show()
        self._after_idle()

    @on(Failed)
    def _on_failed(self, message: Failed) -> None:
        if message.generation != self.player.generation:
            return
        self.player = self.player.failed_with(message.message)
        self._retire_run()  # a run that cannot go on leaves no process behind
        ipcviz_app(self).show_run_error(self.scenario.name, message.message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Anything but a RunError escaping a worker: a dialog, never a traceback."""
        if event.state == WorkerState.ERROR:
            err = event.worker.error
            self.player = self.player.failed_with(f"{type(err).__name__}: {err}")
            self._retire_run()
            ipcviz_app(self).show_run_error(self.scenario.name,
                                            f"internal error: {self.player.failed}")

    def _after_idle(self) -> None:
        """A worker finished: run a step that was asked for meanwhile, or go on playing."""
        self.player, then = self.player.after_idle()
        if then == "step":
            self._step()
        elif then == "play":
            self._schedule_play()
        elif then == "finished":
            self._no_more_steps()

    def _step(self) -> None:
        """A live step is wanted: run it, queue it, ask the class first, or say why not."""
        self.player, then = self.player.ask_step(self.run is not None)
        if then in ("finished", "refused"):
            self._no_more_steps()
        if then != "step" or self.run is None:
            return
        step = self._next_step()
        if (ipcviz_app(self).quiz and step is not None and step.quiz is not None
                and step.number not in self.guesses):
            self._ask(step)
            return
        self.player = self.player.stepping()
        self._worker_step(self.run, self.player.generation)

    def _no_more_steps(self) -> None:
        lang = ipcviz_app(self).lang
        self.notify(tr("no_more_steps", lang), title=tr("finished_title", lang), timeout=3)

    # -- quiz -----------------------------------------------------------------------------

    def _next_step(self) -> Step | None:
        """The step the next step() runs (the head snapshot's step + 1)."""
        n = self.history[-1].step + 1 if self.history else 1
        return self.scenario.steps[n - 1] if 0 < n <= len(self.scenario.steps) else None

    def _step_of(self, snap: Snapshot) -> Step | None:
        if 0 < snap.step <= len(self.scenario.steps):
            return self.scenario.steps[snap.step - 1]
        return None

    def _ask(self, step: Step) -> None:
        """Ask the class before the step runs; the answer runs it.  Playing pauses here."""
        self.player = self.player.ask()  # presses queued before the question do not skip it
        generation = self.player.generation

        def answered(choice: int | None) -> None:
            self.player = self.player.answered()
            if generation != self.player.generation or self.run is None:
                return
            self.guesses[step.number] = choice
            self._step()
            if self.shown is not None:
                self._show_quiz(self.shown)

        ipcviz_app(self).push_screen(QuizScreen(step), answered)

    def _show_quiz(self, snap: Snapshot) -> None:
        panel = self.query_one("#quiz", QuizPanel)
        app = ipcviz_app(self)
        if not app.quiz:
            panel.hide()
            return
        nxt = self._next_step()
        if nxt is not None and nxt.number in self.guesses and self.player.at_head:
            # guessed, the step runs: the question and the guess wait for the kernel
            panel.show_pending(nxt, self.guesses[nxt.number], app.lang)
            return
        step = self._step_of(snap)
        if step is None or step.quiz is None or not snap.answers:
            panel.hide()
            return
        guess = self.guesses.get(step.number, NOT_ASKED)
        panel.show_answer(step, guess, snap, app.lang)

    def action_toggle_quiz(self) -> None:
        """k: quiz mode on / off."""
        app = ipcviz_app(self)
        app.quiz = not app.quiz
        self.notify(tr("quiz_on" if app.quiz else "quiz_off", app.lang), timeout=3)
        self._show()
        self.player = self.player.modes(quiz=app.quiz, sources=app.show_sources)

    def _maybe_sample(self) -> None:
        if self.run is None or not self.player.can_sample:
            return
        self.player = self.player.sampling_begun()
        self._worker_sample(self.run, self.player.generation)

    # -- drawing --------------------------------------------------------------------------

    def _show(self) -> None:
        snap = self.shown
        if snap is None:
            return
        app = ipcviz_app(self)
        sources = app.show_sources
        lang = app.lang
        self._fit_cards()  # the first snapshot arrives after the first layout: widths known
        with app.batch_update():
            self.query_one("#narration", Narration).show(
                snap, self.scenario.title_in(lang), lang, self._narration(snap, lang))
            self._show_quiz(snap)
            for view in self._views():
                view.show(snap, sources)
            self.query_one("#code", CodeView).show(snap)
            self.query_one("#log", SyscallLog).show(snap.log, snap.step)

    def _views(self) -> list:
        """Cards (or the table) and object views: composed once, so looked up once (a
        query walks the whole screen, a cost paid at every snapshot otherwise)."""
        if self._shown_views is None:
            self._shown_views = [*self.query(ProcessCard), *self.query(ProcessTable),
                                 *self.query(".object-view")]
        return self._shown_views

    def _narration(self, snap: Snapshot, lang: str) -> str | None:
        """The step's narration in `lang`; None: the snapshot's own (English) text."""
        if lang == "en":
            return None
        step = self._step_of(snap)
        if step is not None:
            return step.narration_in(lang)
        return self.scenario.summary_in(lang) if snap.step == 0 else None

    def _push_optional(self, module: str, cls: str, what: str) -> None:
        """Open a reference screen of one mechanism (screens/<module>.py, class <cls>)."""
        from importlib import import_module

        try:
            screen = getattr(import_module(f"ipcviz.app.screens.{module}"), cls)
        except (ModuleNotFoundError, AttributeError):
            self.notify(f"The {what} is not part of this version.", timeout=3)
            return
        ipcviz_app(self).push_screen(screen())

    def action_signal_table(self) -> None:
        """g: every signal of this system, read from the system."""
        self._push_optional("signal_table", "SignalTableScreen", "signal table")

    def action_system_ipc(self) -> None:
        """i: every System V queue, semaphore set and segment on this machine, like ipcs."""
        self._push_optional("system_ipc", "SystemIpcScreen", "system IPC view")

    def redraw(self) -> None:
        """Draw the shown snapshot again (the sources toggle, a theme change)."""
        app = ipcviz_app(self)
        self.player = self.player.modes(quiz=app.quiz, sources=app.show_sources)
        self._show()

    def relabel(self) -> None:
        """The language changed (L): headings, footer keys and the shown snapshot again."""
        lang = ipcviz_app(self).lang
        self.query_one("#user").border_title = tr("user_space", lang)
        self.query_one("#kernel").border_title = tr("kernel_space", lang)
        self.query_one("#code").border_title = tr("code_box", lang)
        self.query_one("#log").border_title = tr("log_box", lang)
        if self.shown is None:
            self.query_one("#narration", Narration).update(
                Content(tr("starting", lang, title=printable(self.scenario.title_in(lang)))))
        else:
            self._show()
        self.query_one("#status", StatusBar).redraw()

    # -- actions --------------------------------------------------------------------------

    def action_forward(self) -> None:
        player, then = self.player.forward(self.run is not None)
        if then == "moved":
            self.player = player
            self._show()
        else:
            self._step()

    def action_back(self) -> None:
        before = self.player
        self.player = before.back()
        if self.player.viewing != before.viewing:
            self._show()

    def action_first(self) -> None:
        before = self.player
        self.player = before.first()
        if before.history:
            self._show()

    def action_last(self) -> None:
        before = self.player
        self.player = before.last()
        if before.history:
            self._show()

    def action_play(self) -> None:
        self.player, then = self.player.toggle_play()
        if then == "nothing":
            self.notify(tr("nothing_to_play", ipcviz_app(self).lang), timeout=3)
        elif then == "playing":
            self._play_tick()

    def _schedule_play(self, replaying: bool = False) -> None:
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None
        pause = self.player.pause
        if replaying:  # history has no step to wait for: at most one snapshot a frame
            pause = max(pause, HISTORY_FRAME)
        if pause == 0:
            # Fastest: the next step starts now, in its worker thread, while this
            # snapshot is drawn; the screen shows the newest snapshot at each frame.
            self.call_later(self._play_tick)
        else:
            self._play_timer = self.set_timer(pause, self._play_tick)

    def _play_tick(self) -> None:
        self._play_timer = None
        self.player, then = self.player.tick()
        if then == "replay":  # replaying history first, then live steps
            self._show()
            self._schedule_play(replaying=True)
        elif then == "step":
            self._step()

    def action_faster(self) -> None:
        self.player = self.player.faster()

    def action_slower(self) -> None:
        self.player = self.player.slower()

    def action_restart(self) -> None:
        lang = ipcviz_app(self).lang
        self.notify(tr("restart_text", lang), title=tr("restart_title", lang), timeout=2)
        self._start()

    def action_sources(self) -> None:
        ipcviz_app(self).action_toggle_sources()

    def action_toggle_side(self) -> None:
        side = self.query_one("#side")
        shown = side.display
        side.set_class(shown, "-hidden")
        side.set_class(not shown, "-shown")

    def action_next_scenario(self) -> None:
        ipcviz_app(self).open_neighbour(self.scenario.name, +1)

    def action_previous_scenario(self) -> None:
        ipcviz_app(self).open_neighbour(self.scenario.name, -1)

    def action_picker(self) -> None:
        ipcviz_app(self).show_picker()
