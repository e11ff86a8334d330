"""model: immutable snapshots of the world and the timeline that keeps them."""

from .snapshot import *  # noqa: F401,F403
from .snapshot import __all__ as _snapshot_all
from .timeline import (
    TraceError,
    Timeline,
    read_trace,
    read_trace_file,
    write_trace_header,
    write_trace_line,
)

# Each mechanism's object dataclasses register themselves in OBJECT_KINDS on import.
from . import fifo, msgq, sem, shm, signals  # noqa: E402,F401  isort: skip

__all__ = [*_snapshot_all, "Timeline", "TraceError", "read_trace", "read_trace_file",
           "write_trace_header", "write_trace_line"]
