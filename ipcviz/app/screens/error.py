"""A run could not go on: say why in one sentence and offer the ways forward."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ...textsafe import printable
from ..i18n import lang_of, tr


class RunErrorScreen(ModalScreen[str]):
    """Dismissed with 'restart', 'picker', 'quit' or 'stay'."""

    BINDINGS = [
        Binding("escape", "choose('stay')", "Close"),
        Binding("r", "choose('restart')", "Restart"),
        Binding("q", "choose('quit')", "Quit"),
    ]

    def __init__(self, scenario: str, message: str, ended: str = "err_ended") -> None:
        super().__init__()
        self.scenario = scenario
        self.message = message
        self.ended = ended  # what became of the processes (a watched program: nothing)

    def compose(self) -> ComposeResult:
        lang = lang_of(self)  # the reason itself is the engine's, in English
        with Vertical(id="error-box") as box:
            box.border_title = tr("err_title", lang)
            yield Static(Content.assemble((tr("err_scenario", lang), ""),
                                          (printable(self.scenario), "b"), ":\n",
                                          (printable(self.message, multiline=True),
                                           "$text-error")),
                         id="error-text")
            yield Static(Content.styled(tr(self.ended, lang), "$text-muted"))
            with Horizontal(id="error-buttons"):
                yield Button(tr("err_restart", lang), id="restart", variant="primary")
                yield Button(tr("err_scenarios", lang), id="picker")
                yield Button(tr("err_close", lang), id="stay")
                yield Button(tr("err_quit", lang), id="quit", variant="error")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "stay")

    def action_choose(self, what: str) -> None:
        self.dismiss(what)
