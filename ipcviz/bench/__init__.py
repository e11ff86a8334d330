"""``ipcviz bench``: measured throughput and latency of Unix IPC between two real processes.

Public API:
- :func:`run_bench` (mechanisms, sizes, volume, progress=...) -> list[:class:`Result`]
- :func:`ipcviz.bench.cli.main` (argv) -> exit code
The measuring code never imports rich or textual and never prints.
"""

from ipcviz.bench.mechanisms import MECHANISMS, Unavailable
from ipcviz.bench.procs import BenchError
from ipcviz.bench.runner import (
    Latency, Params, Result, Run, bench_document, machine_info, measure_dd, measure_latency,
    measure_throughput, run_bench,
)

__all__ = [
    "MECHANISMS", "BenchError", "Latency", "Params", "Result", "Run", "Unavailable", "bench_document",
    "machine_info", "measure_dd", "measure_latency", "measure_throughput", "run_bench",
]
