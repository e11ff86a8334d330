"""Widgets drawn line by line (Textual's line API), redrawing only the lines that changed.

A Static turns its whole text into strips again whenever it is updated: for the syscall
log (every call of the run), the C code of a crowd lesson (a line per step) and the table
of sixty-four processes that is most of the work of a frame, though a step changes one or
two lines.  Here each line is a Content, turned into a Strip once and kept until that
line's text or styles change; an update marks only the changed lines dirty, so the
compositor renders those and nothing else.

    LineScroll  a scrolling view of any number of lines (the log, the code)
    LineBlock   a block of lines as tall as it has lines, cut at its width (the table)
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from textual.content import Content
from textual.dom import NoScreen
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import Static


def _key(line: Content) -> tuple:
    """What makes two lines draw the same (Content's == compares the text only)."""
    return (line.plain, tuple(line.spans))


class _Lines:
    """The lines of a widget and their strips, rendered lazily and kept by what they show:
    a line that shows again (a process's program, woken once more) is not rendered again."""

    KEEP = 4096  # lines' strips kept; beyond that the cache starts again

    def __init__(self) -> None:
        self.lines: list[Content] = []
        self.keys: list[tuple] = []
        # (line key, how, width) -> strips; how: WHOLE, CUT (at width, "…") or WRAP
        self.strips: dict[tuple, tuple[Strip, ...]] = {}
        self.style = None  # the widget's visual style the strips were rendered with
        self.width = 0  # widest line, in cells

    def set(self, lines: Sequence[Content]) -> list[int]:
        """Take new lines; returns the indexes of lines that differ from before."""
        old_lines, old = self.lines, self.keys
        # The same Content object as before is the same line: its key is not made again
        # (widgets keep the Content of lines that did not change).
        keys = [old[i] if i < len(old_lines) and old_lines[i] is line else _key(line)
                for i, line in enumerate(lines)]
        changed = [i for i in range(max(len(old), len(keys)))
                   if i >= len(old) or i >= len(keys) or old[i] != keys[i]]
        self.lines, self.keys = list(lines), keys
        self.width = max((line.cell_length for line in self.lines), default=0)
        return changed

    def render(self, widget: Widget, i: int, how: str = "whole",
               width: int = 0) -> tuple[Strip, ...]:
        """Line i as strips: one (WHOLE, or CUT at `width`) or as many as it takes to WRAP
        it at `width`; from the cache if it can."""
        style = widget.visual_style
        if style is not self.style:  # a theme or CSS change: every strip again
            self.strips.clear()
            self.style = style
        line = self.lines[i]
        if how == CUT and line.cell_length <= width:
            how = WHOLE
        key = (self.keys[i], how, width if how != WHOLE else 0)
        strips = self.strips.get(key)
        if strips is None:
            if how == CUT:
                line = line.truncate(width, ellipsis=True)
            if how == WRAP and line.cell_length > width:
                strips = tuple(Visual.to_strips(widget, line, max(width, 1), None, style))
            else:
                strips = (_one_strip(line, style),)
            strips = strips or (Strip.blank(0),)
            if len(self.strips) >= self.KEEP:
                self.strips.clear()
            self.strips[key] = strips
        return strips

    def plain(self) -> str:
        return "\n".join(line.plain for line in self.lines)


WHOLE, CUT, WRAP = "whole", "cut", "wrap"


def _one_strip(line: Content, style: VisualStyle) -> Strip:
    """One line of Content as one Strip, its styles ("b $text-muted") resolved in the app's
    theme.  A quarter of the cost of Visual.to_strips, which also wraps, aligns and marks
    every cell's offset for mouse selection -- none of which a line here needs."""
    segments = [Segment(text, part.rich_style)
                for text, part in line.render(style, "", parse_style=VisualStyle.parse)]
    return Strip(segments, line.cell_length)


def _runs(indexes: list[int]) -> list[tuple[int, int]]:
    """[3, 4, 5, 9] -> [(3, 3), (9, 1)]: (first, count) of each run of neighbours."""
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][0] + runs[-1][1] == i:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((i, 1))
    return runs


class LineScroll(ScrollView):
    """Any number of lines, scrolled.  `wrap`: a long line continues on the next rows (no
    horizontal scrolling); else it is scrolled to sideways."""

    def __init__(self, *, wrap: bool = False, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.wrap = wrap
        self._lines = _Lines()
        self._rows: list[tuple[int, int]] = []  # (line, part of it) drawn on each row
        self._row_keys: list[tuple] = []
        self._placed_width = 0  # the width the rows were placed at

    def set_lines(self, lines: Sequence[Content]) -> None:
        changed = self._lines.set(lines)
        self._place_rows(min(changed, default=len(self._lines.lines)))

    def _wrap_width(self) -> int:
        """Cells a wrapped line may take: the width less the vertical scrollbar's, shown
        or not, so that a scrollbar appearing does not wrap everything again."""
        return self.size.width - self.styles.scrollbar_size_vertical

    def _place_rows(self, first: int = 0) -> None:
        """Which part of which line each row shows, from line `first` on (the rows of the
        lines before it stay); refresh the rows that changed."""
        width = self._wrap_width() if self.wrap else 0
        if width != self._placed_width:
            first, self._placed_width = 0, width
        old = self._row_keys
        keep = len(self._rows)
        while keep and self._rows[keep - 1][0] >= first:
            keep -= 1
        rows = self._rows[:keep]
        keys = old[:keep]
        all_keys = self._lines.keys
        for i in range(first, len(all_keys)):
            parts = len(self._lines.render(self, i, WRAP, width)) if width > 0 else 1
            for part in range(parts):
                rows.append((i, part))
                keys.append((all_keys[i], part))
        changed = [y for y in range(keep, max(len(old), len(keys)))
                   if y >= len(old) or y >= len(keys) or old[y] != keys[y]]
        self._rows, self._row_keys = rows, keys
        size = Size(width if width > 0 else self._lines.width, len(rows))
        if size != self.virtual_size:
            self._resize_virtual(size)
        for first, count in _runs(changed):
            self.refresh_lines(first, count)

    def on_resize(self) -> None:
        if self.wrap:
            self._place_rows()

    def _resize_virtual(self, size: Size) -> None:
        """A new virtual size.  Setting virtual_size lays out the whole screen; when the
        widget's own box and its scrollbars stay as they are (a log one line longer that
        already scrolls) only the scrollbars need to know.  Uses Widget._scroll_update,
        private to Textual: pyproject pins Textual exactly."""
        width, height = self.container_size
        old = self.virtual_size
        same_bars = (self.is_mounted and width > 0 and height > 0
                     and (old.width > width) == (size.width > width)
                     and (old.height > height) == (size.height > height))
        if not same_bars:
            self.virtual_size = size
            return
        self.set_reactive(LineScroll.virtual_size, size)
        self._scroll_update(size)

    def row_of(self, line: int) -> int:
        """The first row of a line (rows differ from lines when lines wrap)."""
        if not self.wrap:
            return line
        return next((y for y, (i, _) in enumerate(self._rows) if i == line), 0)

    def shows_line(self, line: int) -> bool:
        """The line is in view, not on the last row (the next lines should show too)."""
        y = self.row_of(line)
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        return height > 1 and top <= y < top + height - 1

    def plain(self) -> str:
        """The text shown, one line per line (tests, and a reader of a failure)."""
        return self._lines.plain()

    def render_lines(self, crop: Region) -> list[Strip]:
        # Looked up once per render, not per line (each lookup asks the compositor's map).
        self._frame = (self.scroll_offset, self.size.width,
                       self._wrap_width() if self.wrap else 0)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        (scroll_x, scroll_y), width, wrap_width = self._frame
        row = y + scroll_y
        rich_style = self.visual_style.rich_style  # cached; Widget.rich_style is not
        if not 0 <= row < len(self._rows):
            return Strip.blank(width, rich_style)
        i, part = self._rows[row]
        if self.wrap:
            strips = self._lines.render(self, i, WRAP, wrap_width)
        else:
            strips = self._lines.render(self, i)
        strip = strips[part] if part < len(strips) else Strip.blank(0)
        return strip.crop_extend(scroll_x, scroll_x + width, rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.strips.clear()


class LineBlock(Widget):
    """Lines, as many rows as there are lines: a line wider than the widget ends in "…".

    Its height changes only when the number of lines does, so an update that keeps the
    count needs no new layout of the screen."""

    DEFAULT_CSS = """
    LineBlock { height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines = _Lines()

    def set_lines(self, lines: Sequence[Content]) -> None:
        count = len(self._lines.lines)
        changed = self._lines.set(lines)
        if len(self._lines.lines) != count:
            self.refresh(layout=True)
            return
        width = self.size.width
        for first, n in _runs(changed):
            self.refresh(Region(0, first, width, n))

    def plain(self) -> str:
        return self._lines.plain()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines.lines)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self._lines.width

    def render_lines(self, crop: Region) -> list[Strip]:
        self._frame_width = self.size.width  # once per render, not per line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._frame_width
        rich_style = self.visual_style.rich_style  # cached; Widget.rich_style is not
        if not 0 <= y < len(self._lines.lines):
            return Strip.blank(width, rich_style)
        return self._lines.render(self, y, CUT, width)[0].extend_cell_length(width, rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.strips.clear()


def update_static(static: Static, content: Content, *, fixed: bool = False) -> None:
    """Static.update(content), asking for a new layout of the screen only when the text's
    height at the widget's width changes (a layout of the whole stage costs more than
    drawing the text), and doing nothing when the text and its styles are the same.
    `fixed`: the widget's size is set by CSS, never by its text."""
    old = static.content
    if isinstance(old, Content) and _key(old) == _key(content):
        return
    width = static.size.width
    same = fixed or (bool(width) and
                     content.get_height(static.styles, width) == static.size.height)
    if same and not fixed and static.styles.width is not None and static.styles.width.is_auto:
        # as wide as its text: the widest line must not change either
        same = isinstance(old, Content) and _widest(old) == _widest(content)
    static.update(content, layout=not same)


def _widest(content: Content) -> int:
    return max((cell_len(line) for line in content.plain.split("\n")), default=0)


def put(static: Static, content: Content) -> None:
    """Show content in a part of a panel; an empty part takes no row."""
    static.display = bool(content.plain)
    update_static(static, content)


def no_room(widget: Widget) -> bool:
    """The stage has folded to its last level (StageScreen.FOLDS, "-fold-detail"): a
    panel draws its brief form.  False for a widget on no screen (a unit test's)."""
    try:
        return widget.screen.has_class("-fold-detail")
    except NoScreen:
        return False
