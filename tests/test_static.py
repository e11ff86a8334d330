"""Static checks, run by the suite so that CI (the README's pytest command) runs them:
ruff with the rule set of pyproject.toml, mypy with its targets (strict on the core), and
radon's cyclomatic complexity (no function ranked D or worse)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    """The tool installed beside this Python (the venv's), else the one on PATH."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    """ruff check, with the rules chosen in pyproject.toml, passes on the code and tests."""
    # WHEN ruff checks the package and the tests
    done = _run(_tool("ruff"), "check", "--no-fix", "ipcviz", "tests")

    # THEN it finds nothing
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing():
    """mypy, with the files and per-module strictness of pyproject.toml, finds no error."""
    # WHEN mypy checks its configured files (its cache in .mypy_cache keeps reruns fast)
    done = _run(_tool("mypy"))

    # THEN it reports success
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout, done.stdout


def test_no_function_is_more_complex_than_c():
    """radon ranks every function A to C (cyclomatic complexity at most 20)."""
    # WHEN radon lists the functions ranked D (21) or worse
    done = _run(_tool("radon"), "cc", "--min", "D", "--show-complexity", "ipcviz")

    # THEN there is none
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", "split these functions:\n" + done.stdout
