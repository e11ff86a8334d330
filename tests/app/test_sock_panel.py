"""The socketpair panel on a real run of sock/stream-vs-datagram: what it draws per end is
the Snapshot the Run returned."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipcviz.app.app import IpcvizApp
from ipcviz.app.widgets.sock import SocketPairView
from ipcviz.scenario import load

from .helpers import catalog_entries, step_to, sync, text_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.kernel
@sync
async def test_socketpair_panel_draws_each_end_as_the_kernel_said(runs):
    """After the two sends on both pairs: the stream pair shows 10 bytes to read at end b,
    the datagram pair the size of its next datagram (5), and who holds each end."""
    # GIVEN the app on a real run of the lesson
    app = IpcvizApp(run_factory=runs, entries=catalog_entries(),
                    scenario=load(ROOT / "scenarios/sock/stream-vs-datagram.toml"))
    async with app.run_test(size=(200, 60)) as pilot:
        # WHEN the writer has sent 'hello' and 'world' on both pairs
        await step_to(pilot, 11, timeout=30)
        snap = runs.made[0].timeline[-1]
        st = text_of(app.screen.query_one("#obj-st", SocketPairView))
        dg = text_of(app.screen.query_one("#obj-dg", SocketPairView))
        # THEN each panel says what the Snapshot says, end by end
        o = snap.object_named("st")
        assert o.inq_b == 10 and "10 bytes waiting to be read" in st, st
        assert f"end a [{' '.join(o.fds_a)}]" in st and "SOCK_STREAM" in st, st
        o = snap.object_named("dg")
        assert o.inq_b == 5 and "next datagram: 5 bytes" in dg, dg
        assert f"end b [{' '.join(o.fds_b)}]" in dg and "SOCK_DGRAM" in dg, dg


@pytest.mark.kernel
@sync
async def test_listener_panel_draws_the_queue_and_the_client_asleep_in_connect(runs):
    """At the third connect of sock/named-server: the listener's panel shows its backlog,
    the waiting connections' clients in the order the kernel gave, and the client that
    sleeps in connect(); a waiting client's panel says its peer is not accepted yet."""
    from ipcviz.app.widgets.sock import SocketView

    # GIVEN the app on a real run of the lesson
    app = IpcvizApp(run_factory=runs, entries=catalog_entries(),
                    scenario=load(ROOT / "scenarios/sock/named-server.toml"))
    async with app.run_test(size=(200, 60)) as pilot:
        # WHEN the client's third connect() sleeps
        await step_to(pilot, 10, timeout=30)
        snap = runs.made[0].timeline[-1]
        o = snap.object_named("srv")
        srv = text_of(app.screen.query_one("#obj-srv", SocketView))
        c1 = text_of(app.screen.query_one("#obj-c1", SocketView))
        # THEN the panels say what the Snapshot says
        assert f"backlog {o.backlog}, waiting for accept(): {o.pending}" in srv, srv
        assert " ".join(f"[{n}]" for n in o.queue) in srv and o.queue, srv
        assert "client sleeps in connect()" in srv and o.blocked_connecting == ("client",)
        assert o.path in srv and "file type s" in srv, srv
        assert "not accepted yet" in c1, c1
