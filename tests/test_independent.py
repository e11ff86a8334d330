"""Lessons written by an independent check from docs/lessons.md and the kernel's documented
behaviour (tests/independent/*.toml), run through the command line as a user would: every
expect must hold on the real kernel.

Their expects were written from the man pages before the lessons first ran; where ipcviz
and the kernel disagree the lesson is listed in KNOWN_WRONG with the evidence, and is
expected to fail until ipcviz is fixed (strict: a fix makes the test fail, so the mark goes).
`python tests/independent/compare.py LESSON.toml` compares every JSON field with the kernel.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "independent"
LESSONS = sorted(HERE.glob("*.toml"))
IPCVIZ = str(Path(sys.executable).with_name("ipcviz"))

KNOWN_WRONG: dict[str, str] = {}  # none now: the five found were fixed (sem_unlink, EINTR)


def params():
    for path in LESSONS:
        marks = []
        if path.stem in KNOWN_WRONG:
            marks.append(pytest.mark.xfail(reason=KNOWN_WRONG[path.stem], strict=True))
        yield pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.kernel
@pytest.mark.parametrize("path", params())
def test_independent_lesson_expects_hold(path: Path) -> None:
    # GIVEN a lesson written from the documentation alone
    expects = sum(len(step.get("expect", [])) for step in tomllib.loads(path.read_text())["step"])
    steps = len(tomllib.loads(path.read_text())["step"])
    # WHEN it runs headless on the real kernel
    r = subprocess.run(
        [IPCVIZ, "run", str(path), "--headless", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    snaps = [json.loads(line) for line in r.stdout.splitlines()]
    # THEN it ran to its end and every one of its expects was checked and held
    assert r.returncode == 0, r.stderr
    assert [s["step"] for s in snaps] == list(range(steps + 1))
    checks = [c for s in snaps for c in s["checks"]]
    assert len(checks) == expects
    assert [c for c in checks if not c["ok"]] == []
