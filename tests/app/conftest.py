import pytest


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch):
    """Repeatable rendering: no cursor blink, no animations."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)
