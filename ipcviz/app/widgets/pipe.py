"""A pipe in kernel space: its buffer as a bar, bytes/capacity, its ends, who sleeps on it."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from ...model import provenance
from ...model.pipe import PipeState
from ...model.snapshot import Snapshot
from ...scenario.model import Scenario
from .. import words
from ..i18n import lang_of, tr
from .bar import PipeBar
from .sources import sources_content
from .objects import ObjectPanel

class PipeView(ObjectPanel):
    """Kernel-space box of one pipe of the scenario."""

    DEFAULT_CSS = """
    PipeView.-full { border: heavy $error; }
    PipeView.-gone > .pipe--flow, PipeView.-gone > .pipe--numbers { display: none; }
    PipeView.-unborn > .pipe--flow { display: none; }
    PipeView > .pipe--numbers { height: auto; }
    PipeView > .pipe--flow { height: auto; }
    PipeView .pipe--end { width: auto; max-width: 30%; padding: 0 1; color: $text-secondary; }
    PipeView > .pipe--details { height: auto; }
    """

    def __init__(self, oid: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.oid = oid
        self.scenario = scenario
        self.border_title = f"pipe {oid}"
        self.lang = "en"  # the app's language when the view was last drawn
        self.state: PipeState | None = None

    def compose(self):
        with Horizontal(classes="pipe--flow"):
            yield Static(classes="pipe--end -write")
            yield PipeBar()
            yield Static(classes="pipe--end -read")
        yield Static(classes="pipe--numbers")
        yield Static(classes="pipe--details")

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = self.lang = lang_of(self)
        self.border_title = tr("pipe_title", lang, oid=self.oid)
        o = snapshot.object_named(self.oid)
        numbers = self.query_one(".pipe--numbers", Static)
        details = self.query_one(".pipe--details", Static)
        bar = self.query_one(PipeBar)
        write_end = self.query_one(".pipe--end.-write", Static)
        read_end = self.query_one(".pipe--end.-read", Static)
        self.set_class(o is None, "-unborn")
        if not isinstance(o, PipeState):
            self.state = None
            step = words.create_step(self.scenario, self.oid)
            when = (tr("creates_it", lang, process=step.process, step=step.number) if step
                    else "")
            self.border_subtitle = ""
            self.set_class(False, "-full")  # not another snapshot's (a restart, a step back)
            self.set_class(False, "-gone")
            bar.set_fill(0.0)
            write_end.update(tr("write_end_arrow", lang))
            read_end.update(tr("read_end_arrow", lang))
            numbers.update(Content.styled(tr("not_created", lang, when=when), "italic"))
            details.update("")
            return
        self.state = o
        self.border_subtitle = f"inode {o.inode}" if o.inode is not None else ""
        known = o.bytes is not None and bool(o.capacity)
        full = known and o.bytes >= o.capacity
        self.set_class(full, "-full")
        gone = o.readers == 0 and o.writers == 0 and not sources
        self.set_class(gone, "-gone")  # freed: one line says so, the rest collapses
        bar.set_fill(o.bytes / o.capacity if known else 0.0, known)
        write_end.update(Content.assemble(" ".join(o.writer_fds) or tr("no_writer", lang), " ▶"))
        read_end.update(Content.assemble("▶ ", " ".join(o.reader_fds) or tr("no_reader", lang)))
        numbers.update(self._numbers(o, known, full))
        body = self._details(o, snapshot)
        if sources:
            holder = provenance.pipe_holder(snapshot, o)
            pids = {p.name: p.pid for p in snapshot.processes}
            body = Content("\n").join(
                [body, sources_content(provenance.for_object(o, holder, pids))])
        details.update(body)

    def _numbers(self, o: PipeState, known: bool, full: bool) -> Content:
        lang = self.lang
        if not known:
            return Content.styled(tr("bytes_unknown", lang), "$text-muted")
        tag = (tr("full_tag", lang) if full else tr("empty_tag", lang) if o.bytes == 0 else "")
        return Content.assemble(
            tr("buffer_pre", lang), (f"{o.bytes}", "b"), tr("in_buffer", lang, capacity=o.capacity),
            (tag, "b $text-error" if full else "$text-muted"))

    def _details(self, o: PipeState, snapshot: Snapshot) -> Content:
        lang = self.lang
        if lang == "en":
            ends = Content.assemble((words.count(o.writers, "write end"), "b"), " open · ",
                                    (words.count(o.readers, "read end"), "b"), " open")
        else:
            ends = Content.assemble((tr("n_write_ends", lang, n=o.writers), "b"), " · ",
                                    (tr("n_read_ends", lang, n=o.readers), "b"))
        lines = [ends]
        for name in o.blocked_writers:
            p = snapshot.process_named(name)
            why = words.blocked_reason(p, snapshot, lang) if p else None
            lines.append(Content.styled(tr("sleeps_in_write", lang, name=name,
                                           why=why or tr("waiting_room", lang)),
                                        "b $text-error"))
        for name in o.blocked_readers:
            p = snapshot.process_named(name)
            why = words.blocked_reason(p, snapshot, lang) if p else None
            lines.append(Content.styled(tr("sleeps_in_read", lang, name=name,
                                           why=why or tr("waiting_data", lang)),
                                        "b $text-error"))
        for meaning in words.pipe_meaning(o, lang):
            lines.append(Content.styled(f"→ {meaning}", "$text-warning"))
        return Content("\n").join(lines)


OBJECT_VIEWS = {"pipe": PipeView}
