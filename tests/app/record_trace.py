"""Record a real run of a test scenario as a trace, for the repeatable snapshot tests.

    python tests/app/record_trace.py            # rewrites tests/app/traces/*.jsonl

The SVG snapshots draw these recorded Snapshots (fixed PIDs and inodes), so they never
depend on a live run.  Re-record when the Snapshot format changes, then update the SVGs.

Also what the other record_*.py scripts share: record() and private_runtime_dir().
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

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


@contextlib.contextmanager
def private_runtime_dir(prefix: str = "ipcviz-rec-", force: bool = False):
    """A runtime directory of the recording's own (this run sweeps nobody else's), removed
    afterwards.  force: use it even if IPCVIZ_RUNTIME_DIR is set (a short path that is
    part of the picture, as a FIFO's)."""
    rt = tempfile.mkdtemp(prefix=prefix)
    if force:
        os.environ["IPCVIZ_RUNTIME_DIR"] = rt
    else:
        os.environ.setdefault("IPCVIZ_RUNTIME_DIR", rt)
    try:
        yield rt
    finally:
        shutil.rmtree(rt, ignore_errors=True)


if __name__ == "__main__":
    for path in sorted((HERE / "scenarios").glob("*/*.toml")):
        target = HERE / "traces" / f"{path.stem}.jsonl"
        record(path, target)
        print(f"recorded {target}")
