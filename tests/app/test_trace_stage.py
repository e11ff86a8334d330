"""The stage on a live `ipcviz trace`: you choose who runs, by key, against the real kernel.

The examples' C programs are compiled in a tmp dir (as tests/test_trace.py does).  What the
screen says is checked against /proc (state, the call a process sleeps in) and the System V
tables, not against the session's own words.  The objects a program leaves are removed by
the test that made them, after checking that ipcviz left them alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ipcviz.app import make_trace_app
from ipcviz.app.screens.trace import StuckPanel, TraceCard
from ipcviz.model.snapshot import BLOCKED, STOPPED
from ipcviz.probe import syscalls

from ..conftest import ROOT
from .helpers import sync, text_of, wait_for

pytestmark = pytest.mark.kernel

EXAMPLES = ROOT / "examples"
BOUND = 20  # seconds any one wait for the trace may take (each step takes milliseconds)


@pytest.fixture(scope="module")
def bins(tmp_path_factory) -> Path:
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    assert cc, "a C compiler is needed to build examples/ (see .ci/run)"
    out = tmp_path_factory.mktemp("examples")
    for name in ("msgq_pc", "sem_deadlock"):
        subprocess.run([cc, "-g", "-O0", "-Wall", "-o", str(out / name),
                        str(EXAMPLES / f"{name}.c")], check=True, timeout=60)
    return out


def _kernel_call(pid: int) -> tuple[str, str | None]:
    """(state letter, name of the call it sleeps in) as the kernel shows them."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    state = stat[stat.rindex(")") + 2]
    first = Path(f"/proc/{pid}/syscall").read_text().split()[0]
    return state, (syscalls.name(int(first)) if first.lstrip("-").isdigit() else None)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def _remove_leftovers(made) -> list:
    """The objects the traced program left (ipcviz listed them, removed none): removed
    here, by the test that made them, even when it failed."""
    left = [o for run in made for o in run.left]
    for o in left:
        if o.remove.startswith(("ipcrm -q ", "ipcrm -s ")):
            subprocess.run(o.remove.split(), check=True, timeout=10)
    return left


class Driver:
    def __init__(self, pilot, app) -> None:
        self.pilot, self.app = pilot, app

    @property
    def stage(self):
        return self.app.screen

    def head(self):
        return self.stage.history[-1]

    def proc(self, name: str):
        return next((p for p in self.head().processes if p.name == name), None)

    def card_key(self, name: str) -> str:
        p = self.proc(name)
        card = self.stage.query_one(f"#pid-{p.pid}", TraceCard)
        assert str(card.border_title).startswith(f"{card.key} · ")  # the key is on the card
        return str(card.key)

    async def settle(self, before: int) -> None:
        await wait_for(self.pilot, lambda: len(self.stage.history) > before
                       and not self.stage.busy and not self.stage._recasting, BOUND,
                       "the step to settle")

    async def press(self, key: str) -> None:
        before = len(self.stage.history)
        await self.pilot.press(key)
        await self.settle(before)

    async def until(self, cond, what: str, key: str = "space", most: int = 30) -> None:
        for _ in range(most):
            if cond():
                return
            await self.press(key)
        raise AssertionError(f"not reached in {most} steps: {what}")


def test_choosing_the_consumer_first_then_the_producer_wakes_it(bins):
    app, made = make_trace_app([str(bins / "msgq_pc"), "keep"])
    seen: set[int] = set()
    try:
        _drive_msgq(app, seen)
    finally:
        app.close_all_runs()
        left = _remove_leftovers(made)
    assert len(left) == 1  # the queue the program kept: left alone, listed, removed here
    assert left[0].remove.startswith("ipcrm -q ")
    assert not [pid for pid in seen if _alive(pid)]


@sync
async def _drive_msgq(app, seen: set[int]) -> None:
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        d = Driver(pilot, app)
        await wait_for(pilot, lambda: bool(d.stage.history) and not d.stage._recasting,
                       BOUND, "the program held at its first call")
        # GIVEN both processes held at their first queue call (space: the first ready goes)
        await d.until(lambda: d.proc("consumer") is not None
                      and d.proc("consumer").state == STOPPED, "the consumer's first call")
        consumer = d.proc("consumer")
        seen.update(p.pid for p in d.head().processes)
        card = d.stage.query_one(f"#pid-{consumer.pid}", TraceCard)
        assert "about to: msgrcv(" in text_of(card)  # the call about to run, decoded
        # WHEN the consumer is chosen first (its key, shown on its card)
        await d.press(d.card_key("consumer"))
        # THEN it is asleep inside msgrcv(): the kernel says so, and its card too
        assert _kernel_call(consumer.pid) == ("S", "msgrcv")
        assert d.proc("consumer").state == BLOCKED
        assert "asleep inside msgrcv()" in text_of(card)
        # WHEN it is chosen again: refused, in words, and nothing runs
        steps = len(d.stage.history)
        await pilot.press(d.card_key("consumer"))
        await pilot.pause()
        assert d.stage.refused and "asleep inside msgrcv()" in d.stage.refused
        assert len(d.stage.history) == steps and _kernel_call(consumer.pid)[1] == "msgrcv"
        # WHEN the producer's card is clicked: the producer makes its held call
        producer = d.proc("producer")
        before = len(d.stage.history)
        await pilot.click(f"#pid-{producer.pid}")
        await d.settle(before)
        assert d.head().process == "producer"
        # WHEN the producer makes its held calls until one is msgsnd
        await d.until(lambda: "msgsnd" in (d.head().call or ""), "the producer's msgsnd",
                      key=d.card_key("producer"))
        # THEN the consumer was woken: out of msgrcv, held by the tracer at its next call
        # (ptrace stop, 't'), and its card says what the woken call returned
        assert _kernel_call(consumer.pid)[0] == "t"
        assert d.proc("consumer").state == STOPPED
        assert "woken: msgrcv(" in text_of(card)
        # AND ← goes back in history to the consumer asleep, exactly as it was
        await pilot.press("left")
        await pilot.pause()
        shown = d.stage.shown
        assert shown is not None and shown.process == "consumer" and shown.outcome == BLOCKED
        # WHEN play is pressed (in history: from the head): the status bar says why it stopped
        await d.press("p")
        assert d.stage.player.note.startswith("stopped: ")
        await pilot.press("q")


def test_the_deadlock_reached_by_choosing_shows_the_cycle(bins):
    app, made = make_trace_app([str(bins / "sem_deadlock")])
    try:
        pids = _drive_deadlock(app)
    finally:
        app.close_all_runs()
        left = _remove_leftovers(made)
    assert len(left) == 2 and all(o.remove.startswith("ipcrm -s ") for o in left)
    assert not [pid for pid in pids if _alive(pid)]  # quit mid-run: nothing left behind


@sync
async def _drive_deadlock(app) -> list[int]:
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        d = Driver(pilot, app)
        await wait_for(pilot, lambda: bool(d.stage.history) and not d.stage._recasting,
                       BOUND, "the program held at its first call")
        await d.until(lambda: d.proc("second") is not None, "the fork")
        # WHEN the child is chosen until it sleeps, then the parent until it does
        await d.until(lambda: d.proc("second").state == BLOCKED, "the child asleep",
                      key=d.card_key("second"))
        await d.until(lambda: d.proc("first").state == BLOCKED, "the parent asleep",
                      key=d.card_key("first"))
        first, second = d.proc("first").pid, d.proc("second").pid
        # THEN the kernel shows both asleep in a semaphore call
        for pid in (first, second):
            state, call = _kernel_call(pid)
            assert state == "S" and call in ("semop", "semtimedop")
        # and the stage draws the cycle with the sentence saying why nothing can move
        panel = d.stage.query_one(StuckPanel)
        assert panel.display and panel.has_class("-shown")
        hops = panel.query_one("WaitForGraph").hops
        assert {h.src for h in hops} >= {"first", "second"}
        why = text_of(panel)
        assert "Nothing can move" in why and "first" in why and "second" in why
        # WHEN space is pressed: refused in words
        await pilot.press("space")
        await pilot.pause()
        assert d.stage.refused and d.stage.refused.startswith("Nothing can move")
        await pilot.press("q")
        await pilot.pause()
    return [first, second]


def test_cards_follow_pids_and_sources_are_read_around_the_call():
    from ipcviz.app.tracing import cast, with_sources
    from ipcviz.model.snapshot import Process, Site, Snapshot

    src = EXAMPLES / "msgq_pc.c"
    line = next(i for i, t in enumerate(src.read_text().splitlines(), 1) if "msgrcv(q" in t)
    before = Process("msgq_pc", 10, 1, None, STOPPED)
    after = Process("consumer", 10, 1, None, STOPPED,
                    site=Site("/x/msgq_pc", 0x40, "main", str(src), line))
    snaps = (Snapshot(0, 0, 0, 0.0, processes=(before,)),
             Snapshot(1, 1, 1, 0.0, processes=(after,)))
    # one card per pid, named as last seen (prctl renamed it)
    assert [p.name for p in cast("t", ["prog"], snaps).processes] == ["consumer"]
    shown = with_sources(snaps[1], {}).processes[0].site
    assert shown is not None and shown.context_start is not None
    assert "msgrcv(q" in shown.context[line - shown.context_start]


def test_a_process_waiting_for_itself_is_drawn_with_both_edges_labelled():
    from ipcviz.app.screens.trace import hops_of
    from ipcviz.app.widgets.sem import graph_lines
    from ipcviz.model.waitfor import Stuck, Wait

    caught = Stuck((Wait("reader", "read", "pipe-empty", ("reader",), "pipe:[7]",
                         ("reader:4",)),))
    from ipcviz.model.snapshot import Snapshot

    lines = graph_lines(hops_of(Snapshot(0, 0, 0, 0.0), caught), width=60)
    text = "\n".join(lines)
    assert "waits for" in text and "held by" in text  # neither label hides the other
    assert "reader" in text and "pipe:[7]" in text
