"""Start: every scenario, grouped by mechanism, with its title, summary and step count."""

from __future__ import annotations

from itertools import groupby

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ...scenario.catalog import Entry
from ..widgets import TooSmall

MECHANISM_TITLES = {
    "pipe": "Pipes",
    "fifo": "FIFOs (named pipes)",
    "signal": "Signals",
    "mq": "Message queues",
    "msg": "Message queues",
    "shm": "Shared memory",
    "sem": "Semaphores",
}


class PickerScreen(Screen):
    """Choose a scenario to put on stage."""

    BINDINGS = [
        Binding("enter", "open", "Open", show=True),
        Binding("ctrl+p", "command_palette", "Search", show=True),
    ]

    def __init__(self, entries: list[Entry], problems: list[str] | None = None) -> None:
        super().__init__()
        self.entries = entries
        self.problems = problems or []

    def compose(self) -> ComposeResult:
        yield TooSmall()
        yield Static(
            Content.assemble(
                ("ipcviz", "b $text-accent"),
                ": Unix IPC on the real kernel. Pick a scenario: its processes run for real, "
                "and the stage draws what the kernel says they do.\n",
                ("↑↓ choose · enter opens · ctrl+p finds a scenario by name or words · ? help",
                 "$text-muted")),
            id="picker-intro")
        options: list[Option | None] = []
        ordered = sorted(self.entries, key=lambda e: e.mechanism)
        for mechanism, group in groupby(ordered, key=lambda e: e.mechanism):
            group = list(group)
            if options:
                options.append(None)
            title = MECHANISM_TITLES.get(mechanism, mechanism)
            options.append(Option(Content.styled(f"{title}  ({len(group)})", "b $text-secondary"),
                                  disabled=True, id=f"group-{mechanism}"))
            for e in group:
                options.append(Option(_entry_prompt(e), id=e.name,
                                      disabled=bool(e.unavailable)))
        if not self.entries:
            options.append(Option("No scenarios found.", disabled=True))
        yield OptionList(*options, id="picker")
        if self.problems:
            yield Static(Content.styled("\n".join(self.problems), "$text-error"),
                         id="picker-problems")
        yield Footer()

    def on_mount(self) -> None:
        picker = self.query_one("#picker", OptionList)
        picker.focus()
        for i in range(picker.option_count):
            if not picker.get_option_at_index(i).disabled:
                picker.highlighted = i
                break

    @on(OptionList.OptionSelected, "#picker")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_scenario(event.option.id)

    def action_open(self) -> None:
        picker = self.query_one("#picker", OptionList)
        if picker.highlighted is not None:
            picker.action_select()


def _entry_prompt(e: Entry) -> Content:
    return Content.assemble(
        (e.title, "b"), "  ", (e.name, "$text-muted"), "  ",
        (f"{e.steps} steps", "$text-secondary"), "\n",
        (f"  {e.summary}" if e.summary else "", "italic"),
        (f"\n  unavailable here: {e.unavailable}" if e.unavailable else "", "$text-warning"))
