"""A hostile lesson file is one line and skipped, never a crash of list or the app (issue 14)."""

from __future__ import annotations

import os

from ipcviz.scenario.limits import MAX_DEPTH, MAX_FILE_BYTES

from .conftest import SCENARIOS, run_cli_in_process

DEEP = "title = 'deep'\nx = " + "[" * 1000 + "]" * 1000 + "\n"


_run = run_cli_in_process


def _folder(tmp_path):
    own = tmp_path / "lectures" / "week1"
    own.mkdir(parents=True)
    (own / "good.toml").write_text((SCENARIOS / "pipe" / "eof.toml").read_text())
    (own / "deep.toml").write_text(DEEP)
    return tmp_path / "lectures", own / "deep.toml"


def test_deeply_nested_lesson_is_one_line_for_check_and_run(tmp_path):
    # GIVEN a lesson with arrays nested 1,000 deep (tomllib recursed into RecursionError)
    _, deep = _folder(tmp_path)
    for argv in (["check", str(deep)], ["run", str(deep), "--headless"]):
        # WHEN checked or run  THEN exit 2, one line naming the file and the reason
        code, _, err = _run(argv)
        assert code == 2, err
        assert str(deep) in err.splitlines()[0]
        assert f"nested more than {MAX_DEPTH} deep" in err and "Traceback" not in err


def test_a_deep_lesson_in_scenarios_is_skipped_by_list_and_the_rest_listed(tmp_path):
    # GIVEN --scenarios DIR holding a good lesson and a 1,000-deep one
    folder, deep = _folder(tmp_path)
    # WHEN listed  THEN the good one is listed, the bad one named in one stderr line
    code, out, err = _run(["--scenarios", str(folder), "list"])
    assert code == 0, err
    assert "week1/good" in out and "week1/deep" not in out
    assert err.count("\n") == 1 and str(deep) in err and "nested" in err


def test_a_deep_lesson_is_skipped_by_the_apps_catalog(tmp_path, monkeypatch):
    # GIVEN the same folder  WHEN the app's start scans the lessons  THEN deep is a problem
    from ipcviz.scenario.catalog import scan_cached

    folder, deep = _folder(tmp_path)
    monkeypatch.setenv("IPCVIZ_SCENARIOS", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from ipcviz.runtime.availability import needs

    found, broken, _ = scan_cached(needs)
    assert "week1/good" in {e.name for e in found}
    assert [str(deep)] == [e.path for e in broken]


def test_an_oversized_or_special_lesson_file_is_refused(tmp_path):
    # GIVEN a lesson past the size cap, and a FIFO named like a lesson (open would block)
    big = tmp_path / "big.toml"
    big.write_text("title = 'x'\n" + "# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    # WHEN checked  THEN exit 2 with one line each, and no hang
    code, _, err = _run(["check", str(big), str(fifo)])
    assert code == 2
    assert "larger than" in err and "not a regular file" in err
    assert len([x for x in err.splitlines() if not x.startswith("  fix:")]) == 2


def test_a_folder_named_like_a_lesson_is_one_line(tmp_path):
    # GIVEN a directory whose name ends in .toml (a lesson path that is not a file)
    folder = tmp_path / "lesson.toml"
    folder.mkdir()
    # WHEN checked  THEN one line naming it, exit 2, no traceback
    code, out, err = _run(["check", str(folder)])
    assert code == 2 and "not a regular file" in out + err and "Traceback" not in out + err
