from __future__ import annotations

from ipcviz.model import Snapshot
from ipcviz.runtime import Run
from ipcviz.scenario import Scenario


def run_until(run: Run, step: int) -> Snapshot:
    """Start the run and step it until the snapshot of `step` (step >= 1)."""
    snap = run.start()
    while snap.step < step:
        snap = run.step()
    return snap


def run_to_end(scenario: Scenario, **kw) -> tuple[list[Snapshot], str]:
    """Run every step; return the snapshots and the run id (the run is closed after)."""
    with Run(scenario, **kw) as run:
        snaps = [run.start()]
        run_id = run.rundir.run_id
        while not run.finished:
            snaps.append(run.step())
    return snaps, run_id
