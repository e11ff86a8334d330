"""ipcviz.export: a lesson as slides, for a lecture-hall machine that cannot run it live.

    ipcviz export pipe/eof --svg slides/           run it for real, one SVG per step
    ipcviz export --trace eof.jsonl --svg slides/  from a recording: nothing is run

The lesson is run first exactly as `ipcviz run --headless` runs it (ipcviz.runtime.Run),
its processes and objects are cleaned up, and then the app draws each recorded Snapshot
headless (Textual's run_test) into step-000.svg, step-001.svg, ...  So a slide shows the
snapshot the run returned for that step, never a later live sample.  index.html pages
through them with the arrow keys, space and PageDown; trace.jsonl beside them replays the
same run in the app (`ipcviz replay DIR/trace.jsonl`).
"""

from .slides import ExportError, Stopped, export_slides, record_run

__all__ = ["ExportError", "Stopped", "export_slides", "record_run"]
