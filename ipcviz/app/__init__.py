"""ipcviz.app: the Textual app, a live lecture stage.  Renders Snapshots only.

    run_app()            the scenario picker
    run_app("pipe/eof")  that scenario, on stage
"""

from __future__ import annotations

import sys


def run_app(scenario: str | None = None) -> int:
    """Run the app; returns the process exit code (2: the scenario cannot be loaded)."""
    from ..runtime import Run
    from ..scenario import ScenarioError, find, load
    from ..scenario.catalog import Entry, scenario_paths
    from .app import IpcvizApp

    entries: list[Entry] = []
    problems: list[str] = []
    for path in scenario_paths():
        try:
            s = load(path)
        except ScenarioError as err:
            problems.append(f"skipped a broken scenario: {err}")
            continue
        entries.append(Entry(s.name, s.mechanism, s.title, s.summary, len(s.steps), path))
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


def __getattr__(name: str):
    if name == "IpcvizApp":
        from .app import IpcvizApp

        return IpcvizApp
    raise AttributeError(name)


__all__ = ["IpcvizApp", "run_app"]
