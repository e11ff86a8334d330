"""Record a real run of every shipped lesson that has no trace yet, for the focus walk.

    python tests/app/record_focus_traces.py            # lessons without a current trace
    python tests/app/record_focus_traces.py pipe/eof   # (re)record these lessons

Writes tests/app/traces/<mechanism>-<name>.jsonl.gz (a crowd's trace is megabytes of JSON).
test_focus_fit.py walks every step of every shipped lesson that has one, at 80x24, 100x30
and 120x36, without running anything:
after adding or changing a lesson, run this once and commit the new trace.  A plain
.jsonl an SVG snapshot test draws is never rewritten: when it is older than its lesson the
walk gets a .jsonl.gz of its own.  Name lessons to record them again.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import tempfile
from pathlib import Path

from record_trace import HERE, ROOT, private_runtime_dir, record  # this folder: run as a script


def trace_path(name: str) -> Path:
    """The trace the walk reads (test_focus_fit.trace_of): this script's .jsonl.gz, else
    the plain .jsonl an SVG test draws."""
    plain = HERE / "traces" / f"{name.replace('/', '-')}.jsonl"
    gz = plain.with_suffix(".jsonl.gz")
    return gz if gz.exists() or not plain.exists() else plain


def fresh(name: str) -> bool:
    """The lesson has a trace, recorded from the lesson file as it is now."""
    path = trace_path(name)
    if not path.exists():
        return False
    with (gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz"
          else open(path, encoding="utf-8")) as f:
        header = json.loads(f.readline())
    return header.get("source") == (ROOT / "scenarios" / f"{name}.toml").read_text("utf-8")


def record_gz(lesson: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "trace.jsonl"
        record(lesson, plain)
        with open(plain, "rb") as src, gzip.open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)


def shipped() -> list[str]:
    base = ROOT / "scenarios"
    return sorted(f"{p.parent.name}/{p.stem}" for p in base.glob("*/*.toml"))


if __name__ == "__main__":
    from ipcviz.runtime.availability import unavailable
    from ipcviz.scenario import load

    names = sys.argv[1:] or [n for n in shipped() if not fresh(n)]
    with private_runtime_dir():
        for name in names:
            path = ROOT / "scenarios" / f"{name}.toml"
            why = unavailable(load(path))
            if why:
                print(f"skipped {name}: {why}")
                continue
            # never the plain traces: the SVG tests draw them as they were recorded
            target = HERE / "traces" / f"{name.replace('/', '-')}.jsonl.gz"
            record_gz(path, target)
            print(f"recorded {trace_path(name)}")
