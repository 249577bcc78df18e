"""Scenarios 2 and 3a, and the shaped lines: open 1,000 pictures in the real PictureBrowser, with a 5 ms
heartbeat running.

Measured from ``browser.start(...)`` in a fresh child process (offscreen Qt, window 1280×800):
- ``first_tile_s``: the first on-screen tile shows its thumbnail;
- ``first_screen_s``: every tile *fully* inside the viewport shows its thumbnail (or its final error);
- ``all_visible_s``: every tile that intersects the viewport (the partly visible row too) is done;
- ``kb_per_tile``: bytes over the wire (response bodies) per fully visible phone photo's tile until the
  screen was done, median; ``kb_per_tile_all`` the same for every fully visible tile, mean.

The floor is the **byte floor**, measured in the same child right after: one resolve round trip (a fresh
client resolving the first screenful, ≤ 100 pictures = one call) + one GET round trip (a one-byte Range
GET) + the fewest bytes that can make every fully visible tile (``bench.dataset.min_tile_bytes``: the end
of a photo's EXIF segment when its thumbnail covers the tile, else the whole file) ÷ the line's bandwidth
+ one decode (the slowest tile of the screenful, decoded by the grid's own ``decode_image``). On a shaped
line the bandwidth is the line's; on loopback it is what one plain GET of the screenful's biggest file
achieves past its round trip. With unlimited parallelism and zero overhead the screen could not be
complete sooner.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.child import emit, run_child
from bench.config import Context
from bench.scenarios import load_refs
from bench.stats import Metric


def run(ctx: Context) -> dict[str, Metric]:
    return run_grid(ctx, "open", ctx.base_url, None)


def run_grid(ctx: Context, scenario: str, base_url: str, bandwidth_mbps: float | None) -> dict[str, Metric]:
    """The grid-opening measurement against the stand-in at ``base_url`` (loopback, or a shaped line)."""
    floor_name = "byte floor: resolve RTT + GET RTT + fewest bytes ÷ bandwidth + decode"
    metrics = {
        "first_tile_s": Metric("first_tile_s", "s", floor_name=floor_name),
        "first_screen_s": Metric("first_screen_s", "s", floor_name=floor_name),
        "all_visible_s": Metric("all_visible_s", "s", floor_name=floor_name),
        "kb_per_tile": Metric("kb_per_tile", "KB", note="bytes over the wire per fully visible phone photo's "
                                                        "tile until the screen was done, median"),
        "kb_per_tile_all": Metric("kb_per_tile_all", "KB",
                                  note="the same for every fully visible tile, mean"),
        "max_gap_ms": Metric("max_gap_ms", "ms"),
        "p99_gap_ms": Metric("p99_gap_ms", "ms"),
        "visible_tiles": Metric("visible_tiles", "tiles"),
        "gets_until_done": Metric("gets_until_done", "GETs", note="image GETs until all visible were done"),
        "floor_resolve_s": Metric("floor_resolve_s", "s"),
        "floor_rtt_s": Metric("floor_rtt_s", "s", note="a one-byte Range GET"),
        "floor_kb": Metric("floor_kb", "KB", note="the fewest bytes that make every fully visible tile"),
        "floor_bandwidth_mb_s": Metric("floor_bandwidth_mb_s", "MB/s"),
        "floor_transfer_s": Metric("floor_transfer_s", "s", note="floor_kb ÷ bandwidth"),
        "floor_decode_s": Metric("floor_decode_s", "s", note="decode of the slowest tile of the screenful"),
        "decode_cpu_per_core_s": Metric("decode_cpu_per_core_s", "s",
                                        note="decoding every picture of the screenful once ÷ CPU cores: "
                                             "a CPU-bound floor the byte floor ignores"),
    }
    for i in range(ctx.runs):
        r = run_child(__name__, _params(ctx, base_url, bandwidth_mbps),
                      home=ctx.work / f"home-{scenario}-{i}", timeout=ctx.size.gui_timeout + 60)
        for key in ("first_tile_s", "first_screen_s", "all_visible_s"):
            if r[key] is None:
                raise RuntimeError(f"{scenario}: {key} not reached within {ctx.size.gui_timeout} s")
            metrics[key].add(r[key], r["floor_s"])
        for key in metrics:
            if key not in ("first_tile_s", "first_screen_s", "all_visible_s") and r.get(key) is not None:
                metrics[key].add(r[key])
        ctx.note(scenario, f"run {i}: tile box {r['tile_box']} px, {r['visible_tiles']} tiles on screen "
                           f"({r['fully_visible']} fully, {r['photo_tiles']} phone photos), "
                           f"{r['mb_until_done']:.2f} MB over the wire until done; "
                           f"longest stalls (ms, at s): {r['worst_gaps']}")
    line = "loopback" if bandwidth_mbps is None else f"a {bandwidth_mbps:g} Mbit/s line"
    ctx.note(scenario, f"{ctx.size.open_pics} pictures, {line}, {ctx.latency_ms:g} ms latency, "
                       "window 1280×800 offscreen, fresh process per run")
    return {k: m for k, m in metrics.items() if m.samples}


def _params(ctx: Context, base_url: str, bandwidth_mbps: float | None) -> dict[str, Any]:
    files = [str(f) for f in sorted(ctx.dataset, key=lambda f: f.name)]  # the stand-in's order
    return {"base_url": base_url, "token": ctx.token, "file_token": ctx.file_token,
            "pic_list": str(ctx.pic_list), "pictures": ctx.size.open_pics, "timeout": ctx.size.gui_timeout,
            "files": files, "bandwidth_mbps": bandwidth_mbps}


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
    bytes_until_done = counter.bytes_per_key()
    pause(0.3)  # what happens right after the screen is complete counts too
    heartbeat.stop()

    shown, full = screen["shown"], screen["full"]
    screen_refs = [i.data(RefRole) for i in full]
    # The grid shows the workbook in order (no sort, no filter), and the stand-in serves the dataset's
    # files in name order, cycling: row r shows file r mod n.
    files = [Path(f) for f in params["files"]]
    screen_files = [files[i.row() % len(files)] for i in full]
    box = max((i.data(ItemRole).thumb_bucket for i in shown), default=0) or 256
    box = max(1, round(box * run.view.devicePixelRatioF()))
    sent = [bytes_until_done.get(ref.pic_key, 0) for ref in screen_refs]
    photos = [n for n, f in zip(sent, screen_files, strict=True) if f.name.startswith("photo")]
    run.close()
    floor = _byte_floor(params, screen_refs, screen_files, box)
    gaps = heartbeat.summary()
    return {
        **{f"{k}_s": (marks[k] - t0 if k in marks else None)
           for k in ("first_tile", "first_screen", "all_visible")},
        "max_gap_ms": gaps["max_gap_ms"], "p99_gap_ms": gaps["p99_gap_ms"], "worst_gaps": heartbeat.worst(),
        "visible_tiles": len(shown), "fully_visible": len(full), "tile_box": box,
        "gets_until_done": gets_until_done, "photo_tiles": len(photos),
        "kb_per_tile": statistics.median(photos) / 1e3 if photos else None,
        "kb_per_tile_all": sum(sent) / 1e3 / max(1, len(sent)),
        "mb_until_done": sum(bytes_until_done.values()) / 1e6, **floor,
    }


def _byte_floor(params: dict[str, Any], refs: list[Any], files: list[Path], box: int) -> dict[str, float]:
    """Resolve RTT + GET RTT + the screenful's fewest bytes ÷ bandwidth + the slowest tile's decode."""
    from bench.dataset import min_tile_bytes
    from kdocs_viewer.core.api import KDocsClient
    from kdocs_viewer.core.download import Downloader
    from kdocs_viewer.core.models import Lease
    from kdocs_viewer.gui.decode import decode_image

    with KDocsClient(params["token"], params["base_url"]) as client:
        t0 = time.perf_counter()
        outcomes = client.resolve(params["file_token"], refs)
        resolve_s = time.perf_counter() - t0
    urls = {o.ref.pic_key: o.url for o in outcomes if isinstance(o, Lease)}
    url_of_file = {f: urls[r.pic_key] for r, f in zip(refs, files, strict=True) if r.pic_key in urls}
    with Downloader() as downloader:
        rtts = []
        some_url = next(iter(urls.values()))
        for _ in range(3):  # the first one also opens the connection
            t0 = time.perf_counter()
            downloader.get_range(some_url, 0, 0)
            rtts.append(time.perf_counter() - t0)
        rtt_s = min(rtts)
        if params["bandwidth_mbps"] is not None:
            bandwidth = params["bandwidth_mbps"] * 1e6 / 8
        else:  # loopback: what one plain GET of the biggest file achieves past its round trip
            biggest = max(url_of_file, key=lambda f: f.stat().st_size)
            t0 = time.perf_counter()
            got = len(downloader.get(url_of_file[biggest]))
            bandwidth = got / max(1e-6, time.perf_counter() - t0 - rtt_s)
    fewest = sum(min_tile_bytes(f, box) for f in files)
    decode_of: dict[Path, float] = {}
    for f in dict.fromkeys(files):  # each file once; copies decode alike
        data = f.read_bytes()
        t0 = time.perf_counter()
        decode_image(data, box)
        decode_of[f] = time.perf_counter() - t0
    decode_s = max(decode_of.values())
    transfer_s = fewest / bandwidth
    return {"floor_resolve_s": resolve_s, "floor_rtt_s": rtt_s, "floor_kb": fewest / 1e3,
            "floor_bandwidth_mb_s": bandwidth / 1e6, "floor_transfer_s": transfer_s,
            "floor_decode_s": decode_s,
            "floor_s": resolve_s + rtt_s + transfer_s + decode_s,
            "decode_cpu_per_core_s": sum(decode_of[f] for f in files) / (os.cpu_count() or 1)}


if __name__ == "__main__":
    emit(child(json.loads(sys.argv[1])))
