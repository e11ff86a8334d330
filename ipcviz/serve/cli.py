"""`ipcviz serve`: the app in a browser, one app process and one isolated run per viewer.

    ipcviz serve [--host 127.0.0.1] [--port 8000] [--max-viewers 4] [NAME]

Exit codes: 0 stopped by Ctrl+C / SIGTERM / SIGHUP, every viewer's app and run ended;
2 bad input (an option, an unknown lesson); 3 the lesson cannot run here, or the address
cannot be bound (a port in use).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from ..command import EXIT_INPUT, EXIT_OK, EXIT_RUN
from ..command import Parser as _Parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def _viewers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 1 <= n <= 64:
        raise argparse.ArgumentTypeError(f"{n}: between 1 and 64 viewers")
    return n


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ipcviz serve",
                description="Serve the app to a browser (textual-serve): each viewer gets "
                            "their own app process and their own run of the lesson.")
    p.add_argument("scenario", nargs="?",
                   help="open this lesson (pipe/eof) for every viewer; default: the picker")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_port, default=8000,
                   help="port (default 8000; 0 picks a free one and prints it)")
    p.add_argument("--max-viewers", type=_viewers, default=4, metavar="N",
                   help="at most N viewers at once, each running real processes (default 4)")
    return p


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"ipcviz serve: {message}\n")
    return code


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.scenario is not None:
        from ..runtime.availability import unavailable
        from ..scenario import ScenarioError, find

        try:
            scenario = find(args.scenario)
        except ScenarioError as err:
            return _fail(str(err), EXIT_INPUT)
        why = unavailable(scenario)
        if why:
            return _fail(f"{args.scenario} cannot run on this system: {why}", EXIT_RUN)
    try:
        from .server import ViewerServer
    except ImportError as err:
        return _fail(f"textual-serve is not installed ({err.name}): "
                     "pip install textual-serve", EXIT_RUN)
    server = ViewerServer(args.scenario, args.host, args.port, args.max_viewers)

    def ready(srv: ViewerServer) -> None:
        what = args.scenario or "the lesson picker"
        n = srv.max_viewers
        sys.stderr.write(f"ipcviz serve: {what} on {srv.bound_url}  (at most {n} "
                         f"viewer{'s' if n != 1 else ''}; Ctrl+C stops and ends every run)\n")
        sys.stderr.flush()

    try:
        asyncio.run(server.run(ready))
    except OSError as err:
        return _fail(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}",
                     EXIT_RUN)
    except KeyboardInterrupt:  # a Ctrl+C before the signal handlers were set
        pass
    sys.stderr.write("ipcviz serve: stopped; every viewer's app and run has ended\n")
    return EXIT_OK
