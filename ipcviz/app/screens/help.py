"""? : the keys, and how to read the stage."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("space  →", "run the next real step (at the head) or move forward in history"),
    ("←", "step back in history: earlier snapshots redraw exactly as they were"),
    ("home / end", "first snapshot / back to the live head"),
    ("p", "play / pause"),
    ("+  −", "play faster / slower"),
    ("r", "restart with fresh processes (the old ones are killed)"),
    ("s", "sources: where each value comes from, and a command to check it yourself"),
    ("n  N", "next / previous scenario"),
    ("c", "show / hide the code and log panel"),
    ("t", "dark / light theme (light reads better on a projector)"),
    ("ctrl+p", "command palette: find a scenario by name or words of its title"),
    ("escape", "back to the list of scenarios"),
    ("?", "this help"),
    ("q", "quit (every process of the run is ended)"),
]

LEGEND = [
    ("▶ running", "b $text-success", "on a CPU or ready to run (stat R)"),
    ("■ blocked in write() on pipe p", "b $text-error",
     "asleep inside a system call of the scenario: the kernel's wchan and syscall say so"),
    ("○ sleeping (idle between steps)", "$text-muted",
     "asleep waiting for ipcviz to send its next step"),
    ("‖ stopped", "b $text-warning", "stopped by a signal (stat T)"),
    ("☠ zombie", "b $text-accent", "exited; its parent has not called wait() yet (stat Z)"),
    ("✕ exited with code N / killed by SIG…", "$text-muted",
     "gone from /proc: its parent reaped it"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss_help", "Close", show=True),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "ipcviz help"
            box.border_subtitle = "escape closes"
            yield Static(Content.styled("Keys", "b $text-accent"))
            with Grid(id="help-keys"):
                for key, what in KEYS:
                    yield Static(Content.styled(key, "b"), classes="help-key")
                    yield Static(what)
            yield Static(self._reading())

    def _reading(self) -> Content:
        rows: list[Content] = [Content(""), Content.styled("Reading the stage", "b $text-accent")]
        rows.append(Content(
            "Top: user space, a card per process with its PID, parent, state and fd table. "
            "Below: kernel space, each kernel object (a pipe: its buffer, bytes/capacity, its "
            "open read and write ends as process:fd, who sleeps on it). Nothing is simulated: "
            "every value was read from the kernel (/proc, ioctl, fcntl) right after the step; "
            "press s to see where each one came from."))
        rows.append(Content(""))
        for text, style, meaning in LEGEND:
            rows.append(Content.assemble((text, style), ("  " + meaning, "$text-muted")))
        rows += [Content(""), Content.styled(
            "The log on the side prints each call like strace: '<unfinished ...>' is a call "
            "that blocked; '<... read resumed>' is its return when another step woke it.",
            "italic")]
        return Content("\n").join(rows)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
