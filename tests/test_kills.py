"""A run killed at a random step leaves nothing: for every mechanism one seed, the
conductor alone SIGKILLed for half the mechanisms, conductor and runner for the other half.
tests/bench/stress_kills.py does a hundred random kills."""

from __future__ import annotations

import random

import pytest

from ipcviz.scenario import load

from .conftest import SCENARIOS
from .killing import kill_at

MECHANISMS = sorted({p.parent.name for p in SCENARIOS.glob("*/*.toml")})


def pick(mechanism: str, seed: int) -> tuple[str, int]:
    rng = random.Random(f"{mechanism}-{seed}")
    path = rng.choice(sorted((SCENARIOS / mechanism).glob("*.toml")))
    steps = len(load(path).steps)
    return f"{mechanism}/{path.stem}", rng.randint(1, steps)


@pytest.mark.kernel
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_sigkill_at_a_random_step_then_clean(mechanism, runtime_dir):
    both = MECHANISMS.index(mechanism) % 2 == 1
    lesson, step = pick(mechanism, 3 if both else 1)
    how = "SIGKILL-both" if both else "SIGKILL"
    out = kill_at(lesson, step, how, runtime_dir)
    assert out.run_id, "the run never started"
    assert out.leftovers == [], f"{lesson} killed ({how}) at step {step}"


@pytest.mark.kernel
@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_sigterm_and_sighup_clean_up_without_help(mechanism, how, runtime_dir):
    lesson, step = pick(mechanism, 7)
    out = kill_at(lesson, step, how, runtime_dir)
    assert out.run_id, "the run never started"
    assert out.leftovers == [], f"{lesson} stopped by {how} at step {step}"
