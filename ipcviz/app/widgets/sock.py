"""Unix sockets in kernel space.  A socketpair: its two ends, the bytes queued toward each,
who holds which end, who sleeps on it.  A socket: its name (the file of type s), a
listener's queue of waiting connections against its backlog, a connected socket's peer and
queued bytes each way, who sleeps in accept() / connect().  An open file: every fd on it
with its offset, and which of them share one open file description."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Static

from ...model import provenance
from ...model.snapshot import Snapshot
from ...model.sock import ENDS, NOT_ACCEPTED, OpenFileState, SocketPairState, SocketState
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
    "sk_title": ("socket {oid}", "套接字 {oid}"),
    "sk_listening": ("listening", "监听中"),
    "sk_unconnected": ("unconnected", "未连接"),
    "sk_connecting": ("connecting", "连接中"),
    "sk_connected": ("connected", "已连接"),
    "sk_disconnecting": ("disconnecting", "断开中"),
    "sk_no_name": ("no name (not bound)", "没有名字（未绑定）"),
    "sk_name": ("name {path}", "名字 {path}"),
    "sk_address": ("address {path} (its listener's, as the kernel reports it)",
                   "地址 {path}（内核报告的是它的监听套接字的地址）"),
    "sk_file": ("  file type {t}, mode {mode}", "  文件类型 {t}，权限 {mode}"),
    "sk_file_gone": ("  no file at that path", "  该路径上没有文件"),
    "sk_queue": ("backlog {backlog}, waiting for accept(): {n}  ",
                 "backlog {backlog}，等待 accept() 的连接：{n}  "),
    "sk_queue_unknown": ("queue unknown (sock_diag refused)", "队列未知（sock_diag 拒绝查询）"),
    "sk_queue_empty": ("no connection waits for accept()", "没有等待 accept() 的连接"),
    "sk_peer": ("peer {peer}", "对端 {peer}"),
    "sk_peer_pending": ("peer: waiting in the listener's queue (not accepted yet)",
                        "对端：在监听套接字的队列里等待（尚未被接受）"),
    "sk_no_peer": ("no peer", "没有对端"),
    "sk_peer_closed": ("peer closed: read() gives 0 or ECONNRESET, write() EPIPE",
                       "对端已关闭：read() 得到 0 或 ECONNRESET，write() 得到 EPIPE"),
    "sk_inq": ("▶ {n} bytes to read here", "▶ 此处有 {n} 字节可读"),
    "sk_outq": ("◀ {n} bytes of kernel memory held by its sends not yet read",
                "◀ 它发出但尚未被读取的数据占用 {n} 字节内核内存"),
    "sk_fds": ("fds: {fds}", "fd：{fds}"),
    "sk_closed": ("no fd open on it: the kernel has freed the socket",
                  "没有任何 fd 指向它：内核已释放这个套接字"),
    "sk_in_accept": ("■ {name} sleeps in accept(): no connection waits",
                     "■ {name} 睡在 accept() 中：没有等待的连接"),
    "sk_in_connect": ("■ {name} sleeps in connect(): the queue is full",
                      "■ {name} 睡在 connect() 中：队列已满"),
    "of_title": ("open file {oid}", "打开的文件 {oid}"),
    "of_size": ("{path}  {size} bytes", "{path}  {size} 字节"),
    "of_gone": ("{path}  (no file there)", "{path}（该路径上没有文件）"),
    "of_fd": ("{fd}  offset {pos}  description #{group}", "{fd}  偏移 {pos}  描述 #{group}"),
    "of_none": ("no fd open on it", "没有 fd 指向它"),
    "of_one": ("one open file description: the fds share one offset",
               "一个打开文件描述：这些 fd 共享同一个偏移"),
    "of_many": ("{n} open file descriptions: each has its own offset",
                "{n} 个打开文件描述：各有自己的偏移"),
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


class _Box(ObjectPanel):
    """A panel of one object: the 'not created yet' line, the body, the sources."""

    KIND: type = object
    TITLE = ""

    def __init__(self, oid: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.oid = oid
        self.scenario = scenario
        self.lang = "en"

    def compose(self):
        yield Static(classes="sock--body")

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = self.lang = lang_of(self)
        self.border_title = tr(self.TITLE, lang, oid=self.oid)
        o = snapshot.object_named(self.oid)
        body = self.query_one(".sock--body", Static)
        self.set_class(o is None, "-unborn")
        if not isinstance(o, self.KIND):
            step = words.create_step(self.scenario, self.oid)
            when = (tr("creates_it", lang, process=step.process, step=step.number) if step
                    else "")
            self.border_subtitle = ""
            self.set_class(False, "-gone")
            body.update(Content.styled(tr("not_created", lang, when=when), "italic"))
            return
        self.set_class(not o.fds and not sources, "-gone")
        lines = self.body_lines(o)
        if sources:
            pids = {p.name: p.pid for p in snapshot.processes}
            lines.append(sources_content(provenance.for_object(o, None, pids)))
        body.update(Content("\n").join(lines))

    def body_lines(self, o: Any) -> list[Content]:  # o: the KIND of the subclass
        raise NotImplementedError


class SocketView(_Box):
    """Kernel-space box of one socket: name, queue or peer, queued bytes, sleepers."""

    KIND = SocketState
    TITLE = "sk_title"
    DEFAULT_CSS = "SocketView > .sock--body { height: auto; }"

    def body_lines(self, o: SocketState) -> list[Content]:
        lang = self.lang
        role = "sk_listening" if o.listening else f"sk_{o.state}" if o.state else ""
        self.border_subtitle = " · ".join(x for x in (o.type or "", tr(role, lang) if role
                                                      else "") if x)
        out = [self._sk_name(o)]
        if o.listening:
            out.append(self._sk_queue(o))
        elif o.state is not None:
            out += self._sk_connection(o)
        if o.fds:
            out.append(Content.styled(tr("sk_fds", lang, fds=" ".join(o.fds)),
                                      "$text-secondary"))
        elif o.state is None:
            out.append(Content.styled(tr("sk_closed", lang), "$text-muted"))
        for name in o.blocked_accepting:
            out.append(Content.styled(tr("sk_in_accept", lang, name=name), "b $text-error"))
        for name in o.blocked_connecting:
            out.append(Content.styled(tr("sk_in_connect", lang, name=name), "b $text-error"))
        for name in o.blocked_readers:
            out.append(Content.styled(tr("sleeps_in_read", lang, name=name,
                                         why=tr("waiting_data", lang)), "b $text-error"))
        for name in o.blocked_writers:
            out.append(Content.styled(tr("sleeps_in_write", lang, name=name,
                                         why=tr("waiting_room", lang)), "b $text-error"))
        return out

    def _sk_name(self, o: SocketState) -> Content:
        lang = self.lang
        if not o.path:
            return Content.styled(tr("sk_no_name", lang), "$text-muted")
        file = (tr("sk_file", lang, t=o.file_type, mode=o.mode) if o.exists
                else tr("sk_file_gone", lang))
        if not o.bound:
            return Content.styled(tr("sk_address", lang, path=o.path), "$text-muted")
        return Content.assemble((tr("sk_name", lang, path=o.path), "b"), (file, "$text-muted"))

    def _sk_queue(self, o: SocketState) -> Content:
        """The listener's queue: one box per waiting connection (its client socket)."""
        lang = self.lang
        if o.pending is None or o.backlog is None:
            return Content.styled(tr("sk_queue_unknown", lang), "$text-muted")
        head = Content.styled(tr("sk_queue", lang, n=o.pending, backlog=o.backlog), "b")
        if not o.queue:
            return Content.assemble(head, (tr("sk_queue_empty", lang), "$text-muted"))
        boxes = [(f"[{name}]", "b $text-warning") for name in o.queue]
        return Content.assemble(head, *[part for box in boxes for part in (box, " ")])

    def _sk_connection(self, o: SocketState) -> list[Content]:
        lang = self.lang
        if o.peer_closed:
            peer = Content.styled(tr("sk_peer_closed", lang), "b $text-warning")
        elif o.peer == NOT_ACCEPTED:
            peer = Content.styled(tr("sk_peer_pending", lang), "$text-warning")
        elif o.peer:
            peer = Content.styled(tr("sk_peer", lang, peer=o.peer), "b $text-primary")
        else:
            peer = Content.styled(tr("sk_no_peer", lang), "$text-muted")
        out = [peer]
        if o.inq is not None:
            out.append(Content.styled(tr("sk_inq", lang, n=o.inq), "b" if o.inq else
                                      "$text-muted"))
            out.append(Content.styled(tr("sk_outq", lang, n=o.outq), "$text-muted"))
        return out


class OpenFileView(_Box):
    """Kernel-space box of one open file: each fd's offset and its description."""

    KIND = OpenFileState
    TITLE = "of_title"
    DEFAULT_CSS = "OpenFileView > .sock--body { height: auto; }"

    def body_lines(self, o: OpenFileState) -> list[Content]:
        lang = self.lang
        self.border_subtitle = ""
        head = (tr("of_size", lang, path=o.path, size=o.size) if o.exists
                else tr("of_gone", lang, path=o.path))
        out = [Content.styled(head, "b")]
        if not o.fds:
            return [*out, Content.styled(tr("of_none", lang), "$text-muted")]
        groups = o.groups or tuple(0 for _ in o.fds)
        for fd, pos, group in zip(o.fds, o.offsets, groups):
            out.append(Content.styled(tr("of_fd", lang, fd=fd, pos=pos, group=group + 1),
                                      "$text-primary"))
        if o.descriptions == 1:
            out.append(Content.styled(tr("of_one", lang), "$text-secondary"))
        elif o.descriptions:
            out.append(Content.styled(tr("of_many", lang, n=o.descriptions),
                                      "$text-secondary"))
        return out


OBJECT_VIEWS = {"socketpair": SocketPairView, "socket": SocketView,
                "open_file": OpenFileView}
