"""The picker and n/N follow the course (issue 15, item 5): a teaching order in sections."""

from __future__ import annotations

from textual.widgets import OptionList

from ipcviz.app.app import IpcvizApp
from ipcviz.app.screens import PickerScreen, StageScreen
from ipcviz.scenario import find
from ipcviz.scenario.catalog import scan
from ipcviz.scenario.course import COURSE_ENV, load_course, ordered
from ipcviz.scenario.catalog import names, shipped_dir

from .helpers import TraceRuns, sync, wait_for


def course_entries():
    entries, broken = scan()
    assert not broken
    return ordered(entries)


def options(app) -> list[tuple[str | None, str]]:
    picker = app.screen.query_one("#picker", OptionList)
    out = []
    for i in range(picker.option_count):
        opt = picker.get_option_at_index(i)
        out.append((opt.id, str(opt.prompt).split("  ")[0]))
    return out


@sync
async def test_picker_lists_the_sections_in_teaching_order(monkeypatch):
    """Pipes first, fork-and-close first among them; then FIFO, signal, queue, shm, sem."""
    monkeypatch.delenv(COURSE_ENV, raising=False)
    app = IpcvizApp(run_factory=TraceRuns(), entries=course_entries())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen), 5, "the picker")
        got = options(app)
        groups = [title for ident, title in got if ident and ident.startswith("group-")]
        assert groups == ["Pipes", "FIFOs (named pipes)", "Signals", "Message queues",
                          "Shared memory", "Semaphores", "Classic problems", "Unix sockets"]
        lessons = [ident for ident, _ in got if ident and not ident.startswith("group-")]
        course = load_course(shipped_dir() / "course.toml", names())
        assert lessons == course.names()
        assert lessons[0] == "pipe/fork-and-close" and lessons[1] == "pipe/eof"
        # the first lesson is the one highlighted: Enter opens fork-and-close
        picker = app.screen.query_one("#picker", OptionList)
        assert picker.get_option_at_index(picker.highlighted).id == "pipe/fork-and-close"
        app.lang = "zh"
        app.screen.relabel()
        await pilot.pause()
        assert next(t for i, t in options(app) if i and i.startswith("group-")) == "管道 pipe"


@sync
async def test_n_and_N_follow_the_course(monkeypatch):
    """n from the last pipe lesson opens the first FIFO lesson; N from the first lesson
    wraps to the last of the course."""
    monkeypatch.delenv(COURSE_ENV, raising=False)
    runs = TraceRuns()
    app = IpcvizApp(run_factory=runs, entries=course_entries(),
                    scenario=find("pipe/fork-and-close"))
    app.animation_level = "none"
    async with app.run_test(size=(100, 30)) as pilot:
        seen = []

        async def now_on(count: int) -> str:
            await wait_for(pilot, lambda: isinstance(app.screen, StageScreen)
                           and len(runs.made) == count, 10, f"lesson {count}")
            seen.append(app.screen.scenario.name)
            return seen[-1]

        assert await now_on(1) == "pipe/fork-and-close"
        await pilot.press("n")
        assert await now_on(2) == "pipe/eof"
        await pilot.press("n")
        assert await now_on(3) == "pipe/empty-blocks-reader"
        await pilot.press("N")
        await pilot.pause()
        assert await now_on(4) == "pipe/eof"
        await pilot.press("N")
        assert await now_on(5) == "pipe/fork-and-close"
        await pilot.press("N")
        # wraps to the last lesson of the course (whichever section comes last)
        assert await now_on(6) == course_entries()[-1].name
        await pilot.press("n")
        assert await now_on(7) == "pipe/fork-and-close"
        await pilot.press("q")
    assert all(r.closed for r in runs.made)


@sync
async def test_custom_course_sections_in_the_picker(tmp_path, monkeypatch):
    course = tmp_path / "c.toml"
    course.write_text('[[section]]\ntitle = "[b]Week 1[/b]"\ntitle_zh = "第一周"\n'
                      'lessons = ["signal/handler", "pipe/eof"]\n', encoding="utf-8")
    monkeypatch.setenv(COURSE_ENV, str(course))
    app = IpcvizApp(run_factory=TraceRuns(), entries=course_entries())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen), 5, "the picker")
        got = [(i, t) for i, t in options(app) if i]
        assert [i for i, _ in got] == ["group-s0", "signal/handler", "pipe/eof"]
        assert got[0][1] == "[b]Week 1[/b]"  # literal text, not markup
