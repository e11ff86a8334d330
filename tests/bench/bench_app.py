"""App benchmarks, measured on the real `ipcviz` in a real pseudo-terminal.  Run by hand:

    python tests/bench/bench_app.py [--repeats 5]

1. Cold start: from spawning `python -m ipcviz` to the picker's text arriving on the
   terminal (the first frame), median of --repeats; bytecode compiled first, as an
   installed ipcviz has it.
2. A 64-process lesson (msgq/crowd) played at the fastest speed: frames per second the app
   drew on the terminal while playing, the app process's CPU time, and its peak memory
   (VmHWM of /proc/PID/status).  Frames are counted exactly: this pseudo-terminal answers
   Textual's query for synchronized output (DECRQM 2026) as kitty, WezTerm, foot or
   iTerm2 do, so Textual brackets every frame with ESC[?2026h ... ESC[?2026l; the bench
   counts the brackets.  (The app's write calls, syscw of /proc/PID/io, are reported too.)
3. Peak memory of the app process over every pipe lesson stepped to its end.
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import json
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYNC_QUERY = b"\x1b[?2026$p"  # DECRQM: is synchronized output (mode 2026) supported?
SYNC_SUPPORTED = b"\x1b[?2026;2$y"  # DECRPM: recognised, currently reset
FRAME_START = b"\x1b[?2026h"
FINISHED = re.compile(rb"(?<!un)finished")


class AppInPty:
    def __init__(self, *args: str, cols: int = 120, rows: int = 36) -> None:
        env = dict(os.environ, TERM="xterm-256color")
        env.pop("COLUMNS", None)
        env.pop("LINES", None)
        self.t0 = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.chdir(ROOT)
            os.execve(sys.executable, [sys.executable, "-m", "ipcviz", *args], env)
        self.pid, self.fd = pid, fd
        self.out = bytearray()

    def read_for(self, seconds: float) -> bytes:
        got = bytearray()
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                if SYNC_QUERY in chunk:  # a terminal that supports synchronized output
                    os.write(self.fd, SYNC_SUPPORTED)
                got += chunk
        self.out += got
        return bytes(got)

    def wait_for(self, marker: bytes, timeout: float = 20) -> float:
        deadline = time.perf_counter() + timeout
        while marker not in self.out:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{marker!r} not seen in {timeout} s")
            self.read_for(0.01)
        return time.perf_counter() - self.t0

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return 0

    def writes(self) -> int:
        for line in Path(f"/proc/{self.pid}/io").read_text().splitlines():
            if line.startswith("syscw:"):
                return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def quit(self) -> None:
        try:
            self.send(b"q")
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline:
                self.read_for(0.05)
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    return
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        finally:
            os.close(self.fd)


def cold_start(repeats: int) -> dict:
    # As pip install leaves it: bytecode compiled.  (With PYTHONDONTWRITEBYTECODE set, as
    # on these machines, a source tree would otherwise compile every module at each start.)
    compileall.compile_dir(ROOT / "ipcviz", quiet=1)
    times = []
    for _ in range(repeats):
        app = AppInPty()
        times.append(app.wait_for(b"real kernel"))
        app.quit()
    # The floor under it, measured in the same minute: Python importing Textual, nothing else
    # (these shared machines vary by a factor of two from one minute to the next).
    floor = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
        floor.append(time.perf_counter() - t0)
    return {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3),
            "runs": repeats, "textual_import_median_s": round(statistics.median(floor), 3)}


def play(lesson: str, seconds_cap: float = 60) -> dict:
    app = AppInPty(lesson)
    app.wait_for(b"before step 1", 30)
    app.send(b"+" * 8)  # the fastest speed
    app.read_for(0.3)
    cpu0, start = app.cpu_seconds(), time.perf_counter()
    writes_before, mark = app.writes(), len(app.out)
    app.send(b"p")
    deadline = start + seconds_cap
    while time.perf_counter() < deadline:
        app.read_for(0.05)
        if FINISHED.search(app.out[-60000:]):  # the status bar's word, not "<unfinished"
            break
    elapsed = time.perf_counter() - start
    frames = app.out[mark:].count(FRAME_START)
    result = {"lesson": lesson, "seconds": round(elapsed, 2), "frames": frames,
              "fps": round(frames / elapsed, 1), "write_calls": app.writes() - writes_before,
              "cpu_percent_of_one_core":
              round(100 * (app.cpu_seconds() - cpu0) / elapsed, 1),
              "peak_rss_mb": round(app.status("VmHWM") / 1024, 1)}
    app.quit()
    return result


def step_through(lesson: str) -> float:
    app = AppInPty(lesson)
    app.wait_for(b"before step 1", 30)
    from ipcviz.scenario import find

    for _ in range(len(find(lesson).steps)):
        app.send(b" ")
        app.read_for(0.15)
    app.read_for(0.5)
    peak = app.status("VmHWM") / 1024
    app.quit()
    return peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as d:
        os.environ["IPCVIZ_RUNTIME_DIR"] = d
        result = {"cold_start": cold_start(args.repeats), "crowd": play("msgq/crowd")}
        peaks = {p.stem: step_through(f"pipe/{p.stem}")
                 for p in sorted((ROOT / "scenarios" / "pipe").glob("*.toml"))}
        result["pipe_lessons_peak_rss_mb"] = round(max(peaks.values()), 1)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        c, p = result["cold_start"], result["crowd"]
        print(f"cold start to first frame: median {c['median_s']} s (max {c['max_s']} s, "
              f"{c['runs']} runs); python -c 'import textual.app' alone: "
              f"{c['textual_import_median_s']} s")
        print(f"64-process lesson at full speed: {p['fps']} frames/s over {p['seconds']} s, "
              f"app CPU {p['cpu_percent_of_one_core']}% of one core, "
              f"peak memory {p['peak_rss_mb']} MB")
        print(f"peak memory over every pipe lesson: {result['pipe_lessons_peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
