"""Scenarios 2 and 3a: open 1,000 pictures in the real PictureBrowser, with a 5 ms heartbeat running.

Measured from ``browser.start(...)`` in a fresh child process (offscreen Qt, window 1280×800):
- ``first_tile_s``: the first on-screen tile shows its thumbnail;
- ``first_screen_s``: every tile *fully* inside the viewport shows its thumbnail (or its final error);
- ``all_visible_s``: every tile that intersects the viewport (the partly visible row too) is done.
Floor, measured in the same child right after: one resolve round trip (a fresh client resolving the
first screenful, ≤ 100 pictures = one call) + the slowest single picture of that screenful fetched with one
GET and decoded at tile size with the grid's own ``decode_image``. With unlimited parallelism and zero
overhead the screen could not be complete sooner.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.child import emit, run_child
from bench.config import Context
from bench.scenarios import load_refs
from bench.stats import Metric


def run(ctx: Context) -> dict[str, Metric]:
    floor_name = "resolve RTT + slowest GET + decode"
    metrics = {
        "first_tile_s": Metric("first_tile_s", "s", floor_name=floor_name),
        "first_screen_s": Metric("first_screen_s", "s", floor_name=floor_name),
        "all_visible_s": Metric("all_visible_s", "s", floor_name=floor_name),
        "max_gap_ms": Metric("max_gap_ms", "ms"),
        "p99_gap_ms": Metric("p99_gap_ms", "ms"),
        "visible_tiles": Metric("visible_tiles", "tiles"),
        "gets_until_done": Metric("gets_until_done", "GETs", note="image GETs until all visible were done"),
        "floor_resolve_s": Metric("floor_resolve_s", "s"),
        "floor_get_s": Metric("floor_get_s", "s", note="GET of the slowest picture of the screenful"),
        "floor_decode_s": Metric("floor_decode_s", "s", note="decode of that picture at tile size"),
        "decode_cpu_per_core_s": Metric("decode_cpu_per_core_s", "s",
                                        note="decoding every picture of the screenful once ÷ CPU cores: "
                                             "a CPU-bound floor the issue's floor ignores"),
    }
    for i in range(ctx.runs):
        r = run_child(__name__, _params(ctx), home=ctx.work / f"home-open-{i}",
                      timeout=ctx.size.gui_timeout + 60)
        for key in ("first_tile_s", "first_screen_s", "all_visible_s"):
            if r[key] is None:
                raise RuntimeError(f"open: {key} not reached within {ctx.size.gui_timeout} s")
            metrics[key].add(r[key], r["floor_s"])
        for key in ("max_gap_ms", "p99_gap_ms", "visible_tiles", "gets_until_done",
                    "floor_resolve_s", "floor_get_s", "floor_decode_s", "decode_cpu_per_core_s"):
            metrics[key].add(r[key])
        ctx.note("open", f"run {i}: tile box {r['tile_box']} px, {r['visible_tiles']} tiles on screen "
                         f"({r['fully_visible']} fully); longest stalls (ms, at s): {r['worst_gaps']}")
    ctx.note("open", f"{ctx.size.open_pics} pictures, window 1280×800 offscreen, fresh process per run")
    return metrics


def _params(ctx: Context) -> dict[str, Any]:
    return {"base_url": ctx.base_url, "token": ctx.token, "file_token": ctx.file_token,
            "pic_list": str(ctx.pic_list), "pictures": ctx.size.open_pics, "timeout": ctx.size.gui_timeout}


def child(params: dict[str, Any]) -> dict[str, Any]:
    from bench.gui import BrowserRun, pause, wait_for_model, wait_until
    from bench.heartbeat import Heartbeat
    from bench.probes import GetCounter, has_thumbnail, is_done, visible_indexes
    from kdocs_viewer.gui.picture_model import ItemRole, RefRole

    counter = GetCounter()
    counter.install()
    run = BrowserRun(params, load_refs(Path(params["pic_list"]), params["pictures"]))
    marks: dict[str, float] = {}
    screen: dict[str, list[Any]] = {}

    def laid_out() -> bool:
        """The first screenful, found once as soon as the tiles are laid out (nobody scrolls here)."""
        shown = visible_indexes(run.view, fully=False)
        if shown:
            inside = run.view.viewport().rect()
            screen["shown"] = shown
            screen["full"] = [i for i in shown if inside.contains(run.view.visualRect(i))]
        return bool(shown)

    def check() -> bool:
        now = time.perf_counter()
        shown, full = screen["shown"], screen["full"]
        if "first_tile" not in marks and any(has_thumbnail(i) for i in shown):
            marks["first_tile"] = now
        if "first_screen" not in marks and full and all(is_done(i) for i in full):
            marks["first_screen"] = now
        if "all_visible" not in marks and all(is_done(i) for i in shown):
            marks["all_visible"] = now
        return len(marks) == 3

    heartbeat = Heartbeat()
    heartbeat.start()
    t0 = time.perf_counter()
    run.start()
    if wait_until(laid_out, params["timeout"]) is None:
        raise RuntimeError("no tiles were laid out")
    wait_for_model(run.view.model(), check, max(0.0, params["timeout"] - (time.perf_counter() - t0)))
    gets_until_done = counter.total()
    pause(0.3)  # what happens right after the screen is complete counts too
    heartbeat.stop()

    shown, full = screen["shown"], screen["full"]
    screen_refs = [i.data(RefRole) for i in full]
    box = max((i.data(ItemRole).thumb_bucket for i in shown), default=0) or 256
    run.close()
    floor = _floor(params, screen_refs, box)
    gaps = heartbeat.summary()
    return {
        **{f"{k}_s": (marks[k] - t0 if k in marks else None)
           for k in ("first_tile", "first_screen", "all_visible")},
        "max_gap_ms": gaps["max_gap_ms"], "p99_gap_ms": gaps["p99_gap_ms"], "worst_gaps": heartbeat.worst(),
        "visible_tiles": len(shown), "fully_visible": len(full), "tile_box": box,
        "gets_until_done": gets_until_done, **floor,
    }


def _floor(params: dict[str, Any], refs: list[Any], box: int) -> dict[str, float]:
    """One resolve round trip + the slowest (GET + decode at ``box``) among ``refs``, all sequential."""
    from kdocs_viewer.core.api import KDocsClient
    from kdocs_viewer.core.download import Downloader
    from kdocs_viewer.core.models import Lease
    from kdocs_viewer.gui.thumbnails import decode_image

    with KDocsClient(params["token"], params["base_url"]) as client:
        t0 = time.perf_counter()
        outcomes = client.resolve(params["file_token"], refs)
        resolve_s = time.perf_counter() - t0
    worst = (0.0, 0.0)
    decode_total = 0.0
    with Downloader() as downloader:
        for lease in outcomes:
            if not isinstance(lease, Lease):
                continue
            t0 = time.perf_counter()
            data = downloader.get(lease.url)
            t1 = time.perf_counter()
            decode_image(data, box)
            t2 = time.perf_counter()
            decode_total += t2 - t1
            if t2 - t0 > sum(worst):
                worst = (t1 - t0, t2 - t1)
    return {"floor_resolve_s": resolve_s, "floor_get_s": worst[0], "floor_decode_s": worst[1],
            "floor_s": resolve_s + sum(worst), "decode_cpu_per_core_s": decode_total / (os.cpu_count() or 1)}


if __name__ == "__main__":
    emit(child(json.loads(sys.argv[1])))
