"""Scenarios 3b and 4: scroll 10,000 tiles top to bottom at a steady rate, then back to the top.

In a fresh child process: the browser opens the pictures and the first screen loads; then a 60 Hz driver
moves the scrollbar so that the whole range takes ``scroll_seconds`` (position follows the clock, so a stall
does not slow the scroll down, it makes it jump — as a user's drag would). The 5 ms heartbeat runs from the
first step until the bottom screen has loaded. Every tile that intersects the viewport at a step counts as
viewed. Then the view jumps back to the top and the top screen is waited for.

Memory: ``VmHWM`` (peak RSS) and ``VmRSS`` from /proc/self/status. GETs: counted per picture key around
``Downloader.get`` and ``Downloader.get_range`` in the child; waste = GETs of pictures never on screen;
duplicates = GETs that brought bytes their picture already had (a head and then the rest after it are
not duplicates; after return to the top, every one of those pictures had been loaded before).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.child import emit, run_child
from bench.config import Context
from bench.scenarios import load_refs
from bench.stats import Metric

FRAME_MS = 16


def run(ctx: Context) -> dict[str, Metric]:
    keys = {
        "max_gap_ms": "ms", "p99_gap_ms": "ms", "peak_rss_mb": "MB", "rss_at_bottom_mb": "MB",
        "rss_after_top_mb": "MB", "rss_before_mb": "MB", "thumbnail_cache_mb": "MB",
        "original_bytes_cache_mb": "MB", "head_cache_mb": "MB", "paged_viewed_tiles": "tiles",
        "gets_per_viewed_tile": "GETs/tile",
        "viewed_tiles": "tiles", "gets": "GETs", "gets_per_tile_on_screen": "GETs/tile",
        "wasted_gets": "GETs", "duplicate_gets": "GETs", "duplicate_gets_after_top": "GETs", "scroll_s": "s",
        "range_gets": "GETs", "kb_per_paged_tile": "KB",
    }
    notes = {
        "peak_rss_mb": "VmHWM of the whole process, after bottom and return to top",
        "rss_before_mb": "after QApplication + browser shown, before start()",
        "thumbnail_cache_mb": "decoded thumbnails held by the browser at the bottom",
        "original_bytes_cache_mb": "downloaded originals held by the PictureSession at the bottom",
        "head_cache_mb": "heads of pictures held in memory by the PictureSession at the bottom",
        "paged_viewed_tiles": "tiles seen while paging down at reading pace (each screen loaded)",
        "gets_per_viewed_tile": "image GETs ÷ tiles seen while paging at reading pace (incl. first screen); "
                                "a head and the rest after it are two GETs",
        "range_gets": "GETs with a Range header, whole run: heads, their growth, the rest after a head",
        "kb_per_paged_tile": "bytes over the wire ÷ tiles seen while paging (incl. first screen)",
        "viewed_tiles": "tiles on screen at some step of the whole run (a fast drag skips some lines)",
        "gets_per_tile_on_screen": "image GETs ÷ viewed_tiles, whole run incl. the fast drag",
        "wasted_gets": "GETs of pictures that were never on screen (prefetch beyond what was viewed)",
        "duplicate_gets": "GETs that brought bytes of their picture already fetched, whole run",
        "duplicate_gets_after_top": "of which after jumping back to the top (all loaded before)",
        "scroll_s": "wall time of the drag (target: the range in scroll_seconds)",
    }
    metrics = {k: Metric(k, u, note=notes.get(k, "")) for k, u in keys.items()}
    for i in range(ctx.runs):
        params = {"base_url": ctx.base_url, "token": ctx.token, "file_token": ctx.file_token,
                  "pic_list": str(ctx.pic_list), "pictures": ctx.size.scroll_pics,
                  "scroll_seconds": ctx.size.scroll_seconds, "pages": ctx.size.pages,
                  "timeout": ctx.size.gui_timeout}
        r = run_child(__name__, params, home=ctx.work / f"home-scroll-{i}",
                      timeout=ctx.size.scroll_seconds + 3 * ctx.size.gui_timeout + 60)
        for k in keys:
            metrics[k].add(r[k])
        ctx.note("scroll", f"run {i}: longest stalls (ms, at s after the scroll began): {r['worst_gaps']}")
        if r.get("timeouts"):
            ctx.note("scroll", f"run {i}: gave up waiting for {', '.join(r['timeouts'])}")
    ctx.note("scroll", f"{ctx.size.scroll_pics} tiles: {ctx.size.pages} page-downs at reading pace "
                       "(each screen loaded), then a steady drag to the bottom in "
                       f"{ctx.size.scroll_seconds:g} s (60 Hz steps), then back to the top; "
                       "window 1280×800 offscreen, fresh process per run")
    return metrics


def child(params: dict[str, Any]) -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop, QTimer

    from bench.gui import BrowserRun, pause
    from bench.heartbeat import Heartbeat
    from bench.probes import GetCounter, proc_status_mb, visible_row_span

    counter = GetCounter()
    counter.install()
    run = BrowserRun(params, load_refs(Path(params["pic_list"]), params["pictures"]))
    rss_before = proc_status_mb("VmRSS")
    timeouts: list[str] = []
    run.start()
    if run.wait_screen_done(params["timeout"]) is None:
        timeouts.append("first screen")

    # The grid shows the pictures in workbook order (no sort, no filter): row i is refs[i].
    viewed: set[str] = set()

    def note_visible() -> None:
        viewed.update(run.refs[row].pic_key for row in visible_row_span(run.view))

    note_visible()
    bar = run.view.verticalScrollBar()

    # Reading pace first: page down a few screens, each time until the screen is complete.
    for _ in range(params["pages"]):
        bar.setValue(bar.value() + bar.pageStep())
        if run.wait_screen_done(params["timeout"]) is None:
            timeouts.append("a paged screen")
        pause(0.2)
        note_visible()
    paged_viewed = len(viewed)
    paged_gets = counter.total()
    paged_bytes = sum(counter.bytes_per_key().values())

    # Then a steady drag to the bottom.
    duration = float(params["scroll_seconds"])
    start = bar.value()
    loop = QEventLoop()
    driver = QTimer()
    driver.setInterval(FRAME_MS)
    t_start = time.perf_counter()

    def step() -> None:
        frac = min(1.0, (time.perf_counter() - t_start) / duration)
        bar.setValue(start + round(frac * (bar.maximum() - start)))
        note_visible()
        if frac >= 1.0 and bar.value() >= bar.maximum():
            driver.stop()
            loop.quit()

    driver.timeout.connect(step)
    heartbeat = Heartbeat()
    heartbeat.start()
    driver.start()
    loop.exec()
    scroll_s = time.perf_counter() - t_start
    if run.wait_screen_done(params["timeout"]) is None:
        timeouts.append("bottom screen")
    note_visible()
    heartbeat.stop()
    rss_bottom = proc_status_mb("VmRSS")
    caches = _cache_mb(run.browser)
    top_mark = counter.mark()

    bar.setValue(bar.minimum())
    if run.wait_screen_done(params["timeout"]) is None:
        timeouts.append("top screen again")
    pause(1.0)  # let anything the jump back started finish
    note_visible()
    rss_top = proc_status_mb("VmRSS")
    peak = proc_status_mb("VmHWM")
    gets = counter.total()
    after_top = counter.duplicates(since=top_mark)
    run.close()
    gaps = heartbeat.summary()
    return {
        "max_gap_ms": gaps["max_gap_ms"], "p99_gap_ms": gaps["p99_gap_ms"], "worst_gaps": heartbeat.worst(),
        "peak_rss_mb": peak, "rss_at_bottom_mb": rss_bottom, "rss_after_top_mb": rss_top,
        "rss_before_mb": rss_before, "viewed_tiles": len(viewed), "gets": gets,
        "gets_per_viewed_tile": paged_gets / max(1, paged_viewed),
        "gets_per_tile_on_screen": gets / max(1, len(viewed)), "paged_viewed_tiles": paged_viewed,
        "wasted_gets": sum(n for k, n in counter.per_key.items() if k not in viewed),
        "duplicate_gets": counter.duplicates(), "duplicate_gets_after_top": after_top,
        "scroll_s": scroll_s, "timeouts": timeouts, "range_gets": counter.ranged(),
        "kb_per_paged_tile": paged_bytes / 1e3 / max(1, paged_viewed), **caches,
    }


def _cache_mb(browser: Any) -> dict[str, float]:
    """What the two in-memory caches hold (diagnostics only: reads private attributes, so tolerant)."""
    thumbs = getattr(browser, "_thumbs", None)
    session = browser.session()
    originals = getattr(session, "_memory", None)
    heads = getattr(session, "_heads", None)
    return {"thumbnail_cache_mb": getattr(thumbs, "total_bytes", 0) / 1e6,
            "original_bytes_cache_mb": getattr(originals, "total_bytes", 0) / 1e6,
            "head_cache_mb": getattr(heads, "total_bytes", 0) / 1e6}


if __name__ == "__main__":
    emit(child(json.loads(sys.argv[1])))
