"""Notes travel as (key, params) and are worded only where they are drawn: the shared
memory view's field notes, and the one lookup every view's words go through."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipcviz.app.i18n import TEXTS, add_texts, note, say
from ipcviz.app.widgets.shm import fields_of
from ipcviz.model.shm import RegionState
from ipcviz.model.timeline import read_trace_file
from ipcviz.scenario import loads

TRACES = Path(__file__).resolve().parent / "traces"


def regions(trace: str):
    header, snaps = read_trace_file(TRACES / f"{trace}.jsonl")
    sc = loads(header["source"], trace, header["scenario"])
    last = snaps[-1]
    return sc, last, {o.id: o for o in last.objects if isinstance(o, RegionState)}


def test_shm_field_notes_are_keys_with_values():
    """A counter's note is 'a C long at byte 0' as data, said in English or Chinese."""
    sc, last, found = regions("shm-basics")
    [counter] = fields_of(found["region"], sc, last.step)
    assert counter.note == note("shm_note_long", at=0)
    assert say(counter.note, "en") == "C long at byte 0"
    assert say(counter.note, "zh") == "C long，在第 0 字节"


def test_ring_field_notes_say_what_each_index_counts():
    sc, last, found = regions("sem-bounded-buffer")
    flds = fields_of(found["ring"], sc, last.step)
    assert [say(f.note, "zh") for f in flds[:2]] == ["累计放入", "累计取出"]
    assert all(f.note is None or f.note.key == "shm_note_free" for f in flds[2:])


def test_a_view_adds_its_words_to_the_one_lookup():
    """Each view keeps its words beside it; they all answer through tr()/say()."""
    import ipcviz.app.widgets.signals  # noqa: F401  (adds its words when imported)

    assert TEXTS["sig_fate_handled"] == ("handler ran", "处理函数已运行")
    assert TEXTS["shm_note_nul"][0] == "up to the first NUL"
    add_texts({"shm_note_nul": TEXTS["shm_note_nul"]})  # the same words again: fine
    with pytest.raises(ValueError, match="shm_note_nul"):
        add_texts({"shm_note_nul": ("other", "其他")})
