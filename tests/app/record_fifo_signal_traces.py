"""Record real runs of FIFO and signal lessons as traces, for the repeatable SVG snapshots.

    python tests/app/record_fifo_signal_traces.py   # rewrites tests/app/traces/{fifo,signal}-*.jsonl

The snapshots of tests/app/test_fifo_signal_panels.py draw these recorded Snapshots (fixed
PIDs, inodes and paths), so they never depend on a live run.  Re-record when the Snapshot
format changes, then update the SVGs (pytest ... --snapshot-update).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from ipcviz.model.timeline import write_trace_header, write_trace_line
from ipcviz.runtime import Run
from ipcviz.scenario import load

LESSONS = ["fifo/open-blocks", "signal/blocked-pending", "signal/terminal-keys"]


def trace_path(lesson: str) -> Path:
    return HERE / "traces" / f"{lesson.replace('/', '-')}.jsonl"


def record(lesson: str) -> Path:
    scenario = load(ROOT / "scenarios" / f"{lesson}.toml")
    out = trace_path(lesson)
    with Run(scenario) as run, open(out, "w", encoding="utf-8") as f:
        write_trace_header(f, scenario.name, scenario.source)
        write_trace_line(f, run.start())
        while not run.finished:
            write_trace_line(f, run.step())
    return out


if __name__ == "__main__":
    # a short, private runtime directory: the FIFO's path is part of the picture
    rt = tempfile.mkdtemp(prefix="ipcviz-")
    os.environ["IPCVIZ_RUNTIME_DIR"] = rt
    try:
        for lesson in LESSONS:
            print(f"recorded {record(lesson)}")
    finally:
        shutil.rmtree(rt, ignore_errors=True)
