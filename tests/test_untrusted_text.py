"""Text from a lesson or a trace reaches a terminal escaped: shown, never obeyed (issue 14).

A lesson's title may hold OSC 52 (write the clipboard), OSC 0 (the window title) or a
clear-screen sequence; every headless path prints it as visible text (`\\x1b`)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from ipcviz.textsafe import SafeWriter, printable

from .conftest import run_cli_in_process

TRACES = Path(__file__).parent / "app" / "traces"
OSC52 = "\x1b]52;c;aGVsbG8=\x07"
OSC0 = "\x1b]0;owned\x07"
CLEAR = "\x1b[2J\x1b[H"
CSI8 = "\x9b2J"

LESSON = f'''title = "x {OSC52!s} [/]"
summary = "{OSC0} [@click=app.quit]go[/]"

[[process]]
name = "parent"

[[object]]
name = "p"
kind = "pipe"

[[step]]
process = "parent"
action = "pipe"
object = "p"
narration = "buf[i] [b]x[/b] {CLEAR} {CSI8}"
code = "int fds[2];\\npipe(fds); /* {OSC0} */"
expect = ["p.readers == 1"]
'''


def _toml_text(text: str) -> str:
    """The lesson with control characters written as TOML \\u escapes (as an attacker would)."""
    return "".join(f"\\u{ord(c):04x}" if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) < 0xa0
                   else c for c in text)


_run = run_cli_in_process


def _no_control(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, repr(text)


def test_printable_shows_control_characters_and_keeps_plain_text():
    # GIVEN text with C0, C1, DEL and bidi controls  WHEN escaped  THEN each is visible
    assert printable("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert printable("\x9b\x7f\u202e") == "\\x9b\\x7f\\u202e"
    assert printable("one\ntwo\tx") == "one\\x0atwo\\x09x"
    assert printable("one\ntwo\tx", multiline=True) == "one\ntwo\tx"
    assert printable("名字 buf[i] é") == "名字 buf[i] é"


def test_safe_writer_lets_no_escape_through():
    out = io.StringIO()
    SafeWriter(out).write(f"{OSC52}line\n")
    assert out.getvalue() == "\\x1b]52;c;aGVsbG8=\\x07line\n"


def test_hostile_lesson_check_list_and_headless_run_print_no_escape(tmp_path, runtime_dir):
    # GIVEN a lesson whose title, summary, narration and code carry escape sequences
    folder = tmp_path / "mine"
    (folder / "pipe").mkdir(parents=True)
    lesson = folder / "pipe" / "hostile.toml"
    lesson.write_text(_toml_text(LESSON), encoding="utf-8")
    # WHEN it is checked, listed and run headless
    code, out, err = _run(["check", str(lesson)])
    assert code == 0, err
    _no_control(out + err)
    code, out, err = _run(["list", "--scenarios", str(folder)])
    assert code == 0, err
    _no_control(out + err)
    assert "x \\x1b]52;c;aGVsbG8=\\x07 [/]" in out  # THEN shown literally, escaped
    code, out, err = _run(["run", str(lesson), "--headless", "--explain"])
    assert code == 0, err
    _no_control(out + err)
    assert "buf[i] [b]x[/b] \\x1b[2J\\x1b[H \\x9b2J" in out
    assert "\\x1b]0;owned\\x07" in out


def test_hostile_trace_replay_headless_prints_no_escape(tmp_path):
    # GIVEN a recorded trace whose process names, calls and log carry escape sequences
    lines = (TRACES / "pipe-full-blocks-writer.jsonl").read_text().splitlines()
    out_lines = [lines[0]]
    for line in lines[1:]:
        snap = json.loads(line)
        for p in snap["processes"]:
            p["name"] = p["name"] + OSC0
        for e in snap["log"]:
            e["call"] = e["call"] + CLEAR
            e["detail"] = OSC52
        snap["call"] = (snap["call"] or "") + CSI8
        out_lines.append(json.dumps(snap))
    trace = tmp_path / "t.jsonl"
    trace.write_text("\n".join(out_lines) + "\n", encoding="utf-8")
    # WHEN it is replayed headless  THEN the names are there, escaped, and no ESC went out
    code, out, err = _run(["replay", str(trace), "--headless"])
    assert code == 0, err
    _no_control(out + err)
    assert "writer\\x1b]0;owned\\x07" in out


def test_error_lines_escape_names_from_the_command_line(tmp_path):
    # GIVEN a lesson name with an escape sequence  WHEN run  THEN the error line shows it
    code, out, err = _run(["run", f"nope{OSC52}", "--headless"])
    assert code == 2
    _no_control(err)
    assert err.count("\n") == 1
