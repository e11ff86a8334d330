"""Widgets drawn line by line: a step that changes one line of a long table or log renders
that line again and no other; long log lines wrap; the log follows its end."""

from __future__ import annotations

from textual.app import App
from textual.content import Content

import ipcviz.app.widgets.lines as lines_module
from ipcviz.app.widgets.lines import LineBlock, LineScroll

from .helpers import sync


class Host(App):
    CSS = "LineScroll { height: 8; width: 30; }"

    def compose(self):
        yield LineBlock(id="block")
        yield LineScroll(wrap=True, id="scroll")


def counting(monkeypatch) -> list[str]:
    """The text of every line turned into a strip from now on."""
    made: list[str] = []
    real = lines_module._one_strip

    def one_strip(line, style):
        made.append(line.plain)
        return real(line, style)

    monkeypatch.setattr(lines_module, "_one_strip", one_strip)
    return made


@sync
async def test_one_changed_line_of_sixty_five_is_the_only_one_drawn_again(monkeypatch):
    async with Host().run_test(size=(60, 80)) as pilot:
        block = pilot.app.query_one(LineBlock)
        rows = [Content.styled(f"p{i:02d}  sleeping", "$text-muted") for i in range(65)]
        block.set_lines(rows)
        await pilot.pause()
        made = counting(monkeypatch)
        # WHEN one process's line changes (same text length, another style)
        changed = list(rows)
        changed[7] = Content.styled("p07  blocked ", "b $text-error")
        block.set_lines(changed)
        await pilot.pause()
        # THEN only that line became a strip again, and the block kept its height
        assert made == ["p07  blocked "]
        assert block.size.height == 65
        assert block.plain().splitlines()[7] == "p07  blocked "


@sync
async def test_a_long_line_wraps_and_the_rows_follow_it():
    async with Host().run_test(size=(60, 80)) as pilot:
        scroll = pilot.app.query_one(LineScroll)
        long = "msgrcv(1703998, &msg, 8192, 0, 0) <unfinished ...>"  # 51 cells
        scroll.set_lines([Content("short"), Content(long), Content("last")])
        await pilot.pause()
        width = scroll.size.width - scroll.styles.scrollbar_size_vertical
        parts = -(-len(long) // width)
        assert parts > 1
        # THEN the long line takes `parts` rows, and the line after it comes below them
        assert scroll.virtual_size.height == 1 + parts + 1
        assert scroll.row_of(2) == 1 + parts


@sync
async def test_the_stage_log_follows_its_end():
    from ipcviz.app.widgets.log import SyscallLog
    from ipcviz.model.snapshot import LogEntry

    class LogHost(App):
        CSS = "SyscallLog { height: 6; }"

        def compose(self):
            yield SyscallLog(id="log")

    async with LogHost().run_test(size=(60, 20)) as pilot:
        log = pilot.app.query_one(SyscallLog)
        entries: tuple = ()
        for n in range(1, 31):
            entries += (LogEntry(n, "a", 100, f"write({n})", "returned", 1, None, None,
                                 False),)
            log.show(entries, n)
            await pilot.pause()
        # THEN the latest call is in view at the bottom, and all 30 are in the log
        assert log.scroll_offset.y == log.max_scroll_y > 0
        assert log.plain().count("write(") == 30
