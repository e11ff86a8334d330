"""The mechanism panels in Chinese: L switches the shown snapshot's panels to 中文 and back.

Recorded traces (no process is started), so each run draws the same snapshots; the checks
are on fixed labels of each panel, never on data values.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from ipcviz.app.widgets.fifo import FifoView
from ipcviz.app.widgets.msgq import QueueView
from ipcviz.app.widgets.process_table import ProcessTable
from ipcviz.app.widgets.sem import SemView, WaitForGraph
from ipcviz.app.widgets.shm import RegionView
from ipcviz.app.widgets.signals import PtyView
from ipcviz.model.timeline import read_trace_file
from ipcviz.scenario import loads

from .helpers import recorded_app, step_to, sync, text_of, wait_for

TRACES = Path(__file__).resolve().parent / "traces"


trace_app = recorded_app


async def at_step_in_zh(pilot, step: int) -> None:
    """Step the recorded run to `step`, then press L (English -> 中文)."""
    await step_to(pilot, step, timeout=20)
    stage = pilot.app.screen
    await wait_for(pilot, lambda: not stage.sampling, 10, "quiet")
    await pilot.press("L")
    await wait_for(pilot, lambda: pilot.app.lang == "zh", 5, "中文")
    await pilot.pause()


def title(view) -> str:
    return str(view.border_title)


@sync
async def test_fifo_panel_speaks_chinese_after_L_and_english_again():
    # GIVEN the FIFO lesson at step 2: the reader asleep in open(), at the door
    app = trace_app("fifo-open-blocks")
    async with app.run_test(size=(100, 30)) as pilot:
        await step_to(pilot, 2, timeout=20)
        view = app.screen.query_one(FifoView)
        english = text_of(view)
        assert "at the door" in english and title(view).startswith("fifo ")
        # WHEN L is pressed
        await pilot.press("L")
        await wait_for(pilot, lambda: "在门口等待" in text_of(view), 5, "the door in 中文")
        # THEN the title and the door speak Chinese; the call name stays
        assert title(view).startswith("有名管道 FIFO ")
        assert "open(O_RDONLY)" in text_of(view) or "open(O_WRONLY)" in text_of(view)
        # AND L again draws exactly the English text
        await pilot.press("L")
        await wait_for(pilot, lambda: app.lang == "en", 5, "English")
        await pilot.pause()
        assert text_of(view) == english and title(view).startswith("fifo ")


@sync
async def test_queue_panel_in_chinese():
    app = trace_app("msgq-sysv-by-type")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step_in_zh(pilot, 3)
        view = app.screen.query_one(QueueView)
        assert "消息队列" in title(view)
        assert "已发送" in text_of(view)  # the sent · received line


@sync
async def test_message_boxes_in_chinese_stay_aligned():
    """Type labels and the taken ghost in Chinese; a Chinese character takes two cells, and
    the four rows of every box still line up."""
    from rich.cells import cell_len

    from ipcviz.app.widgets.msgq import MessageChain

    app = trace_app("msgq-sysv-by-type")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step_in_zh(pilot, 9)  # a message of type 2 taken from the middle
        chain = app.screen.query_one(MessageChain)
        drawn = chain.render().plain.splitlines()
        assert any("类型 2" in line for line in drawn)
        assert any("已取走" in line for line in drawn)
        assert len({cell_len(line) for line in drawn}) == 1, drawn


@sync
async def test_semaphore_panel_in_chinese():
    app = trace_app("sem-deadlock")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step_in_zh(pilot, 8)
        views = list(app.screen.query(SemView))
        assert all("信号量" in title(v) for v in views)
        text = "\n".join(text_of(v) for v in views)
        assert "死锁" in text and "持有者 ≈" in text
        graph = next(g for g in app.screen.query(WaitForGraph) if g.hops)
        assert "等待" in graph.render().plain  # the graph's edges and legend


@sync
async def test_region_panel_in_chinese():
    app = trace_app("shm-basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step_in_zh(pilot, 7)
        view = app.screen.query_one(RegionView)
        assert "共享内存" in title(view)
        assert "映射到" in text_of(view)


@sync
async def test_pty_panel_in_chinese():
    app = trace_app("signal-terminal-keys")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step_in_zh(pilot, 10)
        view = app.screen.query_one(PtyView)
        assert title(view).startswith("伪终端 pty ")
        assert "行规程" in text_of(view) and "SIGINT" in text_of(view)


@sync
async def test_process_table_in_chinese():
    """The table (drawn above 16 processes) on a recorded snapshot, in an app in 中文."""
    header, snaps = read_trace_file(TRACES / "fifo-open-blocks.jsonl")
    scenario = loads(header["source"], "fifo-open-blocks.jsonl", header["scenario"])
    snap = next(s for s in snaps if s.processes)

    class Host(App):
        lang = "zh"

        def compose(self):
            yield ProcessTable(scenario)

    async with Host().run_test(size=(100, 30)) as pilot:
        table = pilot.app.query_one(ProcessTable)
        table.show(snap)
        await pilot.pause()
        text = table.plain()
        assert f"{len(snap.processes)} 个进程：" in text
        pilot.app.lang = "en"
        table.show(snap)  # the language is part of what it last drew: redrawn
        assert f"{len(snap.processes)} processes: " in table.plain()
