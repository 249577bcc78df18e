"""Scenario ``busy``: ``open`` while other programs keep every core busy — one busy loop per core at normal
priority, as a build, a virus scan or a video call would.

Decoders at SCHED_IDLE starved here: 26–31 s to fill the first screen, and GUI stalls of 1.4–3.3 s while
the GUI thread waited for the GIL a starved decoder held (``gui.worker_pool.BACKGROUND_NICE``). Judged
in seconds, not against the byte floor: the floor's own decode and round trips are slowed by the hogs too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from bench.config import Context
from bench.scenarios.open_grid import run_grid
from bench.stats import Metric

_HOG = "while True: pass"


@contextmanager
def cpu_hogs(count: int) -> Iterator[None]:
    """``count`` processes that spin at normal priority until the block ends."""
    hogs = [subprocess.Popen([sys.executable, "-c", _HOG]) for _ in range(count)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()


def run(ctx: Context) -> dict[str, Metric]:
    cores = os.cpu_count() or 1
    with cpu_hogs(cores):
        metrics = run_grid(ctx, "busy", ctx.base_url, None)
    ctx.note("busy", f"{cores} busy loops at normal priority, one per core, for the whole scenario")
    return metrics
