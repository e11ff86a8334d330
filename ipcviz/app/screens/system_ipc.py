"""i : every System V message queue on this machine, like `ipcs -q`, ipcviz's own marked.

A reference screen: it reads the system table (/proc/sysvipc/msg, through
ipcviz.runtime.system_ipc.system_queues) in a thread worker, on opening, on r, and every 2 s while
open.  It shows that a lesson's queue is an ordinary kernel object among any others on the
machine — and one that outlives its creator until IPC_RMID, which is why ipcviz records
each of its own in a manifest and marks them here.
"""

from __future__ import annotations

import pwd
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

from ...runtime.system_ipc import SystemQueue, system_queues

REFRESH_EVERY = 2.0  # seconds
COLUMNS = ("key", "msqid", "owner", "perms", "used-bytes", "messages", "ipcviz")
MARK = "★"


@dataclass(frozen=True)
class QueueRow:
    """One queue as the table shows it (owner already turned into a user name)."""

    queue: SystemQueue
    owner: str


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def read_rows() -> list[QueueRow]:
    """Every System V queue now (blocking: reads /proc and the run manifests)."""
    return [QueueRow(q, _user(q.owner_uid)) for q in system_queues()]


class SystemIpcScreen(Screen):
    """The machine's System V queues, refreshed every 2 s and on r; escape or q closes."""

    DEFAULT_CSS = """
    SystemIpcScreen { layout: vertical; }
    SystemIpcScreen #sysipc-box {
        height: 1fr; border: round $accent; padding: 0 1;
        border-title-color: $text-accent; border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    SystemIpcScreen #sysipc-intro { height: auto; color: $text-muted; }
    SystemIpcScreen #sysipc-summary { height: auto; margin-top: 1; }
    SystemIpcScreen #sysipc-queues { height: 1fr; margin-top: 1; }
    SystemIpcScreen #sysipc-others { height: auto; margin-top: 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,i", "close", "Close"),
        Binding("r", "refresh", "Refresh"),
    ]

    @dataclass
    class Listed(Message, bubble=False):
        rows: list[QueueRow]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[QueueRow] | None = None  # None: not read yet
        self.error: str | None = None
        self.reads = 0  # completed reads (tests wait on it)

    def compose(self) -> ComposeResult:
        with Vertical(id="sysipc-box") as box:
            box.border_title = "System V message queues on this machine (ipcs -q)"
            box.border_subtitle = f"refreshed every {REFRESH_EVERY:g} s · r now · escape closes"
            yield Static(Content.assemble(
                "Every queue the kernel holds, from any program of any user — read from ",
                ("/proc/sysvipc/msg", "b"), ", the file ", ("ipcs -q", "b"), " prints. "
                "A queue outlives the process that made it until someone removes it "
                "(msgctl IPC_RMID, or ", ("ipcrm -q MSQID", "b"), "). ",
                (f"{MARK} marks ipcviz's own", "b $text-success"),
                ", found in its runs' manifests."), id="sysipc-intro")
            yield Static("reading /proc/sysvipc/msg…", id="sysipc-summary")
            table: DataTable = DataTable(id="sysipc-queues", cursor_type="row", zebra_stripes=True)
            table.add_columns(*COLUMNS)
            yield table
            yield Static(
                "Semaphore sets and shared-memory segments are not listed here: ipcviz has no "
                "system-wide reading of them yet. Type ipcs -s and ipcs -m to see them.",
                id="sysipc-others")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.action_refresh()
        self.set_interval(REFRESH_EVERY, self.action_refresh)

    # -- reading (off the event loop) ------------------------------------------------------

    def action_refresh(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="system-ipc", exit_on_error=False)
    def _read(self) -> None:
        self.post_message(self.Listed(read_rows()))

    @on(Listed)
    def _on_listed(self, message: Listed) -> None:
        self.reads += 1
        self.error = None
        if message.rows != self.rows:  # unchanged: leave the table (and its cursor) alone
            self.rows = message.rows
            self._fill(message.rows)
        self._summary()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            err = event.worker.error
            self.error = f"{type(err).__name__}: {err}"
            self._summary()

    # -- drawing ---------------------------------------------------------------------------

    def _this_run(self) -> str | None:
        """The run id of the lesson on the stage under this screen, if it is a live run."""
        from .stage import StageScreen

        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, StageScreen) and screen.run is not None:
                rundir = getattr(screen.run, "rundir", None)
                return getattr(rundir, "run_id", None)
        return None

    def _fill(self, rows: list[QueueRow]) -> None:
        table = self.query_one("#sysipc-queues", DataTable)
        cursor = table.cursor_row
        this_run = self._this_run()
        table.clear()
        for r in rows:
            q = r.queue
            style = "bold" if q.ours else ""
            if q.ours:
                here = this_run is not None and q.run_id == this_run
                mine = f"{MARK} {q.object} · " + ("this lesson" if here else f"run {q.run_id}")
            else:
                mine = ""
            cells = (f"0x{q.key:08x}", str(q.msqid), r.owner, q.perms, str(q.bytes),
                     str(q.messages), mine)
            table.add_row(*(Text(c, style=style) for c in cells), key=str(q.msqid))
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)

    def _summary(self) -> None:
        summary = self.query_one("#sysipc-summary", Static)
        if self.error:
            summary.update(Content.styled(f"cannot read the queues: {self.error}",
                                          "b $text-error"))
            return
        rows = self.rows or []
        ours = sum(1 for r in rows if r.queue.ours)
        if not rows:
            summary.update(Content.styled(
                "no System V message queue exists on this machine right now", "italic"))
            return
        n = "1 queue" if len(rows) == 1 else f"{len(rows)} queues"
        summary.update(Content.assemble((n, "b"), " on this machine, ",
                                        (f"{ours} of them ipcviz's", "b $text-success"),
                                        f" ({MARK})" if ours else ""))

    def action_close(self) -> None:
        self.dismiss()
