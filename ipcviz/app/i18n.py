"""The app's own words in English and Simplified Chinese.  Pure: no textual import.

A scenario's texts (title, summary, narration, quiz) come from the scenario itself
(`title_in`, `narration_in`, `Quiz.question[lang]`); this module holds only what the app says
around them: headings, the status line, process states, the pipe panel, footer keys, help.
Each mechanism's view keeps its own words beside it (widgets/fifo.py, msgq.py, sem.py,
shm.py, signals.py, process_table.py) and adds them here with `add_texts`; tr() is the one
lookup for all.  Facts reach a view as data; where a view hands words on before drawing them
it hands a `Note` (key, params), said in a language by `say` only when drawn.
Terms of art stay recognisable in Chinese: 管道 pipe, 有名管道 FIFO, 信号 signal,
消息队列 message queue, 共享内存 shared memory, 信号量 semaphore; system calls, errno
names, signal names, wchan and fd keep their C spelling.

    tr("step_of", "zh", step=6, total=8)  ->  "第 6/8 步"
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

LANGS = ("en", "zh")

# key -> (English, Chinese).  Placeholders are str.format fields.
TEXTS: dict[str, tuple[str, str]] = {
    # -- the stage frame ------------------------------------------------------------------
    "user_space": ("USER SPACE · processes", "用户空间 · 进程"),
    "kernel_space": ("KERNEL SPACE · objects", "内核空间 · 内核对象"),
    "code_box": ("C code", "C 代码"),
    "log_box": ("strace", "strace 系统调用日志"),
    "starting": ("{title}: starting…", "{title}：正在启动…"),
    # -- status line ----------------------------------------------------------------------
    "step_of": ("step {step}/{total}", "第 {step}/{total} 步"),
    "history": ("HISTORY step {step}/{total}", "历史 第 {step}/{total} 步"),
    "live_waits": ("  live waits at step {head}  ", "  实时进程停在第 {head} 步  "),
    "live": ("LIVE", "实时"),
    "replay": ("REPLAY", "回放"),
    "finished": ("  finished", "  已结束"),
    "playing": ("❚❚ playing", "❚❚ 播放中"),
    "play": ("▷ play", "▷ 播放"),
    "busy": ("  running a step…", "  正在执行一步…"),
    "queued": ("  {n} queued", "  {n} 步排队中"),
    "sources_shown": ("  sources shown", "  已显示数据来源"),
    "quiz_mode": ("  QUIZ", "  测验"),
    "asking": ("  asking the class…", "  正在提问…"),
    # play speeds, slowest first (see stage.SPEEDS)
    "speed0": ("1 step / 3 s", "每 3 秒 1 步"),
    "speed1": ("1 step / 1.5 s", "每 1.5 秒 1 步"),
    "speed2": ("1 step / 0.8 s", "每 0.8 秒 1 步"),
    "speed3": ("3 steps / s", "每秒 3 步"),
    "speed4": ("fastest", "最快"),
    # -- narration ------------------------------------------------------------------------
    "before_step_1": ("{title}: before step 1", "{title}：第 1 步之前"),
    "step_head": ("Step {step}/{total}  ", "第 {step}/{total} 步  "),
    "nothing_ran": ("before step 1: nothing has run yet", "第 1 步之前：还什么都没有运行"),
    "res_blocked": ("blocked (the call has not returned)", "阻塞（调用尚未返回）"),
    "res_returned": ("returned", "已返回"),
    "checked": ("checked: ", "检查："),
    "saw": (" (saw {value})", "（实际 {value}）"),
    # -- process states -------------------------------------------------------------------
    "a_syscall": ("a system call", "系统调用"),
    "blocked_in": ("blocked in {call}", "阻塞在 {call}"),
    "blocked_in_on": ("blocked in {call} on {obj}", "阻塞在 {call}（{obj}）"),
    "sleeping": ("sleeping (idle between steps)", "睡眠（两步之间空闲）"),
    "running": ("running", "运行中"),
    "stopped": ("stopped", "已停止"),
    "stopped_in": ("stopped in {call}", "已停止（在 {call} 中）"),
    "zombie": ("zombie: {ended}, not reaped yet", "僵尸进程：{ended}，尚未被回收"),
    "exited": ("exited", "已退出"),
    "exited_code": ("exited with code {code}", "已退出，退出码 {code}"),
    "killed_by": ("killed by {signal}", "被 {signal} 杀死"),
    "core_dumped": (" (core dumped)", "（产生 core 转储）"),
    "unborn": ("not forked yet", "尚未 fork"),
    "forks_it": ("{parent} forks it at step {step}", "{parent} 在第 {step} 步 fork 它"),
    "started_by_ipcviz": ("started by ipcviz", "由 ipcviz 启动"),
    "parent_is": ("child of {parent}", "父进程 {parent}"),
    "ppid_is": ("ppid {ppid} ({parent})", "ppid {ppid}（{parent}）"),
    "plumbing": ("fd {nums} → /dev/null, ipcviz log", "fd {nums} → /dev/null、ipcviz 日志"),
    "asleep_here": (" ◀ asleep here", " ◀ 睡在这里"),
    "no_fd": ("no fd open", "没有打开的 fd"),
    "fds_closed": ("fds: all closed by the kernel at exit", "fd：退出时已全部被内核关闭"),
    "last_call": ("last ", "上一调用 "),
    "ipcviz_log": ("ipcviz log", "ipcviz 日志"),
    "end_read": ("read end", "读端"),
    "end_write": ("write end", "写端"),
    "fd_end": ("{what} ({end})", "{what}（{end}）"),
    "fd_mode": ("{what} ({mode})", "{what}（{mode}）"),
    "fd_kind_mode": ("{what} ({kind}, {mode})", "{what}（{kind}，{mode}）"),
    # -- why a process sleeps on a pipe --------------------------------------------------
    "buffer_full": ("buffer full: {bytes}/{capacity} bytes", "缓冲区满：{bytes}/{capacity} 字节"),
    "no_room": ("no room for it: {free} of {capacity} bytes free",
                "空间不够：{capacity} 字节中只剩 {free} 字节"),
    "empty_writer_open": ("buffer empty, a writer is still open", "缓冲区空，仍有写端打开"),
    "buffer_empty": ("buffer empty", "缓冲区空"),
    "bytes_in_buffer": ("{bytes} bytes in the buffer", "缓冲区中有 {bytes} 字节"),
    # -- the pipe panel -------------------------------------------------------------------
    "pipe_title": ("pipe {oid}", "管道 pipe {oid}"),
    "write_end_arrow": ("write end ▶", "写端 ▶"),
    "read_end_arrow": ("▶ read end", "▶ 读端"),
    "no_writer": ("no writer", "无写端"),
    "no_reader": ("no reader", "无读端"),
    "not_created": ("not created yet{when}", "尚未创建{when}"),
    "creates_it": (" ({process} creates it at step {step})", "（{process} 在第 {step} 步创建它）"),
    "bytes_unknown": ("bytes: unknown (no live process holds an end to ask through)",
                      "字节数：未知（没有存活的进程持有可供查询的一端）"),
    "buffer_pre": ("", "缓冲区 "),
    "in_buffer": (" / {capacity} bytes in the buffer", " / {capacity} 字节"),
    "full_tag": ("  FULL", "  满"),
    "empty_tag": ("  empty", "  空"),
    "n_write_ends": ("{n} write end(s) open", "写端打开 {n} 个"),
    "n_read_ends": ("{n} read end(s) open", "读端打开 {n} 个"),
    "sleeps_in_write": ("■ {name} sleeps in write(): {why}", "■ {name} 睡在 write() 中：{why}"),
    "sleeps_in_read": ("■ {name} sleeps in read(): {why}", "■ {name} 睡在 read() 中：{why}"),
    "waiting_room": ("waiting for room", "等待空间"),
    "waiting_data": ("waiting for data", "等待数据"),
    "pipe_freed": ("no end is open in any process: the kernel has freed the pipe",
                   "没有任何进程打开它的任何一端：内核已释放这个管道"),
    "pipe_eof": ("no writer left: read() returns 0 (EOF) once the buffer is empty",
                 "没有写端了：缓冲区读空后 read() 返回 0（EOF）"),
    "pipe_sigpipe": ("no reader left: write() gets SIGPIPE / EPIPE",
                     "没有读端了：write() 会收到 SIGPIPE / EPIPE"),
    # -- notices --------------------------------------------------------------------------
    "no_more_steps": ("The scenario has no more steps: r restarts it, n opens the next one.",
                      "这个场景没有更多步骤了：r 重新开始，n 打开下一个场景。"),
    "finished_title": ("Finished", "已结束"),
    "nothing_to_play": ("Nothing left to play: r restarts the scenario.",
                        "没有可播放的了：r 重新开始这个场景。"),
    "restart_text": ("Fresh processes: the old ones are killed.", "新的进程：旧进程已被杀死。"),
    "restart_title": ("Restart", "重新开始"),
    "err_title": ("The run stopped", "运行已停止"),
    "err_scenario": ("Scenario ", "场景 "),
    "err_ended": (("Its processes have been ended. What is on screen is the last thing the "
                   "kernel said."), "它的进程都已结束。屏幕上是内核最后给出的状态。"),
    "err_watch_ended": (("ipcviz only watched: the program was not touched, and runs or ended "
                         "on its own. What is on screen is the last thing the kernel said."),
                        ("ipcviz 只是观察：程序没有被改动，它自行运行或自行结束。"
                         "屏幕上是内核最后给出的状态。")),
    "err_restart": ("Restart (r)", "重新开始 (r)"),
    "err_scenarios": ("Scenarios", "场景列表"),
    "err_close": ("Close", "关闭"),
    "err_quit": ("Quit (q)", "退出 (q)"),
    "quiz_on": ("Quiz mode: before a step with a question, the class is asked first.",
                "测验模式：遇到带问题的步骤，先问全班，再运行。"),
    "quiz_off": ("Quiz mode off.", "测验模式已关闭。"),
    # -- the picker -----------------------------------------------------------------------
    "picker_intro": ((": Unix IPC on the real kernel. Pick a scenario: its processes run for "
                      "real, and the stage draws what the kernel says they do.\n"),
                     ("：在真实内核上学习 Unix 进程间通信（IPC）。选择一个场景：它的进程真实运行，"
                      "舞台画出内核所说的它们正在做的事。\n")),
    "picker_keys": ("↑↓ choose · enter opens · ctrl+p finds a scenario by name or words · ? help",
                    "↑↓ 选择 · enter 打开 · ctrl+p 按名称或关键词查找场景 · ? 帮助 · L English"),
    "n_steps": ("{n} steps", "{n} 步"),
    "unavailable_here": ("\n  unavailable here: {why}", "\n  本机无法运行：{why}"),
    "no_scenarios": ("No scenarios found.", "没有找到场景。"),
    "other_lessons": ("Other lessons", "其他课程"),
    "mech_pipe": ("Pipes", "管道 pipe"),
    "mech_fifo": ("FIFOs (named pipes)", "有名管道 FIFO"),
    "mech_signal": ("Signals", "信号 signal"),
    "mech_mq": ("Message queues", "消息队列 message queue"),
    "mech_msg": ("Message queues", "消息队列 message queue"),
    "mech_msgq": ("Message queues", "消息队列 message queue"),
    "mech_shm": ("Shared memory", "共享内存 shared memory"),
    "mech_sem": ("Semaphores", "信号量 semaphore"),
    "mech_sock": ("Unix sockets", "Unix 域套接字 socket"),
    # -- quiz -----------------------------------------------------------------------------
    "quiz_title": ("Quiz · ask the class before step {step}",
                   "测验 · 第 {step} 步之前，先问问全班"),
    "quiz_keys": ("{letters} or click: the class's guess · escape: skip (the step runs anyway)",
                  "{letters} 或点击：全班的猜测 · escape：跳过（这一步照样运行）"),
    "quiz_head": ("Quiz, step {step}: ", "测验（第 {step} 步）："),
    "kernel_answer": ("◀ the kernel's answer", "◀ 内核的答案"),
    "your_guess": ("◀ the class's guess", "◀ 全班的猜测"),
    "both": ("◀ guess = kernel's answer", "◀ 猜测 = 内核的答案"),
    "right": ("✓ right", "✓ 答对了"),
    "wrong": ("✗ wrong", "✗ 答错了"),
    "no_guess": ("no guess (skipped)", "没有猜测（已跳过）"),
    "not_asked": ("not asked (quiz mode was off)", "未提问（当时测验模式关闭）"),
    "evidence": ("evidence: ", "证据："),
    "seen": (" (seen: {value})", "（观察到：{value}）"),
    "no_answer": ("the kernel's state matched none of the choices",
                  "内核的状态与所有选项都不符"),
    "answer_pending": ("the step runs now: the kernel will answer",
                       "这一步正在运行：内核即将给出答案"),
}

# Footer / help descriptions of the bindings, by action name.
BINDINGS_ZH: dict[str, str] = {
    "forward": "下一步",
    "back": "后退",
    "play": "播放",
    "faster": "加快",
    "slower": "减慢",
    "restart": "重新开始",
    "sources": "来源",
    "toggle_side": "代码/日志",
    "toggle_present": "演示",
    "next_scenario": "下一个场景",
    "previous_scenario": "上一个场景",
    "first": "第一个快照",
    "last": "最新",
    "picker": "场景列表",
    "signal_table": "信号表",
    "system_ipc": "System IPC",
    "toggle_quiz": "测验",
    "toggle_lang": "English",
    "quit": "退出",
    "help": "帮助",
    "toggle_theme": "主题",
    "open": "打开",
    "command_palette": "搜索",
    "dismiss_help": "关闭",
    "skip": "跳过",
}

# The help screen's key table: (keys, English, Chinese).
HELP_KEYS: list[tuple[str, str, str]] = [
    ("space  →", "run the next real step (at the head) or move forward in history",
     "运行下一个真实步骤（在最新一步时），或在历史中前进"),
    ("←", "step back in history: earlier snapshots redraw exactly as they were",
     "在历史中后退：早先的快照按原样重画"),
    ("home / end", "first snapshot / back to the live head", "第一个快照 / 回到实时的最新一步"),
    ("p", "play / pause", "播放 / 暂停"),
    ("1…9  click", "ipcviz trace: that process makes the call it is held at (space: the "
     "first ready one; p: run freely until a process blocks or ends, or nothing can move)",
     "ipcviz trace：让该进程执行它停住的调用（空格：第一个就绪的进程；p：自由运行，"
     "直到有进程阻塞或结束，或者谁都动不了）"),
    ("+  −", "play faster / slower", "播放加快 / 减慢"),
    ("r", "restart with fresh processes (the old ones are killed)",
     "用新的进程重新开始（旧进程被杀死）"),
    ("s", "sources: where each value comes from, and a command to check it yourself",
     "来源：每个值从哪里读来，以及自己验证它的命令"),
    ("n  N", "next / previous scenario", "下一个 / 上一个场景"),
    ("c", "show / hide the code and log panel", "显示 / 隐藏代码和日志面板"),
    ("P", "presentation mode: no code or log, the objects get the room (also --present)",
     "演示模式：不显示代码和日志，内核对象占满空间（也可用 --present）"),
    ("k", "quiz mode: ask the class before a step with a question, then the kernel answers",
     "测验模式：运行带问题的步骤之前先问全班，然后由内核给出答案"),
    ("g", "every signal of this system: number, default action, catchable (measured here)",
     "本系统的所有信号：编号、默认动作、能否捕获（在本机测得）"),
    ("i", "every System V queue on this machine, like ipcs -q (ipcviz's own marked)",
     "本机所有 System V 消息队列，如同 ipcs -q（标出 ipcviz 自己的）"),
    ("b", "compare the mechanisms side by side, with speeds measured on this machine",
     "并排比较各种机制，附本机实测的速度"),
    ("L", "English / 中文", "中文 / English"),
    ("t", "dark / light theme (light reads better on a projector)",
     "深色 / 浅色主题（投影时浅色更清楚）"),
    ("ctrl+p", "command palette: find a scenario by name or words of its title",
     "命令面板：按名称或标题中的词查找场景"),
    ("escape", "back to the list of scenarios", "回到场景列表"),
    ("?", "this help", "本帮助"),
    ("q", "quit (every process of the run is ended)", "退出（本次运行的所有进程都会结束）"),
]

# The help screen's legend of process states: (mark, style, English, Chinese, meanings).
HELP_LEGEND: list[tuple[str, str, str, str, str, str]] = [
    ("▶", "b $text-success", "running", "运行中",
     "on a CPU or ready to run (stat R)", "正在 CPU 上运行或可以运行（stat R）"),
    ("■", "b $text-error", "blocked in write() on pipe p", "阻塞在 write()（管道 p）",
     "asleep inside a system call of the scenario: the kernel's wchan and syscall say so",
     "睡在场景的某个系统调用里：内核的 wchan 和 syscall 这样说"),
    ("○", "$text-muted", "sleeping (idle between steps)", "睡眠（两步之间空闲）",
     "asleep waiting for ipcviz to send its next step", "睡眠，等待 ipcviz 发来下一步"),
    ("‖", "b $text-warning", "stopped", "已停止",
     "stopped by a signal (stat T)", "被信号停止（stat T）"),
    ("☠", "b $text-accent", "zombie", "僵尸进程",
     "exited; its parent has not called wait() yet (stat Z)",
     "已退出；父进程还没有调用 wait()（stat Z）"),
    ("✕", "$text-muted", "exited with code N / killed by SIG…", "已退出，退出码 N / 被 SIG… 杀死",
     "gone from /proc: its parent reaped it", "已从 /proc 消失：父进程回收了它"),
]

HELP_TEXTS: dict[str, tuple[str, str]] = {
    "help_title": ("ipcviz help", "ipcviz 帮助"),
    "help_close": ("escape closes", "escape 关闭"),
    "keys": ("Keys", "按键"),
    "reading": ("Reading the stage", "怎样看舞台"),
    "reading_text": (
        ("Top: user space, a card per process with its PID, parent, state and fd table. "
         "Below: kernel space, each kernel object (a pipe: its buffer, bytes/capacity, its "
         "open read and write ends as process:fd, who sleeps on it). Nothing is simulated: "
         "every value was read from the kernel (/proc, ioctl, fcntl) right after the step; "
         "press s to see where each one came from."),
        ("上方是用户空间：每个进程一张卡片，有它的 PID、父进程、状态和 fd 表。下方是内核空间："
         "每个内核对象（管道 pipe：它的缓冲区、字节数/容量、以 进程:fd 表示的已打开读端和写端、"
         "谁睡在它上面）。没有任何模拟：每个值都是在这一步之后立即从内核读出的"
         "（/proc、ioctl、fcntl）；按 s 可以看到每个值的来源。")),
    "log_text": (
        ("The log on the side prints each call like strace: '<unfinished ...>' is a call "
         "that blocked; '<... read resumed>' is its return when another step woke it."),
        ("旁边的日志像 strace 一样打印每个调用：'<unfinished ...>' 表示调用阻塞了；"
         "'<... read resumed>' 表示另一步唤醒它之后它的返回。")),
    "quiz_text": (
        ("Quiz mode (k, or ipcviz --quiz): before a step that carries a question, the "
         "question and its choices come up; take the class's guess (a, b, c…), then the real "
         "step runs and the kernel's state answers it."),
        ("测验模式（k，或 ipcviz --quiz）：在带问题的步骤之前弹出问题和选项；"
         "记下全班的猜测（a、b、c…），然后真实的步骤运行，由内核的状态给出答案。")),
}

# Object kinds in words, for 'blocked in write() on pipe p'.
KINDS_ZH: dict[str, str] = {
    "pipe": "管道",
    "fifo": "有名管道 FIFO",
    "sysv_msgq": "消息队列",
    "posix_mq": "消息队列",
    "shm": "共享内存",
    "sysv_shm": "共享内存",
    "sem": "信号量",
    "sysv_sem": "信号量",
    "pty": "伪终端",
    "file": "文件",
    "anon": "匿名映射",
    "socketpair": "套接字对",
    "socket": "套接字",
    "open_file": "打开的文件",
}


def other(lang: str) -> str:
    """The language the L key switches to."""
    return "zh" if lang == "en" else "en"


def tr(key: str, lang: str = "en", **fields: object) -> str:
    """The app's text `key` in `lang` (English where it has no translation)."""
    en, zh = TEXTS.get(key) or HELP_TEXTS[key]
    text = zh if lang == "zh" and zh else en
    return text.format(**fields) if fields else text


def add_texts(table: dict[str, tuple[str, str]]) -> None:
    """A mechanism's own words, key -> (English, Chinese), kept beside its view and read
    with tr() like the rest.  A key may be given twice only with the same words."""
    clash = [k for k in table if k in TEXTS and TEXTS[k] != table[k]]
    if clash:
        raise ValueError(f"text keys given twice with different words: {', '.join(clash)}")
    TEXTS.update(table)


@dataclass(frozen=True)
class Note:
    """Words not chosen yet: a text key and its parameters, said in a language only where
    they are drawn (`say`).  Facts travel as Notes, never as English to be parsed back."""

    key: str
    params: tuple[tuple[str, object], ...] = ()

    def get(self, name: str, default: object = None) -> object:
        return dict(self.params).get(name, default)


def note(key: str, **params: object) -> Note:
    return Note(key, tuple(params.items()))


def say(n: Note, lang: str = "en") -> str:
    """A Note in `lang` (English where it has no translation)."""
    return tr(n.key, lang, **dict(n.params))


def pick(texts: dict[str, str], lang: str) -> str:
    """One text of a {lang: text} table (a quiz's question or choice): English by default."""
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


def kind_words(kind: str, lang: str = "en") -> str:
    return KINDS_ZH.get(kind, kind) if lang == "zh" else kind


def binding_description(action: str, english: str, lang: str) -> str:
    """A footer key's description in `lang` (the binding's own, English, otherwise)."""
    if lang == "zh":
        return BINDINGS_ZH.get(action.rsplit(".", 1)[-1], english)
    return english


LETTERS = "abcdefghij"  # quiz choices, as the headless --quiz prints them


def localize_bindings(node, lang: str) -> None:
    """Give a screen's (or the app's) key bindings their descriptions in `lang`.

    `node` is a textual DOMNode (this module does not import textual).  The footer draws
    Binding.description; bindings are frozen, so each is replaced by a copy.  The English
    descriptions are kept on the node the first time, to switch back."""
    english = getattr(node, "_ipcviz_english_bindings", None)
    if english is None:
        english = {key: list(bs) for key, bs in node._bindings.key_to_bindings.items()}
        node._ipcviz_english_bindings = english
    node._bindings.key_to_bindings = {
        key: [replace(b, description=binding_description(b.action, b.description, lang))
              for b in bs]
        for key, bs in english.items()}


def lang_of(node) -> str:
    """The language of the app a widget or screen belongs to."""
    return getattr(node.app, "lang", "en")


# -- words several object views share (a removed System V object, a vanished name) -----------
OBJECT_TEXTS: dict[str, tuple[str, str]] = {
    "mq_removed": ("removed (IPC_RMID)", "已删除（IPC_RMID）"),
    "mq_gone": ("gone", "已释放"),
}
TEXTS.update(OBJECT_TEXTS)


# -- wrapping Chinese text ------------------------------------------------------------------
# Textual wraps at spaces only: a run of Chinese (no spaces) moves to the next line whole,
# leaving ragged lines.  Chinese may break between any two characters, except before
# closing punctuation and after opening punctuation.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_TOKENS = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+|\\s+")
_NO_START = set("，。、；：！？）」』】〉》,.;:!?)")  # never first on a line
_NO_END = set("（「『【〈《(")  # never last on a line


def cells(text: str) -> int:
    """Terminal cells of a text: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for tok in _TOKENS.findall(text):
        if out and (tok[0] in _NO_START or out[-1][-1] in _NO_END) and not tok.isspace() \
                and not out[-1].isspace():
            out[-1] += tok
        else:
            out.append(tok)
    return out


def wrap_cjk(text: str, width: int) -> str:
    """`text` with line breaks so that no line is wider than `width` cells, breaking
    between Chinese characters as well as at spaces.  Existing line breaks are kept."""
    if width <= 0:
        return text
    out: list[str] = []
    for para in text.split("\n"):
        line, w = "", 0
        for tok in _tokens(para):
            tw = cells(tok)
            if tok.isspace():
                if line and w + tw < width:
                    line, w = line + tok, w + tw
                elif line:
                    out.append(line.rstrip())
                    line, w = "", 0
                continue
            if w + tw > width and line.strip():
                out.append(line.rstrip())
                line, w = "", 0
            while tw > width:  # longer than a line: fold it, as Textual would
                cut, cw = 0, 0
                while cw + cells(tok[cut]) <= width - w:
                    cw += cells(tok[cut])
                    cut += 1
                out.append(line + tok[:cut])
                line, w, tok = "", 0, tok[cut:]
                tw = cells(tok)
            line, w = line + tok, w + tw
        out.append(line.rstrip())
    return "\n".join(out)
