"""Small things a class notices (issue 15 item 8): words on the cards, panels and status line
that said something wrong or garbled.  Pilot tests on recorded traces; no process is started."""

from __future__ import annotations

from pathlib import Path

from ipcviz.app.widgets.process_card import ProcessCard
from ipcviz.scenario import loads

from .helpers import recorded_app, step_to, sync, wait_for

TRACES = Path(__file__).resolve().parent / "traces"


trace_app = recorded_app


async def at_step(pilot, n: int) -> None:
    await step_to(pilot, n)
    stage = pilot.app.screen
    await wait_for(pilot, lambda: not stage.sampling, 5, "quiet")


@sync
async def test_dead_process_card_names_its_parent_once():
    """A dead process's card said 'parent shell' (and 'parent parent' for a child of a
    process named parent): it reads 'child of shell'."""
    app = trace_app("signal-terminal-keys")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step(pilot, 11)
        card = app.screen.query_one("#proc-job", ProcessCard)
        assert card.process is not None and card.process.state == "exited"
        assert str(card.border_subtitle) == "child of shell"


def test_history_label_says_step_of_total_and_where_live_waits():
    """Back in history the status line said 'HISTORY 5/6' in an 8-step lesson (indices into
    history): it says the step shown of the lesson's total, and the step live waits at."""
    from ipcviz.app.widgets.status import status_line
    from ipcviz.model.player import Player
    from ipcviz.model.snapshot import Snapshot

    # GIVEN a run of an 8-step lesson at step 6, viewed two snapshots back
    history = tuple(Snapshot(i, i, 8, float(i)) for i in range(7))
    player = Player(total=8, history=history, viewing=4)
    # WHEN the status line is drawn, THEN it names step 4 of 8 and the live step 6
    text = status_line("pipe/full", player, "en").plain
    assert "HISTORY step 4/8" in text and "live waits at step 6" in text
    zh = status_line("pipe/full", player, "zh").plain
    assert "历史 第 4/8 步" in zh and "第 6 步" in zh


@sync
async def test_semaphore_held_by_nobody_reads_as_words():
    """The semaphore panel said 'held by ≈ nobody(inferred': the words are apart."""
    from ipcviz.app.widgets.sem import SemView

    from .helpers import text_of

    app = trace_app("sem-counting")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step(pilot, 2)
        line = next(ln for ln in text_of(app.screen.query_one("#obj-pool", SemView)).split("\n")
                    if "held by" in ln)
        assert "held by ≈ nobody (inferred from the steps)" in line
        await at_step(pilot, 7)
        line = next(ln for ln in text_of(app.screen.query_one("#obj-pool", SemView)).split("\n")
                    if "held by" in ln)
        assert "held by ≈ p1 p2 (inferred from the steps)" in " ".join(line.split())


def test_fd_of_a_region_has_no_end():
    """A shared memory fd is not an 'end': 'region (shm, O_RDWR)'; a pipe's fd still is."""
    from ipcviz.app import words
    from ipcviz.model.snapshot import Fd

    shm = Fd(3, "/dev/shm/ipcviz.1.region", "region", "read-write")
    assert words.fd_words(shm, "en", "shm") == "region (shm, O_RDWR)"
    assert words.fd_words(shm, "zh", "shm") == "region（共享内存，O_RDWR）"
    mq = Fd(4, "/ipcviz.1.q", "q", "read")
    assert words.fd_words(mq, "en", "posix_mq") == "q (posix_mq, O_RDONLY)"
    pipe = Fd(5, "pipe:[9]", "p", "write")
    assert words.fd_words(pipe, "en", "pipe") == "p (write end)"
    assert words.fd_words(pipe, "zh", "pipe") == "p（写端）"


@sync
async def test_card_shows_a_regions_fd_with_its_access_mode():
    """The card said 'fd 3 → ring (read-write end)' for a shm_open()ed region."""
    app = trace_app("sem-bounded-buffer")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step(pilot, 3)
        text = str(app.screen.query_one("#proc-main", ProcessCard).content)
        assert "fd 3 → ring (shm, O_RDWR)" in text
        assert "end" not in text.split("fd 3 → ", 1)[1].split("\n", 1)[0]


@sync
async def test_blocked_card_names_the_c_call_and_strace_the_syscall():
    """semop() in the code, 'blocked in semtimedop()' on the card: the card names the C call
    of the step's action; its 'syscall' line and the strace log keep the kernel's name."""
    app = trace_app("sem-counting")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step(pilot, 8)
        card = app.screen.query_one("#proc-p3", ProcessCard)
        assert card.process is not None and card.process.syscall == "semtimedop"
        text = str(card.content)
        assert text.splitlines()[0] == "■ blocked in semop() on sysv_sem pool"
        assert "syscall semtimedop(" in text  # the kernel's fact, as /proc says it


def test_c_call_of_each_mechanism_from_the_steps_action():
    """futex -> sem_wait, mq_timedreceive -> mq_receive, wait4 -> waitpid, rt_sigtimedwait
    -> sigwait: named by the action of the step the process is in."""
    from ipcviz.app import words
    from ipcviz.model.snapshot import Process

    src = """
name = "t"
title = "t"
mechanism = "semaphore"
[[process]]
name = "a"
[[object]]
name = "s"
kind = "sem"
[[step]]
process = "a"
action = "sem_open"
object = "s"
narration = "."
[[step]]
process = "a"
action = "sem_wait"
object = "s"
narration = "."
"""
    sc = loads(src, "t.toml", "t")

    def blocked(call: str, step: int) -> Process:
        return Process("a", 5, 4, None, "blocked", syscall=call, step=step)

    assert words.c_call_of(blocked("futex", 2), sc) == "sem_wait"
    assert words.state_words(blocked("futex", 2), None, "en", sc) == "blocked in sem_wait()"
    assert words.c_call_of(blocked("futex", 2), None) == "futex"  # no lesson: the kernel's
    from ipcviz.scenario.actions import ACTIONS
    assert ACTIONS["mq_receive"].c_call("mq_timedreceive") == "mq_receive"
    assert ACTIONS["mq_send"].c_call("mq_timedsend") == "mq_send"
    assert ACTIONS["wait"].c_call("wait4") == "waitpid"
    assert ACTIONS["sigwait"].c_call("rt_sigtimedwait") == "sigwait"
    assert ACTIONS["read"].c_call("read") == "read"


@sync
async def test_semid_in_the_syscall_line_is_the_boxs_decimal():
    """The card's syscall line said semtimedop(0xc002f, ...) beside 'semid 786479' in the
    semaphore's box: an IPC id is printed in decimal, as ipcs prints it; addresses stay hex."""
    from ipcviz.model import provenance

    app = trace_app("sem-counting")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step(pilot, 8)
        card = app.screen.query_one("#proc-p3", ProcessCard)
        assert card.process is not None
        semid = card.process.syscall_args[0]  # what /proc/PID/syscall said: the pool's id
        line = next(ln for ln in str(card.content).splitlines() if ln.startswith("syscall"))
        assert line.startswith(f"syscall semtimedop({semid}, 0x7f")
        assert f"semid {semid}" in str(app.screen.query_one("#obj-pool").border_subtitle)
    assert provenance.arg_text("msgrcv", 0, 950313) == "950313"
    assert provenance.arg_text("read", 1, 0x7F0000001000) == "0x7f0000001000"


@sync
async def test_queue_panel_names_mq_receive_not_mq_timedreceive():
    """The POSIX queue's panel said 'sleeps in mq_timedreceive()' under code that calls
    mq_receive(): it names the C call; the card's syscall line keeps the kernel's name."""
    from .helpers import text_of

    app = trace_app("msgq-posix-priority")
    async with app.run_test(size=(100, 30)) as pilot:
        await at_step(pilot, 12)
        text = text_of(app.screen.query_one("#obj-q"))
        assert "sleeps in mq_receive()" in text and "mq_timedreceive" not in text
        card = str(app.screen.query_one("#proc-receiver", ProcessCard).content)
        assert "blocked in mq_receive()" in card and "syscall mq_timedreceive(" in card
