"""Signal deliveries are found from the typed fields of the log (signal, target pid, the
signal that killed), never from the log's English text; old traces get those fields on load."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ipcviz.app.widgets.signals import deliveries, delivery_content
from ipcviz.model.snapshot import Snapshot, snapshot_from_dict
from ipcviz.model.timeline import read_trace
from ipcviz.scenario import load

ROOT = Path(__file__).resolve().parents[2]
TRACES = Path(__file__).resolve().parent / "traces"


def lesson(name: str):
    return load(ROOT / "scenarios" / f"{name}.toml")


def without_text(snap: Snapshot) -> Snapshot:
    """The snapshot with every log line's English gone: only typed fields are left."""
    return replace(snap, log=tuple(replace(e, call="", result=None, detail=None)
                                   for e in snap.log))


def test_an_old_trace_gets_the_typed_fields_on_load():
    """The shipped traces predate the fields: the reader derives them, once."""
    # GIVEN a trace recorded before log entries carried signal and target_pid
    raw = (TRACES / "signal-blocked-pending.jsonl").read_text().splitlines()
    assert '"target_pid"' not in raw[-1] and '"killed_by"' not in raw[-1]
    # WHEN it is read
    last = read_trace(TRACES / "signal-blocked-pending.jsonl")[-1]
    # THEN the kill() entry names its signal and target, the handler's run its signal
    child = last.process_named("child")
    kill = next(e for e in last.log if e.call.startswith("kill("))
    assert (kill.signal, kill.target_pid) == ("SIGUSR1", child.pid)
    handled = [e for e in last.log if e.outcome == "handled"]
    assert [(e.process, e.signal, e.target_pid) for e in handled] == [
        ("child", "SIGUSR1", None)]
    assert all(e.signal is None for e in last.log if e not in handled and e is not kill)


def test_the_typed_fields_are_taken_as_they_are():
    """A trace that has the fields is not read back from its text."""
    snap = read_trace(TRACES / "signal-blocked-pending.jsonl")[5]
    data = json.loads(json.dumps(snap.to_dict()))
    kill = next(e for e in data["log"] if e["call"].startswith("kill("))
    kill["call"] = "kill(1, SIGTERM)"  # the text lies; the fields decide
    back = snapshot_from_dict(data)
    entry = next(e for e in back.log if e.call == "kill(1, SIGTERM)")
    assert (entry.signal, entry.target_pid) == ("SIGUSR1", snap.process_named("child").pid)


def test_deliveries_do_not_read_the_log_text():
    """Blanking every call and result changes no delivery: a kill() that found the signal
    blocked, its delivery on unblock, keys typed on a pty."""
    sc = lesson("signal/blocked-pending")
    snaps = read_trace(TRACES / "signal-blocked-pending.jsonl")
    by_step = {s.step: [d.line() for d in deliveries(without_text(s), sc)] for s in snaps}
    assert by_step[4] == ["SIGUSR1: parent ─kill()→ child (pending: blocked)"]
    assert by_step[5] == ["SIGUSR1: parent ─kill() at step 4→ child (was pending; handler ran)"]

    sc = lesson("signal/terminal-keys")
    typed = next(s for s in read_trace(TRACES / "signal-terminal-keys.jsonl") if s.step == 10)
    assert [d.line() for d in deliveries(without_text(typed), sc)] == [
        d.line() for d in deliveries(typed, sc)]
    assert "SIGINT: terminal ─typed ^C→ shell (handler ran)" in [
        d.line() for d in deliveries(typed, sc)]


def test_a_delivery_is_typed_and_worded_only_when_drawn():
    """The Delivery carries keys and values; English and Chinese are chosen when drawn."""
    sc = lesson("signal/blocked-pending")
    snap = read_trace(TRACES / "signal-blocked-pending.jsonl")[5]
    [d] = deliveries(snap, sc)
    assert (d.signal, d.receiver, d.origin, d.sender, d.waited) == (
        "SIGUSR1", "child", "process", "parent", True)
    assert d.fate.key == "sig_fate_handled"
    assert d.via is not None and d.via.key == "sig_via_earlier" and d.via.get("steps") == (4,)
    assert str(delivery_content(d, "zh")) == (
        "↯ SIGUSR1：parent ─kill() at step 4→ child（曾待决；处理函数已运行）")
    assert str(delivery_content(d, "en")) == (
        "↯ SIGUSR1: parent ─kill() at step 4→ child (was pending; handler ran)")


def test_deliveries_are_not_cached_across_snapshots_with_the_same_identity():
    """No module-global cache: two calls on different snapshots each get their own answer,
    and a call with another scenario is not answered from the first one's result."""
    snap = read_trace(TRACES / "signal-terminal-keys.jsonl")[10]
    with_lesson = [d.line() for d in deliveries(snap, lesson("signal/terminal-keys"))]
    without = [d.line() for d in deliveries(snap, None)]
    assert with_lesson != without  # the typed key is known only from the lesson's step


# -- real runs: the conductor writes the fields from what it knows ----------------------------


def test_a_real_run_logs_typed_signal_facts(runtime_dir):
    """kill() carries its signal and the target's pid, a handler's run its signal."""
    from tests.conductor_helpers import run_to_end

    snaps, _ = run_to_end(lesson("signal/blocked-pending"))
    last = snaps[-1]
    child = last.process_named("child")
    kills = [e for e in last.log if e.step == 4]
    assert [(e.signal, e.target_pid, e.killed_by) for e in kills] == [
        ("SIGUSR1", child.pid, None)]
    handled = [e for e in last.log if e.outcome == "handled"]
    assert [(e.process, e.signal, e.step) for e in handled] == [("child", "SIGUSR1", 5)]
    assert [d.line() for d in deliveries(snaps[5], lesson("signal/blocked-pending"))] == [
        "SIGUSR1: parent ─kill() at step 4→ child (was pending; handler ran)"]


def test_a_real_run_logs_the_signal_that_killed(runtime_dir):
    """A writer killed by SIGPIPE inside write(): the entry says which signal, typed."""
    from tests.conductor_helpers import run_to_end

    sc = lesson("pipe/sigpipe")
    snaps, _ = run_to_end(sc)
    died = next(s for s in snaps if s.outcome == "killed")
    entry = next(e for e in died.log if e.outcome == "killed")
    assert (entry.process, entry.killed_by, entry.signal) == ("writer", "SIGPIPE", None)
    assert [d.line() for d in deliveries(without_text(died), sc)] == [
        "SIGPIPE: kernel ─write() with no reader→ writer (killed)"]
