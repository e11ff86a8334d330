"""Render bench results: the text table, the targets, the JSON document. No rich/textual."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from ipcviz.bench.runner import DD_BLOCK, DD_KEY, Params, Result, size_label


@dataclass(frozen=True)
class Target:
    key: str
    text: str  # what the issue asks for
    required: float  # ratio that must be reached
    measured: float | None  # ratio measured, None when a side was not measured
    met: bool | None  # None: not measured in this run
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "text": self.text, "required": self.required,
                "measured": None if self.measured is None else round(self.measured, 3),
                "met": self.met, "detail": self.detail}


def _tp(results: list[Result], mechanism: str, size: int) -> float | None:
    for r in results:
        if r.mechanism == mechanism and r.size == size and r.available:
            return r.throughput_mib_s
    return None


def targets(results: list[Result]) -> list[Target]:
    """The issue's two targets, checked against this run's numbers."""
    pipe, dd, shm = _tp(results, "pipe", 65536), _tp(results, DD_KEY, DD_BLOCK), _tp(results, "shm", 65536)
    out = []
    if pipe and dd:
        ratio = pipe / dd
        out.append(Target("pipe_vs_dd", "pipe at 64 KiB >= 80% of dd | dd", 0.8, ratio, ratio >= 0.8,
                          f"{ratio:.0%} ({pipe:.0f} vs {dd:.0f} MiB/s)"))
    else:
        out.append(Target("pipe_vs_dd", "pipe at 64 KiB >= 80% of dd | dd", 0.8, None, None,
                          "not measured (needs pipe at 65536 and the dd reference)"))
    if shm and pipe:
        ratio = shm / pipe
        out.append(Target("shm_vs_pipe", "shm at 64 KiB >= 5x pipe", 5.0, ratio, ratio >= 5.0,
                          f"{ratio:.1f}x ({shm:.0f} vs {pipe:.0f} MiB/s)"))
    else:
        out.append(Target("shm_vs_pipe", "shm at 64 KiB >= 5x pipe", 5.0, None, None,
                          "not measured (needs shm and pipe at 65536)"))
    return out


def human_bytes(n: int) -> str:
    x = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if x < 1024 or unit == "TiB":
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1024
    return f"{n} B"  # pragma: no cover


def _num(x: float | None, nd: int = 1) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def format_table(results: list[Result], params: Params | None = None,
                 machine: dict[str, Any] | None = None) -> str:
    lines = []
    if machine:
        lines.append(f"ipcviz bench: {machine.get('system')} {machine.get('kernel')} {machine.get('arch')}, "
                     f"{machine.get('cpu') or 'unknown CPU'}, {machine.get('cpus_usable')} CPUs, "
                     f"Python {machine.get('python')}")
        if machine.get("loadavg"):
            end = f", {machine['loadavg_end']} at the end" if machine.get("loadavg_end") else ""
            lines.append(f"load average {machine['loadavg']} at the start{end}")
        during = machine.get("cpu_during_run")
        if during:
            lines.append(f"during the run: other processes used {during['other_percent']}% of the CPUs, "
                         f"hypervisor steal {during['steal_percent']}% (other work skews the numbers)")
    if params:
        per = (f"{human_bytes(params.volume)} each" if params.volume is not None
               else f"{params.seconds:g} s each")
        lines.append(f"throughput: median of {params.repeats} runs, {per}; latency: round trip of one "
                     f"message each way, up to {params.rounds} (or {params.latency_seconds:g} s); "
                     f"shm spin {params.shm_spin}")
    lines.append("")
    us = "µs" if _can_encode("µ") else "us"
    head = ("mechanism", "size", "MiB/s", f"lat p50 {us}", f"lat p99 {us}", "messages", "bytes")
    rows = []
    for r in results:
        if r.status == "ok":
            rows.append((r.label, size_label(r.size), _num(r.throughput_mib_s), _num(r.latency_median_us),
                         _num(r.latency_p99_us), f"{r.messages:,}", human_bytes(r.bytes)))
        else:
            rows.append((r.label, size_label(r.size), r.note or r.status))
    widths = [max(len(head[i]), *(len(row[i]) for row in rows if len(row) == len(head))) for i in range(len(head))]
    right = {2, 3, 4, 5, 6}

    def fmt(row: tuple[str, ...]) -> str:
        if len(row) < len(head):  # an n/a or error row: the note spans the numeric columns
            return f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]}"
        return "  ".join(c.rjust(widths[i]) if i in right or i == 1 else c.ljust(widths[i])
                         for i, c in enumerate(row)).rstrip()

    lines.append(fmt(head))
    lines.append("  ".join("-" * w for w in widths))
    lines += [fmt(row) for row in rows]
    lines.append("")
    lines.append("targets:")
    for t in targets(results):
        verdict = {True: " -- met", False: " -- NOT met", None: ""}[t.met]
        lines.append(f"  {t.text}: {t.detail}{verdict}")
    return "\n".join(lines)


def _can_encode(text: str) -> bool:
    try:
        text.encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2)
