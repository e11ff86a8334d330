"""? : the keys, and how to read the stage (in the app's language; L switches it here too)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ..i18n import HELP_KEYS, HELP_LEGEND, lang_of, localize_bindings, tr


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss_help", "Close", show=True),
    ]

    def compose(self) -> ComposeResult:
        lang = lang_of(self)
        with VerticalScroll(id="help-box") as box:
            box.border_title = tr("help_title", lang)
            box.border_subtitle = tr("help_close", lang)
            yield Static(Content.styled(tr("keys", lang), "b $text-accent"))
            with Grid(id="help-keys"):
                for key, en, zh in HELP_KEYS:
                    yield Static(Content.styled(key, "b"), classes="help-key")
                    yield Static(zh if lang == "zh" else en)
            yield Static(self._reading(lang))

    def on_mount(self) -> None:
        localize_bindings(self, lang_of(self))

    def relabel(self) -> None:
        """The language changed (L): draw the help again in it."""
        localize_bindings(self, lang_of(self))
        self.refresh(recompose=True)

    def _reading(self, lang: str) -> Content:
        rows: list[Content] = [Content(""), Content.styled(tr("reading", lang),
                                                           "b $text-accent")]
        rows.append(Content(tr("reading_text", lang)))
        rows.append(Content(""))
        for mark, style, en, zh, meaning, meaning_zh in HELP_LEGEND:
            text, what = (zh, meaning_zh) if lang == "zh" else (en, meaning)
            rows.append(Content.assemble((f"{mark} {text}", style), ("  " + what, "$text-muted")))
        rows += [Content(""), Content.styled(tr("log_text", lang), "italic"),
                 Content(""), Content.styled(tr("quiz_text", lang), "italic")]
        return Content("\n").join(rows)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
