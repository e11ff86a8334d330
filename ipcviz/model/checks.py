"""Evaluate a step's `expect` lines against what was observed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..scenario.model import Expect, Ref
from .snapshot import Check, Process, Snapshot


def observe(snapshot: Snapshot, facts: Mapping[str, Mapping[str, Any]], name: str,
            attr: str) -> Any:
    """The observed value of NAME.ATTR.

    Kernel readings come from the snapshot; what a process's own calls returned
    (result, errno, data, received, runs) comes from `facts`, reported by the worker.
    """
    if name == "step":
        return {"outcome": snapshot.outcome, "result": snapshot.result,
                "errno": snapshot.errno, "process": snapshot.process}[attr]
    proc = snapshot.process_named(name)
    obj = snapshot.object_named(name)
    if obj is not None:
        return getattr(obj, attr, None)
    fact = facts.get(name, {})
    if attr in ("result", "errno", "data", "received", "runs", "min_run") or attr in fact:
        return fact.get(attr)
    if attr == "handled":
        return []  # no handler run reported yet
    if proc is None:
        return "not started" if attr == "state" else None
    return _process_attr(proc, attr)


# expect attribute -> field of Signals ("pending" is the union of the thread's and the
# process's sets, SigPnd and ShdPnd).
_SIGNAL_SETS = {"pending": "pending", "blocked": "blocked", "caught": "caught",
                "ignored": "ignored", "thread_pending": "pending",
                "process_pending": "shared_pending"}


def _fd_attr(proc: Process, attr: str) -> Any:
    """ends (object ends it holds), fds (how many), cloexec (ends with FD_CLOEXEC)."""
    if attr == "fds":
        return len(proc.fds)
    return sorted({f"{f.object}.{f.end}" for f in proc.fds if f.object and f.end
                   and (f.cloexec or attr == "ends")})


def _process_attr(proc: Process, attr: str) -> Any:
    """ATTR of a process that was started, from its kernel readings."""
    if attr == "exit_code":
        return proc.exit.code if proc.exit else None
    if attr == "exit_signal":
        return proc.exit.signal if proc.exit else None
    if attr in ("ends", "fds", "cloexec"):
        return _fd_attr(proc, attr)
    if attr in _SIGNAL_SETS:
        if proc.signals is None:
            return []
        if attr == "pending":
            return sorted(set(proc.signals.pending) | set(proc.signals.shared_pending))
        return list(getattr(proc.signals, _SIGNAL_SETS[attr]))
    if not hasattr(proc, attr) and proc.signals is not None and hasattr(proc.signals, attr):
        return getattr(proc.signals, attr)  # queued, queue_limit (SigQ)
    if attr == "core":
        return proc.exit.core if proc.exit else None
    return getattr(proc, attr, None)


def _compare(left: Any, op: str, right: Any) -> bool:
    if op in ("has", "lacks"):
        coll = left if isinstance(left, (list, tuple, set, frozenset)) else ()
        found = right in coll
        return found if op == "has" else not found
    if isinstance(left, (list, tuple)) and isinstance(right, str) and op in ("==", "!="):
        left = ",".join(str(x) for x in left)  # a list is written "SIGINT,SIGQUIT" ('' if empty)
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    try:
        return bool({"<": left < right, "<=": left <= right, ">": left > right,
                     ">=": left >= right}[op])
    except TypeError:
        return False


def evaluate(expects: tuple[Expect, ...], snapshot: Snapshot,
             facts: Mapping[str, Mapping[str, Any]]) -> tuple[Check, ...]:
    out = []
    for e in expects:
        left = observe(snapshot, facts, *e.left)
        right = e.right
        if isinstance(right, Ref):
            value = observe(snapshot, facts, right.name, right.attr)
            right = value + right.offset if isinstance(value, int) and right.offset else value
        ok = _compare(left, e.op, right)
        observed: Any = left
        if isinstance(e.right, Ref):
            observed = f"{left!r} vs {e.right} = {right!r}" if not ok else left
        out.append(Check(e.text, observed, ok))
    return tuple(out)
