"""A message queue in kernel space: its messages as a chain of boxes, in the kernel's order.

    receivers ◀ [front] [ … ] [back] ◀ senders

Messages flow from right to left: a sender puts a message in on the right, a receiver takes
it out on the left.  The chain is the order the kernel keeps: System V in order of arrival,
with each message's type, so a msgrcv by type visibly takes one from the middle; POSIX the
highest priority first (FIFO within one priority), so a message of a high priority appears
at the front.  Boxes new since the previous snapshot are marked "new"; messages taken since
then stay one snapshot as dashed "taken" outlines, where they were.  Both come from comparing
two snapshots, never from a timer, so a history step redraws exactly.

Below the chain: a gauge of the queue against its limit (System V: bytes against
msg_qbytes; POSIX: messages against mq_maxmsg), who sleeps on it and why (from the
processes' state, syscall and arguments in the Snapshot), and what the list cannot vouch
for (a POSIX list is inferred from the lesson's own calls; "incomplete" when the kernel
counts other messages).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from ...model import provenance
from ...model.msgq import INFERRED, PosixQueueState, QueueState, SysvQueueState
from ...model.snapshot import EXITED, ZOMBIE, Snapshot
from ...scenario.model import Scenario
from .. import words
from ..i18n import add_texts, lang_of, tr
from .bar import PipeBar
from .sources import sources_content
from .lines import no_room, update_static
from .objects import ObjectPanel

SEND_ACTIONS = {"sysv_msgq": ("msgsnd",), "posix_mq": ("mq_send",)}
RECEIVE_ACTIONS = {"sysv_msgq": ("msgrcv",), "posix_mq": ("mq_receive",)}
CALLS = {"sysv_msgq": ("msgsnd", "msgrcv"), "posix_mq": ("mq_send", "mq_receive")}
# Label colours by type / priority: the same type always has the same colour.
PALETTE = ("$text-primary", "$text-warning", "$text-accent", "$text-secondary")
NEW, TAKEN, KEPT = "new", "taken", ""
BOX_MIN, BOX_MAX = 6, 14  # inner width of a box, in cells
GAP = 1  # cells between two boxes
BOX_ROWS = 4
MAX_BOXES = 24  # drawn; the rest of a long queue is one "+N more" box (the stage scrolls)
MANY_AT_AN_END = 6  # more senders (receivers) than this: the end shows counts, not names

# The words of the message queue views: key -> (English, Chinese), read with i18n.tr().
TEXTS: dict[str, tuple[str, str]] = {
    "mq_sysv_title": ("System V queue {oid}", "System V 消息队列 {oid}"),
    "mq_posix_title": ("POSIX queue {oid}", "POSIX 消息队列 {oid}"),
    "mq_empty": ("(empty)", "（空）"),
    "mq_not_listed": ("(messages not listed)", "（消息未列出）"),
    "mq_g_bytes": ("bytes", "字节"),
    "mq_g_messages": ("messages", "消息"),
    "mq_of_bytes": (" / {cap} bytes", " / {cap} 字节"),
    "mq_n_messages": ("{n} message(s)", "{n} 条消息"),
    "mq_of_messages": (" / {cap} messages", " / {cap} 条消息"),
    "mq_each_at_most": (" · each at most {size} bytes", " · 每条最多 {size} 字节"),
    "mq_removed_text": (": msqid {msqid} is no longer in /proc/sysvipc/msg; its messages are gone",
                        "：msqid {msqid} 已不在 /proc/sysvipc/msg 中；其中的消息都没了"),
    "mq_gone_text": ((": the name is unlinked (mq_unlink) and no descriptor is open, so the "
                     "kernel freed it"),
                     "：名字已被删除（mq_unlink），且没有打开的描述符，所以内核释放了它"),
    "mq_unlinked": (("name removed (mq_unlink): no new mq_open finds it, but the queue lives on "
                    "while a descriptor is open"),
                    ("名字已删除（mq_unlink）：新的 mq_open 找不到它，但只要还有描述符打开，"
                    "队列就还在")),
    "mq_how_posix": ("a POSIX queue cannot be looked into without taking a message",
                     "不取走消息就无法查看 POSIX 消息队列的内容"),
    "mq_how_sysv": ("this kernel has no MSG_COPY", "本内核没有 MSG_COPY"),
    "mq_inferred": (("≈ order inferred from the lesson's own sends and receives ({how}); "
                    "the count is the kernel's"),
                    "≈ 顺序是根据课程自己的发送和接收推断的（{how}）；数量来自内核"),
    "mq_incomplete": (("! list incomplete: the kernel counts {n}, {known} known "
                      "(sent from outside the lesson, or by a call not reported yet)"),
                      ("! 列表不完整：内核计数 {n} 条，已知 {known} 条"
                      "（来自课程之外的发送，或尚未报告的调用）")),
    "mq_twice": ("! {n} message(s) received twice", "! {n} 条消息被接收了两次"),
    "mq_lost": ("! {n} message(s) sent but neither received nor in the queue",
                "! {n} 条消息已发送，但既没有被接收也不在队列中"),
    "mq_last": ("last msgsnd by {sender} · last msgrcv by {receiver}",
                "最后 msgsnd：{sender} · 最后 msgrcv：{receiver}"),
    "mq_open_in": ("open in {holders}", "打开它的进程：{holders}"),
    "mq_notify_for": ("mq_notify: {signal} to {name} when a message arrives on the empty "
                      "queue (NOTIFY_PID, read from the kernel)",
                      "mq_notify：消息到达空队列时向 {name} 发送 {signal}（NOTIFY_PID，读自内核）"),
    "mq_sent_received": ("sent {sent} · received {received}", "已发送 {sent} · 已接收 {received}"),
    "mq_sleeps_in": ("sleeps in {call}()", "睡在 {call}() 中"),
    "mq_box_type": ("type {n}", "类型 {n}"),
    "mq_box_prio": ("prio {n}", "优先级 {n}"),
    "mq_box_new": ("new", "新"),
    "mq_box_taken": ("taken", "已取走"),
    "mq_box_more": ("+{n} more", "另 {n} 条"),
    "mq_each": ("{names} ({n} processes), each {why}", "{names}（{n} 个进程）都{why}"),
    "mq_n_asleep": ("■ {n} asleep", "■ {n} 个在睡"),
    "mq_n_ended": ("✕ {n} ended", "✕ {n} 个已结束"),
    "mq_n_other": ("  {n} other", "  其余 {n} 个"),
    "mq_no_fit": ("{text}: {size} bytes do not fit, {free} of {cap} free",
                  "{text}：{size} 字节放不下，{cap} 字节中只剩 {free}"),
    "mq_no_room": ("{text}: no room", "{text}：没有空间"),
    "mq_waits_for": ("{text}: waits for {wanted}", "{text}：等待{wanted}"),
    "mq_queue_full": ("{text}: queue full, {n}/{cap} messages", "{text}：队列满，{n}/{cap} 条消息"),
    "mq_queue_empty": ("{text}: queue empty, waits for any message",
                       "{text}：队列空，等待任意消息"),
    "mq_a_message": ("a message", "一条消息"),
    "mq_any_type": ("a message of any type", "任意类型的消息"),
    "mq_of_type": ("a message of type {t}", "类型为 {t} 的消息"),
    "mq_of_type_le": ("a message of type ≤ {t}", "类型 ≤ {t} 的消息"),
}
add_texts(TEXTS)


@dataclass(frozen=True)
class Box:
    """One message box as drawn: `state` is NEW, TAKEN (a ghost) or KEPT."""

    key: int  # type (System V) or priority (POSIX)
    size: int
    text: str
    sender: str
    state: str = KEPT

    def label(self, family: str, lang: str = "en") -> str:
        return tr("mq_box_type" if family == "sysv_msgq" else "mq_box_prio", lang, n=self.key)


def chain_boxes(previous: tuple | None, current: tuple) -> list[Box]:
    """The messages of `current` in order, marked NEW if not in `previous`, with the ones
    `previous` had and `current` lacks put back as TAKEN where they were.

    A queue only ever removes a message from anywhere and inserts one somewhere, so the
    messages both lists share keep their relative order: a greedy match in order finds them.
    """
    cur = [tuple(m) for m in current]
    if previous is None:
        return [Box(*m[:4]) for m in cur]
    prev = [tuple(m) for m in previous]
    matched: dict[int, int] = {}  # index in prev -> index in cur
    start = 0
    for i, m in enumerate(prev):
        j = next((j for j in range(start, len(cur)) if cur[j] == m), None)
        if j is not None:
            matched[i] = j
            start = j + 1
    kept = set(matched.values())
    before: dict[int, list[Box]] = {}  # ghosts drawn before the box cur[j]
    pending: list[Box] = []
    last_kept = -1
    for i, m in enumerate(prev):
        if i in matched:
            before.setdefault(matched[i], []).extend(pending)
            pending = []
            last_kept = matched[i]
        else:
            pending.append(Box(*m[:4], state=TAKEN))
    out: list[Box] = []
    for j, m in enumerate(cur):
        out.extend(before.get(j, ()))
        if j == last_kept + 1:
            out.extend(pending)  # taken after the last kept one: before what came in after
            pending = []
        out.append(Box(*m[:4], state=KEPT if j in kept else NEW))
    out.extend(pending)
    return out


def _short(text: str, width: int) -> str:
    """Text cut to `width` cells with "…" in the middle: "message number 12" keeps its
    number ("messag…mber 12"), which is often what tells two messages apart.  Cells, not
    characters: a Chinese character takes two."""
    if cell_len(text) <= width:
        return text
    if width < 5:
        return _cells(text, max(width - 1, 0)) + "…"
    head = (width - 1) // 2
    tail = width - 1 - head
    return _cells(text, head) + "…" + _cells(text[::-1], tail)[::-1]


def _cells(text: str, width: int) -> str:
    """The longest start of `text` that fits in `width` cells."""
    out, used = [], 0
    for c in text:
        used += cell_len(c)
        if used > width:
            break
        out.append(c)
    return "".join(out)


def _pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` cells."""
    return text + " " * max(width - cell_len(text), 0)


class MessageChain(Widget):
    """The messages as boxes, front (next out) first, wrapping onto more rows as needed."""

    DEFAULT_CSS = """
    MessageChain { height: auto; width: 1fr; min-width: 10; }
    """

    def __init__(self, family: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.family = family
        self.boxes: list[Box] = []
        self.empty_text = "(empty)"
        self.lang = "en"
        self._one_row = False  # the stage has no room (StageScreen.FOLDS, -fold-detail)

    def set_boxes(self, boxes: list[Box], empty_text: str = "(empty)",
                  lang: str = "en") -> None:
        width = self.size.width
        rows = self.get_content_height(self.size, self.size, width) if width else -1
        self.boxes = list(boxes)
        self.empty_text = empty_text
        self.lang = lang
        one_row = no_room(self)
        changed, self._one_row = one_row != self._one_row, one_row
        # A new layout of the screen only when the chain needs more or fewer rows.
        self.refresh(layout=changed or not width or
                     self.get_content_height(self.size, self.size, width) != rows)

    def _inner(self) -> int:
        want = max((max(cell_len(b.label(self.family, self.lang)) + 2, cell_len(b.text),
                         len(f"{b.size} B")) for b in self.boxes), default=BOX_MIN)
        return min(max(want, BOX_MIN), BOX_MAX)

    def _per_row(self, width: int) -> int:
        return max(1, (width + GAP) // (self._inner() + 2 + GAP))

    def _drawn(self, width: int) -> list[Box | int]:
        """The boxes drawn: all, or the first ones and the count of the others (one row
        of them when the stage has no room)."""
        most = self._per_row(width) if self._one_row else MAX_BOXES
        if len(self.boxes) <= most:
            return list(self.boxes)
        return [*self.boxes[:most - 1], len(self.boxes) - (most - 1)]

    def get_content_height(self, container, viewport, width: int) -> int:
        if not self.boxes:
            return 1
        rows = -(-len(self._drawn(width)) // self._per_row(width))
        return rows * BOX_ROWS

    def render(self) -> Content:
        width = self.content_region.width or self.size.width
        if not self.boxes:
            return Content.styled(self.empty_text, "italic $text-muted")
        inner = self._inner()
        per_row = self._per_row(width)
        boxes = self._drawn(width)
        lines: list[Content] = []
        for r in range(0, len(boxes), per_row):
            row = boxes[r:r + per_row]
            drawn = [self._box(b, inner) if isinstance(b, Box) else self._more(b, inner)
                     for b in row]
            for k in range(BOX_ROWS):
                lines.append(Content(" " * GAP).join(d[k] for d in drawn))
        return Content("\n").join(lines)

    def _box(self, b: Box, w: int) -> list[Content]:
        label = _short(b.label(self.family, self.lang), w - 1)
        colour = PALETTE[b.key % len(PALETTE)]
        if b.state == TAKEN:
            edge = "$text-muted"
            h, v, corners = "┄", "┆", "╭╮╰╯"
            label_style, text_style = "$text-muted", "$text-muted strike"
            foot = tr("mq_box_taken", self.lang)
        else:
            edge = "b $text-success" if b.state == NEW else "$foreground 50%"
            h, v, corners = "─", "│", "╭╮╰╯"
            label_style, text_style = f"b {colour}", ""
            foot = tr("mq_box_new", self.lang) if b.state == NEW else ""
        top = Content.assemble((corners[0] + h, edge), (label, label_style),
                               (h * (w - 1 - cell_len(label)) + corners[1], edge))
        size = f"{b.size} B"
        who = f" {b.sender}" if b.sender not in ("?", None) else ""
        second = size + (who if cell_len(size) + cell_len(who) <= w else "")
        body = [Content.assemble((v, edge), (_pad(_short(b.text, w), w), text_style), (v, edge)),
                Content.assemble((v, edge), (_pad(_short(second, w), w), "$text-muted"),
                                 (v, edge))]
        foot = _short(foot, w)
        bottom = Content.assemble((corners[2] + h * (w - cell_len(foot)), edge), (foot, edge),
                                  (corners[3], edge))
        return [top, *body, bottom]

    def _more(self, n: int, w: int) -> list[Content]:
        edge = "$text-muted"
        text = _short(tr("mq_box_more", self.lang, n=n), w)
        return [Content.styled("╭" + "┄" * w + "╮", edge),
                Content.assemble(("┆", edge), (_pad(text, w), "b"), ("┆", edge)),
                Content.assemble(("┆", edge), (_pad("…", w), "$text-muted"), ("┆", edge)),
                Content.styled("╰" + "┄" * w + "╯", edge)]

    def plain(self) -> str:
        """The chain as one line of text (tests, and a reader of a failure message)."""
        return " ".join(f"[{b.label(self.family)} {b.text!r}{' ' + b.state if b.state else ''}]"
                        for b in self.boxes) or self.empty_text


class QueueView(ObjectPanel):
    """Kernel-space box of one message queue of the scenario (System V or POSIX)."""

    DEFAULT_CSS = """
    QueueView { border-subtitle-color: $text-muted; }
    QueueView.-full { border: heavy $error; }
    QueueView.-gone > .msgq--flow, QueueView.-gone > .msgq--gauge,
    QueueView.-unborn > .msgq--flow, QueueView.-unborn > .msgq--gauge { display: none; }
    QueueView > .msgq--flow { height: auto; }
    QueueView .msgq--end { width: auto; max-width: 22%; min-width: 8; height: auto; }
    QueueView .msgq--end.-out { padding-right: 1; }
    QueueView .msgq--end.-in { padding-left: 1; }
    QueueView > .msgq--gauge { height: auto; margin-top: 0; }
    QueueView > .msgq--gauge > PipeBar { width: 1fr; }
    QueueView > .msgq--gauge > .msgq--gauge-label {
        width: auto; padding-right: 1; color: $text-secondary;
    }
    QueueView > .msgq--numbers { height: auto; }
    QueueView > .msgq--details { height: auto; }
    """

    def __init__(self, oid: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.oid = oid
        self.scenario = scenario
        self.family = scenario.object(oid).kind
        self.what = "System V queue" if self.family == "sysv_msgq" else "POSIX queue"
        self.border_title = f"{self.what} {oid}"
        self.lang = "en"  # the app's language when the view was last drawn
        self.state: QueueState | None = None
        self.senders = self._lesson_processes(SEND_ACTIONS.get(self.family, ()))
        self.receivers = self._lesson_processes(RECEIVE_ACTIONS.get(self.family, ()))
        # The queue's contents as last seen at each snapshot index of the current run: the
        # boxes new or taken at index i are the difference with what index i-1 showed.
        self._seen: dict[int, tuple] = {}
        self._run_mark: tuple | None = None

    def _lesson_processes(self, actions: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for s in self.scenario.steps:
            if s.action in actions and s.args.get("object") == self.oid and s.process not in out:
                out.append(s.process)
        return out

    def compose(self):
        # Kept as attributes: show() runs at every snapshot, a query walks the DOM each time.
        self._out_end = Static(classes="msgq--end -out")
        self._chain = MessageChain(self.family)
        self._in_end = Static(classes="msgq--end -in")
        self._gauge_label = Static(classes="msgq--gauge-label")
        self._bar = PipeBar()
        self._numbers_text = Static(classes="msgq--numbers")
        self._details_text = Static(classes="msgq--details")
        with Horizontal(classes="msgq--flow"):
            yield self._out_end
            yield self._chain
            yield self._in_end
        with Horizontal(classes="msgq--gauge"):
            yield self._gauge_label
            yield self._bar
        yield self._numbers_text
        yield self._details_text

    # -- drawing --------------------------------------------------------------------------

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = self.lang = lang_of(self)
        self.border_title = tr("mq_sysv_title" if self.family == "sysv_msgq" else
                               "mq_posix_title", lang, oid=self.oid)
        o = snapshot.object_named(self.oid)
        chain, numbers, details = self._chain, self._numbers_text, self._details_text
        self.set_class(o is None, "-unborn")
        previous = self._previous(snapshot, o)
        if not isinstance(o, QueueState):
            self.state = None
            self.set_class(False, "-full")
            self.set_class(False, "-gone")
            step = words.create_step(self.scenario, self.oid)
            when = (tr("creates_it", lang, process=step.process, step=step.number) if step
                    else "")
            self.border_subtitle = ""
            chain.set_boxes([])
            update_static(numbers, Content.styled(tr("not_created", lang, when=when), "italic"))
            update_static(details, Content(""))
            return
        self.state = o
        gone = not o.present and (isinstance(o, SysvQueueState) or o.messages is None)
        self.set_class(gone, "-gone")
        self.border_subtitle = self._subtitle(o)
        boxes = [] if gone else chain_boxes(previous, o.contents)
        chain.set_boxes(boxes, tr("mq_empty" if o.messages == 0 or o.messages is None
                                  else "mq_not_listed", lang), lang)
        self._ends(o, snapshot)
        full = self._gauge(o)
        self.set_class(full and not gone, "-full")
        update_static(numbers, self._removed(o) if gone else self._numbers(o, full))
        body = self._details(o, snapshot, gone)
        if sources:
            pids = {p.name: p.pid for p in snapshot.processes}
            src = sources_content(provenance.for_object(o, None, pids))
            body = Content("\n").join([body, src]) if body.plain else src
        update_static(details, body)

    def _previous(self, snapshot: Snapshot, o) -> tuple | None:
        """What this queue held at the snapshot before this one (None: not known)."""
        if snapshot.index == 0:
            mark = tuple(p.pid for p in snapshot.processes)
            if mark != self._run_mark:  # a new run (restart): forget the old one's snapshots
                self._seen = {}
                self._run_mark = mark
        if isinstance(o, QueueState):
            self._seen[snapshot.index] = o.contents
        elif snapshot.index in self._seen:
            del self._seen[snapshot.index]
        return self._seen.get(snapshot.index - 1) if snapshot.index > 0 else None

    def _subtitle(self, o: QueueState) -> str:
        parts = []
        if isinstance(o, SysvQueueState):
            if o.key is not None:
                parts.append(f"key 0x{o.key:08x}")
            if o.msqid is not None:
                parts.append(f"msqid {o.msqid}")
        elif isinstance(o, PosixQueueState) and o.name:
            parts.append(o.name)
        if o.mode:
            parts.append(f"mode {o.mode}")
        return " · ".join(parts)

    def _ends(self, o: QueueState, snapshot: Snapshot) -> None:
        send, receive = CALLS.get(self.family, ("send", "receive"))
        out_end, in_end = self._out_end, self._in_end
        update_static(out_end, self._end(f"◀ {receive}", self.receivers, o.blocked_receivers,
                                         snapshot))
        update_static(in_end, self._end(f"◀ {send}", self.senders, o.blocked_senders, snapshot))

    def _end(self, head: str, names: list[str], blocked: tuple[str, ...],
             snapshot: Snapshot) -> Content:
        lines = [Content.styled(head, "b $text-secondary")]
        if len(names) > MANY_AT_AN_END:
            # A crowd: counts, always the same four lines (the table above names them all)
            ended = sum(1 for n in names if n not in blocked and (p := snapshot.process_named(n))
                        is not None and p.state in (EXITED, ZOMBIE))
            lang = self.lang
            lines += [Content.styled(tr("mq_n_asleep", lang, n=len(blocked)),
                                     "b $text-error" if blocked else "$text-muted"),
                      Content.styled(tr("mq_n_ended", lang, n=ended), "$text-muted"),
                      Content(tr("mq_n_other", lang, n=len(names) - len(blocked) - ended))]
            return Content("\n").join(lines)
        for name in [*blocked, *(n for n in names if n not in blocked)]:
            p = snapshot.process_named(name)
            if name in blocked:
                lines.append(Content.styled(f"■ {name}", "b $text-error"))
            elif p is not None and p.state in (EXITED, ZOMBIE):
                lines.append(Content.styled(f"✕ {name}", "$text-muted"))  # the queue outlives it
            elif p is not None:
                lines.append(Content(f"  {name}"))
        return Content("\n").join(lines)

    def _gauge(self, o: QueueState) -> bool:
        """Set the gauge; True when the queue is at its limit."""
        label, bar = self._gauge_label, self._bar
        if isinstance(o, SysvQueueState):
            used, limit, what = o.bytes, o.max_bytes, "mq_g_bytes"
        else:
            used, limit, what = o.messages, getattr(o, "max_messages", None), "mq_g_messages"
        update_static(label, Content(tr(what, self.lang)))
        known = used is not None and bool(limit)
        bar.set_fill(used / limit if known else 0.0, known)
        return known and used >= limit

    def _numbers(self, o: QueueState, full: bool) -> Content:
        lang = self.lang
        n = "?" if o.messages is None else str(o.messages)
        tag = (tr("full_tag", lang) if full else tr("empty_tag", lang) if o.messages == 0
               else "")
        tag_style = "b $text-error" if full else "$text-muted"
        if isinstance(o, SysvQueueState):
            b = "?" if o.bytes is None else str(o.bytes)
            cap = "?" if o.max_bytes is None else str(o.max_bytes)
            if lang == "en":
                count = (words.count(o.messages, "message") if o.messages is not None
                         else "? messages")
            else:
                count = tr("mq_n_messages", lang, n=n)
            return Content.assemble(
                (b, "b"), tr("mq_of_bytes", lang, cap=cap), ("  (msg_qbytes)", "$text-muted"),
                " · ", (count, "b"), (tag, tag_style))
        cap = "?" if o.max_messages is None else str(o.max_messages)
        size = "?" if o.max_message_size is None else str(o.max_message_size)
        return Content.assemble(
            (n, "b"), tr("mq_of_messages", lang, cap=cap), ("  (mq_maxmsg)", "$text-muted"),
            tr("mq_each_at_most", lang, size=size), (tag, tag_style))

    def _removed(self, o: QueueState) -> Content:
        lang = self.lang
        if isinstance(o, SysvQueueState):
            return Content.assemble((tr("mq_removed", lang), "b"),
                                    tr("mq_removed_text", lang, msqid=o.msqid))
        return Content.assemble((tr("mq_gone", lang), "b"), tr("mq_gone_text", lang))

    def _details(self, o: QueueState, snapshot: Snapshot, gone: bool) -> Content:
        lang = self.lang
        lines: list[Content] = []
        # One line per reason: thirty receivers asleep for the same reason are one line.
        reasons: dict[str, list[str]] = {}
        for name in (*o.blocked_senders, *o.blocked_receivers):
            reasons.setdefault(self._why(name, snapshot, o), []).append(name)
        for why, names in reasons.items():
            text = (f"■ {names[0]} {why}" if len(names) == 1 else
                    "■ " + tr("mq_each", lang, names=_names(names), n=len(names), why=why))
            lines.append(Content.styled(text, "b $text-error"))
        if gone:
            return Content("\n").join(lines)
        return Content("\n").join(lines + self._warnings(o) + [self._facts(o)])

    def _warnings(self, o: QueueState) -> list[Content]:
        """What the reading of the queue could not show, or showed twice."""
        lang = self.lang
        lines: list[Content] = []
        if isinstance(o, PosixQueueState) and not o.present:
            lines.append(Content.styled(tr("mq_unlinked", lang), "$text-warning"))
        if o.contents_source == INFERRED and (o.contents or o.messages):
            how = tr("mq_how_posix" if isinstance(o, PosixQueueState) else "mq_how_sysv", lang)
            lines.append(Content.styled(tr("mq_inferred", lang, how=how), "$text-warning"))
        if not o.complete:
            known = len(o.contents)
            lines.append(Content.styled(
                tr("mq_incomplete", lang, n=o.messages, known=known), "b $text-warning"))
        if o.duplicates:
            lines.append(Content.styled(tr("mq_twice", lang, n=o.duplicates),
                                        "b $text-error"))
        lost = o.lost
        if lost:
            lines.append(Content.styled(tr("mq_lost", lang, n=lost), "b $text-warning"))
        return lines

    def _facts(self, o: QueueState) -> Content:
        lang = self.lang
        facts = []
        if isinstance(o, SysvQueueState) and (o.last_sender or o.last_receiver):
            facts.append(tr("mq_last", lang, sender=o.last_sender or '-',
                            receiver=o.last_receiver or '-'))
        if isinstance(o, PosixQueueState) and o.holders:
            facts.append(tr("mq_open_in", lang, holders=", ".join(o.holders)))
        facts.append(tr("mq_sent_received", lang, sent=o.sent, received=o.received))
        body = Content.styled(" · ".join(facts), "$text-muted")
        if isinstance(o, PosixQueueState) and o.notify_process:
            body = Content("\n").join([body, Content.styled(
                tr("mq_notify_for", lang, signal=o.notify_signal or "?",
                   name=o.notify_process), "$text-accent")])
        return body

    def _why(self, name: str, snapshot: Snapshot, o: QueueState) -> str:
        """'sleeps in msgsnd(): 16 bytes do not fit, 0 of 64 free', from the kernel's facts."""
        p = snapshot.process_named(name)
        call = p.syscall if p and p.syscall else "?"
        args = p.syscall_args if p else ()
        lang = self.lang
        # named as the lesson's code calls it (mq_receive), not the syscall (mq_timedreceive)
        named = (words.c_call_of(p, self.scenario) if p else None) or call
        text = tr("mq_sleeps_in", lang, call=named)
        if isinstance(o, SysvQueueState):
            if call == "msgsnd":
                free = (o.max_bytes - o.bytes) if o.max_bytes is not None and \
                    o.bytes is not None else None
                if len(args) > 2 and free is not None:
                    return tr("mq_no_fit", lang, text=text, size=args[2], free=free,
                              cap=o.max_bytes)
                return tr("mq_no_room", lang, text=text)
            if call == "msgrcv":
                return tr("mq_waits_for", lang, text=text, wanted=_wanted_type(args, lang))
        elif isinstance(o, PosixQueueState):
            if call == "mq_timedsend":
                return tr("mq_queue_full", lang, text=text, n=o.messages, cap=o.max_messages)
            if call == "mq_timedreceive":
                return tr("mq_queue_empty", lang, text=text)
        return text


def _names(names: list[str]) -> str:
    """'a, b, c', or 'c01 … c31' when there are more than four."""
    return ", ".join(names) if len(names) <= 4 else f"{names[0]} … {names[-1]}"


def _signed(a: int) -> int:
    """A syscall argument read as an unsigned 64-bit number, as the C long it is."""
    return a - (1 << 64) if a >= 1 << 63 else a


def _wanted_type(args: tuple[int, ...], lang: str = "en") -> str:
    """What msgrcv(msqid, msgp, msgsz, msgtyp, msgflg) waits for, from its 4th argument."""
    if len(args) < 4:
        return tr("mq_a_message", lang)
    t = _signed(args[3])
    if t == 0:
        return tr("mq_any_type", lang)
    if t > 0:
        return tr("mq_of_type", lang, t=t)
    return tr("mq_of_type_le", lang, t=-t)


OBJECT_VIEWS = {"sysv_msgq": QueueView, "posix_mq": QueueView}
