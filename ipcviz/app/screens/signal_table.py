"""g: every signal of this system, as measured here (ipcviz.probe.signal_table).

The measurement forks a child per signal (about a second the first time, cached after).  It
runs in a clean child process (`python -m ipcviz.probe.signal_table`, see ..child), never a
fork of this threaded app, read by a thread worker while a loading indicator shows; closing
the screen or quitting ends it.  The screen never types a table in.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, LoadingIndicator, Static
from textual.worker import Worker, WorkerState

from ...probe.signal_table import SignalInfo, from_json
from ..child import ChildError, JsonChild

MEASURE_TIMEOUT = 60.0  # seconds the measuring process may stay silent (about 1 s normally)
_MEASURED: list[SignalInfo] | None = None  # measured once per app process, as before

COLUMNS = ("#", "name", "default action", "description", "catch", "block")
ACTION_STYLE = {
    "terminate": "$text-error",
    "core": "b $text-error",
    "terminate or core": "$text-error",
    "stop": "b $text-warning",
    "continue": "$text-success",
    "ignore": "italic",
}


def yes_no(value: bool) -> Content:
    if value:
        return Content.styled("yes", "$text-success")
    return Content.styled("NO", "b $text-error")


class SignalTableScreen(Screen[None]):
    """Every signal: number, name, default action, description, can be caught / blocked."""

    DEFAULT_CSS = """
    SignalTableScreen { layout: vertical; }
    SignalTableScreen > #signals-intro { height: auto; padding: 0 1; background: $boost; }
    SignalTableScreen > LoadingIndicator { height: 1fr; }
    SignalTableScreen > #signals-table { height: 1fr; }
    SignalTableScreen > #signals-notes { height: auto; max-height: 4; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q,g", "close", "Close"),
    ]

    @dataclass
    class Measured(Message, bubble=False):
        rows: list[SignalInfo]
        machine: str

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[SignalInfo] | None = None
        self._stop = threading.Event()
        self.child: JsonChild | None = None  # the measuring process, while it runs

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble(
            ("Signals of this system", "b $text-accent"),
            (("  measuring: a child process gets each signal, and the kernel's answer is "
              "written down…"), "$text-muted")), id="signals-intro")
        yield LoadingIndicator()
        table = DataTable(id="signals-table", cursor_type="row", zebra_stripes=True)
        table.display = False
        yield table
        yield Static(id="signals-notes")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self._measure()

    def on_unmount(self) -> None:
        self._stop.set()
        if self.child is not None:
            self.child.stop()  # it ends after the signal in flight; the worker reaps it

    @work(thread=True, exclusive=True, group="signal-table", exit_on_error=False)
    def _measure(self) -> None:
        global _MEASURED
        rows = _MEASURED
        if rows is None:
            child = self.child = JsonChild("ipcviz.probe.signal_table",
                                           idle_timeout=MEASURE_TIMEOUT)
            try:
                for data in child.lines(self._stop):
                    rows = from_json(data)
            finally:
                child.close()
            if self._stop.is_set():
                return
            if rows is None:
                raise ChildError("the measuring process printed no table")
            _MEASURED = rows
        u = os.uname()
        self.post_message(self.Measured(rows, f"{u.sysname} {u.release} {u.machine}"))

    @on(Measured)
    def _on_measured(self, message: Measured) -> None:
        self.rows = message.rows
        table = self.query_one(DataTable)
        rows = message.rows
        widths = (max(len(str(r.number)) for r in rows), max(len(r.name) for r in rows),
                  max(len(r.default_action) for r in rows),
                  max(len(r.description) for r in rows), 5, 5)
        for label, width in zip(COLUMNS, widths):
            table.add_column(label, width=max(width, len(label)), key=label)
        for s in message.rows:
            table.add_row(
                Content(str(s.number)),
                Content.styled(s.name, "b"),
                Content.styled(s.default_action, ACTION_STYLE.get(s.default_action, "")),
                Content(s.description),
                yes_no(s.can_catch), yes_no(s.can_block),
                key=s.name)
        self.query_one(LoadingIndicator).display = False
        table.display = True
        table.focus()
        self.query_one("#signals-intro", Static).update(Content.assemble(
            ("Signals of this system", "b $text-accent"),
            ((f"  {len(message.rows)} signals, measured on this machine ({message.machine}): "
              "each default action is what the kernel did to a child that got the signal; "
              "catch = sigaction() with a handler was accepted, block = sigprocmask() kept it"),
             "$text-muted")))
        notes = sorted({s.default_source for s in message.rows if s.default_source != "measured"})
        uncatchable = [s.name for s in message.rows if not s.can_catch or not s.can_block]
        lines = []
        if uncatchable:
            lines.append(Content.assemble(
                (", ".join(uncatchable), "b"),
                (": the kernel refuses handlers and masks for these (EINVAL / dropped)",
                 "$text-muted")))
        lines += [Content.styled(f"note: {n}", "$text-muted italic") for n in notes]
        self.query_one("#signals-notes", Static).update(Content("\n").join(lines))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.query_one(LoadingIndicator).display = False
            self.query_one("#signals-intro", Static).update(Content.styled(
                f"could not measure the signals: {event.worker.error}", "b $text-error"))

    def action_close(self) -> None:
        self.dismiss(None)
