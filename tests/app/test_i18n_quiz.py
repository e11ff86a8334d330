"""Language (English / 中文, L) and quiz mode (k, --quiz) on the stage.

The quiz is tested on a REAL run of pipe/full-blocks-writer: the question comes up before
the step runs, and the answer shown is the one the kernel's state gave (Snapshot.answers).
Language and layout are tested on a recorded trace of the same lesson, whose header carries
the lesson's text as recorded (tests/app/record_i18n_trace.py), so the pixels do not move
when the lesson is edited.

Update the SVGs after an intended change of the look:
    pytest tests/app/test_i18n_quiz.py --snapshot-update
"""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len
from textual.content import Content

from ipcviz.app.app import IpcvizApp
from ipcviz.app.i18n import tr
from ipcviz.app.screens.picker import PickerScreen
from ipcviz.app.screens.quiz import QuizPanel, QuizScreen
from ipcviz.app.source import TraceRun
from ipcviz.app.widgets import Narration, PipeView, ProcessCard, StatusBar
from ipcviz.model.timeline import load_recording
from ipcviz.scenario import find, load
from ipcviz.scenario.catalog import Entry

from .helpers import HERE, step_to, sync, text_of, wait_for

TRACE = HERE / "traces" / "pipe-full-blocks-writer.jsonl"
LESSON = "pipe/full-blocks-writer"
LESSON_FILE = HERE.parents[1] / "scenarios" / "pipe" / "full-blocks-writer.toml"


def recorded():
    return load_recording(TRACE)


def trace_app(*, lang: str = "en", quiz: bool = False, entries=()) -> IpcvizApp:
    """The app on the recorded lesson: same pixels every time, no process started."""
    scenario, snaps = recorded()

    def factory(sc):
        run = TraceRun(sc, snaps)
        run.replay = False  # drawn as a live run, like the other snapshot tests
        return run

    app = IpcvizApp(run_factory=factory, entries=list(entries), scenario=scenario, lang=lang,
                    quiz=quiz)
    app.animation_level = "none"
    return app


def first_quiz_step(scenario) -> int:
    return next(s.number for s in scenario.steps if s.quiz is not None)


def line_with(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


async def ask(pilot, stage, quiz_step: int) -> None:
    """Step to just before the quiz step, then ask for it: the question comes up."""
    await step_to(pilot, quiz_step - 1, timeout=20)
    await pilot.press("space")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, QuizScreen), 10, "the question")


# -- quiz on a real run -------------------------------------------------------------------


@pytest.mark.kernel
@sync
async def test_quiz_asks_before_the_step_and_the_kernel_answers(runs):
    """The question is up before the step runs; a wrong guess is called wrong beside the
    kernel's answer; after a restart the right guess is called right."""
    # GIVEN the app in quiz mode on a real run of the lesson
    scenario = find(LESSON)
    q = first_quiz_step(scenario)
    quiz = scenario.steps[q - 1].quiz
    app = IpcvizApp(run_factory=runs, entries=[], scenario=scenario, quiz=True)
    async with app.run_test(size=(100, 30)) as pilot:
        stage = app.screen
        # WHEN the next step is the quiz step and space asks for it
        await ask(pilot, stage, q)
        run = runs.made[0]
        await pilot.pause(0.5)
        # THEN the question is shown and the step has NOT run: no new snapshot
        question = app.screen
        assert isinstance(question, QuizScreen)
        assert str(question.query_one("#quiz-question").content) == quiz.question["en"]
        assert len(run.timeline) == q and len(stage.history) == q
        assert stage.history[-1].step == q - 1
        # WHEN the class guesses a choice whose check is not "the writer blocks"
        wrong = next(i for i, c in enumerate(quiz.choices) if "blocked" not in c.when.text)
        await pilot.press("abcdef"[wrong])
        await wait_for(pilot, lambda: len(stage.history) == q + 1 and not stage.busy, 20,
                       "the quiz step")
        # THEN the real step ran, and the panel shows the kernel's answer beside the guess
        snap = run.timeline[-1]
        # (a live sample between the step and this line may stand in for the stepped
        # snapshot: it is a later look at the same step, so the step is what is compared)
        assert snap.step == q and stage.shown is not None and stage.shown.step == q
        right = [i for i, ok in enumerate(snap.answers) if ok]
        assert len(right) == 1 and wrong not in right  # the kernel decided, not the test
        panel = stage.query_one("#quiz", QuizPanel)
        assert panel.display
        shown = text_of(panel)
        answer_line = line_with(shown, quiz.choices[right[0]].text["en"])
        assert answer_line.startswith("✓") and tr("kernel_answer", "en") in answer_line
        guess_line = line_with(shown, quiz.choices[wrong].text["en"])
        assert guess_line.startswith("✗") and tr("your_guess", "en") in guess_line
        assert tr("wrong", "en") in shown and tr("right", "en") not in shown
        assert quiz.choices[right[0]].when.text in shown  # the evidence: the deciding check
        assert panel.has_class("-wrong")

        # WHEN the lesson restarts and the class guesses the kernel's answer this time
        await pilot.press("r")
        await wait_for(pilot, lambda: len(runs.made) == 2 and len(stage.history) == 1
                       and not stage.busy, 20, "the restarted run")
        assert not panel.display  # a fresh run: no answer on screen
        await ask(pilot, stage, q)
        assert len(runs.made[1].timeline) == q
        await pilot.press("abcdef"[right[0]])
        await wait_for(pilot, lambda: len(stage.history) == q + 1 and not stage.busy, 20,
                       "the quiz step again")
        snap = runs.made[1].timeline[-1]
        assert snap.answers[right[0]]
        shown = text_of(panel)
        assert "✓ right" in shown and tr("both", "en") in line_with(
            shown, quiz.choices[right[0]].text["en"])
        # and history over the quiz step shows question, guess and answer again
        await pilot.press("left")
        await pilot.pause()
        assert not panel.display  # the step before has no question
        await pilot.press("right")
        await pilot.pause()
        assert stage.shown is snap and panel.display and text_of(panel) == shown
        assert len(runs.made[1].timeline) == q + 1  # history: no step ran


@sync
async def test_play_pauses_at_the_question_and_escape_skips():
    """p in quiz mode stops at the question; escape runs the step without a guess."""
    scenario, _ = recorded()
    q = first_quiz_step(scenario)
    app = trace_app(quiz=True)
    async with app.run_test(size=(100, 30)) as pilot:
        stage = app.screen
        await wait_for(pilot, lambda: bool(stage.history) and not stage.busy)
        await pilot.press(*["plus"] * 4, "p")  # fastest
        await wait_for(pilot, lambda: isinstance(app.screen, QuizScreen), 15, "the question")
        assert not stage.playing and len(stage.history) == q
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(stage.history) == q + 1 and not stage.busy)
        assert "no guess" in text_of(stage.query_one("#quiz"))
        # k: quiz mode off hides the panel; the next quiz step runs without a question
        await pilot.press("k")
        await pilot.pause()
        assert not app.quiz and not stage.query_one("#quiz").display
        await pilot.press("space")
        await wait_for(pilot, lambda: len(stage.history) == q + 2 and not stage.busy)
        assert not isinstance(app.screen, QuizScreen)


# -- language -----------------------------------------------------------------------------


@sync
async def test_L_switches_the_language_live():
    """L: narration from Step.narration_in('zh'), the app's own labels in Chinese; L again
    switches back."""
    scenario, _ = recorded()
    q = first_quiz_step(scenario)
    app = trace_app()
    async with app.run_test(size=(100, 30)) as pilot:
        stage = app.screen
        await step_to(pilot, q)
        step = scenario.steps[q - 1]
        snap = stage.shown
        narration = stage.query_one(Narration)
        assert step.narration_in("en").strip() in text_of(narration)
        # WHEN L is pressed
        await pilot.press("L")
        await pilot.pause()
        # THEN the narration is the step's Chinese text, and the frame speaks Chinese
        assert app.lang == "zh"
        assert step.narration_in("zh") != step.narration_in("en")
        lines = text_of(narration).splitlines()
        # (Chinese is wrapped by hand, between characters: compare without the breaks)
        assert re.sub(r"\s", "", step.narration_in("zh")) in re.sub(r"\s", "", text_of(narration))
        assert lines[0].startswith(tr("step_head", "zh", step=q, total=len(scenario.steps)))
        status = str(stage.query_one(StatusBar).content)
        assert tr("step_of", "zh", step=q, total=len(scenario.steps)) in status
        assert tr("live", "zh") in status
        assert stage.query_one("#user").border_title == tr("user_space", "zh")
        assert stage.query_one("#kernel").border_title == tr("kernel_space", "zh")
        writer = snap.process_named("writer")
        assert writer.state == "blocked"
        card = text_of(stage.query_one("#proc-writer", ProcessCard))
        assert f"阻塞在 {writer.syscall}()（管道 p）" in card
        pipe = snap.object_named("p")
        view = text_of(stage.query_one("#obj-p", PipeView))
        assert f"{pipe.bytes} / {pipe.capacity} 字节" in view and "满" in view
        assert str(stage.query_one("#obj-p").border_title) == tr("pipe_title", "zh", oid="p")
        assert stage.active_bindings["space"].binding.description == "下一步"
        # and the help screen speaks Chinese too
        await pilot.press("question_mark")
        await pilot.pause()
        assert tr("keys", "zh") in {str(s.content) for s in app.screen.query("Static")}
        await pilot.press("escape")
        # WHEN L is pressed again: English, as before
        await pilot.press("L")
        await pilot.pause()
        assert app.lang == "en"
        assert step.narration_in("en").strip() in text_of(narration)
        assert f"step {q}/{len(scenario.steps)}" in str(stage.query_one(StatusBar).content)
        assert stage.query_one("#user").border_title == "USER SPACE · processes"
        assert stage.active_bindings["space"].binding.description == "Step"


@sync
async def test_picker_switches_language():
    """L in the picker: the intro, the group and the lesson's title in Chinese."""
    s = load(LESSON_FILE)
    entry = Entry(s.name, s.mechanism, s.title, s.summary, len(s.steps), LESSON_FILE)
    app = IpcvizApp(run_factory=lambda sc: None, entries=[entry])
    async with app.run_test(size=(100, 30)) as pilot:
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        await pilot.press("L")
        await wait_for(pilot, lambda: picker.zh_texts is not None, 10, "the Chinese titles")
        await pilot.pause()
        option = picker.query_one("#picker").get_option(s.name)
        assert s.title_in("zh") in str(option.prompt)
        assert tr("picker_keys", "zh") in str(picker.query_one("#picker-intro").content)


@sync
async def test_zh_at_80x24_every_card_fits():
    """At 80x24 in Chinese every card and the pipe panel show all their lines, each within
    the card's width (measured in terminal cells: a CJK character takes two)."""
    scenario, _ = recorded()
    app = trace_app(lang="zh", quiz=True)
    async with app.run_test(size=(80, 24)) as pilot:
        stage = app.screen
        await step_to(pilot, first_quiz_step(scenario) - 1)
        await pilot.press("space")
        await wait_for(pilot, lambda: isinstance(app.screen, QuizScreen))
        await pilot.press("b")
        await wait_for(pilot, lambda: not stage.busy and stage.shown.answers)
        await pilot.pause()
        pipe = stage.query_one("#obj-p", PipeView)
        chinese = [*stage.query(ProcessCard), stage.query_one("#quiz", QuizPanel),
                   pipe.query_one(".pipe--numbers"), pipe.query_one(".pipe--details")]
        for w in [*chinese, *pipe.query(".pipe--end")]:
            assert w.display
            width = w.content_region.width
            assert width > 0
            content = w.content if isinstance(w.content, Content) else Content(str(w.content))
            rows = [row for line in content.split("\n") for row in line.wrap(width)]
            assert all(cell_len(str(row)) <= width for row in rows), w
            assert len(rows) <= w.content_region.height, f"{w}: lines cut off"
            assert w.region.right <= stage.query_one("#stage").region.right
            if w in chinese:
                assert any(cell_len(str(r)) > len(str(r)) for r in rows), f"{w}: no Chinese"


# -- SVG snapshots ------------------------------------------------------------------------


async def at_quiz_question(pilot) -> None:
    stage = pilot.app.screen
    await step_to(pilot, first_quiz_step(stage.scenario) - 1)
    await pilot.press("space")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, QuizScreen))
    await pilot.pause()


async def at_quiz_answer(pilot) -> None:
    stage = pilot.app.screen
    await at_quiz_question(pilot)
    await pilot.press("a")
    await wait_for(pilot, lambda: not stage.busy and bool(stage.shown.answers)
                   and not stage.fitting)
    await pilot.pause()


async def at_blocked_step(pilot) -> None:
    stage = pilot.app.screen
    await step_to(pilot, first_quiz_step(stage.scenario))
    await pilot.pause()


def test_stage_in_chinese_100x30(snap_compare):
    """The stage in Chinese at 100x30, the writer asleep in write() on the full pipe."""
    assert snap_compare(trace_app(lang="zh"), terminal_size=(100, 30),
                        run_before=at_blocked_step)


def test_quiz_question(snap_compare):
    """Quiz mode: the question and its choices, asked before the step runs."""
    assert snap_compare(trace_app(quiz=True), terminal_size=(100, 30),
                        run_before=at_quiz_question)


def test_quiz_answer_80x24_chinese(snap_compare):
    """After the step: the kernel's answer beside the class's (wrong) guess, in Chinese."""
    assert snap_compare(trace_app(lang="zh", quiz=True), terminal_size=(80, 24),
                        run_before=at_quiz_answer)


def test_quiz_answer_100x30(snap_compare):
    """After the step: the kernel's answer, the guess, right or wrong, and the evidence."""
    assert snap_compare(trace_app(quiz=True), terminal_size=(100, 30),
                        run_before=at_quiz_answer)


# -- words, without an app ------------------------------------------------------------------


def test_states_and_wrapping_in_chinese():
    """Process states in Chinese, and Chinese wrapped by terminal cells, not characters."""
    from ipcviz.app import words
    from ipcviz.app.i18n import cells, wrap_cjk
    from ipcviz.model.snapshot import Exit, Process

    assert words.state_words(Process("c", 1, 0, "p", "exited", exit=Exit(None, "SIGPIPE")),
                             lang="zh") == "被 SIGPIPE 杀死"
    assert words.state_words(Process("c", 1, 0, "p", "zombie", exit=Exit(0)), lang="zh") \
        == "僵尸进程：已退出，退出码 0，尚未被回收"
    assert words.state_words(Process("c", 1, 0, "p", "sleeping"), lang="zh").startswith("睡眠")
    text = "再写入 PIPE_BUF 个字节。缓冲区已满，内核让写者在 write() 里睡眠。"
    for width in (12, 20, 37):
        lines = wrap_cjk(text, width).splitlines()
        assert all(cell_len(line) <= width for line in lines)
        assert not any(line.startswith(("。", "，")) for line in lines)
        assert re.sub(r"\s", "", "".join(lines)) == re.sub(r"\s", "", text)
    assert cells("管道 p") == cell_len("管道 p") == 6
