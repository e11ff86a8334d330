"""Which widget draws which kind of kernel object.

Each mechanism's widget module (ipcviz.mechanisms) names its views at module level:
OBJECT_VIEWS = {"fifo": FifoView}; load_views() collects them.  A view is built as
View(oid, scenario, id=...) and has show(snapshot, sources).  A kind without a
view of its own is drawn by GenericObjectView: every field the probe read, plus the
object's own one-line summary — plain, but never a guess.
"""

from __future__ import annotations

from dataclasses import fields

from textual.content import Content
from textual.containers import Vertical
from textual.widgets import Static

from ...mechanisms import load
from ...model import provenance
from ...model.snapshot import Snapshot
from ...scenario.model import Scenario

OBJECT_VIEWS: dict[str, type] = {}


def load_views() -> None:
    """Import every mechanism's widget module (on first use) and collect OBJECT_VIEWS."""
    if OBJECT_VIEWS:
        return
    mods = load(__package__)  # all imported before any is collected
    for mod in mods:
        OBJECT_VIEWS.update(mod.OBJECT_VIEWS)


class ObjectPanel(Vertical):
    """The box every kernel-object panel is drawn in: one look for all mechanisms.

    A subclass adds its own states (full, waiting, deadlock...) and inner layout; its
    DEFAULT_CSS wins over this one where both say something."""

    DEFAULT_CSS = """
    ObjectPanel {
        height: auto;
        width: 1fr;
        border: round $primary;
        border-title-style: bold;
        border-title-color: $text-primary;
        padding: 0 1;
    }
    ObjectPanel.-unborn { border: dashed $foreground 25%; color: $text-muted; }
    ObjectPanel.-gone { border: dashed $foreground 40%; color: $text-muted; }
    """


class GenericObjectView(Static):
    DEFAULT_CSS = """
    GenericObjectView {
        height: auto; width: 1fr; border: round $primary; padding: 0 1;
        border-title-style: bold; border-title-color: $text-primary;
    }
    GenericObjectView.-unborn { border: dashed $foreground 25%; color: $text-muted; }
    """

    def __init__(self, oid: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.oid = oid
        self.kind = scenario.object(oid).kind
        self.border_title = f"{self.kind} {oid}"

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        o = snapshot.object_named(self.oid)
        self.set_class(o is None, "-unborn")
        if o is None:
            self.update(Content.styled("not created yet", "$text-muted"))
            return
        parts: list = []
        describe = getattr(o, "describe", None)
        if callable(describe):
            parts += [(describe(), "b"), "\n"]
        for f in fields(o):
            if f.name in ("id", "kind"):
                continue
            value = getattr(o, f.name)
            if value in ((), None, ""):
                continue
            parts += [(f"{f.name}: ", "$text-secondary"), f"{value}\n"]
        if sources:
            pids = {p.name: p.pid for p in snapshot.processes}
            for src in provenance.for_object(o, None, pids):
                cmd = f"  $ {src.command}" if src.command else ""
                parts += [(f"· {src.field}: {src.interface}{cmd}\n", "$text-muted")]
        self.update(Content.assemble(*parts).rstrip())


def view_for(kind: str, oid: str, scenario: Scenario, id: str):
    load_views()
    view = OBJECT_VIEWS.get(kind, GenericObjectView)(oid, scenario, id=id)
    view.add_class("object-view")  # the stage calls show() on every one of these
    return view
