"""Record real runs of FIFO and signal lessons as traces, for the repeatable SVG snapshots.

    python tests/app/record_fifo_signal_traces.py
    # rewrites tests/app/traces/{fifo,signal}-*.jsonl

The snapshots of tests/app/test_fifo_signal_panels.py draw these recorded Snapshots (fixed
PIDs, inodes and paths), so they never depend on a live run.  Re-record when the Snapshot
format changes, then update the SVGs (pytest ... --snapshot-update).
"""

from __future__ import annotations

from pathlib import Path

from record_trace import ROOT, HERE, private_runtime_dir  # this folder: run as a script
from record_trace import record as record_file

LESSONS = ["fifo/open-blocks", "signal/blocked-pending", "signal/terminal-keys"]


def trace_path(lesson: str) -> Path:
    return HERE / "traces" / f"{lesson.replace('/', '-')}.jsonl"


def record(lesson: str) -> Path:
    out = trace_path(lesson)
    record_file(ROOT / "scenarios" / f"{lesson}.toml", out)
    return out


if __name__ == "__main__":
    # a short, private runtime directory: the FIFO's path is part of the picture
    with private_runtime_dir("ipcviz-", force=True):
        for lesson in LESSONS:
            print(f"recorded {record(lesson)}")
