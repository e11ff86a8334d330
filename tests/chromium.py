"""Headless Chromium for the tests, driven over the Chrome DevTools Protocol.

No browser download and no extra client: Debian's `chromium` (installed by .ci/run) and the
websocket client of aiohttp (a dependency of textual-serve).  Every wait is bounded; the
browser runs in its own session and is killed as a group, so no renderer outlives a test.

    with Chromium(tmp_path) as browser:
        page = browser.page()
        page.navigate(url)
        page.wait_for("document.body.dataset.step === '0'")
        page.key("ArrowRight")
        png = page.screenshot()
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Self

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--mute-audio"]
START_BOUND = 30.0  # seconds for the browser to open its debugging port (a loaded machine)
CALL_BOUND = 20.0  # seconds for one protocol call

# key -> (code, windowsVirtualKeyCode, text)
KEYS = {
    "ArrowRight": ("ArrowRight", 39, None), "ArrowLeft": ("ArrowLeft", 37, None),
    "ArrowDown": ("ArrowDown", 40, None), "ArrowUp": ("ArrowUp", 38, None),
    "PageDown": ("PageDown", 34, None), "PageUp": ("PageUp", 33, None),
    "Home": ("Home", 36, None), "End": ("End", 35, None),
    " ": ("Space", 32, " "), "Enter": ("Enter", 13, "\r"),
}


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_flags(user_data_dir: Path) -> list[str]:
    return [*FLAGS, f"--user-data-dir={user_data_dir}"]


def screenshot(url: str, out: Path, user_data_dir: Path, size=(1280, 800),
               wait_ms: int = 0, timeout: float = 60) -> subprocess.CompletedProcess:
    """`chromium --screenshot`: one page, one PNG, the browser gone when it returns."""
    args = [chromium_path(), *chromium_flags(user_data_dir),
            f"--window-size={size[0]},{size[1]}", f"--screenshot={out}"]
    if wait_ms:
        args.append(f"--virtual-time-budget={wait_ms}")
    proc = subprocess.Popen([*args, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, text=True)
    try:
        out_text, _ = proc.communicate(timeout=timeout)
    finally:
        _kill_group(proc)
    return subprocess.CompletedProcess(args, proc.returncode, out_text, "")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


class Page:
    """One tab, over its own websocket; calls are synchronous for the test's comfort."""

    def __init__(self, browser: Chromium, ws_url: str) -> None:
        self.browser = browser
        self.loop = browser.loop
        self._next_id = 0
        self.ws = self.loop.run_until_complete(self._connect(ws_url))

    async def _connect(self, url: str):
        import aiohttp

        self._session = aiohttp.ClientSession()
        return await self._session.ws_connect(url, max_msg_size=0)

    def call(self, method: str, **params):
        self._next_id += 1
        return self.loop.run_until_complete(
            asyncio.wait_for(self._call(self._next_id, method, params), CALL_BOUND))

    async def _call(self, ident: int, method: str, params: dict):
        await self.ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            msg = await self.ws.receive()
            if msg.type.name != "TEXT":
                raise RuntimeError(f"the browser closed the protocol socket ({msg.type.name})")
            data = json.loads(msg.data)
            if data.get("id") == ident:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def eval(self, expression: str):
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails'].get('text')}")
        return res.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 20.0, what: str = "") -> object:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.eval(expression)
            except RuntimeError:
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for "
                                     f"{what or expression}")
            time.sleep(0.1)

    def key(self, key: str) -> None:
        """A real key press, as the keyboard sends it (keyDown with text, then keyUp)."""
        code, vk, text = KEYS[key]
        down = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": vk,
                "nativeVirtualKeyCode": vk}
        if text:
            down["text"] = text
        self.call("Input.dispatchKeyEvent", **down)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=code,
                  windowsVirtualKeyCode=vk, nativeVirtualKeyCode=vk)

    def screenshot(self, out: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        out.write_bytes(base64.b64decode(data))
        return out

    def close(self) -> None:
        async def shut():
            await self.ws.close()
            await self._session.close()

        try:
            self.loop.run_until_complete(asyncio.wait_for(shut(), 5))
        except (TimeoutError, OSError):
            pass


class Chromium:
    """A headless Chromium with a fresh profile and a debugging port on 127.0.0.1."""

    def __init__(self, workdir: Path, size=(1280, 800)) -> None:
        self.workdir = Path(workdir)
        self.size = size
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.loop = asyncio.new_event_loop()
        self.pages: list[Page] = []

    def __enter__(self) -> Self:
        profile = self.workdir / "chromium-profile"
        profile.mkdir(parents=True, exist_ok=True)
        args = [chromium_path(), *chromium_flags(profile), "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
                f"--window-size={self.size[0]},{self.size[1]}", "about:blank"]
        with open(self.workdir / "chromium.log", "wb") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=log,
                                         start_new_session=True)
        try:
            port_file = profile / "DevToolsActivePort"
            deadline = time.monotonic() + START_BOUND
            while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("chromium did not open its debugging port: "
                                         + (self.workdir / "chromium.log").read_text()[-800:])
                time.sleep(0.05)
            self.port = int(port_file.read_text().split("\n")[0])
        except BaseException:
            self.__exit__()
            raise
        return self

    def page(self) -> Page:
        """The first tab (about:blank)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list",
                                    timeout=CALL_BOUND) as r:
            targets = json.load(r)
        tab = next(t for t in targets if t.get("type") == "page")
        page = Page(self, tab["webSocketDebuggerUrl"])
        self.pages.append(page)
        return page

    def __exit__(self, *exc) -> None:
        for page in self.pages:
            page.close()
        if self.proc is not None:
            _kill_group(self.proc)
        self.loop.close()
