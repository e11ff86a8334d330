"""Run measurements and gather them into frozen results. No printing, no rich/textual."""

from __future__ import annotations

import fcntl
import math
import os
import platform
import re
import shutil
import subprocess
import time
from array import array
from dataclasses import asdict, dataclass, field
from datetime import datetime, UTC
from statistics import median
from typing import Any
from collections.abc import Callable, Iterable, Sequence

from ipcviz.bench.mechanisms import MECHANISMS, SHM_RING_BYTES, Plan, Unavailable, read_int
from ipcviz.bench.procs import BenchError, run_pair

MiB = 1 << 20
DEFAULT_SIZES = (64, 4096, 65536)
DEFAULT_SECONDS = 0.25  # per throughput repeat, when neither volume nor seconds is given
DEFAULT_REPEATS = 5
DEFAULT_SHM_SPIN = 100
DEFAULT_ROUNDS = 2000
DEFAULT_LATENCY_SECONDS = 0.2
DD_KEY = "dd"
DD_LABEL = "dd | dd (C reference)"
DD_BLOCK = 65536

#: progress(done, total, what): called with done=0 first, then after every step.
ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Run:
    """One throughput repeat: producer start to consumer end, on CLOCK_MONOTONIC."""

    seconds: float
    messages: int
    bytes_sent: int
    bytes_received: int
    checksum_sent: int | None = None  # crc32 of everything sent (verify mode only)
    checksum_received: int | None = None  # crc32 of everything received (verify mode only)

    @property
    def mib_s(self) -> float:
        return self.bytes_received / MiB / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Latency:
    """Round trips of one message each way; samples in nanoseconds."""

    rounds: int
    median_us: float
    p99_us: float
    min_us: float
    mismatches: int = 0  # echoes that differed from the request (verify mode only)


@dataclass(frozen=True)
class Result:
    mechanism: str  # key: pipe, fifo, sysv-mq, posix-mq, socketpair, shm, dd
    label: str
    size: int  # message size in bytes (dd: its block size)
    status: str = "ok"  # "ok", "n/a" (a system limit; see note) or "error"
    note: str | None = None
    runs: tuple[Run, ...] = ()
    latency: Latency | None = None

    @property
    def available(self) -> bool:
        return self.status == "ok"

    @property
    def throughput_mib_s(self) -> float | None:
        return median(r.mib_s for r in self.runs) if self.runs else None

    @property
    def messages(self) -> int:
        return sum(r.messages for r in self.runs)

    @property
    def bytes(self) -> int:
        return sum(r.bytes_received for r in self.runs)

    @property
    def repeats(self) -> int:
        return len(self.runs)

    @property
    def latency_median_us(self) -> float | None:
        return self.latency.median_us if self.latency else None

    @property
    def latency_p99_us(self) -> float | None:
        return self.latency.p99_us if self.latency else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mechanism": self.mechanism,
            "label": self.label,
            "size": self.size,
            "status": self.status,
            "note": self.note,
            "throughput_mib_s": _round(self.throughput_mib_s),
            "latency_median_us": _round(self.latency_median_us),
            "latency_p99_us": _round(self.latency_p99_us),
            "latency_rounds": self.latency.rounds if self.latency else 0,
            "messages": self.messages,
            "bytes": self.bytes,
            "repeats": self.repeats,
            "runs": [dict(asdict(r), mib_s=_round(r.mib_s)) for r in self.runs],
        }


def _round(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(x, nd)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        raise ValueError("no samples")
    k = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[min(k, len(sorted_values)) - 1]


def default_spin() -> int:
    """Shared memory waits poll the semaphore this often before sleeping: only with 2+ CPUs."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return DEFAULT_SHM_SPIN if cpus >= 2 else 0


def default_timeout(plan: Plan) -> float:
    if plan.seconds is not None:
        return 15.0 + 4 * plan.seconds
    if plan.count is not None:
        return 30.0 + plan.count * plan.size / MiB  # slower than 1 MiB/s is a hang
    return 15.0 + 4 * plan.lat_seconds + plan.rounds * 0.001


# --------------------------------------------------------------------------- single measurements


def _channel(mechanism: str, size: int, mode: str):
    try:
        cls = MECHANISMS[mechanism]
    except KeyError:
        raise ValueError(f"unknown mechanism {mechanism!r} (choose from {', '.join(MECHANISMS)})") from None
    reason = cls.limit(size)
    if reason:
        raise Unavailable(reason)
    return cls(size, mode)


def make_plan(size: int, volume: int | None = None, seconds: float | None = None, **kw: Any) -> Plan:
    if volume is not None and seconds is not None:
        raise ValueError("give volume or seconds, not both")
    if volume is None and seconds is None:
        seconds = DEFAULT_SECONDS
    count = None if volume is None else max(1, -(-volume // size))
    return Plan(size=size, count=count, seconds=seconds, **kw)


def measure_throughput(mechanism: str, size: int, *, volume: int | None = None,
                       seconds: float | None = None, verify: bool = False,
                       timeout: float | None = None, spin: int | None = None) -> Run:
    """One throughput run between two forked processes. Raises Unavailable / BenchError."""
    plan = make_plan(size, volume, seconds, verify=verify, spin=default_spin() if spin is None else spin)
    chan = _channel(mechanism, size, "throughput")
    try:
        res = run_pair(
            [("consumer", chan.setup_rx, lambda: chan.consume(plan)),
             ("producer", chan.setup_tx, lambda: chan.produce(plan))],
            chan.parent_after_fork, timeout or default_timeout(plan))
    finally:
        chan.close()
    p, c = res["producer"], res["consumer"]
    if p["bytes"] != c["bytes"]:
        raise BenchError(f"{mechanism} {size} B: producer sent {p['bytes']} bytes, consumer got {c['bytes']}")
    if verify and p["crc"] != c["crc"]:
        raise BenchError(f"{mechanism} {size} B: checksum mismatch {p['crc']:#x} != {c['crc']:#x}")
    return Run(seconds=c["t1"] - p["t0"], messages=p["messages"], bytes_sent=p["bytes"],
               bytes_received=c["bytes"], checksum_sent=p["crc"], checksum_received=c["crc"])


def measure_latency(mechanism: str, size: int, *, rounds: int = DEFAULT_ROUNDS,
                    seconds: float = DEFAULT_LATENCY_SECONDS, verify: bool = False,
                    timeout: float | None = None, spin: int | None = None) -> Latency:
    """Round trips (request of `size` bytes, echo of `size` bytes) between two processes."""
    plan = Plan(size=size, rounds=rounds, lat_seconds=seconds, verify=verify,
                min_rounds=min(100, rounds), warmup=min(50, rounds),
                spin=default_spin() if spin is None else spin)
    chan = _channel(mechanism, size, "latency")
    try:
        res = run_pair(
            [("server", chan.setup_rx, lambda: chan.serve(plan)),
             ("client", chan.setup_tx, lambda: chan.client(plan))],
            chan.parent_after_fork, timeout or default_timeout(plan))
    finally:
        chan.close()
    c, s = res["client"], res["server"]
    samples = array("q")
    samples.frombytes(c["samples"])
    if not samples:
        raise BenchError(f"{mechanism} {size} B: no latency samples")
    if s["rounds"] != c["rounds"] + plan.warmup:
        raise BenchError(f"{mechanism} {size} B: server echoed {s['rounds']} of {c['rounds'] + plan.warmup}")
    if verify and c["mismatches"]:
        raise BenchError(f"{mechanism} {size} B: {c['mismatches']} echoes differed from the request")
    us = sorted(v / 1000.0 for v in samples)
    return Latency(rounds=len(us), median_us=median(us), p99_us=percentile(us, 99),
                   min_us=us[0], mismatches=c["mismatches"])


# --------------------------------------------------------------------------- dd reference

_DD_RE = re.compile(r"^(\d+) bytes.*copied, ([0-9.eE+-]+) s", re.M)


def measure_dd(volume: int, timeout: float = 120.0) -> Run:
    """``dd if=/dev/zero bs=64k count=N | dd of=/dev/null bs=64k``; time from the reader's report."""
    dd = shutil.which("dd")
    if dd is None:
        raise Unavailable("n/a (dd not found)")
    count = max(1, -(-volume // DD_BLOCK))
    env = dict(os.environ, LC_ALL="C")
    wrap = []
    setpriv = shutil.which("setpriv")
    if setpriv:  # die with us, as the forked children do (no preexec_fn: unsafe with threads)
        wrap = [setpriv, "--pdeathsig", "KILL", "--"]
    procs: list[subprocess.Popen] = []
    try:
        t0 = time.monotonic()
        w = subprocess.Popen(wrap + [dd, "if=/dev/zero", "bs=64k", f"count={count}"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        procs.append(w)
        r = subprocess.Popen(wrap + [dd, "of=/dev/null", "bs=64k"], stdin=w.stdout, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env)
        procs.append(r)
        assert w.stdout is not None
        w.stdout.close()
        _, r_err = r.communicate(timeout=timeout)
        _, w_err = w.communicate(timeout=max(1.0, timeout - (time.monotonic() - t0)))
        wall = time.monotonic() - t0
        if r.returncode or w.returncode:
            raise BenchError(f"dd failed: {(w_err or r_err).decode(errors='replace').strip()[:200]}")
        m = _DD_RE.search(r_err.decode(errors="replace"))
        nbytes = int(m.group(1)) if m else count * DD_BLOCK
        secs = float(m.group(2)) if m else wall
        if nbytes != count * DD_BLOCK:
            raise BenchError(f"dd moved {nbytes} bytes, expected {count * DD_BLOCK}")
        return Run(seconds=secs, messages=count, bytes_sent=count * DD_BLOCK, bytes_received=nbytes)
    except subprocess.TimeoutExpired:
        raise BenchError("dd | dd timed out") from None
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for f in (p.stdout, p.stderr):
                if f:
                    f.close()


# --------------------------------------------------------------------------- machine info


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _proc_stat_cpu() -> list[int] | None:
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    return [int(x) for x in fields[1:]]


def _own_cpu_seconds() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped children: ours all are
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class CpuMeter:
    """How busy the machine was with *other* work during a run, from /proc/stat.

    other = CPU time of everything but this process and its reaped children; steal = time
    the hypervisor gave our virtual CPUs to someone else. Percent of all CPUs' capacity.
    """

    def __init__(self) -> None:
        self.stat0 = _proc_stat_cpu()
        self.own0 = _own_cpu_seconds()

    def result(self) -> dict[str, float] | None:
        stat1 = _proc_stat_cpu()
        if self.stat0 is None or stat1 is None:
            return None
        d = [b - a for a, b in zip(self.stat0, stat1)]
        d += [0] * (8 - len(d))
        user, nice, system, idle, iowait, irq, softirq, steal = d[:8]
        total = user + nice + system + idle + iowait + irq + softirq + steal
        if total <= 0:
            return None
        hz = os.sysconf("SC_CLK_TCK")
        own = (_own_cpu_seconds() - self.own0) * hz
        busy = user + nice + system + irq + softirq
        return {
            "other_percent": round(max(0.0, busy - own) * 100.0 / total, 1),
            "steal_percent": round(steal * 100.0 / total, 1),
            "own_percent": round(min(own, busy) * 100.0 / total, 1),
        }


def machine_info() -> dict[str, Any]:
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    pipe_capacity = None
    try:
        r, w = os.pipe()
        try:
            pipe_capacity = fcntl.fcntl(w, 1032)  # F_GETPIPE_SZ
        finally:
            os.close(r)
            os.close(w)
    except OSError:
        pass
    try:
        cpus_usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus_usable = os.cpu_count()
    return {
        "system": platform.system(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "cpus_usable": cpus_usable,
        "memory_bytes": mem,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "loadavg": loadavg(),
        "limits": {
            "pipe_capacity": pipe_capacity,
            "pipe_max_size": read_int("/proc/sys/fs/pipe-max-size"),
            "mqueue_msgsize_default": read_int("/proc/sys/fs/mqueue/msgsize_default"),
            "mqueue_msgsize_max": read_int("/proc/sys/fs/mqueue/msgsize_max"),
            "mqueue_msg_default": read_int("/proc/sys/fs/mqueue/msg_default"),
            "mqueue_msg_max": read_int("/proc/sys/fs/mqueue/msg_max"),
            "sysv_msgmax": read_int("/proc/sys/kernel/msgmax"),
            "sysv_msgmnb": read_int("/proc/sys/kernel/msgmnb"),
        },
    }


# --------------------------------------------------------------------------- the whole bench


@dataclass(frozen=True)
class Params:
    mechanisms: tuple[str, ...]
    sizes: tuple[int, ...]
    volume: int | None
    seconds: float | None
    repeats: int
    rounds: int
    latency_seconds: float
    reference: bool
    verify: bool
    shm_spin: int
    shm_ring_bytes: int = SHM_RING_BYTES

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mechanisms"] = list(self.mechanisms)
        d["sizes"] = list(self.sizes)
        return d


def size_label(n: int) -> str:
    for unit, div in (("MiB", MiB), ("KiB", 1024)):
        if n >= div and n % div == 0:
            return f"{n // div} {unit}"
    return f"{n} B"


def run_bench(mechanisms: Iterable[str] | None = None, sizes: Iterable[int] | None = None,
              volume: int | None = None, *, seconds: float | None = None,
              repeats: int = DEFAULT_REPEATS, rounds: int = DEFAULT_ROUNDS,
              latency_seconds: float = DEFAULT_LATENCY_SECONDS, reference: bool = True,
              verify: bool = False, timeout: float | None = None, shm_spin: int | None = None,
              progress: ProgressFn | None = None) -> list[Result]:
    """Measure every mechanism x size; return frozen Results (dd reference last). No printing.

    ``volume`` bytes per throughput repeat, or ``seconds`` per repeat (default 0.25 s when
    neither is given). A size a mechanism cannot carry here gives status "n/a" with the limit
    in ``note``; a failed measurement gives status "error" (the other cells still run).
    """
    mechs, szs, seconds = _checked(mechanisms, sizes, volume, seconds, repeats)
    spin = default_spin() if shm_spin is None else shm_spin

    total = len(mechs) * len(szs) * (repeats + 1) + (repeats if reference else 0)
    done = 0

    def report(what: str, step: bool = False) -> None:
        nonlocal done
        done += step
        if progress:
            progress(done, total, what)

    def fail(cell: _Cell, exc: Exception) -> None:
        nonlocal done
        if isinstance(exc, Unavailable):
            cell.status, cell.note, cell.runs = "n/a", str(exc), []
        else:
            cell.status, cell.note = "error", f"error: {exc}"
        done += repeats + 1 - cell.steps  # the cell's remaining steps count as done
        report(f"{cell.what}: {cell.status}")

    cells = [_Cell(m, z, MECHANISMS[m].label) for m in mechs for z in szs]
    ref = _Reference(volume, seconds, timeout) if reference else None
    report("starting")
    # Repeats go round-robin over all cells (and the dd reference), so a burst of outside
    # load on a shared machine hits every mechanism alike instead of all repeats of one.
    for i in range(repeats):
        for cell in cells:
            if cell.status != "ok":
                continue
            report(f"{cell.what}: throughput {i + 1}/{repeats}")
            try:
                cell.runs.append(measure_throughput(cell.mech, cell.size, volume=volume, seconds=seconds,
                                                    verify=verify, timeout=timeout, spin=spin))
            except (Unavailable, BenchError, OSError) as exc:
                fail(cell, exc)
                continue
            cell.steps += 1
            report(f"{cell.what}: throughput {i + 1}/{repeats}", True)
        if ref is not None and ref.status == "ok":
            report(f"{DD_LABEL}: {i + 1}/{repeats}")
            ref.run_once(cells)
            report(f"{DD_LABEL}: {i + 1}/{repeats}", True)
        elif ref is not None:
            report(f"{DD_LABEL}: {ref.status}", True)
    for cell in cells:
        if cell.status != "ok":
            continue
        report(f"{cell.what}: latency")
        try:
            cell.lat = measure_latency(cell.mech, cell.size, rounds=rounds, seconds=latency_seconds,
                                       verify=verify, timeout=timeout, spin=spin)
        except (Unavailable, BenchError, OSError) as exc:
            fail(cell, exc)
            continue
        cell.steps += 1
        report(f"{cell.what}: latency", True)

    results = [Result(c.mech, c.label, c.size, c.status, c.note, tuple(c.runs), c.lat) for c in cells]
    if ref is not None:
        results.append(ref.result())
    return results


def _checked(mechanisms: Iterable[str] | None, sizes: Iterable[int] | None,
             volume: int | None, seconds: float | None,
             repeats: int) -> tuple[tuple[str, ...], tuple[int, ...], float | None]:
    """run_bench's mechanisms, sizes and seconds, defaults filled in; ValueError if bad."""
    mechs = tuple(mechanisms) if mechanisms is not None else tuple(MECHANISMS)
    szs = tuple(sizes) if sizes is not None else DEFAULT_SIZES
    for m in mechs:
        if m not in MECHANISMS:
            raise ValueError(f"unknown mechanism {m!r} (choose from {', '.join(MECHANISMS)})")
    for s in szs:
        if s < 1:
            raise ValueError(f"bad message size {s}")
    if volume is not None and seconds is not None:
        raise ValueError("give volume or seconds, not both")
    if volume is None and seconds is None:
        seconds = DEFAULT_SECONDS
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    return mechs, szs, seconds


@dataclass
class _Cell:
    """One mechanism x size while run_bench is filling it in."""

    mech: str
    size: int
    label: str
    runs: list[Run] = field(default_factory=list)
    status: str = "ok"
    note: str | None = None
    lat: Latency | None = None
    steps: int = 0  # progress steps done: throughput runs + latency

    @property
    def what(self) -> str:
        return f"{self.label} {size_label(self.size)}"


class _Reference:
    """dd | dd over the same volume: --volume, or what the first 64 KiB pipe run moved."""

    def __init__(self, volume: int | None, seconds: float | None, timeout: float | None) -> None:
        self.volume, self.seconds, self.timeout = volume, seconds, timeout
        self.runs: list[Run] = []
        self.status, self.note = "ok", None

    def _volume(self, cells: list[_Cell]) -> int:
        if self.volume is None:
            pipe = next((c for c in cells if c.mech == "pipe" and c.size == DD_BLOCK and c.runs), None)
            if pipe is not None:
                self.volume = pipe.runs[0].bytes_received
            else:  # calibrate: a short run, then as long as one --seconds run
                probe = measure_dd(16 * MiB, self.timeout or 60.0)
                self.volume = int(probe.bytes_received / probe.seconds * float(self.seconds or DEFAULT_SECONDS))
        return max(DD_BLOCK, self.volume)

    def run_once(self, cells: list[_Cell]) -> None:
        try:
            volume = self._volume(cells)
            self.runs.append(measure_dd(volume, self.timeout or (30.0 + volume / MiB)))
        except Unavailable as exc:
            self.status, self.note, self.runs = "n/a", str(exc), []
        except (BenchError, OSError) as exc:
            self.status, self.note = "error", f"error: {exc}"

    def result(self) -> Result:
        return Result(DD_KEY, DD_LABEL, DD_BLOCK, self.status, self.note, tuple(self.runs))


def bench_document(results: list[Result], params: Params, machine: dict[str, Any] | None = None) -> dict[str, Any]:
    """The --json document: machine, parameters, results, targets."""
    from ipcviz.bench.report import targets  # local: report imports this module

    return {
        "tool": "ipcviz bench",
        "schema": 1,
        "machine": machine if machine is not None else machine_info(),
        "parameters": params.to_dict(),
        "results": [r.to_dict() for r in results],
        "targets": [t.to_dict() for t in targets(results)],
    }


__all__ = [
    "BenchError", "CpuMeter", "Latency", "Params", "Result", "Run", "Unavailable", "bench_document",
    "machine_info", "measure_dd", "measure_latency", "measure_throughput", "run_bench",
]
