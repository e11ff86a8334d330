"""docs/lessons.md is the vocabulary, written out: it cannot go stale or leave anything out."""

from __future__ import annotations

import re

from ipcviz.scenario.actions import ACTIONS, OBJECT_ATTRS, PROCESS_ATTRS, STEP_ATTRS
from ipcviz.scenario.loader import CHOICE_KEYS, OBJECT_KEYS, PROCESS_KEYS, QUIZ_KEYS, STEP_KEYS
from ipcviz.scenario.loader import TOP_KEYS
from ipcviz.scenario.reference import markdown

from .conftest import ROOT

DOC = ROOT / "docs" / "lessons.md"


def test_the_committed_reference_is_the_generated_one():
    assert DOC.read_text() == markdown(), (
        "docs/lessons.md is stale: python -m ipcviz.scenario.reference > docs/lessons.md")


def test_every_action_argument_attribute_and_field_is_documented():
    text = DOC.read_text()
    sections = dict(re.findall(r"^### `([a-z_0-9]+)`\n(.*?)(?=^##)", text, re.M | re.S))
    for action in ACTIONS.values():
        assert action.name in sections, f"action {action.name} undocumented"
        for arg in action.args:
            assert f"| `{arg.name}` |" in sections[action.name], f"{action.name}.{arg.name}"
    for kind, attrs in OBJECT_ATTRS.items():
        line = next(ln for ln in text.splitlines() if ln.startswith(f"- `{kind}`: "))
        assert all(f"`{a}`" in line for a in attrs), kind
    for attrs, label in ((PROCESS_ATTRS, "- every process: "), (STEP_ATTRS, "- `step`: ")):
        line = next(ln for ln in text.splitlines() if ln.startswith(label))
        assert all(f"`{a}`" in line for a in attrs), label
    for key in TOP_KEYS | PROCESS_KEYS | OBJECT_KEYS | STEP_KEYS | QUIZ_KEYS | CHOICE_KEYS:
        assert f"| `{key}` |" in text, f"field {key} undocumented"
    assert "_zh` |" in text and "[step.quiz]" in text


def test_the_readme_links_the_reference():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Writing a scenario", 1)[1].split("\n## ", 1)[0]
    assert "docs/lessons.md" in section


def test_the_readmes_json_schema_names_every_top_level_field_of_a_trace_line():
    import io
    import json

    from ipcviz.model.snapshot import Snapshot
    from ipcviz.model.timeline import write_trace_line

    out = io.StringIO()
    write_trace_line(out, Snapshot(0, 0, 1, 0.0))
    keys = set(json.loads(out.getvalue()))
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## JSON output", 1)[1].split("```", 2)[1]
    top = re.sub(r"\[[^\[\]]*\]|\{[^{}]*\}", "", block[block.index("{") + 1:])  # inner ones
    top = re.sub(r"\[[^\[\]]*\]|\{[^{}]*\}", "", top)
    named = set(re.findall(r'"([a-z_]+)"', top))
    assert keys <= named, f"README's JSON schema lacks {sorted(keys - named)}"


def test_the_readme_asks_for_the_terminal_size_the_app_asks_for():
    from ipcviz.app.widgets.too_small import MIN_HEIGHT, MIN_WIDTH

    readme = (ROOT / "README.md").read_text()
    assert f"at least {MIN_WIDTH} columns\nby {MIN_HEIGHT} rows" in readme
    assert "100x30\n(the app says so" not in readme
