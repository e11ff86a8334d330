"""The focus of a step: what a viewer must see of it, derived from the step itself.

A step is one system call of one process.  What it is about: the acting process, the
kernel objects its arguments name (directly, or through an fd of the actor's table), the
processes its arguments name (a fork's child, a kill's target), and the processes whose
state the step changed: the ones it woke, blocked, stopped or ended.  The views lay out the
screen so these are always in sight (code and log give way first); `ipcviz export` warns
when one did not fit on a slide.

Plain data, computed from two Snapshots and the step's arguments: no Textual here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .snapshot import Snapshot


@dataclass(frozen=True)
class Focus:
    """Names of the processes and ids of the objects a step is about, in order of weight:
    the actor first, then the processes named by the step, then the ones it changed."""

    processes: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.processes or self.objects)


def _names(value: Any) -> list[str]:
    """The strings in an argument: a name, or a list of names (semaphore sets, routes)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _add(seq: list[str], name: str | None) -> None:
    if name and name not in seq:
        seq.append(name)


def focus(snapshot: Snapshot, previous: Snapshot | None,
          args: Mapping[str, Any] | None = None) -> Focus:
    """The focus of `snapshot`, the world after a step; `previous` the world before it;
    `args` the step's arguments as the scenario gives them (None: none known).

    Snapshot 0 (before any step) has no actor: its focus is empty."""
    if snapshot.step == 0 or snapshot.process is None:
        return Focus()
    args = args or {}
    process_names = {p.name for p in snapshot.processes}
    object_ids = {o.id for o in snapshot.objects}
    if previous is not None:
        process_names |= {p.name for p in previous.processes}
        object_ids |= {o.id for o in previous.objects}
    procs: list[str] = []
    objs: list[str] = []
    _add(procs, snapshot.process)
    _named_by_args(args, process_names, object_ids, procs, objs)
    _named_by_fd(args.get("fd"), snapshot, previous, objs)
    # The actor's own blocked call names what it waits on.
    actor = snapshot.process_named(snapshot.process)
    if actor is not None and actor.waits_on in object_ids:
        _add(objs, actor.waits_on)
    _changed(snapshot, previous, object_ids, procs, objs)
    return Focus(tuple(procs), tuple(objs))


def _named_by_args(args: Mapping[str, Any], process_names: set[str], object_ids: set[str],
                   procs: list[str], objs: list[str]) -> None:
    """The processes and objects the step's arguments name ("p.write": an end of p)."""
    for key, value in args.items():
        if key in ("narration", "code", "process", "action"):
            continue
        for name in _names(value):
            if name not in object_ids and "." in name:
                name = name.split(".", 1)[0]
            if name in object_ids:
                _add(objs, name)
            elif name in process_names:
                _add(procs, name)


def _named_by_fd(fd: Any, snapshot: Snapshot, previous: Snapshot | None,
                 objs: list[str]) -> None:
    """An fd argument names an object through the actor's table, before the step (a close
    removes it) or after it (a dup makes it)."""
    name = snapshot.process
    if not isinstance(fd, int) or isinstance(fd, bool) or name is None:
        return
    for snap in (previous, snapshot):
        actor = snap.process_named(name) if snap is not None else None
        for entry in actor.fds if actor is not None else ():
            if entry.fd == fd and entry.object:
                _add(objs, entry.object)


def _changed(snapshot: Snapshot, previous: Snapshot | None, object_ids: set[str],
             procs: list[str], objs: list[str]) -> None:
    """Processes the step woke, blocked, stopped, killed, made or reaped: their state
    changed (nothing to compare with when there is no world before)."""
    if previous is None:
        return
    before = {p.name: p for p in previous.processes}
    for p in snapshot.processes:
        old = before.get(p.name)
        if old is None or old.state != p.state or old.waits_on != p.waits_on:
            _add(procs, p.name)
            if p.waits_on in object_ids:
                _add(objs, p.waits_on)
    for name, old in before.items():  # reaped: gone from this snapshot
        if snapshot.process_named(name) is None and old.state != "exited":
            _add(procs, name)


__all__ = ["Focus", "focus"]
