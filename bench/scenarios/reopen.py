"""Scenario ``reopen`` (issue 11): a second process opens the same workbook with the thumbnail cache warm.

Each run has its own private home (XDG folders). A first child opens the 1,000-picture workbook, waits
until the first screen is shown and the loader is idle (every tile it decoded is stored on disk), and exits.
Then the user starts the viewer again: a fresh child opens the same workbook in the same home, measured:

- ``first_screen_s``: from the parent starting that child process to every tile fully inside the viewport
  showing its thumbnail (``time.monotonic()`` is CLOCK_MONOTONIC, one clock for all processes, as in
  ``startup``). Floor: the start-up scenario's figure — ``kdocs-viewer`` launched to its first painted
  window (``bench.startup_probe``) — measured in the same run, right before;
- ``image_gets``: image GETs (``Downloader.get``) until then — a cached tile must cost none;
- ``from_start_s``: from ``browser.start()`` to that moment (the part after the window exists);
- ``leases_at_first_screen``: visible tiles that had a link by then: 0 means the screen was painted from
  the disk cache before any resolve answer arrived (the links resolve in the background, for the badges).
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
from bench.scenarios.startup import app_first_paint
from bench.stats import Metric


def run(ctx: Context) -> dict[str, Metric]:
    metrics = {
        "first_screen_s": Metric("first_screen_s", "s", floor_name="start-up first paint, same run"),
        "image_gets": Metric("image_gets", "GETs", note="image GETs until the first screen was complete"),
        "from_start_s": Metric("from_start_s", "s", note="browser.start() to the first screen"),
        "leases_at_first_screen": Metric("leases_at_first_screen", "tiles",
                                         note="visible tiles whose link had been resolved by then"),
        "tiles_stored_mb": Metric("tiles_stored_mb", "MB", note="the thumbnail cache after the first visit"),
    }
    timeout = ctx.size.gui_timeout + 60
    params = _params(ctx)
    for i in range(ctx.runs):
        home = ctx.work / f"home-reopen-{i}"
        warm = run_child(__name__, {**params, "mode": "warm"}, home=home, timeout=timeout, bytecode=True)
        floor = app_first_paint(ctx, f"home-reopen-startup-{i}")
        t0 = time.monotonic()
        r = run_child(__name__, {**params, "mode": "reopen"}, home=home, timeout=timeout)
        if r["first_screen_at"] is None:
            raise RuntimeError(f"reopen: the first screen was not complete within {ctx.size.gui_timeout} s")
        metrics["first_screen_s"].add(r["first_screen_at"] - t0, floor)
        metrics["image_gets"].add(r["image_gets"])
        metrics["from_start_s"].add(r["from_start_s"])
        metrics["leases_at_first_screen"].add(r["leases_at_first_screen"])
        metrics["tiles_stored_mb"].add(warm["stored_bytes"] / 1e6)
        ctx.note("reopen", f"run {i}: {r['fully_visible']} tiles fully on screen, {warm['stored']} tiles "
                           f"stored by the first visit, {r['disk_hits']} read back from disk; "
                           f"app first paint {floor:.3f} s")
    ctx.note("reopen", f"{ctx.size.open_pics} pictures, window 1280×800 offscreen; first visit and reopen "
                       "are two fresh processes sharing one private cache folder")
    return metrics


def _params(ctx: Context) -> dict[str, Any]:
    """The reopened workbook's pictures in a list of their own: the child parses (timed) the 1,000 it opens,
    as the app would, not the 10,000 of the bench's whole workbook."""
    from kdocs_viewer.core.piclist import dump_pic_list

    pic_list = ctx.work / "pictures-reopen.json"
    if not pic_list.exists():
        pic_list.write_text(dump_pic_list(load_refs(ctx.pic_list, ctx.size.open_pics)), encoding="utf-8")
    return {"base_url": ctx.base_url, "token": ctx.token, "file_token": ctx.file_token,
            "pic_list": str(pic_list), "pictures": ctx.size.open_pics, "timeout": ctx.size.gui_timeout}


def child(params: dict[str, Any]) -> dict[str, Any]:
    from bench.gui import BrowserRun, wait_for_model, wait_until
    from bench.probes import GetCounter, is_done, visible_indexes
    from kdocs_viewer.core.thumb_cache import SUFFIX
    from kdocs_viewer.gui.picture_model import ItemRole

    refs = load_refs(Path(params["pic_list"]), params["pictures"])
    run = BrowserRun(params, refs, idle=False)  # reopened at launch: the window has just been painted
    counter = GetCounter()
    counter.install()
    t_start = time.monotonic()
    run.start()
    if wait_until(lambda: bool(visible_indexes(run.view, fully=False)), params["timeout"]) is None:
        raise RuntimeError("no tiles were laid out")
    full = visible_indexes(run.view, fully=True)
    done = wait_for_model(run.view.model(), lambda: all(is_done(i) for i in full), params["timeout"])
    done_at = time.monotonic() if done is not None else None
    gets = counter.total()
    leases = sum(1 for i in full if i.data(ItemRole).lease is not None)
    from kdocs_viewer.gui.thumbnails import ThumbnailLoader

    loader = run.browser.findChild(ThumbnailLoader)  # the session's loader: a child of the browser
    assert loader is not None
    if params["mode"] == "warm":  # every decoded tile stored before this process ends
        wait_until(loader.is_idle, params["timeout"])
        folder = run.browser.thumbnail_cache().directory
        sizes = [p.stat().st_size for p in folder.iterdir() if p.name.endswith(SUFFIX)]
        run.close()
        return {"stored": len(sizes), "stored_bytes": sum(sizes)}
    hits = loader.disk_hits
    run.close()
    return {"first_screen_at": done_at, "from_start_s": (done_at - t_start) if done_at else None,
            "image_gets": gets, "leases_at_first_screen": leases, "fully_visible": len(full),
            "disk_hits": hits}


if __name__ == "__main__":
    emit(child(json.loads(sys.argv[1])))
