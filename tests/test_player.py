"""The Player: every rule of stepping, queueing, playing and history, without a screen."""

from __future__ import annotations

import subprocess
import sys

from ipcviz.model.player import DEFAULT_SPEED, SPEEDS, Player
from ipcviz.model.snapshot import LogEntry, Snapshot

TOTAL = 5


def snap(step: int, **kw) -> Snapshot:
    return Snapshot(index=step, step=step, total_steps=TOTAL, time=float(step), **kw)


def started(total: int = TOTAL) -> Player:
    """A player whose run has started: snapshot 0 at the head, nothing in flight."""
    return Player().restart(total).started(snap(0), finished=False)


def run_steps(p: Player, n: int) -> Player:
    for _ in range(n):
        p, then = p.ask_step()
        assert then == "step"
        p = p.stepping().stepped(snap(p.head_step + 1), finished=p.head_step + 1 == p.total)
        p, _ = p.after_idle()
    return p


def test_restart_is_a_new_generation_that_keeps_speed_and_modes():
    # GIVEN a player that ran two steps, faster, in quiz mode
    p = run_steps(started(), 2).faster().modes(quiz=True, sources=True)
    # WHEN the run restarts
    q = p.restart(TOTAL)
    # THEN history is gone, the start is in flight, a newer generation, same speed and modes
    assert q.generation == p.generation + 1
    assert q.history == () and q.busy and q.viewing == 0 and q.queued == 0
    assert q.speed == DEFAULT_SPEED + 1 and q.quiz and q.sources
    assert q.shown is None and q.step == 0


def test_a_step_at_the_head_runs_and_is_appended():
    p, then = started().ask_step()
    assert then == "step"
    p = p.stepping()
    assert p.busy
    p = p.stepped(snap(1), finished=False)
    assert not p.busy and [s.step for s in p.history] == [0, 1] and p.viewing == 1
    assert p.shown is p.history[-1]


def test_presses_while_busy_are_queued_counted_and_run_one_by_one():
    # GIVEN a step in flight
    p, _ = started().ask_step()
    p = p.stepping()
    # WHEN three more are asked for
    for want in (1, 2, 3):
        p, then = p.ask_step()
        assert then == "queued" and p.queued == want
    # THEN each finished step runs the next queued one, until none is left
    ran = 0
    while True:
        p = p.stepped(snap(p.head_step + 1), finished=False)
        p, then = p.after_idle()
        if then != "step":
            break
        ran += 1
        p, go = p.ask_step()
        assert go == "step"
        p = p.stepping()
    assert ran == 3 and then == "idle" and p.queued == 0 and p.head_step == 4


def test_presses_before_the_start_are_queued():
    p = Player().restart(TOTAL)
    p, then = p.ask_step()
    assert then == "queued" and p.queued == 1
    p = p.started(snap(0), finished=False)
    p, then = p.after_idle()
    assert then == "step" and p.queued == 0


def test_the_queue_holds_no_more_than_the_steps_left_and_refuses_visibly():
    # GIVEN a lesson of 5 steps, step 1 in flight
    p, _ = started().ask_step()
    p = p.stepping()
    # WHEN 10 presses arrive
    answers = []
    for _ in range(10):
        p, then = p.ask_step()
        answers.append(then)
    # THEN 4 are queued (steps 2..5), the rest refused: the caller says so
    assert answers == ["queued"] * 4 + ["refused"] * 6
    assert p.queued == 4 and p.steps_left == 0


def test_a_look_in_flight_queues_a_step_too():
    p = started().sampling_begun()
    p, then = p.ask_step()
    assert then == "queued"
    p, changed = p.sampled(None)
    assert not changed and not p.sampling
    p, then = p.after_idle()
    assert then == "step"


def test_finished_says_so_and_stops_playing():
    p = run_steps(started(), TOTAL)
    assert p.finished
    p, then = p.ask_step()
    assert then == "finished" and not p.playing
    p, then = p.toggle_play()
    assert then == "nothing" and not p.playing


def test_queued_steps_that_meet_the_end_are_not_dropped_silently():
    # GIVEN a recording shorter than its lesson: it finishes at step 1 of 5
    p, _ = started().ask_step()
    p = p.stepping()
    p, _ = p.ask_step()
    assert p.queued == 1
    # WHEN the step comes back finished
    p = p.stepped(snap(1), finished=True)
    p, then = p.after_idle()
    # THEN the caller is told the queued steps found the end
    assert then == "finished" and p.queued == 0


def test_no_run_or_a_failed_run_runs_nothing():
    assert started().ask_step(has_run=False)[1] == "none"
    p = started().failed_with("step 2 neither returned nor blocked")
    assert p.ask_step()[1] == "none"
    assert not p.busy and not p.playing and p.failed


def test_history_back_forward_first_last():
    p = run_steps(started(), 3)
    p = p.back().back()
    assert p.viewing == 1 and p.in_history and p.shown.step == 1
    p, then = p.forward()
    assert then == "moved" and p.viewing == 2  # forward through history: no step
    p = p.first()
    assert p.viewing == 0
    p = p.back()
    assert p.viewing == 0  # not below the first
    p = p.last()
    assert p.viewing == 3 and not p.in_history
    p, then = p.forward()
    assert then == "step"  # at the head, forward is a live step


def test_back_and_first_stop_playing_last_does_not():
    p, _ = run_steps(started(), 2).toggle_play()
    assert p.playing
    assert not p.back().playing and not p.first().playing
    assert p.last().playing


def test_play_replays_history_first_then_steps_then_stops_at_the_end():
    p = run_steps(started(), 2).first()
    p, then = p.toggle_play()
    assert then == "playing"
    p, then = p.tick()
    assert then == "replay" and p.viewing == 1
    p, then = p.tick()
    assert then == "replay" and p.viewing == 2
    p, then = p.tick()
    assert then == "step"
    p = p.stepping()
    p, then = p.tick()
    assert then == "none"  # a step is still running
    p = p.stepped(snap(3), finished=False)
    p, then = p.after_idle()
    assert then == "play"
    p = run_steps(p, 2)
    assert p.finished and not p.playing  # the last step stopped playing
    p, then = p.tick()
    assert then == "none"


def test_pause_stops_ticks():
    p, _ = started().toggle_play()
    p, then = p.toggle_play()
    assert then == "paused" and not p.playing
    assert p.tick()[1] == "none"


def test_speed_stays_in_range():
    p = Player()
    for _ in range(10):
        p = p.faster()
    assert p.speed == len(SPEEDS) - 1 and p.pause == 0.0
    for _ in range(10):
        p = p.slower()
    assert p.speed == 0 and p.pause == SPEEDS[0][0]


def test_a_quiz_question_pauses_and_drops_earlier_presses():
    p, _ = run_steps(started(), 1).toggle_play()
    p, _ = p.stepping().ask_step()
    p = p.stepped(snap(2), finished=False)
    assert p.queued == 1
    p = p.ask()
    assert p.asking and not p.playing and p.queued == 0
    assert not p.answered().asking


def test_a_new_look_at_the_head_is_shown_only_when_something_changed():
    p = started()
    same = snap(0)
    p2, changed = p.sampling_begun().sampled(same)
    assert not changed and p2.live is None
    entry = LogEntry(0, "parent", 101, "write(4, ...)", "blocked")
    newer = snap(0, log=(entry,))
    p3, changed = p.sampling_begun().sampled(newer)
    assert changed and p3.shown is newer and p3.history == p.history
    # in history, a look changes nothing on screen
    q = run_steps(started(), 1).back()
    _, changed = q.sampling_begun().sampled(newer)
    assert not changed


def test_can_sample_only_idle_at_the_head():
    p = started()
    assert p.can_sample
    assert not p.sampling_begun().can_sample
    assert not p.stepping().can_sample
    assert not p.toggle_play()[0].can_sample
    assert not run_steps(p, 1).back().can_sample
    assert not Player().can_sample  # nothing received yet


def test_players_are_immutable_and_compare_by_value():
    p = started()
    assert p.stepping() is not p and not p.busy
    assert p == started()  # equal snapshots, equal players: the reactive redraws nothing
    assert p != p.faster()


def test_the_player_imports_no_textual_or_rich():
    code = ("import sys, ipcviz.model.player; "
            "print([m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"
