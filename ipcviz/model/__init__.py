"""model: immutable snapshots of the world and the timeline that keeps them.

Each mechanism of ipcviz.mechanisms has a module here whose OBJECT_KINDS maps the kinds
of its objects to their ObjectState subclasses; they are collected into
snapshot.OBJECT_KINDS (how a saved trace is read back) when this package is imported."""

from ..mechanisms import load as _load
from .snapshot import *  # noqa: F403
from .snapshot import OBJECT_KINDS as _OBJECT_KINDS
from .snapshot import __all__ as _snapshot_all
from .timeline import (
    TraceError,
    Timeline,
    read_trace,
    read_trace_file,
    write_trace_header,
    write_trace_line,
)

for _mod in _load(__name__):
    _OBJECT_KINDS.update(_mod.OBJECT_KINDS)

from .pipe import PipeState  # noqa: E402  the one object kind named here, as before

__all__ = [*_snapshot_all, "PipeState", "Timeline", "TraceError", "read_trace",
           "read_trace_file", "write_trace_header", "write_trace_line"]
