"""Widgets of the stage, one module per thing on screen.  Imported on first use, so that
the picker's first frame does not wait for every mechanism's panel."""

from importlib import import_module

_WHERE = {"CodeView": "code", "SyscallLog": "log", "Narration": "narration",
          "PipeBar": "bar", "PipeView": "pipe", "ProcessCard": "process_card",
          "sources_content": "sources", "StatusBar": "status", "TooSmall": "too_small"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(name)


__all__ = ["CodeView", "Narration", "PipeBar", "PipeView", "ProcessCard", "StatusBar",
           "SyscallLog", "TooSmall", "sources_content"]
