"""Record a real run of pipe/full-blocks-writer (zh narration, a quiz) for the i18n/quiz SVGs.

    python tests/app/record_i18n_trace.py
    # rewrites tests/app/traces/pipe-full-blocks-writer.jsonl

The trace's header carries the scenario's text as it was when recorded, so the snapshots do
not change when the lesson is edited later.  Re-record when the Snapshot format changes.
"""

from __future__ import annotations

from record_trace import HERE, ROOT, record  # this folder: run as a script

LESSON = "pipe/full-blocks-writer"
TARGET = HERE / "traces" / "pipe-full-blocks-writer.jsonl"


if __name__ == "__main__":
    record(ROOT / "scenarios" / f"{LESSON}.toml", TARGET)
    print(f"recorded {TARGET}")
