"""The state of watching a run: which snapshot is on screen, what is in flight, what is asked.

A Player is immutable; every key and every result of a worker is a transition that returns a
new Player (and, where the caller has something to do, a word saying what).  The stage holds
one Player in a reactive and does what the words say (start a worker, draw a snapshot, set a
timer); the status bar draws from the Player alone.  Nothing here knows about Textual, a
process or the kernel, so every rule of stepping, queueing and playing is tested without a
screen (tests/test_player.py).

Steps asked for while a step (or the start, or a look at the kernel) is in flight are queued,
counted (the status says "3 queued") and run one after the other when the current one has
finished: a burst of 17 presses runs 17 steps.  The queue never holds more steps than the
lesson has left; a press beyond that is refused, and the caller says so on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from .snapshot import Snapshot

# Pause between steps while playing, slowest first: (seconds, English label).
SPEEDS: tuple[tuple[float, str], ...] = (
    (3.0, "1 step / 3 s"),
    (1.5, "1 step / 1.5 s"),
    (0.8, "1 step / 0.8 s"),
    (0.3, "3 steps / s"),
    (0.0, "fastest"),
)
DEFAULT_SPEED = 1

#: What a step request led to: run it now, it was queued, refused (nothing left to queue),
#: there is no step left, or nothing to do (no run, the run failed).
StepAsk = Literal["step", "queued", "refused", "finished", "none"]
#: What to do once a worker has finished: run a queued step, go on playing, say that
#: queued steps found the lesson's end, or nothing.
AfterIdle = Literal["step", "play", "finished", "idle"]
#: What a tick of play does: show the next snapshot of history, ask for a live step,
#: stop (the end), or nothing (paused, or a step is still running).
Tick = Literal["replay", "step", "stopped", "none"]


@dataclass(frozen=True)
class Player:
    total: int = 0  # steps of the lesson
    replay: bool = False  # the run plays back a recording: nothing on screen is live
    history: tuple[Snapshot, ...] = ()  # every snapshot received in this generation
    viewing: int = 0  # index into history of the snapshot on screen
    live: Snapshot | None = None  # a newer look at the head than history[-1], if any
    generation: int = 0  # bumped at each (re)start: older workers' results are dropped
    busy: bool = False  # a start or a step is in flight
    sampling: bool = False  # a look at the head is in flight
    queued: int = 0  # steps asked for while busy, run when free
    playing: bool = False
    speed: int = DEFAULT_SPEED  # index into SPEEDS
    finished: bool = False  # the run has no step left
    failed: str | None = None  # why the run could not go on
    asking: bool = False  # a quiz question is up; its answer runs the step
    quiz: bool = False  # quiz mode (the app's)
    sources: bool = False  # provenance shown (the app's)
    note: str = ""  # one line the status bar adds (why a traced run's play stopped)

    # -- reading ---------------------------------------------------------------------------

    @property
    def head(self) -> int:
        """Index of the newest snapshot (0 before the first)."""
        return max(len(self.history) - 1, 0)

    @property
    def at_head(self) -> bool:
        return not self.history or self.viewing == len(self.history) - 1

    @property
    def in_history(self) -> bool:
        return self.viewing < self.head

    @property
    def shown(self) -> Snapshot | None:
        """The snapshot on screen: the viewed one, or the newest look at the head."""
        if not self.history:
            return None
        if self.at_head and self.live is not None:
            return self.live
        return self.history[self.viewing]

    @property
    def step(self) -> int:
        """The step of the snapshot on screen (0 before any)."""
        shown = self.shown
        return shown.step if shown is not None else 0

    @property
    def head_step(self) -> int:
        return self.history[-1].step if self.history else 0

    @property
    def steps_left(self) -> int:
        """Steps not yet run, asked for, or queued."""
        return max(self.total - self.head_step - int(self.busy and bool(self.history))
                   - self.queued, 0)

    @property
    def pause(self) -> float:
        """Seconds between two steps while playing."""
        return SPEEDS[self.speed][0]

    @property
    def can_sample(self) -> bool:
        """Idle at the head of a live run: a look at the kernel may show something new."""
        return (not (self.busy or self.sampling or self.playing or self.failed)
                and bool(self.history) and self.at_head)

    # -- the run's life cycle ----------------------------------------------------------------

    def restart(self, total: int, replay: bool = False) -> Player:
        """A new generation: no history, the start in flight.  Speed and modes stay."""
        return Player(total=total, replay=replay, generation=self.generation + 1, busy=True,
                      speed=self.speed, quiz=self.quiz, sources=self.sources)

    def start_failed(self) -> Player:
        """The run could not even be made."""
        return replace(self, busy=False, queued=0)

    def started(self, snapshot: Snapshot, finished: bool) -> Player:
        return replace(self, busy=False, history=(snapshot,), viewing=0, live=None,
                       finished=finished)

    def stepping(self) -> Player:
        """A step has been sent to the run."""
        return replace(self, busy=True, note="")

    def stepped(self, snapshot: Snapshot, finished: bool) -> Player:
        history = (*self.history, snapshot)
        return replace(self, busy=False, live=None, history=history,
                       viewing=len(history) - 1, finished=finished,
                       playing=self.playing and not finished)

    def sampling_begun(self) -> Player:
        return replace(self, sampling=True)

    def sampled(self, snapshot: Snapshot | None) -> tuple[Player, bool]:
        """A look at the head came back; True: it shows something new, draw it."""
        done = replace(self, sampling=False)
        if snapshot is None or not self.history or not self.at_head:
            return done, False
        shown = self.live or self.history[-1]
        if (snapshot.processes, snapshot.objects, snapshot.log) == \
                (shown.processes, shown.objects, shown.log):
            return done, False
        return replace(done, live=snapshot), True

    def failed_with(self, message: str) -> Player:
        """The run cannot go on: nothing is in flight, queued or playing any more."""
        return replace(self, busy=False, sampling=False, playing=False, queued=0,
                       failed=message)

    def after_idle(self) -> tuple[Player, AfterIdle]:
        """A worker has finished: what comes next."""
        if self.queued and self.finished:
            return replace(self, queued=0), "finished"  # a recording shorter than its lesson
        if self.queued:
            return replace(self, queued=self.queued - 1), "step"
        if self.playing:
            return self, "play"
        return self, "idle"

    # -- steps -------------------------------------------------------------------------------

    def ask_step(self, has_run: bool = True) -> tuple[Player, StepAsk]:
        """A live step is wanted (space at the head, play, a queued press)."""
        if not has_run or self.failed:
            return self, "none"
        if self.busy or self.sampling or not self.history:
            if self.steps_left <= 0:
                return self, "refused"
            return replace(self, queued=self.queued + 1), "queued"
        if self.finished:
            return replace(self, playing=False), "finished"
        return self, "step"

    def ask(self) -> Player:
        """A quiz question is up: playing pauses, presses queued before it are dropped
        (the question itself is what the class sees next)."""
        return replace(self, asking=True, queued=0, playing=False)

    def answered(self) -> Player:
        return replace(self, asking=False)

    # -- moving --------------------------------------------------------------------------------

    def forward(self, has_run: bool = True) -> tuple[Player, StepAsk | Literal["moved"]]:
        """→ / space: the next snapshot of history, or else a live step."""
        if self.viewing < len(self.history) - 1:
            return replace(self, viewing=self.viewing + 1), "moved"
        return self.ask_step(has_run)

    def back(self) -> Player:
        """←: stop playing, one snapshot back."""
        return replace(self, playing=False, viewing=max(self.viewing - 1, 0))

    def first(self) -> Player:
        return replace(self, playing=False, viewing=0)

    def last(self) -> Player:
        return replace(self, viewing=self.head)

    # -- playing -------------------------------------------------------------------------------

    def toggle_play(self) -> tuple[Player, Literal["paused", "nothing", "playing"]]:
        if self.playing:
            return replace(self, playing=False), "paused"
        if self.finished and self.at_head:
            return self, "nothing"
        return replace(self, playing=True), "playing"

    def stop(self) -> Player:
        return replace(self, playing=False)

    def tick(self) -> tuple[Player, Tick]:
        """The play timer fired."""
        if not self.playing:
            return self, "none"
        if self.viewing < len(self.history) - 1:
            return replace(self, viewing=self.viewing + 1), "replay"  # history first
        if self.finished:
            return replace(self, playing=False), "stopped"
        if not self.busy:
            return self, "step"
        return self, "none"

    def faster(self) -> Player:
        return replace(self, speed=min(self.speed + 1, len(SPEEDS) - 1))

    def slower(self) -> Player:
        return replace(self, speed=max(self.speed - 1, 0))

    # -- the app's modes -------------------------------------------------------------------------

    def modes(self, *, quiz: bool, sources: bool) -> Player:
        return replace(self, quiz=quiz, sources=sources)
