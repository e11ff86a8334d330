"""A shared memory region in kernel space: its first bytes as a grid, who maps it, who wrote.

    mapped into  ▣ writer @0x7f…5000   ▣ reader @0x7f…5000      not mapped: main
    counter = 42   (C long at byte 0)
    0000  2a 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  *...............
    0016–0255  all zero  ·  bytes 256–4095 not read
    ▲ 1 byte changed at step 7: reader stored it, no system call

The bytes are the ones the probe read (pread of /dev/shm/NAME, or /proc/PID/mem of a process
that maps it) and decoded the way `od -A d -t x1` prints them, so the grid matches the
command in the sources.  The bytes that changed since the previous snapshot are marked:
the previous one is the snapshot of index-1 this view drew (as the message-queue view does),
never a timer, so a history step redraws exactly.  Named fields (a counter, a ring's indexes
and slots, a string a step stored) come from the model's layout and the lesson's own store
steps; each is tinted the same in the legend and in the grid.

A file of the copy lesson gets a compact view: its size, its hash and the copies the data
made on its way to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from ...model import provenance
from ...model.shm import AnonState, FileState, RegionState
from ...model.snapshot import BLOCKED, EXITED, RETURNED, ZOMBIE, Snapshot
from ...scenario.model import Scenario
from .. import words
from ..i18n import Note, add_texts, lang_of, note, say, tr
from .sources import sources_content
from .lines import no_room, put
from .objects import ObjectPanel

# Steps that change a region's bytes (plain stores into memory, or read() into it).
WRITES = {"store", "increment", "put", "get", "produce", "consume", "read_into"}
# An unnamed semaphore's calls: glibc writes the sem_t in the region in user space, before a
# sem_wait goes to sleep in futex() too (its count of sleepers)
SEM_WRITES = {"sem_init", "sem_wait_at", "sem_post_at"}
FIELD_STYLES = ("$text-primary", "$text-accent", "$text-success", "$text-secondary")
CHANGED = "b $foreground on $warning 45%"
WIDE, NARROW = 16, 8  # bytes per row
MAX_ROWS = 4  # rows of bytes drawn at most (the rest is summarised)

# The words of the shared memory and file views: key -> (English, Chinese), read with
# i18n.tr().
TEXTS: dict[str, tuple[str, str]] = {
    "shm_posix_title": ("POSIX shared memory {oid}", "POSIX 共享内存 {oid}"),
    "shm_sysv_title": ("System V shared memory {oid}", "System V 共享内存 {oid}"),
    "shm_bytes_unknown": ("bytes unknown", "字节未知"),
    "shm_unknown_unmapped": (("bytes unknown: nobody maps it, and ipcviz does not attach (that "
                             "would change nattch)"),
                             "字节未知：没有进程映射它，而 ipcviz 不会去 attach"
                             "（那会改变 nattch）"),
    "shm_no_bytes_read": ("no bytes read", "没有读到字节"),
    "shm_all_zero": ("all zero", "全为零"),
    "shm_not_zero": ("{n} not zero (not drawn)", "{n} 个非零（未画出）"),
    "shm_not_read": ("bytes {a}–{b} not read by ipcviz", "字节 {a}–{b} 未被 ipcviz 读取"),
    "shm_destroyed": ("destroyed", "已销毁"),
    "shm_destroyed_text": ((": the last process detached after IPC_RMID; shmid {shmid} is no "
                           "longer in /proc/sysvipc/shm (ipcs -m)"),
                           ("：IPC_RMID 之后最后一个进程已 detach；shmid {shmid} 已不在 "
                           "/proc/sysvipc/shm 中（ipcs -m）")),
    "shm_gone_text": ((": the name is unlinked and no process maps it, so the kernel freed the "
                      "memory"), "：名字已被删除，且没有进程映射它，所以内核释放了这块内存"),
    "shm_bytes": (" bytes", " 字节"),
    "shm_attach_count": (" (the kernel's attach count)", "（内核的 attach 计数）"),
    "shm_how_pread": ("pread of the file, no mapping", "pread 读文件，不做映射"),
    "shm_how_attach": ("{src}, no attach", "{src}，不 attach"),
    "shm_read_with": ("  ·  bytes read with {how}", "  ·  字节读取方式：{how}"),
    "shm_marked_rmid": ("⚑ marked for removal (IPC_RMID)", "⚑ 已标记删除（IPC_RMID）"),
    "shm_rmid_text": (": key is now 0, nobody new can find it; freed at the last shmdt",
                      "：key 现在是 0，新进程找不到它；最后一次 shmdt 时释放"),
    "shm_unlinked": ("⚑ name unlinked (shm_unlink)", "⚑ 名字已删除（shm_unlink）"),
    "shm_unlinked_text": (": gone from /dev/shm, the memory lives while it is mapped",
                          "：已从 /dev/shm 消失，只要还被映射，内存就还在"),
    "shm_mapped_into": ("mapped into ", "映射到 "),
    "shm_nobody": ("nobody", "无"),
    "shm_wrote": (" ✎ wrote", " ✎ 写入"),
    "shm_not_mapped": ("  not mapped: {names}", "  未映射：{names}"),
    "shm_ring": ("ring ", "环形缓冲区 "),
    "shm_filled": ("{items} of {slots} filled", "{slots} 格中已填 {items} 格"),
    "shm_slots": ("slots ", "槽 "),
    "shm_n_free": ("  (n) free", "  (n) 空闲"),
    "shm_reported": ("{n} ++ reported by the processes", "进程报告了 {n} 次 ++"),
    "shm_lost": ("  ·  {n} lost", "  ·  丢失 {n} 次"),
    "shm_none_lost": ("  ·  none lost", "  ·  没有丢失"),
    "shm_inferred_counts": ("  (inferred: counts from the steps vs the counter in memory)",
                            "  （推断：步骤中的计数 对比 内存中的计数器）"),
    "shm_no_change": ("no byte changed since the previous snapshot",
                      "自上一个快照以来没有字节改变"),
    "shm_n_changed": ("{n} byte(s) changed", "{n} 个字节改变"),
    "shm_at_step": (" at step {step}: ", "，在第 {step} 步："),
    "shm_stored_it": (" stored it: no system call", " 写入了它：没有系统调用"),
    "shm_sem_wrote": ((" wrote the sem_t: glibc changes its bytes in user space, and calls "
                       "futex() only to sleep or to wake a sleeper"),
                      (" 写了这个 sem_t：glibc 在用户态修改它的字节，"
                       "只在睡眠或唤醒睡眠者时调用 futex()")),
    "shm_during_step": ((" during step {step} (written by a process that maps it, not by this "
                        "step's call)"),
                        "，在第 {step} 步期间（由映射它的进程写入，不是这一步的调用）"),
    "shm_ring_in": (": the next put fills this slot", "：下一次放入这个槽"),
    "shm_ring_out": (": the next get takes this one", "：下一次从这个槽取出"),
    "shm_ring_legend": ("[   ] free: its old value stays in memory",
                        "[   ] 空闲：旧值仍留在内存中"),
    "shm_note_put": ("items ever put", "累计放入"),
    "shm_note_taken": ("items ever taken", "累计取出"),
    "shm_note_free": ("free", "空闲"),
    "shm_note_long": ("C long at byte {at}", "C long，在第 {at} 字节"),
    "shm_note_string": ("{n} chars + NUL at byte {at}", "{n} 个字符 + NUL，在第 {at} 字节"),
    "shm_note_nul": ("up to the first NUL", "到第一个 NUL 为止"),
    "file_title": ("file {oid}", "文件 {oid}"),
    "file_copies": ("copies on the way here: ", "一路上的拷贝次数："),
    "file_moved": ("  ({copied} bytes moved, {us} µs copying, measured by the processes)",
                   "  （搬运 {copied} 字节，拷贝耗时 {us} µs，由进程测得）"),
    "anon_title": ("anonymous mapping {oid}", "匿名映射 {oid}"),
    "anon_head": ("process      value   Rss  Shared_Dirty  Private_Dirty  Anonymous (kB)",
                  "进程           值   Rss  Shared_Dirty  Private_Dirty  Anonymous (kB)"),
    "anon_nobody": ("mapped by no live process", "没有存活的进程映射它"),
    "anon_from": ("from /proc/PID/smaps and /proc/PID/mem, per process",
                  "来自每个进程的 /proc/PID/smaps 和 /proc/PID/mem"),
    "anon_own_copy": ("  ← its own copy", "  ← 自己的副本"),
    "anon_one_page": ("  ← one page, mapped twice", "  ← 同一页，被映射两次"),
}
add_texts(TEXTS)


@dataclass(frozen=True)
class Field:
    """A named part of the region: `length` bytes at `offset`, shown as `value`."""

    label: str
    offset: int
    length: int
    value: str
    style: str
    note: Note | None = None  # what the value is, worded where it is drawn


def region_bytes(o: RegionState) -> bytes | None:
    """The bytes the probe read (None: unknown)."""
    if o.bytes_source is None and not o.data:
        return None
    try:
        return bytes.fromhex(o.data)
    except ValueError:
        return None


def changed_offsets(before: bytes | None, now: bytes | None) -> set[int]:
    """Offsets whose byte differs; nothing when either side is unknown."""
    if before is None or now is None:
        return set()
    n = min(len(before), len(now))
    return {i for i in range(n) if before[i] != now[i]}


def last_store(scenario: Scenario, oid: str, step: int):
    """The lesson's last `store` into this region at or before step `step`."""
    found = None
    for s in scenario.steps[:step]:
        if s.action == "store" and s.args.get("object") == oid:
            found = s
    return found


def fields_of(o: RegionState, scenario: Scenario, step: int) -> list[Field]:
    """The region's named fields: the model's layout first, else the lesson's last store."""
    data = region_bytes(o) or b""
    if o.slots and o.ring_in is not None:
        out = [Field("in", 0, 8, str(o.ring_in), FIELD_STYLES[0], note("shm_note_put")),
               Field("out", 8, 8, str(o.ring_out), FIELD_STYLES[1], note("shm_note_taken"))]
        live = o.live_slots()
        for i, v in enumerate(o.ring):
            full = bool(live and live[i])
            out.append(Field(f"slot[{i}]", 16 + 8 * i, 8, str(v) if full else f"({v})",
                             FIELD_STYLES[2] if full else "$text-muted",
                             None if full else note("shm_note_free")))
        return out
    if o.layout == "counter" and o.counter is not None:
        return [Field("counter", 0, 8, str(o.counter), FIELD_STYLES[0],
                      note("shm_note_long", at=0))]
    s = last_store(scenario, o.id, step)
    if s is not None:
        at = int(s.args.get("at", 0) or 0)
        if "data" in s.args and data:
            end = data.find(b"\0", at)
            end = len(data) if end < 0 else end
            text = data[at:end].decode("ascii", "replace")
            return [Field("string", at, end - at + 1, repr(text), FIELD_STYLES[0],
                          note("shm_note_string", n=end - at, at=at))]
        if len(data) >= at + 8:
            value = int.from_bytes(data[at:at + 8], "little", signed=True)
            return [Field("long", at, 8, str(value), FIELD_STYLES[0],
                          note("shm_note_long", at=at))]
    if o.text:
        return [Field("text", 0, len(o.text) + 1, repr(o.text), FIELD_STYLES[0],
                      note("shm_note_nul"))]
    return []


def writers_of(snapshot: Snapshot, scenario: Scenario, oid: str) -> list[tuple[str, str]]:
    """(process, action) of this snapshot's steps that wrote into the region: the log lines
    that came with it (a step that returned, or an earlier one that woke and finished)."""
    out: list[tuple[str, str]] = []
    fresh = snapshot.log[len(snapshot.log) - snapshot.fresh:] if snapshot.fresh else ()
    for e in fresh:
        if not 0 < e.step <= len(scenario.steps):
            continue
        s = scenario.steps[e.step - 1]
        if e.outcome != RETURNED and not (e.outcome == BLOCKED and s.action in SEM_WRITES):
            continue
        touches = oid in (s.args.get("object"), s.args.get("region"))
        if s.action in WRITES | SEM_WRITES and touches and (e.process, s.action) not in out:
            out.append((e.process, s.action))
    return out


class ByteGrid(Widget):
    """The first bytes of a region as `od -A d -t x1` would print them, plus printable
    characters; changed bytes highlighted, named fields tinted."""

    DEFAULT_CSS = """
    ByteGrid { height: auto; width: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data: bytes | None = None
        self.changed: set[int] = set()
        self.fields: list[Field] = []
        self.size_total: int | None = None
        self.unknown = "bytes unknown"
        self.lang = "en"

    def set_bytes(self, data: bytes | None, changed: set[int], fields: list[Field],
                  size: int | None, unknown: str = "bytes unknown", lang: str = "en") -> None:
        self.data, self.changed, self.fields = data, set(changed), list(fields)
        self.size_total, self.unknown, self.lang = size, unknown, lang
        self.refresh(layout=True)

    # -- geometry -------------------------------------------------------------------------

    @staticmethod
    def per_row(width: int) -> int:
        return WIDE if width >= 5 + WIDE * 3 + 2 + WIDE else NARROW

    def _rows(self, per_row: int) -> int:
        """Rows of bytes drawn: through the last interesting byte, at most MAX_ROWS."""
        data = self.data or b""
        if not data:
            return 0
        marks = [i for i, b in enumerate(data) if b] + list(self.changed)
        marks += [f.offset + f.length - 1 for f in self.fields]
        last = min(max(marks, default=0), len(data) - 1)
        if no_room(self):
            return 1  # the stage has no room (StageScreen.FOLDS): the tail counts the rest
        return max(1, min(last // per_row + 1, MAX_ROWS * (WIDE // per_row)))

    def get_content_height(self, container, viewport, width: int) -> int:
        if not self.data:
            return 1
        per = self.per_row(width)
        rows = self._rows(per)
        shown = rows * per
        tail = 1 if shown < len(self.data) or (self.size_total or 0) > len(self.data) else 0
        return rows + tail

    # -- drawing --------------------------------------------------------------------------

    def _style_of(self, i: int, b: int) -> str:
        if i in self.changed:
            return CHANGED
        for f in self.fields:
            if f.offset <= i < f.offset + f.length:
                return f"underline {f.style}" if b else f"underline {f.style} 60%"
        return "" if b else "$text-muted"

    def render(self) -> Content:
        data = self.data
        if not data:
            return Content.styled(self.unknown, "italic $text-muted")
        width = self.content_region.width or self.size.width
        per = self.per_row(width)
        rows = self._rows(per)
        lines: list[Content] = []
        for r in range(rows):
            start = r * per
            chunk = data[start:start + per]
            parts: list = [(f"{start:04d}  ", "$text-muted")]
            for k, b in enumerate(chunk):
                if k and k % 8 == 0:
                    parts.append(" ")
                parts.append((f"{b:02x}", self._style_of(start + k, b)))
                parts.append(" ")
            parts.append("   " * (per - len(chunk)) + " ")
            for k, b in enumerate(chunk):
                ch = chr(b) if 32 <= b < 127 else "."
                parts.append((ch, self._style_of(start + k, b) or
                              ("" if 32 <= b < 127 else "$text-muted")))
            lines.append(Content.assemble(*parts))
        tail = self._tail(rows * per)
        if tail:
            lines.append(Content.styled(tail, "$text-muted"))
        return Content("\n").join(lines)

    def _tail(self, shown: int) -> str:
        data = self.data or b""
        parts = []
        if shown < len(data):
            rest = data[shown:]
            what = tr("shm_all_zero", self.lang) if not any(rest) else \
                tr("shm_not_zero", self.lang, n=sum(1 for b in rest if b))
            parts.append(f"{shown:04d}–{len(data) - 1:04d}  {what}")
        if self.size_total and self.size_total > len(data):
            parts.append(tr("shm_not_read", self.lang, a=len(data), b=self.size_total - 1))
        return "  ·  ".join(parts)

    def plain(self) -> str:
        """The grid as text (tests): hex of the drawn bytes."""
        data = self.data or b""
        return " ".join(f"{b:02x}" for b in data[:self._rows(WIDE) * WIDE])


MAX_RING_DRAWN = 16  # slots drawn as cells; a longer ring keeps its one-line summary


def ring_rows(values: tuple[int, ...], live: tuple[bool, ...], slot_in: int,
              slot_out: int) -> list[list[tuple[str, str]]]:
    """The ring as cells, one list of (text, role) runs per row: the `in` marker over the
    slot the next put fills, the cells, the `out` marker under the slot the next get
    takes.  Roles: "item", "free", "in", "out", "".  Pure: values and indexes as read
    from the region's bytes; a free slot is drawn empty (its stale value is in the grid).

        [ 14 ][ 15 ][    ][    ]
                      ↓ in        (over the cells, in the first row)
          ↑ out
    """
    if not values or len(values) != len(live):
        return []
    inner = max(max(len(str(v)) for v in values), 1) + 2
    cells_row: list[tuple[str, str]] = []
    for v, full in zip(values, live):
        text = f"{v}".center(inner) if full else " " * inner
        cells_row.append((f"[{text}]", "item" if full else "free"))
    width = inner + 2

    def marker(slot: int, arrow: str, word: str, role: str) -> list[tuple[str, str]]:
        at = slot * width + width // 2
        return [(" " * at, ""), (f"{arrow} {word}", role)]

    return [marker(slot_in, "↓", "in", "in"), cells_row, marker(slot_out, "↑", "out", "out")]


class RegionView(ObjectPanel):
    """Kernel-space box of one shared memory region (POSIX shm_open or System V shmget)."""

    DEFAULT_CSS = """
    RegionView { border-subtitle-color: $text-muted; }
    RegionView.-changed { border: round $warning; }
    RegionView.-gone > ByteGrid, RegionView.-unborn > ByteGrid,
    RegionView.-gone > .shm--fields, RegionView.-unborn > .shm--fields,
    RegionView.-gone > .shm--ring, RegionView.-unborn > .shm--ring,
    RegionView.-unborn > .shm--maps { display: none; }
    RegionView > Static { height: auto; }
    RegionView > ByteGrid { margin: 0 0; }
    """

    def __init__(self, oid: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.oid = oid
        self.scenario = scenario
        self.kind = scenario.object(oid).kind
        self.what = "POSIX shared memory" if self.kind == "shm" else "System V shared memory"
        self.border_title = f"{self.what} {oid}"
        self.lang = "en"  # the app's language when the view was last drawn
        self.state: RegionState | None = None
        self.changed: set[int] = set()
        self.writers: list[tuple[str, str]] = []
        # The bytes as last seen at each snapshot index of the current run: the changed
        # bytes at index i are the difference with what index i-1 showed.
        self._seen: dict[int, bytes | None] = {}
        self._run_mark: tuple | None = None

    def compose(self):
        yield Static(classes="shm--summary")
        yield Static(classes="shm--maps")
        yield Static(classes="shm--fields")
        yield Static(classes="shm--ring")
        yield ByteGrid()
        yield Static(classes="shm--change")
        yield Static(classes="shm--details")

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = self.lang = lang_of(self)
        self.border_title = tr("shm_posix_title" if self.kind == "shm" else "shm_sysv_title",
                               lang, oid=self.oid)
        o = snapshot.object_named(self.oid)
        summary = self.query_one(".shm--summary", Static)
        maps = self.query_one(".shm--maps", Static)
        fields = self.query_one(".shm--fields", Static)
        ring = self.query_one(".shm--ring", Static)
        grid = self.query_one(ByteGrid)
        change = self.query_one(".shm--change", Static)
        details = self.query_one(".shm--details", Static)
        data = region_bytes(o) if isinstance(o, RegionState) and o.exists else None
        previous = self._previous(snapshot, data)
        self.set_class(o is None, "-unborn")
        if not isinstance(o, RegionState):
            self.state = None
            self.changed, self.writers = set(), []
            self.set_class(False, "-gone")
            self.set_class(False, "-changed")
            step = words.create_step(self.scenario, self.oid)
            when = (tr("creates_it", lang, process=step.process, step=step.number) if step
                    else "")
            self.border_subtitle = ""
            put(summary, Content.styled(tr("not_created", lang, when=when), "italic"))
            for w in (maps, fields, ring, change, details):
                put(w, Content(""))
            grid.set_bytes(None, set(), [], None, tr("shm_bytes_unknown", lang), lang)
            return
        self.state = o
        self.set_class(not o.exists, "-gone")
        self.border_subtitle = self._subtitle(o)
        self.changed = changed_offsets(previous, data)
        self.writers = writers_of(snapshot, self.scenario, self.oid)
        self.set_class(bool(self.changed), "-changed")
        put(summary, self._summary(o))
        if not o.exists:
            put(maps, Content(""))
            put(ring, Content(""))
            put(change, Content(""))
            grid.set_bytes(None, set(), [], None, tr("shm_bytes_unknown", lang), lang)
        else:
            put(maps, self._maps(o, snapshot))
            flds = fields_of(o, self.scenario, snapshot.step)
            put(fields, self._fields(o, flds))
            ring_drawn = self._ring(o)
            put(ring, ring_drawn)
            # A ring drawn as slots says what the bytes hold: when the stage has no room
            # (StageScreen.FOLDS, -fold-detail), the ring alone stays.
            brief = bool(ring_drawn.plain.strip()) and no_room(self)
            self.set_class(brief, "-ring")
            unknown = tr("shm_unknown_unmapped" if o.bytes_source is None
                         else "shm_no_bytes_read", lang)
            grid.set_bytes(data, self.changed, flds, o.size, unknown, lang)
            put(change, Content("") if brief else self._change(snapshot, previous is not None))
            if brief:
                put(maps, Content(""))
            if no_room(self):
                put(summary, Content(""))  # the size and how the bytes were read
        body = self._details(o)
        if sources:
            pids = {p.name: p.pid for p in snapshot.processes}
            src = sources_content(provenance.for_object(o, None, pids))
            body = Content("\n").join([body, src]) if body.plain else src
        put(details, body)

    def _previous(self, snapshot: Snapshot, data: bytes | None) -> bytes | None:
        """The bytes this view drew for the snapshot before this one (None: not known)."""
        if snapshot.index == 0:
            mark = tuple(p.pid for p in snapshot.processes)
            if mark != self._run_mark:  # a new run (restart): forget the old one's bytes
                self._seen = {}
                self._run_mark = mark
        self._seen[snapshot.index] = data
        return self._seen.get(snapshot.index - 1) if snapshot.index > 0 else None

    # -- parts ----------------------------------------------------------------------------

    def _subtitle(self, o: RegionState) -> str:
        if o.flavor == "posix":
            return f"/dev/shm{o.name}" if o.name else ""
        parts = [f"key {o.key}"] if o.key else []
        if o.shmid is not None:
            parts.append(f"shmid {o.shmid}")
        return " · ".join(parts)

    def _summary(self, o: RegionState) -> Content:
        lang = self.lang
        if not o.exists:
            if o.flavor == "sysv":
                return Content.assemble((tr("shm_destroyed", lang), "b"),
                                        tr("shm_destroyed_text", lang, shmid=o.shmid))
            return Content.assemble((tr("mq_gone", lang), "b"), tr("shm_gone_text", lang))
        size = "?" if o.size is None else str(o.size)
        parts: list = [(size, "b"), tr("shm_bytes", lang)]
        if o.nattch is not None:
            parts += ["  ·  ", ("nattch ", "$text-secondary"), (str(o.nattch), "b"),
                      (tr("shm_attach_count", lang), "$text-muted")]
        src = o.bytes_source
        if src:
            how = (tr("shm_how_pread", lang) if src.startswith("/dev/")
                   else tr("shm_how_attach", lang, src=src))
            parts.append((tr("shm_read_with", lang, how=how), "$text-muted"))
        if o.removed and o.flavor == "sysv":
            parts += ["\n", (tr("shm_marked_rmid", lang), "b $text-warning"),
                      (tr("shm_rmid_text", lang), "$text-warning")]
        elif o.removed:
            parts += ["\n", (tr("shm_unlinked", lang), "b $text-warning"),
                      (tr("shm_unlinked_text", lang), "$text-warning")]
        return Content.assemble(*parts)

    def _maps(self, o: RegionState, snapshot: Snapshot) -> Content:
        where = dict(m.split("@", 1) for m in o.mappings if "@" in m)
        lang = self.lang
        parts: list = [(tr("shm_mapped_into", lang), "$text-secondary")]
        if not o.mapped_by:
            parts.append((tr("shm_nobody", lang), "italic $text-muted"))
        for name in o.mapped_by:
            wrote = self.changed and any(w == name for w, _ in self.writers)
            parts += [("▣ " + name, "b $text-accent"),
                      (f"\u00a0@{_addr(where[name])}" if name in where else "", "$text-muted"),
                      (tr("shm_wrote", lang) if wrote else "", "b $text-warning"), "   "]
        others = [p.name for p in snapshot.processes
                  if p.name not in o.mapped_by and p.state not in (EXITED, ZOMBIE)]
        if others:
            parts.append((tr("shm_not_mapped", lang, names=", ".join(others)), "$text-muted"))
        return Content.assemble(*parts)

    def _fields(self, o: RegionState, flds: list[Field]) -> Content:
        if not flds:
            return Content("")
        lang = self.lang
        parts: list = []
        if o.slots:
            live = o.live_slots()
            parts += [(tr("shm_ring", lang), "$text-secondary"),
                      (tr("shm_filled", lang, items=o.items, slots=o.slots), "b"),
                      "   "]
            for f in flds[:2]:
                parts += [(f.label, f"b underline {f.style}"), " ", (f.value, f"b {f.style}"),
                          "   "]
            parts.append((tr("shm_slots", lang), f"b underline {FIELD_STYLES[2]}"))
            for i, f in enumerate(flds[2:]):
                parts += [("│ " if i else "", "$text-muted"),
                          (f.value, f"b {FIELD_STYLES[2]}" if live and live[i] else
                           "$text-muted"), " "]
            parts.append((tr("shm_n_free", lang), "$text-muted"))
            return Content.assemble(*parts)
        for f in flds:
            parts += [(f.label, f"b underline {f.style}"), " = ", (f.value, f"b {f.style}")]
            if f.note:
                parts.append((f"  ({say(f.note, lang)})" if lang == "en" else
                              f"  （{say(f.note, lang)}）", "$text-muted"))
            parts.append("   ")
        if o.layout == "counter" and o.increments:
            lost = o.lost or 0
            parts += ["\n", ("≈ ", "$text-warning"),
                      (tr("shm_reported", lang, n=o.increments), ""),
                      (tr("shm_lost", lang, n=lost) if lost else tr("shm_none_lost", lang),
                       "b $text-error" if lost else "$text-success"),
                      (tr("shm_inferred_counts", lang), "$text-muted")]
        return Content.assemble(*parts).rstrip()

    def _ring(self, o: RegionState) -> Content:
        """The ring buffer as slots with in/out markers (from the bytes the probe read)."""
        live = o.live_slots()
        if not live or o.slots > MAX_RING_DRAWN or o.ring_in is None or o.ring_out is None:
            return Content("")
        rows = ring_rows(o.ring[:o.slots], live, o.ring_in % o.slots, o.ring_out % o.slots)
        styles = {"item": f"b {FIELD_STYLES[2]}", "free": "$text-muted",
                  "in": f"b {FIELD_STYLES[0]}", "out": f"b {FIELD_STYLES[1]}", "": ""}
        lang = self.lang
        lines = [Content.assemble(*((t, styles[r]) for t, r in row)) for row in rows]
        lines[0] = Content.assemble(lines[0], (tr("shm_ring_in", lang), "$text-muted"))
        lines[2] = Content.assemble(lines[2], (tr("shm_ring_out", lang), "$text-muted"))
        if not no_room(self):  # no room (StageScreen.FOLDS)
            lines.append(Content.styled(tr("shm_ring_legend", lang), "$text-muted"))
        return Content("\n").join(lines)

    def _change(self, snapshot: Snapshot, known: bool) -> Content:
        lang = self.lang
        n = len(self.changed)
        if not known or not snapshot.step:
            return Content("")
        if not n:
            return Content.styled(tr("shm_no_change", lang), "$text-muted")
        changed = (f"{words.count(n, 'byte')} changed" if lang == "en"
                   else tr("shm_n_changed", lang, n=n))
        if self.writers:
            who = ", ".join(f"{p} ({a})" for p, a in self.writers)
            return Content.assemble(("▲ ", "b $text-warning"),
                                    (changed, "b"), tr("shm_at_step", lang, step=snapshot.step),
                                    (who, "b $text-accent"),
                                    (tr("shm_sem_wrote" if all(a in SEM_WRITES for _, a in
                                                               self.writers)
                                        else "shm_stored_it", lang), ""))
        return Content.assemble(("▲ ", "b $text-warning"), (changed, "b"),
                                tr("shm_during_step", lang, step=snapshot.step))

    def _details(self, o: RegionState) -> Content:
        return Content("")


def _addr(a: str) -> str:
    """'0x7f7d3fa95000' as '0x7f7d…5000'."""
    return f"{a[:6]}…{a[-4:]}" if len(a) > 12 else a


class FileView(Static):
    """A file of the copy lesson: size, hash, and the copies the data made to get here."""

    DEFAULT_CSS = """
    FileView {
        height: auto; width: 1fr; border: round $secondary 70%; padding: 0 1;
        border-title-style: bold; border-title-color: $text-secondary;
        border-subtitle-color: $text-muted;
    }
    FileView.-unborn { border: dashed $foreground 25%; color: $text-muted; }
    """

    def __init__(self, oid: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.oid = oid
        self.scenario = scenario
        self.border_title = f"file {oid}"

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = lang_of(self)
        self.border_title = tr("file_title", lang, oid=self.oid)
        o = snapshot.object_named(self.oid)
        self.set_class(not isinstance(o, FileState) or o.size is None, "-unborn")
        if not isinstance(o, FileState):
            self.border_subtitle = ""
            self.update(Content.styled(tr("not_created", lang, when=""), "italic"))
            return
        self.border_subtitle = (o.path or "").rsplit("/", 1)[-1]
        lines = []
        if o.size is None:
            lines.append(Content.styled(tr("not_created", lang, when=""), "italic"))
        else:
            lines.append(Content.assemble((str(o.size), "b"), tr("shm_bytes", lang),
                                          (f"  ·  sha256 {o.content}…" if o.content else "",
                                           "$text-muted")))
        if o.copies:
            lines.append(Content.assemble(
                (tr("file_copies", lang), "$text-secondary"), (str(o.copies), "b $text-warning"),
                tr("file_moved", lang, copied=o.copied, us=o.elapsed_us)))
            for k, hop in enumerate(o.route, 1):
                lines.append(Content.styled(f" {k}. {hop}", "$text-muted"))
        body = Content("\n").join(lines)
        if sources:
            pids = {p.name: p.pid for p in snapshot.processes}
            body = Content("\n").join([body, sources_content(provenance.for_object(o, None,
                                                                                   pids))])
        self.update(body)


class AnonView(Static):
    """An anonymous mapping: per process, the value at its start and its pages in smaps, so
    that MAP_SHARED (one page, Shared_Dirty in each) and MAP_PRIVATE after a write (a copy
    each, Private_Dirty) can be told apart."""

    DEFAULT_CSS = """
    AnonView {
        height: auto; width: 1fr; border: round $secondary 70%; padding: 0 1;
        border-title-style: bold; border-title-color: $text-secondary;
        border-subtitle-color: $text-muted;
    }
    AnonView.-unborn { border: dashed $foreground 25%; color: $text-muted; }
    """

    def __init__(self, oid: str, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.oid = oid
        self.scenario = scenario
        self.border_title = f"anonymous mapping {oid}"

    def show(self, snapshot: Snapshot, sources: bool = False) -> None:
        lang = lang_of(self)
        self.border_title = tr("anon_title", lang, oid=self.oid)
        o = snapshot.object_named(self.oid)
        self.set_class(not isinstance(o, AnonState), "-unborn")
        if not isinstance(o, AnonState):
            self.border_subtitle = ""
            self.update(Content.styled(tr("not_created", lang, when=""), "italic"))
            return
        kind = {True: "MAP_SHARED", False: "MAP_PRIVATE", None: "?"}[o.shared]
        where = "" if o.address is None else f" @{o.address:#x}"
        self.border_subtitle = f"{kind}{where}"
        lines = [Content.styled(tr("anon_from", lang), "$text-muted")]
        if not o.mapped_by:
            lines.append(Content.styled(tr("anon_nobody", lang), "italic"))
        else:
            lines.append(Content.styled(tr("anon_head", lang), "b"))
        for name, rss, sd, pd, an, value in o.rows():
            why = (tr("anon_own_copy", lang) if pd and o.shared is False and len(o.mapped_by) > 1
                   else tr("anon_one_page", lang) if sd and len(o.mapped_by) > 1 else "")
            lines.append(Content.assemble(
                (f"{name[:10]:<10} {'?' if value is None else value:>7} {rss:>5}", ""),
                (f" {sd:>13}", "b $text-success" if sd else ""),
                (f" {pd:>14}", "b $text-warning" if pd else ""),
                f" {an:>10}", (why, "$text-muted")))
        body = Content("\n").join(lines)
        if sources:
            pids = {p.name: p.pid for p in snapshot.processes}
            body = Content("\n").join([body, sources_content(provenance.for_object(o, None,
                                                                                   pids))])
        self.update(body)


OBJECT_VIEWS = {"shm": RegionView, "sysv_shm": RegionView, "file": FileView,
                "anon": AnonView}
