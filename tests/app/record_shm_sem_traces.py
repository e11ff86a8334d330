"""Record real runs of shared-memory and semaphore lessons as traces, for the panels'
snapshot tests.

    python tests/app/record_shm_sem_traces.py   # rewrites tests/app/traces/{shm,sem}-*.jsonl

The traces carry their scenario (write_trace_header), so the tests replay exactly what was
recorded even if the lesson files change later.  Re-record when the Snapshot format changes,
then update the SVGs (pytest tests/app/test_shm_sem_panels.py --snapshot-update).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from ipcviz.model.timeline import write_trace_header, write_trace_line
from ipcviz.runtime import Run
from ipcviz.scenario import load

LESSONS = ("shm/basics", "sem/counting", "sem/deadlock", "sem/bounded-buffer")


def record(scenario_path: Path, out: Path) -> None:
    scenario = load(scenario_path)
    with Run(scenario) as run, open(out, "w", encoding="utf-8") as f:
        write_trace_header(f, scenario.name, scenario.source)
        write_trace_line(f, run.start())
        while not run.finished:
            write_trace_line(f, run.step())


if __name__ == "__main__":
    # A private runtime directory: this run sweeps nobody else's.
    with tempfile.TemporaryDirectory(prefix="ipcviz-rec-") as rt:  # removed afterwards
        os.environ.setdefault("IPCVIZ_RUNTIME_DIR", rt)
        for name in LESSONS:
            mech, lesson = name.split("/")
            target = HERE / "traces" / f"{mech}-{lesson}.jsonl"
            record(ROOT / "scenarios" / mech / f"{lesson}.toml", target)
            print(f"recorded {target}")
