"""Give wide characters their two cells back in an SVG screenshot.

Rich's `Console.export_svg` (behind Textual's `export_screenshot`) places every run of text at
the right column (`x` counts terminal cells), but sizes it with `textLength = char_width *
len(text)`: a run holding Chinese characters, each two cells wide on the terminal, is
squeezed into half its width by the browser and the glyphs overlap.

This pass rewrites each run that holds a character not one cell wide into pieces: every wide
character alone, the narrow characters between them together, each piece at its own cell
(`x`) and exactly as wide as its cells (`textLength = char_width * cell_len`).  A browser
stretches a run's glyphs evenly across textLength, and a CJK glyph's advance is not two
monospace advances, so one long mixed run would drift off its cells; a piece per wide
character lands each one on its column.  Runs of narrow characters are left byte for byte,
so a slide without wide characters comes out exactly as Rich wrote it.

The one-column width is read from the runs themselves (Rich writes textLength / len = the
width of a cell): the pass needs no knowledge of Rich's font metrics.
"""

from __future__ import annotations

import html
import re

from rich.cells import cell_len

# One text run as Rich writes it:
#   <text class=".." x=".." y=".." textLength=".." clip-path="..">TEXT</text>
_RUN = re.compile(r'<text\b([^>]*)>([^<]*)</text>')
_X = re.compile(r'\bx="([0-9.eE+-]+)"')
_LENGTH = re.compile(r'\btextLength="([0-9.eE+-]+)"')


def _num(value: float) -> str:
    return format(value, "g")  # as Rich writes numbers


def _width_of_one_cell(svg: str) -> float | None:
    """The width of one cell: Rich sizes every run as width * len(text), so a run of narrow
    characters tells it (a run this pass split no longer does); else the narrowest ratio."""
    narrow, ratios = [], []
    for m in _RUN.finditer(svg):
        length = _LENGTH.search(m.group(1))
        text = html.unescape(m.group(2))
        if length is None or not text:
            continue
        ratio = float(length.group(1)) / len(text)
        (narrow if cell_len(text) == len(text) else ratios).append(ratio)
    if narrow:
        return narrow[0]
    return min(ratios) if ratios else None


def _pieces(text: str) -> list[str]:
    """Narrow characters together, each wide character alone ("ab中c" → ab, 中, c); a
    character of no width (a combining mark) stays with the one before it."""
    out: list[str] = []
    narrow = ""
    for ch in text:
        width = cell_len(ch)
        if width == 1 or (width == 0 and (narrow or not out)):
            narrow += ch
            continue
        if width == 0:
            out[-1] += ch
            continue
        if narrow:
            out.append(narrow)
            narrow = ""
        out.append(ch)
    if narrow:
        out.append(narrow)
    return out


def fix_wide_text(svg: str) -> str:
    """The SVG with every wide character on its own cells (see the module's doc)."""
    one = _width_of_one_cell(svg)
    if one is None:
        return svg

    def split(m: re.Match[str]) -> str:
        attrs, raw = m.group(1), m.group(2)
        text = html.unescape(raw)
        x, length = _X.search(attrs), _LENGTH.search(attrs)
        cells = cell_len(text)
        if x is None or length is None or cells == len(text) or cells == 0:
            return m.group(0)  # the title, a narrow run, a newline Rich leaves in a run
        start = float(x.group(1))
        parts = []
        for piece in _pieces(text):
            width = cell_len(piece)
            piece_attrs = _LENGTH.sub(f'textLength="{_num(one * width)}"',
                                      _X.sub(f'x="{_num(start)}"', attrs, 1), 1)
            escaped = html.escape(piece).replace("\xa0", "&#160;")  # as Rich escapes
            parts.append(f"<text{piece_attrs}>{escaped}</text>")
            start += one * width
        return "".join(parts)

    return _RUN.sub(split, svg)
