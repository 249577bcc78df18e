"""Scenario 1b: the API calls idle browsing costs.

In a fresh child process the browser opens the pictures and loads the first screen; once the lease keeper
and the thumbnail loader are idle, the bench:
1. waits ``idle_seconds`` of real time with nothing touched — no visible lease is near its refresh margin
   then (the shortest lifetime is 5 min), so any API call is polling (target: zero);
2. simulates one hour of idle with a FAKE CLOCK (``bench.fakeclock``: the product's ``time.monotonic``
   plus an offset): whenever the keeper's single refresh timer is armed, the clock jumps to its due time
   and the timer is fired at once; the API calls of that simulated hour are counted. The leases' lifetimes
   are the real ones (URL ``Expires`` in wall time, per-tag rules), so this is the real cost per hour of a
   window left open, not an extrapolation from a time-scaled server.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.child import emit, run_child
from bench.config import Context
from bench.scenarios import load_refs
from bench.stats import Metric

HOUR = 3600.0


def run(ctx: Context) -> dict[str, Metric]:
    idle = Metric("idle_calls", "calls", note=f"real idle of {ctx.size.idle_seconds:g} s, nothing due")
    scale = HOUR / ctx.size.simulated_idle
    hour = Metric("idle_calls_per_hour", "calls/h",
                  note=f"{ctx.size.simulated_idle:g} s simulated with a fake monotonic clock"
                       + (f", × {scale:g}" if scale != 1 else ""))
    refreshes = Metric("refreshed_per_hour", "leases/h", note="pictures re-resolved in that hour")
    for i in range(ctx.runs):
        params = {"base_url": ctx.base_url, "token": ctx.token, "file_token": ctx.file_token,
                  "pic_list": str(ctx.pic_list), "pictures": ctx.size.open_pics,
                  "idle_seconds": ctx.size.idle_seconds, "simulated": ctx.size.simulated_idle,
                  "timeout": ctx.size.gui_timeout}
        r = run_child(__name__, params, home=ctx.work / f"home-idle-{i}",
                      timeout=ctx.size.idle_seconds + 2 * ctx.size.gui_timeout + 120)
        idle.add(r["idle_calls"])
        hour.add(r["calls_per_hour"] * scale)
        refreshes.add(r["refreshed_per_hour"] * scale)
        ctx.note("idle", f"run {i}: {r['needed']} leases needed while idle, tags {r['tags']}; "
                         f"refresh times (simulated s): {r['refresh_times']}")
    return {"idle_calls": idle, "idle_calls_per_hour": hour, "refreshed_per_hour": refreshes}


def child(params: dict[str, Any]) -> dict[str, Any]:
    from collections import Counter

    from PySide6.QtCore import QTimer

    from bench.fakeclock import FakeClock
    from bench.gui import BrowserRun, pause, wait_until
    from kdocs_viewer.gui.lease_keeper import LeaseKeeper

    clock = FakeClock()
    run = BrowserRun(params, load_refs(Path(params["pic_list"]), params["pictures"]))
    clock.install()  # offset 0 until the simulated hour: nothing changes before that
    run.start()
    keeper = run.browser.findChild(LeaseKeeper)
    if keeper is None:
        raise RuntimeError("no LeaseKeeper inside the browser")
    refresh_timer = next(t for t in keeper.findChildren(QTimer) if t.isSingleShot())

    run.wait_screen_done(params["timeout"])
    wait_until(keeper.is_idle, params["timeout"])
    pause(0.5)
    needed = keeper.needed()
    tags = dict(Counter(tag for _, tag in needed))

    calls0 = run.client.calls_made
    pause(params["idle_seconds"])
    idle_calls = run.client.calls_made - calls0

    calls0 = run.client.calls_made
    batches0 = keeper.refresh_batches
    resolved: list[int] = []
    real_resolve = run.client.resolve

    def counting_resolve(file_token: str, pics: Any, **kwargs: Any) -> Any:
        pics = list(pics)
        resolved.append(len(pics))
        return real_resolve(file_token, pics, **kwargs)

    run.client.resolve = counting_resolve  # type: ignore[method-assign]
    answers = [0]
    keeper.leasesResolved.connect(lambda _outcomes: answers.__setitem__(0, answers[0] + 1))
    times: list[float] = []
    while refresh_timer.isActive():
        jump = max(0, refresh_timer.remainingTime()) / 1000.0
        if clock.offset + jump > params["simulated"]:
            break
        clock.advance(jump)
        before, answered = keeper.refresh_batches, answers[0]
        refresh_timer.start(0)  # fire now: the fake clock says it is due
        # Wait for the refresh to be planned and its answer handled (the keeper re-arms its timer then): a
        # refresh of every bounded lease stops the timer until the answer, which must not end the hour.
        if wait_until(lambda b=before: keeper.refresh_batches > b, 2.0) is not None:
            times.append(round(clock.offset))
            wait_until(lambda a=answered: answers[0] > a, params["timeout"])
        wait_until(keeper.is_idle, params["timeout"])
        pause(0.02)
    hour_calls = run.client.calls_made - calls0
    batches = keeper.refresh_batches - batches0
    run.close()
    clock.uninstall()
    return {"idle_calls": idle_calls, "calls_per_hour": hour_calls, "refresh_batches": batches,
            "refreshed_per_hour": sum(resolved), "needed": len(needed), "tags": tags, "refresh_times": times}


if __name__ == "__main__":
    emit(child(json.loads(sys.argv[1])))
