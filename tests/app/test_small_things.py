"""Small things a class notices (issue 15 item 8): words on the cards, panels and status line
that said something wrong or garbled.  Pilot tests on recorded traces; no process is started."""

from __future__ import annotations

from pathlib import Path

from ipcviz.app.app import IpcvizApp
from ipcviz.app.source import TraceRun
from ipcviz.app.widgets.process_card import ProcessCard
from ipcviz.model.timeline import read_trace_file
from ipcviz.scenario import loads

from .helpers import step_to, sync, wait_for

TRACES = Path(__file__).resolve().parent / "traces"


def trace_app(name: str) -> IpcvizApp:
    """The app replaying tests/app/traces/<name>.jsonl with the scenario it carries."""
    header, snaps = read_trace_file(TRACES / f"{name}.jsonl")
    scenario = loads(header["source"], f"{name}.jsonl", header["scenario"])

    def factory(sc):
        run = TraceRun(sc, snaps)
        run.replay = False
        return run

    app = IpcvizApp(run_factory=factory, entries=[], scenario=scenario)
    app.animation_level = "none"
    return app


async def at_step(pilot, n: int) -> None:
    await step_to(pilot, n)
    stage = pilot.app.screen
    await wait_for(pilot, lambda: not stage.sampling, 5, "quiet")


@sync
async def test_dead_process_card_names_its_parent_once():
    """A dead process's card said 'parent shell' (and 'parent parent' for a child of a
    process named parent): it reads 'child of shell'."""
    app = trace_app("signal-terminal-keys")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step(pilot, 11)
        card = app.screen.query_one("#proc-job", ProcessCard)
        assert card.process is not None and card.process.state == "exited"
        assert str(card.border_subtitle) == "child of shell"
