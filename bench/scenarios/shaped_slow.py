"""Scenario ``shaped_slow``: ``shaped`` on a 20 Mbit/s line (office Wi-Fi), 40 ms latency."""

from __future__ import annotations

from bench.config import Context
from bench.scenarios.shaped import run_shaped
from bench.stats import Metric

BANDWIDTH_MBPS = 20.0


def run(ctx: Context) -> dict[str, Metric]:
    return run_shaped(ctx, "shaped_slow", BANDWIDTH_MBPS)
