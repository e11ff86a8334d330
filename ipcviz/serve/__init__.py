"""ipcviz.serve: the app in a browser, for a projector or a class (textual-serve).

    ipcviz serve                    the lesson picker, on http://127.0.0.1:8000/
    ipcviz serve pipe/eof           every viewer opens on that lesson

Each browser connection gets its own app process and so its own isolated run; the number
of viewers is capped (--max-viewers).  See server.py for how, and for the bounded stop.
"""


def die_with_server() -> None:
    """In an app process started by `ipcviz serve` (IPCVIZ_SERVE=<server pid> in its
    environment): ask the kernel for SIGTERM when the server dies (PR_SET_PDEATHSIG), and
    end now if it is gone already.  A SIGKILLed server thus leaves no app behind, and the
    app's runner removes its run.  Core-free: no textual, no rich."""
    import ctypes
    import os
    import signal

    mark = os.environ.get("IPCVIZ_SERVE")
    if not mark or not mark.isdigit():
        return
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, ctypes.c_ulong(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != int(mark):
        raise SystemExit(3)  # the server died before the request above: so do we
