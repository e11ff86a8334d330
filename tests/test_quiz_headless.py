"""`ipcviz run --headless --quiz`: the class answers on stdin, the kernel after the step
(issue 15, item 6).  Piped answers are read one line per question; at a terminal the run
prompts and waits, and Ctrl+D or Ctrl+C end the wait cleanly.

pipe/eof asks two questions: before step 7 (kernel: (b), the reader blocks) and before the
careful child's read (kernel: (a), it returns 0).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

LESSON = "pipe/eof"
PROMPT = "your answer (a-"  # ...c, Enter for none): (the second question has two choices)
BOUND = 60.0  # seconds for the whole lesson on a loaded machine

pytestmark = pytest.mark.kernel


def run_with_input(text: str) -> subprocess.CompletedProcess:
    """`ipcviz run LESSON --headless --quiz` with `text` piped to its stdin."""
    return subprocess.run([sys.executable, "-m", "ipcviz", "run", LESSON, "--headless",
                           "--quiz"], input=text, capture_output=True, text=True,
                          timeout=BOUND, cwd=ROOT)


def left_runs(runtime: Path) -> list[str]:
    return sorted(p.name for p in runtime.glob("run-*")) if runtime.exists() else []


def test_piped_answers_are_read_one_line_per_question(runtime_dir):
    """Each answer is shown after its step beside the kernel's; right and wrong are said."""
    res = run_with_input("c\n(a)\n")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    first = out.index("What does the child's read() do now?")
    told = out.index("→ your answer: (c) — the kernel says: (b)  (not this time)")
    assert first < out.index("Step 7/17") < told  # asked before the step, told after it
    assert "→ your answer: (a) — the kernel says: (a)  (right)" in out
    assert PROMPT not in out  # no prompt when nobody types
    assert left_runs(runtime_dir) == []


def test_end_of_piped_input_leaves_the_rest_unanswered(runtime_dir):
    """A line that is no choice is no answer; past the end of the input nothing waits."""
    res = run_with_input("maybe\x1b[31m\n")
    assert res.returncode == 0, res.stderr
    assert "(not a choice: maybe\\x1b[31m)" in res.stdout  # shown escaped, never obeyed
    assert res.stdout.count("→ your answer: none — the kernel says:") == 2
    assert "All expects held" in res.stdout


class Terminal:
    """ipcviz on a real pseudo-terminal (its controlling terminal, as in a shell)."""

    def __init__(self, *args: str) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: becomes ipcviz at once
            try:
                os.chdir(ROOT)
                os.execv(sys.executable, [sys.executable, "-m", "ipcviz", *args])
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.seen = ""
        self.status: int | None = None

    def read_until(self, text: str, timeout: float = BOUND, count: int = 1) -> str:
        """Read the terminal until `text` has appeared `count` times in all it showed."""
        deadline = time.monotonic() + timeout
        while self.seen.count(text) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {text!r} within {timeout:g} s; got:\n{self.seen[-800:]}")
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # EIO: the child has gone and closed the terminal
                    data = b""
                if not data:
                    raise AssertionError(f"ipcviz ended before {text!r}:\n{self.seen[-800:]}")
                self.seen += data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        return self.seen

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait(self, timeout: float = BOUND) -> int:
        deadline = time.monotonic() + timeout
        while self.status is None:
            try:  # drain the output, or a full terminal would block the child
                while select.select([self.fd], [], [], 0.05)[0]:
                    data = os.read(self.fd, 65536)
                    if not data:
                        break
                    self.seen += data.decode("utf-8", errors="replace").replace("\r\n", "\n")
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
            elif time.monotonic() > deadline:
                raise AssertionError(f"ipcviz did not end; got:\n{self.seen[-800:]}")
        return self.status

    def close(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.status = -9
        os.close(self.fd)


@pytest.fixture
def terminal():
    made: list[Terminal] = []

    def start(*args: str) -> Terminal:
        made.append(Terminal(*args))
        return made[-1]

    yield start
    for t in made:
        t.close()


def test_terminal_prompts_waits_and_asks_again(runtime_dir, terminal):
    """At a terminal: a prompt, a wait for the human, a second try after a non-answer;
    Ctrl+D answers nothing and the lesson goes on to its end."""
    term = terminal("run", LESSON, "--headless", "--quiz")
    term.read_until("your answer (a-c, Enter for none): ")
    assert "Step 7/17" not in term.seen  # the step waits for the answer
    term.type("z\n")
    term.read_until("please type one of a, b, c, or Enter for none")
    term.type("b\n")
    term.read_until("→ your answer: (b) — the kernel says: (b)  (right)")
    term.read_until("What does this read() do?")
    term.read_until("your answer (a-b, Enter for none): ")  # the second question's prompt
    term.type("\x04")  # Ctrl+D
    term.read_until("→ your answer: none — the kernel says: (a)")
    assert term.wait() == 0
    assert "All expects held" in term.seen
    assert left_runs(runtime_dir) == []


def test_ctrl_c_at_the_prompt_ends_the_run_cleanly(runtime_dir, terminal):
    """Ctrl+C while the run waits for an answer: exit 130, every process and object gone."""
    term = terminal("run", LESSON, "--headless", "--quiz")
    term.read_until(PROMPT)
    assert left_runs(runtime_dir) != []  # the run is alive, waiting with the human
    term.type("\x03")  # Ctrl+C: SIGINT to the terminal's foreground group, ipcviz
    assert term.wait() == 130
    assert "interrupted; the run was cleaned up" in term.seen
    assert "Traceback" not in term.seen
    assert left_runs(runtime_dir) == []
