"""The one way a screen or widget reaches the ipcviz app: typed, not duck-typed.

`ipcviz_app(self).lang` is checked by a type checker; `self.app.lang` is an attribute
Textual's App does not have, found only at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from .app import IpcvizApp


class _OfAnApp(Protocol):
    @property
    def app(self) -> Any: ...


def ipcviz_app(node: _OfAnApp) -> IpcvizApp:
    """The IpcvizApp `node` (a screen, a widget, a command provider's screen) belongs to."""
    return cast("IpcvizApp", node.app)
