"""The shape of the code: one list of mechanisms that every layer reads, and the layering
of DESIGN.md (scenario → runtime → probe → model → views; the core never imports
textual or rich), checked by import-linter against pyproject.toml's contracts."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest

from ipcviz.mechanisms import COMMON, MECHANISMS

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold(capsys):
    """lint-imports finds no import that breaks the layers or brings textual into the core."""
    # GIVEN the contracts of pyproject.toml
    from importlinter.cli import lint_imports

    # WHEN import-linter checks every import of the package (no cache written)
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True,
                        no_logo=True)

    # THEN every contract is kept
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 broken" in out and "2 kept" in out


def _kinds(package: str, name: str, attr: str) -> set[str]:
    return set(getattr(import_module(f"{package}.{name}"), attr))


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_every_layer_has_the_same_kinds_of_each_mechanism(mechanism):
    """A mechanism's object kinds are the same in its vocabulary, probe, model and view."""
    # GIVEN the mechanism's module in each layer
    vocab = _kinds("ipcviz.scenario.vocab", mechanism, "OBJECT_ATTRS")
    # THEN each names exactly the kinds a lesson may declare
    assert vocab, f"{mechanism} declares no object kind"
    assert _kinds("ipcviz.probe", mechanism, "PROBES") == vocab
    assert _kinds("ipcviz.model", mechanism, "OBJECT_KINDS") == vocab
    assert _kinds("ipcviz.app.widgets", mechanism, "OBJECT_VIEWS") == vocab


@pytest.mark.parametrize("name", (COMMON, *MECHANISMS))
def test_every_action_a_lesson_may_name_has_an_op_in_the_same_mechanism(name):
    """The vocabulary module and the ops module of one mechanism name the same actions."""
    vocab = import_module(f"ipcviz.scenario.vocab.{name}")
    ops = import_module(f"ipcviz.runtime.ops.{name}")
    actions = {a.name for a in vocab.ACTIONS}
    assert set(ops.OPS) == actions
    assert set(ops.CALLS) == actions  # every call can be printed before it is made
    assert set(ops.ARG0) <= actions


def test_the_collected_registries_are_the_union_of_the_mechanisms():
    """What each layer's loader collected is exactly what the mechanism modules name."""
    from ipcviz.app.widgets.objects import OBJECT_VIEWS, load_views
    from ipcviz.model.snapshot import OBJECT_KINDS
    from ipcviz.probe import kinds
    from ipcviz.runtime import ops
    from ipcviz.scenario.vocab import ACTIONS, OBJECT_ATTRS

    load_views()
    kinds.load_all()
    ops.load_all()
    every = set().union(*(_kinds("ipcviz.scenario.vocab", m, "OBJECT_ATTRS")
                          for m in MECHANISMS))
    assert set(OBJECT_ATTRS) == set(OBJECT_KINDS) == set(kinds.PROBES) == every
    assert set(OBJECT_VIEWS) == every
    assert set(ops.OPS) == set(ACTIONS)
