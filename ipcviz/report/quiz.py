"""The quiz of `ipcviz run --headless --quiz`: the class answers on stdin, the kernel after.

Before a step that carries a question, the report prints it (report.text.print_question) and
asks here for a letter:
- stdin a terminal: a prompt, and a wait for a line, as long as the human takes.  The wait
  has no timer; Ctrl+C (KeyboardInterrupt), Ctrl+D (end of input), a hang-up or SIGTERM end
  it, and the caller cleans the run up as for any interruption.  A line that is no choice
  asks again.
- stdin a pipe or a file: one line per question ("b", or empty for no answer); a line that
  is no choice counts as no answer.  At the end of the input every later question goes
  unanswered and the lesson goes on: nothing waits.
After the step, `tell` prints the guess beside the kernel's answer (which choices held).
"""

from __future__ import annotations

import os
from typing import BinaryIO, TextIO

from ..model.snapshot import Snapshot
from ..textsafe import SafeWriter, printable
from .text import LETTERS

MAX_LINE = 4096  # bytes of one answer line kept; the rest of a longer line is skipped

WORDS = {
    "prompt": ("  your answer ({first}-{last}, Enter for none): ",
               "  你的答案（{first}-{last}，回车表示不答）："),
    "again": ("  please type one of {letters}, or Enter for none\n",
              "  请输入 {letters} 之一，或直接回车表示不答\n"),
    "told": ("  → your answer: {guess} — the kernel says: {said}{verdict}\n",
             "  → 你的答案：{guess} —— 内核说：{said}{verdict}\n"),
    "none": ("none", "未作答"),
    "none_held": ("none of the choices", "没有一个选项成立"),
    "right": ("  (right)", "（答对了）"),
    "wrong": ("  (not this time)", "（这次没答对）"),
    "not_choice": ("  (not a choice: {line})\n", "  （不是选项：{line}）\n"),
}


def _w(key: str, lang: str, **fields: object) -> str:
    en, zh = WORDS[key]
    return (zh if lang == "zh" else en).format(**fields)


class Answers:
    """The answers of the class, read from `stream` (stdin's bytes) one line per question."""

    def __init__(self, stream: BinaryIO | None, out: TextIO, lang: str = "en",
                 terminal: bool | None = None) -> None:
        self.stream = stream
        self.out = out
        self.lang = lang
        if terminal is None and stream is not None:
            try:
                terminal = os.isatty(stream.fileno())
            except (OSError, ValueError, AttributeError):
                terminal = False
        self.terminal = bool(terminal)
        self.ended = stream is None  # end of input (Ctrl+D, a pipe's end): no more reading

    def ask(self, choices: int) -> int | None:
        """The index of the chosen answer, or None (no answer, or no more input)."""
        letters = LETTERS[:choices]
        while not self.ended:
            if self.terminal:
                self.out.write(_w("prompt", self.lang, first=letters[0], last=letters[-1]))
            self.out.flush()
            line = self._line()
            if line is None:
                if self.terminal:
                    self.out.write("\n")  # the prompt's line ends where Ctrl+D left it
                return None
            answer = line.strip().lower().rstrip(").").lstrip("(")
            if not answer:
                return None
            if len(answer) == 1 and answer in letters:
                return letters.index(answer)
            if not self.terminal:
                SafeWriter(self.out).write(_w("not_choice", self.lang,
                                              line=printable(line.strip()[:40])))
                return None
            self.out.write(_w("again", self.lang, letters=", ".join(letters)))
        return None

    def _line(self) -> str | None:
        """One line of input without its newline; None at the end of the input."""
        try:
            raw = self.stream.readline(MAX_LINE)
            if raw and not raw.endswith(b"\n"):  # a very long line: skip to its end
                while True:
                    rest = self.stream.readline(MAX_LINE)
                    if not rest or rest.endswith(b"\n"):
                        break
        except OSError:  # the terminal hung up
            raw = b""
        if not raw:
            self.ended = True
            return None
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")


def tell(snap: Snapshot, guess: int | None, out: TextIO, lang: str = "en") -> None:
    """After the step: the class's answer beside the kernel's (the choices that held)."""
    right = [n for n, ok in enumerate(snap.answers[:len(LETTERS)]) if ok]
    said = ", ".join(f"({LETTERS[n]})" for n in right) if right else _w("none_held", lang)
    if guess is None:
        mine, verdict = _w("none", lang), ""
    else:
        mine = f"({LETTERS[guess]})"
        verdict = _w("right" if guess in right else "wrong", lang)
    out.write(_w("told", lang, guess=mine, said=said, verdict=verdict))


__all__ = ["Answers", "tell"]
