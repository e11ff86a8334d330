"""What the lecturer would say at this step, the call that ran, and the checks of the step."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ...model.snapshot import BLOCKED, FAILED, KILLED, Snapshot
from .. import words


class Narration(Static):
    DEFAULT_CSS = """
    Narration { height: auto; padding: 0 1; }
    """

    def show(self, snapshot: Snapshot, title: str) -> None:
        lines: list[Content] = []
        if snapshot.step == 0:
            head = Content.styled(f"{title}: before step 1", "b")
        else:
            head = Content.assemble((f"Step {snapshot.step}/{snapshot.total_steps}  ", "b"),
                                    (words.step_call_text(snapshot), _outcome_style(snapshot)))
        lines.append(head)
        if snapshot.narration:
            lines.append(Content(snapshot.narration.strip()))
        checks: list[Content] = []
        for c in snapshot.checks:
            mark, style = ("✓", "$text-success") if c.ok else ("✗", "b $text-error")
            checks.append(Content.assemble((f"{mark} ", style), (c.expect, style),
                                           ("" if c.ok else f" (saw {c.observed!r})",
                                            "$text-error")))
        if checks:
            lines.append(Content.assemble(("checked: ", "$text-muted"),
                                          Content("   ").join(checks)))
        self.update(Content("\n").join(lines))


def _outcome_style(snapshot: Snapshot) -> str:
    return {BLOCKED: "b $text-error", FAILED: "b $text-warning",
            KILLED: "b $text-error"}.get(snapshot.outcome or "", "b $text-accent")
