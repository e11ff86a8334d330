"""Record a real run of pipe/full-blocks-writer (zh narration, a quiz) for the i18n/quiz SVGs.

    python tests/app/record_i18n_trace.py     # rewrites tests/app/traces/pipe-full-blocks-writer.jsonl

The trace's header carries the scenario's text as it was when recorded, so the snapshots do
not change when the lesson is edited later.  Re-record when the Snapshot format changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from ipcviz.model.timeline import write_trace_header, write_trace_line
from ipcviz.runtime import Run
from ipcviz.scenario import load

LESSON = "pipe/full-blocks-writer"
TARGET = HERE / "traces" / "pipe-full-blocks-writer.jsonl"


def record(scenario_path: Path, out: Path) -> None:
    scenario = load(scenario_path)
    with Run(scenario) as run, open(out, "w", encoding="utf-8") as f:
        write_trace_header(f, scenario.name, scenario.source)
        write_trace_line(f, run.start())
        while not run.finished:
            write_trace_line(f, run.step())


if __name__ == "__main__":
    record(ROOT / "scenarios" / f"{LESSON}.toml", TARGET)
    print(f"recorded {TARGET}")
