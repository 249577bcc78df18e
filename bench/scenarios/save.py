"""Scenario 5: save 500 selected pictures with the core save path, against curl on the same URLs.

Each run: one fresh ``PictureSession``, configured like the GUI's (``gui_session``), resolves the pictures
(not timed: curl gets the same fresh URLs); curl fetches them with 8 parallel transfers (the floor);
``save_batch`` over ``session.fetch_for_save`` with ``on_saved=session.keep_saved`` and the GUI's number of
workers — exactly what the main window's Save runs — saves them cold; the same save again into an empty
folder (``resave_s``). Then a second fresh session *previews* them first — ``fetch_bytes`` of each, what
the preview, a copy and a drag do — and, after ``os.sync()`` (previewing comes seconds to minutes before
saving, by which time the kernel has written the cache back), saves them into an empty folder
(``warm_s``). Since tiles come from the head of the file (issue 11), scrolling the grid no longer
downloads a photo's original: ``grid_viewed_s`` is the save after a third fresh session only made their
tiles (``fetch_tile_head`` at 160 px, what the grid's loader does), which downloads the rest of the photos.
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.config import Context
from bench.scenarios import load_refs
from bench.stats import Metric
from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.cache import DiskCache
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.saving import ConflictPolicy, save_batch
from kdocs_viewer.core.session import NeedsWhole, PictureSession

CURL_PARALLEL = 8
GRID_BOX = 160  # the grid's default tile at device pixel ratio 1


def gui_session(client: KDocsClient, file_token: str, scratch: Path) -> PictureSession:
    """A PictureSession configured as ``PictureBrowser.start`` configures the GUI's (memory budget for
    originals plus a private disk cache in ``scratch``), so the save measured is the GUI's."""
    from kdocs_viewer.gui import browser

    memory = getattr(browser, "ORIGINALS_MEMORY_BUDGET", None)
    disk = getattr(browser, "ORIGINALS_DISK_BUDGET", None)
    if memory is None:  # a browser without its own budgets uses the session's defaults
        return PictureSession(client, file_token)
    cache = DiskCache(scratch, disk) if disk else None
    return PictureSession(client, file_token, memory_budget=memory, disk_cache=cache)


def gui_save_workers() -> int:
    """The parallel fetches the GUI's Save uses (``SaveRunner``'s default; the main window passes none)."""
    from kdocs_viewer.gui.save_runner import SaveRunner

    return int(inspect.signature(SaveRunner.__init__).parameters["workers"].default)


def _curl(urls: list[str], folder: Path) -> tuple[float, int]:
    """Seconds and bytes for ``curl --parallel --parallel-max 8`` fetching ``urls`` into ``folder``."""
    folder.mkdir(parents=True)
    config = folder.parent / f"{folder.name}.curl"
    config.write_text("".join(f'url = "{u}"\noutput = "{folder / f"{i:05d}"}"\n' for i, u in enumerate(urls)))
    t0 = time.perf_counter()
    subprocess.run(["curl", "--parallel", "--parallel-max", str(CURL_PARALLEL), "--silent", "--show-error",
                    "--fail", "--no-progress-meter", "--config", str(config)], check=True)
    elapsed = time.perf_counter() - t0
    config.unlink()
    got = sum(p.stat().st_size for p in folder.iterdir())
    return elapsed, got


def _save(session: PictureSession, refs: list[PicRef], folder: Path, workers: int) -> tuple[float, int]:
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    summary = save_batch(refs, lambda ref, cancel: session.fetch_for_save(ref, cancel=cancel), folder,
                         template="{index:04d} {pic_key}", policy=ConflictPolicy.UNIQUIFY, workers=workers,
                         on_saved=session.keep_saved)
    elapsed = time.perf_counter() - t0
    if len(summary.saved) != len(refs):
        raise RuntimeError(f"saved {len(summary.saved)} of {len(refs)} pictures: "
                           f"{[r.reason for r in summary.failed[:3]]}")
    return elapsed, summary.bytes


def _viewed_save(ctx: Context, refs: list[PicRef], run_dir: Path, workers: int) -> tuple[float, int, int]:
    """A fresh session views every picture (not timed), then saves them: seconds, cache hits, GETs."""
    with KDocsClient(ctx.token, ctx.base_url) as client:
        session = gui_session(client, ctx.file_token, run_dir / "viewed-cache")
        try:
            session.resolve(refs)
            with ThreadPoolExecutor(workers) as pool:
                for _ in pool.map(session.fetch_bytes, refs):
                    pass
            os.sync()
            before = session.stats
            elapsed, _ = _save(session, refs, run_dir / "viewed", workers)
            after = session.stats
        finally:
            session.close()
    return elapsed, after.cache_hits - before.cache_hits, after.image_gets - before.image_gets


def _grid_viewed_save(ctx: Context, refs: list[PicRef], run_dir: Path, workers: int) -> tuple[float, int]:
    """A fresh session makes every picture's tile as the grid does (not timed), then saves: seconds, GETs."""
    with KDocsClient(ctx.token, ctx.base_url) as client:
        session = gui_session(client, ctx.file_token, run_dir / "grid-cache")
        try:
            session.resolve(refs)
            with ThreadPoolExecutor(workers) as pool:
                wanted = list(pool.map(lambda ref: session.fetch_tile_head(ref, GRID_BOX), refs))
            whole = [ref for ref, got in zip(refs, wanted, strict=True) if isinstance(got, NeedsWhole)]
            with ThreadPoolExecutor(workers) as pool:  # the loader's whole lane
                for _ in pool.map(session.fetch_bytes, whole):
                    pass
            os.sync()
            before = session.stats
            elapsed, _ = _save(session, refs, run_dir / "grid-viewed", workers)
            after = session.stats
        finally:
            session.close()
    return elapsed, after.image_gets - before.image_gets


def _fetch_only(ctx: Context, refs: list[PicRef], workers: int) -> tuple[float, int]:
    """A fresh session fetching every picture with the save's parallelism, writing nothing."""
    with KDocsClient(ctx.token, ctx.base_url) as client:
        session = gui_session(client, ctx.file_token, ctx.work / "fetch-only-cache")
        try:
            session.resolve(refs)
            with ThreadPoolExecutor(workers) as pool:
                t0 = time.perf_counter()
                got = sum(map(len, pool.map(session.fetch_bytes, refs)))
                return time.perf_counter() - t0, got
        finally:
            session.close()


def _write_only(ctx: Context, refs: list[PicRef], folder: Path, workers: int) -> tuple[float, int]:
    """``save_batch`` with bytes already in memory: the cost of writing (``.part``, fsync, rename) alone.

    The stand-in serves the dataset's files in name order, cycling, so picture i has file i mod n's bytes.
    """
    blobs = [f.read_bytes() for f in sorted(ctx.dataset, key=lambda f: f.name)]
    by_ident = {ref.ident: blobs[i % len(blobs)] for i, ref in enumerate(refs)}
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    summary = save_batch(refs, lambda ref, cancel: by_ident[ref.ident], folder,
                         template="{index:04d} {pic_key}", policy=ConflictPolicy.UNIQUIFY, workers=workers)
    return time.perf_counter() - t0, summary.bytes


def run(ctx: Context) -> dict[str, Metric]:
    refs = load_refs(ctx.pic_list, ctx.size.save_pics)
    core = Metric("core_mb_s", "MB/s", floor_name="curl --parallel-max 8, same URLs")
    curl = Metric("curl_mb_s", "MB/s")
    cold = Metric("cold_s", "s")
    warm = Metric("warm_s", "s", note="save of pictures previewed before (fresh session)")
    resave = Metric("resave_s", "s", note="the same save again, same session")
    speedup = Metric("second_speedup", "×", note="cold save time ÷ save time of previewed pictures")
    grid = Metric("grid_viewed_s", "s", note="save of pictures whose tiles were made before (fresh session)")
    grid_speedup = Metric("grid_viewed_speedup", "×", note="cold save time ÷ grid_viewed_s")
    grid_gets = Metric("grid_viewed_gets", "GETs", note="GETs of that save: the rest after each photo's head")
    resave_speedup = Metric("resave_speedup", "×", note="cold save time ÷ the same save again")
    size_mb = Metric("batch_mb", "MB")
    fetch_only = Metric("fetch_only_mb_s", "MB/s", note="fresh session, fetch_bytes only, same parallelism")
    write_only = Metric("write_only_mb_s", "MB/s", note="save_batch from bytes in memory: writing alone")
    warm_hits = Metric("second_save_cache_hits", "pictures", note="previewed pictures served by the caches")
    warm_gets = Metric("second_save_gets", "GETs", note="previewed pictures downloaded again to save them")
    workers = gui_save_workers()
    for i in range(ctx.runs):
        run_dir = ctx.work / f"save-{i}"
        with KDocsClient(ctx.token, ctx.base_url) as client:
            session = gui_session(client, ctx.file_token, run_dir / "originals-cache")
            try:
                session.resolve(refs)
                urls = [session.leases.snapshot()[r.ident].url for r in refs]
                curl_s, curl_bytes = _curl(urls, run_dir / "curl")
                cold_s, cold_bytes = _save(session, refs, run_dir / "cold", workers)
                resave_s, _ = _save(session, refs, run_dir / "resave", workers)
            finally:
                session.close()
        shutil.rmtree(run_dir, ignore_errors=True)
        warm_s, hits, gets = _viewed_save(ctx, refs, run_dir, workers)
        shutil.rmtree(run_dir, ignore_errors=True)
        grid_s, grid_saved_gets = _grid_viewed_save(ctx, refs, run_dir, workers)
        shutil.rmtree(run_dir, ignore_errors=True)
        grid.add(grid_s)
        grid_speedup.add(cold_s / grid_s)
        grid_gets.add(grid_saved_gets)
        fetch_s, fetch_bytes = _fetch_only(ctx, refs, workers)
        shutil.rmtree(ctx.work / "fetch-only-cache", ignore_errors=True)
        write_s, write_bytes = _write_only(ctx, refs, run_dir / "write-only", workers)
        shutil.rmtree(run_dir, ignore_errors=True)
        if write_bytes != cold_bytes:
            ctx.note("save", f"run {i}: write-only wrote {write_bytes} bytes, the real save {cold_bytes}")
        fetch_only.add(fetch_bytes / 1e6 / fetch_s)
        write_only.add(write_bytes / 1e6 / write_s)
        if curl_bytes != cold_bytes:
            ctx.note("save", f"run {i}: curl fetched {curl_bytes} bytes, the core saved {cold_bytes}")
        curl_rate = curl_bytes / 1e6 / curl_s
        core.add(cold_bytes / 1e6 / cold_s, curl_rate)
        curl.add(curl_rate)
        cold.add(cold_s)
        warm.add(warm_s)
        resave.add(resave_s)
        speedup.add(cold_s / warm_s)
        resave_speedup.add(cold_s / resave_s)
        size_mb.add(cold_bytes / 1e6)
        warm_hits.add(hits)
        warm_gets.add(gets)
    ctx.note("save", f"{len(refs)} pictures, {workers} save workers (the GUI's), curl {CURL_PARALLEL} "
                     f"parallel, into {ctx.work} (same disk for curl and core); the core fsyncs "
                     "every file, curl does not; the session is configured like the browser's "
                     "(originals memory budget + private disk cache); 'previewed' (second_speedup) = a fresh "
                     "session fetched each original once (fetch_bytes, as the preview does), then os.sync(), "
                     "then the timed save; 'grid viewed' = a fresh session made each tile as the grid does "
                     "(heads; the whole picture only where a head cannot make the tile), then the same")
    return {"core_mb_s": core, "curl_mb_s": curl, "cold_s": cold, "warm_s": warm, "resave_s": resave,
            "second_speedup": speedup, "resave_speedup": resave_speedup, "grid_viewed_s": grid,
            "grid_viewed_speedup": grid_speedup, "grid_viewed_gets": grid_gets, "batch_mb": size_mb,
            "fetch_only_mb_s": fetch_only,
            "write_only_mb_s": write_only, "second_save_cache_hits": warm_hits, "second_save_gets": warm_gets}
