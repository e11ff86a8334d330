"""``ipcviz bench``: measured IPC throughput and latency between two real processes."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from contextlib import contextmanager
from collections.abc import Iterator, Sequence

from ipcviz.bench.mechanisms import MECHANISMS
from ipcviz.bench.report import format_table, to_json
from ipcviz.bench.runner import (
    DEFAULT_LATENCY_SECONDS, DEFAULT_REPEATS, DEFAULT_ROUNDS, DEFAULT_SECONDS, DEFAULT_SIZES,
    BenchError, CpuMeter, Params, ProgressFn, bench_document, default_spin, loadavg, machine_info, run_bench,
)
from ipcviz.runtime.rundir import RunDirError

PROG = "ipcviz bench"
MAX_SIZE = 16 << 20
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}
_ALIASES = {"sysv": "sysv-mq", "posix": "posix-mq", "mq": "posix-mq", "socket": "socketpair",
            "unix": "socketpair", "shared-memory": "shm"}


class UsageError(Exception):
    pass


class _Terminated(Exception):
    """SIGTERM or SIGHUP, raised where the bench is, so that every ``finally`` removes its
    objects (the default action would leave them for the next sweep)."""


def _on_signal(signum, frame):
    raise _Terminated(signum)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


def parse_bytes(text: str) -> int:
    """'65536', '64k', '64KiB', '1M' -> bytes (binary units)."""
    m = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a byte count: {text!r} (e.g. 4096, 64k, 1M)")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def _sizes(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            n = parse_bytes(part)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if not 1 <= n <= MAX_SIZE:
            raise argparse.ArgumentTypeError(f"message size {n} out of range 1..{MAX_SIZE}")
        if n not in out:
            out.append(n)
    if not out:
        raise argparse.ArgumentTypeError("no sizes given")
    return out


def _mechanisms(text: str) -> list[str]:
    out: list[str] = []
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            continue
        if name == "all":
            names = list(MECHANISMS)
        else:
            name = _ALIASES.get(name, name)
            if name not in MECHANISMS:
                raise argparse.ArgumentTypeError(
                    f"unknown mechanism {part.strip()!r} (choose from {', '.join(MECHANISMS)}, all)")
            names = [name]
        out += [n for n in names if n not in out]
    if not out:
        raise argparse.ArgumentTypeError("no mechanisms given")
    return out


def _volume(text: str) -> int:
    try:
        n = parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not 1 <= n <= 1 << 40:
        raise argparse.ArgumentTypeError(f"volume {n} out of range 1..1 TiB")
    return n


def _ranged(kind: type, lo: float, hi: float, what: str):
    def conv(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a number, not {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{what} {text} out of range {lo:g}..{hi:g}")
        return v
    return conv


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Measure throughput and round-trip latency of Unix IPC mechanisms between two "
                    "real processes (fork), with dd | dd as a C reference.",
    )
    p.add_argument("--mechanisms", type=_mechanisms, default=list(MECHANISMS), metavar="LIST",
                   help=f"comma-separated: {', '.join(MECHANISMS)} or all (default: all)")
    p.add_argument("--sizes", type=_sizes, default=list(DEFAULT_SIZES), metavar="LIST",
                   help="message sizes in bytes, comma-separated; k/M suffixes allowed "
                        "(default: 64,4096,65536)")
    amount = p.add_mutually_exclusive_group()
    amount.add_argument("--volume", type=_volume, metavar="BYTES",
                        help="bytes per throughput run (e.g. 64M); the dd reference moves the same")
    amount.add_argument("--seconds", type=_ranged(float, 0.001, 600, "--seconds"), metavar="S",
                        help=f"seconds per throughput run (default: {DEFAULT_SECONDS})")
    p.add_argument("--repeats", type=_ranged(int, 1, 100, "--repeats"), default=DEFAULT_REPEATS, metavar="N",
                   help=f"throughput runs per cell; the median is reported (default: {DEFAULT_REPEATS})")
    p.add_argument("--rounds", type=_ranged(int, 10, 10_000_000, "--rounds"), default=DEFAULT_ROUNDS,
                   metavar="N", help=f"latency: at most N timed round trips (default: {DEFAULT_ROUNDS})")
    p.add_argument("--latency-seconds", type=_ranged(float, 0.001, 600, "--latency-seconds"),
                   default=DEFAULT_LATENCY_SECONDS, metavar="S",
                   help=f"latency: stop after S seconds (at least 100 rounds) (default: {DEFAULT_LATENCY_SECONDS})")
    p.add_argument("--shm-spin", type=_ranged(int, 0, 1_000_000, "--shm-spin"), default=None, metavar="N",
                   help="shm: poll the semaphore up to N times before sleeping in sem_wait; "
                        "0 = plain sem_wait (default: 100 with 2+ CPUs, else 0)")
    p.add_argument("--timeout", type=_ranged(float, 0.1, 86400, "--timeout"), default=None, metavar="S",
                   help="give up on one measurement after S seconds (default: from the run length)")
    p.add_argument("--no-reference", dest="reference", action="store_false",
                   help="skip the dd | dd reference")
    p.add_argument("--verify", action="store_true",
                   help="checksum every byte (crc32) and every echo; slower, for checking")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    return p


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressFn | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("ipcviz bench", total=None)

        def update(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        yield update


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0

    params = _params(args)
    machine = machine_info()
    meter = CpuMeter()
    # SIGTERM and SIGHUP end the bench through its finally blocks; an ignored one (nohup) stays so.
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGHUP)
           if signal.getsignal(s) is not signal.SIG_IGN}
    try:
        with _progress(sys.stderr.isatty()) as progress:
            results = run_bench(
                params.mechanisms, params.sizes, params.volume, seconds=params.seconds,
                repeats=params.repeats, rounds=params.rounds, latency_seconds=params.latency_seconds,
                reference=params.reference, verify=params.verify, timeout=args.timeout,
                shm_spin=params.shm_spin, progress=progress,
            )
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except _Terminated as exc:
        signum = exc.args[0]
        print(f"{PROG}: {signal.Signals(signum).name}", file=sys.stderr)
        return 128 + signum
    except (BenchError, OSError, ValueError, RunDirError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)

    machine["loadavg_end"] = loadavg()
    machine["cpu_during_run"] = meter.result()
    text = to_json(bench_document(results, params, machine)) if args.json else format_table(results, params, machine)
    if not _print(text):
        return 0
    failed = [r for r in results if r.status == "error"]
    for r in failed:
        print(f"{PROG}: {r.label} {r.size} B: {r.note}", file=sys.stderr)
    return 1 if failed else 0


def _params(args: argparse.Namespace) -> Params:
    seconds = args.seconds if (args.seconds is not None or args.volume is not None) else DEFAULT_SECONDS
    return Params(
        mechanisms=tuple(args.mechanisms), sizes=tuple(args.sizes), volume=args.volume,
        seconds=None if args.volume is not None else seconds, repeats=args.repeats, rounds=args.rounds,
        latency_seconds=args.latency_seconds, reference=args.reference, verify=args.verify,
        shm_spin=default_spin() if args.shm_spin is None else args.shm_spin,
    )


def _print(text: str) -> bool:
    """TEXT on stdout; False if the reader has gone (`ipcviz bench | head`)."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `ipcviz bench | head`: not an error worth a traceback
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return False
    return True


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
