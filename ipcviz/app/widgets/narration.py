"""What the lecturer would say at this step, the call that ran, and the checks of the step."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ...model.snapshot import BLOCKED, FAILED, KILLED, Snapshot
from ...textsafe import printable
from .. import words
from ..i18n import tr, wrap_cjk
from .lines import update_static


class Narration(Static):
    DEFAULT_CSS = """
    Narration { height: auto; padding: 0 1; }
    """

    _shown: tuple | None = None

    def on_resize(self) -> None:
        if self._shown is not None and self._shown[2] != "en":
            self.show(*self._shown)  # Chinese is wrapped by hand: again at the new width

    def show(self, snapshot: Snapshot, title: str, lang: str = "en",
             narration: str | None = None) -> None:
        """`narration`: the step's text in `lang` (the snapshot's own, English, if None)."""
        self._shown = (snapshot, title, lang, narration)
        lines: list[Content] = []
        if snapshot.step == 0:
            head = Content.styled(tr("before_step_1", lang, title=printable(title)), "b")
        else:
            head = Content.assemble(
                (tr("step_head", lang, step=snapshot.step, total=snapshot.total_steps), "b"),
                (words.step_call_text(snapshot, lang), _outcome_style(snapshot)))
        lines.append(head)
        text = snapshot.narration if narration is None else narration
        if text:
            text = printable(text.strip(), multiline=True)  # the lesson's words, not markup
            if lang != "en":  # break between Chinese characters, not only at spaces
                text = wrap_cjk(text, self.content_region.width)
            lines.append(Content(text))
        checks: list[Content] = []
        for c in snapshot.checks:
            mark, style = ("✓", "$text-success") if c.ok else ("✗", "b $text-error")
            checks.append(Content.assemble((f"{mark} ", style), (printable(c.expect), style),
                                           ("" if c.ok else tr("saw", lang, value=repr(c.observed)),
                                            "$text-error")))
        if checks:
            lines.append(Content.assemble((tr("checked", lang), "$text-muted"),
                                          Content("   ").join(checks)))
        update_static(self, Content("\n").join(lines))


def _outcome_style(snapshot: Snapshot) -> str:
    return {BLOCKED: "b $text-error", FAILED: "b $text-warning",
            KILLED: "b $text-error"}.get(snapshot.outcome or "", "b $text-accent")
