"""Chinese slides: every wide character keeps its two cells in the exported SVG.

Rich's SVG export sized each text run by its number of characters, so a run of Chinese was
squeezed into half its width and overlapped the next run (issue 15, item 3).  These tests
measure the runs of a real zh export: in the file, and as headless Chromium lays them out.
"""

from __future__ import annotations

from itertools import pairwise

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from ipcviz.export.svgfix import fix_wide_text
from tests.chromium import Chromium, chromium_path
from tests.conftest import ROOT, ipcviz

SVG = "{http://www.w3.org/2000/svg}"
ZH_TRACE = ROOT / "tests" / "app" / "traces" / "pipe-full-blocks-writer.jsonl"  # zh narration
needs_chromium = pytest.mark.skipif(chromium_path() is None,
                                    reason="chromium is not installed (.ci/run installs it)")


def runs(svg_text: str) -> list[tuple[float, float, float, str]]:
    """(y, x, textLength, text) of every sized text run of a Rich SVG."""
    root = ET.fromstring(svg_text)
    out = []
    for el in root.iter(f"{SVG}text"):
        if el.get("textLength") is None:
            continue  # the window title
        out.append((float(el.get("y")), float(el.get("x")), float(el.get("textLength")),
                    "".join(el.itertext())))
    return out


def one_cell(found) -> float:
    return min(length / len(text) for _, _, length, text in found if text)


def columns(found) -> dict[tuple[float, int], str]:
    """(y, column) -> character, each character placed by its run's x and the cells of the
    characters before it in the run."""
    cell = one_cell(found)
    out = {}
    for y, x, _, text in found:
        for i, ch in enumerate(text):
            out[(y, round((x + cell * cell_len(text[:i])) / cell))] = ch
    return out


def assert_cells_kept(found) -> int:
    """Each run is cell_len wide, and no run reaches into the next one on its line.
    Returns how many runs held wide characters."""
    cell = one_cell(found)
    wide = 0
    lines = defaultdict(list)
    for y, x, length, text in found:
        if not cell_len(text):
            continue  # a newline Rich leaves at the end of a line: nothing drawn
        assert length == pytest.approx(cell * cell_len(text), abs=0.01), text
        wide += cell_len(text) > len(text)
        lines[y].append((x, length, text))
    for row in lines.values():
        row.sort()
        for (x, length, text), (nx, _, ntext) in pairwise(row):
            assert x + length <= nx + 0.01, (text, ntext)
    return wide


def test_fix_sizes_a_wide_run_by_its_cells():
    """A run of Chinese gets two cells a character; a narrow run is left byte for byte."""
    # GIVEN Rich's own SVG of a line mixing Chinese and ASCII, in two styles
    console = Console(record=True, width=40, file=open("/dev/null", "w"))
    console.print("[bold]管道满了[/bold] pipe is full & [red]写者阻塞[/red]")
    raw = console.export_svg(title="t")
    before = runs(raw)
    cell = one_cell(before)
    assert any(length < cell * cell_len(t) - 1 for _, _, length, t in before), \
        "Rich squeezes wide text (if it no longer does, this pass can go)"
    # WHEN the pass runs
    fixed = fix_wide_text(raw)
    # THEN every run is measured in cells, and the narrow ones did not change
    after = runs(fixed)
    assert assert_cells_kept(after) >= 2
    assert columns(after) == columns(before)  # every character on the column Rich chose
    assert columns(after)[(20.0, 2)] == "道" and columns(after)[(20.0, 26)] == "者"
    narrow = [r for r in before if cell_len(r[3]) == len(r[3])]
    assert narrow and all(r in after for r in narrow)
    assert fix_wide_text(fix_wide_text(raw)) == fixed  # a second pass changes nothing


def test_fix_leaves_narrow_svgs_alone():
    console = Console(record=True, width=30, file=open("/dev/null", "w"))
    console.print("only <ascii> & \"quotes\" here")
    raw = console.export_svg(title="t")
    assert fix_wide_text(raw) == raw


@pytest.fixture(scope="module")
def zh_slides(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zh") / "slides"
    res = ipcviz("export", "--trace", str(ZH_TRACE), "--svg", str(out), "--size", "100x30",
                 "--lang", "zh", timeout=120)
    assert res.returncode == 0, res.stderr
    return out


def test_zh_export_keeps_every_wide_character_two_cells_wide(zh_slides):
    """In the slides of a zh lesson, runs with Chinese span their cells and never overlap."""
    slides = sorted(zh_slides.glob("step-*.svg"))
    assert len(slides) > 2
    wide = 0
    for path in slides:
        wide += assert_cells_kept(runs(path.read_text(encoding="utf-8")))
    assert wide > 20  # narration, title and status line are Chinese


@needs_chromium
def test_zh_slide_in_chromium_puts_characters_on_their_cells(zh_slides, tmp_path):
    """Laid out by a browser, each Chinese character stays inside its two cells, and no
    run reaches into the next one on its line."""
    path = sorted(zh_slides.glob("step-*.svg"))[1]
    cell = one_cell(runs(path.read_text(encoding="utf-8")))
    with Chromium(tmp_path, size=(1400, 900)) as browser:
        page = browser.page()
        page.navigate(path.as_uri())
        page.wait_for("document.querySelectorAll('text').length > 10", what="the slide")
        # every drawn character's box, as the browser laid it out, in the text's own units
        got = page.eval("""
            Array.from(document.querySelectorAll('text[textLength]'))
              .filter(t => t.getNumberOfChars() > 0)
              .map(t => ({x: t.x.baseVal[0].value, y: t.y.baseVal[0].value,
                          text: t.textContent,
                          boxes: Array.from({length: t.getNumberOfChars()}, (_, i) => {
                              const b = t.getExtentOfChar(i); return [b.x, b.width]; })}))""")
        page.screenshot(tmp_path / "zh-slide.png")
    wide = [r for r in got if cell_len(r["text"]) > len(r["text"])]
    assert len(wide) > 10
    for run in wide:
        text = run["text"]
        for i, (left, width) in enumerate(run["boxes"]):
            if text[i] in " \xa0":
                continue
            first = run["x"] + cell * cell_len(text[:i])  # the character's first cell
            last = first + cell * cell_len(text[i])
            assert first - 0.5 <= left and left + width <= last + 0.5, \
                (text, i, left, width, first, last)
    lines = defaultdict(list)
    for run in got:
        lines[run["y"]].append(run)
    for row in lines.values():
        row.sort(key=lambda r: r["x"])
        for a, b in pairwise(row):
            right = max(left + width for left, width in a["boxes"])
            assert right <= b["x"] + 0.5, (a["text"], b["text"])
