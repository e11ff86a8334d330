"""Files ipcviz writes never go through a symlink, nor into a FIFO or a device (issue 14)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ipcviz.files import NewFile, WriteError, write_file

from .conftest import run_cli_in_process

TRACE = Path(__file__).parent / "app" / "traces" / "signal-blocked-pending.jsonl"
SECRET = "the victim's own text\n"


_run = run_cli_in_process


def _victim(path: Path) -> Path:
    path.write_text(SECRET)
    path.chmod(0o600)
    return path


def _unchanged(victim: Path) -> None:
    assert victim.read_text() == SECRET
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600


def test_export_replaces_planted_symlinks_and_leaves_their_targets_alone(tmp_path):
    # GIVEN a slides folder where someone planted index.html and step-001.svg as symlinks
    victim, victim2 = _victim(tmp_path / "victim"), _victim(tmp_path / "victim2")
    out = tmp_path / "slides"
    out.mkdir()
    (out / "index.html").symlink_to(victim)
    (out / "trace.jsonl").symlink_to(victim2)
    (out / "step-001.svg").symlink_to(victim2)
    # WHEN the slides are written there
    code, _, err = _run(["export", "--trace", str(TRACE), "--svg", str(out),
                         "--size", "100x30"])
    # THEN the links were replaced by regular files; their targets kept their text
    assert code == 0, err
    _unchanged(victim)
    _unchanged(victim2)
    for name in ("index.html", "step-001.svg", "trace.jsonl"):
        assert stat.S_ISREG(os.lstat(out / name).st_mode), name
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left


def test_record_replaces_a_symlink_and_leaves_its_target_alone(tmp_path, runtime_dir):
    # GIVEN --record naming a symlink to a 0600 file
    victim = _victim(tmp_path / "victim")
    link = tmp_path / "trace.jsonl"
    link.symlink_to(victim)
    # WHEN a lesson runs headless with that record
    code, _, err = _run(["run", "pipe/eof", "--headless", "--record", str(link)])
    # THEN the trace is a new regular file in the link's place, the victim is untouched
    assert code == 0, err
    _unchanged(victim)
    assert stat.S_ISREG(os.lstat(link).st_mode)
    assert link.read_text().startswith('{"trace": "ipcviz"')


@pytest.mark.parametrize("target", ["/dev/full", "fifo"])
def test_record_to_a_device_or_fifo_is_refused_in_one_line(tmp_path, runtime_dir, target):
    # GIVEN --record naming a device or a FIFO (which would block a plain open)
    if target == "fifo":
        (tmp_path / "out").mkdir()
        target = str(tmp_path / "out" / "fifo")
        os.mkfifo(target)
    before = set(os.listdir(os.path.dirname(target)))
    # WHEN run  THEN one line, exit 2, nothing left beside the target
    code, out, err = _run(["run", "pipe/eof", "--headless", "--record", target])
    assert code == 2
    assert err.count("\n") == 1 and "not a regular file" in err and "Traceback" not in err
    assert set(os.listdir(os.path.dirname(target))) == before


def test_new_refuses_a_dangling_symlink_without_a_traceback(tmp_path, monkeypatch):
    # GIVEN lesson.toml is a dangling symlink to where its target would be created
    monkeypatch.chdir(tmp_path)
    Path("lesson.toml").symlink_to(tmp_path / "created-through-link")
    # WHEN `ipcviz new lesson` runs  THEN refused, and nothing was created through it
    code, _, err = _run(["new", "lesson"])
    assert code == 2 and err.count("\n") == 1
    assert not (tmp_path / "created-through-link").exists()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    # GIVEN a file  WHEN a NewFile for it is left by an exception  THEN the file is unchanged
    path = tmp_path / "f"
    write_file(path, "old")
    with pytest.raises(RuntimeError), NewFile(path) as f:
        f.write("new")
        raise RuntimeError("stop")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["f"]
    with pytest.raises(WriteError):
        write_file(tmp_path, "a folder is not a file")
