"""The lesson-file reference (docs/lessons.md), written from the vocabulary itself.

    python -m ipcviz.scenario.reference > docs/lessons.md

Every action with its arguments, every attribute `expect` may name per kind, the top-level
fields, quizzes and the `*_zh` translations.  tests/test_docs.py checks that the committed
file equals this text, so the reference cannot drift from what the loader accepts.
"""

from __future__ import annotations

import sys

from .actions import ACTIONS, OBJECT_ATTRS, OPS, PROCESS_ATTRS, STEP_ATTRS
from .limits import MAX_FD
from .loader import CHOICE_KEYS, OBJECT_KEYS, PROCESS_KEYS, QUIZ_KEYS, STEP_KEYS, TOP_KEYS
from .vocab import Arg

# What each argument type accepts (vocab/base.py names the types).
_TYPES = {
    "process": "a process name of the lesson",
    "fd": f'an fd number (0 to {MAX_FD}) or an object end: `"p.read"`, `"p.write"`',
    "size": "a byte count: a number, or `capacity` / `PIPE_BUF`, optionally `+ N`, `- N`, "
            "`* N` (resolved on this machine at run time)",
    "int": "a whole number",
    "seconds": "a time in seconds: `2`, or below a second `0.2` (0, or at least 0.001)",
    "str": "a string",
    "bool": "`true` or `false`",
    "signal": 'a signal name: `"SIGUSR1"`, `"SIGRTMIN+1"` (`SIG` may be left out)',
    "signals": 'a list of signal names: `["SIGINT", "SIGTERM"]`',
    "semops": 'a list of System V operations `[sem_num, sem_op]` or `[sem_num, sem_op, '
              '"SEM_UNDO|IPC_NOWAIT"]`: `[[0, -1], [1, -1]]` (at most SEMOPM of '
              '/proc/sys/kernel/sem)',
}

# The fields of the tables of a lesson file (the loader's *_KEYS say which exist).
_FIELDS = {
    "title": "the lesson's title (required)",
    "summary": "one line for the picker",
    "title_zh": "the title in Simplified Chinese (shown with `--lang zh`)",
    "summary_zh": "the summary in Simplified Chinese",
    "mechanism": "ignored (the folder names the mechanism)",
    "name": "ignored at the top (the file name names the lesson)",
    "process": "`[[process]]` tables: the lesson's processes",
    "object": "`[[object]]` tables: the kernel objects it uses",
    "step": "`[[step]]` tables: one system-level action of one process each",
}
_PROCESS = {
    "name": "lower case letters, digits, `-` and `_` (required)",
    "parent": "the process whose `fork` step creates it; none: ipcviz starts it",
    "description": "one line shown on its card",
}
_OBJECT = {
    "name": "as a process name; unique among processes and objects (required)",
    "kind": "one of the kinds below (required)",
}
_STEP = {
    "process": "the process that acts (required)",
    "action": "one of the actions below (required); its arguments are fields of the step",
    "narration": "what the class should notice (required)",
    "narration_zh": "the narration in Simplified Chinese",
    "code": "the C shown beside the step",
    "expect": 'checks of the world after the step: `["p.bytes == 0", ...]`',
    "quiz": "a question asked before the step (`[step.quiz]`, below)",
}
_QUIZ = {
    "question": "the question (required)",
    "question_zh": "the question in Simplified Chinese",
    "choice": "two or more `[[step.quiz.choice]]` tables",
}
_CHOICE = {
    "text": "the answer shown (required)",
    "text_zh": "the answer in Simplified Chinese",
    "when": "an expect that holds after the step when this answer is right (required)",
}


def _type(typ: str) -> str:
    if typ.startswith("object:"):
        kinds = [k for k in typ[7:].split("|") if k]
        return "an object name" + (f" of kind {' or '.join(f'`{k}`' for k in kinds)}"
                                   if kinds else "")
    if typ.startswith("choice:"):
        return "one of " + ", ".join(f"`{c}`" for c in typ[7:].split("|"))
    return _TYPES[typ]


def _arg(arg: Arg) -> str:
    need = "required" if arg.required else (
        "optional" if arg.default is None else f"default `{_literal(arg.default)}`")
    doc = f": {arg.doc}" if arg.doc else ""
    return f"| `{arg.name}` | {_type(arg.type)} | {need}{doc} |"


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _table(rows: dict[str, str], keys: set[str]) -> list[str]:
    assert set(rows) >= keys, f"undocumented fields: {sorted(keys - set(rows))}"
    return ["| field | meaning |", "|---|---|",
            *(f"| `{k}` | {rows[k]} |" for k in rows if k in keys), ""]


def _words(names: object) -> str:
    return ", ".join(f"`{n}`" for n in sorted(names))  # type: ignore[call-overload]


def markdown() -> str:
    out = [
        "# Writing lessons: the reference",
        "",
        "<!-- Written by `python -m ipcviz.scenario.reference > docs/lessons.md`"
        " from the vocabulary (ipcviz/scenario/vocab): do not edit by hand. -->",
        "",
        "A lesson is a TOML file. `ipcviz check FILE` validates it and lists every error"
        " with a fix; `ipcviz schema` prints a JSON Schema for editors; `ipcviz new NAME`"
        " writes one to start from. The README's *Writing a scenario* shows a whole file.",
        "",
        "## The file",
        "",
        *_table(_FIELDS, TOP_KEYS | {"mechanism", "name"}),
        "### `[[process]]`",
        "",
        *_table(_PROCESS, PROCESS_KEYS),
        "### `[[object]]`",
        "",
        *_table(_OBJECT, OBJECT_KEYS),
        "### `[[step]]`",
        "",
        *_table(_STEP, STEP_KEYS),
        "### `[step.quiz]` and `[[step.quiz.choice]]`",
        "",
        "Asked before the step (`ipcviz run --quiz`, the app's quiz mode); the kernel's state"
        " after the step says which answer was right.",
        "",
        *_table(_QUIZ, QUIZ_KEYS),
        *_table(_CHOICE, CHOICE_KEYS),
        "### `expect`",
        "",
        "`NAME.ATTR OP VALUE`, OP one of " + " ".join(f"`{o}`" for o in OPS) + ". NAME is a"
        " process, an object or `step`; VALUE is a number, a word (`blocked`), `true` /"
        " `false`, `none`, a quoted string, an object end (`p.write`) or another `NAME.ATTR`"
        " (± N). A quoted string may hold escapes: `\\n` `\\t` `\\r` `\\0` `\\\\` `\\\"` `\\'`"
        " `\\xHH` `\\uHHHH` (in a TOML literal string `'...'` write them as they are; in a"
        " basic string `\"...\"` TOML decodes them first). A list compares with its"
        " comma-joined text (`child.handled == 'SIGINT,SIGTERM'`).",
        "",
        f"- `step`: {_words(STEP_ATTRS)}",
        f"- every process: {_words(PROCESS_ATTRS)}",
        "",
        "## Actions",
        "",
        "Each action's arguments are fields of its `[[step]]`.",
        "",
    ]
    for action in sorted(ACTIONS.values(), key=lambda a: a.name):
        out += [f"### `{action.name}`", "", action.summary.replace("|", "\\|") + ".", ""]
        if action.one_of:
            out += ["Needs at least one of " + _words(action.one_of) + ".", ""]
        if action.args:
            out += ["| argument | value | need |", "|---|---|---|",
                    *(_arg(a) for a in action.args), ""]
        else:
            out += ["No arguments.", ""]
    out += ["## Object kinds and their attributes", ""]
    for kind in sorted(OBJECT_ATTRS):
        out += [f"- `{kind}`: {_words(OBJECT_ATTRS[kind])}"]
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(markdown())
