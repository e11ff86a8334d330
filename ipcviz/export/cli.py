"""`ipcviz export`: a lesson as SVG slides with an index.html.

    ipcviz export NAME|PATH --svg DIR [--size 120x36] [--theme textual-dark] [--present]
                  [--step-timeout S]
    ipcviz export --trace FILE --svg DIR [--size ...] [--theme ...]

Exit codes as the rest of ipcviz: 0 written; 1 written, but an expect of the lesson failed
(the slides show what really happened); 2 bad input (a name, a file, an option); 3 the
lesson cannot run here or the run could not go on.  Progress goes to stderr, and so does
a warning naming each step whose focus could not be shown whole at the size asked for.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from ..command import EXIT_EXPECT, EXIT_INPUT, EXIT_OK, EXIT_RUN
from ..command import Parser as _Parser
from ..command import Terminated as _Terminated
from ..command import raise_on_terminating, restore_handlers


def _size(text: str) -> tuple[int, int]:
    from ..app.widgets.too_small import MIN_HEIGHT, MIN_WIDTH

    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not COLUMNSxROWS, e.g. 120x36") \
            from None
    if w < MIN_WIDTH or h < MIN_HEIGHT or w > 500 or h > 200:
        raise argparse.ArgumentTypeError(
            f"{w}x{h}: the stage needs {MIN_WIDTH}x{MIN_HEIGHT} to 500x200")
    return w, h


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ipcviz export",
                description="Write a lesson as one SVG of the stage per step, with an "
                            "index.html that pages through them (arrow keys, space, PageDown).")
    p.add_argument("scenario", nargs="?", help="a lesson name (pipe/eof) or a scenario file")
    p.add_argument("--trace", metavar="FILE",
                   help="draw a recorded trace (ipcviz run NAME --headless --record FILE) "
                        "instead of running the lesson")
    p.add_argument("--svg", metavar="DIR", required=True,
                   help="folder for step-000.svg, step-001.svg, ..., index.html, trace.jsonl")
    p.add_argument("--size", type=_size, default=(120, 36), metavar="WxH",
                   help="stage size in columns x rows (default 120x36)")
    p.add_argument("--theme", default="textual-dark",
                   help="textual-dark (default), textual-light for a projector, or any "
                        "Textual theme")
    p.add_argument("--lang", default=None, metavar="LANG",
                   help="language of the slides: en or zh (default: IPCVIZ_LANG, the locale)")
    p.add_argument("--present", action="store_true",
                   help="presentation mode: no code or log panels, the kernel objects get "
                        "the room (as P in the app)")
    p.add_argument("--step-timeout", type=float, default=5.0, metavar="S",
                   help="seconds a step may take to return or block (default 5)")
    return p


def _fail(message: str, code: int) -> int:
    from ..textsafe import printable

    sys.stderr.write(f"ipcviz export: {printable(message)}\n")  # names from files: shown
    return code


def _warn(message: str) -> None:
    from ..textsafe import printable

    sys.stderr.write(f"ipcviz export: warning: {printable(message)}\n")
    sys.stderr.flush()


def _progress(message: str) -> None:
    from ..textsafe import printable

    sys.stderr.write(f"ipcviz export: {printable(message)}\n")
    sys.stderr.flush()


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from textual.theme import BUILTIN_THEMES

    if args.theme not in BUILTIN_THEMES:
        return _fail(f"unknown theme '{args.theme}' (known: {', '.join(BUILTIN_THEMES)})",
                     EXIT_INPUT)
    from ..lang import choose

    try:
        args.lang = choose(args.lang)
    except ValueError as err:
        return _fail(str(err), EXIT_INPUT)
    if (args.scenario is None) == (args.trace is None):
        return _fail("give a lesson name or file, or --trace FILE (one of them)", EXIT_INPUT)
    why = _unwritable(Path(args.svg))
    if why:
        return _fail(f"--svg {args.svg}: {why}", EXIT_INPUT)
    from .slides import Stopped

    old = raise_on_terminating()
    try:
        if args.trace is not None:
            got = _from_trace(args.trace)
        else:
            got = _from_run(args.scenario, args.step_timeout)
        if isinstance(got, int):
            return got
        scenario, snaps, replay = got
        return _write(scenario, snaps, replay, args)
    except (_Terminated, Stopped) as err:
        if str(err) == "SIGINT":
            return _fail("interrupted; no process of the lesson is left", 130)
        return _fail(f"stopped by {err}; no process of the lesson is left",
                     128 + signal.Signals[str(err)])
    except KeyboardInterrupt:
        return _fail("interrupted; no process of the lesson is left", 130)
    finally:
        restore_handlers(old)


def _unwritable(out: Path) -> str | None:
    """Why the slides could not be written there (found before the lesson runs), or None."""
    if out.exists() and not out.is_dir():
        return "exists and is not a folder"
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def _from_trace(path: str):
    from ..model.timeline import TraceError, load_recording

    try:
        scenario, snaps = load_recording(path)
    except TraceError as err:
        return _fail(str(err), EXIT_INPUT)
    return scenario, snaps, True


def _from_run(name: str, step_timeout: float):
    from ..runtime import RunError
    from ..runtime.availability import unavailable
    from ..runtime.sweep import sweep
    from ..scenario import ScenarioError, find
    from .slides import record_run

    try:
        scenario = find(name)
    except ScenarioError as err:
        return _fail(str(err), EXIT_INPUT)
    why = unavailable(scenario)
    if why:
        return _fail(f"{scenario.name} cannot run on this system: {why}", EXIT_RUN)
    try:
        sweep(dry_run=False)  # what killed runs left behind, as every start does
    except OSError:
        pass
    try:  # record_run closes the run whatever happens, a signal included
        snaps = record_run(scenario, step_bound=step_timeout, progress=_progress)
    except RunError as err:
        return _fail(f"{scenario.name}: {err}", EXIT_RUN)
    return scenario, snaps, False


def _write(scenario, snaps, replay: bool, args) -> int:
    from .slides import ExportError, export_slides

    try:
        paths = export_slides(scenario, snaps, Path(args.svg), size=args.size,
                              theme=args.theme, replay=replay, progress=_progress,
                              lang=args.lang, present=args.present, warn=_warn)
    except ExportError as err:
        return _fail(str(err), EXIT_RUN)
    index = Path(args.svg) / "index.html"
    failed = sum(not c.ok for s in snaps for c in s.checks)
    _progress(f"wrote {len(paths)} slides of {scenario.name} into {args.svg}; "
              f"open {index} and page with the arrow keys")
    if failed:
        return _fail(f"{failed} expect(s) of {scenario.name} failed: the slides show what "
                     "really happened", EXIT_EXPECT)
    return EXIT_OK
