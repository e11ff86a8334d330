"""Load and validate scenario files.  Loading is reading: nothing is executed.

Every problem becomes a ScenarioError that names the file, the field and, where the
TOML text lets us find it, the line.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, NoReturn, overload

from ..files import ReadError, read_text
from .actions import (
    ACTIONS,
    END_NAMES,
    OBJECT_ATTRS,
    OPS,
    PROCESS_ATTRS,
    SIZE_RE,
    STEP_ATTRS,
    signal_number,
)
from .limits import (
    MAX_DEPTH,
    MAX_FD,
    MAX_FILE_BYTES,
    MAX_PROCESSES,
    MAX_SIZE,
    MAX_STEP_TEXT,
    MIN_SECONDS,
    MAX_NSEMS,
    RESERVED_FD_FLOOR,
    SEM_FILE,
    int_range,
    seconds_ok,
    seconds_range,
    semopm,
)
from .model import Choice, Expect, ObjectSpec, ProcessSpec, Quiz, Ref, Scenario, Step

# \Z, not $: "$" also matches before a final newline, and a name ends up in paths.
NAME_RE = re.compile(r"[a-z][a-z0-9_-]*\Z")
TOP_KEYS = {"title", "summary", "process", "object", "step", "title_zh", "summary_zh"}
PROCESS_KEYS = {"name", "parent", "description"}
OBJECT_KEYS = {"name", "kind"}
STEP_KEYS = {"process", "action", "narration", "code", "expect", "narration_zh", "quiz"}
QUIZ_KEYS = {"question", "question_zh", "choice"}
CHOICE_KEYS = {"text", "text_zh", "when"}


class ScenarioError(Exception):
    """A scenario file is not valid.  str() is one line: file:line: field: problem.

    `errors` holds every problem the file has (this one first), each a ScenarioError of
    its own: `ipcviz check` prints them all; one-line reports name the first and the count."""

    errors: tuple[ScenarioError, ...]

    def __init__(self, path: Path | str | None, field: str | None, message: str,
                 line: int | None = None, hint: str | None = None) -> None:
        self.hint = hint if hint is not None else fix_for(message)
        self.path = str(path) if path is not None else None
        self.field = field
        self.message = message
        self.line = line
        parts = []
        if self.path:
            parts.append(self.path + (f":{line}" if line else ""))
        if field:
            parts.append(field)
        # One line, whatever the file held: a name with a newline in it is shown escaped.
        super().__init__(_one_line(": ".join([*parts, message])))
        self.errors = (self,)

    @classmethod
    def of(cls, errors: list[ScenarioError]) -> ScenarioError:
        """One error standing for all of a file's: the first, carrying the others."""
        if len(errors) == 1:
            return errors[0]
        first = errors[0]
        more = len(errors) - 1
        err = cls(first.path, first.field, f"{first.message} (and {more} more error"
                  f"{'s' if more > 1 else ''}: `ipcviz check` lists them)", first.line,
                  first.hint)
        err.errors = tuple(errors)
        return err


def did_you_mean(word: object, known: Collection[str]) -> str:
    """" (did you mean 'fork'?)" for a near miss, else "" (the caller lists what is known)."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unknown(what: str, word: object, known: Collection[str]) -> str:
    """"unknown WHAT 'x' (did you mean 'y'?)", or with the list of known ones."""
    hint = did_you_mean(word, known)
    if not hint and known:
        hint = f" (known: {', '.join(sorted(known))})"
    return f"unknown {what} {word!r}{hint}"


def _one_line(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# How to fix each kind of mistake (what `ipcviz check` prints after the error line).
_FIXES = [
    (r"not valid TOML",
     'check the quotes and brackets on that line: key = "text", numbers bare, '
     "tables as [[step]]"),
    (r"missing field '(\w+)'", r"add a line  \1 = ...  to this table"),
    (r"unknown action", "use one of the known actions (docs/lessons.md lists each, with "
     "its arguments)"),
    (r"unknown process '([^']*)'",
     r'declare it in a [[process]] table (name = "\1"), or fix the spelling'),
    (r"unknown object '([^']*)'",
     r'declare it in an [[object]] table (name = "\1", kind = ...), or fix the spelling'),
    (r"does not exist yet",
     'put a fork step of its parent (action = "fork", child = ...) before this step'),
    (r"no fork step creates it",
     'add a step of the parent with action = "fork" and child = this process, '
     "or remove its `parent`"),
    (r"cannot read", 'write an expect as NAME.ATTR OP VALUE, e.g. "reader.state == blocked"'),
    (r"has no '", "use the attribute suggested or listed (docs/lessons.md lists them per kind)"),
    (r"unknown name '", "use a process name, an object name, or `step`"),
    (r"duplicate", "give each process and object its own name"),
    (r"unknown field", "remove it, or correct its spelling to one of the known fields"),
    (r"must be a string", "put the value in double quotes"),
    (r"must be an integer", "write a whole number without quotes"),
    (r"must be true or false", "write true or false without quotes"),
    (r"unknown fd", 'use a number (0, 1, 3, ...) or an object end like "p.read" / "p.write"'),
    (r"unknown end", "an end is .read or .write (a socketpair's: .a or .b; a socket's or "
     "an open file's: .fd)"),
    (r"unknown signal",
     "use a signal name of this system, e.g. SIGUSR1, SIGTERM, SIGRTMIN+1 (see `kill -l`)"),
    (r"not a size", "write a number of bytes, or capacity / PIPE_BUF with + - * N"),
    (r"unknown kind", "use one of the kinds listed"),
    (r"is a \w+, this needs", "use an object of the kind the action needs"),
    (r"no such file", "check the path; shipped lessons are named like pipe/eof"),
]


def fix_for(message: str) -> str | None:
    for pattern, fix in _FIXES:
        m = re.search(pattern, message)
        if m:
            return m.expand(fix)
    return None


class _Lines:
    """Finds the line of the n-th [[table]] and of a key inside it, for error messages."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self._headers: dict[str, list[int]] = {}

    def table(self, kind: str, index: int) -> int | None:
        """Line number of the index-th [[kind]] header (header positions found once)."""
        if kind not in self._headers:
            header = re.compile(r"^\s*\[\[\s*" + re.escape(kind) + r"\s*\]\]")
            self._headers[kind] = [i + 1 for i, line in enumerate(self.lines)
                                   if header.match(line)]
        found = self._headers[kind]
        return found[index] if index < len(found) else None

    def key(self, kind: str | None, index: int, key: str) -> int | None:
        start = self.table(kind, index) if kind else 1
        if start is None:
            return None
        pat = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        for i in range(start - 1 if kind is None else start, len(self.lines)):
            line = self.lines[i]
            if kind and i >= start and re.match(r"^\s*\[", line):
                break
            if pat.match(line):
                return i + 1
        return start


def scenario_name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def load(path: Path | str, name: str | None = None) -> Scenario:
    path = Path(path)
    try:
        text = read_text(path, MAX_FILE_BYTES, "a lesson file")
    except ReadError as err:
        raise ScenarioError(path, None, str(err)) from None
    return loads(text, path, name or scenario_name(path))


def _depth(value: Any) -> int:
    """How deep arrays and tables nest in parsed TOML (without recursion)."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        v, d = todo.pop()
        deepest = max(deepest, d)
        if isinstance(v, dict):
            todo.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            todo.extend((x, d + 1) for x in v)
    return deepest


def loads(text: str, path: Path | str | None = None, name: str = "custom/scenario") -> Scenario:
    if len(text) > MAX_FILE_BYTES:  # an embedded scenario (in a trace) too
        raise ScenarioError(path, None, f"larger than {MAX_FILE_BYTES // 1024} KB, the most a "
                            "lesson file may be")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"line (\d+)", str(err))
        raise ScenarioError(path, None, f"not valid TOML: {err}",
                            int(m.group(1)) if m else None) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ScenarioError(path, None, f"arrays or tables nested more than {MAX_DEPTH} deep")\
            from None
    if _depth(data) > MAX_DEPTH:
        raise ScenarioError(path, None, f"arrays or tables nested more than {MAX_DEPTH} deep")
    scenario = _Validator(data, path, name, _Lines(text)).scenario()
    return replace(scenario, source=text)


class _Skip(Exception):
    """Raised by a check whose part of the file is already reported broken."""


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}
_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.?)", re.DOTALL)


def unescape(text: str) -> tuple[str, str | None]:
    """A quoted expect value as the text it stands for: "one\\ntwo" is one, newline, two.

    Returns (text, None), or (text, why) for an escape that is not one of \\n \\t \\r \\0
    \\\\ \\" \\' \\xHH \\uHHHH (so a typo is named, not compared as written)."""
    why: list[str] = []

    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[:1] in ("x", "u") and len(code) > 1:
            return chr(int(code[1:], 16))
        if code in _ESCAPES:
            return _ESCAPES[code]
        why.append(f"unknown escape '\\{code}' in a quoted value (known: \\n \\t \\r \\0 "
                   "\\\\ \\\" \\' \\xHH \\uHHHH)")
        return m.group(0)

    out = _ESCAPE_RE.sub(one, text)
    return out, (why[0] if why else None)


def _signal_text(value: str) -> str:
    value = value.strip().upper()
    return value if value.startswith("SIG") else "SIG" + value


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


class _Validator:
    def __init__(self, data: dict[str, Any], path: Path | str | None, name: str,
                 lines: _Lines) -> None:
        self.data = data
        self.path = Path(path) if path is not None else None
        self.name = name
        self.lines = lines
        self.errors: list[ScenarioError] = []  # every problem found, in file order

    @contextmanager
    def collect(self) -> Iterator[None]:
        """Check one part of the file: a problem there is noted, and checking goes on."""
        try:
            yield
        except ScenarioError as err:
            self.errors.append(err)
        except _Skip:
            pass

    def fail(self, field: str, message: str, kind: str | None = None, index: int = 0,
             key: str | None = None) -> NoReturn:
        line = None
        if kind and key:
            line = self.lines.key(kind, index, key)
        elif kind:
            line = self.lines.table(kind, index)
        elif key:
            line = self.lines.key(None, 0, key)
        raise ScenarioError(self.path, field, message, line)

    @overload
    def text(self, table: dict[str, Any], key: str, field: str, kind: str | None, index: int,
             required: Literal[True] = ...) -> str: ...
    @overload
    def text(self, table: dict[str, Any], key: str, field: str, kind: str | None, index: int,
             required: bool) -> str | None: ...

    def text(self, table: dict[str, Any], key: str, field: str, kind: str | None, index: int,
             required: bool = True) -> str | None:
        """The string at table[key]; a required one is never missing nor blank."""
        if key not in table:
            if required:
                self.fail(field, f"missing field '{key}'", kind, index)
            return None
        value = table[key]
        if not isinstance(value, str):
            self.fail(field, f"must be a string, not {_type_name(value)}", kind, index, key)
        if required and not value.strip():
            self.fail(field, "must not be empty", kind, index, key)
        return value

    def tables(self, key: str) -> list[dict[str, Any]]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, f"must be written as [[{key}]] tables", key=key)
        return value

    def unknown_keys(self, table: dict[str, Any], allowed: set[str], field: str,
                     kind: str | None, index: int) -> None:
        for key in table:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or f" (known: {', '.join(sorted(allowed))})"
                with self.collect():
                    self.fail(f"{field}.{key}", f"unknown field{hint}", kind, index, key)

    def scenario(self) -> Scenario:
        """The scenario, or one ScenarioError carrying every problem of the file."""
        self.unknown_keys(self.data, TOP_KEYS | {"mechanism", "name"}, "scenario", None, 0)
        texts: dict[str, str | None] = {}
        for key in ("title", "summary", "title_zh", "summary_zh"):
            texts[key] = None
            with self.collect():
                texts[key] = self.text(self.data, key, key, None, 0, required=key == "title")
        title, title_zh, summary_zh = texts["title"], texts["title_zh"], texts["summary_zh"]
        summary = texts["summary"] or ""
        processes: list[ProcessSpec] = []
        objects: list[ObjectSpec] = []
        steps: list[Step] = []
        with self.collect():
            processes = self.processes()
        with self.collect():
            objects = self.objects({p.name for p in processes})
        with self.collect():
            steps = self.steps(processes, objects)
        if self.errors:
            raise ScenarioError.of(self.errors)  # in the order found: causes first
        mechanism = self.name.split("/", 1)[0]
        return Scenario(self.name, mechanism, title or "", summary, tuple(processes),
                        tuple(objects), tuple(steps), self.path,
                        title_i18n={"zh": title_zh} if title_zh else {},
                        summary_i18n={"zh": summary_zh} if summary_zh else {})

    # -- processes and objects --------------------------------------------------------

    def processes(self) -> list[ProcessSpec]:
        tables = self.tables("process")
        if not tables:
            self.fail("process", "a scenario needs at least one [[process]]")
        if len(tables) > MAX_PROCESSES:
            self.fail("process", f"{len(tables)} processes: a lesson may have at most "
                      f"{MAX_PROCESSES}", "process", MAX_PROCESSES)
        out: list[ProcessSpec] = []
        names: set[str] = set()
        for i, t in enumerate(tables):
            field = f"process[{i + 1}]"
            self.unknown_keys(t, PROCESS_KEYS, field, "process", i)
            with self.collect():
                name = self.text(t, "name", f"{field}.name", "process", i)
                if not NAME_RE.match(name):
                    self.fail(f"{field}.name", f"'{name}' is not a valid name (lower case "
                              "letters, digits, - and _)", "process", i, "name")
                if name in names:
                    self.fail(f"{field}.name", f"duplicate process name '{name}'", "process",
                              i, "name")
            if not isinstance(t.get("name"), str) or not t["name"].strip():
                continue  # reported above
            name = t["name"]
            names.add(name)
            parent = desc = None
            with self.collect():
                parent = self.text(t, "parent", f"{field}.parent", "process", i,
                                   required=False)
            with self.collect():
                desc = self.text(t, "description", f"{field}.description", "process", i,
                                 required=False)
            out.append(ProcessSpec(name, parent, desc or ""))
        for i, p in enumerate(out):
            with self.collect():
                if p.parent is not None and p.parent not in names:
                    self.fail(f"process[{i + 1}].parent", _unknown("process", p.parent, names),
                              "process", i, "parent")
                if p.parent == p.name:
                    self.fail(f"process[{i + 1}].parent", "a process cannot be its own parent",
                              "process", i, "parent")
        return out

    def objects(self, process_names: set[str]) -> list[ObjectSpec]:
        out: list[ObjectSpec] = []
        names: set[str] = set()
        for i, t in enumerate(self.tables("object")):
            field = f"object[{i + 1}]"
            self.unknown_keys(t, OBJECT_KEYS, field, "object", i)
            name = kind = None
            with self.collect():
                name = self.text(t, "name", f"{field}.name", "object", i)
                if not NAME_RE.match(name):
                    self.fail(f"{field}.name", f"'{name}' is not a valid name", "object", i,
                              "name")
                if name in names or name in process_names or name == "step":
                    self.fail(f"{field}.name", f"duplicate name '{name}'", "object", i, "name")
            with self.collect():
                kind = self.text(t, "kind", f"{field}.kind", "object", i)
                if kind not in OBJECT_ATTRS:
                    kind = None
                    self.fail(f"{field}.kind", _unknown("kind", t["kind"], OBJECT_ATTRS),
                              "object", i, "kind")
            if isinstance(t.get("name"), str) and t["name"].strip():
                names.add(t["name"])
                # an object of a broken kind stays known by name (no "unknown object" later)
                out.append(ObjectSpec(t["name"], kind or ""))
        return out

    # -- steps --------------------------------------------------------------------------

    def steps(self, processes: list[ProcessSpec], objects: list[ObjectSpec]) -> list[Step]:
        tables = self.tables("step")
        if not tables:
            self.fail("step", "a scenario needs at least one [[step]]")
        procs = {p.name: p for p in processes}
        objs = {o.name: o for o in objects}
        alive = {p.name for p in processes if p.parent is None}
        forked: dict[str, int] = {}
        out: list[Step] = []
        for i, t in enumerate(tables):
            step = self.step(i, t, procs, objs, alive, forked)
            if step is not None:
                out.append(step)
        for name, p in procs.items():
            if p.parent is not None and p.parent in procs and name not in forked:
                with self.collect():
                    self.fail(f"process.{name}", f"'{name}' has parent '{p.parent}' but no "
                              "fork step creates it", "process", list(procs).index(name),
                              "parent")
        return out

    def step(self, i: int, t: dict[str, Any], procs: dict[str, ProcessSpec],
             objs: dict[str, ObjectSpec], alive: set[str], forked: dict[str, int]
             ) -> Step | None:
        """Step i (0-based) of the file; None if it is broken (every problem noted)."""
        field = f"step[{i + 1}]"
        before = len(self.errors)
        process = action_name = action = None
        with self.collect():
            process = self.text(t, "process", f"{field}.process", "step", i)
            if process not in procs:
                self.fail(f"{field}.process", _unknown("process", process, procs), "step", i,
                          "process")
        with self.collect():
            action_name = self.text(t, "action", f"{field}.action", "step", i)
            action = ACTIONS.get(action_name)
            if action is None:
                self.fail(f"{field}.action", _unknown("action", action_name, ACTIONS), "step",
                          i, "action")
        with self.collect():
            if process in procs and process not in alive:
                self.fail(f"{field}.process", f"'{process}' does not exist yet at this step "
                          "(a fork step of its parent must come first)", "step", i, "process")
        texts: dict[str, str | None] = {}
        for key in ("narration", "narration_zh", "code"):
            texts[key] = None
            with self.collect():
                texts[key] = self.text(t, key, f"{field}.{key}", "step", i,
                                       required=key == "narration")
        args: dict[str, Any] = {}
        if action is None and isinstance(t.get("child"), str) and t["child"] in procs:
            forked.setdefault(t["child"], i + 1)  # a misspelt fork: its child is not blamed too
            alive.add(t["child"])
        if action is not None:  # an unknown action's arguments cannot be told apart
            self.unknown_keys(t, STEP_KEYS | {a.name for a in action.args}, field, "step", i)
            for arg in action.args:
                with self.collect():
                    if arg.name not in t:
                        if arg.required:
                            self.fail(f"{field}.{arg.name}", f"missing field '{arg.name}' for "
                                      f"action '{action.name}'", "step", i)
                        if arg.default is not None:
                            args[arg.name] = arg.default
                        continue
                    self.named(t[arg.name], arg.type, f"{field}.{arg.name}", i, arg.name,
                               procs, objs)
                    args[arg.name] = self.arg(t[arg.name], arg.type, f"{field}.{arg.name}", i,
                                              arg.name, procs, objs, action.name)
            with self.collect():
                self.step_rules(action, t, args, field, i, process, procs, alive, forked)
        expects: tuple[Expect, ...] = ()
        quiz = None
        with self.collect():
            expects = self.expects(t.get("expect", []), f"{field}.expect", i, procs, objs)
        with self.collect():
            quiz = self.quiz(t.get("quiz"), f"{field}.quiz", i, procs, objs)
        if len(self.errors) > before or action is None or process is None:
            return None
        narration_zh = texts["narration_zh"]
        return Step(i + 1, process, action.name, args, texts["narration"] or "", texts["code"],
                    expects, self.lines.table("step", i),
                    narration_i18n={"zh": narration_zh} if narration_zh else {}, quiz=quiz)

    def step_rules(self, action: Any, t: dict[str, Any], args: dict[str, Any], field: str,
                   i: int, process: str | None, procs: dict[str, ProcessSpec],
                   alive: set[str], forked: dict[str, int]) -> None:
        """The checks of a step as a whole: its text, one_of, and what a fork needs."""
        text = sum(len(v.encode()) for v in args.values() if isinstance(v, str))
        if text > MAX_STEP_TEXT:
            self.fail(field, f"{text} bytes of text in one step: at most {MAX_STEP_TEXT} "
                      "(use size = N to move more bytes)", "step", i)
        if action.one_of and not any(k in t for k in action.one_of):
            self.fail(field, f"action '{action.name}' needs one of: "
                      f"{', '.join(action.one_of)}", "step", i)
        self.one_or_many(action, t, field, i)
        if action.name == "signal":
            self.handler_flags(args, field, i)
        if action.name == "fork" and "child" in args:
            child = args["child"]
            if process is not None and procs[child].parent != process:
                self.fail(f"{field}.child", f"'{child}' is declared with parent "
                          f"'{procs[child].parent}', not '{process}'", "step", i, "child")
            if child in forked:
                self.fail(f"{field}.child", f"'{child}' is already forked at step "
                          f"{forked[child]}", "step", i, "child")
            forked[child] = i + 1
            alive.add(child)

    def handler_flags(self, args: dict[str, Any], field: str, i: int) -> None:
        """sigaction's flags are for a handler: restart also for reap, the rest only for
        disposition handler."""
        disp = args.get("disposition")
        for key, what, allowed in (("restart", "SA_RESTART", ("handler", "reap")),
                                   ("mask", "sa_mask", ("handler",)),
                                   ("nodefer", "SA_NODEFER", ("handler",)),
                                   ("siginfo", "SA_SIGINFO", ("handler",)),
                                   ("hold", "a held handler", ("handler",))):
            if args.get(key) and disp not in allowed:
                self.fail(f"{field}.{key}", f"{what} is for a handler, not for "
                          f"disposition '{disp}'", "step", i, key)

    def one_or_many(self, action: Any, t: dict[str, Any], field: str, i: int) -> None:
        """A semop of `ops = [...]` carries each operation's own fields: no op/sem/flags."""
        if "ops" in t and "semops" in {a.type for a in action.args}:
            extra = [k for k in ("op", "sem", "undo", "nowait") if k in t]
            if extra:
                self.fail(f"{field}.{extra[0]}", f"'{extra[0]}' is for one operation: with "
                          "ops = [...], each operation carries its own", "step", i, extra[0])

    def named(self, value: Any, typ: str, field: str, i: int, key: str,
              procs: dict[str, ProcessSpec], objs: dict[str, ObjectSpec]) -> None:
        """A near miss of a process or object name gets a did-you-mean; an object whose
        own table is broken (unknown kind) is not blamed again here."""
        if not isinstance(value, str):
            return
        if typ == "process" and value not in procs:
            self.fail(field, _unknown("process", value, procs), "step", i, key)
        if typ.startswith("object:") or (typ == "fd" and "." in value):
            name = value.split(".", 1)[0] if typ == "fd" else value
            if name not in objs:
                self.fail(field, _unknown("object", name, objs), "step", i, key)
            if not objs[name].kind:
                raise _Skip

    def arg(self, value: Any, typ: str, field: str, i: int, key: str,
            procs: dict[str, ProcessSpec], objs: dict[str, ObjectSpec],
            action: str = "") -> Any:
        def bad(msg: str) -> NoReturn:
            self.fail(field, msg, "step", i, key)

        if typ == "process":
            if not isinstance(value, str) or value not in procs:
                bad(f"unknown process {value!r}")
            return value
        if typ.startswith("object:"):
            return _arg_object(value, typ, objs, bad)
        if typ == "fd":
            return _arg_fd(value, objs, bad)
        if typ == "size":
            return _arg_size(value, bad)
        if typ == "int":
            return _arg_int(value, action, key, bad)
        if typ == "seconds":
            return _arg_seconds(value, action, key, bad)
        if typ in _SIMPLE_ARGS:
            return _SIMPLE_ARGS[typ](value, bad)
        if typ.startswith("choice:"):
            choices = typ.split(":", 1)[1].split("|")
            if value not in choices:
                bad(f"must be one of {', '.join(choices)}, not {value!r}")
            return value
        raise AssertionError(f"unknown argument type {typ}")  # a bug in ACTIONS, not input

    # -- quiz ---------------------------------------------------------------------------

    def quiz(self, value: Any, field: str, i: int, procs: dict[str, ProcessSpec],
             objs: dict[str, ObjectSpec]) -> Quiz | None:
        """[step.quiz] question = ..., [[step.quiz.choice]] text = ..., when = "EXPECT"."""
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(field, "must be a table: [step.quiz]", "step", i, "quiz")
        self.unknown_keys(value, QUIZ_KEYS, field, "step", i)
        question = {"en": self.text(value, "question", f"{field}.question", "step", i)}
        zh = self.text(value, "question_zh", f"{field}.question_zh", "step", i, required=False)
        if zh:
            question["zh"] = zh
        raw = value.get("choice")
        if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(c, dict)
                                                                  for c in raw):
            self.fail(f"{field}.choice", "a quiz needs two or more [[step.quiz.choice]] tables",
                      "step", i, "quiz")
        choices = []
        for n, c in enumerate(raw):
            cf = f"{field}.choice[{n + 1}]"
            self.unknown_keys(c, CHOICE_KEYS, cf, "step", i)
            with self.collect():
                text = {"en": self.text(c, "text", f"{cf}.text", "step", i)}
                czh = self.text(c, "text_zh", f"{cf}.text_zh", "step", i, required=False)
                if czh:
                    text["zh"] = czh
                when = self.text(c, "when", f"{cf}.when", "step", i)
                choices.append(Choice(text, self.expect(when, f"{cf}.when", i, procs, objs)))
        return Quiz(question, tuple(choices))

    # -- expects ------------------------------------------------------------------------

    def expects(self, value: Any, field: str, i: int, procs: dict[str, ProcessSpec],
                objs: dict[str, ObjectSpec]) -> tuple[Expect, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(field, "must be a list of strings like \"reader.state == blocked\"",
                      "step", i, "expect")
        out = []
        for n, text in enumerate(value):
            f = f"{field}[{n + 1}]"
            with self.collect():
                if not isinstance(text, str):
                    self.fail(f, f"must be a string, not {_type_name(text)}", "step", i,
                              "expect")
                out.append(self.expect(text, f, i, procs, objs))
        return tuple(out)

    def attr_ok(self, name: str, attr: str, procs: dict[str, ProcessSpec],
                objs: dict[str, ObjectSpec]) -> str | None:
        """None if NAME.ATTR may be observed, else the reason why not."""
        known: Collection[str]
        if name == "step":
            known = STEP_ATTRS
        elif name in procs:
            known = PROCESS_ATTRS
        elif name in objs:
            if not objs[name].kind:
                raise _Skip  # its [[object]] table is reported broken already
            known = OBJECT_ATTRS[objs[name].kind]
        else:
            hint = did_you_mean(name, [*procs, *objs, "step"]) or \
                " (a process, an object or 'step')"
            return f"unknown name '{name}'{hint}"
        if attr not in known:
            hint = did_you_mean(attr, known) or f" (known: {', '.join(sorted(known))})"
            return f"'{name}' has no '{attr}'{hint}"
        return None

    def expect(self, text: str, field: str, i: int, procs: dict[str, ProcessSpec],
               objs: dict[str, ObjectSpec]) -> Expect:
        # DOTALL: a quoted value may hold a newline (a TOML basic string decodes "\\n").
        m = re.fullmatch(r"\s*([a-z][a-z0-9_-]*)\.([a-z_]+)\s*(==|!=|<=|>=|<|>|has|lacks)\s*"
                         r"(.+?)\s*", text, re.DOTALL)
        if not m:
            self.fail(field, f"cannot read {text!r}: write NAME.ATTR OP VALUE with OP one of "
                      f"{' '.join(OPS)}", "step", i, "expect")
        name, attr, op, right_text = m.groups()
        why = self.attr_ok(name, attr, procs, objs)
        if why:
            self.fail(field, why, "step", i, "expect")
        right: Any
        ref = re.fullmatch(r"([a-z][a-z0-9_-]*)\.([a-z_]+)(?:\s*([-+])\s*(\d+))?", right_text)
        is_end = ref is not None and ref.group(1) in objs and ref.group(2) in END_NAMES
        if is_end:
            right = right_text  # an object end such as "p.write", compared as text
        elif ref and (ref.group(1) in procs or ref.group(1) in objs or ref.group(1) == "step"):
            why = self.attr_ok(ref.group(1), ref.group(2), procs, objs)
            if why:
                self.fail(field, why, "step", i, "expect")
            offset = int(ref.group(4) or 0) * (-1 if ref.group(3) == "-" else 1)
            right = Ref(ref.group(1), ref.group(2), offset)
        elif re.fullmatch(r"-?\d+", right_text):
            right = int(right_text)
        elif len(right_text) >= 2 and right_text[0] == right_text[-1] and right_text[0] in "\"'":
            right, why = unescape(right_text[1:-1])
            if why:
                self.fail(field, why, "step", i, "expect")
        elif right_text in ("none", "None", "null"):
            right = None
        elif right_text in ("true", "false"):
            right = right_text == "true"  # a yes/no attribute (region.exists == true)
        else:
            right = right_text
        return Expect(text.strip(), (name, attr), op, right, self.lines.table("step", i))


# -- step arguments, one checker per argument type (bad() reports and does not return) --

_Bad = Callable[[str], NoReturn]


def _arg_object(value: Any, typ: str, objs: dict[str, ObjectSpec], bad: _Bad) -> Any:
    kinds = [k for k in typ.split(":", 1)[1].split("|") if k]
    if not isinstance(value, str) or value not in objs:
        bad(f"unknown object {value!r}")
    if kinds and objs[value].kind not in kinds:
        bad(f"'{value}' is a {objs[value].kind}, this needs a {' or a '.join(kinds)}")
    return value


def _arg_fd(value: Any, objs: dict[str, ObjectSpec], bad: _Bad) -> Any:
    if isinstance(value, bool):
        bad("must be an fd number or an object end like 'p.read'")
    if isinstance(value, int):
        if value < 0:
            bad("an fd number is never negative")
        if value > MAX_FD:
            bad(f"fd {value} is reserved: fds {RESERVED_FD_FLOOR} and up belong to "
                f"ipcviz (a lesson uses 0 to {MAX_FD})")
        return value
    if isinstance(value, str) and "." in value:
        obj, end = value.split(".", 1)
        if obj not in objs:
            bad(f"unknown object '{obj}'")
        if end not in END_NAMES:
            bad(f"unknown end '{end}' (known: {', '.join(END_NAMES)})")
        return value
    bad(f"unknown fd {value!r}: use a number or an end like 'p.read'")
    return None


def _arg_size(value: Any, bad: _Bad) -> Any:
    if isinstance(value, bool):
        bad("must be a byte count")
    if isinstance(value, int):
        if not 0 <= value <= MAX_SIZE:
            bad(f"a size is a number from 0 to {MAX_SIZE}")
        return value
    m = SIZE_RE.match(value) if isinstance(value, str) else None
    if m:
        limit = MAX_SIZE // 65536 if m.group(2) == "*" else MAX_SIZE
        if m.group(2) and int(m.group(3)) > limit:
            bad(f"'{value}': N may be at most {limit}")
        return value
    bad(f"not a size: {value!r} (a number, or capacity / PIPE_BUF with + - * N)")
    return None


def _arg_int(value: Any, action: str, key: str, bad: _Bad) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        bad(f"must be an integer, not {_type_name(value)}")
    low, high = int_range(action, key)
    if not low <= value <= high:
        if action == "dup2" and key == "to" and value > MAX_FD:
            bad(f"fd {value} is reserved: fds {RESERVED_FD_FLOOR} and up belong to "
                f"ipcviz (a lesson uses 0 to {MAX_FD})")
        bad(f"{value} is out of range: from {low} to {high}")
    return value


def _arg_seconds(value: Any, action: str, key: str, bad: _Bad) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        bad(f"must be a number of seconds (2, or 0.2), not {_type_name(value)}")
    if not seconds_ok(action, key, value):
        low, high = seconds_range(action, key)
        bad(f"{value} is out of range: 0, or from {MIN_SECONDS} to {high:g} seconds")
    return value


def _arg_bool(value: Any, bad: _Bad) -> Any:
    if not isinstance(value, bool):
        bad(f"must be true or false, not {_type_name(value)}")
    return value


def _arg_str(value: Any, bad: _Bad) -> Any:
    if not isinstance(value, str):
        bad(f"must be a string, not {_type_name(value)}")
    return value


def _arg_signal(value: Any, bad: _Bad) -> Any:
    if not isinstance(value, str) or signal_number(value) is None:
        bad(f"unknown signal {value!r}")
    return _signal_text(value)


def _arg_signals(value: Any, bad: _Bad) -> Any:
    if not isinstance(value, list):
        bad(f"must be a list of signal names, not {_type_name(value)}")
    for v in value:
        if not isinstance(v, str) or signal_number(v) is None:
            bad(f"unknown signal {v!r}")
    return [_signal_text(v) for v in value]


SEM_FLAGS = ("SEM_UNDO", "IPC_NOWAIT")
MAX_SEMOPS = MAX_NSEMS  # ipcviz's own cap on one semop's operations if SEMOPM is unreadable


def _arg_semops(value: Any, bad: _Bad) -> Any:
    """[[sem_num, sem_op], [sem_num, sem_op, "SEM_UNDO|IPC_NOWAIT"], ...] -> the same with
    the flags always present ("" for none).  At most SEMOPM operations (the kernel's)."""
    if not isinstance(value, list) or not value:
        bad("must be a list of operations like [[0, -1], [1, -1, \"SEM_UNDO\"]]")
    cap = semopm()
    limit = cap if cap is not None else MAX_SEMOPS
    if len(value) > limit:
        where = (f"SEMOPM, the third number of {SEM_FILE}" if cap is not None
                 else f"ipcviz's cap: {SEM_FILE} could not be read")
        bad(f"{len(value)} operations in one semop: at most {limit} ({where})")
    return [_semop_one(n, op, bad) for n, op in enumerate(value, 1)]


def _semop_one(n: int, op: Any, bad: _Bad) -> list[Any]:
    """Operation n of `ops`, checked: [sem_num, sem_op, "FLAGS"]."""
    if not isinstance(op, list) or not 2 <= len(op) <= 3 or \
            any(isinstance(x, bool) or not isinstance(x, int) for x in op[:2]):
        bad(f"operation {n}: write [sem_num, sem_op] or [sem_num, sem_op, \"FLAGS\"]")
    for key, what, x in (("sem", "sem_num", op[0]), ("op", "sem_op", op[1])):
        low, high = int_range("semop", key)
        if not low <= x <= high:
            bad(f"operation {n}: {what} {x} is out of range: from {low} to {high}")
    flags = op[2] if len(op) == 3 else ""
    words = [f.strip() for f in flags.split("|")] if isinstance(flags, str) and flags else []
    if not isinstance(flags, str) or any(f not in SEM_FLAGS for f in words):
        bad(f"operation {n}: flags are {' | '.join(SEM_FLAGS)} joined by '|', not {flags!r}")
    return [op[0], op[1], "|".join(f for f in SEM_FLAGS if f in words)]


_SIMPLE_ARGS: dict[str, Callable[[Any, _Bad], Any]] = {
    "bool": _arg_bool, "str": _arg_str, "signal": _arg_signal, "signals": _arg_signals,
    "semops": _arg_semops,
}
