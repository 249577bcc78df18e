"""Scenario 5: save 500 selected pictures with the core save path, against curl on the same URLs.

Each run: one fresh ``PictureSession`` resolves the pictures (not timed: curl gets the same fresh URLs);
curl fetches them with 8 parallel transfers (the floor); ``save_batch`` over ``session.fetch_bytes`` saves
them cold; then the same save again into an empty folder, now that the session has fetched (viewed) them.
"""

from __future__ import annotations

import inspect
import shutil
import subprocess
import time
from pathlib import Path

from bench.config import Context
from bench.scenarios import load_refs
from bench.stats import Metric
from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.saving import ConflictPolicy, save_batch
from kdocs_viewer.core.session import PictureSession

CURL_PARALLEL = 8


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
                    "--fail", "--config", str(config)], check=True)
    elapsed = time.perf_counter() - t0
    config.unlink()
    got = sum(p.stat().st_size for p in folder.iterdir())
    return elapsed, got


def _save(session: PictureSession, refs: list[PicRef], folder: Path, workers: int) -> tuple[float, int]:
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    summary = save_batch(refs, lambda ref, cancel: session.fetch_bytes(ref, cancel=cancel), folder,
                         template="{index:04d} {pic_key}", policy=ConflictPolicy.UNIQUIFY, workers=workers)
    elapsed = time.perf_counter() - t0
    if len(summary.saved) != len(refs):
        raise RuntimeError(f"saved {len(summary.saved)} of {len(refs)} pictures: "
                           f"{[r.reason for r in summary.failed[:3]]}")
    return elapsed, summary.bytes


def run(ctx: Context) -> dict[str, Metric]:
    refs = load_refs(ctx.pic_list, ctx.size.save_pics)
    core = Metric("core_mb_s", "MB/s", floor_name="curl --parallel-max 8, same URLs")
    curl = Metric("curl_mb_s", "MB/s")
    cold = Metric("cold_s", "s")
    warm = Metric("warm_s", "s")
    speedup = Metric("second_speedup", "×", note="cold save time ÷ second save time (same session)")
    size_mb = Metric("batch_mb", "MB")
    workers = gui_save_workers()
    for i in range(ctx.runs):
        run_dir = ctx.work / f"save-{i}"
        with KDocsClient(ctx.token, ctx.base_url) as client:
            session = PictureSession(client, ctx.file_token)
            try:
                session.resolve(refs)
                urls = [session.leases.snapshot()[r.ident].url for r in refs]
                curl_s, curl_bytes = _curl(urls, run_dir / "curl")
                cold_s, cold_bytes = _save(session, refs, run_dir / "cold", workers)
                warm_s, _ = _save(session, refs, run_dir / "warm", workers)
            finally:
                session.close()
        shutil.rmtree(run_dir, ignore_errors=True)
        if curl_bytes != cold_bytes:
            ctx.note("save", f"run {i}: curl fetched {curl_bytes} bytes, the core saved {cold_bytes}")
        curl_rate = curl_bytes / 1e6 / curl_s
        core.add(cold_bytes / 1e6 / cold_s, curl_rate)
        curl.add(curl_rate)
        cold.add(cold_s)
        warm.add(warm_s)
        speedup.add(cold_s / warm_s)
        size_mb.add(cold_bytes / 1e6)
    ctx.note("save", f"{len(refs)} pictures, {workers} save workers (the GUI's), curl {CURL_PARALLEL} "
                     f"parallel, into {ctx.work} (same disk for curl and core); the core fsyncs "
                     "every file, curl does not; 'viewed' = fetched once through the same PictureSession "
                     "(default memory budget), which is what the grid does")
    return {"core_mb_s": core, "curl_mb_s": curl, "cold_s": cold, "warm_s": warm,
            "second_speedup": speedup, "batch_mb": size_mb}
