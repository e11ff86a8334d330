"""The app's behaviour on canned Snapshots (no process is started): keys, screens, errors."""

from __future__ import annotations

from ipcviz.app.screens import HelpScreen, PickerScreen, RunErrorScreen, StageScreen
from ipcviz.app.screens.stage import SPEEDS
from ipcviz.app.source import TraceRun
from ipcviz.app.widgets import PipeView, ProcessCard, TooSmall
from ipcviz.runtime import RunError

from .helpers import (
    BLOCKED_STEP,
    TraceRuns,
    scenario,
    step_to,
    sync,
    text_of,
    trace_app,
    wait_for,
)


@sync
async def test_play_at_fastest_speed_reaches_the_end():
    """p plays every step; the UI keeps up at the fastest speed and stops at the end."""
    runs = TraceRuns()
    app = trace_app(factory=runs)
    async with app.run_test(size=(100, 30)) as pilot:
        stage = app.screen
        await wait_for(pilot, lambda: bool(stage.history), 5, "start")
        await pilot.press("plus", "plus", "plus", "plus", "plus")
        assert stage.speed == len(SPEEDS) - 1  # fastest
        await pilot.press("p")
        total = len(scenario().steps)
        await wait_for(pilot, lambda: stage.finished and not stage.playing, 10, "the end")
        assert [s.step for s in stage.history] == list(range(total + 1))
        assert stage.viewing == total
        # a further step press says there is nothing left, and runs nothing
        await pilot.press("space")
        await pilot.pause()
        assert len(stage.history) == total + 1


@sync
async def test_keys_pressed_during_start_are_not_lost():
    """Space pressed before the run has started still runs those steps, in order."""
    app = trace_app()
    async with app.run_test(size=(100, 30)) as pilot:
        stage = app.screen
        await pilot.press("space", "space")
        await wait_for(pilot, lambda: len(stage.history) == 3 and not stage.busy, 5, "2 steps")
        assert [s.step for s in stage.history] == [0, 1, 2]


@sync
async def test_history_navigation_and_home_end():
    app = trace_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await step_to(pilot, BLOCKED_STEP)
        stage = app.screen
        await pilot.press("home")
        assert stage.viewing == 0 and stage.shown.step == 0
        assert "not forked yet" in text_of(stage.query_one("#proc-child", ProcessCard))
        assert "not created yet" in text_of(stage.query_one("#obj-p", PipeView))
        await pilot.press("end")
        assert stage.shown is stage.history[-1]
        await pilot.press("left")
        assert stage.viewing == BLOCKED_STEP - 1
        await pilot.press("space")  # forward through history, no new step
        assert stage.viewing == BLOCKED_STEP and len(stage.history) == BLOCKED_STEP + 1


@sync
async def test_sources_toggle_shows_commands():
    """s shows, for each value, a shell command with the real PID; s again hides them."""
    app = trace_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await step_to(pilot, BLOCKED_STEP)
        stage = app.screen
        parent = stage.shown.process_named("parent")
        card = stage.query_one("#proc-parent", ProcessCard)
        assert "$ ps -o stat=" not in text_of(card)
        await pilot.press("s")
        assert f"$ ps -o stat= -p {parent.pid}" in text_of(card)
        assert f"$ cat /proc/{parent.pid}/wchan" in text_of(card)
        assert "ioctl(FIONREAD)" in text_of(stage.query_one("#obj-p", PipeView))
        await pilot.press("s")
        assert "$ ps -o stat=" not in text_of(card)


@sync
async def test_run_error_opens_a_dialog_and_closes_the_run():
    """A RunError in a step: a dialog says why, the run is closed, r restarts."""

    class Failing(TraceRun):
        def step(self):
            if len(self.timeline) == 2:
                raise RunError("step 2 (parent: fork) neither returned nor blocked within 5 s")
            return super().step()

    made: list[TraceRun] = []
    snapshots = TraceRuns().snapshots

    def factory(sc):
        made.append(Failing(sc, snapshots))
        return made[-1]

    app = trace_app(factory=factory)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space", "space")
        await wait_for(pilot, lambda: isinstance(app.screen, RunErrorScreen), 5, "the dialog")
        assert "neither returned nor blocked" in app.screen.message
        await wait_for(pilot, lambda: made[0].closed, 5, "the run to close")
        await pilot.press("r")
        await wait_for(pilot, lambda: len(made) == 2 and isinstance(app.screen, StageScreen)
                       and bool(app.screen.history), 5, "the restart")
        assert app.screen.failed is None


def failing_app(error: Exception):
    """The app on a recorded run whose first step raises `error`."""

    class Broken(TraceRun):
        def step(self):
            raise error

    snapshots = TraceRuns().snapshots
    return trace_app(factory=lambda sc: Broken(sc, snapshots))


async def until_the_dialog(pilot) -> None:
    await pilot.press("space")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunErrorScreen), 5, "the dialog")


@sync
async def test_unexpected_error_is_a_dialog_not_a_traceback():
    app = failing_app(ValueError("probe exploded"))
    async with app.run_test(size=(100, 30)) as pilot:
        await until_the_dialog(pilot)
        assert "internal error: ValueError: probe exploded" in app.screen.message
        await pilot.press("escape")
        assert isinstance(app.screen, StageScreen)


@sync
async def test_next_scenario_replaces_the_run_and_quit_closes_all():
    runs = TraceRuns()
    app = trace_app(factory=runs)
    async with app.run_test(size=(100, 30)) as pilot:
        await step_to(pilot, 2)
        first = app.screen
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is not first and len(runs.made) == 2, 5,
                       "the next scenario")
        await wait_for(pilot, lambda: runs.made[0].closed, 5, "the old run to close")
        await pilot.press("N")
        await wait_for(pilot, lambda: len(runs.made) == 3, 5, "the previous scenario")
        await pilot.press("escape")
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("q")
    assert all(r.closed for r in runs.made)


@sync
async def test_picker_opens_the_chosen_scenario():
    runs = TraceRuns()
    app = trace_app(factory=runs, open_scenario=False)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StageScreen), 5, "the stage")
        assert app.screen.scenario.name == "pipe/full-pipe"


@sync
async def test_command_palette_finds_a_scenario_by_title_words():
    runs = TraceRuns()
    app = trace_app(factory=runs, open_scenario=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"blocks its writer")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StageScreen), 5, "the stage")
        assert app.screen.scenario.title == "A full pipe blocks its writer"


@sync
async def test_help_theme_and_too_small():
    app = trace_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, StageScreen)
        await pilot.press("t")
        assert app.theme == "textual-light"
        await pilot.press("t")
        assert app.theme == "textual-dark"
        assert not app.screen.query_one(TooSmall).display
        await pilot.resize_terminal(50, 14)
        await pilot.pause()
        assert app.screen.query_one(TooSmall).display
        assert not app.screen.query_one("#body").display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not app.screen.query_one(TooSmall).display


@sync
async def test_a_replay_says_replay_not_live():
    """A recorded trace is drawn as REPLAY: nothing on screen pretends to be live."""
    runs = TraceRuns()
    app = trace_app(factory=lambda sc: TraceRun(sc, runs.snapshots))
    async with app.run_test(size=(100, 30)) as pilot:
        stage = app.screen
        await wait_for(pilot, lambda: bool(stage.history), 5, "start")
        status = text_of(stage.query_one("#status"))
        assert "REPLAY" in status and "LIVE" not in status


@sync
async def test_the_error_dialog_in_chinese():
    """The dialog's own words follow the app's language; the reason stays the engine's."""
    from textual.widgets import Button

    app = failing_app(RunError("p neither returned nor blocked within 5 s"))
    app.lang = "zh"
    async with app.run_test(size=(100, 30)) as pilot:
        await until_the_dialog(pilot)
        box = app.screen.query_one("#error-box")
        assert box.border_title == "运行已停止"
        labels = {str(b.label) for b in app.screen.query(Button)}
        assert labels == {"重新开始 (r)", "场景列表", "关闭", "退出 (q)"}
        assert "neither returned nor blocked" in app.screen.message
