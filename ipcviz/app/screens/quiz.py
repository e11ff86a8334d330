"""Quiz mode: ask the class before a step, then let the kernel answer.

QuizScreen is the question, asked before the step runs (a modal over the stage, which still
shows the world as it is before the step): a, b, c… or a click records the class's guess,
escape skips.  QuizPanel, over the narration, shows the answer once the step has run: the
choice(s) whose `when` the kernel's state made true (Snapshot.answers), the guess beside
them, right or wrong, and the evidence — each deciding check with the value observed.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...model.checks import observe
from ...model.snapshot import Snapshot
from ...scenario.model import Choice, Quiz, Step
from ..i18n import LETTERS, lang_of, localize_bindings, pick, tr
from ..literal import literal
from ...textsafe import printable

NOT_ASKED = "not asked"  # a quiz step run while quiz mode was off: no guess to show


def choice_content(n: int, choice: Choice, lang: str) -> Content:
    return Content.assemble((f"({LETTERS[n]}) ", "b"), literal(pick(choice.text, lang)))


class QuizScreen(ModalScreen[int | None]):
    """The question before a step: dismisses with the chosen index, or None (skipped)."""

    DEFAULT_CSS = """
    /* at the bottom: the cards and the kernel's objects above stay in sight while the
       class thinks (the code and log panels are what it covers) */
    QuizScreen { align: center bottom; }
    QuizScreen > #quiz-box {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $accent; border-title-color: $text-accent; border-title-style: bold;
        border-subtitle-color: $text-muted;
        background: $surface; padding: 0 1;
    }
    QuizScreen #quiz-question { height: auto; margin: 0 0 1 0; text-style: bold; }
    QuizScreen #quiz-choices { height: auto; max-height: 14; border: none; padding: 0; }
    QuizScreen #quiz-choices > .option-list--option { padding: 0 1; }
    QuizScreen #quiz-keys { height: auto; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "skip", "Skip"),
        *(Binding(letter, f"pick({n})", f"({letter})", show=False)
          for n, letter in enumerate(LETTERS[:6])),
    ]

    def __init__(self, step: Step) -> None:
        super().__init__()
        assert step.quiz is not None
        self.step = step
        self.quiz: Quiz = step.quiz

    def compose(self) -> ComposeResult:
        with Vertical(id="quiz-box"):
            yield Static(id="quiz-question")
            yield OptionList(id="quiz-choices")
            yield Static(id="quiz-keys")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#quiz-choices", OptionList).focus()

    def relabel(self) -> None:
        """Draw the question in the app's language (L switches it while the class thinks)."""
        lang = lang_of(self)
        localize_bindings(self, lang)
        box = self.query_one("#quiz-box")
        box.border_title = tr("quiz_title", lang, step=self.step.number)
        self.query_one("#quiz-question", Static).update(literal(pick(self.quiz.question, lang)))
        choices = self.query_one("#quiz-choices", OptionList)
        highlighted = choices.highlighted
        choices.clear_options()
        choices.add_options([Option(choice_content(n, c, lang), id=f"choice-{n}")
                             for n, c in enumerate(self.quiz.choices)])
        choices.highlighted = highlighted
        letters = ", ".join(LETTERS[:len(self.quiz.choices)])
        self.query_one("#quiz-keys", Static).update(tr("quiz_keys", lang, letters=letters))

    @on(OptionList.OptionSelected, "#quiz-choices")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def action_pick(self, n: int) -> None:
        if 0 <= n < len(self.quiz.choices):
            self.dismiss(n)

    def action_skip(self) -> None:
        self.dismiss(None)


def evidence(choice: Choice, snapshot: Snapshot, lang: str) -> Content:
    """'writer.state == blocked (seen: blocked)': the check that decided a choice."""
    when = choice.when
    value = observe(snapshot, {}, *when.left)  # what the snapshot itself says
    seen = tr("seen", lang, value=value) if value is not None else ""
    return Content.assemble(literal(when.text).stylize("b"), (printable(seen), "$text-muted"))


def _choice_line(n: int, c: Choice, is_answer: bool, is_guess: bool, answered: bool,
                 lang: str) -> Content:
    """One choice of a quiz: ✓ the kernel's answer, ✗ a wrong guess once answered."""
    mark, style = "  ", ""
    if is_answer:
        mark, style = "✓ ", "b $text-success"
    elif is_guess and answered:
        mark, style = "✗ ", "b $text-error"
    tag = ""
    if is_answer and is_guess:
        tag = tr("both", lang)
    elif is_answer:
        tag = tr("kernel_answer", lang)
    elif is_guess:
        tag = tr("your_guess", lang)
    text = choice_content(n, c, lang)
    if style:
        text = text.stylize_before(style)
    return Content.assemble((mark, style), text, (f"  {tag}" if tag else "", style or "b"))


class QuizPanel(Static):
    """Over the narration: a quiz step's question, the class's guess, the kernel's answer."""

    DEFAULT_CSS = """
    QuizPanel {
        display: none; height: auto; padding: 0 1;
        background: $boost; border-left: thick $accent;
        border-bottom: solid $accent 50%;
    }
    QuizPanel.-shown { display: block; }
    QuizPanel.-right { border-left: thick $success; }
    QuizPanel.-wrong { border-left: thick $error; }
    """

    def hide(self) -> None:
        self.set_class(False, "-shown")

    def show_pending(self, step: Step, guess: int | None, lang: str) -> None:
        """The guess is in, the step is running: the kernel has not answered yet."""
        self._draw(step, guess, None, lang)

    def show_answer(self, step: Step, guess: int | str | None, snapshot: Snapshot,
                    lang: str) -> None:
        """`guess`: the chosen index, None (skipped) or NOT_ASKED."""
        self._draw(step, guess, snapshot, lang)

    def _draw(self, step: Step, guess, snapshot: Snapshot | None, lang: str) -> None:
        quiz = step.quiz
        assert quiz is not None
        answers = snapshot.answers if snapshot is not None else ()
        right = [n for n, ok in enumerate(answers) if ok]
        lines: list[Content] = [Content.assemble(
            (tr("quiz_head", lang, step=step.number), "b $text-accent"),
            (pick(quiz.question, lang), "b"))]
        for n, c in enumerate(quiz.choices):
            lines.append(_choice_line(n, c, n in right, guess == n, snapshot is not None,
                                      lang))
        verdict: list[Content | tuple[str, str] | str] = []
        ok = None
        if snapshot is None:
            verdict.append((tr("answer_pending", lang), "italic $text-warning"))
        else:
            if isinstance(guess, int):
                ok = guess in right
                verdict += [(tr("right" if ok else "wrong", lang),
                             "b $text-success" if ok else "b $text-error"), " · "]
            else:
                verdict += [(tr("no_guess" if guess is None else "not_asked", lang),
                             "$text-muted"), " · "]
            if right:
                verdict.append((tr("evidence", lang), "$text-muted"))
                shown = right + ([guess] if isinstance(guess, int) and not ok else [])
                verdict.append(Content("; ").join(
                    Content.assemble((f"({LETTERS[n]}) ", "$text-muted"),
                                     evidence(quiz.choices[n], snapshot, lang))
                    for n in shown))
            else:
                verdict.append((tr("no_answer", lang), "$text-warning"))
        lines.append(Content.assemble(*verdict))
        self.set_class(ok is True, "-right")
        self.set_class(ok is False, "-wrong")
        self.set_class(True, "-shown")
        self.update(Content("\n").join(lines))
