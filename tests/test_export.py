"""`ipcviz export`: a lesson as SVG slides and an index.html that pages through them.

The slides of a real run are compared with the Snapshots that run returned (export writes
them beside the slides as trace.jsonl); the page is paged in headless Chromium with real key
presses over the DevTools protocol (skipped only where `chromium` is not installed).
"""

from __future__ import annotations

import gzip
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest
from rich.cells import cell_len

from ipcviz.model.timeline import read_trace, read_trace_file, write_trace_header
from ipcviz.scenario import load, loads
from tests.chromium import Chromium, chromium_path, screenshot
from tests.conftest import ROOT, ipcviz

SVG = "{http://www.w3.org/2000/svg}"
RECORDED = ROOT / "tests" / "app" / "traces" / "full-pipe.jsonl"  # fixed PIDs, no header
SCENARIO = ROOT / "tests" / "app" / "scenarios" / "pipe" / "full-pipe.toml"
LESSON = "pipe/empty-blocks-reader"
needs_chromium = pytest.mark.skipif(chromium_path() is None,
                                    reason="chromium is not installed (.ci/run installs it)")


def svg_lines(path: Path) -> list[str]:
    """The text rows of a Textual SVG screenshot, spaces put back by column (parsing it
    also proves the file is valid XML).  The window title is the first row."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    cells = [(el, "".join(el.itertext()).replace("\xa0", " "))
             for el in root.iter(f"{SVG}text") if el.get("y") is not None]
    title = [t for el, t in cells if el.get("textLength") is None]
    spans = [(el, t) for el, t in cells if el.get("textLength") is not None and t]
    width = min(float(el.get("textLength")) / len(t) for el, t in spans)  # one column
    rows: dict[float, dict[int, str]] = defaultdict(dict)
    for el, text in spans:
        col = round(float(el.get("x")) / width)
        for i, ch in enumerate(text):  # a wide character takes two columns
            at = col + cell_len(text[:i])
            rows[float(el.get("y"))][at] = ch
            if cell_len(ch) == 2:
                rows[float(el.get("y"))][at + 1] = ""
    lines = ["".join(row.get(c, " ") for c in range(max(row) + 1)).rstrip()
             for _, row in sorted(rows.items())]
    return title + lines


def flat(lines: list[str]) -> str:
    return re.sub(r"\s+", " ", " ".join(lines))


def page_slides(index: Path) -> list[dict]:
    m = re.search(r"const SLIDES = (\[.*?\]);\n", index.read_text(encoding="utf-8"))
    assert m, "index.html lists its slides"
    return json.loads(m.group(1).replace("<\\/", "</"))


def run_processes(runtime: Path) -> list[str]:
    """Run directories left in the private runtime directory (a run removes its own)."""
    return sorted(p.name for p in runtime.glob("run-*")) if runtime.exists() else []


@pytest.fixture(scope="module")
def trace(tmp_path_factory) -> Path:
    """The app tests' recorded run, with the header `ipcviz run --record` writes."""
    path = tmp_path_factory.mktemp("trace") / "full-pipe.jsonl"
    scenario = load(SCENARIO)
    with open(path, "w", encoding="utf-8") as f:
        write_trace_header(f, scenario.name, scenario.source)
        f.write(RECORDED.read_text(encoding="utf-8"))
    return path


@pytest.fixture(scope="module")
def trace_slides(tmp_path_factory, trace) -> Path:
    """Slides of a recorded trace: nothing is run."""
    out = tmp_path_factory.mktemp("trace-slides") / "slides"
    res = ipcviz("export", "--trace", str(trace), "--svg", str(out), "--size", "100x30",
                 "--theme", "textual-light", timeout=90)
    assert res.returncode == 0, res.stderr
    return out


@pytest.mark.kernel
def test_real_lesson_gives_one_slide_per_snapshot_the_run_returned(tmp_path, runtime_dir):
    """Each slide is a valid SVG showing its step's call and narration; the run is gone."""
    # GIVEN a short real lesson
    out = tmp_path / "slides"
    # WHEN it is exported
    res = ipcviz("export", LESSON, "--svg", str(out), "--size", "100x30", timeout=90)
    # THEN it ran and drew every step, saying so on stderr as it went
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    header, snaps = read_trace_file(out / "trace.jsonl")
    assert header["scenario"] == LESSON
    total = snaps[0].total_steps
    assert len(snaps) == total + 1
    assert f"step {total}/{total}" in res.stderr
    assert f"drawing slide {total}/{total}" in res.stderr
    svgs = sorted(out.glob("step-*.svg"))
    assert [p.name for p in svgs] == [f"step-{k:03d}.svg" for k in range(len(snaps))]
    for snap, path in zip(snaps, svgs):
        lines = svg_lines(path)
        text = flat(lines)
        assert lines[0] == f"{LESSON} · step {snap.step}/{total}"  # the window title
        # the lesson and the step; nothing of the live app (LIVE, arrows, play speed)
        assert lines[1].strip() == f"{LESSON}  step {snap.step}/{total}"
        if snap.step:
            assert f"Step {snap.step}/{total}" in text
            assert snap.call in text, (path.name, snap.call)
            words = " ".join(snap.narration.split()[:6])
            assert words in text, (path.name, words)
        for proc in snap.processes:  # the PIDs are the ones the run reported
            if proc.state != "exited":
                assert f"{proc.name} PID {proc.pid}" in text, (path.name, proc.name)
    # AND index.html shows them in order, with the lesson's title
    index = (out / "index.html").read_text(encoding="utf-8")
    slides = page_slides(out / "index.html")
    assert [s["src"] for s in slides] == [p.name for p in svgs]
    assert [s["step"] for s in slides] == [s.step for s in snaps]
    assert "An empty pipe blocks the reader" in index
    # AND nothing of the run is left: its directory was removed with its processes
    assert run_processes(runtime_dir) == []


def test_trace_gives_replay_slides_without_running(trace, trace_slides):
    """--trace draws a recording: one slide per recorded snapshot, marked REPLAY."""
    snaps = read_trace(trace)
    svgs = sorted(trace_slides.glob("step-*.svg"))
    assert len(svgs) == len(snaps)
    for snap, path in zip(snaps, svgs):
        text = flat(svg_lines(path))
        assert f"step {snap.step}/{snap.total_steps} REPLAY" in text
        if snap.call:
            assert snap.call in text
    # the trace beside the slides is the recording itself, replayable
    assert read_trace(trace_slides / "trace.jsonl") == snaps


def test_trace_without_scenario_is_refused(tmp_path):
    """A trace of --json lines carries no scenario: one line says how to record one."""
    res = ipcviz("export", "--trace", str(RECORDED), "--svg", str(tmp_path / "x"))
    assert res.returncode == 2
    assert "carries no scenario" in res.stderr and res.stderr.count("\n") == 1


def test_export_again_replaces_old_slides(tmp_path, trace):
    """Old step-NNN.svg of a longer export are removed; other files are left alone."""
    out = tmp_path / "slides"
    out.mkdir()
    (out / "step-099.svg").write_text("<svg/>")
    (out / "notes.txt").write_text("mine")
    res = ipcviz("export", "--trace", str(trace), "--svg", str(out), timeout=90)
    assert res.returncode == 0, res.stderr
    assert not (out / "step-099.svg").exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert len(list(out.glob("step-*.svg"))) == len(read_trace(trace))


@pytest.mark.parametrize("args, code, words", [
    (["nope/none", "--svg", "x"], 2, "nope/none"),
    (["pipe/eof"], 2, "--svg"),
    (["--svg", "x"], 2, "lesson name"),
    (["pipe/eof", "--trace", str(RECORDED), "--svg", "x"], 2, "one of them"),
    (["pipe/eof", "--svg", "x", "--size", "big"], 2, "COLUMNSxROWS"),
    (["pipe/eof", "--svg", "x", "--size", "20x5"], 2, "needs"),
    (["pipe/eof", "--svg", "x", "--theme", "plaid"], 2, "unknown theme"),
    (["--trace", "/nonexistent.jsonl", "--svg", "x"], 2, "no such file"),
    (["pipe/eof", "--svg", "/dev/null"], 2, "not a folder"),
    (["pipe/eof", "--svg", "x", "--lang", "fr"], 2, "unknown language"),
])
def test_bad_input_is_one_line(tmp_path, capsys, args, code, words):
    from ipcviz.export import cli

    out = str(tmp_path / "x")
    try:
        got = cli.main([out if a == "x" else a for a in args])
    except SystemExit as exit:  # argparse's errors
        got = exit.code
    err = capsys.readouterr().err
    assert got == code
    assert err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "x").exists()


def test_the_command_line_delegates_to_export():
    """`ipcviz export` with a bad option: one line from export's own parser, exit 2."""
    res = ipcviz("export", "pipe/eof", "--svg", "/nonexistent/x", "--size", "big")
    assert res.returncode == 2
    assert res.stderr.startswith("ipcviz export: ") and res.stderr.count("\n") == 1


def test_unavailable_lesson_exits_3(tmp_path, monkeypatch, capsys):
    """A lesson this system cannot run: one line, exit 3, nothing run or written."""
    from ipcviz.export import cli
    from ipcviz.runtime import availability

    monkeypatch.setattr(availability, "unavailable", lambda sc: "no mqueue file system")
    code = cli.main(["pipe/eof", "--svg", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 3
    assert err == "ipcviz export: pipe/eof cannot run on this system: no mqueue file system\n"
    assert not (tmp_path / "x").exists()


@needs_chromium
def test_page_pages_with_the_keyboard_in_chromium(trace, trace_slides, tmp_path):
    """index.html in headless Chromium: real key presses page the slides, #step=K opens K."""
    slides = page_slides(trace_slides / "index.html")
    header, _ = read_trace_file(trace)
    title = loads(header["source"], "trace", header["scenario"]).title
    n = slides[-1]["step"]
    url = (trace_slides / "index.html").as_uri()
    shown = ("[document.body.dataset.step, document.getElementById('counter').textContent,"
             " document.getElementById('slide').getAttribute('src'), location.hash]")

    def at(page, k):
        page.wait_for(f"document.body.dataset.step === '{k}'", 10, f"slide {k}")
        _, counter, src, address = page.eval(shown)
        assert counter == f"step {slides[k]['step']} / {n}"
        assert src == slides[k]["src"]
        return address

    with Chromium(tmp_path, size=(1200, 800)) as browser:
        page = browser.page()
        page.navigate(url)
        page.wait_for("document.readyState === 'complete'", 20, "the page")
        at(page, 0)
        assert page.eval("document.querySelector('header .title').textContent") == title
        for key, k in [("ArrowRight", 1), (" ", 2), ("PageDown", 3), ("ArrowLeft", 2),
                       ("PageUp", 1), ("End", len(slides) - 1), ("ArrowRight", len(slides) - 1),
                       ("Home", 0), ("ArrowLeft", 0), ("Enter", 1)]:
            page.key(key)
            assert at(page, k) == f"#step={k}", key
        # the slide image really loaded (an SVG the browser could draw)
        page.wait_for("document.getElementById('slide').complete && "
                      "document.getElementById('slide').naturalWidth > 0", 10, "the image")
        page.navigate(f"{url}#step=3")
        at(page, 3)
        page.screenshot(tmp_path / "cdp-step-3.png")
    # `chromium --screenshot` of #step=0 and #step=3: different slides, different pictures
    shots = []
    for k in (0, 3):
        png = tmp_path / f"step-{k}.png"
        res = screenshot(f"{url}#step={k}", png, tmp_path / f"profile-{k}")
        assert png.exists() and png.stat().st_size > 10_000, res.stdout[-500:]
        shots.append(png.read_bytes())
    assert shots[0] != shots[1]


def test_slides_in_chinese(tmp_path, trace):
    """--lang zh draws the stage in Chinese, and the page says which language it is in."""
    out = tmp_path / "zh"
    res = ipcviz("export", "--trace", str(trace), "--svg", str(out), "--size", "100x30",
                 "--lang", "zh", timeout=90)
    assert res.returncode == 0, res.stderr
    snaps = read_trace(trace)
    first = flat(svg_lines(sorted(out.glob("step-*.svg"))[1]))
    assert f"第 {snaps[1].step}/{snaps[1].total_steps} 步" in first and "回放" in first
    assert '<html lang="zh">' in (out / "index.html").read_text(encoding="utf-8")


CHROME = ("LIVE", "◀ ▶", "▷ play", "1 step / 1.5 s", "space Step", "q Quit")  # the app's


def test_slides_show_no_live_app_chrome(trace_slides):
    """A slide is not the running app: no LIVE, no arrows, no play speed, no key bar."""
    for path in sorted(trace_slides.glob("step-*.svg")):
        text = flat(svg_lines(path)[1:])  # the window title names the lesson and step
        assert not [c for c in CHROME if c in text], path.name


def test_present_slides_give_the_room_to_the_objects(tmp_path, trace, trace_slides):
    """export --present: no code or log panel; the pipe's box stays on every slide."""
    out = tmp_path / "present"
    res = ipcviz("export", "--trace", str(trace), "--svg", str(out), "--size", "100x30",
                 "--present", timeout=90)
    assert res.returncode == 0, res.stderr
    plain = [flat(svg_lines(p)) for p in sorted(trace_slides.glob("step-*.svg"))]
    present = [flat(svg_lines(p)) for p in sorted(out.glob("step-*.svg"))]
    assert len(present) == len(plain)
    assert any("C code" in t and "strace" in t for t in plain)  # shown without --present
    assert not any("C code" in t or "strace" in t for t in present)
    assert all("pipe p" in t for t in present[1:])
    assert not [c for t in present for c in CHROME if c in t]


def test_export_warns_naming_each_step_whose_focus_did_not_fit(tmp_path):
    """A step of the bounded buffer touches the ring and three semaphores: at the smallest
    size they cannot all be whole on a slide, and stderr names the lesson and each such
    step; at 120x36 every focus fits and nothing is said."""
    trace = tmp_path / "bb.jsonl"
    trace.write_bytes(gzip.decompress(
        (ROOT / "tests" / "app" / "traces" / "sem-bounded-buffer.jsonl.gz").read_bytes()))
    small = ipcviz("export", "--trace", str(trace), "--svg", str(tmp_path / "s"),
                   "--size", "64x18", timeout=120)
    big = ipcviz("export", "--trace", str(trace), "--svg", str(tmp_path / "b"),
                 "--size", "120x36", timeout=120)
    assert small.returncode == 0 and big.returncode == 0, small.stderr + big.stderr
    warnings = [line for line in small.stderr.splitlines() if "warning:" in line]
    assert warnings, small.stderr
    for line in warnings:
        m = re.search(r"warning: sem/bounded-buffer step (\d+): ((object|process) \w+(, )?)+ "
                      r"not whole on the slide at 64x18", line)
        assert m, line
        # the slide of that step is there, and its step's focus is what was named
        assert (tmp_path / "s" / f"step-{int(m.group(1)):03d}.svg").exists()
    assert "warning:" not in big.stderr
