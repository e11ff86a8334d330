"""A FIFO: a name in the file system (type p, size 0) that leads into a kernel pipe buffer.

Drawn top to bottom as the way data goes: the file-system entry (what `ls -l` shows), the
door (open(): processes asleep in it wait there for a partner), the buffer with its write
and read ends (PipeBar, as for a pipe), and who sleeps in read()/write() on it.
"""

from __future__ import annotations

import stat

from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from ...model import provenance
from ...model.fifo import FifoState
from ...model.snapshot import BLOCKED, Snapshot
from ...scenario.model import Scenario
from .. import words
from ..i18n import add_texts, lang_of, tr
from .bar import PipeBar
from .sources import sources_content
from .objects import ObjectPanel

OPEN_CALLS = ("open", "openat", "openat2")
PATH_TAIL = 3  # components of the path shown (the whole path with sources on)

# The words of the FIFO view: key -> (English, Chinese), read with i18n.tr().
TEXTS: dict[str, tuple[str, str]] = {
    "fifo_title": ("fifo {oid}", "有名管道 FIFO {oid}"),
    "fifo_makes_it": (" ({process} makes it at step {step})", "（{process} 在第 {step} 步创建它）"),
    "fifo_no_file": ("no such file yet: mkfifo{when}", "还没有这个文件：mkfifo{when}"),
    "fifo_no_name": ("no name: ", "没有名字："),
    "fifo_unlinked": (" was unlinked; the buffer lives while an fd is open",
                      " 已被 unlink；只要还有 fd 打开，缓冲区就还在"),
    "fifo_size": ("  size ", "  大小 "),
    "fifo_on_disk": ("  a name on disk; the bytes stay in the kernel",
                     "  磁盘上只是一个名字；字节留在内核里"),
    "fifo_a_writer": ("a writer", "写者"),
    "fifo_a_reader": ("a reader", "读者"),
    "fifo_other_side": ("the other side", "另一端"),
    "fifo_at_door": ("▷ at the door: ", "▷ 在门口等待："),
    "fifo_asleep_open": (" asleep in open({flag}) until {partner} opens it",
                         " 睡在 open({flag}) 中，直到{partner}打开它"),
    "fifo_not_open": ("not open anywhere: no buffer in the kernel until someone opens the name",
                      "没有任何进程打开它：在有人打开这个名字之前，内核中没有缓冲区"),
    "fifo_bytes_unknown": ("bytes: unknown (no live process holds it to ask through)",
                           "字节数：未知（没有存活的进程持有它可供查询）"),
    "fifo_n_writers": ("{n} writer(s) open", "打开的写端 {n} 个"),
    "fifo_n_readers": ("{n} reader(s) open", "打开的读端 {n} 个"),
    "fifo_buffer_full": ("buffer full", "缓冲区满"),
}
add_texts(TEXTS)


def ls_mode(o: FifoState) -> str:
    """'prw-------' as ls -l prints it, from the type letter and the octal mode."""
    if o.mode is None:
        return f"{o.file_type or '?'}?????????"
    perms = stat.filemode(int(o.mode, 8))[1:]
    return f"{o.file_type or '?'}{perms}"


def short_path(path: str, whole: bool = False) -> str:
    parts = path.split("/")
    if whole or len(parts) <= PATH_TAIL + 1:
        return path
    return "…/" + "/".join(parts[-PATH_TAIL:])


def at_the_door(o: FifoState, snapshot: Snapshot) -> list[tuple[str, str]]:
    """(process, "read" / "write" / "?") of every process asleep in open() of this FIFO:
    the kernel's view (state blocked, syscall open/openat, waits_on this FIFO), the side
    from the flags the probe read (opening_readers / opening_writers)."""
    out = []
    for p in snapshot.processes:
        if p.state == BLOCKED and p.syscall in OPEN_CALLS and p.waits_on == o.id:
            side = ("read" if p.name in o.opening_readers
                    else "write" if p.name in o.opening_writers else "?")
            out.append((p.name, side))
    return out


class FifoView(ObjectPanel):
    """Kernel-space box of one FIFO of the scenario."""

    DEFAULT_CSS = """
    FifoView.-full { border: heavy $error; }
    FifoView.-waiting { border: heavy $warning; }
    FifoView.-unborn > .fifo--flow, FifoView.-unborn > .fifo--door { display: none; }
    FifoView > .fifo--name { height: auto; }
    FifoView > .fifo--door { height: auto; }
    FifoView > .fifo--door.-empty { display: none; }
    FifoView > .fifo--flow { height: auto; }
    FifoView.-closed PipeBar { opacity: 40%; }
    FifoView .fifo--end { width: auto; max-width: 30%; padding: 0 1; color: $text-secondary; }
    FifoView > .fifo--numbers { height: auto; }
    FifoView > .fifo--details { height: auto; }
    """

    def __init__(self, oid: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.oid = oid
        self.scenario = scenario
        self.border_title = f"fifo {oid}"
        self.lang = "en"  # the app's language when the view was last drawn
        self.state: FifoState | None = None
        self.waiting: list[tuple[str, str]] = []  # (process, side) asleep in open()

    def compose(self):
        yield Static(classes="fifo--name")
        yield Static(classes="fifo--door -empty")
        with Horizontal(classes="fifo--flow"):
            yield Static(classes="fifo--end -write")
            yield PipeBar()
            yield Static(classes="fifo--end -read")
        yield Static(classes="fifo--numbers")
        yield Static(classes="fifo--details")

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = self.lang = lang_of(self)
        self.border_title = tr("fifo_title", lang, oid=self.oid)
        o = snapshot.object_named(self.oid)
        name = self.query_one(".fifo--name", Static)
        door = self.query_one(".fifo--door", Static)
        numbers = self.query_one(".fifo--numbers", Static)
        details = self.query_one(".fifo--details", Static)
        bar = self.query_one(PipeBar)
        self.set_class(o is None, "-unborn")
        if not isinstance(o, FifoState):
            self.state, self.waiting = None, []
            step = words.create_step(self.scenario, self.oid)
            when = (tr("fifo_makes_it", lang, process=step.process, step=step.number) if step
                    else "")
            self.border_subtitle = ""
            for cls in ("-full", "-waiting", "-closed"):
                self.set_class(False, cls)
            bar.set_fill(0.0)
            name.update(Content.styled(tr("fifo_no_file", lang, when=when), "italic"))
            door.set_class(True, "-empty")
            numbers.update("")
            details.update("")
            return
        self.state = o
        self.waiting = at_the_door(o, snapshot)
        self.border_subtitle = f"inode {o.inode}" if o.inode is not None else ""
        name.update(self._name_line(o, sources))
        door.set_class(not self.waiting, "-empty")
        door.update(self._door(self.waiting, lang))
        is_open = bool(o.readers or o.writers)
        known = o.bytes is not None and bool(o.capacity)
        full = known and o.bytes >= o.capacity
        self.set_class(full, "-full")
        self.set_class(bool(self.waiting) and not full, "-waiting")
        self.set_class(not is_open, "-closed")
        bar.set_fill(o.bytes / o.capacity if known else 0.0, known)
        self.query_one(".fifo--end.-write", Static).update(
            Content.assemble(" ".join(o.writer_fds) or tr("no_writer", lang), " ▶"))
        self.query_one(".fifo--end.-read", Static).update(
            Content.assemble("▶ ", " ".join(o.reader_fds) or tr("no_reader", lang)))
        numbers.update(self._numbers(o, is_open, known, full, lang))
        body = self._details(o, snapshot, lang)
        if sources:
            pids = {p.name: p.pid for p in snapshot.processes}
            body = Content("\n").join([body, sources_content(provenance.for_object(o, None, pids))])
        details.update(body)

    def _name_line(self, o: FifoState, whole: bool) -> Content:
        lang = self.lang
        if not o.exists:
            return Content.assemble(
                (tr("fifo_no_name", lang), "b $text-warning"),
                (short_path(o.path, whole), "strike"),
                (tr("fifo_unlinked", lang), "$text-muted"))
        return Content.assemble(
            (ls_mode(o), "b $text-accent"), (tr("fifo_size", lang), "$text-muted"),
            (f"{o.size}", "b"), "  ", (short_path(o.path, whole), "b"),
            (tr("fifo_on_disk", lang), "$text-muted"))

    @staticmethod
    def _door(waiting: list[tuple[str, str]], lang: str = "en") -> Content:
        lines = []
        for proc, side in waiting:
            partner = tr({"read": "fifo_a_writer", "write": "fifo_a_reader"}.get(
                side, "fifo_other_side"), lang)
            flag = {"read": "O_RDONLY", "write": "O_WRONLY"}.get(side, "")
            lines.append(Content.assemble(
                (tr("fifo_at_door", lang), "b $text-warning"), (proc, "b $text-error"),
                (tr("fifo_asleep_open", lang, flag=flag, partner=partner), "$text-error")))
        return Content("\n").join(lines)

    @staticmethod
    def _numbers(o: FifoState, is_open: bool, known: bool, full: bool,
                 lang: str = "en") -> Content:
        if not is_open:
            return Content.styled(tr("fifo_not_open", lang), "$text-muted")
        if not known:
            return Content.styled(tr("fifo_bytes_unknown", lang), "$text-muted")
        tag = (tr("full_tag", lang) if full else tr("empty_tag", lang) if o.bytes == 0 else "")
        return Content.assemble(
            tr("buffer_pre", lang), (f"{o.bytes}", "b"),
            tr("in_buffer", lang, capacity=o.capacity),
            (tag, "b $text-error" if full else "$text-muted"))

    @staticmethod
    def _details(o: FifoState, snapshot: Snapshot, lang: str = "en") -> Content:
        if lang == "en":
            lines = [Content.assemble((words.count(o.writers, "writer"), "b"), " · ",
                                      (words.count(o.readers, "reader"), "b"), " open")]
        else:
            lines = [Content.assemble((tr("fifo_n_writers", lang, n=o.writers), "b"), " · ",
                                      (tr("fifo_n_readers", lang, n=o.readers), "b"))]
        for name in o.blocked_writers:
            why = tr("fifo_buffer_full" if o.bytes is not None and o.capacity
                     and o.bytes >= o.capacity else "waiting_room", lang)
            lines.append(Content.styled(tr("sleeps_in_write", lang, name=name, why=why),
                                        "b $text-error"))
        for name in o.blocked_readers:
            why = tr("empty_writer_open" if o.writers else "buffer_empty", lang)
            lines.append(Content.styled(tr("sleeps_in_read", lang, name=name, why=why),
                                        "b $text-error"))
        if o.readers and not o.writers:
            lines.append(Content.styled(f"→ {tr('pipe_eof', lang)}", "$text-warning"))
        if o.writers and not o.readers:
            lines.append(Content.styled(f"→ {tr('pipe_sigpipe', lang)}", "$text-warning"))
        return Content("\n").join(lines)


OBJECT_VIEWS = {"fifo": FifoView}
