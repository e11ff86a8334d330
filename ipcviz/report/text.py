"""The headless printer: a readable step-by-step report of snapshots (no textual, no rich)."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from typing import TextIO

from ..model import provenance
from ..model.snapshot import BLOCKED, ObjectState, Process, Snapshot
from ..scenario.model import Scenario
from ..textsafe import SafeWriter, printable


def describe_state(p: Process) -> str:
    if p.state == BLOCKED:
        on = f" on {p.waits_on}" if p.waits_on else ""
        return f"blocked in {p.syscall}(){on}"
    if p.state in ("zombie", "exited") and p.exit is not None:
        return f"{p.state}, {p.exit.describe()}"
    return p.state


def describe_fds(p: Process) -> str:
    parts = []
    for f in p.fds:
        if f.object:
            parts.append(f"{f.fd}→{f.object}.{f.end}" if f.end else f"{f.fd}→{f.object}")
        elif f.target.startswith("/") and f.target.endswith("worker.log"):
            parts.append(f"{f.fd}→log")
        else:
            parts.append(f"{f.fd}→{f.target}")
    return " ".join(parts) if parts else "-"


def describe_object(o: ObjectState) -> str:
    describe = getattr(o, "describe", None)
    if callable(describe):
        return describe()  # a mechanism's own one-line summary
    return f"{o.kind} {o.id}"


def _signals(p: Process) -> str | None:
    s = p.signals
    if s is None:
        return None
    parts = []
    pending = sorted(set(s.pending) | set(s.shared_pending))
    if pending:
        parts.append("pending " + ",".join(pending))
    if s.blocked:
        parts.append("blocked " + ",".join(s.blocked))
    if s.caught:
        parts.append("caught " + ",".join(s.caught))
    if s.ignored:
        parts.append("ignored " + ",".join(s.ignored))
    return "; ".join(parts) if parts else None


def _explain(sources, out: TextIO, indent: str) -> None:
    for src in sources:
        cmd = f"   $ {src.command}" if src.command else ""
        out.write(printable(f"{indent}· {src.field}: {src.interface}{cmd}") + "\n")


def _cells(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _fill(text: str, indent: str = "  ", width: int = 78) -> str:
    """Wrap to `width` terminal cells.  Latin words break at spaces; Chinese text, which has
    no spaces, may break between any two wide characters (a wide one takes two cells)."""
    text = " ".join(text.split())
    if all(_cells(c) == 1 for c in text):
        return textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent)
    room = width - len(indent)
    tokens = re.findall(r"[!-\u10ff]+ ?|\s|.", text)  # a Latin word (and its space), or one char
    lines, line, used = [], "", 0
    for tok in tokens:
        w = sum(_cells(c) for c in tok)
        if used + w > room and line:
            lines.append(line.rstrip())
            line, used = "", 0
            tok = tok.lstrip()
            w = sum(_cells(c) for c in tok)
        line += tok
        used += w
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(indent + x for x in lines)


def print_header(scenario: Scenario, out: TextIO, lang: str = "en") -> None:
    out = SafeWriter(out)  # text from a lesson: no escape sequence reaches the terminal
    out.write(f"{printable(scenario.name)} — {printable(scenario.title_in(lang))}\n")
    summary = scenario.summary_in(lang)
    if summary:
        out.write(_fill(summary) + "\n")


LETTERS = "abcdefghij"

# The report's own words, per language (a lesson's text comes translated from its file).
_WORDS = {
    "before": ("Before step 1", "第 1 步之前"),
    "step": ("Step {step}/{total}", "第 {step}/{total} 步"),
    "processes": ("processes:", "进程："),
    "objects": ("kernel objects:", "内核对象："),
    "checks": ("checks:", "检查："),
}


def _word(key: str, lang: str, **values: object) -> str:
    en, zh = _WORDS[key]
    return (zh if lang == "zh" else en).format(**values)


def print_question(step, out: TextIO, lang: str = "en") -> None:
    """The quiz question asked before a step (answered by the kernel after it)."""
    q = step.quiz
    out = SafeWriter(out)
    out.write(f"\n  ? {printable(q.question.get(lang) or q.question['en'])}\n")
    for n, c in enumerate(q.choices):
        out.write(f"    ({LETTERS[n]}) {printable(c.text.get(lang) or c.text['en'])}\n")


def print_snapshot(snap: Snapshot, out: TextIO, explain: bool = False, lang: str = "en",
                   scenario: Scenario | None = None) -> None:
    out = SafeWriter(out)  # text from a lesson or a trace: shown, never obeyed
    out.write("\n")
    if snap.step == 0:
        out.write(_word("before", lang) + "\n")
    else:
        _print_step(snap, out, lang, scenario)
    _print_processes(snap, out, explain, lang)
    _print_objects(snap, out, explain, lang)
    _print_checks(snap, out, lang)


def _print_step(snap: Snapshot, out: TextIO, lang: str, scenario: Scenario | None) -> None:
    """The call of the step, its narration and code, and what else happened meanwhile."""
    res = snap.result
    tail = {"returned": f" = {res}", "failed": f" = -1 {snap.errno}",
            "blocked": "  ... blocked", "killed": f"  +++ {res} +++"}.get(snap.outcome, "")
    out.write(printable(f"{_word('step', lang, step=snap.step, total=snap.total_steps)}"
                        f"  {snap.process}: {snap.call}{tail}   [{snap.outcome}]") + "\n")
    own = next((e for e in reversed(snap.log) if e.step == snap.step
                and e.outcome == snap.outcome), None)
    if snap.outcome == "failed" and own is not None and own.detail:
        out.write(f"  ({printable(own.detail)})\n")
    narration = snap.narration
    if scenario is not None and 0 < snap.step <= len(scenario.steps):
        narration = scenario.steps[snap.step - 1].narration_in(lang)
    if narration:
        out.write(_fill(narration) + "\n")
    if snap.code:
        for line in snap.code.strip().splitlines():
            out.write(f"  | {line}\n")
    for e in snap.log[len(snap.log) - snap.fresh:]:
        if e.step != snap.step or e.outcome == "handled":
            res = f" = {e.result}" if e.outcome in ("returned", "killed") else ""
            if e.outcome == "failed" and e.errno:
                res = f" = -1 {e.errno}"
            out.write(printable(f"  meanwhile {e.process}: {e.call}{res}  [{e.outcome}]"
                                f"{' ' + e.detail if e.detail else ''}") + "\n")


def _print_processes(snap: Snapshot, out: TextIO, explain: bool, lang: str) -> None:
    out.write(f"  {_word('processes', lang)}\n")
    for p in snap.processes:
        out.write(printable(f"    {p.name:<10} pid {p.pid:<7} ppid {p.ppid:<7} "
                            f"{describe_state(p)}") + "\n")
        if p.state not in ("exited", "zombie"):
            out.write(f"    {'':<10} fds {printable(describe_fds(p))}\n")
            if p.site is not None:  # a watched program: where it made the call it sleeps in
                out.write(f"    {'':<10} call site {printable(p.site.describe())}\n")
                if p.site.line and p.site.context_start:
                    i = p.site.line - p.site.context_start
                    if 0 <= i < len(p.site.context):
                        text = p.site.context[i].strip()
                        out.write(f"    {'':<10} {p.site.line:>5} | {printable(text)}\n")
            sig = _signals(p)
            if sig:
                out.write(f"    {'':<10} signals {printable(sig)}\n")
        if explain:
            _explain(provenance.for_process(p), out, "    " + " " * 11)


def _print_objects(snap: Snapshot, out: TextIO, explain: bool, lang: str) -> None:
    if snap.objects:
        out.write(f"  {_word('objects', lang)}\n")
        for o in snap.objects:
            out.write(f"    {printable(describe_object(o))}\n")
            if explain:
                holder = provenance.holder_of(snap, o)
                pids = {p.name: p.pid for p in snap.processes}
                _explain(provenance.for_object(o, holder, pids), out, "      ")


def print_watch(snap: Snapshot, out: TextIO, scenario: Scenario, explain: bool = False
                ) -> None:
    """One look at a watched program (attach --watch): its processes, objects, and why
    nothing can move (or that something can)."""
    out = SafeWriter(out)  # names and paths come from the watched program
    print_header(scenario, out)
    out.write("(watched without ptrace: nothing was stopped or changed)\n\n")
    _print_processes(snap, out, explain, "en")
    _print_objects(snap, out, explain, "en")
    out.write("\n" + _fill(printable(snap.narration)) + "\n")


def _print_checks(snap: Snapshot, out: TextIO, lang: str) -> None:
    if snap.checks:
        out.write(f"  {_word('checks', lang)}\n")
        for c in snap.checks:
            mark = "ok  " if c.ok else "FAIL"
            extra = "" if c.ok else f"   (observed: {c.observed!r})"
            out.write(printable(f"    {mark} {c.expect}{extra}") + "\n")
