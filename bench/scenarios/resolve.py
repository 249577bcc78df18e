"""Scenario 1a: resolve the URLs of 10,000 pictures.

Floor: the API calls made × the latency ÷ the calls the client keeps in flight (rounded up to whole waves
of calls: 3 calls with 4 in flight still take one latency) — what a client with zero overhead would need
for the same number of calls.
"""

from __future__ import annotations

import math
import time

from bench.config import Context
from bench.scenarios import default_concurrency, load_refs
from bench.stats import Metric
from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.models import Lease


def run(ctx: Context) -> dict[str, Metric]:
    refs = load_refs(ctx.pic_list, ctx.size.resolve_pics)
    concurrency = default_concurrency()
    wall = Metric("wall_s", "s", floor_name="calls × latency ÷ concurrency")
    calls = Metric("api_calls", "calls")
    for _ in range(ctx.runs):
        with KDocsClient(ctx.token, ctx.base_url) as client:
            t0 = time.perf_counter()
            outcomes = client.resolve(ctx.file_token, refs)
            elapsed = time.perf_counter() - t0
            made = client.calls_made
        leases = sum(isinstance(o, Lease) for o in outcomes)
        if leases != len(refs):
            raise RuntimeError(f"resolve gave {leases} leases for {len(refs)} pictures")
        wall.add(elapsed, math.ceil(made / concurrency) * ctx.latency_ms / 1000.0)
        calls.add(made)
    ctx.note("resolve", f"{len(refs)} pictures, client default concurrency {concurrency}, "
                        f"latency {ctx.latency_ms:.0f} ms per call")
    return {"wall_s": wall, "api_calls": calls}
