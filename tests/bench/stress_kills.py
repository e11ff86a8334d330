"""Stress: 100 randomized kills of ipcviz mid-lesson; prints the count of leftovers (must be 0).

    python tests/bench/stress_kills.py [--count 100] [--seed 1]

Each round picks a shipped lesson, a step and a way to stop ipcviz (SIGKILL of the
conductor, SIGKILL of runner and conductor, SIGTERM, SIGHUP, SIGINT), stops a headless run
there, runs `ipcviz clean` after a SIGKILL (as a user would), and then accounts for every
process, directory and manifest object of that run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from killing import ROOT, kill_at

from ipcviz.scenario import load

WAYS = ["SIGKILL", "SIGKILL-both", "SIGTERM", "SIGHUP", "SIGINT"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    lessons = sorted((ROOT / "scenarios").glob("*/*.toml"))
    leftovers, ways, t0 = 0, Counter(), time.monotonic()
    for i in range(args.count):
        path = rng.choice(lessons)
        lesson = f"{path.parent.name}/{path.stem}"
        step = rng.randint(1, len(load(path).steps))
        how = rng.choice(WAYS)
        ways[how] += 1
        with tempfile.TemporaryDirectory() as d:
            out = kill_at(lesson, step, how, Path(d))
        leftovers += len(out.leftovers)
        mark = "ok" if not out.leftovers else "LEFTOVERS " + "; ".join(out.leftovers)
        print(f"{i + 1:3} {lesson:<28} step {step:<3} {how:<13} {mark}", flush=True)
    print(f"\n{args.count} kills ({', '.join(f'{k} {v}' for k, v in sorted(ways.items()))}) "
          f"in {time.monotonic() - t0:.0f} s: {leftovers} leftovers")
    return 0 if leftovers == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
