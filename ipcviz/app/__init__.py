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


def watch_app(watch, lang: str | None = None) -> int:
    """The app on a watched program (attach --watch): the stage refreshed live, no steps.
    `watch` is a started-or-not ipcviz.runtime.watch.Watch; restart looks again afresh."""
    from ..lang import choose
    from .app import IpcvizApp

    first = [watch]

    def factory(sc):
        if first:
            return first.pop()
        from ..runtime.watch import Watch

        return Watch(watch.pid)

    app = IpcvizApp(run_factory=factory, entries=[], scenario=watch.scenario,
                    lang=choose(lang))
    try:
        code = app.run()
    finally:
        app.close_all_runs()
        watch.close()
    return code if isinstance(code, int) else app.exit_code


def trace_app(program: list[str], lang: str | None = None, session=None):
    """The app on a live trace of PROGRAM: you choose who runs.  Returns (exit code, every
    LiveTrace made (r makes one more), closed: their `left` objects and `output` are for
    the terminal).  SESSION makes the TraceSession (default: start PROGRAM; `ipcviz attach`
    gives one that seizes a running process)."""
    from ..lang import choose

    app, made = make_trace_app(program, choose(lang), session)
    try:
        code = app.run()
    finally:
        app.close_all_runs()  # every traced tree killed (close() is idempotent)
    return (code if isinstance(code, int) else app.exit_code), list(made)


def make_trace_app(program: list[str], lang: str = "en", session=None):
    """(the app on a live trace of PROGRAM, the list of LiveTraces it made: r makes one
    more).  Nothing starts before the app runs."""
    from ..runtime.trace.session import TraceSession
    from .app import IpcvizApp
    from .screens.trace import TraceStageScreen
    from .tracing import LiveTrace, cast

    import os

    title = "trace " + " ".join([os.path.basename(program[0]), *program[1:]])
    made: list[LiveTrace] = []

    def factory(sc):
        run = LiveTrace(session() if session is not None else TraceSession(program), title)
        made.append(run)
        return run

    app = IpcvizApp(run_factory=factory, entries=[], lang=lang,
                    stage=lambda: TraceStageScreen(cast(title, program, ()), program))
    return app, made


def __getattr__(name: str):
    if name == "IpcvizApp":
        from .app import IpcvizApp

        return IpcvizApp
    raise AttributeError(name)


__all__ = ["IpcvizApp", "replay_app", "run_app", "trace_app", "watch_app"]
