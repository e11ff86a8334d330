"""A trace is capped: its size, its snapshots and what each holds; refused in one line (issue 14).

A 123 MB trace took 870 MB of memory to replay; /dev/zero would be read until memory ran
out, a FIFO would block the reader forever."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from ipcviz.cli.main import main
from ipcviz.model.shm import RegionState
from ipcviz.model.tracecheck import MAX_PROCESSES, MAX_TRACE_BYTES

TRACE = Path(__file__).parent / "app" / "traces" / "pipe-full-blocks-writer.jsonl"


def _replay(path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["replay", str(path), "--headless"])
    return code, err.getvalue()


def test_a_trace_past_the_size_cap_is_refused_without_reading_it_all(tmp_path):
    # GIVEN a trace one byte past MAX_TRACE_BYTES (a valid header, then padding)
    lines = TRACE.read_text().splitlines()
    big = tmp_path / "big.jsonl"
    with open(big, "w") as f:
        f.write(lines[0] + "\n")
        f.write(" " * (MAX_TRACE_BYTES - len(lines[0])) + "\n")
    assert big.stat().st_size > MAX_TRACE_BYTES
    # WHEN replayed  THEN exit 2, one line naming the file and the cap
    code, err = _replay(big)
    assert code == 2 and err.count("\n") == 1
    assert str(big) in err and "larger than 32 MB" in err


def test_too_many_processes_in_a_snapshot_are_refused_naming_the_field(tmp_path):
    # GIVEN a snapshot with one process more than MAX_PROCESSES
    lines = TRACE.read_text().splitlines()
    snap = json.loads(lines[2])
    snap["processes"] = [dict(snap["processes"][0], name=f"p{i}")
                         for i in range(MAX_PROCESSES + 1)]
    lines[2] = json.dumps(snap)
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n")
    # WHEN replayed  THEN exit 2: file, line and field named
    code, err = _replay(path)
    assert code == 2 and err.count("\n") == 1
    assert f"{path}:3: processes: {MAX_PROCESSES + 1} items (at most {MAX_PROCESSES})" in err


@pytest.mark.timeout(20)
@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_device_or_fifo_is_not_read_as_a_trace(tmp_path, special):
    # GIVEN /dev/zero (endless) or a FIFO no one writes (open would block)
    if special == "fifo":
        special = str(tmp_path / "fifo")
        os.mkfifo(special)
    # WHEN replayed  THEN refused at once, in one line
    code, err = _replay(special)
    assert code == 2 and "not a regular file" in err and err.count("\n") == 1


@pytest.mark.timeout(20)
def test_ring_indexes_of_an_edited_trace_do_not_make_a_huge_range():
    # GIVEN a region whose ring indexes are 2**64 apart (types right, values absurd)
    r = RegionState(id="r", kind="shm", slots=2**64, ring=(1, 2), ring_in=2**64, ring_out=0)
    # WHEN the view asks which slots are live  THEN at once: none
    assert r.live_slots() == ()
    assert RegionState(id="r", kind="shm", slots=2, ring=(7, 8), ring_in=5,
                       ring_out=4).live_slots() == (True, False)


@pytest.mark.parametrize("row", [[1, 5, "low A"], [1, 5, "low A", "p", 9], ["1", 5, "x", "p"],
                                 [1, 5, ["x"], "p"]])
def test_a_queue_message_that_is_not_type_size_text_sender_is_refused(tmp_path, row):
    # GIVEN a recorded queue trace whose first message row is cut, grown or mistyped
    # (found by the fuzzer: a 3-cell row crashed replay with a ValueError in model/msgq)
    src = Path(__file__).parent / "app" / "traces" / "msgq-sysv-by-type.jsonl"
    lines = src.read_text().splitlines()
    snaps = [json.loads(x) for x in lines[1:]]
    k = next(i for i, s in enumerate(snaps) if any(o.get("contents") for o in s["objects"]))
    obj = next(o for o in snaps[k]["objects"] if o.get("contents"))
    obj["contents"][0] = row
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], *(json.dumps(s) for s in snaps)]) + "\n")
    # WHEN replayed  THEN one line naming the field, exit 2, no traceback
    code, err = _replay(bad)
    assert code == 2 and err.count("\n") == 1 and "contents[0]" in err, err
