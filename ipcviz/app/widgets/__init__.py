"""Widgets of the stage, one module per thing on screen."""

from .code import CodeView
from .log import SyscallLog
from .narration import Narration
from .pipe import PipeBar, PipeView
from .process_card import ProcessCard
from .sources import sources_content
from .status import StatusBar
from .too_small import TooSmall

__all__ = ["CodeView", "Narration", "PipeBar", "PipeView", "ProcessCard", "StatusBar",
           "SyscallLog", "TooSmall", "sources_content"]
