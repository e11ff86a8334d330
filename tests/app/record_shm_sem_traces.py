"""Record real runs of shared-memory and semaphore lessons as traces, for the panels'
snapshot tests.

    python tests/app/record_shm_sem_traces.py   # rewrites tests/app/traces/{shm,sem}-*.jsonl

The traces carry their scenario (write_trace_header), so the tests replay exactly what was
recorded even if the lesson files change later.  Re-record when the Snapshot format changes,
then update the SVGs (pytest tests/app/test_shm_sem_panels.py --snapshot-update).
"""

from __future__ import annotations

from record_trace import HERE, ROOT, private_runtime_dir, record  # this folder: run as a script

LESSONS = ("shm/basics", "sem/counting", "sem/deadlock", "sem/bounded-buffer",
           "sem/philosophers-fixed")


if __name__ == "__main__":
    with private_runtime_dir():
        for name in LESSONS:
            mech, lesson = name.split("/")
            target = HERE / "traces" / f"{mech}-{lesson}.jsonl"
            record(ROOT / "scenarios" / mech / f"{lesson}.toml", target)
            print(f"recorded {target}")
