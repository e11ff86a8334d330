"""`ipcviz serve`: the app in a browser through textual-serve, one app process per viewer.

The server runs as a real subprocess on a free port of 127.0.0.1; a viewer is headless
Chromium (skipped only where `chromium` is not installed) or, for the stop on SIGINT, a bare
websocket.  Every test ends by stopping the server and checking in /proc that no app
process, runner or worker of it remains, and that no run directory is left.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ipcviz.serve.server import marked_processes
from tests.chromium import Chromium, chromium_path
from tests.conftest import ROOT, ipcviz, wait_until

pytestmark = pytest.mark.kernel
LESSON = "pipe/eof"
START_BOUND = 30.0  # the server, then an app process, on a loaded machine
STOP_BOUND = 30.0


class Served:
    """`ipcviz serve` in a subprocess; `stop()` signals it and waits (bounded)."""

    def __init__(self, tmp: Path, runtime: Path, *args: str) -> None:
        self.runtime = runtime
        self.err_path = tmp / "serve.err"
        env = dict(os.environ, IPCVIZ_RUNTIME_DIR=str(runtime), PYTHONUNBUFFERED="1")
        with open(tmp / "serve.out", "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ipcviz", "serve", "--port", "0", *args],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        wait_until(lambda: "http://" in self.stderr or self.proc.poll() is not None,
                   START_BOUND, "the server to listen")
        assert self.proc.poll() is None, self.stderr
        self.url = re.search(r"http://\S+/", self.stderr).group(0)

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def apps(self) -> list[int]:
        """The viewers' app processes: marked by this server, running `-m ipcviz`."""
        return [pid for pid in marked_processes(self.proc.pid)
                if _read(f"/proc/{pid}/cmdline").split(b"\0")[1:3] == [b"-m", b"ipcviz"]]

    def run_dirs(self) -> list[Path]:
        return sorted(self.runtime.glob("run-*")) if self.runtime.exists() else []

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=STOP_BOUND)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the server did not stop within {STOP_BOUND:g} s") from None

    def kill(self) -> None:
        """Whatever happened: no process of this server is left (the test's own clean-up)."""
        pid = self.proc.pid
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for p in marked_processes(pid):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


@pytest.fixture
def served(tmp_path, runtime_dir):
    made: list[Served] = []

    def start(*args: str) -> Served:
        s = Served(tmp_path, runtime_dir, *args)
        made.append(s)
        return s

    yield start
    for s in made:
        s.kill()


def assert_nothing_left(server: Served) -> None:
    assert marked_processes(server.proc.pid) == [], "an app, runner or worker was left"
    assert server.run_dirs() == [], "a run directory was left"


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.mark.skipif(chromium_path() is None,
                    reason="chromium is not installed (.ci/run installs it)")
def test_a_viewer_in_chromium_gets_an_app_and_a_run_and_stop_ends_both(served, tmp_path):
    """One viewer in headless Chromium: an app process and a run; a second viewer past the
    cap gets a clear page; SIGTERM ends the app and its run, leaving nothing."""
    # GIVEN the server, one viewer at most
    server = served("--max-viewers", "1", LESSON)
    assert f"{LESSON} on {server.url}" in server.stderr
    # THEN the page is textual-serve's, pointing its websocket at this server
    status, page = fetch(server.url)
    assert status == 200
    assert "textual.js" in page and f'data-session-websocket-url="ws://{server.url[7:]}ws"' \
        in page
    assert server.apps() == []  # a page alone starts nothing
    with Chromium(tmp_path, size=(1280, 720)) as browser:
        # WHEN a browser opens it
        tab = browser.page()
        tab.navigate(server.url + "?fontsize=14")
        # THEN its websocket session starts one app process on the lesson, which starts a run
        wait_until(lambda: len(server.apps()) == 1, START_BOUND, "the viewer's app process")
        app_pid = server.apps()[0]
        assert _read(f"/proc/{app_pid}/cmdline").split(b"\0")[1:4] == [b"-m", b"ipcviz",
                                                                       LESSON.encode()]
        wait_until(lambda: len(server.run_dirs()) == 1, START_BOUND, "the viewer's run")
        tab.wait_for("document.body.classList.contains('-first-byte')", START_BOUND,
                     "the app's first screen in the browser")
        run_id = server.run_dirs()[0].name.removeprefix("run-")
        wait_until(lambda: len([p for p in marked_processes(server.proc.pid)
                                if f"IPCVIZ_RUN={run_id}".encode()
                                in _read(f"/proc/{p}/environ")]) >= 2,
                   START_BOUND, "the run's runner and processes")
        # AND the viewer steps the lesson with the keyboard, as in a terminal
        time.sleep(1.0)  # the stage's first snapshot (no DOM to read: xterm draws a canvas)
        tab.eval("document.querySelector('.xterm-helper-textarea').focus()")
        tab.key(" ")
        time.sleep(1.5)
        shot = tab.screenshot(tmp_path / "served.png")
        assert shot.stat().st_size > 20_000
        # WHEN a second viewer comes while the one place is taken
        status, full = fetch(server.url)
        # THEN they get a page saying so, and no app process
        assert status == 503
        assert "All 1 viewer place is taken" in full
        assert len(server.apps()) == 1
        # WHEN the server is stopped with the viewer still there
        assert server.stop(signal.SIGTERM) == 0
    # THEN the app quit, its run closed: no process, no run directory
    assert "stopped; every viewer's app and run has ended" in server.stderr
    assert_nothing_left(server)


def test_sigint_ends_a_bare_websocket_viewer_and_its_run(served):
    """No browser needed: a websocket session is a viewer; a second one past the cap gets a
    message and no app; Ctrl+C (SIGINT) ends the viewer's app and run cleanly."""
    import aiohttp

    server = served("--max-viewers", "1", LESSON)
    ws_url = server.url.replace("http://", "ws://") + "ws?width=100&height=30"

    async def session() -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(ws_url) as ws:
            got = b""
            deadline = time.monotonic() + START_BOUND
            while len(server.run_dirs()) < 1 or len(got) < 1000:
                assert time.monotonic() < deadline, "no app screen or run came"
                try:
                    msg = await ws.receive(timeout=1.0)
                except TimeoutError:
                    continue
                if msg.type == aiohttp.WSMsgType.BINARY:
                    got += msg.data
                assert msg.type != aiohttp.WSMsgType.CLOSED
            assert len(server.apps()) == 1
            # a second viewer, racing past the page: a message in the terminal, no app
            async with http.ws_connect(ws_url) as second:
                msg = await asyncio.wait_for(second.receive(), START_BOUND)
                assert b"all 1 viewer place is taken" in msg.data
            assert len(server.apps()) == 1
            # WHEN the server gets SIGINT (Ctrl+C) with this viewer connected
            server.proc.send_signal(signal.SIGINT)
            # THEN the viewer's socket is closed by the server
            while True:
                msg = await asyncio.wait_for(ws.receive(), STOP_BOUND)
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.CLOSING):
                    break

    asyncio.run(asyncio.wait_for(session(), 2 * START_BOUND))
    assert server.stop() == 0
    assert_nothing_left(server)


def test_bad_options_are_one_line():
    for args, words in ((["--port", "http"], "not a port"), (["--max-viewers", "0"], "between"),
                        (["nope/none"], "nope/none")):
        res = ipcviz("serve", *args, timeout=30)
        assert res.returncode == 2, res.stderr
        assert res.stderr.startswith("ipcviz serve: ") and res.stderr.count("\n") == 1
        assert words in res.stderr


def test_sigkill_of_the_server_leaves_no_app_nor_run(served):
    """The server killed outright (no handler runs): its viewer's app dies with it (parent
    death signal), the app's runner removes the run: no process, directory or object."""
    import aiohttp

    server = served(LESSON)
    ws_url = server.url.replace("http://", "ws://") + "ws?width=100&height=30"

    runs: list[str] = []

    async def session() -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(ws_url) as ws:
            deadline = time.monotonic() + START_BOUND
            while len(server.run_dirs()) < 1 or not server.apps():
                assert time.monotonic() < deadline, "no app or run came"
                try:
                    await ws.receive(timeout=1.0)
                except TimeoutError:
                    continue
            runs.extend(d.name[len("run-"):] for d in server.run_dirs())
            # WHEN the server is killed with the viewer connected
            server.proc.kill()
            server.proc.wait(timeout=10)

    asyncio.run(asyncio.wait_for(session(), 2 * START_BOUND))
    # THEN within a bound nothing of it is left
    wait_until(lambda: marked_processes(server.proc.pid) == [] and server.run_dirs() == [],
               STOP_BOUND, "the app and its run to end")
    # (only this run's names: other tests, in parallel, have runs of their own)
    assert runs and not any(f".{run}." in n for n in os.listdir("/dev/shm") for run in runs)


def test_clean_ends_a_served_app_whose_server_is_gone(tmp_path):
    """An app whose server died but which outlived its parent-death signal (here it blocks
    SIGTERM) conducts a run that looks alive: `ipcviz clean` must find it and end its run."""
    # GIVEN a stand-in server that starts an app with its mark, then is SIGKILLed
    runtime = tmp_path / "rt"
    env = dict(os.environ, IPCVIZ_RUNTIME_DIR=str(runtime))
    starter = subprocess.Popen(
        [sys.executable, "-c", (
            "import os, signal, subprocess, sys\n"
            "from ipcviz.runtime.rundir import process_start_time\n"
            "from ipcviz.serve import ENV_SERVE, server_mark\n"
            "env = dict(os.environ)\n"
            "env[ENV_SERVE] = server_mark(os.getpid(), process_start_time(os.getpid()))\n"
            "block = lambda: signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])\n"
            "p = subprocess.Popen([sys.executable, '-m', 'ipcviz', 'run', 'pipe/eof',\n"
            "                      '--headless', '--delay', '60'], env=env, preexec_fn=block,\n"
            "                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)\n"
            "print(p.pid, flush=True)\n"
            "signal.pause()\n")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    app = int(starter.stdout.readline())
    try:
        wait_until(lambda: list(runtime.glob("run-*")), START_BOUND, "the app's run")
        starter.kill()
        starter.wait(timeout=10)
        time.sleep(0.5)  # the parent-death SIGTERM is blocked: the app lives on
        assert _alive(app), "the app should have outlived its server for this test"
        # WHEN clean runs
        out = ipcviz("clean", env=env)
        # THEN it named and ended the app, and its run went with it
        assert f"served app {app}" in out.stdout
        wait_until(lambda: not _alive(app), STOP_BOUND, "the orphaned app to end")
        wait_until(lambda: not list(runtime.glob("run-*")), STOP_BOUND, "its run to go")
    finally:
        for pid in (app,):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X")


def test_a_server_mark_without_a_start_time_is_still_a_mark():
    """If the server's start time cannot be read, its apps must still die with it and be
    found by clean: the mark parses (it once read 'PID:None' and turned both off)."""
    from ipcviz.serve import parse_mark, server_mark

    assert parse_mark(server_mark(4242, None)) == (4242, None)
    assert parse_mark(server_mark(4242, 99)) == (4242, 99)
