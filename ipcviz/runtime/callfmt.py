"""A step's system call as strace would print it: write(4, "hello", 5) = 5."""

from __future__ import annotations

from typing import Any


def _q(text: str, limit: int = 24) -> str:
    t = text if len(text) <= limit else text[:limit] + "..."
    return '"' + t.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def format_call(action: str, args: dict[str, Any], fd: int | None, result: Any,
                pids: dict[str, int]) -> str:
    f = fd if fd is not None else args.get("fd", "?")
    if action == "pipe":
        ends = result if isinstance(result, list) else ["?", "?"]
        return f"pipe([{ends[0]}, {ends[1]}])"
    if action == "fork":
        return "fork()"
    if action == "close":
        return f"close({f})"
    if action == "dup2":
        return f"dup2({f}, {args['to']})"
    if action == "write":
        if "data" in args and "size" not in args:
            n = len(args["data"].encode())
            buf = _q(args["data"])
            if args.get("frame") == "length":
                buf = _q(f"{n}:" + args["data"])
                n += len(f"{n}:")
            return f"write({f}, {buf}, {n})"
        return f"write({f}, \"{args.get('fill', 'x')}\"..., {args.get('size')})"
    if action == "read":
        if args.get("frame") == "length":
            return f"read_message({f})"
        size = args.get("size", 4096)
        return f"read({f}, buf, {size})" + (" until EOF" if args.get("all") else "")
    if action == "exit":
        return f"_exit({args.get('status', 0)})"
    if action == "wait":
        child = args.get("child")
        return f"waitpid({pids.get(child, -1) if child else -1}, &status, 0)"
    if action == "signal":
        handler = {"ignore": "SIG_IGN", "default": "SIG_DFL", "handler": "handler"}
        return f"signal({args['signal']}, {handler[args['disposition']]})"
    if action == "kill":
        return f"kill({pids.get(args['target'], '?')}, {args['signal']})"
    return f"{action}(...)"
