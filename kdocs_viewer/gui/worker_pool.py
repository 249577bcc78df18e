"""Thread pools of the GUI's workers (the thumbnail loader's, background calls): Python threads, daemons,
that take a job without the GUI thread giving up the GIL.

``QThreadPool.start()`` called from Python releases the GIL; when the pool's workers run Python (a GET, a
result), the GUI thread then waits for one of them to let it go again, ~0.5 ms a call: handing a screenful
of 28 fetches to the pool stalled the GUI thread 14 ms (bench/RESULTS.md, "Figures behind choices in the
code"). Pushing a job on a heap under a lock stays in Python and takes microseconds. The standard
library's ``ThreadPoolExecutor`` would too, but runs jobs first come first served, and a preview must not
wait behind a screenful of tiles: jobs here run best ``priority`` first, like ``QThreadPool``'s.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import sys
import threading
from collections.abc import Callable

from PySide6.QtCore import QThread

__all__ = ["WorkerPool"]

log = logging.getLogger(__name__)

Job = Callable[[], None]
# Not SCHED_IDLE (nor Qt's IdlePriority): with two CPU hogs on two cores, an idle decoder got so little CPU
# that opening a workbook took 24–35 s to fill the screen, and the GUI thread stalled 1.4–3.3 s at a time
# waiting for the GIL the starved decoder held. At nice 10: 0.9–1.5 s and 41–199 ms; nice 19: 5.0–5.5 s and
# 375–660 ms. Unloaded, the three are alike (bench/RESULTS.md, "A busy machine"; the `busy` scenario).
BACKGROUND_NICE = 10


def _lower_priority() -> None:
    """This thread yields the CPU to the GUI thread, and still gets its share while other programs are busy.
    On Linux without Qt (no Qt lock is taken with the GIL held, ``gui.decode`` says why that matters)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):  # the nice value is per thread on Linux
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
        return
    QThread.currentThread().setPriority(QThread.Priority.LowestPriority)


class WorkerPool:
    """At most ``threads`` worker threads named ``name``, made as jobs come; ``background``: at a lower
    priority (nice ``BACKGROUND_NICE`` on Linux, Qt's LowestPriority elsewhere), for decoding.

    Threads are made by a thread of the pool's own, never by the caller: ``Thread.start()`` waits until the
    new thread has run, which costs the GUI thread the GIL's round trip through every busy worker.
    """

    def __init__(self, name: str, threads: int, *, background: bool = False) -> None:
        self._name = name
        self._max = max(1, threads)
        self._background = background
        self._lock = threading.Lock()
        self._has_job = threading.Condition(self._lock)  # workers wait here
        self._needs_thread = threading.Condition(self._lock)  # the maker waits here
        self._jobs: list[tuple[int, int, Job]] = []  # a heap: best priority, then first come
        self._order = itertools.count()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # workers waiting for a job (a woken one counts until it took it)
        self._running = 0  # jobs taken and not finished
        self._extra = 0  # threads asked for by ``spawn`` and not made yet
        self._maker: threading.Thread | None = None
        self._closed = False

    def start(self, job: Job, priority: int = 0) -> None:
        """Run ``job`` on a worker, higher ``priority`` first. An exception it lets out is logged (jobs
        report their own failures); after ``shutdown`` the job is dropped."""
        with self._lock:
            if self._closed:
                return
            heapq.heappush(self._jobs, (-priority, next(self._order), job))
            if self._idle:
                self._has_job.notify()
            if len(self._jobs) > self._idle:
                self._wake_maker()

    def spawn(self, count: int) -> None:
        """Have up to ``count`` more threads made now, so later jobs need not wait for one."""
        with self._lock:
            if not self._closed and count > 0:
                self._extra += count
                self._wake_maker()

    def shutdown(self, *, wait: bool = True) -> None:
        """Drop the jobs not started yet; the threads end after their running job. ``wait``: join them
        (a running job runs to its end); else return at once, ``busy()`` says when they are gone. Idempotent.
        """
        with self._lock:
            self._closed = True
            self._jobs.clear()
            # The maker first: a thread it is starting is joined only once started.
            threads = [*([self._maker] if self._maker is not None else []), *self._threads]
            self._has_job.notify_all()
            self._needs_thread.notify_all()
        if wait:
            for thread in threads:
                thread.join()

    def active(self) -> int:
        """Jobs queued or running."""
        with self._lock:
            return len(self._jobs) + self._running

    def busy(self) -> bool:
        """Whether a thread of the pool still runs (after ``shutdown(wait=False)``: a job not done yet)."""
        with self._lock:
            threads = [*([self._maker] if self._maker is not None else []), *self._threads]
        return any(thread.is_alive() for thread in threads)  # the maker lives until its threads started

    def _wake_maker(self) -> None:
        """(Lock held.) The maker thread, started on first need, makes the threads that are missing."""
        if len(self._threads) >= self._max:
            return
        if self._maker is None:
            self._maker = threading.Thread(target=self._make, name=f"{self._name}-maker", daemon=True)
            self._maker.start()  # once per pool; it waits for the lock we hold, then for work
        else:
            self._needs_thread.notify()

    def _missing(self) -> bool:
        """(Lock held.) A job with no idle worker for it, or a thread asked for, and room for one more."""
        return len(self._threads) < self._max and (len(self._jobs) > self._idle or self._extra > 0)

    def _make(self) -> None:
        while True:
            with self._lock:
                while not self._closed and not self._missing():
                    self._needs_thread.wait()
                if self._closed:
                    return
                self._extra = max(0, self._extra - 1)
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                self._idle += 1  # counted before it runs, so one job does not make two threads
            thread.start()

    def _work(self) -> None:
        if self._background:
            _lower_priority()
        with self._lock:
            self._idle -= 1
        while True:
            with self._lock:
                while not self._jobs and not self._closed:
                    self._idle += 1
                    self._has_job.wait()
                    self._idle -= 1
                if self._closed:
                    return
                _, _, job = heapq.heappop(self._jobs)
                self._running += 1
            try:
                job()
            except Exception:  # a job that lets one out has a bug; say so instead of losing the thread
                log.exception("a worker job of %s failed", self._name)
            finally:
                with self._lock:
                    self._running -= 1
