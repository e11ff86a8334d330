"""runtime: the conductor, the runner and the worker processes of a run."""

from .conductor import Run, RunError

__all__ = ["Run", "RunError"]
