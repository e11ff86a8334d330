"""Kill `ipcviz serve` with SIGKILL N times, each with one viewer's app and run live, and
count what is left (apps, runners, workers, run directories, /dev/shm names).  Not part of
the suite:  python tests/bench/stress_serve_kill.py [N]"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ipcviz.serve.server import marked_processes
from tests.test_serve import Served


async def _open_viewer(server: Served) -> None:
    url = server.url.replace("http://", "ws://") + "ws?width=100&height=30"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        deadline = time.monotonic() + 30
        while not server.run_dirs() or not server.apps():
            if time.monotonic() > deadline:
                raise RuntimeError("no app came")
            try:
                await ws.receive(timeout=1.0)
            except TimeoutError:
                pass
        server.proc.kill()
        server.proc.wait(timeout=10)


def main(n: int) -> int:
    left_procs = left_dirs = 0
    waits = []
    for i in range(n):
        with tempfile.TemporaryDirectory() as tmp:
            rt = Path(tmp) / "rt"
            os.environ["IPCVIZ_RUNTIME_DIR"] = str(rt)
            server = Served(Path(tmp), rt, "pipe/eof")
            asyncio.run(_open_viewer(server))
            t0 = time.monotonic()
            while (marked_processes(server.proc.pid) or server.run_dirs()) and \
                    time.monotonic() - t0 < 30:
                time.sleep(0.05)
            waits.append(time.monotonic() - t0)
            procs, dirs = marked_processes(server.proc.pid), server.run_dirs()
            left_procs += len(procs)
            left_dirs += len(dirs)
            server.kill()
            print(f"kill {i + 1}: {len(procs)} process(es), {len(dirs)} run dir(s) left "
                  f"after {waits[-1]:.2f} s", flush=True)
    shm = [n for n in os.listdir("/dev/shm") if "ipcviz." in n]
    print(f"{n} kills: {left_procs} processes and {left_dirs} run directories left; "
          f"/dev/shm ipcviz names: {len(shm)}; longest wait {max(waits):.2f} s")
    return 1 if left_procs or left_dirs else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
