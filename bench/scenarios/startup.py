"""Scenario 6: process start to the first painted main window (stand-in already running).

``kdocs-viewer --base-url … --file-token …`` is started through ``bench.startup_probe`` (it installs a
first-paint event filter before the app's own code runs; see that module). Floor: the same probe showing a
bare QMainWindow — what any PySide6 program pays on this machine — measured in the same run.
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench.child import REPO, child_env
from bench.config import Context
from bench.startup_probe import MARK
from bench.stats import Metric


def _first_paint(args: list[str], ctx: Context, home_name: str, timeout: float = 60.0) -> float:
    env = child_env(ctx.work / home_name)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app has its .pyc files; see the warm-up below
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "bench.startup_probe", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            return float(line[len(MARK):].split()[0]) - t0
    tail = "\n".join(proc.stderr.splitlines()[-20:])
    raise RuntimeError(f"no first paint from {args[0]} (exit {proc.returncode}):\n{tail}")


def app_first_paint(ctx: Context, home_name: str) -> float:
    """Seconds from launching ``kdocs-viewer --base-url … --file-token …`` to its first painted window."""
    return _first_paint(_app_args(ctx), ctx, home_name)


def _app_args(ctx: Context) -> list[str]:
    return ["app", "--base-url", ctx.base_url, "--file-token", ctx.file_token]


def run(ctx: Context) -> dict[str, Metric]:
    app = Metric("first_paint_s", "s", floor_name="bare PySide6 QMainWindow")
    bare = Metric("bare_qt_s", "s")
    app_args = _app_args(ctx)
    if ctx.size.startup_runs > 1:
        # Warm the page cache and write the .pyc files an installed app has (pip compiles at install);
        # a shell with PYTHONDONTWRITEBYTECODE=1 otherwise makes every launch compile every module.
        _first_paint(["bare"], ctx, "home-startup-warm")
        _first_paint(app_args, ctx, "home-startup-warm")
    for i in range(ctx.size.startup_runs):
        floor = _first_paint(["bare"], ctx, f"home-startup-bare-{i}")
        value = _first_paint(app_args, ctx, f"home-startup-app-{i}")
        app.add(value, floor)
        bare.add(floor)
    ctx.note("startup", f"median of {ctx.size.startup_runs} launches each (after one warm-up that also "
                        "writes the .pyc files), "
                        "QT_QPA_PLATFORM=offscreen, private XDG folders (no stored token, empty caches)")
    return {"first_paint_s": app, "bare_qt_s": bare}
