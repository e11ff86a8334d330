"""A pipe in kernel space: its buffer as a bar, bytes/capacity, its ends, who sleeps on it."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from ...model import provenance
from ...model.pipe import NO_READER, PipeState, escape_bytes
from ...model.snapshot import Snapshot
from ...scenario.model import Scenario
from .. import words
from ..i18n import add_texts, lang_of, tr
from .bar import PipeBar
from .sources import sources_content
from .objects import ObjectPanel

SHOWN = 96  # characters of the escaped contents drawn (the model keeps up to PEEK bytes)

# The words of the pipe view's contents line: key -> (English, Chinese), read with tr().
TEXTS: dict[str, tuple[str, str]] = {
    "pipe_holds": ("holds ", "内容 "),
    "pipe_holds_how": ("  (copied with tee(2): nothing read away)",
                       "  （用 tee(2) 复制：没有读走任何字节）"),
    "pipe_holds_more": (" … +{n} more bytes", " … 还有 {n} 字节"),
    "pipe_contents_no_reader": (("contents unknown: no process holds a read end, and "
                                 "ipcviz looks only through one a process holds"),
                                "内容未知：没有进程持有读端，而 ipcviz 只通过进程已持有的读端查看"),
    "pipe_contents_unknown": ("contents unknown ({why})", "内容未知（{why}）"),
    "pipe_nonblock": ("O_NONBLOCK on {ends}: EAGAIN instead of sleeping",
                      "{ends} 设置了 O_NONBLOCK：返回 EAGAIN 而不是睡眠"),
    "pipe_max": ("capacity {capacity} (F_GETPIPE_SZ), at most {max} by F_SETPIPE_SZ "
                 "(pipe-max-size)", "容量 {capacity}（F_GETPIPE_SZ），F_SETPIPE_SZ 最多可设为 "
                 "{max}（pipe-max-size）"),
}
add_texts(TEXTS)


class PipeView(ObjectPanel):
    """Kernel-space box of one pipe of the scenario."""

    DEFAULT_CSS = """
    PipeView.-full { border: heavy $error; }
    PipeView.-gone > .pipe--flow, PipeView.-gone > .pipe--numbers,
    PipeView.-gone > .pipe--contents { display: none; }
    PipeView.-unborn > .pipe--flow { display: none; }
    PipeView > .pipe--numbers { height: auto; }
    PipeView > .pipe--contents { height: auto; }
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
        yield Static(classes="pipe--contents")
        yield Static(classes="pipe--details")

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = self.lang = lang_of(self)
        self.border_title = tr("pipe_title", lang, oid=self.oid)
        o = snapshot.object_named(self.oid)
        numbers = self.query_one(".pipe--numbers", Static)
        contents = self.query_one(".pipe--contents", Static)
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
            contents.update("")
            contents.display = False
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
        line = self._contents(o)
        contents.update(line)
        contents.display = bool(line.plain)
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

    def _contents(self, o: PipeState) -> Content:
        """The bytes in the buffer, escaped (literal text, never markup); or why unknown.
        Nothing for an empty pipe, or a trace recorded before ipcviz looked."""
        lang = self.lang
        data = o.contents_bytes()
        if data is None:
            if o.contents_missing is None or not o.readers + o.writers:
                return Content("")
            if o.contents_missing == NO_READER:
                return Content.styled(tr("pipe_contents_no_reader", lang), "$text-muted")
            return Content.styled(tr("pipe_contents_unknown", lang, why=o.contents_missing),
                                  "$text-muted")
        if not data:
            return Content("")
        cut, n = "", 0
        for b in data:  # whole escapes only: never half of a \x1b
            piece = escape_bytes(bytes((b,)))
            if len(cut) + len(piece) > SHOWN:
                break
            cut, n = cut + piece, n + 1
        rest = max(o.bytes or 0, len(data)) - n
        parts: list = [(tr("pipe_holds", lang), "$text-secondary"), ('"', "$text-muted"),
                       (cut, "b"), ('"', "$text-muted")]
        if rest > 0:
            parts.append((tr("pipe_holds_more", lang, n=rest), "$text-muted"))
        parts.append((tr("pipe_holds_how", lang), "$text-muted"))
        return Content.assemble(*parts)

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
        if o.nonblocking:
            lines.append(Content.styled(tr("pipe_nonblock", lang,
                                           ends=" ".join(o.nonblocking)), "$text-accent"))
        if o.max_capacity is not None and o.capacity is not None \
                and o.capacity != o.max_capacity and self._resized(snapshot):
            lines.append(Content.styled(tr("pipe_max", lang, capacity=o.capacity,
                                           max=o.max_capacity), "$text-muted"))
        for meaning in words.pipe_meaning(o, lang):
            lines.append(Content.styled(f"→ {meaning}", "$text-warning"))
        return Content("\n").join(lines)

    def _resized(self, snapshot: Snapshot) -> bool:
        """The lesson resizes a pipe (F_SETPIPE_SZ): then the limit is worth a line."""
        return any(st.action == "set_pipe_size" for st in self.scenario.steps)


OBJECT_VIEWS = {"pipe": PipeView}
