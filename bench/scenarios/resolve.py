"""Scenario 1a: resolve the URLs of 10,000 pictures.

Floor: the API calls made × the latency ÷ the calls the client keeps in flight (rounded up to whole waves
of calls: 3 calls with 4 in flight still take one latency) — what a client with zero overhead would need
for the same number of calls.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.config import Context
from bench.scenarios import default_concurrency, load_refs
from bench.stats import Metric
from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.contract import MAX_PICS_PER_CALL, PICTURE_URLS_PATH, TOKEN_PARAM
from kdocs_viewer.core.models import Lease, PicRef


def _raw_resolve(ctx: Context, refs: list[PicRef], concurrency: int) -> float:
    """The same batches POSTed by plain httpx threads that only read the bytes: what the stand-in and the
    loopback can do at this concurrency, whatever the client does with the answers."""
    url = ctx.base_url + PICTURE_URLS_PATH.format(file_token=ctx.file_token)
    batches = [refs[i:i + MAX_PICS_PER_CALL] for i in range(0, len(refs), MAX_PICS_PER_CALL)]
    with httpx.Client(limits=httpx.Limits(max_connections=concurrency)) as http:
        def post(batch: list[PicRef]) -> int:
            body = {"pics": [{"pic_key": r.pic_key, "tag": r.tag} for r in batch]}
            return len(http.post(url, params={TOKEN_PARAM: ctx.token}, json=body).content)

        with ThreadPoolExecutor(concurrency) as pool:
            t0 = time.perf_counter()
            list(pool.map(post, batches))
            return time.perf_counter() - t0


def run(ctx: Context) -> dict[str, Metric]:
    refs = load_refs(ctx.pic_list, ctx.size.resolve_pics)
    concurrency = default_concurrency()
    wall = Metric("wall_s", "s", floor_name="calls × latency ÷ concurrency")
    calls = Metric("api_calls", "calls")
    raw = Metric("raw_http_s", "s", note="same batches, plain httpx threads, no parsing: the stand-in's own "
                                         "limit at this concurrency")
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
        raw.add(_raw_resolve(ctx, refs, concurrency))
    ctx.note("resolve", f"{len(refs)} pictures, client default concurrency {concurrency}, "
                        f"latency {ctx.latency_ms:.0f} ms per call")
    return {"wall_s": wall, "api_calls": calls, "raw_http_s": raw}
