"""Diagrams where people would rather look than read (issue 15 item 2): the pipe's contents,
the bounded buffer's ring, the semaphore's waiters, the deadlock's wait-for graph.

Pilot tests on REAL runs compare what the panels draw with the Snapshot the run returned;
the layout functions are pure and tested without an app.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ipcviz.app.app import IpcvizApp
from ipcviz.app.widgets.pipe import PipeView
from ipcviz.app.widgets.shm import RegionView, ring_rows
from ipcviz.app.widgets.sem import (
    Hop, SemView, WaitForGraph, cycle_hops, cycle_line, graph_lines, graph_rows, waiter_queue,
)
from ipcviz.model.pipe import NO_READER, PipeState
from ipcviz.scenario import load

from .helpers import RecordingRuns, step_to, sync, text_of

HERE = Path(__file__).resolve().parent
LESSONS = HERE.parents[1] / "scenarios"


def live_app(runs: RecordingRuns, lesson: str) -> IpcvizApp:
    app = IpcvizApp(run_factory=runs, entries=[], scenario=load(LESSONS / f"{lesson}.toml"))
    app.animation_level = "none"
    return app


# -- the pipe's contents --------------------------------------------------------------------


def test_pipe_contents_line_escapes_control_bytes_and_counts_the_rest():
    """Bytes from a lesson are shown literally: no ESC reaches the terminal, no markup."""
    view = PipeView("p", load(LESSONS / "pipe/eof.toml"))
    data = b"\x1b[31mred[/b]\n" + b"z" * 300
    o = PipeState("p", "pipe", 1, 312, 65536, 1, 1, contents=data[:256].hex())
    line = view._contents(o).plain
    assert "\x1b" not in line and "\n" not in line
    assert line.startswith('holds "\\x1b[31mred[/b]\\nzzz')
    assert "more bytes" in line and line.count("z") < 100
    shown = 13 + line.count("z")  # ESC, "[31mred[/b]", newline: 13 bytes, then the z's
    assert f"+{312 - shown} more bytes" in line
    # AND where it cannot look, it says why
    gone = PipeState("p", "pipe", 1, 3, 65536, 0, 1, contents_missing=NO_READER)
    assert "no process holds a read end" in view._contents(gone).plain
    # AND a trace recorded before the field shows nothing
    assert view._contents(PipeState("p", "pipe", 1, 3, 65536, 1, 1)).plain == ""


@pytest.mark.kernel
@sync
async def test_pipe_panel_shows_the_bytes_in_the_buffer(runs):
    """pipe/eof: after the parent's write the panel shows "last words", still unread."""
    app = live_app(runs, "pipe/eof")
    async with app.run_test(size=(100, 30)) as pilot:
        # WHEN the parent wrote (step 4)
        await step_to(pilot, 4, timeout=30)
        snap = runs.made[0].timeline[-1]
        p = snap.object_named("p")
        view = app.screen.query_one("#obj-p", PipeView)
        # THEN the panel shows the bytes the snapshot holds
        assert p.contents_bytes() == b"last words"
        assert 'holds "last words"' in text_of(view)
        # WHEN the child read them (step 6): the buffer is empty, no contents line
        await step_to(pilot, 6)
        assert runs.made[0].timeline[-1].object_named("p").bytes == 0
        assert "holds" not in text_of(view)


# -- the deadlock as a wait-for graph -------------------------------------------------------


def hops_of(*procs_and_sems: str) -> list[Hop]:
    """a, s2, b, s1 -> a waits for s2, held by b, b waits for s1, held by a."""
    nodes = list(procs_and_sems)
    out = []
    for i, src in enumerate(nodes):
        dst = nodes[(i + 1) % len(nodes)]
        out.append(Hop(src, "waits for", dst, False) if i % 2 == 0
                   else Hop(src, "held by", dst, True))
    return out


def test_two_process_cycle_is_drawn_as_boxes_round_a_rectangle():
    """a → s2 → b → s1 → a: processes and semaphores in boxes, each hop one arrow."""
    assert graph_lines(hops_of("a", "s2", "b", "s1")) == [
        "┌────┐ waits for ┌────┐",
        "│ a  │──────────▶│ s2 │",
        "└─▲──┘           └──┬─┘",
        "  ╎ held by         ╎ held by",
        "┌─┴──┐           ┌──▼─┐",
        "│ s1 │◀──────────│ b  │",
        "└────┘ waits for └────┘",
    ]


@pytest.mark.parametrize("names", [("a", "s2", "b", "s1"),
                                   ("a", "s2", "b", "s3", "c", "s1"),
                                   ("producer", "mutex", "consumer", "empty"),
                                   ("p", "m")])
def test_graph_fits_forty_columns_and_draws_every_hop_once(names):
    hops = hops_of(*names)
    lines = graph_lines(hops, width=40)
    text = "\n".join(lines)
    # THEN it fits ~40 x 10 with the legend (one or two lines)
    assert max(len(line) for line in lines) <= 40 and len(lines) + 2 <= 10
    # AND each name is in exactly one box, each hop is one arrow head
    for name in names:
        assert sum(f"│ {name} " in line for line in lines) == 1
    assert sum(text.count(a) for a in "▶◀▼▲") == len(hops)
    # AND kernel edges are solid, inferred ones dashed: as many of each as hops
    assert text.count("waits for") == sum(not h.inferred for h in hops)
    assert text.count("held by") == sum(h.inferred for h in hops)
    assert dashed_heads(lines) == sum(h.inferred for h in hops)


def dashed_heads(lines: list[str]) -> int:
    """Arrow heads whose shaft is dashed (╌ beside ▶/◀, ╎ above ▼ or below ▲)."""
    n = 0
    padded = ["", *lines, ""]
    for r, line in enumerate(lines, 1):
        for c, ch in enumerate(line):
            shaft = {"▶": line[c - 1:c], "◀": line[c + 1:c + 2],
                     "▼": padded[r - 1][c:c + 1], "▲": padded[r + 1][c:c + 1]}.get(ch)
            n += shaft in ("╌", "╎")
    return n


def test_roles_colour_the_cycle_and_the_names_are_literal():
    """The arrows carry the error colour's roles; a name with markup stays text."""
    rows = graph_rows(hops_of("[b]x[/b]", "s1", "y", "s2"))
    cells_ = [(t, r) for row in rows for t, r in row]
    assert ("[b]x[/b]", "proc") in [(t.strip("│ "), r) for t, r in cells_ if "[b]" in t]
    roles = {r for _, r in cells_}
    assert {"kernel", "inferred", "proc", "sem"} <= roles


def test_too_narrow_falls_back_to_one_line():
    """In a narrow panel the boxes give way to one line: a → s2 → b → s1 → a."""
    hops = hops_of("a", "s2", "b", "s1")
    graph = WaitForGraph()
    graph.hops = hops
    assert graph._rows(40) and not graph._rows(15)
    assert cycle_line(hops) == "a → s2 → b → s1 → a"
    assert graph.get_content_height(None, None, 15) >= 2


@pytest.mark.kernel
@sync
async def test_deadlock_lesson_draws_the_wait_for_graph(runs):
    """sem/deadlock at the cycle (step 8): s1's panel draws the boxes of the snapshot's cycle."""
    app = live_app(runs, "sem/deadlock")
    async with app.run_test(size=(100, 30)) as pilot:
        await step_to(pilot, 8, timeout=30)
        snap = runs.made[0].timeline[-1]
        s1 = snap.object_named("s1")
        view = app.screen.query_one("#obj-s1", SemView)
        graph = view.query_one(WaitForGraph)
        drawn = graph.render().plain
        # THEN the drawn lines are the layout of the snapshot's own cycle
        expected = graph_lines(cycle_hops(snap, s1.deadlock), width=graph.size.width)
        assert graph.display and expected and drawn.startswith("\n".join(expected))
        for p in ("a", "b"):
            assert f"│ {p} " in drawn and f"│ {snap.process_named(p).waits_on} " in drawn
        assert "inferred from the steps" in drawn
        # WHEN main kills b (step 9): no cycle, no graph
        await step_to(pilot, 9)
        assert not graph.display


# -- the bounded buffer's ring --------------------------------------------------------------


def plain_rows(rows) -> list[str]:
    return ["".join(t for t, _ in row) for row in rows]


def test_ring_rows_mark_items_free_slots_and_the_indexes():
    """Items between out and in are drawn with their values; free slots empty; in over the
    next slot to fill, out under the next to take."""
    # GIVEN 4 slots, 2 items in slots 0 and 1 (out=0, in=2); slots 2, 3 hold stale values
    rows = ring_rows((14, 15, 12, 13), (True, True, False, False), 2, 0)
    assert plain_rows(rows) == [
        "               ↓ in",
        "[ 14 ][ 15 ][    ][    ]",
        "   ↑ out",
    ]
    # THEN stale values are never drawn as items
    assert "12" not in plain_rows(rows)[1] and "13" not in plain_rows(rows)[1]
    assert [r for _, r in rows[1]] == ["item", "item", "free", "free"]
    # AND a full ring (in == out) has both markers over/under the same slot
    full = plain_rows(ring_rows((1, 2, 3, 4), (True,) * 4, 1, 1))
    assert full[0].index("↓") == full[2].index("↑") == full[1].index("2")
    assert ring_rows((), (), 0, 0) == [] and ring_rows((1,), (), 0, 0) == []


@pytest.mark.kernel
@sync
async def test_bounded_buffer_ring_drawn_from_the_regions_bytes(runs):
    """sem/bounded-buffer: at every step the ring's cells are the snapshot's slots."""
    app = live_app(runs, "sem/bounded-buffer")
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.screen.query_one("#obj-ring", RegionView)
        seen = 0
        for step in range(10, 20):
            await step_to(pilot, step, timeout=30)
            ring = runs.made[0].timeline[-1].object_named("ring")
            if not ring or not ring.live_slots():
                continue
            text = text_of(view)
            # THEN the drawn cells are those of the values and indexes read from memory
            cells_ = plain_rows(ring_rows(ring.ring[:ring.slots], ring.live_slots(),
                                          ring.ring_in % ring.slots,
                                          ring.ring_out % ring.slots))
            assert cells_[1] in text and cells_[0] + ": the next put" in text
            for v, live in zip(ring.ring, ring.live_slots()):
                if live:
                    assert f"[ {v} ]" in cells_[1] or f"[{v}]" in cells_[1].replace(" ", "")
            seen += 1
        assert seen >= 3


# -- semaphore waiters as an ordered queue -----------------------------------------------------


def test_waiter_queue_orders_the_kernels_set_by_the_step_each_began():
    from ipcviz.model.snapshot import Process, Snapshot

    # GIVEN the kernel's waiters listed in another order than they began waiting
    procs = (Process("p4", 4, 1, None, "blocked", step=9),
             Process("p3", 3, 1, None, "blocked", step=8),
             Process("p5", 5, 1, None, "blocked", step=None))
    snap = Snapshot(0, 9, 9, 0.0, processes=procs)
    # THEN the queue follows the steps; an unknown step goes last
    assert waiter_queue(snap, ("p4", "p5", "p3")) == [("p3", 8), ("p4", 9), ("p5", None)]


@pytest.mark.kernel
@sync
async def test_semaphore_queue_says_which_part_is_the_kernels(runs):
    """sem/counting step 9: p3 and p4 asleep in semop; the queue line orders them by the
    steps, marked inferred; the waiting line stays the kernel's."""
    app = live_app(runs, "sem/counting")
    async with app.run_test(size=(100, 30)) as pilot:
        await step_to(pilot, 9, timeout=30)
        snap = runs.made[0].timeline[-1]
        pool = snap.object_named("pool")
        text = text_of(app.screen.query_one("#obj-pool", SemView))
        steps = {n: snap.process_named(n).step for n in pool.waiters}
        first, second = sorted(pool.waiters, key=steps.get)
        assert (f"queue ≈ 1. {first} (step {steps[first]}) → 2. {second} "
                f"(step {steps[second]})") in text
        assert "from the steps" in text and "waiting (kernel)" in text
        # WHEN one is woken (a post): one waiter left, no queue line
        await step_to(pilot, 10)
        assert len(runs.made[0].timeline[-1].object_named("pool").waiters) == 1
        assert "queue ≈" not in text_of(app.screen.query_one("#obj-pool", SemView))
