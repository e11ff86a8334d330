"""The line at the top of the stage: which scenario, which step, live or history, play speed."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; background: $panel; padding: 0 1; }
    StatusBar.-history { background: $warning 40%; }
    """

    def show(self, *, name: str, step: int, total: int, viewing: int, head: int,
             playing: bool, speed: str, busy: bool, finished: bool, sources: bool,
             replay: bool = False) -> None:
        history = viewing < head
        self.set_class(history, "-history")
        parts: list[Content | tuple[str, str] | str] = [(name, "b"), "  "]
        if history:
            parts += [(f"HISTORY {viewing}/{head}", "b reverse"), " live waits at the head  "]
        else:
            parts += [(f"step {step}/{total}", "b"), "  "]
            # A replay draws recorded snapshots: nothing on screen is live, say so.
            parts += [("REPLAY", "b $text-warning") if replay else ("LIVE", "b $text-success")]
            if finished:
                parts += [("  finished", "$text-muted")]
            parts += ["  "]
        parts += [Content.from_markup("[@click=screen.back]◀[/] [@click=screen.forward]▶[/]  ")]
        if playing:
            parts += [Content.from_markup("[@click=screen.play]❚❚ playing[/]"), f"  {speed}"]
        else:
            parts += [Content.from_markup("[@click=screen.play]▷ play[/]"), f"  {speed}"]
        if busy:
            parts += [("  running a step…", "$text-warning")]
        if sources:
            parts += [("  sources shown", "$text-accent")]
        self.update(Content.assemble(*parts))
