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
