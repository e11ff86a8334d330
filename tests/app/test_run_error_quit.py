"""The run-error dialog's Quit (q, or the button) ends the app (issue 18 item 6)."""

from __future__ import annotations

from ipcviz.app.screens import RunErrorScreen
from ipcviz.app.source import TraceRun
from ipcviz.runtime import RunError

from .helpers import TraceRuns, sync, trace_app, wait_for


def failing_app():
    """The app on a recorded run whose first step fails; remembers the runs it made."""

    class Broken(TraceRun):
        def step(self):
            raise RunError("step 1 (parent: pipe) neither returned nor blocked within 5 s")

    snapshots = TraceRuns().snapshots
    made: list[TraceRun] = []

    def factory(sc):
        made.append(Broken(sc, snapshots))
        return made[-1]

    return trace_app(factory=factory), made


async def the_dialog(pilot) -> None:
    await wait_for(pilot, lambda: bool(pilot.app.screen.history), 5, "the start")
    await pilot.press("space")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunErrorScreen), 5, "the dialog")


@sync
async def test_q_on_the_run_error_dialog_quits():
    """q on the dialog exits the app with its exit code, every run closed."""
    app, made = failing_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await the_dialog(pilot)
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, 5, "the app to exit")
    assert app.return_code == 0
    assert made and all(r.closed for r in made)


@sync
async def test_quit_button_on_the_run_error_dialog_quits():
    """A click on Quit exits the app."""
    app, _ = failing_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await the_dialog(pilot)
        await pilot.click("#quit")
        await wait_for(pilot, lambda: app.return_code is not None, 5, "the app to exit")
    assert app.return_code == 0
