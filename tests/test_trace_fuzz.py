"""A standing fuzzer of traces: a mutated trace is refused in one line or shown, never more.

A trace is input (issue 14): the shipped traces in tests/app/traces/ are mutated (types
changed, keys deleted, huge numbers, nesting, unicode and control characters, duplicate
names, truncated lines) and fed to `replay --headless` and `export --trace` in-process.
Each must end with 0 or 2, without a traceback, and write no ESC byte.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


from .conftest import run_cli_in_process

TRACES = Path(__file__).parent / "app" / "traces"
RECORDED = sorted(p for p in TRACES.glob("*.jsonl")
                  if '"source": "' in p.read_text().splitlines()[0])
LINES = {p.name: p.read_text().splitlines() for p in RECORDED}
SMALL = "signal-blocked-pending.jsonl"  # six snapshots: quick to draw as slides

HOSTILE_TEXT = ["", "x [/]", "[@click=app.quit]q[/]", "buf[i]", "[b]x[/b]", "\x1b]52;c;aGk=\x07",
                "\x1b]0;owned\x07", "\x1b[2J", "\x9b31m", "a\nb", "\u202eevil", "名字", "\x00",
                "x" * 5000]
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 2**63, 2**64 + 1, 10**30, 1.5, -0.0, 1e308]),
    st.sampled_from(HOSTILE_TEXT), st.text(max_size=20),
    st.lists(st.integers(-5, 5), max_size=3), st.just({"a": 1}), st.just([[[[[[1]]]]]]),
    st.just({"name": {"x": 1}}), st.just([{"fd": "x"}]),
)


def _paths(node, prefix=()):
    """Every (container, key) in a parsed JSON line."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def _at(node, path):
    for k in path:
        node = node[k]
    return node


def _mutate(data, lines: list[str], texts_only: bool = False) -> list[str]:
    """Up to three mutations; texts_only: only texts change, to hostile ones (the trace
    stays valid, so it is drawn)."""
    lines = list(lines)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        n = data.draw(st.integers(0, len(lines) - 1), label="line")
        how = "text" if texts_only else data.draw(st.sampled_from(
            ["value", "value", "value", "delete", "truncate", "dup-line", "drop-line",
             "dup-name", "nest", "text"]))
        if how == "truncate":
            cut = data.draw(st.integers(0, len(lines[n])))
            lines[n] = lines[n][:cut]
            continue
        if how == "dup-line":
            lines.insert(n, lines[n])
            continue
        if how == "drop-line":
            del lines[n]
            if not lines:
                return [""]
            continue
        try:
            obj = json.loads(lines[n])
        except (ValueError, RecursionError):  # a line an earlier mutation broke or nested
            continue
        if how == "nest":
            depth = data.draw(st.sampled_from([3, 50, 5000]))
            lines[n] = "[" * depth + lines[n] + "]" * depth
            continue
        if how == "dup-name" and isinstance(obj, dict) and len(obj.get("processes", [])) > 1:
            obj["processes"][1]["name"] = obj["processes"][0]["name"]
            lines[n] = json.dumps(obj)
            continue
        paths = list(_paths(obj))
        if how == "text":
            paths = [p for p in paths if isinstance(_at(obj, p), str) and p[-1] != "source"]
        if not paths:
            continue
        path = data.draw(st.sampled_from(paths), label="path")
        parent = _at(obj, path[:-1])
        if how == "delete":
            del parent[path[-1]]
        elif how == "text":
            parent[path[-1]] = data.draw(st.sampled_from(HOSTILE_TEXT), label="text")
        else:
            parent[path[-1]] = data.draw(VALUES, label="value")
        lines[n] = json.dumps(obj)
    return lines


_run = run_cli_in_process


def _assert_clean(code, out: str, err: str) -> None:
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err
    assert "\x1b" not in out and "\x1b" not in err
    assert "\x9b" not in out and "\x9b" not in err
    if code == 2:
        assert err.count("\n") == 1, err  # one line


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_mutated_traces_replay_headless_exits_0_or_2_without_escape(data):
    name = data.draw(st.sampled_from(sorted(LINES)), label="trace")
    lines = _mutate(data, LINES[name])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _assert_clean(*_run(["replay", str(path), "--headless"]))


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_mutated_traces_export_slides_exits_0_or_2_without_escape(data):
    lines = _mutate(data, LINES[SMALL], texts_only=data.draw(st.booleans()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / SMALL
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _assert_clean(*_run(["export", "--trace", str(path), "--svg", str(Path(tmp) / "s"),
                             "--size", "100x30"]))


def test_a_snapshots_process_name_with_escapes_exports_without_a_crash(tmp_path):
    """Found by the fuzzer above: the stage's focus looked up a card with a CSS query built
    from a snapshot's process name, and a name like an OSC escape broke the query."""
    lines = list(LINES[SMALL])
    hostile = "\x1b]0;owned\x07"
    obj = json.loads(lines[5])  # a snapshot in which that process is woken: in focus
    obj["processes"][0]["name"] = hostile
    lines[5] = json.dumps(obj)
    path = tmp_path / SMALL
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _run(["export", "--trace", str(path), "--svg", str(tmp_path / "s"),
                           "--size", "100x30"])
    _assert_clean(code, out, err)
