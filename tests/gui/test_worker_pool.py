"""The loader's thread pools (``gui.worker_pool``): priorities, the thread limit, shutdown, failures."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

import pytest
from pytestqt.qtbot import QtBot

from kdocs_viewer.gui.worker_pool import BACKGROUND_NICE, WorkerPool
from tests.helpers.logfail import ExpectLog


def _blocker(pool: WorkerPool, count: int) -> tuple[threading.Event, threading.Barrier]:
    """Occupy ``count`` workers until the returned event is set (the barrier says they all run)."""
    release = threading.Event()
    running = threading.Barrier(count + 1, timeout=5)

    def hold() -> None:
        running.wait()
        release.wait(5)

    for _ in range(count):
        pool.start(hold)
    running.wait()
    return release, running


def test_jobs_run_best_priority_first_then_in_order() -> None:
    pool = WorkerPool("test", 1)
    try:
        release, _ = _blocker(pool, 1)
        ran: list[str] = []
        done = threading.Event()
        for name, priority in (("a", 0), ("b", 1), ("c", 0), ("d", 2)):
            pool.start(lambda name=name: ran.append(name), priority)
        pool.start(done.set, -1)
        release.set()
        assert done.wait(5)
        assert ran == ["d", "b", "a", "c"]
    finally:
        pool.shutdown()


def test_threads_grow_with_the_jobs_up_to_the_limit() -> None:
    pool = WorkerPool("test", 3)
    try:
        release, _ = _blocker(pool, 3)  # three jobs at once need three threads: the barrier says they came
        names = {thread.name for thread in threading.enumerate() if thread.name.startswith("test-")}
        assert names == {"test-0", "test-1", "test-2", "test-maker"}
        late = threading.Event()
        pool.start(late.set)  # no fourth thread: it waits for a free one
        assert not late.wait(0.2)
        release.set()
        assert late.wait(5)
    finally:
        pool.shutdown()
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("test-")]


def _workers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("test-") and t.name[-1].isdigit()]


def test_spawn_makes_threads_before_any_job(qtbot: QtBot) -> None:
    pool = WorkerPool("test", 4)
    try:
        pool.spawn(10)
        qtbot.waitUntil(lambda: len(_workers()) == 4, timeout=5000)
        qtbot.wait(100)
        assert len(_workers()) == 4  # no more than the limit
    finally:
        pool.shutdown()


def test_shutdown_drops_queued_jobs_and_joins() -> None:
    pool = WorkerPool("test", 1)
    release, _ = _blocker(pool, 1)
    queued = threading.Event()
    pool.start(queued.set)
    threading.Timer(0.1, release.set).start()
    pool.shutdown()  # waits for the running job, drops the queued one
    assert not queued.is_set()
    pool.start(queued.set)  # after shutdown: dropped
    pool.shutdown()  # idempotent
    assert not queued.is_set()


def test_active_counts_queued_and_running_jobs_until_they_end() -> None:
    pool = WorkerPool("test", 1)
    try:
        assert pool.active() == 0
        release, _ = _blocker(pool, 1)
        done = threading.Event()
        pool.start(done.set)
        assert pool.active() == 2  # one running, one queued
        release.set()
        assert done.wait(5)
        deadline = time.monotonic() + 5
        while pool.active() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.active() == 0
    finally:
        pool.shutdown()


def test_a_job_that_raises_is_logged_and_the_thread_goes_on(expect_log: ExpectLog) -> None:
    pool = WorkerPool("test", 1)
    after = threading.Event()

    def broken() -> None:
        raise ValueError("a bug in a job")

    try:
        with expect_log("kdocs_viewer.gui.worker_pool", logging.ERROR, match="a worker job of test failed"):
            pool.start(broken)
            pool.start(after.set)
            assert after.wait(5)
    finally:
        pool.shutdown()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a per-thread nice value is Linux's")
def test_background_workers_run_niced_and_never_at_idle_priority() -> None:
    """Niced, not SCHED_IDLE: an idle-priority decoder starved under other programs' load, and held the GIL
    while starved (worker_pool.BACKGROUND_NICE)."""
    pool = WorkerPool("test", 1, background=True)
    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def look() -> None:
        seen.append((os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        done.set()

    try:
        pool.start(look)
        assert done.wait(5)
    finally:
        pool.shutdown()
    assert seen == [(os.SCHED_OTHER, BACKGROUND_NICE)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) != BACKGROUND_NICE  # the caller's own
