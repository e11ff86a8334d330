"""Record a real run of a test scenario as a trace, for the repeatable snapshot tests.

    python tests/app/record_trace.py            # rewrites tests/app/traces/*.jsonl

The SVG snapshots draw these recorded Snapshots (fixed PIDs and inodes), so they never
depend on a live run.  Re-record when the Snapshot format changes, then update the SVGs.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from ipcviz.model.timeline import write_trace_header, write_trace_line  # noqa: E402
from ipcviz.runtime import Run  # noqa: E402
from ipcviz.scenario import load  # noqa: E402


def record(scenario_path: Path, out: Path) -> None:
    scenario = load(scenario_path)
    with Run(scenario) as run, open(out, "w", encoding="utf-8") as f:
        write_trace_header(f, scenario.name, scenario.source)
        write_trace_line(f, run.start())
        while not run.finished:
            write_trace_line(f, run.step())


if __name__ == "__main__":
    for path in sorted((HERE / "scenarios").glob("*/*.toml")):
        target = HERE / "traces" / f"{path.stem}.jsonl"
        record(path, target)
        print(f"recorded {target}")
