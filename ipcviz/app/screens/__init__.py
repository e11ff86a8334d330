"""One module per screen.  Imported on first use (the stage pulls in every mechanism's
widgets and models, which the picker's first frame does not need)."""

from importlib import import_module

_WHERE = {"RunErrorScreen": "error", "HelpScreen": "help", "PickerScreen": "picker",
          "StageScreen": "stage"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(name)


__all__ = ["HelpScreen", "PickerScreen", "RunErrorScreen", "StageScreen"]
