"""Steps asked for while a step runs are queued and shown, never dropped in silence."""

from __future__ import annotations

import threading

from ipcviz.app.app import IpcvizApp
from ipcviz.app.source import TraceRun
from ipcviz.app.widgets import StatusBar
from ipcviz.model.timeline import load_recording

from .helpers import HERE, sync, text_of, wait_for

TRACE = HERE / "traces" / "sem-bounded-buffer.jsonl"  # a lesson of more than 17 steps


class GatedRun(TraceRun):
    """A recorded run whose steps wait for the test's gate: a step is still running while
    the test presses keys, as a real step is while a lecturer presses them."""

    def __init__(self, scenario, snapshots, gate: threading.Event) -> None:
        super().__init__(scenario, snapshots)
        self.gate = gate

    def step(self):
        assert self.gate.wait(10), "the test never opened the gate"
        return super().step()


def long_app(gate: threading.Event | None = None) -> tuple[IpcvizApp, list[TraceRun]]:
    scenario, snaps = load_recording(TRACE)
    made: list[TraceRun] = []
    if gate is None:
        gate = threading.Event()
        gate.set()

    def factory(sc):
        made.append(GatedRun(sc, snaps, gate))
        return made[-1]

    app = IpcvizApp(run_factory=factory, entries=[], scenario=scenario)
    app.animation_level = "none"
    return app, made


@sync
async def test_a_burst_of_17_spaces_reaches_step_17():
    """17 spaces pressed at once run exactly 17 steps, in order."""
    # GIVEN the app on a run of a long lesson that has started, its steps held at a gate
    gate = threading.Event()
    app, made = long_app(gate)
    async with app.run_test(size=(100, 30)) as pilot:
        stage = app.screen
        assert len(stage.scenario.steps) > 17
        await wait_for(pilot, lambda: bool(stage.history) and not stage.busy, 5, "the start")
        # WHEN space is pressed 17 times while the first step is still running
        await pilot.press(*["space"] * 17)
        assert stage.busy and len(made[0].timeline) == 1
        gate.set()
        # THEN the run reaches step 17, every press counted, none lost, none extra
        await wait_for(pilot, lambda: stage.history[-1].step >= 17, 20, "step 17")
        await wait_for(pilot, lambda: not stage.busy, 5, "the last step to finish")
        await pilot.pause(0.2)
        assert [s.step for s in stage.history] == list(range(18))
        assert len(made[0].timeline) == 18 and stage.viewing == 17


@sync
async def test_queued_steps_are_shown_in_the_status():
    """While a step runs, further presses show as 'N queued' in the status line."""
    app, _ = long_app()
    async with app.run_test(size=(100, 30)) as pilot:
        stage = app.screen
        await wait_for(pilot, lambda: bool(stage.history) and not stage.busy, 5, "the start")
        # WHEN a step is in flight and three more are asked for (the keys are handled one
        # after the other on the event loop, before any step's result is)
        stage.action_forward()
        assert stage.busy
        for _ in range(3):
            stage.action_forward()
        # THEN the status says so, and the queue runs down to nothing
        assert "3 queued" in text_of(stage.query_one(StatusBar))
        await wait_for(pilot, lambda: stage.history[-1].step == 4 and not stage.busy, 10,
                       "the queued steps")
        assert "queued" not in text_of(stage.query_one(StatusBar))
        assert [s.step for s in stage.history] == [0, 1, 2, 3, 4]
