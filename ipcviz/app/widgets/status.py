"""The line at the top of the stage: which scenario, which step, live or history, play speed."""

from __future__ import annotations

import functools

from textual.content import Content
from textual.widgets import Static

from ..i18n import tr
from .lines import update_static


@functools.cache
def _arrows() -> Content:
    return Content.from_markup("[@click=screen.back]◀[/] [@click=screen.forward]▶[/]  ")


@functools.cache
def _play_link(label: str) -> Content:
    return Content.from_markup("[@click=screen.play]$play[/]", play=label)


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; background: $panel; padding: 0 1; }
    StatusBar.-history { background: $warning 40%; }
    """

    _said: tuple | None = None

    def show(self, *, name: str, step: int, total: int, viewing: int, head: int,
             playing: bool, speed: str, busy: bool, finished: bool, sources: bool,
             replay: bool = False, lang: str = "en", quiz: bool = False,
             asking: bool = False) -> None:
        said = (name, step, total, viewing, head, playing, speed, busy, finished, sources,
                replay, lang, quiz, asking)
        if said == self._said:
            return  # the stage asks again after each step; nothing to build then
        self._said = said
        history = viewing < head
        self.set_class(history, "-history")
        parts: list[Content | tuple[str, str] | str] = [(name, "b"), "  "]
        if history:
            parts += [(tr("history", lang, viewing=viewing, head=head), "b reverse"),
                      tr("live_waits", lang)]
        else:
            parts += [(tr("step_of", lang, step=step, total=total), "b"), "  "]
            # A replay draws recorded snapshots: nothing on screen is live, say so.
            parts += [(tr("replay", lang), "b $text-warning") if replay
                      else (tr("live", lang), "b $text-success")]
            if finished:
                parts += [(tr("finished", lang), "$text-muted")]
            parts += ["  "]
        parts += [_arrows()]
        parts += [_play_link(tr("playing" if playing else "play", lang)), f"  {speed}"]
        if quiz:
            parts += [(tr("quiz_mode", lang), "b $text-accent")]
        if asking:
            parts += [(tr("asking", lang), "$text-warning")]
        elif busy:
            parts += [(tr("busy", lang), "$text-warning")]
        if sources:
            parts += [(tr("sources_shown", lang), "$text-accent")]
        update_static(self, Content.assemble(*parts), fixed=True)  # always one row
