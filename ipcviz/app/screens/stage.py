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
from textual.errors import NoWidget
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from ...model.focus import Focus, focus
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
STICKY_MAX = 7  # the fold a next step starts from is at most this (StageScreen.FOLDS)


def whole_on_screen(screen: Screen, widget: Widget, rows: list[int] | None = None) -> bool:
    """The widget (or these rows of it, counted from its top) lies whole inside the screen
    and inside what its scrolled containers show, as the screen was last laid out."""
    try:
        geo = screen.find_widget(widget)
    except NoWidget:
        return False  # not laid out, or not displayed
    region = geo.region
    if region.area == 0:
        return False
    seen = region.intersection(geo.clip).intersection(screen.region)
    if rows is None:
        return seen == region
    return all(seen.intersection(line) == line
               for line in (Region(region.x, region.y + k, region.width, 1) for k in rows))


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
        # In the key bar from 100 columns (at 80 it would push "? Help" off); the key works
        # at every width (the second binding), and the help and the palette list it.
        Binding("P", "toggle_present", "Present", key_display="P"),
        Binding("P", "toggle_present_narrow", "Present", key_display="P", show=False),
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
        # The layout pass (see _fit): how far the screen folded for the shown step's focus,
        # and which of its focus widgets are still not whole on screen.
        self.fitting = False
        self.fold = 0
        self.focus_missing: list[str] = []
        self._fit_generation = 0

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
        with VerticalScroll(id="narration-box"):
            # The quiz's answer shares the narration's few rows: it never pushes the stage
            # (and the step's focus) down.
            yield QuizPanel(id="quiz")
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

    FOOTER_PRESENT = 100  # columns from which the key bar has room for "P Present"

    def on_resize(self) -> None:
        self._fit_cards()
        self._fit()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_present":
            return self.size.width >= self.FOOTER_PRESENT
        return True

    def _fit_cards(self) -> None:
        """As many card columns as fit: every card is shown, in rows, never cut off."""
        user = self.query_one("#user")
        cards = len([c for c in user.children if not c.has_class("-out-of-focus")]) or 1
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
        if app.present:
            self.add_class("-present")
        self.set_interval(SAMPLE_EVERY, self._maybe_sample)
        self.screen_layout_refresh_signal.subscribe(self, self._on_layout)
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
        self._show(reset_fold=True)
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

    def _show(self, reset_fold: bool = False) -> None:
        """Draw the shown snapshot, then fit its focus (reset_fold: from no fold up)."""
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
        self._fit(reset_fold)

    # -- the layout pass: the step's focus always in view ---------------------------------
    #
    # The focus (ipcviz.model.focus) is the acting process, the objects the step names and
    # the processes it woke or blocked.  The screen gives way in order of importance until
    # all of it is whole on screen: each fold level is applied, the screen laid out, the
    # focus widgets looked up; if one is still cut, the next level.  After the last level
    # the stage scrolls to the focus (objects first).

    FOLDS = (
        (),  # everything at its full height
        ("-fold-side",),  # code and log shrink to a few rows
        ("-fold-side", "-no-side"),  # code and log fold away (c shows them again)
        ("-no-side", "-fold-idle"),  # processes out of focus: one line; a crowd: summarised
        ("-no-side", "-fold-idle", "-fold-objects"),  # objects out of focus: one line
        ("-no-side", "-fold-idle", "-fold-objects", "-fold-narration"),  # narration: 2 rows
        ("-no-side", "-fold-idle", "-fold-objects", "-fold-narration", "-fold-focus"),
        # the actor too: its name, PID and state line (blocked in what, on what)
        ("-no-side", "-fold-idle", "-fold-objects", "-fold-narration", "-fold-focus",
         "-fold-actor"),
        # what the step is not about leaves the screen (it comes back at the next step)
        ("-no-side", "-fold-idle", "-fold-objects", "-fold-narration", "-fold-focus",
         "-fold-actor", "-hide-idle"),
        # the focus objects drop their legends and details (a deadlock's graph at 80x24)
        ("-no-side", "-fold-idle", "-fold-objects", "-fold-narration", "-fold-focus",
         "-fold-actor", "-hide-idle", "-fold-detail"),
    )
    FOLD_CLASSES = ("-fold-side", "-no-side", "-fold-idle", "-fold-objects",
                    "-fold-narration", "-fold-focus", "-fold-actor", "-hide-idle",
                    "-fold-detail")

    def step_focus(self) -> Focus:
        """The focus of the snapshot on screen (empty before the first step)."""
        snap = self.shown
        if snap is None or not self.history:
            return Focus()
        prev = self.history[self.viewing - 1] if self.viewing > 0 else None
        step = self._step_of(snap)
        return focus(snap, prev, step.args if step is not None else None)

    def _fit(self, reset: bool = True) -> None:
        """Lay out again for the shown step's focus (see FOLDS).  reset: from no fold up (a
        new run, size or mode); otherwise from the fold the last step needed, so stepping
        through a lesson never makes the layout jump back and forth."""
        if not self.is_mounted or self.shown is None:
            return
        reset = reset or ipcviz_app(self).slides  # a slide is drawn once: its own best fold
        self._fit_generation += 1
        self.fitting = True
        # Sticky below the last level: what leaves the screen comes back at the next step.
        start = 0 if reset else min(self.fold, STICKY_MAX, self._last_fold())
        self._try_fold(self._fit_generation, start)

    def _last_fold(self) -> int:
        """The most the screen folds: with the sources shown (s), nothing folds (what
        each value comes from is the point; the stage scrolls to the focus instead)."""
        return 0 if ipcviz_app(self).show_sources else len(self.FOLDS) - 1

    def _try_fold(self, generation: int, level: int) -> None:
        """Apply a fold level; once the screen is laid out and drawn, look (_fit_check)."""
        self._apply_fold(level, self.step_focus())
        self._when_laid_out(self._fit_check, generation, level)

    def _when_laid_out(self, callback, *args) -> None:
        """Call back once the screen has been laid out with every change made so far.

        A widget tells the screen it needs a new layout when it is next idle, in its own
        task; the screen's call_after_refresh alone can run before that and read the old
        layout.  So first every widget of the screen runs a no-op after its idle (call_next
        from within call_later), then the screen's call_after_refresh."""
        nodes = [n for n in self.walk_children() if n.is_running]
        left = [len(nodes)]

        def one() -> None:
            left[0] -= 1
            if left[0] == 0:
                self.call_after_refresh(callback, *args)

        if not nodes:
            self.call_after_refresh(callback, *args)
        for node in nodes:
            node.call_later(node.call_next, one)

    def _apply_fold(self, level: int, f: Focus) -> None:
        classes = self.FOLDS[level]
        wanted = (set(self.classes) - set(self.FOLD_CLASSES)) | set(classes)
        detail = ("-fold-detail" in wanted) != self.has_class("-fold-detail")
        if wanted != set(self.classes):
            self.set_classes(wanted)  # one restyle of the screen, not one per class
        if detail and self.shown is not None:  # views that draw fewer lines without room
            sources = ipcviz_app(self).show_sources
            for view in self.query(".object-view"):
                view.show(self.shown, sources)
        idle = "-fold-idle" in classes
        hide = "-hide-idle" in classes
        actor = f.processes[:1]
        for card in self.query(ProcessCard):
            name = card.process_name
            fold = ((idle and name not in f.processes)
                    or ("-fold-focus" in classes and name not in actor)
                    or "-fold-actor" in classes)
            card.fold(fold)
            card.set_class(hide and name not in f.processes, "-out-of-focus")
        self._fit_cards()  # the cards left in view share the width
        # A crowd taller than half the screen is always summarised: listed, it would push
        # the kernel's objects off whatever the step is about.
        crowd = len(self.scenario.processes) + 1 > self.size.height // 2
        for table in self.query(ProcessTable):
            table.summarise(f.processes if idle or crowd else None)
        fold_objects = "-fold-objects" in classes
        for view in self.query(".object-view"):
            oid = (view.id or "")[len("obj-"):]
            view.set_class(fold_objects and oid not in f.objects, "-folded")
            view.set_class(hide and oid not in f.objects, "-out-of-focus")
        self.fold = level

    def _focus_widgets(self, f: Focus) -> list[tuple[str, Widget, list[int] | None]]:
        """(label, widget, rows or None for the whole widget) of each focus part, objects
        first: what must be whole on screen."""
        out: list[tuple[str, Widget, list[int] | None]] = []
        # Names come from the snapshot (a trace file: untrusted), so widgets are found by
        # comparing ids, never by a CSS query built from a name.
        by_id = {w.id: w for w in self.walk_children(with_self=False) if w.id}
        for oid in f.objects:
            if (w := by_id.get(f"obj-{oid}")) is not None:
                out.append((f"object {oid}", w, None))
        tables = list(self.query(ProcessTable))
        for name in f.processes:
            if tables:
                out.append((f"process {name}", tables[0], tables[0].rows_of(name) or [0]))
            elif (w := by_id.get(f"proc-{name}")) is not None:
                out.append((f"process {name}", w, None))
        return out

    def focus_cut(self) -> list[str]:
        """The parts of the shown step's focus that are not whole on screen now, as laid
        out last (the walk test and `export` read this)."""
        return [label for label, w, rows in self._focus_widgets(self.step_focus())
                if not whole_on_screen(self, w, rows)]

    def _fit_check(self, generation: int, level: int) -> None:
        """Laid out and drawn: fold further while the focus is cut, or scroll to it when
        every level is spent; when it fits, look once more after the next frame (a widget
        may change its height once it has its width, and the layout follows)."""
        if generation != self._fit_generation:
            return  # a newer snapshot or size is being fitted
        parts = self._focus_widgets(self.step_focus())
        missing = [label for label, w, rows in parts if not whole_on_screen(self, w, rows)]
        if missing and level < self._last_fold():
            self._try_fold(generation, level + 1)
        elif missing:  # folded all it could: bring the focus into the stage's view
            self._scroll_to_focus(parts)
            self._when_laid_out(self._fit_done, generation, parts)
        else:
            self._when_laid_out(self._fit_confirm, generation, level)

    def _fit_confirm(self, generation: int, level: int) -> None:
        if generation != self._fit_generation:
            return
        if self.focus_cut() and level < self._last_fold():
            self._try_fold(generation, level + 1)
            return
        self.focus_missing = []
        self.fitting = False

    def _on_layout(self, _screen: Screen) -> None:
        """The screen was laid out again (a card grew, a line wrapped): if the focus is cut
        now, fold further from where it is."""
        if self.fitting or self.shown is None or self.fold >= self._last_fold():
            return
        if self.focus_cut():
            self._fit_generation += 1
            self.fitting = True
            self._try_fold(self._fit_generation, self.fold + 1)

    def _scroll_to_focus(self, parts) -> None:
        """Scroll the stage so all the focus is in view when its span fits the stage's
        height; otherwise the most important part wins (the first object)."""
        stage = self.query_one("#stage", VerticalScroll)
        regions = [w.region for _label, w, _rows in parts if w.region.area]
        view = stage.scrollable_content_region
        if regions and view.height:
            top = min(r.y for r in regions)
            bottom = max(r.bottom for r in regions)
            if bottom - top <= view.height:
                y = stage.scroll_offset.y + top - view.y  # the span's top, in stage lines
                stage.scroll_to(y=max(0, y), animate=False, immediate=True)
                return
        for _label, w, _rows in reversed(parts):  # the most important last: it wins
            stage.scroll_to_widget(w, animate=False, top=True, immediate=True)

    def _fit_done(self, generation: int, parts) -> None:
        if generation != self._fit_generation:
            return
        self.focus_missing = [label for label, w, rows in parts
                              if not whole_on_screen(self, w, rows)]
        self.fitting = False

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
        self._fit()

    def action_toggle_present_narrow(self) -> None:
        self.action_toggle_present()

    def action_toggle_present(self) -> None:
        """P: presentation mode: no code or log, the objects get the room."""
        app = ipcviz_app(self)
        app.present = not app.present
        self.set_class(app.present, "-present")
        self._fit()

    def action_next_scenario(self) -> None:
        ipcviz_app(self).open_neighbour(self.scenario.name, +1)

    def action_previous_scenario(self) -> None:
        ipcviz_app(self).open_neighbour(self.scenario.name, -1)

    def action_picker(self) -> None:
        ipcviz_app(self).show_picker()
