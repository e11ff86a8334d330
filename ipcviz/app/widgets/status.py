"""The line at the top of the stage: which scenario, which step, live or history, play speed.

Drawn from the stage's Player alone (bound with data_bind): one immutable state in, one line
out, redrawn when the Player changes or the language does.
"""

from __future__ import annotations

import functools

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from ...model.player import SPEEDS, Player
from ..access import ipcviz_app
from ..i18n import tr
from .lines import update_static


@functools.cache
def _arrows() -> Content:
    return Content.from_markup("[@click=screen.back]◀[/] [@click=screen.forward]▶[/]  ")


@functools.cache
def _play_link(label: str) -> Content:
    return Content.from_markup("[@click=screen.play]$play[/]", play=label)


def speed_label(speed: int, lang: str) -> str:
    return SPEEDS[speed][1] if lang == "en" else tr(f"speed{speed}", lang)


def slide_line(name: str, player: Player, lang: str) -> Content:
    """The status line on an exported slide: the lesson and the step, nothing to click
    (no LIVE, no arrows, no play speed: a slide is not the running app); REPLAY when drawn
    from a trace file rather than a run made for these slides."""
    parts: list[Content | tuple[str, str] | str] = [
        (name, "b"), "  ", (tr("step_of", lang, step=player.step, total=player.total), "b")]
    if player.replay:
        parts += ["  ", (tr("replay", lang), "b $text-warning")]
    return Content.assemble(*parts)


def status_line(name: str, player: Player, lang: str) -> Content:
    """The status line of `player` watching the scenario `name`, in `lang`."""
    parts: list[Content | tuple[str, str] | str] = [(name, "b"), "  "]
    if player.in_history:
        parts += [(tr("history", lang, step=player.step, total=player.total), "b reverse"),
                  tr("live_waits", lang, head=player.head_step)]
    else:
        parts += [(tr("step_of", lang, step=player.step, total=player.total), "b"), "  "]
        # A replay draws recorded snapshots: nothing on screen is live, say so.
        parts += [(tr("replay", lang), "b $text-warning") if player.replay
                  else (tr("live", lang), "b $text-success")]
        if player.finished:
            parts += [(tr("finished", lang), "$text-muted")]
        parts += ["  "]
    if player.note:  # why a traced run stopped: before the controls, read first
        parts += [(player.note, "b $text-warning"), "  "]
    parts += [_arrows()]
    parts += [_play_link(tr("playing" if player.playing else "play", lang)),
              f"  {speed_label(player.speed, lang)}"]
    if player.quiz:
        parts += [(tr("quiz_mode", lang), "b $text-accent")]
    if player.asking:
        parts += [(tr("asking", lang), "$text-warning")]
    elif player.busy:
        parts += [(tr("busy", lang), "$text-warning")]
    if player.queued:
        parts += [(tr("queued", lang, n=player.queued), "b $text-warning")]
    if player.sources:
        parts += [(tr("sources_shown", lang), "$text-accent")]
    return Content.assemble(*parts)


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; background: $panel; padding: 0 1; }
    StatusBar.-history { background: $warning 40%; }
    """

    player: reactive[Player] = reactive(Player, init=False)

    def __init__(self, name: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario_name = name

    def on_mount(self) -> None:
        self.redraw()

    def watch_player(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Draw the line again (the Player changed, or the app's language did)."""
        player = self.player
        self.set_class(player.in_history, "-history")
        app = ipcviz_app(self)
        line = slide_line if app.slides else status_line
        update_static(self, line(self.scenario_name, player, app.lang),
                      fixed=True)  # always one row
