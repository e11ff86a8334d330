"""ipcviz.app: the Textual app, a live lecture stage.  Renders Snapshots only.

    run_app()            the scenario picker
    run_app("pipe/eof")  that scenario, on stage
    run_app("pipe/eof", lang="zh", quiz=True)   in Chinese, asking the class at each quiz
    run_app("pipe/eof", present=True)   presentation mode: no code or log (P toggles it)
"""

from __future__ import annotations

import sys


def run_app(scenario: str | None = None, lang: str = "en", quiz: bool = False,
            after_first_frame=None, present: bool = False) -> int:
    """Run the app; returns the process exit code (2: the scenario cannot be loaded).
    `after_first_frame` is called once the first frame is drawn (the sweep of dead runs)."""
    from ..runtime.availability import needs, reason
    from ..scenario import ScenarioError, find
    from ..scenario.catalog import scan_cached
    from .app import IpcvizApp

    from dataclasses import replace

    # Lessons this system cannot run are listed, marked, with the reason found at start.
    found, broken, needed = scan_cached(needs)
    entries = [replace(e, unavailable=reason(needed[e.name])) for e in found]
    from ..scenario.course import CourseError, ordered

    try:  # the picker and n/N follow the course (--course FILE, or the shipped one)
        entries = ordered(entries)
    except CourseError as err:
        print(f"ipcviz: {err}", file=sys.stderr)
        return 2
    problems = [f"skipped a broken scenario: {err}" for err in broken]
    chosen = None
    if scenario is not None:
        try:
            chosen = find(scenario)
        except ScenarioError as err:
            print(f"ipcviz: {err}", file=sys.stderr)
            return 2
    def run_factory(sc):
        from ..runtime.conductor import Run  # loaded when the first run starts

        return Run(sc)

    app = IpcvizApp(run_factory=run_factory, entries=entries, scenario=chosen,
                    problems=problems, lang=lang, quiz=quiz, present=present,
                    after_first_frame=after_first_frame)
    try:
        code = app.run()
    finally:
        app.close_all_runs()  # whatever happened, no process of a run is left
    return code if isinstance(code, int) else app.exit_code


def replay_app(scenario, snapshots, lang: str | None = None, quiz: bool = False,
               present: bool = False) -> int:
    """The app on a recorded trace: stepping and history, no process, no kernel object."""
    from ..lang import choose
    from .app import IpcvizApp
    from .source import TraceRun

    app = IpcvizApp(run_factory=lambda sc: TraceRun(sc, snapshots), entries=[],
                    scenario=scenario, lang=choose(lang), quiz=quiz, present=present)
    try:
        code = app.run()
    finally:
        app.close_all_runs()
    return code if isinstance(code, int) else app.exit_code


def __getattr__(name: str):
    if name == "IpcvizApp":
        from .app import IpcvizApp

        return IpcvizApp
    raise AttributeError(name)


__all__ = ["IpcvizApp", "replay_app", "run_app"]
