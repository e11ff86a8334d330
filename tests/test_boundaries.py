"""The core (scenario, runtime, probe, model) and the headless path never import textual or rich."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT

CODE = """
import sys
import ipcviz.scenario, ipcviz.runtime, ipcviz.probe.sampler, ipcviz.model, ipcviz.report.text
import ipcviz.textsafe, ipcviz.files, ipcviz.model.tracecheck
from ipcviz.cli.main import main
rc = main(["run", "pipe/fork-and-close", "--headless"])
ui = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
print("UI", ui, "RC", rc, file=sys.stderr)
sys.exit(0 if not ui and rc == 0 else 1)
"""


@pytest.mark.kernel
def test_core_and_headless_run_do_not_import_the_ui(runtime_dir):
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                       timeout=60, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert "UI [] RC 0" in r.stderr
