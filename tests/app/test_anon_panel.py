"""The anonymous-mapping panel on a real run of shm/shared-vs-private: each row is what the
Snapshot says of one process (its value, and its pages in /proc/PID/smaps)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipcviz.app.app import IpcvizApp
from ipcviz.app.widgets.shm import AnonView
from ipcviz.scenario import load

from .helpers import catalog_entries, step_to, sync, text_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.kernel
@sync
async def test_anon_panels_draw_one_page_shared_and_a_private_copy_each(runs):
    """After the child's two stores: the MAP_SHARED panel shows 42 in both rows with
    Shared_Dirty, the MAP_PRIVATE one 7 for the parent, 42 for the child, each its own copy."""
    # GIVEN the app on a real run of the lesson
    app = IpcvizApp(run_factory=runs, entries=catalog_entries(),
                    scenario=load(ROOT / "scenarios/shm/shared-vs-private.toml"))
    async with app.run_test(size=(200, 60)) as pilot:
        # WHEN the child has stored 42 into both mappings
        await step_to(pilot, 7, timeout=30)
        snap = runs.made[0].timeline[-1]
        s_view = app.screen.query_one("#obj-s", AnonView)
        c_view = app.screen.query_one("#obj-c", AnonView)
        s_text, c_text = text_of(s_view), text_of(c_view)
        # THEN the subtitles name the kind the kernel's smaps line says
        assert "MAP_SHARED" in str(s_view.border_subtitle)
        assert "MAP_PRIVATE" in str(c_view.border_subtitle)
        # AND each row is the Snapshot's row for that process
        s, c = snap.object_named("s"), snap.object_named("c")
        for o, text in ((s, s_text), (c, c_text)):
            for name, rss, _sd, _pd, _an, value in o.rows():
                row = next(line for line in text.splitlines() if line.startswith(name))
                assert row.split()[1:3] == [str(value), str(rss)], row
        assert s.values == ("parent=42", "child=42") and "one page, mapped twice" in s_text
        assert c.values == ("parent=7", "child=42") and c_text.count("its own copy") == 2
