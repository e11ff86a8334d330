"""The message-queue panel and the system IPC view (issue 6).

Pilot tests on REAL runs of the msgq lessons compare what the panel draws with the Snapshot
the Run returned; SVG snapshots draw recorded traces (tests/app/record_msgq_trace.py).

Update the SVGs after an intended change of the look:
    pytest tests/app/test_msgq_panel.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ipcviz.app.app import IpcvizApp
from ipcviz.app.widgets.msgq import (
    KEPT,
    NEW,
    TAKEN,
    Box,
    MessageChain,
    QueueView,
    chain_boxes,
)
from ipcviz.app.widgets.pipe import PipeBar
from ipcviz.scenario import load

from .helpers import recorded_app, RecordingRuns, step_to, sync, text_of, wait_for

HERE = Path(__file__).resolve().parent
LESSONS = HERE.parents[1] / "scenarios" / "msgq"
TRACES = HERE / "traces"


def live_app(runs: RecordingRuns, lesson: str) -> IpcvizApp:
    app = IpcvizApp(run_factory=runs, entries=[], scenario=load(LESSONS / f"{lesson}.toml"))
    app.animation_level = "none"
    return app


def trace_app(name: str) -> IpcvizApp:
    """The app replaying tests/app/traces/msgq-<name>.jsonl with the scenario it carries."""
    return recorded_app(f"msgq-{name}")


def shown(chain: MessageChain) -> list[tuple[int, int, str]]:
    """(key, size, text) of the boxes that are messages in the queue (not taken ghosts)."""
    return [(b.key, b.size, b.text) for b in chain.boxes if b.state != TAKEN]


# -- the chain, without an app ------------------------------------------------------------


def test_chain_marks_new_and_taken_where_they_were():
    """A msgrcv by type takes from the middle: its ghost stays there; a send appears new."""
    # GIVEN a queue of types 1, 2, 3
    before = ((1, 1, "a", "p"), (2, 1, "b", "p"), (3, 1, "c", "p"))
    # WHEN type 2 was taken and a type 4 appended
    after = ((1, 1, "a", "p"), (3, 1, "c", "p"), (4, 1, "d", "p"))
    boxes = chain_boxes(before, after)
    # THEN the chain reads a, (b taken), c, d new
    assert [(b.text, b.state) for b in boxes] == [
        ("a", KEPT), ("b", TAKEN), ("c", KEPT), ("d", NEW)]
    # and without a previous snapshot nothing is marked
    assert all(b.state == KEPT for b in chain_boxes(None, after))
    # and a message sent to the front (a POSIX priority) is new at the front
    assert [b.state for b in chain_boxes(after, ((9, 1, "z", "p"), *after))] == [
        NEW, KEPT, KEPT, KEPT]
    assert Box(9, 1, "z", "p").label("posix_mq") == "prio 9"


@sync
async def test_a_long_queue_ends_in_a_count_box():
    """More messages than MAX_BOXES: the first ones are drawn, then '+N more'."""
    from textual.app import App

    from ipcviz.app.widgets.msgq import MAX_BOXES

    class Host(App):
        def compose(self):
            yield MessageChain("posix_mq")

    async with Host().run_test(size=(80, 60)) as pilot:
        chain = pilot.app.query_one(MessageChain)
        n = MAX_BOXES + 5
        chain.set_boxes([Box(0, 5, f"m{i}", "p") for i in range(n)])
        await pilot.pause()
        text = str(chain.render())
        assert "m0" in text and f"m{MAX_BOXES - 2}" in text
        assert f"m{MAX_BOXES - 1}" not in text and "+6 more" in text
        assert len(chain.boxes) == n  # the model of the chain keeps every message


# -- the panel on a real run --------------------------------------------------------------


@pytest.mark.kernel
@sync
async def test_by_type_panel_draws_the_kernels_queue(runs):
    """Step msgq/sysv-by-type on a real run: boxes in the kernel's order with the kernel's
    types, the gauge at bytes/msg_qbytes; msgrcv(type 2) leaves a ghost in the middle."""
    # GIVEN the app on a real run of the lesson
    app = live_app(runs, "sysv-by-type")
    async with app.run_test(size=(100, 30)) as pilot:
        stage = app.screen
        # WHEN the producer has sent its six messages
        await step_to(pilot, 8, timeout=30)
        snap = runs.made[0].timeline[-1]
        q = snap.object_named("q")
        assert q.messages == 6 and q.contents_source == "kernel"
        view = stage.query_one("#obj-q", QueueView)
        chain = view.query_one(MessageChain)
        # THEN the boxes are the kernel's messages, in the kernel's order, with their types
        assert shown(chain) == [(m[0], m[1], m[2]) for m in q.contents]
        assert [b.label("sysv_msgq") for b in chain.boxes] == [f"type {t}" for t in q.types]
        # and the gauge is the kernel's bytes against msg_qbytes
        text = text_of(view)
        assert f"{q.bytes} / {q.max_bytes} bytes" in text
        assert view.query_one(PipeBar).fill == pytest.approx(q.bytes / q.max_bytes)
        assert f"msqid {q.msqid}" in str(view.border_subtitle)
        assert f"0x{q.key:08x}" in str(view.border_subtitle)

        # WHEN the consumer receives by type 2
        await step_to(pilot, 9)
        snap = runs.made[0].timeline[-1]
        q = snap.object_named("q")
        # THEN the boxes are again the kernel's list, and the taken one stays where it was
        assert shown(chain) == [(m[0], m[1], m[2]) for m in q.contents]
        taken = [i for i, b in enumerate(chain.boxes) if b.state == TAKEN]
        assert len(taken) == 1 and chain.boxes[taken[0]].key == 2
        assert 0 < taken[0] < len(chain.boxes) - 1  # from the middle, not the front
        assert f"{q.bytes} / {q.max_bytes} bytes" in text_of(view)

        # WHEN stepping back one snapshot: the old picture, exactly
        await pilot.press("left")
        await pilot.pause()
        old = stage.shown.object_named("q")
        assert shown(chain) == [(m[0], m[1], m[2]) for m in old.contents]
        await pilot.press("right")
        await pilot.pause()

        # WHEN s: the sources of the values, from the model
        await pilot.press("s")
        await pilot.pause()
        assert "/proc/sysvipc/msg" in text_of(view)
        assert f"ipcs -q -i {q.msqid}" in text_of(view)

        # WHEN the queue is removed (the last step)
        await step_to(pilot, len(app.screen.scenario.steps), timeout=30)
        q = runs.made[0].timeline[-1].object_named("q")
        assert not q.present
        # THEN the panel says so
        assert view.has_class("-gone")
        assert "removed (IPC_RMID)" in text_of(view)


@pytest.mark.kernel
@sync
async def test_full_queue_blocks_the_sender_at_the_input_end(runs):
    """msgq/sysv-full-blocks: the gauge is full, the sender waits at the input end."""
    app = live_app(runs, "sysv-full-blocks")
    async with app.run_test(size=(100, 30)) as pilot:
        # WHEN the fifth msgsnd sleeps on the full queue
        await step_to(pilot, 7, timeout=30)
        snap = runs.made[0].timeline[-1]
        q = snap.object_named("q")
        assert snap.outcome == "blocked" and q.blocked_senders == ("sender",)
        view = app.screen.query_one("#obj-q", QueueView)
        # THEN the sender is marked blocked at the input end, and the gauge is full
        assert "■ sender" in str(view.query_one(".msgq--end.-in").content)
        assert "■ sender" not in str(view.query_one(".msgq--end.-out").content)
        assert view.has_class("-full")
        assert view.query_one(PipeBar).fill == pytest.approx(q.bytes / q.max_bytes) == 1.0
        sender = snap.process_named("sender")
        assert (f"sender sleeps in {sender.syscall}(): {sender.syscall_args[2]} bytes do not "
                f"fit, 0 of {q.max_bytes} free") in text_of(view)


# -- SVG snapshots of recorded runs -------------------------------------------------------


def at_step(n: int, *keys: str):
    async def run_before(pilot) -> None:
        await step_to(pilot, n)
        stage = pilot.app.screen
        await wait_for(pilot, lambda: not stage.sampling and not stage.fitting, 5, "quiet")
        if keys:
            await pilot.press(*keys)
        stage.query_one("#obj-q").scroll_visible(animate=False, top=False)
        await pilot.pause()

    return run_before


def test_by_type_taken_from_the_middle_100x30(snap_compare):
    """sysv-by-type after msgrcv(type 2): the third message is gone from the middle."""
    assert snap_compare(trace_app("sysv-by-type"), terminal_size=(100, 30),
                        run_before=at_step(9))


def test_full_queue_80x24(snap_compare):
    """sysv-full-blocks at 80x24: a full queue, the sender asleep at the input end."""
    assert snap_compare(trace_app("sysv-full-blocks"), terminal_size=(80, 24),
                        run_before=at_step(7))


def test_posix_priority_order_100x30(snap_compare):
    """posix-priority: the highest priority first, the new message in its place, inferred."""
    assert snap_compare(trace_app("posix-priority"), terminal_size=(100, 30),
                        run_before=at_step(7))


# -- the system view ----------------------------------------------------------------------


@pytest.mark.kernel
@sync
async def test_system_view_lists_the_runs_queue_as_ipcviz_own(runs):
    """i: every System V queue like ipcs -q; the lesson's own is listed and marked."""
    from textual.widgets import DataTable

    from ipcviz.app.screens.system_ipc import SystemIpcScreen

    app = live_app(runs, "sysv-basics")
    async with app.run_test(size=(100, 30)) as pilot:
        # GIVEN a real run that created its queue
        await step_to(pilot, 1, timeout=30)
        q = runs.made[0].timeline[-1].object_named("q")
        assert q.present and q.msqid is not None
        # WHEN i opens the system view
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, SystemIpcScreen)
                       and app.screen.reads > 0, 15, "the system view's first read")
        screen = app.screen
        table = screen.query_one("#sysipc-queues", DataTable)
        # THEN the run's queue is a row, with the kernel's key and msqid, marked ipcviz's
        row = [str(c) for c in table.get_row(str(q.msqid))]
        assert row[0] == f"0x{q.key:08x}"
        assert row[1] == str(q.msqid)
        assert row[3] == q.mode
        assert row[6] == "★ q · this lesson"
        assert "ipcviz's" in str(screen.query_one("#sysipc-summary").content)
        # WHEN r: read again (same table)
        reads = screen.reads
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.reads > reads, 15, "a second read")
        assert str(q.msqid) in [str(k.value) for k in table.rows]
        # WHEN escape: back to the stage
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SystemIpcScreen)
        # and q closes it too, without quitting the app
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, SystemIpcScreen), 5, "reopen")
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, SystemIpcScreen) and app.is_running
