"""The stage: a scenario running on real processes, user space above kernel space.

All blocking work (start, step, sample, close of a Run) runs in thread workers; results come
back as messages carrying the generation of the run they belong to, so a result of a run
that was restarted or replaced meanwhile is dropped.  The screen keeps its own list of the
snapshots it received: stepping back redraws them exactly as they were, while the live
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
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from ...model.snapshot import Snapshot
from ...runtime import RunError
from ...scenario.model import Scenario, Step
from ...textsafe import printable, printable_data  # texts of a trace or a run: shown
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

# Pause between steps while playing, slowest first: (seconds, label).
SPEEDS: tuple[tuple[float, str], ...] = (
    (3.0, "1 step / 3 s"),
    (1.5, "1 step / 1.5 s"),
    (0.8, "1 step / 0.8 s"),
    (0.3, "3 steps / s"),
    (0.0, "fastest"),
)
DEFAULT_SPEED = 1
MAX_PENDING = 3  # key presses remembered while a step runs
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

    def __init__(self, scenario: Scenario) -> None:
        super().__init__()
        self.scenario = scenario
        self.run: RunLike | None = None
        self.history: list[Snapshot] = []
        self.viewing = 0  # index into history of the snapshot on screen
        self.live: Snapshot | None = None  # latest sample of the head, if newer than it
        self.generation = 0
        self.busy = False  # a start or a step is in flight for the current generation
        self.sampling = False  # a live look at the head is in flight
        self.finished = False
        self.playing = False
        self.speed = DEFAULT_SPEED
        self.pending_steps = 0  # steps asked for while busy: run them when free
        self.failed: str | None = None
        self._play_timer = None
        self.guesses: dict[int, int | None] = {}  # quiz step -> the class's guess (None: skipped)
        self.asking = False  # a quiz question is up: the step runs when it is answered
        self._shown_views: list | None = None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        yield StatusBar(id="status")
        yield TooSmall()
        yield QuizPanel(id="quiz")
        with VerticalScroll(id="narration-box"):
            yield Narration(id="narration")
        with Horizontal(id="body"):
            with VerticalScroll(id="stage"):
                with Grid(id="user") as user:
                    user.border_title = tr("user_space", lang)
                    if len(self.scenario.processes) > MANY:
                        yield ProcessTable(self.scenario, id="proc-table")
                    else:
                        for spec in self.scenario.processes:
                            yield ProcessCard(spec.name, self.scenario,
                                              id=f"proc-{spec.name}")
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
        if self.app.lang != "en":
            localize_bindings(self, self.app.lang)
        title = printable(self.scenario.title_in(self.app.lang))  # the file's: literal text
        self.query_one("#narration", Narration).update(
            Content(tr("starting", self.app.lang, title=title)))
        self._refresh_status()
        self.set_interval(SAMPLE_EVERY, self._maybe_sample)
        self.call_after_refresh(self._fit_cards)
        self._start()

    def on_unmount(self) -> None:
        self._retire_run()

    # -- the run's life cycle -------------------------------------------------------------

    def _start(self) -> None:
        """Begin a new generation: fresh processes, empty history."""
        self._retire_run()
        self.generation += 1
        self.sampling = False
        self.history = []
        self.viewing = 0
        self.live = None
        self.finished = False
        self.failed = None
        self.busy = True
        self.pending_steps = 0
        self.guesses = {}
        self._refresh_status()
        try:
            run = self.app.make_run(self.scenario)
        except Exception as err:  # the factory failed before any process: say why
            self.busy = False
            self.app.show_run_error(self.scenario.name, f"cannot start: {err}")
            return
        self.run = run
        self._worker_start(run, self.generation)

    def _retire_run(self) -> None:
        run, self.run = self.run, None
        self._stop_playing()
        if run is not None:
            self.app.close_run(run)

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
        if message.generation != self.generation:
            return
        self.busy = False
        self.history = [message.snapshot]
        self.viewing = 0
        self.finished = bool(self.run and self.run.finished)
        self._show()
        self._after_idle()

    @on(Stepped)
    def _on_stepped(self, message: Stepped) -> None:
        if message.generation != self.generation:
            return
        self.busy = False
        self.live = None
        self.history.append(message.snapshot)
        self.viewing = len(self.history) - 1
        self.finished = message.finished
        if self.finished:
            self._stop_playing()
        self._show()
        self._after_idle()

    @on(Sampled)
    def _on_sampled(self, message: Sampled) -> None:
        if message.generation != self.generation:
            return
        self.sampling = False
        snap = message.snapshot
        if snap is not None and self.history and self.viewing == len(self.history) - 1:
            shown = self.live or self.history[-1]
            if (snap.processes, snap.objects, snap.log) != (shown.processes, shown.objects,
                                                             shown.log):
                self.live = snap
                self._show()
        self._after_idle()

    @on(Failed)
    def _on_failed(self, message: Failed) -> None:
        if message.generation != self.generation:
            return
        self.busy = False
        self.failed = message.message
        self._retire_run()  # a run that cannot go on leaves no process behind
        self._refresh_status()
        self.app.show_run_error(self.scenario.name, message.message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Anything but a RunError escaping a worker: a dialog, never a traceback."""
        if event.state == WorkerState.ERROR:
            self.busy = self.sampling = False
            self._stop_playing()
            err = event.worker.error
            self.failed = f"{type(err).__name__}: {err}"
            self._retire_run()
            self._refresh_status()
            self.app.show_run_error(self.scenario.name, f"internal error: {self.failed}")

    def _after_idle(self) -> None:
        """A worker finished: run a step that was asked for meanwhile, or go on playing."""
        if self.pending_steps and not self.finished:
            self.pending_steps -= 1
            self._step()
        elif self.playing:
            self._schedule_play()
        else:
            self._refresh_status()

    def _step(self) -> None:
        if self.run is None or self.failed:
            return
        if self.busy or self.sampling or not self.history:
            self.pending_steps = min(self.pending_steps + 1, MAX_PENDING)
            self._refresh_status()
            return
        if self.finished:
            lang = self.app.lang
            self.notify(tr("no_more_steps", lang), title=tr("finished_title", lang), timeout=3)
            self._stop_playing()
            return
        step = self._next_step()
        if (self.app.quiz and step is not None and step.quiz is not None
                and step.number not in self.guesses):
            self._ask(step)
            return
        self.busy = True
        self._refresh_status()
        self._worker_step(self.run, self.generation)

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
        self.asking = True
        self.pending_steps = 0  # presses queued before the question do not skip the answer
        self._stop_playing()
        self._refresh_status()
        generation = self.generation

        def answered(choice: int | None) -> None:
            self.asking = False
            if generation != self.generation or self.run is None:
                return
            self.guesses[step.number] = choice
            self._step()
            if self.shown is not None:
                self._show_quiz(self.shown)

        self.app.push_screen(QuizScreen(step), answered)

    def _show_quiz(self, snap: Snapshot) -> None:
        panel = self.query_one("#quiz", QuizPanel)
        if not self.app.quiz:
            panel.hide()
            return
        nxt = self._next_step()
        if nxt is not None and nxt.number in self.guesses and \
                self.viewing == len(self.history) - 1:
            # guessed, the step runs: the question and the guess wait for the kernel
            panel.show_pending(nxt, self.guesses[nxt.number], self.app.lang)
            return
        step = self._step_of(snap)
        if step is None or step.quiz is None or not snap.answers:
            panel.hide()
            return
        guess = self.guesses.get(step.number, NOT_ASKED)
        panel.show_answer(step, guess, snap, self.app.lang)

    def action_toggle_quiz(self) -> None:
        """k: quiz mode on / off."""
        self.app.quiz = not self.app.quiz
        lang = self.app.lang
        self.notify(tr("quiz_on" if self.app.quiz else "quiz_off", lang), timeout=3)
        self._show()
        self._refresh_status()

    def _maybe_sample(self) -> None:
        if (self.run is None or self.busy or self.sampling or self.playing or self.failed
                or not self.history or self.viewing != len(self.history) - 1):
            return
        self.sampling = True
        self._worker_sample(self.run, self.generation)

    # -- drawing --------------------------------------------------------------------------

    @property
    def shown(self) -> Snapshot | None:
        if not self.history:
            return None
        if self.viewing == len(self.history) - 1 and self.live is not None:
            return self.live
        return self.history[self.viewing]

    def _show(self) -> None:
        snap = self.shown
        if snap is None:
            return
        sources = self.app.show_sources
        lang = self.app.lang
        self._fit_cards()  # the first snapshot arrives after the first layout: widths known
        with self.app.batch_update():
            self.query_one("#narration", Narration).show(
                snap, self.scenario.title_in(lang), lang, self._narration(snap, lang))
            self._show_quiz(snap)
            for view in self._views():
                view.show(snap, sources)
            self.query_one("#code", CodeView).show(snap)
            self.query_one("#log", SyscallLog).show(snap.log, snap.step)
            self._refresh_status()

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
        self.app.push_screen(screen())

    def action_signal_table(self) -> None:
        """g: every signal of this system, read from the system."""
        self._push_optional("signal_table", "SignalTableScreen", "signal table")

    def action_system_ipc(self) -> None:
        """i: every System V queue, semaphore set and segment on this machine, like ipcs."""
        self._push_optional("system_ipc", "SystemIpcScreen", "system IPC view")

    def _refresh_status(self) -> None:
        head = max(len(self.history) - 1, 0)
        snap = self.shown
        lang = self.app.lang
        speed = SPEEDS[self.speed][1] if lang == "en" else tr(f"speed{self.speed}", lang)
        self.query_one("#status", StatusBar).show(
            name=self.scenario.name, step=snap.step if snap else 0,
            total=len(self.scenario.steps), viewing=self.viewing, head=head,
            playing=self.playing, speed=speed,
            busy=self.busy and not (self.run is None), finished=self.finished,
            sources=self.app.show_sources, replay=getattr(self.run, "replay", False),
            lang=lang, quiz=self.app.quiz, asking=self.asking)

    def redraw(self) -> None:
        """Draw the shown snapshot again (the sources toggle, a theme change)."""
        self._show()

    def relabel(self) -> None:
        """The language changed (L): headings, footer keys and the shown snapshot again."""
        lang = self.app.lang
        self.query_one("#user").border_title = tr("user_space", lang)
        self.query_one("#kernel").border_title = tr("kernel_space", lang)
        self.query_one("#code").border_title = tr("code_box", lang)
        self.query_one("#log").border_title = tr("log_box", lang)
        if self.shown is None:
            self.query_one("#narration", Narration).update(
                Content(tr("starting", lang, title=printable(self.scenario.title_in(lang)))))
        else:
            self._show()
        self._refresh_status()

    # -- actions --------------------------------------------------------------------------

    def action_forward(self) -> None:
        if self.viewing < len(self.history) - 1:
            self.viewing += 1
            self._show()
        else:
            self._step()

    def action_back(self) -> None:
        self._stop_playing()
        if self.viewing > 0:
            self.viewing -= 1
            self._show()

    def action_first(self) -> None:
        self._stop_playing()
        if self.history:
            self.viewing = 0
            self._show()

    def action_last(self) -> None:
        if self.history:
            self.viewing = len(self.history) - 1
            self._show()

    def action_play(self) -> None:
        if self.playing:
            self._stop_playing()
            self._refresh_status()
            return
        if self.finished and self.viewing == len(self.history) - 1:
            self.notify(tr("nothing_to_play", self.app.lang), timeout=3)
            return
        self.playing = True
        self._refresh_status()
        self._play_tick()

    def _schedule_play(self, replaying: bool = False) -> None:
        self._refresh_status()
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None
        pause = SPEEDS[self.speed][0]
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
        if not self.playing:
            return
        if self.viewing < len(self.history) - 1:
            self.viewing += 1  # replaying history first, then live steps
            self._show()
            self._schedule_play(replaying=True)
        elif self.finished:
            self._stop_playing()
            self._refresh_status()
        elif not self.busy:
            self._step()

    def _stop_playing(self) -> None:
        self.playing = False
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None

    def action_faster(self) -> None:
        self.speed = min(self.speed + 1, len(SPEEDS) - 1)
        self._refresh_status()

    def action_slower(self) -> None:
        self.speed = max(self.speed - 1, 0)
        self._refresh_status()

    def action_restart(self) -> None:
        lang = self.app.lang
        self.notify(tr("restart_text", lang), title=tr("restart_title", lang), timeout=2)
        self._start()

    def action_sources(self) -> None:
        self.app.action_toggle_sources()

    def action_toggle_side(self) -> None:
        side = self.query_one("#side")
        shown = side.display
        side.set_class(shown, "-hidden")
        side.set_class(not shown, "-shown")

    def action_next_scenario(self) -> None:
        self.app.open_neighbour(self.scenario.name, +1)

    def action_previous_scenario(self) -> None:
        self.app.open_neighbour(self.scenario.name, -1)

    def action_picker(self) -> None:
        self.app.show_picker()
