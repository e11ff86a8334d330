"""Engine benchmarks: step latency and the probe's CPU cost.  Not a test: run it by hand.

    python tests/bench/bench_engine.py [--repeats 5] [--seconds 10] [--json]

1. Step latency: every shipped scenario is run --repeats times; each run.step() is timed
   from the command to the process, through "returned" or "kernel-confirmed blocked" and
   the settling of every other process, to the finished Snapshot.
2. Probe cost: a scenario of N idle processes (a root and N-1 forked children, one pipe
   shared by all) is sampled at 20 Hz for --seconds; the conductor's CPU time (user+system,
   all threads: time.process_time) over the wall time is the share of one core.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ipcviz.runtime import Run  # noqa: E402
from ipcviz.scenario import load, loads  # noqa: E402


def step_latency(repeats: int) -> dict:
    times = []
    for path in sorted((ROOT / "scenarios").glob("*/*.toml")):
        scenario = load(path)
        for _ in range(repeats):
            with Run(scenario) as run:
                run.start()
                while not run.finished:
                    t0 = time.perf_counter()
                    run.step()
                    times.append(time.perf_counter() - t0)
    times.sort()
    return {
        "steps": len(times),
        "median_ms": round(statistics.median(times) * 1000, 2),
        "p90_ms": round(times[int(len(times) * 0.9)] * 1000, 2),
        "max_ms": round(times[-1] * 1000, 2),
    }


def many_processes(n: int) -> str:
    lines = ['title = "bench"', '[[process]]', 'name = "root"']
    for i in range(1, n):
        lines += ['[[process]]', f'name = "c{i}"', 'parent = "root"']
    lines += ['[[object]]', 'name = "p"', 'kind = "pipe"',
              '[[step]]', 'process = "root"', 'action = "pipe"', 'object = "p"',
              'narration = "x"']
    for i in range(1, n):
        lines += ['[[step]]', 'process = "root"', 'action = "fork"', f'child = "c{i}"',
                  'narration = "x"']
    return "\n".join(lines) + "\n"


def probe_cost(n: int, seconds: float, hz: float = 20.0) -> dict:
    scenario = loads(many_processes(n), "bench.toml", "bench/many")
    with Run(scenario) as run:
        run.start()
        while not run.finished:
            run.step()
        period = 1.0 / hz
        samples = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        next_t = wall0
        sample_times = []
        while time.perf_counter() - wall0 < seconds:
            t0 = time.perf_counter()
            snap = run.sample()
            sample_times.append(time.perf_counter() - t0)
            samples += 1
            next_t += period
            delay = next_t - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        assert len(snap.processes) == n
    return {
        "processes": n,
        "hz": hz,
        "samples": samples,
        "cpu_percent_of_one_core": round(100 * cpu / wall, 2),
        "sample_median_ms": round(statistics.median(sample_times) * 1000, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        import os

        os.environ["IPCVIZ_RUNTIME_DIR"] = d
        result = {
            "step_latency": step_latency(args.repeats),
            "probe": [probe_cost(8, args.seconds), probe_cost(64, args.seconds)],
        }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        s = result["step_latency"]
        print(f"step latency over {s['steps']} steps: median {s['median_ms']} ms, "
              f"p90 {s['p90_ms']} ms, max {s['max_ms']} ms")
        for p in result["probe"]:
            print(f"probe, {p['processes']} processes at {p['hz']:g} Hz: "
                  f"{p['cpu_percent_of_one_core']}% of one core "
                  f"(one sample: median {p['sample_median_ms']} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
