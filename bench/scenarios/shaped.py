"""Scenario ``shaped``: the open scenario behind a real line — 100 Mbit/s shared, 40 ms latency.

The stand-in runs in its own subprocess with ``--bandwidth-mbps`` (one token bucket for every picture body,
whatever the connection) on top of the latency, serving the same dataset and workbook as the main one; the
browser opens 1,000 pictures in a fresh child process, as in ``open``. Judged against the byte floor
(``open_grid``), whose bandwidth is the line's.
"""

from __future__ import annotations

from bench.config import Context
from bench.scenarios.open_grid import run_grid
from bench.standin_proc import StandinProcess
from bench.stats import Metric

BANDWIDTH_MBPS = 100.0


def run(ctx: Context) -> dict[str, Metric]:
    return run_shaped(ctx, "shaped", BANDWIDTH_MBPS)


def run_shaped(ctx: Context, scenario: str, mbps: float) -> dict[str, Metric]:
    dataset_dir = ctx.dataset[0].parent
    extra = ["--quota", "10000000", "--bandwidth-mbps", f"{mbps:g}"]
    with StandinProcess(dataset=dataset_dir, pictures=ctx.pictures, latency_ms=ctx.latency_ms, extra=extra,
                        log_dir=ctx.work) as line:
        return run_grid(ctx, scenario, line.base_url, mbps)
