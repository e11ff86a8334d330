"""The focus of a step (ipcviz.model.focus): derived from the step and the two worlds."""

from pathlib import Path

from ipcviz.model.focus import Focus, focus
from ipcviz.model.timeline import read_trace
from ipcviz.scenario import load

ROOT = Path(__file__).resolve().parents[1]
TRACES = ROOT / "tests" / "app" / "traces"


def _foci(lesson: str, trace: str) -> dict[int, Focus]:
    scenario = load(ROOT / "scenarios" / f"{lesson}.toml")
    snaps = read_trace(TRACES / trace)
    out, prev = {}, None
    for s in snaps:
        step = scenario.steps[s.step - 1] if s.step else None
        out[s.step] = focus(s, prev, step.args if step else None)
        prev = s
    return out


def test_nothing_before_the_first_step():
    """Snapshot 0 has no actor: its focus is empty (and false)."""
    f = _foci("sem/deadlock", "sem-deadlock.jsonl")[0]
    assert f == Focus() and not f


def test_actor_and_the_object_it_names():
    """a's semop on s2 puts a and s2 in focus; the actor comes first."""
    f = _foci("sem/deadlock", "sem-deadlock.jsonl")[7]
    assert f.processes[0] == "a"
    assert f.objects == ("s2",)


def test_a_fork_names_its_child():
    f = _foci("sem/deadlock", "sem-deadlock.jsonl")[3]
    assert f.processes == ("main", "a")


def test_an_fd_end_names_its_object():
    """write on "p.write": the pipe p is in focus (the step names it through an end)."""
    f = _foci("pipe/full-blocks-writer", "pipe-full-blocks-writer.jsonl")[6]
    assert f.objects == ("p",)
    assert f.processes == ("writer",)


def test_a_woken_process_joins_the_focus():
    """The reader's read makes room: the writer asleep in write() wakes, so it is in focus."""
    f = _foci("pipe/full-blocks-writer", "pipe-full-blocks-writer.jsonl")[7]
    assert f.processes == ("reader", "writer")


def test_a_killed_process_joins_the_focus():
    """main kills b to break the deadlock: b's state changes, so b is in focus."""
    f = _foci("sem/deadlock", "sem-deadlock.jsonl")[9]
    assert "b" in f.processes
