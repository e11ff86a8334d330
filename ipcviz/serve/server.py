"""The app in a browser: textual-serve's Server, with a cap on viewers and a bounded stop.

textual-serve's model is kept: each browser connection (one websocket) gets its own app
process, `python -m ipcviz [NAME]` with Textual's web driver, so each viewer steps their own
isolated run of real processes.  What this module adds:

* A cap on concurrent viewers, counted here, in the server process: the websocket handler
  runs on this server's one event loop, so a plain counter is exact (no lock file, nothing
  to go stale when a process is killed).  Past the cap the page is a plain HTML page saying
  so (HTTP 503, reloading itself every 15 s); a websocket that still races past the count
  gets a terminal message instead of an app process.
* Every app process is marked IPCVIZ_SERVE=<server pid> in its environment, and known to
  the server.  On SIGINT, SIGTERM or SIGHUP the server stops listening, asks each app to
  quit (the app closes its run: its processes end and its kernel objects are removed),
  terminates then kills any app still there after QUIT_BOUND seconds, and finally sweeps
  the runs of apps that died without closing them (ipcviz.runtime.sweep).
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import shlex
import signal
import sys
from pathlib import Path

from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from . import ENV_SERVE, server_mark
QUIT_BOUND = 8.0  # seconds an app may take to quit and close its run
KILL_BOUND = 3.0  # seconds after SIGTERM, then SIGKILL
REFRESH_FULL = 15  # seconds between reloads of the "all places taken" page

log = logging.getLogger("ipcviz.serve")


def app_command(scenario: str | None) -> str:
    """The shell command textual-serve runs for each viewer: this Python, this ipcviz."""
    argv = [sys.executable, "-m", "ipcviz"] + ([scenario] if scenario else [])
    # exec: the shell is replaced, so the process textual-serve waits for is the app itself
    return "exec " + shlex.join(argv)


class _ViewerService(AppService):
    """One viewer's app process, marked so it can be found (and must not be left behind)."""

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        env = super()._build_environment(width=width, height=height)
        from ..runtime.rundir import process_start_time

        env[ENV_SERVE] = server_mark(os.getpid(), process_start_time(os.getpid()))
        pkg_parent = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
        return env

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def end(self) -> None:
        """Quit the app; terminate, then kill it if it does not go.  Bounded; idempotent."""
        try:
            await asyncio.wait_for(self.stop(), QUIT_BOUND)
        except TimeoutError:
            log.warning("a viewer's app did not quit within %g s: terminating it", QUIT_BOUND)
        except (ConnectionError, RuntimeError):
            pass  # its stdin is gone already: it has ended or is ending
        proc = self._process
        if proc is None:
            return
        try:  # its output has ended: it is exiting, or has
            await asyncio.wait_for(proc.wait(), KILL_BOUND)
            return
        except TimeoutError:
            pass
        for sig, bound in ((signal.SIGTERM, KILL_BOUND), (signal.SIGKILL, KILL_BOUND)):
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                return
            try:
                await asyncio.wait_for(proc.wait(), bound)
                return
            except TimeoutError:
                continue


class ViewerServer(Server):
    """textual-serve's Server for ipcviz: at most `max_viewers` app processes at once."""

    def __init__(self, scenario: str | None, host: str, port: int, max_viewers: int) -> None:
        title = f"ipcviz · {scenario}" if scenario else "ipcviz"
        super().__init__(app_command(scenario), host=host, port=port, title=title)
        self.max_viewers = max_viewers
        self.live = 0  # viewer places taken (counted before any await: exact)
        self.sessions: set[_ViewerService] = set()
        self.refused: set[web.WebSocketResponse] = set()
        self.bound_url = ""
        self._stopping = False

    @property
    def full(self) -> bool:
        return self._stopping or self.live >= self.max_viewers

    # -- pages --------------------------------------------------------------------------------

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if self.full:
            return web.Response(status=503, text=self._full_page(), content_type="text/html",
                                headers={"Retry-After": str(REFRESH_FULL),
                                         "Cache-Control": "no-store"})
        # The page tells the browser where the websocket is: the address the browser used,
        # so it works through --host 0.0.0.0 and from another machine too.  No await lies
        # between this assignment and its use below.
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    def _full_page(self) -> str:
        n = self.max_viewers
        what = ("The server is stopping." if self._stopping else
                f"All {n} viewer place{'s are' if n != 1 else ' is'} taken: each viewer runs "
                "the lessons on real processes of this machine, so their number is capped.")
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta http-equiv='refresh' content='{REFRESH_FULL}'>"
            f"<title>{html.escape(self.title)}: no place free</title>"
            "<style>body{font-family:system-ui,sans-serif;background:#0c181f;color:#eee;"
            "display:flex;align-items:center;justify-content:center;height:100vh;margin:0}"
            "main{max-width:36em;padding:2em;background:#12232d;font-size:1.2rem}</style>"
            f"</head><body><main id='full'><h1>{html.escape(self.title)}</h1>"
            f"<p>{html.escape(what)}</p>"
            f"<p>This page tries again every {REFRESH_FULL} seconds; it opens the app as "
            "soon as a viewer closes theirs.</p></main></body></html>")

    # -- sessions -------------------------------------------------------------------------------

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if self.full:
            return await self._refuse(request)
        self.live += 1  # taken now, before any await
        websocket = web.WebSocketResponse(heartbeat=15)
        service: _ViewerService | None = None
        try:
            width = _int(request.query.get("width"), 80)
            height = _int(request.query.get("height"), 24)
            await websocket.prepare(request)
            service = _ViewerService(
                self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                close=websocket.close, download_manager=self.download_manager,
                debug=self.debug)
            self.sessions.add(service)
            await service.start(width, height)
            log.info("viewer %d/%d: app process %s", self.live, self.max_viewers, service.pid)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            pass
        except (ConnectionError, OSError) as err:
            log.warning("a viewer's session ended: %s", err)
        finally:
            if service is not None:
                await service.end()
                self.sessions.discard(service)
            self.live -= 1
            if not websocket.closed:
                await websocket.close()
        return websocket

    async def _refuse(self, request: web.Request) -> web.WebSocketResponse:
        """Past the cap: a message in the terminal, no process; held until the tab goes."""
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        self.refused.add(websocket)
        n = self.max_viewers
        places = f"all {n} viewer place{'s are' if n != 1 else ' is'} taken"
        text = (f"\x1b[2J\x1b[H\x1b[97m\r\n  \x1b[1mipcviz: {places}.\x1b[22m\r\n\r\n"
                "  Each viewer runs the lessons on real processes of this machine,\r\n"
                "  so their number is capped (ipcviz serve --max-viewers).\r\n\r\n"
                "  Reload this page when a viewer has closed theirs.\r\n")
        try:
            await websocket.send_bytes(text.encode())
            async for message in websocket:  # answer pings until the browser leaves
                if message.type == WSMsgType.TEXT and message.data.startswith('["ping"'):
                    await websocket.send_str(message.data.replace('"ping"', '"pong"', 1))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.refused.discard(websocket)
        return websocket

    # -- life cycle -----------------------------------------------------------------------------

    async def on_startup(self, app: web.Application) -> None:
        pass  # serve() says where it listens, once the port is bound

    async def run(self, ready=None) -> None:
        """Listen until SIGINT, SIGTERM or SIGHUP; then end every viewer's app.  Raises
        OSError when the address cannot be bound."""
        app = await self._make_app()
        runner = web.AppRunner(app, handle_signals=False, access_log=None,
                               shutdown_timeout=QUIT_BOUND + 2 * KILL_BOUND + 2)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            host, port = runner.addresses[0][:2]
            shown = f"[{host}]" if ":" in host else host
            self.bound_url = f"http://{shown}:{port}/"
            self.public_url = self.bound_url.rstrip("/")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(sig, stop.set)
            if ready is not None:
                ready(self)
            await stop.wait()
            self._stopping = True
            await site.stop()  # no new viewer from now on
            await self.end_all()
        finally:
            await runner.cleanup()

    async def end_all(self) -> None:
        """End every viewer's app (bounded), then sweep runs whose app died uncleanly."""
        for ws in list(self.refused):
            await ws.close()
        await asyncio.gather(*(s.end() for s in list(self.sessions)),
                             return_exceptions=True)
        from ..runtime.sweep import sweep

        try:
            for line in sweep(dry_run=False):
                log.warning("removed what a viewer's run left behind: %s", line)
        except OSError:
            pass


def _int(text: str | None, default: int) -> int:
    try:
        return max(1, min(int(text or default), 1000))
    except ValueError:
        return default


def marked_processes(server_pid: int) -> list[int]:
    """Processes marked IPCVIZ_SERVE=<server_pid>:… (read from /proc), zombies excluded:
    the viewers' app processes, and the runners and workers of their runs (they inherit
    the app's environment)."""
    mark = f"{ENV_SERVE}={server_pid}:".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            env = Path(f"/proc/{entry}/environ").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        marked = any(e.startswith(mark) for e in env.split(b"\0"))
        if marked and stat[stat.rindex(b")") + 2:][:1] != b"Z":
            found.append(int(entry))
    return found
