"""One module per screen."""

from .error import RunErrorScreen
from .help import HelpScreen
from .picker import PickerScreen
from .stage import StageScreen

__all__ = ["HelpScreen", "PickerScreen", "RunErrorScreen", "StageScreen"]
