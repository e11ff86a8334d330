"""runtime: the conductor, the runner and the worker processes of a run.

`Run` is imported on first use: the picker and the command line need the runtime's
small modules (errors, availability) without loading the conductor, probe and models.
"""

from .errors import RunError


def __getattr__(name: str):
    if name == "Run":
        from .conductor import Run

        return Run
    raise AttributeError(name)


__all__ = ["Run", "RunError"]
