"""The bench as a clean child process: ``python -m ipcviz.bench.child PLAN``, JSON lines out.

The comparison screen (b) must not fork the threaded app (issue 18 item 4): it starts this
module through ``ipcviz.app.child.JsonChild`` instead, which forks the measurement pairs
itself from a single-threaded interpreter.

PLAN is one JSON object of run_bench's arguments (``mechanisms``, ``sizes``, ``volume``,
``seconds``, ``repeats``, ``rounds``, ``latency_seconds``, ``reference``; any may be left
out).  On stdout, one JSON object per line:

- ``{"progress": [done, total, what]}`` at every progress report of run_bench;
- ``{"results": [...], "elapsed": s, "cpus": n, "load": [1, 5, 15 min]}`` once, at the end
  (each result as :func:`result_to_json` writes it; :func:`results_from_json` reads them);
- ``{"error": "..."}`` when it could not measure (exit 2: a bad PLAN, 1: the bench failed).

SIGTERM or SIGHUP ends it between two measurements (every child of the last one reaped, its
objects and manifest removed by the bench's own ``finally`` blocks), exit 3 with nothing more
written; so does a parent that is gone (its pipe broken, or this process re-parented).

No textual or rich here.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import asdict, fields
from typing import Any
from collections.abc import Callable, Sequence

from ipcviz.bench.procs import BenchError
from ipcviz.bench.runner import Latency, Result, Run, run_bench

#: the keys of PLAN: the arguments of run_bench this child passes on
PLAN_KEYS = ("mechanisms", "sizes", "volume", "seconds", "repeats", "rounds",
             "latency_seconds", "reference")


class Stopped(Exception):
    """Raised from the progress callback: end run_bench between two measurements."""


# --------------------------------------------------------------------------- the wire format


def result_to_json(r: Result) -> dict[str, Any]:
    """Every field of a Result, its Runs and its Latency: results_from_json gives it back equal."""
    return asdict(r)


def _checked(cls: type, data: Any, what: str) -> dict[str, Any]:
    """data as keyword arguments of dataclass cls: an object with exactly its fields, each
    number a number and each text a text (or null where the field allows it)."""
    if not isinstance(data, dict):
        raise ValueError(f"{what}: not an object")
    names = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(names)
    if unknown:
        raise ValueError(f"{what}: unknown field {sorted(unknown)[0]!r}")
    for name, value in data.items():
        kind = str(names[name].type)
        if value is None:
            if "None" not in kind:
                raise ValueError(f"{what}.{name}: null")
        elif kind.startswith(("int", "float")):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{what}.{name}: not a number")
        elif kind.startswith("str") and not isinstance(value, str):
            raise ValueError(f"{what}.{name}: not a text")
    return dict(data)


def results_from_json(data: Any) -> list[Result]:
    """The Results of a ``results`` list; ValueError if it is not one."""
    if not isinstance(data, list):
        raise ValueError("results: not a list")
    out = []
    for i, item in enumerate(data):
        what = f"results[{i}]"
        kw = _checked(Result, item, what)
        runs = kw.get("runs", [])
        if not isinstance(runs, list):
            raise ValueError(f"{what}.runs: not a list")
        try:  # TypeError: a required field is missing
            kw["runs"] = tuple(Run(**_checked(Run, run, f"{what}.runs[{j}]"))
                               for j, run in enumerate(runs))
            if kw.get("latency") is not None:
                kw["latency"] = Latency(**_checked(Latency, kw["latency"], f"{what}.latency"))
            out.append(Result(**kw))
        except TypeError as err:
            raise ValueError(f"{what}: {err}") from None
    return out


# --------------------------------------------------------------------------- the process


def _write(obj: dict[str, Any]) -> None:
    """One line on fd 1, unbuffered (nothing is left to flush when a broken pipe ends us)."""
    view = memoryview((json.dumps(obj) + "\n").encode())
    while view:
        view = view[os.write(1, view):]


def _plan(argv: Sequence[str]) -> dict[str, Any]:
    if len(argv) != 1:
        raise ValueError("usage: python -m ipcviz.bench.child PLAN (one JSON object)")
    try:
        plan = json.loads(argv[0])
    except ValueError:
        raise ValueError("PLAN is not JSON") from None
    if not isinstance(plan, dict):
        raise ValueError("PLAN is not a JSON object")
    unknown = set(plan) - set(PLAN_KEYS)
    if unknown:
        raise ValueError(f"PLAN: unknown key {sorted(unknown)[0]!r} (known: {', '.join(PLAN_KEYS)})")
    return plan


def main(argv: Sequence[str] | None = None) -> int:
    try:
        plan = _plan(sys.argv[1:] if argv is None else argv)
    except ValueError as err:
        _write({"error": str(err)})
        return 2
    ended = False
    parent = os.getppid()

    def on_signal(signum, frame):
        nonlocal ended
        ended = True  # looked at between two measurements, in progress()

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        return _measure(plan, parent, lambda: ended)
    finally:
        # Python puts SIG_DFL back for its handlers while it shuts down, so one more SIGTERM
        # (the app sends one per stop request) would kill us after a clean end: ignore them.
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)


def _measure(plan: dict[str, Any], parent: int, ended: Callable[[], bool]) -> int:
    """run_bench with the plan, its reports and results written out; the exit status."""
    def progress(done: int, total: int, what: str) -> None:
        # run_bench calls this between measurements only: nothing of the bench is alive now
        if ended() or os.getppid() != parent:
            raise Stopped()
        try:
            _write({"progress": [done, total, what]})
        except BrokenPipeError:  # the reader is gone
            raise Stopped() from None

    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    t0 = time.monotonic()
    try:
        results = run_bench(progress=progress, **plan)
    except Stopped:
        return 3
    except (ValueError, TypeError) as err:  # run_bench refused the plan
        return _fail(f"bad plan: {err}", 2)
    except (BenchError, OSError) as err:
        return _fail(f"{type(err).__name__}: {err}", 1)
    elapsed = time.monotonic() - t0
    try:
        _write({"results": [result_to_json(r) for r in results], "elapsed": elapsed,
                "cpus": os.cpu_count(), "load": load})
    except BrokenPipeError:
        return 3
    return 0


def _fail(message: str, code: int) -> int:
    try:
        _write({"error": message})
    except BrokenPipeError:
        return 3
    return code


if __name__ == "__main__":
    sys.exit(main())
