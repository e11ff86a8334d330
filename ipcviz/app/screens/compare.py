"""b: the six mechanisms side by side, with throughput measured here, drawn as bars.

Two kinds of content, kept apart on screen:

- the *facts* (named or not, who may use it, direction, message boundaries, persistence,
  blocking, copies per message) are teaching text, written below as data (``FACTS``): they
  come from the man pages and Stevens' UNIX Network Programming vol. 2, not from a
  measurement;
- the *measured* column comes from the bench's own API, ``ipcviz.bench.run_bench``: real
  forked processes moving bytes on this kernel.  A quick run (``QUICK_PLAN``) starts with r
  or the button.  The bench forks, and this app has threads, so it runs in a clean child
  process (``python -m ipcviz.bench.child PLAN``, started by ``..child.JsonChild``), never in
  a fork of the app; a thread worker reads its JSON lines, each progress line feeds the
  ProgressBar (a message), and the last line's Results become the bars.

Stopping: escape, closing the screen or quitting the app sends the child SIGTERM; it ends at
its next progress report, *between* measurements, when every process of the previous one is
reaped and its kernel objects and manifest are removed (``run_pair`` and ``measure_dd`` clean
up in ``finally``).  The worker waits for it (``JsonChild.close``: SIGKILL to its process
group if it lingers, and the sweep removes what a killed bench leaves), so the bench stops
after the measurement in flight (a fraction of a second) and leaves nothing behind.
"""

from __future__ import annotations

import json
import textwrap
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, ProgressBar, Static
from textual.widgets.data_table import ColumnKey
from textual.worker import Worker, WorkerState

from ...bench.child import results_from_json
from ...bench.runner import DD_BLOCK, DD_KEY, MiB, Result, size_label
from ..child import ChildError, JsonChild
from ..widgets.too_small import TooSmall

EIGHTHS = " ▏▎▍▌▋▊▉"
SIZES = (64, 4096, 65536)  # the sizes s cycles through
DEFAULT_SIZE = 65536


# --------------------------------------------------------------------------- the facts (text)


@dataclass(frozen=True)
class Facts:
    """What the textbooks say about one mechanism: teaching text, not a measurement."""

    key: str  # the bench's name for it (ipcviz.bench.mechanisms.MECHANISMS, or "dd")
    name: str
    named: str
    who: str
    direction: str
    boundaries: str
    persistence: str
    blocking: str
    copies: str


FACTS: tuple[Facts, ...] = (
    Facts("pipe", "pipe",
          "no: two fds from pipe()",
          "related: fds inherited by fork()",
          "one-way (two pipes for two-way)",
          "no: a byte stream",
          "process: gone with the last fd",
          "write() when full, read() when empty",
          "4"),
    Facts("fifo", "FIFO",
          "yes: a path (type p in ls -l)",
          "any process that may open the path",
          "one-way",
          "no: a byte stream",
          "process; its name stays in the file system",
          "open() until the other end opens; then as a pipe",
          "4"),
    Facts("sysv-mq", "System V message queue",
          "yes: an integer key (ftok())",
          "any: knows the key, has permission",
          "two-way: the type says for whom",
          "kept: one msgrcv(), one message",
          "kernel: until IPC_RMID or reboot",
          "msgsnd() when full, msgrcv() until one of its type",
          "4"),
    Facts("posix-mq", "POSIX message queue",
          "yes: /name (mq_open())",
          "any: knows the name, has permission",
          "either way, no addressing",
          "kept, highest priority first",
          "kernel: until mq_unlink() or reboot",
          "mq_send() when full, mq_receive() when empty",
          "4"),
    Facts("socketpair", "Unix socketpair",
          "no: two fds from socketpair()",
          "related (fork), or an fd passed on a socket",
          "two-way (full duplex)",
          "stream: no; datagram: kept",
          "process: gone with the last fd",
          "send() when the buffer is full, recv() when empty",
          "4"),
    Facts("shm", "shared memory + semaphores",
          "yes: /name (shm_open()) or a key",
          "any: knows the name, has permission",
          "both: it is plain memory",
          "none: the program lays out the bytes",
          "kernel: until shm_unlink() / IPC_RMID or reboot",
          "never to read or write; sem_wait() at 0",
          "2"),
)
#: The C reference the bench times beside them: a shell pipeline is a pipe.
DD_FACTS = Facts(DD_KEY, "dd | dd (C reference)",
                 "no: the shell's pipe()",
                 "related: the shell forks both",
                 "one-way",
                 "no: a byte stream",
                 "process: gone with the last fd",
                 "as a pipe",
                 "4")

MEASURED = "measured"  # the key of the measured column
MEASURED_WIDTH = 28
#: (header, Facts field): the text columns, after the name and the measured column.
FACT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("named?", "named"),
    ("who can use it", "who"),
    ("direction", "direction"),
    ("message boundaries", "boundaries"),
    ("lives until", "persistence"),
    ("blocks when", "blocking"),
    ("copies", "copies"),
)
ROW_LINES = 2


def column_width(field_name: str, header: str) -> int:
    """The narrowest width at which every fact of the column wraps onto ROW_LINES lines."""
    texts = [getattr(f, field_name) for f in (*FACTS, DD_FACTS)]
    width = max(len(header), 4)
    while any(len(textwrap.wrap(t, width)) > ROW_LINES for t in texts):
        width += 1
    return width


def wrap_cell(text: str, width: int, lines: int = ROW_LINES) -> str:
    """text on at most `lines` lines of `width`; an ellipsis if it had to be cut."""
    out = textwrap.wrap(text, width) or [""]
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][:width - 1] + "…"
    return "\n".join(out)


COPIES_NOTE = (
    "copies per message, counted as Stevens does for a file's data going from one process to "
    "another: through a kernel buffer 4 (file → writer's buffer → kernel → reader's buffer → "
    "file); shared memory 2 (file → shared region → file): the message never passes through "
    "the kernel, and no system call moves it.")


# --------------------------------------------------------------------------- the measurement


@dataclass(frozen=True)
class BenchPlan:
    """Arguments for run_bench: what one run from this screen measures."""

    mechanisms: tuple[str, ...] = tuple(f.key for f in FACTS)
    sizes: tuple[int, ...] = SIZES
    volume: int | None = None  # bytes per throughput repeat, or ...
    seconds: float | None = 0.15  # ... seconds per repeat
    repeats: int = 3
    rounds: int = 1000
    latency_seconds: float = 0.1
    reference: bool = True

    def kwargs(self) -> dict[str, Any]:
        return {"seconds": self.seconds if self.volume is None else None, "repeats": self.repeats,
                "rounds": self.rounds, "latency_seconds": self.latency_seconds,
                "reference": self.reference}

    def to_json(self) -> str:
        """The PLAN argument of ``python -m ipcviz.bench.child``: run_bench's arguments."""
        return json.dumps({"mechanisms": list(self.mechanisms), "sizes": list(self.sizes),
                           "volume": self.volume, **self.kwargs()})

    def idle_timeout(self) -> float:
        """Seconds the bench may stay silent: one measurement, bounded by the bench's own
        timeouts (``default_timeout``: 15 s + 4 × its length; dd: 30 s + 1 s per MiB), the
        dd calibration and an interpreter's start on a busy machine."""
        each = 4 * max(self.seconds or 0.0, self.latency_seconds) + self.rounds * 0.001
        return 60.0 + each + (self.volume or 0) / MiB

    def describe(self) -> str:
        each = f"{self.seconds:g} s" if self.volume is None else _bytes(self.volume)
        runs = "1 run" if self.repeats == 1 else f"median of {self.repeats} runs"
        return f"{runs} of {each} per mechanism and size"


#: The in-app run: every mechanism at 64 B, 4 KiB and 64 KiB, shorter than `ipcviz bench`
#: (5 runs of 0.25 s): about 10 s on an idle 2-CPU machine, up to ~20 s when it is busy.
QUICK_PLAN = BenchPlan()
FULL_BENCH = "ipcviz bench (5 runs of 0.25 s, about 25 s)"


@dataclass(frozen=True)
class Measurement:
    """One finished run: the bench's Results as it returned them, and how it went."""

    results: tuple[Result, ...]
    plan: BenchPlan
    elapsed: float  # seconds the run took
    cpus: int | None = None
    load: tuple[float, ...] | None = None  # load average (1, 5, 15 min) at the start

    def at(self, size: int) -> list[Result]:
        """The results for one message size, in the facts' order, the dd reference last."""
        order = {f.key: i for i, f in enumerate(FACTS)}
        rows = [r for r in self.results if r.mechanism != DD_KEY and r.size == size]
        rows.sort(key=lambda r: order.get(r.mechanism, len(order)))
        if size == DD_BLOCK:
            rows += [r for r in self.results if r.mechanism == DD_KEY]
        return rows

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(sorted({r.size for r in self.results if r.mechanism != DD_KEY}))


#: The last run of each app, so closing and reopening the screen keeps the numbers.
_LAST: weakref.WeakKeyDictionary[App, Measurement] = weakref.WeakKeyDictionary()
#: One bench at a time: a run stopped by escape may still finish its last measurement.
_ONE_BENCH = threading.Lock()
BENCH_MODULE = "ipcviz.bench.child"


def _progress(value: Any) -> tuple[int, int, str]:
    """A progress line's [done, total, what]; ChildError if it is not one."""
    if (isinstance(value, list) and len(value) == 3 and all(
            isinstance(x, int) and not isinstance(x, bool) for x in value[:2])
            and isinstance(value[2], str)):
        return value[0], value[1], value[2]
    raise ChildError("the bench wrote a progress line that is not [done, total, what]")


def _bytes(n: int) -> str:
    return size_label(n) if n % 1024 == 0 or n < 1024 else f"{n / 1024:.1f} KiB"


def _mib_s(x: float) -> str:
    return f"{x:,.0f} MiB/s" if x >= 100 else f"{x:,.1f} MiB/s"


def _us(x: float) -> str:
    return f"{x:,.0f} µs" if x >= 100 else f"{x:.1f} µs"


# --------------------------------------------------------------------------- the bars


def fastest_at(m: Measurement, size: int) -> float:
    """The scale of the bars: the highest median MiB/s at this size (dd included)."""
    return max((r.throughput_mib_s or 0.0 for r in m.at(size) if r.available), default=0.0)


def bar_cell(r: Result | None, fastest: float, width: int = MEASURED_WIDTH) -> Content:
    """Two lines: a bar of r's MiB/s scaled to `fastest`, then the number and latency p50."""
    if r is None:
        return Content.styled("not measured\nin this run", "$foreground 60%")
    if not r.available:
        style = "italic $text-warning" if r.status == "n/a" else "b $text-error"
        return Content.styled(wrap_cell(r.note or r.status, width), style)
    tp = r.throughput_mib_s or 0.0
    cells = tp / fastest * width if fastest > 0 else 0.0
    full, part = int(cells), int((cells - int(cells)) * 8)
    if tp > 0 and full == 0 and part == 0:
        part = 1  # a slow one still shows a sliver
    bar = "█" * full + (EIGHTHS[part] if part and full < width else "")
    colour = ("$accent" if r.mechanism == DD_KEY
              else "$success" if tp >= fastest else "$primary")
    lat = (f"p50 {_us(r.latency_median_us)}" if r.latency_median_us is not None
           else "no latency run")
    return Content.assemble(
        (bar, colour), ("·" * (width - len(bar)), "$foreground 20%"), "\n",
        (_mib_s(tp), "b"), ("  " + lat, "$foreground 60%"))


def measured_cells(m: Measurement | None, size: int, keys: tuple[str, ...],
                   running: bool = False) -> dict[str, Content]:
    """The measured column at one message size, by mechanism key."""
    if m is None and running:
        return {k: Content.styled("measuring…", "italic $foreground 60%") for k in keys}
    if m is None:
        return {k: Content.styled("not measured yet:\npress r", "b $text-warning") for k in keys}
    if size not in m.sizes:
        text = f"not measured at\n{size_label(size)}: press r"
        return {k: Content.styled(text, "$text-warning") for k in keys}
    got = {r.mechanism: r for r in m.at(size)}
    fastest = fastest_at(m, size)
    cells = {k: bar_cell(got.get(k), fastest) for k in keys}
    if DD_KEY in keys and DD_KEY not in got:
        cells[DD_KEY] = Content.styled(
            f"measured with {size_label(DD_BLOCK)}\nblocks only: press 3"
            if any(r.mechanism == DD_KEY for r in m.results) else "not measured\nin this run",
            "$foreground 60%")
    return cells


# --------------------------------------------------------------------------- the screen


class CompareScreen(Screen[None]):
    """The mechanisms side by side; r measures them here.  escape or q closes."""

    DEFAULT_CSS = """
    CompareScreen { layout: vertical; }
    CompareScreen #compare-title { height: 1; background: $boost; padding: 0 1; }
    CompareScreen #compare-controls { height: 1; padding: 0 1; }
    CompareScreen #compare-run { margin-right: 1; }
    CompareScreen #compare-progress { width: auto; margin-right: 1; }
    CompareScreen #compare-progress Bar { width: 20; }
    CompareScreen #compare-status { width: 1fr; height: 1; color: $text-muted; }
    CompareScreen #compare-body { height: 1fr; }
    CompareScreen #compare-facts { height: auto; }
    CompareScreen #compare-notes { height: auto; padding: 0 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("r", "run", "Run bench"),
        Binding("s", "next_size", "Size"),
        Binding("1", "size(64)", "64 B", show=False),
        Binding("2", "size(4096)", "4 KiB", show=False),
        Binding("3", "size(65536)", "64 KiB", show=False),
    ]

    message_size: reactive[int] = reactive(DEFAULT_SIZE, init=False)

    @dataclass
    class Measured(Message, bubble=False):
        measurement: Measurement

    @dataclass
    class Progressed(Message, bubble=False):
        done: int
        total: int
        what: str

    def __init__(self, plan: BenchPlan = QUICK_PLAN, *, results: Measurement | None = None,
                 size: int = DEFAULT_SIZE) -> None:
        super().__init__()
        self.plan = plan
        self.measurement = results
        self.set_reactive(CompareScreen.message_size, size)
        self.running = False
        self.error: str | None = None
        self._stop = threading.Event()  # set: the bench ends at its next progress report
        self.bench_done = threading.Event()  # set when the bench process has ended, reaped
        self.bench_done.set()
        self.child: JsonChild | None = None  # the bench process of the last run
        self.last_progress: tuple[int, int, str] | None = None
        self._started = 0.0

    @property
    def row_keys(self) -> tuple[str, ...]:
        keys = tuple(f.key for f in FACTS)
        return (*keys, DD_KEY) if self.plan.reference else keys

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TooSmall()
        yield Static(Content.assemble(
            ("Six ways between processes", "b $text-accent"),
            (" · facts from the man pages, bars measured here", "$text-muted")),
            id="compare-title")
        with Horizontal(id="compare-controls"):
            yield Button("Run bench (r)", id="compare-run", compact=True, variant="primary")
            yield ProgressBar(total=None, show_eta=False, id="compare-progress")
            yield Static(id="compare-status")
        with VerticalScroll(id="compare-body"):
            table: DataTable = DataTable(id="compare-facts", cursor_type="none",
                                         zebra_stripes=True, fixed_columns=2)
            table.add_column(Content.styled("mechanism", "b"), width=14, key="name")
            table.add_column(self._measured_header(), width=MEASURED_WIDTH, key=MEASURED)
            for header, key in FACT_COLUMNS:
                table.add_column(Content.styled(header, "b"), width=column_width(key, header),
                                 key=key)
            facts = {f.key: f for f in (*FACTS, DD_FACTS)}
            for key in self.row_keys:
                table.add_row(*self._fact_cells(facts[key]), height=ROW_LINES, key=key)
            yield table
            yield Static(id="compare-notes")
        yield Footer(show_command_palette=False)

    def _measured_header(self) -> Content:
        return Content.styled(f"measured here, {size_label(self.message_size)}", "b $text-accent")

    @staticmethod
    def _fact_cells(f: Facts) -> list[Content]:
        cells = [Content.styled(wrap_cell(f.name, 14), "b"), Content("")]
        for header, key in FACT_COLUMNS:
            text = wrap_cell(getattr(f, key), column_width(key, header))
            if key == "copies":
                cells.append(Content.styled(text.center(len(header)),
                                            "b $text-success" if text == "2" else "b"))
            else:
                cells.append(Content(text))
        return cells

    def on_mount(self) -> None:
        if self.measurement is None:
            self.measurement = _LAST.get(self.app)
        bar = self.query_one(ProgressBar)
        bar.display = self.measurement is not None
        if self.measurement is not None:
            bar.update(total=1, progress=1)
        self.query_one("#compare-facts", DataTable).focus()  # ← → scroll the facts
        self._redraw()

    def on_unmount(self) -> None:
        self._stop_bench()  # a bench still running ends at its next step

    def _stop_bench(self) -> None:
        self._stop.set()
        if self.child is not None:
            self.child.stop()  # SIGTERM; never blocks, the worker reaps it

    # -- keys ---------------------------------------------------------------------------------

    def action_close(self) -> None:
        self._stop_bench()
        self.dismiss(None)

    def action_next_size(self) -> None:
        sizes = sorted(set(SIZES) | set(self.plan.sizes))
        now = self.message_size
        self.message_size = sizes[(sizes.index(now) + 1) % len(sizes)] if now in sizes else sizes[0]

    def action_size(self, size: int) -> None:
        self.message_size = size

    def watch_message_size(self) -> None:
        self._redraw()

    @on(Button.Pressed, "#compare-run")
    def _pressed(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        if self.running:
            self.notify("The bench is running: wait for it, or escape to stop it.", timeout=3)
            return
        self.running = True
        self.error = None
        self._stop.clear()
        self.bench_done.clear()
        self._started = time.monotonic()
        self.last_progress = None
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.query_one("#compare-run", Button).disabled = True
        self._redraw()
        self._bench(self.plan)

    # -- the bench (off the event loop) ----------------------------------------------------

    @work(thread=True, exclusive=True, group="compare-bench", exit_on_error=False)
    def _bench(self, plan: BenchPlan) -> None:
        stop = self._stop
        found: dict | None = None
        try:
            with _ONE_BENCH:  # a run stopped on another screen may finish its step first
                if stop.is_set():
                    return
                child = self.child = JsonChild(BENCH_MODULE, [plan.to_json()],
                                               idle_timeout=plan.idle_timeout())
                try:
                    for data in child.lines(stop):
                        if "progress" in data:
                            self.post_message(self.Progressed(*_progress(data["progress"])))
                        elif "error" in data:
                            raise ChildError(f"the bench: {data['error']}")
                        elif "results" in data:
                            found = data
                finally:
                    child.close()  # after a stop: it ends after the measurement in flight
        finally:
            self.bench_done.set()
        if stop.is_set():
            return
        if found is None:
            raise ChildError("the bench printed no results")
        try:
            results = results_from_json(found["results"])
            load, cpus = found.get("load"), found.get("cpus")
            measurement = Measurement(
                tuple(results), plan, float(found["elapsed"]),
                cpus if isinstance(cpus, int) and not isinstance(cpus, bool) else None,
                tuple(float(x) for x in load) if load else None)
        except (ValueError, TypeError, KeyError) as err:
            raise ChildError(f"the bench's results: {err}") from None
        self.post_message(self.Measured(measurement))

    @on(Progressed)
    def _on_progressed(self, message: Progressed) -> None:
        self._show_progress(message.done, message.total, message.what)

    def _show_progress(self, done: int, total: int, what: str) -> None:
        self.last_progress = (done, total, what)
        if not self.is_attached:
            return
        self.query_one(ProgressBar).update(total=total, progress=done)
        self.query_one("#compare-status", Static).update(Content.assemble(
            (f"{time.monotonic() - self._started:4.1f} s  ", "$text-muted"), (what, "")))

    @on(Measured)
    def _on_measured(self, message: Measured) -> None:
        self.running = False
        self.measurement = message.measurement
        _LAST[self.app] = message.measurement
        self.query_one("#compare-run", Button).disabled = False
        self.query_one(ProgressBar).update(total=1, progress=1)
        self._redraw()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "compare-bench" or event.state != WorkerState.ERROR:
            return
        err = event.worker.error
        self.running = False
        self.error = str(err) if isinstance(err, ChildError) else f"{type(err).__name__}: {err}"
        self.query_one("#compare-run", Button).disabled = False
        self._redraw()

    # -- drawing ------------------------------------------------------------------------------

    def _redraw(self) -> None:
        m, size = self.measurement, self.message_size
        table = self.query_one("#compare-facts", DataTable)
        table.columns[ColumnKey(MEASURED)].label = self._measured_header()
        for key, cell in measured_cells(m, size, self.row_keys, self.running).items():
            table.update_cell(key, MEASURED, cell)
        table.refresh()
        self._status()
        self.query_one("#compare-notes", Static).update(self._notes())

    def _status(self) -> None:
        status = self.query_one("#compare-status", Static)
        m = self.measurement
        if self.error:
            status.update(Content.styled(f"the bench failed: {self.error}", "b $text-error"))
        elif self.running:
            status.update("starting…")
        elif m is None:
            status.update("not measured yet: a quick run takes about 10–20 s here")
        else:
            status.update(f"measured in {m.elapsed:.1f} s")

    def _notes(self) -> Content:
        m, size, plan = self.measurement, self.message_size, self.plan
        lines: list[Content] = []
        if m is None:
            lines.append(Content.assemble(
                ("r measures every mechanism here: ", ""), (plan.describe(), "b"),
                ((", two forked processes each time (about 10–20 s on this machine). "
                  f"The full bench is {FULL_BENCH}."), "")))
        else:
            machine = f"{m.cpus} CPUs" if m.cpus else "this machine"
            load = f", load average {m.load[0]:g} at the start" if m.load else ""
            lines.append(Content.assemble(
                "bar: MiB/s, ", (m.plan.describe(), "b"), ", scaled to the fastest; "
                f"p50: the median round trip of one {size_label(size)} message there and back. "
                f"Measured on {machine}{load}: other programs skew the numbers. "
                f"The full bench is {FULL_BENCH}."))
            for r in m.at(size):
                if not r.available:
                    name = next((f.name for f in FACTS if f.key == r.mechanism), r.label)
                    lines.append(Content.assemble(
                        (f"{name} at {size_label(size)}: ", "b"),
                        (r.note or r.status,
                         "$text-warning" if r.status == "n/a" else "$text-error")))
        lines.append(Content(COPIES_NOTE))
        return Content("\n").join(lines)
