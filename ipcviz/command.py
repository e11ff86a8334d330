"""What every ipcviz command line shares (ipcviz, ipcviz export, ipcviz serve): the exit
codes, an argument parser whose errors are one line, and SIGTERM / SIGHUP turned into an
exception so that a command's `finally` cleans its run up before it exits 128 + N.

Neutral: imports nothing of ipcviz, so the commands at every layer may use it."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any, NoReturn

EXIT_OK, EXIT_EXPECT, EXIT_INPUT, EXIT_RUN = 0, 1, 2, 3

# The signals that end a command the way Ctrl+C does (KeyboardInterrupt): a terminal
# closing (SIGHUP), `kill`, a service manager (SIGTERM).
TERMINATING = (signal.SIGTERM, signal.SIGHUP)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, no usage dump
        sys.stderr.write(f"{self.prog}: {message}\n")
        sys.exit(EXIT_INPUT)


class Terminated(Exception):
    """A terminating signal arrived; str() is its name ("SIGTERM")."""


# What signal.signal() takes and returns: a function, SIG_DFL / SIG_IGN, or None (a handler
# not installed from Python).
Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def _on_signal(signum: int, frame: FrameType | None) -> NoReturn:
    raise Terminated(signal.Signals(signum).name)


def raise_on_terminating() -> dict[signal.Signals, Handler]:
    """From now on SIGTERM and SIGHUP raise Terminated; returns the handlers they had,
    for restore_handlers()."""
    return {s: signal.signal(s, _on_signal) for s in TERMINATING}


def restore_handlers(old: dict[signal.Signals, Handler]) -> None:
    for s, h in old.items():
        signal.signal(s, h)


__all__ = ["EXIT_EXPECT", "EXIT_INPUT", "EXIT_OK", "EXIT_RUN", "TERMINATING", "Parser",
           "Terminated", "raise_on_terminating", "restore_handlers"]
