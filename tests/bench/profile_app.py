"""Where the app's time goes while a lesson plays at full speed.  Run by hand:

    pip install py-spy            # or: pip install '.[profile]'
    python tests/bench/profile_app.py [msgq/crowd] [--top 25]

Plays the lesson in the real app in a pseudo-terminal (as bench_app.py does) and prints

1. each thread's CPU time over the play, from /proc/PID/task/TID/stat: the event loop's
   thread (drawing) against the worker threads (the conductor stepping and sampling);
2. with py-spy attached (if installed): the functions the event loop's thread spent its
   samples in, inclusive, biggest first.

This is how the hot spots in the README's Speed section were found.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import FINISHED, AppInPty


def thread_ticks(pid: int) -> dict[str, int]:
    """tid (and name) -> utime + stime in clock ticks, for each thread of pid."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        what = "main: event loop, drawing" if task.name == str(pid) else name
        out[f"{task.name} ({what})"] = int(fields[11]) + int(fields[12])
    return out


def main_thread_frames(raw: Path, top: int) -> list[tuple[int, str]]:
    """py-spy's raw (collapsed) stacks of the main thread -> (samples, function) inclusive."""
    counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        if not n.isdigit() or "MainThread" not in frames[0]:
            continue
        total += int(n)
        for name in {re.sub(r":\d+\)", ")", f) for f in frames[1:]}:
            counts[name] += int(n)
    return [(total, "all samples of the main thread")] + [(n, name)
                                                          for name, n in counts.most_common(top)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lesson", nargs="?", default="msgq/crowd")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    os.environ["IPCVIZ_RUNTIME_DIR"] = tempfile.mkdtemp()
    app = AppInPty(args.lesson)
    app.wait_for(b"before step 1", 30)
    app.send(b"+" * 8)
    app.read_for(0.3)
    beside = Path(sys.executable).with_name("py-spy")  # installed in this virtualenv
    spy = shutil.which("py-spy") or (str(beside) if beside.exists() else None)
    raw = Path(tempfile.mkdtemp()) / "stacks.txt"
    recorder = None
    if spy:
        recorder = subprocess.Popen([spy, "record", "-p", str(app.pid), "-r", "200", "-f", "raw",
                                     "-o", str(raw), "--threads", "--nonblocking"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # py-spy attaching; the lesson has not started playing yet
    before, start = thread_ticks(app.pid), time.perf_counter()
    app.send(b"p")
    while time.perf_counter() - start < 120:
        app.read_for(0.05)
        if FINISHED.search(app.out[-60000:]):
            break
    elapsed = time.perf_counter() - start
    after = thread_ticks(app.pid)
    if recorder:
        recorder.send_signal(2)
        recorder.wait(30)
    app.quit()
    hz = os.sysconf("SC_CLK_TCK")
    print(f"{args.lesson} played in {elapsed:.2f} s; CPU seconds per thread:")
    for tid, ticks in sorted(after.items(), key=lambda kv: -(kv[1] - before.get(kv[0], 0))):
        used = (ticks - before.get(tid, 0)) / hz
        if used > 0:
            print(f"  {used:6.2f} s  thread {tid}")
    if not spy:
        print("(py-spy is not installed: no function profile)")
        return 0
    if not raw.exists():
        print("(py-spy recorded nothing: ptrace not permitted here?)")
        return 0
    rows = main_thread_frames(raw, args.top)
    total = rows[0][0] or 1
    print("main thread, inclusive samples:")
    for n, name in rows:
        print(f"  {100 * n / total:5.1f}%  {name[:110]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
