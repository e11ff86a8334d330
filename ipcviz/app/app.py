"""The ipcviz Textual app: a live lecture stage for Unix IPC.

The app never talks to a process or to the kernel: it asks its run factory (a real
`ipcviz.runtime.Run`, or a fake in tests) for Snapshots, from thread workers, and draws them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ..scenario import ScenarioError, find, load
from ..scenario.catalog import Entry
from ..scenario.model import Scenario
from ..textsafe import printable
from . import i18n
from .commands import ScenarioProvider
from .screens.error import RunErrorScreen
from .screens.help import HelpScreen
from .screens.picker import PickerScreen
from .source import RunFactory, RunLike
from .widgets.too_small import MIN_HEIGHT, MIN_WIDTH

LIGHT_THEME = "textual-light"
DARK_THEME = "textual-dark"


class IpcvizApp(App[int]):
    """Picker and stage.  `run_factory(scenario)` makes a run; `entries` lists scenarios."""

    CSS_PATH = "ipcviz.tcss"
    TITLE = "ipcviz"
    COMMANDS = App.COMMANDS | {ScenarioProvider}
    # Screen classes by terminal size, used by ipcviz.tcss to collapse panels.
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny-w"), (MIN_WIDTH, "-narrow"), (140, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-tiny-h"), (MIN_HEIGHT, "-short"), (28, "-medium"),
                            (36, "-tall")]
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("t", "toggle_theme", "Theme", show=False),
        Binding("L", "toggle_lang", "中文", key_display="L", show=False),
        Binding("b", "compare", "Compare", show=False),
    ]

    def __init__(
        self,
        run_factory: RunFactory,
        entries: Sequence[Entry],
        *,
        scenario: Scenario | None = None,
        loader: Callable[[str | Path], Scenario] = find,
        problems: Sequence[str] = (),
        lang: str = "en",
        quiz: bool = False,
        present: bool = False,
        after_first_frame: Callable[[], None] | None = None,
        stage: Callable[[], Screen] | None = None,
    ) -> None:
        super().__init__()
        self.after_first_frame = after_first_frame  # work that must not delay the picker
        self.lang = lang if lang in i18n.LANGS else "en"  # L switches it live
        self.quiz = quiz  # ask the class before each step that carries a question (k)
        self.present = present  # presentation mode (P): no code or log, bigger objects
        self.slides = False  # drawn for `ipcviz export`: no live-app chrome in the status line
        self.run_factory = run_factory
        self.entries = list(entries)
        self.loader = loader
        self.problems = list(problems)
        self.initial = scenario
        self.stage = stage  # a stage of its own (a live trace's) instead of the scenario's
        self.show_sources = False
        self.runs: list[RunLike] = []  # every run made: all are closed before exit
        self.exit_code = 0

    # -- screens ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return PickerScreen(self.entries, self.problems)

    def on_mount(self) -> None:
        if self.lang != "en":
            i18n.localize_bindings(self, self.lang)
        if self.stage is not None:
            self.push_screen(self.stage())
        elif self.initial is not None:
            self.push_screen(_stage()(self.initial))
        if self.after_first_frame is not None:
            self.call_after_refresh(self.after_first_frame)

    def show_picker(self) -> None:
        while _is_stage(self.screen) or isinstance(self.screen, HelpScreen):
            self.pop_screen()

    def open_scenario(self, name: str) -> None:
        entry = next((e for e in self.entries if e.name == name), None)
        if entry is not None and entry.unavailable:
            self.notify(printable(entry.unavailable),  # texts from files: never markup
                        title=printable(f"{name} cannot run on this system"),
                        severity="warning", markup=False)
            return
        try:
            scenario = load(entry.path) if entry else self.loader(name)
        except ScenarioError as err:
            self.notify(printable(str(err)), title="Cannot open the scenario", severity="error",
                        markup=False)
            return
        if _is_stage(self.screen):
            self.switch_screen(_stage()(scenario))
        else:
            self.push_screen(_stage()(scenario))

    def open_neighbour(self, current: str, delta: int) -> None:
        names = [e.name for e in self.entries]
        if not names:
            self.notify("No other scenario is known.", timeout=3)
            return
        i = names.index(current) if current in names else -1
        self.open_scenario(names[(i + delta) % len(names)])

    def show_run_error(self, scenario: str, message: str) -> None:
        def chosen(what: str | None) -> None:
            screen = self.screen
            if what == "restart" and _is_stage(screen):
                screen.action_restart()
            elif what == "picker":
                self.show_picker()
            elif what == "quit":
                self.quit_now()  # a callback cannot await action_quit(): same work, in sync

        from ..scenario.model import WATCHED

        watched = getattr(getattr(self.screen, "scenario", None), "mechanism", None) == WATCHED
        self.push_screen(RunErrorScreen(scenario, message,
                                        "err_watch_ended" if watched else "err_ended"), chosen)

    # -- runs -------------------------------------------------------------------------------

    def make_run(self, scenario: Scenario) -> RunLike:
        run = self.run_factory(scenario)
        self.runs.append(run)
        return run

    def close_run(self, run: RunLike) -> None:
        """Close a run off the event loop (close() waits for its processes to end)."""
        self._close_run_worker(run)

    @work(thread=True, group="close", exit_on_error=False)
    def _close_run_worker(self, run: RunLike) -> None:
        run.close()

    def close_all_runs(self) -> None:
        """Blocking: end every process of every run.  Idempotent (Run.close is)."""
        for run in self.runs:
            try:
                run.close()
            except OSError:
                pass  # already half gone: kill_run_processes ran in close() before this

    async def action_quit(self) -> None:
        self.quit_now()

    def quit_now(self) -> None:
        """End every stage's run (off the event loop) and exit with `exit_code`."""
        for screen in self.screen_stack:
            if _is_stage(screen):
                screen._retire_run()
        self.exit(self.exit_code)

    def on_unmount(self) -> None:
        self.close_all_runs()

    # -- look -------------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_compare(self) -> None:
        """b: the mechanisms side by side, with throughput measured on this machine."""
        from .screens.compare import CompareScreen

        if not isinstance(self.screen, CompareScreen):
            self.push_screen(CompareScreen())

    def action_toggle_theme(self) -> None:
        self.theme = DARK_THEME if self.theme == LIGHT_THEME else LIGHT_THEME

    def action_toggle_lang(self) -> None:
        """L: English <-> 中文, live: every screen redraws what it shows in the new language."""
        self.set_lang(i18n.other(self.lang))

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        i18n.localize_bindings(self, lang)
        for screen in self.screen_stack:
            i18n.localize_bindings(screen, lang)
            relabel = getattr(screen, "relabel", None)
            if callable(relabel):
                relabel()
        self.screen.refresh_bindings()

    def action_toggle_sources(self) -> None:
        self.show_sources = not self.show_sources
        for screen in self.screen_stack:
            if _is_stage(screen):
                screen.redraw()

    def get_system_commands(self, screen: Screen):
        yield from super().get_system_commands(screen)
        yield SystemCommand("Light theme (projector)", "Switch to the light theme",
                            lambda: setattr(self, "theme", LIGHT_THEME))
        yield SystemCommand("Dark theme", "Switch to the dark theme",
                            lambda: setattr(self, "theme", DARK_THEME))
        yield SystemCommand("Sources on / off",
                            "Show where each value comes from and how to check it",
                            self.action_toggle_sources)
        yield SystemCommand("Scenarios", "Back to the list of scenarios", self.show_picker)
        yield SystemCommand("中文 / English (L)", "Switch the language of the app and the lesson",
                            self.action_toggle_lang)
        trace_commands = getattr(screen, "trace_commands", None)
        if callable(trace_commands):  # a live trace: who runs next
            for title, help_text, callback in trace_commands():
                yield SystemCommand(title, help_text, callback)
        elif _is_stage(screen):
            yield SystemCommand("Quiz mode on / off (k)",
                                "Ask the class before each step that carries a question",
                                screen.action_toggle_quiz)
            yield SystemCommand("Presentation mode on / off (P)",
                                "No code or log: the kernel objects get the room",
                                screen.action_toggle_present)



# The stage and its widgets (every mechanism's panel and model) are imported when the first
# lesson opens, not before the picker's first frame: a third of the app's import time.

def _stage() -> type[Screen]:
    from .screens.stage import StageScreen

    return StageScreen


def _is_stage(screen: object) -> bool:
    """A StageScreen? No lesson opened yet (module not imported): none can be."""
    module = sys.modules.get(f"{__package__}.screens.stage")
    return module is not None and isinstance(screen, module.StageScreen)
