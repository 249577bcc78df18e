"""``python -m bench [--size tiny|full] [--runs N] [--out FILE]``: the whole benchmark, table and JSON.

Generates (or reuses) the dataset, starts the stand-in as a subprocess with ``--latency-ms 40``, finds the
workbook's pictures once, runs every scenario and prints a markdown table; targets are judged in the JSON
and the table. A scenario that fails is reported as such and the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from bench import dataset
from bench.child import REPO
from bench.config import LATENCY_MS, SIZES, Context
from bench.report import Results, judge, markdown, notes_markdown, write_json
from bench.standin_proc import StandinProcess
from bench.stats import spread

SCENARIOS = ("resolve", "idle", "open", "shaped", "shaped_slow", "busy", "scroll", "save", "startup",
             "reopen")
MODULES = {"resolve": "resolve", "idle": "idle", "open": "open_grid", "shaped": "shaped",
           "shaped_slow": "shaped_slow", "busy": "busy", "scroll": "scroll", "save": "save",
           "startup": "startup", "reopen": "reopen"}
# Results are grouped by the scenario numbers; "idle" belongs to scenario 1 (resolve).
GROUP = {"idle": "resolve"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default: 3 full, 1 tiny)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "results.json")
    parser.add_argument("--dataset-dir", type=Path, default=None,
                        help="where the generated pictures are cached (default: bench/out/dataset/SIZE)")
    parser.add_argument("--only", action="append", choices=SCENARIOS, help="run only these scenarios")
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    return parser.parse_args(argv)


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True)
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict[str, Any]:
    import PySide6

    return {"cpus": os.cpu_count(), "python": platform.python_version(), "pyside6": PySide6.__version__,
            "platform": platform.platform(), "loadavg_start": os.getloadavg()}


def write_pic_list(base_url: str, token: str, file_token: str, path: Path) -> int:
    """The workbook's pictures as the product finds them, saved once for every scenario."""
    from kdocs_viewer.core.api import KDocsClient
    from kdocs_viewer.core.piclist import dump_pic_list

    with KDocsClient(token, base_url) as client:
        refs = client.find_pictures(file_token).pics
    path.write_text(dump_pic_list(refs), encoding="utf-8")
    return len(refs)


class LoadSampler:
    """1-minute load average every few seconds while the bench runs: other work on the machine shows here."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    size = SIZES[args.size]
    runs = args.runs or size.runs
    started = time.time()
    data_dir = args.dataset_dir or REPO / "bench" / "out" / "dataset" / size.name
    print(f"dataset: {data_dir}", file=sys.stderr, flush=True)
    files = dataset.ensure_dataset(data_dir, size.dataset)
    pictures = max(size.resolve_pics, size.open_pics, size.scroll_pics, size.save_pics)
    results: Results = {}
    wanted = args.only or list(SCENARIOS)
    meta: dict[str, Any] = {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "product_dirty": bool(_git("status", "--porcelain", "--", "kdocs_viewer")),
        "size": size.name, "runs": runs, "latency_ms": args.latency_ms, "pictures_in_workbook": pictures,
        "dataset": dataset.describe(files), "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)), "scenario_seconds": {},
    }
    with tempfile.TemporaryDirectory(prefix="kdocs-bench-", dir=args.out.parent if args.out.parent.exists()
                                     else None) as tmp:
        work = Path(tmp)
        standin = StandinProcess(dataset=data_dir, pictures=pictures, latency_ms=args.latency_ms,
                                 extra=["--quota", "10000000"], log_dir=work)
        with standin, LoadSampler() as load:
            pic_list = work / "pictures.json"
            found = write_pic_list(standin.base_url, standin.token, standin.file_token, pic_list)
            ctx = Context(size=size, runs=runs, base_url=standin.base_url, token=standin.token,
                          file_token=standin.file_token, pic_list=pic_list, work=work, dataset=files,
                          latency_ms=args.latency_ms, pictures=pictures)
            ctx.note("setup", f"stand-in subprocess, {found} pictures cycling through {len(files)} files, "
                              f"latency {args.latency_ms:g} ms on API calls and image GETs")
            for name in wanted:
                print(f"running {name} …", file=sys.stderr, flush=True)
                t0 = time.perf_counter()
                try:
                    module = importlib.import_module(f"bench.scenarios.{MODULES[name]}")
                    metrics = module.run(ctx)
                    results.setdefault(GROUP.get(name, name), {}).update(metrics)
                except Exception as exc:  # one broken scenario must not hide the others' numbers
                    traceback.print_exc()
                    ctx.note(name, f"FAILED: {type(exc).__name__}: {exc}")
                meta["scenario_seconds"][name] = round(time.perf_counter() - t0, 1)
    meta["duration_s"] = round(time.time() - started, 1)
    meta["machine"]["loadavg_end"] = os.getloadavg()
    meta["machine"]["loadavg_1min_during"] = spread(load.samples) if load.samples else None
    verdicts = judge(results)
    table = markdown(results, verdicts)
    print(table)
    if ctx.notes:
        print("\n" + notes_markdown(ctx.notes))
    write_json(args.out, meta, results, verdicts, ctx.notes)
    header = (f"commit {meta['commit']}, size {size.name}, {runs} run(s), started {meta['started']}, "
              f"took {meta['duration_s']} s")
    if load.samples:
        busy = spread(load.samples)
        header += (f"; 1-min load average during the run {busy['median']:.1f} "
                   f"({busy['min']:.1f}–{busy['max']:.1f}) on {os.cpu_count()} CPUs")
    report = f"{header}\n\n{table}\n\n{notes_markdown(ctx.notes)}\n"
    args.out.with_suffix(".md").write_text(report, encoding="utf-8")
    print(f"\nwrote {args.out}", file=sys.stderr)
    failed = [n for n, items in ctx.notes.items() if any(i.startswith("FAILED") for i in items)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
