"""A notice that replaces the stage when the terminal is below the smallest usable size."""

from __future__ import annotations

from textual.widgets import Static

MIN_WIDTH = 64
MIN_HEIGHT = 18


class TooSmall(Static):
    DEFAULT_CSS = """
    TooSmall {
        display: none;
        width: 1fr; height: 1fr;
        content-align: center middle;
        text-align: center;
        background: $error 20%;
        text-style: bold;
    }
    """

    def __init__(self) -> None:
        super().__init__(
            f"The terminal is too small for the stage.\n"
            f"Make it at least {MIN_WIDTH} columns by {MIN_HEIGHT} rows.\n"
            "(q quits)")
