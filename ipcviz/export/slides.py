"""Run a lesson, then draw each of its Snapshots with the app, headless, as SVG slides.

Two phases, so that no process of the run is alive while the app draws:
1. `record_run`: the real run (ipcviz.runtime.Run), step by step, closed whatever happens.
2. `render_slides`: the app on a TraceRun of those Snapshots (the same source a replay
   uses), stepped with Textual's pilot; after each step, `export_screenshot()`.
"""

from __future__ import annotations

import asyncio
import re
import signal
import threading
import time
from dataclasses import dataclass
from collections.abc import Callable, Sequence
from pathlib import Path

from ..files import NewFile, WriteError, write_file
from ..model.snapshot import Snapshot
from ..model.timeline import write_trace_header, write_trace_line
from ..scenario.model import Scenario
from ..textsafe import printable
from .page import index_html
from .svgfix import fix_wide_text

SLIDE_NAME = "step-{:03d}.svg"
SLIDE_RE = re.compile(r"^step-\d{3,}\.svg$")
TRACE_NAME = "trace.jsonl"
WAIT_BOUND = 30.0  # seconds the app may take to draw one snapshot (a loaded machine)

Progress = Callable[[str], None]


class ExportError(Exception):
    """The slides cannot be written; str() is one line saying why."""


class Stopped(Exception):
    """A signal stopped the export; str() is the signal's name."""


def _quiet(_: str) -> None:
    pass


def record_run(scenario: Scenario, step_bound: float = 5.0,
               progress: Progress = _quiet) -> list[Snapshot]:
    """Run the lesson for real; every Snapshot it returned.  The run is always closed.

    Raises ipcviz.runtime.RunError when the run cannot go on.
    """
    from ..runtime import Run

    total = len(scenario.steps)
    snaps: list[Snapshot] = []
    run = Run(scenario, step_bound=step_bound)
    try:
        progress(f"running {scenario.name}: starting its processes")
        snaps.append(run.start())
        while not run.finished:
            progress(f"running {scenario.name}: step {len(snaps)}/{total}")
            snaps.append(run.step())
    finally:
        _close_unbroken(run)
    progress(f"ran {scenario.name}: {len(snaps) - 1} steps; its processes are gone")
    return snaps


def _close_unbroken(run) -> None:
    """Close the run; a second Ctrl+C or SIGTERM meanwhile must not cut the clean-up short."""
    if threading.current_thread() is not threading.main_thread():
        run.close()
        return
    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    old = {s: signal.signal(s, signal.SIG_IGN) for s in sigs}
    try:
        run.close()
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def render_slides(scenario: Scenario, snapshots: Sequence[Snapshot], *,
                  size: tuple[int, int], theme: str, replay: bool,
                  progress: Progress = _quiet, lang: str = "en", present: bool = False,
                  warn: Progress = _quiet) -> list[str]:
    """One SVG (text) per snapshot: the app's stage, drawn headless at `size` (present:
    in presentation mode).  `warn` is told of each slide whose step's focus (the acting
    process, the objects it touches, the processes it woke or blocked) is not whole on it.

    SIGINT, SIGTERM and SIGHUP cancel the drawing and raise Stopped (from the main thread):
    an exception raised by a plain signal handler inside Textual's loop could be swallowed
    by a callback and leave the app waiting."""
    look = _Look(size, theme, replay, lang, present)
    return asyncio.run(_render_stoppable(scenario, list(snapshots), look, progress, warn))


async def _render_stoppable(*args) -> list[str]:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    stopped: list[str] = []
    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    if threading.current_thread() is threading.main_thread():
        for sig in sigs:
            loop.add_signal_handler(
                sig, lambda s=sig: (stopped.append(signal.Signals(s).name), task.cancel()))
    try:
        return await _render(*args)
    except asyncio.CancelledError:
        if stopped:
            raise Stopped(stopped[0]) from None
        raise
    finally:
        if threading.current_thread() is threading.main_thread():
            for sig in sigs:
                loop.remove_signal_handler(sig)


@dataclass(frozen=True)
class _Look:
    """How the slides are drawn."""

    size: tuple[int, int]
    theme: str
    replay: bool  # from a file: drawn as REPLAY
    lang: str
    present: bool


def cut_warning(scenario: Scenario, step: int, cut: Sequence[str],
                size: tuple[int, int]) -> str:
    """The warning for a slide whose step's focus did not fit."""
    return (f"{scenario.name} step {step}: {', '.join(cut)} not whole on the slide at "
            f"{size[0]}x{size[1]} (a larger --size, or --present, gives it room)")


async def _render(scenario: Scenario, snapshots: list[Snapshot], look: _Look,
                  progress: Progress, warn: Progress) -> list[str]:
    from ..app.app import IpcvizApp
    from ..app.screens import StageScreen
    from ..app.source import TraceRun

    def factory(sc: Scenario) -> TraceRun:
        run = TraceRun(sc, snapshots)
        run.replay = look.replay  # from a real run just now: LIVE; from a file: REPLAY
        return run

    app = IpcvizApp(run_factory=factory, entries=[], scenario=scenario, lang=look.lang,
                    present=look.present)
    app.animation_level = "none"
    app.slides = True
    total = len(scenario.steps)
    svgs: list[str] = []
    async with app.run_test(size=look.size) as pilot:
        app.theme = look.theme

        async def until(cond: Callable[[], bool], what: str) -> None:
            deadline = time.monotonic() + WAIT_BOUND
            while not cond():
                if time.monotonic() > deadline:
                    raise ExportError(f"the app did not draw {what} within {WAIT_BOUND:g} s")
                await pilot.pause(0.01)

        await until(lambda: isinstance(app.screen, StageScreen), "the stage")
        stage = app.screen
        # A slide is not a keyboard: the key bar would only take a row from the stage.
        for footer in stage.query("Footer"):
            footer.display = False
        for k in range(len(snapshots)):
            if k:
                await pilot.press("space")
            await until(lambda k=k: len(stage.history) == k + 1 and not stage.busy
                        and not stage.fitting, f"step {k}")
            # The code box scrolls to the step's line after a refresh: let it settle.
            await pilot.pause()
            await pilot.pause()
            progress(f"drawing slide {k}/{len(snapshots) - 1}")
            cut = stage.focus_cut()
            if cut:
                warn(cut_warning(scenario, k, cut, look.size))
            svgs.append(fix_wide_text(
                app.export_screenshot(title=f"{scenario.name} · step {k}/{total}")))
    return svgs


def caption(snap: Snapshot) -> str:
    """One line under a slide: who called what, and how it ended (controls escaped: a
    trace's text, read by a browser but also by `cat`)."""
    if snap.step == 0:
        return "before the first step: the processes are started"
    text = f"{snap.process}: {snap.call or snap.action or ''}".strip()
    if snap.outcome and snap.outcome != "returned":
        text += f" → {snap.outcome}"
    elif snap.result is not None:
        text += f" → {snap.result}"
    return printable(text)


def write_slides(out_dir: Path, scenario: Scenario, snapshots: Sequence[Snapshot],
                 svgs: Sequence[str], *, dark: bool, lang: str = "en") -> list[Path]:
    """step-NNN.svg, index.html and trace.jsonl into out_dir; older step-*.svg are removed.

    Each file is written beside its name and renamed into place (ipcviz.files): a symlink
    planted in out_dir is replaced, never written through."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.iterdir():
            if SLIDE_RE.match(old.name):
                old.unlink()
        paths = []
        for k, svg in enumerate(svgs):
            path = out_dir / SLIDE_NAME.format(k)
            write_file(path, svg)
            paths.append(path)
        page = index_html(printable(scenario.name), printable(scenario.title_in(lang)),
                          len(scenario.steps),
                          [(p.name, s.step, caption(s)) for p, s in zip(paths, snapshots)],
                          dark=dark, lang=lang)
        write_file(out_dir / "index.html", page)
        with NewFile(out_dir / TRACE_NAME) as f:
            write_trace_header(f, scenario.name, scenario.source)
            for snap in snapshots:
                write_trace_line(f, snap)
    except WriteError as err:
        raise ExportError(f"cannot write the slides: {err}") from None
    except OSError as err:
        raise ExportError(f"cannot write the slides into {out_dir}: "
                          f"{err.strerror or err}") from None
    return paths


def export_slides(scenario: Scenario, snapshots: Sequence[Snapshot], out_dir: Path | str, *,
                  size: tuple[int, int] = (120, 36), theme: str = "textual-dark",
                  replay: bool = False, progress: Progress = _quiet,
                  lang: str = "en", present: bool = False,
                  warn: Progress = _quiet) -> list[Path]:
    """Draw and write the slides of recorded snapshots; the paths of the SVGs, in order."""
    from textual.theme import BUILTIN_THEMES

    if theme not in BUILTIN_THEMES:
        raise ExportError(f"unknown theme '{theme}' (known: {', '.join(BUILTIN_THEMES)})")
    svgs = render_slides(scenario, snapshots, size=size, theme=theme, replay=replay,
                         progress=progress, lang=lang, present=present, warn=warn)
    return write_slides(Path(out_dir), scenario, snapshots, svgs,
                        dark=BUILTIN_THEMES[theme].dark, lang=lang)
