"""Text from a lesson or a trace is shown literally in the app, never parsed as markup.

A title `x [/]` crashed the app, `[@click=app.quit]` in a summary became a live action in
the command palette, and `buf[i]` lost its `[i]` (issue 14).  Every text of a hostile
lesson and trace carries the tag MARK; an instrument on Textual's and Rich's markup parsers
records every text with MARK that reaches them unescaped: none may."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pytest
from textual.content import Content

from ipcviz.app.app import IpcvizApp
from ipcviz.app.source import TraceRun
from ipcviz.model.timeline import read_trace
from ipcviz.scenario import loads
from ipcviz.scenario.catalog import Entry

from .helpers import SCENARIO_PATH, TRACE_PATH, step_to, sync, wait_for

MARK = "ZQX"
TITLE = f"{MARK} x [/] t[i]"
SUMMARY = f"{MARK} [@click=app.quit]go[/] s[i]"
NARRATION = f"{MARK} buf[i] [b]x[/b]"
CODE = f"int fds[2]; /* {MARK} [b]c[i] */"
QUESTION = f"{MARK} who [/] blocks?"
CHOICE = f"{MARK} [@click=app.quit]the parent[/]"


def _hostile_text() -> str:
    text = SCENARIO_PATH.read_text()
    text = text.replace('title = "A full pipe blocks its writer"', f'title = "{TITLE}"')
    text = re.sub(r'(?m)^summary = ".*"$',
                  lambda m: f'summary = "{SUMMARY} \\u001b]0;pwn\\u0007"', text)
    text = text.replace(f'title = "{TITLE}"', f'title = "{TITLE} \\u001b[2J"')
    text = text.replace('narration = "pipe() makes',
                        f'narration = "{NARRATION} \\u001b]0;pwn\\u0007 pipe() makes')
    text = text.replace('narration = "fork() copies', f'narration = "{NARRATION} fork() copies')
    text = text.replace('code = "int fds[2];', f'code = "{CODE} \\u001b[31m')
    text = text.replace('description = "writes', 'description = "\\u001b]0;pwn\\u0007 writes')
    text += (f'\n[step.quiz]\nquestion = "{QUESTION}"\n'
             f'[[step.quiz.choice]]\ntext = "{CHOICE}"\nwhen = "parent.state == exited"\n'
             f'[[step.quiz.choice]]\ntext = "{MARK} [b]no[/b]"\nwhen = "child.state == exited"\n')
    return text


def _hostile_snapshots(n: int):
    def hostile(s):
        procs = tuple(dataclasses.replace(p, wchan=f"{MARK}[u]w", syscall=p.syscall and
                                          f"{p.syscall}[i]{MARK}")
                      for p in s.processes)
        log = tuple(dataclasses.replace(e, call=f"{e.call} [i]{MARK}",
                                        detail=f"{MARK} d[/] \x1b[2J") for e in s.log)
        return dataclasses.replace(s, processes=procs, log=log, narration=NARRATION,
                                   call=f"{s.call or ''} c[i]{MARK}")
    return [hostile(s) for s in read_trace(TRACE_PATH)][:n]


@pytest.fixture
def parsed(monkeypatch):
    """Texts with MARK that reached a markup parser unescaped (a `[` without a `\\`)."""
    import rich.markup

    seen: list[str] = []
    real_content, real_rich = Content.from_markup.__func__, rich.markup.render

    def record(markup):
        if isinstance(markup, str) and MARK in markup and re.search(r"(?<!\\)\[", markup):
            seen.append(markup)

    def from_markup(cls, markup, **variables):
        record(markup)
        return real_content(cls, markup, **variables)

    def render(markup, *args, **kw):
        record(markup)
        return real_rich(markup, *args, **kw)

    monkeypatch.setattr(Content, "from_markup", classmethod(from_markup))
    monkeypatch.setattr(rich.markup, "render", render)
    return seen


def _screen_text(app) -> str:
    svg = app.export_screenshot()
    return html.unescape("".join(re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S))) \
        .replace("\xa0", " ")


def _app(tmp_path: Path, quiz: bool = False) -> tuple[IpcvizApp, object]:
    path = tmp_path / "pipe" / "hostile.toml"
    path.parent.mkdir()
    path.write_text(_hostile_text(), encoding="utf-8")
    sc = loads(path.read_text(), path, "pipe/hostile")
    snaps = _hostile_snapshots(len(sc.steps) + 1)
    entry = Entry(sc.name, sc.mechanism, sc.title, sc.summary, len(sc.steps), path)
    unavailable = Entry("pipe/other", "pipe", f"{MARK} [b]other[/b]", f"{MARK} [/]", 1, path,
                        unavailable=f"{MARK} needs [/] nothing")
    app = IpcvizApp(run_factory=lambda s: TraceRun(s, snaps), entries=[entry, unavailable],
                    scenario=None, quiz=quiz, problems=[f"skipped {MARK} [/] broken"])
    app.animation_level = "none"
    return app, sc


@sync
async def test_hostile_lesson_on_picker_palette_and_stage_is_shown_literally(tmp_path, parsed):
    # GIVEN a lesson and trace whose every text is markup  WHEN the app shows them all
    app, sc = _app(tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        picker = _screen_text(app)
        # THEN the picker shows the title and summary as written
        assert TITLE in picker and SUMMARY in picker
        assert "\x1b" not in picker and "\\x1b]0;pwn\\x07" in picker and "\\x1b[2J" in picker
        # the palette lists the lesson with its literal title; choosing it opens it, no quit
        await pilot.press("ctrl+p")
        await pilot.press(*"hostile")
        await wait_for(pilot, lambda: TITLE in _screen_text(app), what="the palette hit")
        assert "[@click=app.quit]go[/]" in _screen_text(app)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "StageScreen",
                       what="the stage")
        assert app.is_running
        await step_to(pilot, 2)
        stage = _screen_text(app)
        assert "buf[i] [b]x[/b]" in stage and "c[i]ZQX" in stage
        assert "\x1b" not in stage
        # an unavailable lesson's notification, and the run error dialog
        app.open_scenario("pipe/other")
        app.show_run_error(f"{MARK} [b]s[/b]", f"{MARK} broke [/] here")
        await pilot.pause()
        assert "broke [/] here" in _screen_text(app)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        assert "\x1b" not in _screen_text(app)
    assert app.return_code in (None, 0)
    assert parsed == []


@sync
async def test_hostile_quiz_is_shown_literally(tmp_path, parsed):
    # GIVEN the hostile lesson with its quiz on  WHEN the question comes  THEN literal
    app, sc = _app(tmp_path, quiz=True)
    async with app.run_test(size=(140, 45)) as pilot:
        app.open_scenario(sc.name)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "StageScreen",
                       what="the stage")
        stage = app.screen
        await wait_for(pilot, lambda: bool(stage.history) and not stage.busy, what="start")
        for _ in range(len(sc.steps)):
            await pilot.press("space")
            await pilot.pause(0.05)
            if type(app.screen).__name__ == "QuizScreen":
                break
        await wait_for(pilot, lambda: type(app.screen).__name__ == "QuizScreen",
                       what="the quiz")
        text = _screen_text(app)
        assert "who [/] blocks?" in text and "[@click=app.quit]the parent[/]" in text
        assert "\x1b" not in text
        await pilot.press("a")
        await pilot.pause(0.2)
    assert parsed == []
