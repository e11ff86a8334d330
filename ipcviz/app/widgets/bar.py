"""A buffer's fill as a horizontal bar: the pipe's, a FIFO's, a queue's bytes against its
limit.  Not a mechanism's view: several use it.  (Named PipeBar, as its CSS is.)"""

from __future__ import annotations

from textual.app import RenderResult
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

EIGHTHS = " ▏▎▍▌▋▊▉"


class PipeBar(Widget):
    """The pipe buffer as a horizontal bar; `fill` (0..1) is the fill the kernel reported."""

    DEFAULT_CSS = """
    PipeBar { height: 1; width: 1fr; }
    """
    COMPONENT_CLASSES = {"pipe-bar--fill", "pipe-bar--empty", "pipe-bar--full"}
    DEFAULT_CSS += """
    PipeBar > .pipe-bar--fill { color: $primary; background: $foreground 10%; }
    PipeBar > .pipe-bar--full { color: $error; background: $foreground 10%; }
    PipeBar > .pipe-bar--empty { color: $foreground 30%; background: $foreground 10%; }
    """

    fill: reactive[float] = reactive(0.0)
    known: reactive[bool] = reactive(True)

    def set_fill(self, value: float, known: bool = True) -> None:
        # Drawn as read, never tweened: a fill between two snapshots was never measured.
        self.known = known
        self.fill = min(max(value, 0.0), 1.0)

    def render(self) -> RenderResult:
        width = self.content_region.width or self.size.width
        if not self.known:
            return Content.styled("?" * width, self.get_visual_style("pipe-bar--empty"))
        cells = self.fill * width
        full = int(cells)
        part = int((cells - full) * 8)
        if self.fill > 0 and full == 0 and part == 0:
            part = 1  # a few bytes in 64 KiB still show as a sliver: not empty
        text = "█" * full + (EIGHTHS[part] if part and full < width else "")
        text = text + " " * (width - len(text))
        cls = "pipe-bar--full" if self.fill >= 1.0 else "pipe-bar--fill"
        rows = max(self.content_region.height, 1)
        return Content.styled("\n".join([text] * rows), self.get_visual_style(cls))
