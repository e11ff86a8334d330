"""The comparison screen (issue 9): the mechanisms' facts side by side, throughput measured here.

The Pilot tests run the REAL bench, in its own process (``python -m ipcviz.bench.child``),
and compare the bars with the Results it sent (the JSON lines are recorded on their way to the
screen); the SVG snapshots draw canned Results with fixed numbers.

Update the SVGs after an intended change of the look:
    pytest tests/app/test_compare.py --snapshot-update
"""

from __future__ import annotations

import glob
import os
import time

import psutil
import pytest
from textual.widgets import DataTable, ProgressBar

from ipcviz.app.child import JsonChild
from ipcviz.app.screens import compare
from ipcviz.app.screens.compare import (
    FACTS,
    MEASURED,
    MEASURED_WIDTH,
    BenchPlan,
    CompareScreen,
    Measurement,
    _mib_s,
    _us,
)
from ipcviz.bench.runner import DD_KEY, Latency, Result, Run

from .. import bench_objects
from .helpers import sync, trace_app, wait_for
from .test_reference_spawn import in_session, no_fork

MiB = 1 << 20
#: two mechanisms, one size, one short run each: a second or two
TINY = BenchPlan(mechanisms=("pipe", "shm"), sizes=(65536,), volume=256 * 1024, seconds=None,
                 repeats=1, rounds=50, latency_seconds=0.01, reference=True)


def cell_text(screen: CompareScreen, key: str) -> str:
    table = screen.query_one("#compare-facts", DataTable)
    return str(table.get_cell(key, MEASURED))


def children() -> set[int]:
    return {c.pid for c in psutil.Process().children(recursive=True)}


def bench_objects_left(pid: int) -> list[str]:
    """POSIX names (shared memory, semaphores, queues) made by the bench process `pid`."""
    return (glob.glob(f"/dev/shm/*ipcviz.bench-{pid}-*")
            + glob.glob(f"/dev/mqueue/*ipcviz.bench-{pid}-*"))


class RecordingChild(JsonChild):
    """The real JsonChild; remembers every child it started and every line it read."""

    made: list[RecordingChild] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[dict] = []
        RecordingChild.made.append(self)

    def lines(self, stop):
        for data in super().lines(stop):
            self.seen.append(data)
            yield data

    @property
    def reports(self) -> list[tuple[int, int, str]]:
        return [tuple(d["progress"]) for d in self.seen if "progress" in d]

    @property
    def returned(self) -> list[Result]:
        from ipcviz.bench.child import results_from_json

        last = [d for d in self.seen if "results" in d]
        assert len(last) == 1, self.seen
        return results_from_json(last[0]["results"])


@pytest.fixture
def recording(monkeypatch):
    monkeypatch.setattr(RecordingChild, "made", [])
    monkeypatch.setattr(compare, "JsonChild", RecordingChild)
    return RecordingChild.made


class Manifests:
    """Every manifest line the bench process wrote, gathered while it runs (read from its
    run directories: a line is gone with its run directory once its objects are removed)."""

    def __init__(self, runtime_dir) -> None:
        self.runtime_dir = runtime_dir
        self.entries: list[dict] = []

    def gather(self, pid: int) -> None:
        for lines in bench_objects.manifests(self.runtime_dir, pid).values():
            self.entries += [e for e in lines if e not in self.entries]

    def left(self, pid: int) -> tuple[list[dict], dict]:
        """(objects seen that still exist, run directories of `pid` still there)."""
        return bench_objects.live(self.entries), bench_objects.manifests(self.runtime_dir, pid)


# -- a real bench from the screen --------------------------------------------------------------


@pytest.mark.kernel
@sync
async def test_real_bench_draws_the_results_it_returned(recording, runtime_dir):
    """r runs the bench in a child process: the bars show its Results, progress ends at 100 %."""
    before = children()
    app = trace_app(open_scenario=False)
    async with app.run_test(size=(100, 30)) as pilot:
        # GIVEN the screen, nothing measured yet
        screen = CompareScreen(TINY)
        app.push_screen(screen)
        await wait_for(pilot, lambda: app.screen is screen, 5, "the screen")
        assert all(cell_text(screen, k) == "not measured yet:\npress r"
                   for k in ("pipe", "shm", DD_KEY))
        # WHEN r
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.measurement is not None or screen.error is not None,
                       60, "the bench")
        assert screen.error is None
        assert screen.bench_done.wait(10)
        # THEN one bench process ran, ended well, and the screen holds exactly what it sent
        [bench] = recording
        assert bench.proc.returncode == 0
        results = bench.returned
        assert screen.measurement.results == tuple(results)
        assert [(r.mechanism, r.size) for r in results] == [("pipe", 65536), ("shm", 65536),
                                                            (DD_KEY, 65536)]
        # and each bar carries the Result's own numbers
        for r in results:
            assert r.status == "ok", r.note
            text = cell_text(screen, r.mechanism)
            assert _mib_s(r.throughput_mib_s) in text
            if r.mechanism != DD_KEY:
                assert f"p50 {_us(r.latency_median_us)}" in text
            # the bar: full blocks in proportion to the fastest; the fastest fills the column
            bar = text.split("\n")[0]
            fastest = max(x.throughput_mib_s for x in results)
            assert len(bar) == MEASURED_WIDTH
            assert bar.count("█") == int(r.throughput_mib_s / fastest * MEASURED_WIDTH)
        # progress: every report reached the screen, the last one at 100 %
        done, total, _what = bench.reports[-1]
        assert done == total and bench.reports[0][0] == 0
        assert screen.last_progress == bench.reports[-1]
        assert screen.query_one(ProgressBar).percentage == 1.0
        # nothing of the bench is left
        assert children() <= before
        assert in_session(bench.pid) == []
        assert not bench_objects_left(bench.pid)
        assert bench_objects.manifests(runtime_dir, bench.pid) == {}
        # WHEN the screen closes and opens again THEN the numbers are still there
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen), 5, "closed")
        again = CompareScreen(TINY)
        app.push_screen(again)
        await wait_for(pilot, lambda: app.screen is again, 5, "reopened")
        assert _mib_s(results[0].throughput_mib_s) in cell_text(again, "pipe")


@pytest.mark.kernel
@sync
async def test_bench_runs_without_forking_the_app(monkeypatch, runtime_dir):
    """b, r: the bench measures with os.fork() forbidden in the app's process."""
    monkeypatch.setattr(os, "fork", no_fork)
    app = trace_app(open_scenario=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = CompareScreen(TINY)
        app.push_screen(screen)
        await wait_for(pilot, lambda: app.screen is screen, 5, "the screen")
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.measurement is not None or screen.error is not None,
                       60, "the bench")
        # THEN it measured (a fork in the app would have failed the run)
        assert screen.error is None
        got = {(r.mechanism, r.status) for r in screen.measurement.results}
        assert got == {("pipe", "ok"), ("shm", "ok"), (DD_KEY, "ok")}
        assert screen.bench_done.wait(10)
        assert screen.child is not None and screen.child.proc.returncode == 0


LONG_PLAN = BenchPlan(mechanisms=("pipe", "fifo", "sysv-mq", "posix-mq", "shm"), sizes=(64, 4096),
                      seconds=0.2, repeats=5, rounds=200, latency_seconds=0.05, reference=True)


@pytest.mark.kernel
@sync
async def test_escape_stops_a_running_bench_and_leaves_nothing(recording, runtime_dir):
    """escape during a run closes the screen at once; the bench stops after its step."""
    before = children()
    seen = Manifests(runtime_dir)
    app = trace_app(open_scenario=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CompareScreen(LONG_PLAN)
        app.push_screen(screen)
        await wait_for(pilot, lambda: app.screen is screen, 5, "the screen")
        # GIVEN a bench under way, past two steps (with a named object among them)
        await pilot.press("r")
        await wait_for(pilot, lambda: recording and (seen.gather(recording[0].pid) or True)
                       and screen.last_progress is not None and screen.last_progress[0] >= 2
                       and seen.entries, 30, "two steps and a manifest")
        [bench] = recording
        total = screen.last_progress[1]
        # WHEN escape
        await pilot.press("escape")
        await pilot.pause()
        # THEN the screen is gone at once and the app goes on
        assert not isinstance(app.screen, CompareScreen) and app.is_running
        # and the bench process ends soon, before the end, by its own cleanup (exit 3)
        t0 = time.monotonic()
        assert screen.bench_done.wait(30)
        assert time.monotonic() - t0 < 15
        assert bench.proc.returncode == 3
        assert screen.measurement is None
        assert screen.last_progress[0] < total
        # leaving no process and no object
        assert children() <= before
        assert in_session(bench.pid) == []
        assert not bench_objects_left(bench.pid)
        assert seen.left(bench.pid) == ([], {})


@pytest.mark.kernel
@sync
async def test_quitting_mid_measurement_leaves_nothing(recording, runtime_dir):
    """The app quits while the bench measures: its process, objects and manifests are gone."""
    before = children()
    seen = Manifests(runtime_dir)
    app = trace_app(open_scenario=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = CompareScreen(LONG_PLAN)
        app.push_screen(screen)
        await wait_for(pilot, lambda: app.screen is screen, 5, "the screen")
        await pilot.press("r")
        # GIVEN a measurement with named kernel objects under way
        await wait_for(pilot, lambda: recording and (seen.gather(recording[0].pid) or True)
                       and bool(bench_objects.live(seen.entries)), 30, "a live bench object")
        [bench] = recording
        assert screen.measurement is None
        # WHEN the app quits
        app.exit()
    # THEN the bench process ends by its own cleanup, reaped, with every process it started
    assert screen.bench_done.wait(30)
    assert bench.proc.returncode == 3
    assert children() <= before
    assert in_session(bench.pid) == []
    # and none of its objects, names or run directories is left
    assert not bench_objects_left(bench.pid)
    assert seen.left(bench.pid) == ([], {})


# -- canned results: keys and snapshots --------------------------------------------------------


def _ok(mech: str, size: int, mib_s: float, p50: float | None) -> Result:
    nbytes = int(mib_s * MiB)
    runs = tuple(Run(seconds=1.0, messages=nbytes // size, bytes_sent=nbytes,
                     bytes_received=nbytes) for _ in range(3))
    lat = Latency(rounds=1000, median_us=p50, p99_us=2 * p50, min_us=p50 / 2) if p50 else None
    return Result(mech, mech, size, runs=runs, latency=lat)


def canned() -> Measurement:
    """Fixed numbers (from docs/bench.md's table), so the SVGs are repeatable."""
    table = {  # 64 B, 4 KiB, 64 KiB: (MiB/s, p50 µs)
        "pipe": ((58.0, 12.5), (2292.6, 13.2), (2303.8, 45.4)),
        "fifo": ((49.8, 12.8), (1828.2, 13.5), (2318.4, 50.8)),
        "sysv-mq": ((30.6, 16.0), (687.1, 17.7),
                    "n/a (limit: kernel.msgmax = 8192 bytes per message)"),
        "posix-mq": ((30.7, 14.1), (1221.3, 16.8),
                     ("n/a (limit: fs.mqueue.msgsize_max = 8192 bytes per message; "
                      "larger needs CAP_SYS_RESOURCE)")),
        "socketpair": ((25.5, 17.8), (1144.5, 23.0), (3469.4, 39.9)),
        "shm": ((79.6, 1.6), (4497.7, 2.1), (18122.2, 8.8)),
    }
    results = []
    for mech, cells in table.items():
        for size, cell in zip((64, 4096, 65536), cells):
            if isinstance(cell, str):
                results.append(Result(mech, mech, size, "n/a", cell))
            else:
                results.append(_ok(mech, size, *cell))
    results.append(_ok(DD_KEY, 65536, 2235.1, None))
    return Measurement(tuple(results), compare.QUICK_PLAN, elapsed=11.8, cpus=2,
                       load=(1.58, 2.82, 3.86))


def show(size: int | None = None, *keys: str, results: bool = True):
    async def run_before(pilot) -> None:
        screen = CompareScreen(results=canned() if results else None,
                               **({} if size is None else {"size": size}))
        pilot.app.push_screen(screen)
        await wait_for(pilot, lambda: pilot.app.screen is screen, 5, "the screen")
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before


@sync
async def test_size_keys_switch_the_measured_column():
    """1 / 2 / 3 and s pick the message size; dd | dd is only measured with 64 KiB blocks."""
    m = canned()
    app = trace_app(open_scenario=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = CompareScreen(results=m)
        app.push_screen(screen)
        await wait_for(pilot, lambda: app.screen is screen, 5, "the screen")
        for key, size in (("1", 64), ("2", 4096), ("3", 65536), ("s", 64)):
            await pilot.press(key)
            await pilot.pause()
            assert screen.message_size == size
            for f in FACTS:
                r = next(r for r in m.results if r.mechanism == f.key and r.size == size)
                text = cell_text(screen, f.key)
                if r.available:
                    assert _mib_s(r.throughput_mib_s) in text and _us(r.latency_median_us) in text
                else:
                    assert text.startswith("n/a (limit:")
            dd = cell_text(screen, DD_KEY)
            assert ("2,235 MiB/s" in dd) == (size == 65536)
        # the n/a notes are printed in full under the table
        await pilot.press("3")
        await pilot.pause()
        notes = str(screen.query_one("#compare-notes").content)
        for r in m.at(65536):
            if not r.available:
                assert r.note in notes
        # q closes the screen, not the app
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, CompareScreen) and app.is_running


def test_canned_100x30(snap_compare):
    """Facts and measured bars at 64 KiB, with the n/a limits and the dd | dd reference."""
    assert snap_compare(trace_app(open_scenario=False), terminal_size=(100, 30),
                        run_before=show())


def test_canned_80x24(snap_compare):
    """80x24: the name and bar columns stay fixed, the facts scroll sideways."""
    assert snap_compare(trace_app(open_scenario=False), terminal_size=(80, 24),
                        run_before=show())


def test_canned_64_bytes_light(snap_compare):
    """64 B messages in the light theme: system calls, not bytes, set the pace."""
    async def light(pilot) -> None:
        pilot.app.theme = "textual-light"
        await show(64)(pilot)

    assert snap_compare(trace_app(open_scenario=False), terminal_size=(100, 30), run_before=light)


def test_not_measured_yet_80x24(snap_compare):
    """Before a run the measured column says so, and how long a run takes."""
    assert snap_compare(trace_app(open_scenario=False), terminal_size=(80, 24),
                        run_before=show(results=False))


@sync
async def test_b_opens_the_comparison_from_the_picker_and_the_stage():
    """b opens the comparison screen from the picker and from the stage; escape returns."""
    for open_scenario in (False, True):
        app = trace_app(open_scenario=open_scenario)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.2)
            before = type(app.screen)
            await pilot.press("b")
            await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen),  # noqa: B023
                           5, "compare")
            await pilot.press("escape")
            await wait_for(pilot, lambda: type(app.screen) is before,  # noqa: B023
                           5, "back")
