"""A socketpair in kernel space: its two ends, the bytes queued toward each, who holds
which end, who sleeps on it."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ...model import provenance
from ...model.snapshot import Snapshot
from ...model.sock import ENDS, SocketPairState
from ...scenario.model import Scenario
from .. import words
from ..i18n import add_texts, lang_of, tr
from .objects import ObjectPanel
from .sources import sources_content

# The words of the socketpair view: key -> (English, Chinese), read with tr().
TEXTS: dict[str, tuple[str, str]] = {
    "sock_title": ("socketpair {oid}", "套接字对 socketpair {oid}"),
    "sock_type_stream": ("SOCK_STREAM: a byte stream, no message boundaries",
                         "SOCK_STREAM：字节流，不保留消息边界"),
    "sock_type_dgram": ("SOCK_DGRAM: one datagram per send, boundaries kept",
                        "SOCK_DGRAM：每次发送一个数据报，保留消息边界"),
    "sock_end": ("end {end}", "端 {end}"),
    "sock_closed": ("closed everywhere", "所有进程都已关闭"),
    "sock_inq_stream": ("{n} bytes waiting to be read", "{n} 字节等待读取"),
    "sock_inq_dgram": ("next datagram: {n} bytes", "下一个数据报：{n} 字节"),
    "sock_inq_empty": ("nothing to read", "没有可读的数据"),
    "sock_inq_unknown": ("queue unknown (no live holder to ask through)",
                         "队列未知（没有存活的持有者可供查询）"),
    "sock_freed": ("no end is open in any process: the kernel has freed the pair",
                   "没有任何进程打开任何一端：内核已释放这对套接字"),
}
add_texts(TEXTS)


class SocketPairView(ObjectPanel):
    """Kernel-space box of one socketpair of the scenario."""

    DEFAULT_CSS = """
    SocketPairView > .sock--ends { height: auto; }
    SocketPairView > .sock--details { height: auto; }
    """

    def __init__(self, oid: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.oid = oid
        self.scenario = scenario
        self.border_title = f"socketpair {oid}"
        self.lang = "en"

    def compose(self):
        yield Static(classes="sock--ends")
        yield Static(classes="sock--details")

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = self.lang = lang_of(self)
        self.border_title = tr("sock_title", lang, oid=self.oid)
        o = snapshot.object_named(self.oid)
        ends = self.query_one(".sock--ends", Static)
        details = self.query_one(".sock--details", Static)
        self.set_class(o is None, "-unborn")
        if not isinstance(o, SocketPairState):
            step = words.create_step(self.scenario, self.oid)
            when = (tr("creates_it", lang, process=step.process, step=step.number) if step
                    else "")
            self.border_subtitle = ""
            self.set_class(False, "-gone")
            ends.update(Content.styled(tr("not_created", lang, when=when), "italic"))
            details.update("")
            return
        self.border_subtitle = o.type or ""
        gone = o.holders_a == 0 and o.holders_b == 0
        self.set_class(gone and not sources, "-gone")
        if gone:
            ends.update(Content.styled(tr("sock_freed", lang), "$text-muted"))
        else:
            ends.update(Content("\n").join([self._end(o, name) for name in ENDS]))
        body = self._details(o, snapshot)
        if sources:
            pids = {p.name: p.pid for p in snapshot.processes}
            body = Content("\n").join(
                [body, sources_content(provenance.for_object(o, None, pids))])
        details.update(body)

    def _end(self, o: SocketPairState, name: str) -> Content:
        """One line per end: who holds it, and what a read() there would find."""
        lang = self.lang
        inode, inq, _, fds = o.end(name)
        held = " ".join(fds) or tr("sock_closed", lang)
        if inq is None:
            queue = Content.styled(tr("sock_inq_unknown", lang), "$text-muted")
        elif inq == 0:
            queue = Content.styled(tr("sock_inq_empty", lang), "$text-muted")
        else:
            key = "sock_inq_dgram" if o.type == "dgram" else "sock_inq_stream"
            queue = Content.styled(tr(key, lang, n=inq), "b")
        return Content.assemble((tr("sock_end", lang, end=name), "b $text-primary"),
                                f" [{held}]  ", ("▶ ", "$text-muted"), queue)

    def _details(self, o: SocketPairState, snapshot: Snapshot) -> Content:
        lang = self.lang
        lines = []
        if o.type in ("stream", "dgram"):
            lines.append(Content.styled(tr(f"sock_type_{o.type}", lang), "$text-secondary"))
        for name in o.blocked_writers:
            lines.append(Content.styled(tr("sleeps_in_write", lang, name=name,
                                           why=tr("waiting_room", lang)), "b $text-error"))
        for name in o.blocked_readers:
            lines.append(Content.styled(tr("sleeps_in_read", lang, name=name,
                                           why=tr("waiting_data", lang)), "b $text-error"))
        return Content("\n").join(lines)


OBJECT_VIEWS = {"socketpair": SocketPairView}
