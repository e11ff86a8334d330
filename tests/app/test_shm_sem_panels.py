"""The shared-memory and semaphore panels and the deadlock wait-for graph (issue 7).

Pilot tests on REAL runs of the lessons compare what the panels draw with the Snapshot the
Run returned; SVG snapshots draw recorded traces (tests/app/record_shm_sem_traces.py).

Update the SVGs after an intended change of the look:
    pytest tests/app/test_shm_sem_panels.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Digits

from ipcviz.app.app import IpcvizApp
from ipcviz.app.source import TraceRun
from ipcviz.app.widgets.sem import SemView, WaitForGraph, cycle_hops, cycle_text
from ipcviz.app.widgets.shm import ByteGrid, RegionView, changed_offsets, region_bytes
from ipcviz.model import provenance
from ipcviz.model.sem import SemState
from ipcviz.model.snapshot import Process, Snapshot
from ipcviz.model.timeline import read_trace_file
from ipcviz.scenario import load, loads

from .helpers import RecordingRuns, step_to, sync, text_of, wait_for

HERE = Path(__file__).resolve().parent
LESSONS = HERE.parents[1] / "scenarios"
TRACES = HERE / "traces"


def live_app(runs: RecordingRuns, lesson: str) -> IpcvizApp:
    app = IpcvizApp(run_factory=runs, entries=[], scenario=load(LESSONS / f"{lesson}.toml"))
    app.animation_level = "none"
    return app


def trace(name: str):
    header, snaps = read_trace_file(TRACES / f"{name}.jsonl")
    return loads(header["source"], f"{name}.jsonl", header["scenario"]), snaps


def trace_app(name: str) -> IpcvizApp:
    """The app replaying tests/app/traces/<name>.jsonl with the scenario it carries."""
    scenario, snaps = trace(name)

    def factory(sc):
        run = TraceRun(sc, snaps)
        run.replay = False  # drawn as live, like the other snapshot tests
        return run

    app = IpcvizApp(run_factory=factory, entries=[], scenario=scenario)
    app.animation_level = "none"
    return app


def hex_of(data: bytes) -> str:
    return " ".join(f"{b:02x}" for b in data)


# -- without an app -----------------------------------------------------------------------


def test_changed_offsets_compare_two_snapshots_bytes():
    """Only bytes known on both sides can have changed."""
    assert changed_offsets(b"hello\0", b"*\0\0\0\0\0") == {0, 1, 2, 3, 4}
    assert changed_offsets(None, b"abc") == set()
    assert changed_offsets(b"abc", b"abc") == set()


def test_cycle_hops_follow_the_snapshots_waiters_and_holders():
    """The graph's hops are the snapshot's facts: P in S's waiters, Q in S's holders."""
    _, snaps = trace("sem-deadlock")
    snap = next(s for s in snaps if s.object_named("s1") and s.object_named("s1").deadlock)
    s1 = snap.object_named("s1")
    hops = cycle_hops(snap, s1.deadlock)
    assert len(hops) == 2 * len(s1.deadlock)
    for wait, held in zip(hops[::2], hops[1::2]):
        sem = snap.object_named(wait.dst)
        assert not wait.inferred and wait.src in sem.waiters  # the kernel's fact
        assert held.inferred and held.src == sem.id and held.dst in sem.holders  # inferred
    assert hops[-1].dst == hops[0].src  # a cycle
    assert cycle_text(hops).startswith(f"{s1.deadlock[0]} ──waits for──▶ ")


def test_sem_and_region_sources_name_a_command_a_student_can_type():
    """s / --explain: the values cite semctl, /dev/shm, /proc/sysvipc and a command."""
    _, snaps = trace("sem-counting")
    snap = next(s for s in snaps if s.object_named("pool") and s.object_named("pool").waiters)
    pool = snap.object_named("pool")
    pids = {p.name: p.pid for p in snap.processes}
    src = {s.field: s for s in provenance.for_object(pool, None, pids)}
    assert src["value"].command == f"ipcs -s -i {pool.semid}"
    assert "GETVAL" in src["value"].interface
    assert "GETNCNT" in src["semncnt, semzcnt"].interface
    for name in pool.waiters:
        assert f"cat /proc/{pids[name]}/syscall" in src["waiting"].command
    assert src["held by (inferred)"].command is None  # no kernel interface: said so
    assert src["exists"].command == "cat /proc/sysvipc/sem"

    _, snaps = trace("shm-basics")
    snap = next(s for s in snaps if s.object_named("region") and
                s.object_named("region").text == "hello")
    region = snap.object_named("region")
    src = {s.field: s for s in provenance.for_object(region, None, {})}
    assert src["bytes"].command == f"od -A d -t x1 /dev/shm{region.name} | head"
    snap = next(s for s in snaps if s.object_named("seg") and s.object_named("seg").nattch)
    seg = snap.object_named("seg")
    src = {s.field: s for s in provenance.for_object(seg, None, {})}
    assert src["nattch"].command == f"ipcs -m -i {seg.shmid}"

    _, snaps = trace("sem-bounded-buffer")
    empty = snaps[-1].object_named("empty")
    src = {s.field: s for s in provenance.for_object(empty, None, {})}
    if empty.exists:
        assert src["value"].command == f"od -A d -t u4 -N 8 /dev/shm/sem.{empty.name[1:]}"


# -- live: what the kernel reported is what the panels show --------------------------------


@pytest.mark.kernel
@sync
async def test_counting_semaphore_shows_the_kernels_value_and_waiters(runs):
    """sem/counting: the value, the sleepers in semop, semncnt and the holders of each step."""
    app = live_app(runs, "sem/counting")
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.screen.query_one("#obj-pool", SemView)
        for step in (6, 8, 9, 10):
            # WHEN the step has run on the real kernel
            await step_to(pilot, step, timeout=30)
            snap = runs.made[0].timeline[-1]
            pool = snap.object_named("pool")
            text = text_of(view)
            # THEN the panel shows the Snapshot's value, waiters, counts and holders
            assert f"value {pool.value} " in text
            assert str(view.query_one(Digits).value) == str(pool.value)
            for name in pool.waiters:
                assert f"■ {name}" in text
            if not pool.waiters:
                assert "waiting nobody" in text
            assert f"semncnt {pool.ncount}  semzcnt {pool.zcount}" in text
            assert f"last semop by {pool.last_op_by}" in text
            for name in pool.holders:
                assert f" {name} " in text.split("held by ≈", 1)[1].split("\n", 1)[0] + " "
            assert view.has_class("-waiting") == bool(pool.waiters)
        # the lesson's blocking step really had two sleepers
        at_9 = runs.made[0].timeline[9].object_named("pool")
        assert at_9.waiters == ("p3", "p4") and at_9.ncount == 2
        # WHEN s: the sources name the kernel interface and the command
        await pilot.press("s")
        await pilot.pause()
        assert f"ipcs -s -i {pool.semid}" in text_of(view)


@pytest.mark.kernel
@sync
async def test_region_grid_shows_the_stored_bytes(runs):
    """shm/basics: after each store the grid holds the bytes the probe read, marked changed,
    with the storing process named; the System V segment's nattch and removal too."""
    app = live_app(runs, "shm/basics")
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.screen.query_one("#obj-region", RegionView)
        grid = view.query_one(ByteGrid)
        # WHEN the writer stores "hello" (step 5)
        await step_to(pilot, 5, timeout=30)
        snap = runs.made[0].timeline[-1]
        region = snap.object_named("region")
        data = region_bytes(region)
        # THEN the grid shows the bytes the Snapshot reports, the changed ones marked
        assert data.startswith(b"hello")
        assert grid.plain().startswith(hex_of(data[:16]))
        assert grid.changed == set(range(5))
        text = text_of(view)
        assert "string = 'hello'" in text
        assert "5 bytes changed at step 5: writer (store)" in text
        for name in region.mapped_by:
            assert f"▣ {name}" in text
        # WHEN the reader stores 42 (step 7)
        await step_to(pilot, 7)
        region = runs.made[0].timeline[-1].object_named("region")
        data = region_bytes(region)
        assert grid.plain().startswith(hex_of(data[:16]))
        assert f"counter = {region.counter}" in text_of(view) and region.counter == 42
        assert "reader (store)" in text_of(view)
        # WHEN the System V segment is attached twice, written, marked for removal
        await step_to(pilot, 15)
        seg = runs.made[0].timeline[-1].object_named("seg")
        seg_view = app.screen.query_one("#obj-seg", RegionView)
        text = text_of(seg_view)
        assert f"nattch {seg.nattch}" in text and seg.nattch == 2
        assert "marked for removal (IPC_RMID)" in text and seg.removed
        assert seg_view.query_one(ByteGrid).plain().startswith(hex_of(b"System V"))
        # WHEN going back to step 5 in history: the old bytes again, still marked
        stage = app.screen
        while stage.viewing > 5:
            await pilot.press("left")
        await pilot.pause()
        assert grid.plain().startswith(hex_of(b"hello"))
        assert grid.changed == set(range(5))


@pytest.mark.kernel
@sync
async def test_deadlock_graph_drawn_at_the_cycle(runs):
    """sem/deadlock: when b's semop sleeps, the cycle a → s2 → b → s1 → a is drawn once."""
    app = live_app(runs, "sem/deadlock")
    async with app.run_test(size=(100, 30)) as pilot:
        # WHEN the second semop sleeps (step 8)
        await step_to(pilot, 8, timeout=30)
        snap = runs.made[0].timeline[-1]
        s1, s2 = snap.object_named("s1"), snap.object_named("s2")
        assert set(s1.deadlock) == {"a", "b"} == set(s2.deadlock)
        v1 = app.screen.query_one("#obj-s1", SemView)
        v2 = app.screen.query_one("#obj-s2", SemView)
        # THEN the first semaphore of the cycle draws the graph, the other points to it
        graph = v1.query_one(WaitForGraph)
        text = cycle_text(graph.hops)
        assert graph.display and v1.has_class("-deadlock")
        assert text == cycle_text(cycle_hops(snap, s1.deadlock))
        for p in ("a", "b"):
            assert f"{p} ──waits for──▶ {snap.process_named(p).waits_on}" in text
        assert "s2 ╌╌held by╌╌▶ b" in text and "s1 ╌╌held by╌╌▶ a" in text
        assert "DEADLOCK" in text_of(v1) and "a and b" in text_of(v1)
        assert "drawn under s1" in text_of(v2)
        assert not v2.query_one(WaitForGraph).display
        # WHEN main kills b: no cycle any more, and b is a dead holder of s2
        await step_to(pilot, 9)
        snap = runs.made[0].timeline[-1]
        assert not snap.object_named("s1").deadlock
        assert not graph.display and "DEADLOCK" not in text_of(v1)
        assert "☠ b" in text_of(v2)


# -- SVG snapshots of recorded runs -------------------------------------------------------


def at_step(n: int, view: str, *keys: str):
    async def run_before(pilot) -> None:
        await step_to(pilot, n)
        stage = pilot.app.screen
        await wait_for(pilot, lambda: not stage.sampling and not stage.fitting, 5, "quiet")
        if keys:
            await pilot.press(*keys)
        stage.query_one("#stage").scroll_to_widget(stage.query_one(f"#{view}"), top=True,
                                                   animate=False)
        await pilot.pause()

    return run_before


def test_region_panel_100x30(snap_compare):
    """shm/basics after the reader stored 42 over "hello": changed bytes, who wrote them."""
    assert snap_compare(trace_app("shm-basics"), terminal_size=(100, 30),
                        run_before=at_step(7, "obj-region", "c"))


def test_semaphore_panel_100x30(snap_compare):
    """sem/counting with p3 and p4 asleep in semop: value 0, the waiters, semncnt 2."""
    assert snap_compare(trace_app("sem-counting"), terminal_size=(100, 30),
                        run_before=at_step(9, "obj-pool", "c"))


def test_deadlock_graph_100x30(snap_compare):
    """sem/deadlock at the cycle: the wait-for graph, kernel edges solid, inferred dashed."""
    assert snap_compare(trace_app("sem-deadlock"), terminal_size=(100, 30),
                        run_before=at_step(8, "obj-s1", "c"))


def test_bounded_buffer_80x24(snap_compare):
    """sem/bounded-buffer at 80x24 after the first put: the ring's fields, the changed bytes."""
    assert snap_compare(trace_app("sem-bounded-buffer"), terminal_size=(80, 24),
                        run_before=at_step(10, "obj-ring"))


def test_semaphore_set_panel_100x30(snap_compare):
    """sem/philosophers-fixed with p1, p3, p4 asleep in two-fork semops: one row per fork,
    the kernel's value and semncnt, the fork each sleeper is blocked on marked inferred."""
    assert snap_compare(trace_app("sem-philosophers-fixed"), terminal_size=(100, 30),
                        run_before=at_step(18, "obj-forks", "c"))


def test_a_wait_for_a_semaphore_of_a_set_is_drawn_inferred():
    """Philosophers on a set: the kernel shows each asleep on the set's id; the fork it
    waits for is inferred from its step, so that edge is dashed like 'held by'."""
    # GIVEN p0 holding fork 0 and waiting for fork 1, p1 the other way round
    forks = SemState("forks", "sysv_sem", flavor="sysv", semid=7, nsems=2, values=(0, 0),
                     ncounts=(1, 1), zcounts=(0, 0), waiters=("p0", "p1"),
                     holders=("p0", "p1"), sem_waiters=(("p1",), ("p0",)),
                     sem_holders=(("p0",), ("p1",)), deadlock=("p0", "p1"))
    procs = tuple(Process(n, 10 + i, 1, None, "blocked", waits_on="forks")
                  for i, n in enumerate(("p0", "p1")))
    snap = Snapshot(1, 1, 1, 0.0, processes=procs, objects=(forks,))
    # WHEN the cycle is turned into hops
    hops = cycle_hops(snap, forks.deadlock)
    # THEN it goes through the semnums, and no edge claims to be the kernel's word
    assert cycle_text(hops) == ("p0 ╌╌waits for╌╌▶ forks[1] ╌╌held by╌╌▶ p1 "
                                "╌╌waits for╌╌▶ forks[0] ╌╌held by╌╌▶ p0")
