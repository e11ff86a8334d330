"""A run could not go on: say why in one sentence and offer the ways forward."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class RunErrorScreen(ModalScreen[str]):
    """Dismissed with 'restart', 'picker', 'quit' or 'stay'."""

    BINDINGS = [
        Binding("escape", "choose('stay')", "Close"),
        Binding("r", "choose('restart')", "Restart"),
        Binding("q", "choose('quit')", "Quit"),
    ]

    def __init__(self, scenario: str, message: str) -> None:
        super().__init__()
        self.scenario = scenario
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box") as box:
            box.border_title = "The run stopped"
            yield Static(Content.assemble(("Scenario ", ""), (self.scenario, "b"), ":\n",
                                          (self.message, "$text-error")), id="error-text")
            yield Static(Content.styled(
                "Its processes have been ended. What is on screen is the last thing the "
                "kernel said.", "$text-muted"))
            with Horizontal(id="error-buttons"):
                yield Button("Restart (r)", id="restart", variant="primary")
                yield Button("Scenarios", id="picker")
                yield Button("Close", id="stay")
                yield Button("Quit (q)", id="quit", variant="error")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "stay")

    def action_choose(self, what: str) -> None:
        self.dismiss(what)
