"""Record real runs of message-queue lessons as traces, for the panel's snapshot tests.

    python tests/app/record_msgq_trace.py       # rewrites tests/app/traces/msgq-*.jsonl

The traces carry their scenario (write_trace_header), so the tests replay exactly what was
recorded even if the lesson files change later.  Re-record when the Snapshot format changes,
then update the SVGs (pytest tests/app/test_msgq_panel.py --snapshot-update).
"""

from __future__ import annotations

from record_trace import HERE, ROOT, private_runtime_dir, record  # this folder: run as a script

LESSONS = ("sysv-by-type", "sysv-full-blocks", "posix-priority")


if __name__ == "__main__":
    with private_runtime_dir():
        for name in LESSONS:
            target = HERE / "traces" / f"msgq-{name}.jsonl"
            record(ROOT / "scenarios" / "msgq" / f"{name}.toml", target)
            print(f"recorded {target}")
