"""runtime: the conductor, the runner and the worker processes of a run.

`Run` is imported on first use: the picker and the command line need the runtime's
small modules (errors, availability) without loading the conductor, probe and models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import RunError

if TYPE_CHECKING:
    from .conductor import Run


def __getattr__(name: str) -> type[Run]:
    if name == "Run":
        from .conductor import Run

        return Run
    raise AttributeError(name)


__all__ = ["Run", "RunError"]
