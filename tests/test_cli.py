"""The command line: list, run --headless [--json], exit codes, messages."""

from __future__ import annotations

import json
import os

import pytest

from ipcviz.model import read_trace

from .conftest import SCENARIOS, ipcviz

PIPE_LESSONS = {"pipe/fork-and-close", "pipe/shell-pipeline", "pipe/duplex", "pipe/framing",
                "pipe/full-blocks-writer", "pipe/empty-blocks-reader", "pipe/eof",
                "pipe/sigpipe", "pipe/atomic-writes"}
STATES = {"running", "blocked", "sleeping", "stopped", "zombie", "exited"}


def test_list_json_names_every_lesson():
    r = ipcviz("list", "--json")
    assert r.returncode == 0
    items = json.loads(r.stdout)
    assert {i["name"] for i in items} >= PIPE_LESSONS
    for i in items:
        assert i["mechanism"] == i["name"].split("/")[0] and i["title"] and i["steps"] > 0


def test_list_text_groups_by_section_of_the_course():
    r = ipcviz("list")
    assert r.returncode == 0
    assert "\nPipes\n" in r.stdout and "pipe/sigpipe" in r.stdout  # tests/test_course.py


@pytest.mark.kernel
def test_run_headless_json_schema(runtime_dir, tmp_path):
    trace = tmp_path / "t.jsonl"
    r = ipcviz("run", "pipe/full-blocks-writer", "--headless", "--json", "--record", str(trace))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert lines[0]["step"] == 0 and lines[0]["outcome"] is None
    assert [x["step"] for x in lines] == list(range(len(lines)))
    for snap in lines:
        for key in ("step", "process", "action", "outcome", "result", "errno", "processes",
                    "objects", "checks"):
            assert key in snap
        for p in snap["processes"]:
            assert {"name", "pid", "ppid", "state", "syscall", "wchan", "fds", "signals",
                    "exit"} <= set(p)
            assert p["state"] in STATES
            if p["signals"]:
                assert {"pending", "blocked", "caught", "ignored"} <= set(p["signals"])
            for fd in p["fds"]:
                assert {"fd", "object"} <= set(fd)
        for o in snap["objects"]:
            assert o["kind"] == "pipe"
            assert {"id", "bytes", "capacity", "readers", "writers"} <= set(o)
        for c in snap["checks"]:
            assert set(c) == {"expect", "observed", "ok"} and c["ok"] is True
    blocked = next(x for x in lines if x["outcome"] == "blocked")
    writer = next(p for p in blocked["processes"] if p["name"] == "writer")
    assert writer["state"] == "blocked" and writer["syscall"] == "write"
    # the recorded trace holds the same snapshots, and replays without any process
    replayed = read_trace(trace)
    assert [json.loads(json.dumps(s.to_dict())) for s in replayed] == lines
    r = ipcviz("replay", str(trace), "--json", env={**os.environ, "IPCVIZ_DISABLE":
                                                    "pidfd_getfd,posix_mq,sysv_msg,proc"})
    assert r.returncode == 0 and [json.loads(x) for x in r.stdout.splitlines()] == lines
    r = ipcviz("replay", str(trace), "--headless")
    assert r.returncode == 0 and "no process was run" in r.stdout
    assert "blocked in write() on p" in r.stdout


def test_damaged_or_old_traces_get_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"trace": "ipcviz", "version": 1, "scenario": "x", "source": ""}\n{"step": 0')
    r = ipcviz("replay", str(bad), "--headless")
    assert r.returncode == 2 and f"{bad}:2: not a JSON line" in r.stderr
    old = tmp_path / "old.jsonl"
    old.write_text('{"trace": "ipcviz", "version": 0}\n')
    r = ipcviz("replay", str(old), "--headless")
    assert r.returncode == 2 and "trace format 0; this ipcviz reads format 1" in r.stderr
    r = ipcviz("replay", str(tmp_path / "none.jsonl"))
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.kernel
def test_run_headless_text_report(runtime_dir):
    r = ipcviz("run", "pipe/sigpipe", "--headless")
    assert r.returncode == 0, r.stderr
    assert "killed by SIGPIPE" in r.stdout
    assert "= -1 EPIPE" in r.stdout
    assert "All expects held" in r.stdout


WRONG = """
title = "a lesson that lies"
[[process]]
name = "solo"
[[object]]
name = "p"
kind = "pipe"
[[step]]
process = "solo"
action = "pipe"
object = "p"
narration = "x"
expect = ["p.bytes == 1"]
"""


@pytest.mark.kernel
def test_a_failing_expect_exits_1_and_says_expected_vs_observed(tmp_path, runtime_dir):
    f = tmp_path / "lie.toml"
    f.write_text(WRONG)
    r = ipcviz("run", str(f), "--headless")
    assert r.returncode == 1
    assert "FAIL p.bytes == 1   (observed: 0)" in r.stdout


def test_unknown_name_suggests_the_closest():
    r = ipcviz("run", "pipe/eoff", "--headless")
    assert r.returncode == 2
    assert "unknown scenario 'pipe/eoff'" in r.stderr and "pipe/eof" in r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_a_bad_option_exits_2():
    r = ipcviz("run", "--frobnicate")
    assert r.returncode == 2 and "Traceback" not in r.stderr


STUCK = """
title = "a step that cannot be sent"
[[process]]
name = "parent"
[[process]]
name = "child"
parent = "parent"
[[object]]
name = "p"
kind = "pipe"
[[step]]
process = "parent"
action = "pipe"
object = "p"
narration = "x"
[[step]]
process = "parent"
action = "fork"
child = "child"
narration = "x"
[[step]]
process = "child"
action = "read"
fd = "p.read"
narration = "blocks"
[[step]]
process = "child"
action = "close"
fd = "p.read"
narration = "impossible: the child is asleep in read()"
"""


@pytest.mark.kernel
def test_a_run_that_cannot_go_on_exits_3_with_one_line(tmp_path, runtime_dir):
    f = tmp_path / "stuck.toml"
    f.write_text(STUCK)
    r = ipcviz("run", str(f), "--headless")
    assert r.returncode == 3
    err = r.stderr.strip()
    assert "\n" not in err and "step 4" in err and "still blocked in step 3" in err
    assert not any(runtime_dir.glob("run-*"))


@pytest.mark.kernel
def test_explain_names_the_kernel_interfaces(runtime_dir):
    r = ipcviz("run", "pipe/empty-blocks-reader", "--headless", "--explain")
    assert r.returncode == 0, r.stderr
    assert "/proc/" in r.stdout and "wchan" in r.stdout and "FIONREAD" in r.stdout


def test_every_shipped_file_checks_ok():
    paths = [str(p) for p in sorted(SCENARIOS.glob("*/*.toml"))]
    r = ipcviz("check", *paths)
    assert r.returncode == 0 and r.stdout.count(": ok (") == len(paths)


def test_help_is_a_command():
    r = ipcviz("help")
    assert r.returncode == 0 and "usage: ipcviz" in r.stdout, r.stderr


def test_every_shipped_mechanism_has_a_heading_in_both_languages():
    """The picker heads each folder of lessons with i18n's mech_<folder> (msgq once showed
    its folder name in English)."""
    from ipcviz.app.i18n import TEXTS

    for folder in sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir()):
        assert f"mech_{folder}" in TEXTS, folder


def test_version_prints_the_package_version():
    from importlib.metadata import version

    r = ipcviz("--version")
    assert r.returncode == 0 and r.stdout == f"ipcviz {version('ipcviz')}\n" and not r.stderr


def test_present_reaches_the_app_options():
    """--present (anywhere before the lesson) turns presentation mode on for the app."""
    from ipcviz.cli.main import _parser, _take_app_options

    # GIVEN / WHEN the app's command line and `run`'s
    rest, opts = _take_app_options(["--present", "pipe/eof"])
    args = _parser().parse_args(["run", "pipe/eof", "--present"])
    # THEN both carry it, and the lesson name is left alone
    assert (rest, opts) == (["pipe/eof"], {"present": True})
    assert args.present is True
