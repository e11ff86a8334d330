"""ipcviz.app: the Textual app, a live lecture stage.  Renders Snapshots only.

    run_app()            the scenario picker
    run_app("pipe/eof")  that scenario, on stage
"""

from __future__ import annotations

import sys


def run_app(scenario: str | None = None) -> int:
    """Run the app; returns the process exit code (2: the scenario cannot be loaded)."""
    from dataclasses import replace

    from ..runtime import Run
    from ..runtime.availability import unavailable
    from ..scenario import ScenarioError, find, load
    from ..scenario.catalog import scan
    from .app import IpcvizApp

    found, broken = scan()
    problems = [f"skipped a broken scenario: {err}" for err in broken]
    # Lessons this system cannot run are listed, marked, with the reason found at start.
    entries = [replace(e, unavailable=unavailable(load(e.path))) for e in found]
    chosen = None
    if scenario is not None:
        try:
            chosen = find(scenario)
        except ScenarioError as err:
            print(f"ipcviz: {err}", file=sys.stderr)
            return 2
    app = IpcvizApp(run_factory=Run, entries=entries, scenario=chosen, problems=problems)
    try:
        code = app.run()
    finally:
        app.close_all_runs()  # whatever happened, no process of a run is left
    return code if isinstance(code, int) else app.exit_code


def replay_app(scenario, snapshots) -> int:
    """The app on a recorded trace: stepping and history, no process, no kernel object."""
    from .app import IpcvizApp
    from .source import TraceRun

    app = IpcvizApp(run_factory=lambda sc: TraceRun(sc, snapshots), entries=[],
                    scenario=scenario)
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
