"""Record real runs of message-queue lessons as traces, for the panel's snapshot tests.

    python tests/app/record_msgq_trace.py       # rewrites tests/app/traces/msgq-*.jsonl

The traces carry their scenario (write_trace_header), so the tests replay exactly what was
recorded even if the lesson files change later.  Re-record when the Snapshot format changes,
then update the SVGs (pytest tests/app/test_msgq_panel.py --snapshot-update).
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

LESSONS = ("sysv-by-type", "sysv-full-blocks", "posix-priority")


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
            target = HERE / "traces" / f"msgq-{name}.jsonl"
            record(ROOT / "scenarios" / "msgq" / f"{name}.toml", target)
            print(f"recorded {target}")
