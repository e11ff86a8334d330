import pytest


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch):
    """Repeatable rendering: no cursor blink, no animations."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)


@pytest.fixture
def runs(runtime_dir):
    """Real runs for the app under test, each in a private runtime directory and closed
    after the test even when it failed: no process, no kernel object is left."""
    from .helpers import RecordingRuns

    made = RecordingRuns()
    yield made
    made.close_all()

