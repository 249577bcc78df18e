"""Lease requests from many threads, collected for a moment and resolved together: quota is precious.

A hundred tiles appearing at once ask for a hundred leases within a few milliseconds; ``LeaseBatcher`` lets
them arrive until none came for ``quiet`` seconds (at most ``max_wait``, or a full call's worth), then sends
them as one ``pictures/urls`` call on a small resolver pool. A ref already being resolved is never asked
for twice: everyone who wants it waits on the same ``LeaseRequest``. ``PictureSession`` owns one; the
waiting itself (with the caller's cancel flag) is the session's.

``close()`` never waits for a call on the wire (closing a workbook on a slow line froze the window until
the API answered), and the resolvers are daemon threads, so they do not keep a closed app's process alive
either: a late answer only updates a session nobody uses.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable

from kdocs_viewer.core.contract import MAX_PICS_PER_CALL
from kdocs_viewer.core.download import DownloadCancelled
from kdocs_viewer.core.errors import FailureReason
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.models import Ident, Lease, Outcome, PicFailure, PicRef

__all__ = ["COLLECT_MAX", "COLLECT_QUIET", "LeaseBatcher", "LeaseRequest"]

# Lease requests are collected until none arrived for COLLECT_QUIET seconds (at most COLLECT_MAX).
COLLECT_QUIET = 0.02
COLLECT_MAX = 0.15
RESOLVERS = 2  # calls in flight at once


class LeaseRequest:
    """One ref waiting for a lease; every caller that wants it waits on the same request (``done``)."""

    __slots__ = ("done", "error", "outcome", "ref", "tries")

    def __init__(self, ref: PicRef) -> None:
        self.ref = ref
        self.done = threading.Event()
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None
        self.tries = 0  # calls that ended without an answer for this ref (cancelled part-way)


def _closed() -> DownloadCancelled:
    return DownloadCancelled(translate("session", "the picture session was closed"))


class LeaseBatcher:
    """Collects lease requests and resolves them in batches; thread-safe. Owns its collecting thread and
    resolver threads (started on first need); ``close()`` stops them without waiting for a call.

    ``resolve(refs, cancel)`` makes the call; ``record(outcomes)`` is told every answer before its waiters
    wake; ``usable(ident, now)`` is the lease already good enough, which is then used instead of a request.
    ``closing`` is shared with the owner: once set, nothing new is queued.
    """

    def __init__(
        self,
        resolve: Callable[[list[PicRef], threading.Event | None], list[Outcome]],
        record: Callable[[list[Outcome]], None],
        usable: Callable[[Ident, float], Lease | None],
        closing: threading.Event,
        *,
        quiet: float = COLLECT_QUIET,
    ) -> None:
        self._resolve = resolve
        self._record = record
        self._usable = usable
        self._closing = closing
        self._quiet = quiet
        self._max_wait = max(COLLECT_MAX, quiet)
        self._lock = threading.Lock()  # guards everything below
        self._wakeup = threading.Condition(self._lock)
        self._requests: dict[Ident, LeaseRequest] = {}  # queued or being resolved
        self._queue: dict[Ident, None] = {}  # queued, not yet sent (ordered set)
        self._collector: threading.Thread | None = None
        self._batches: queue.SimpleQueue[list[LeaseRequest] | None] = queue.SimpleQueue()
        self._resolve_requests = 0

    @property
    def resolve_requests(self) -> int:
        """Calls of ``resolve`` made so far (collected batches and ``resolve_now``)."""
        with self._lock:
            return self._resolve_requests

    def resolve_now(self, refs: list[PicRef], cancel: threading.Event | None) -> list[Outcome]:
        """Resolve ``refs`` (no duplicates) in the caller's thread. Requests for them already made wait for
        this answer, and those still queued are taken over; what ``resolve`` raises reaches them too."""
        owned: list[LeaseRequest] = []
        with self._lock:
            self._resolve_requests += 1
            for ref in refs:
                request = self._requests.get(ref.ident)
                if request is None:
                    request = self._requests[ref.ident] = LeaseRequest(ref)
                    owned.append(request)
                elif ref.ident in self._queue:
                    del self._queue[ref.ident]
                    owned.append(request)
        try:
            outcomes = self._resolve(refs, cancel)
        except BaseException as exc:
            self._complete(owned, [], exc)
            raise
        self._complete(owned, outcomes, None)
        return outcomes

    def enqueue(self, refs: Iterable[PicRef]) -> dict[Ident, Lease | LeaseRequest]:
        """Per ref: its usable lease, or the request to wait on (queued now if there was none).
        Raises DownloadCancelled once closing."""
        if self._closing.is_set():
            raise _closed()
        now = time.monotonic()
        result: dict[Ident, Lease | LeaseRequest] = {}
        with self._lock:
            if self._closing.is_set():  # again under the lock: close() may have won the race
                raise _closed()
            added = False
            for ref in refs:
                ident = ref.ident
                if ident in result:
                    continue
                request = self._requests.get(ident)
                if request is not None:
                    result[ident] = request
                    continue
                # Checked under the lock that also retires requests, so an answer that landed a moment
                # ago is used instead of being asked for again.
                lease = self._usable(ident, now)
                if lease is not None:
                    result[ident] = lease
                    continue
                request = LeaseRequest(ref)
                self._requests[ident] = request
                self._queue[ident] = None
                result[ident] = request
                added = True
            if added:
                self._wake_collector_locked()
        return result

    def outcome_of(self, request: LeaseRequest) -> Outcome:
        """The answer of a finished request; raises its error, or DownloadCancelled once closing."""
        if request.error is not None:
            raise request.error
        if request.outcome is None:
            if self._closing.is_set():
                raise _closed()
            missing = translate("session", "the server's reply did not include this picture")
            return PicFailure(request.ref, missing, reason=FailureReason.NOT_IN_REPLY)
        return request.outcome

    def close(self) -> None:
        """Set ``closing``, stop collecting, and release every waiter (``outcome_of`` then raises
        DownloadCancelled); a call on the wire is not waited for."""
        with self._lock:
            self._closing.set()
            self._wakeup.notify_all()
            collector = self._collector
        if collector is not None:
            collector.join()  # quick: it only ever waits on ``closing``
            for _ in range(RESOLVERS):
                self._batches.put(None)
        with self._lock:
            stranded = list(self._requests.values())
            self._requests.clear()
            self._queue.clear()
        for request in stranded:
            request.done.set()

    def _wake_collector_locked(self) -> None:
        """Start the collecting thread on first need, and wake it (caller holds the lock)."""
        if self._collector is None:
            self._collector = threading.Thread(
                target=self._collect_loop, name="kdocs-lease-collect", daemon=True
            )
            self._collector.start()
            for _ in range(RESOLVERS):
                threading.Thread(target=self._resolve_loop, name="kdocs-lease-resolve", daemon=True).start()
        self._wakeup.notify_all()

    def _collect_loop(self) -> None:
        """Wait for requests, let more arrive for a moment, hand the lot to a resolver; until closed."""
        while True:
            with self._lock:
                while not self._queue and not self._closing.is_set():
                    self._wakeup.wait()
                if self._closing.is_set():
                    return
                seen = len(self._queue)
            started = time.monotonic()
            while seen < MAX_PICS_PER_CALL:
                left = started + self._max_wait - time.monotonic()
                if left <= 0 or self._closing.wait(min(self._quiet, left)):
                    break
                with self._lock:
                    if len(self._queue) == seen:
                        break
                    seen = len(self._queue)
            with self._lock:
                batch, self._queue = list(self._queue), {}
                requests = [self._requests[ident] for ident in batch]
                if requests:
                    self._resolve_requests += 1
            if requests:
                self._batches.put(requests)

    def _resolve_loop(self) -> None:
        """One resolver: collected batches, one call each, until ``close()``."""
        while (requests := self._batches.get()) is not None:
            if not self._closing.is_set():  # after close() every waiter has been released already
                self._resolve_collected(requests)

    def _resolve_collected(self, requests: list[LeaseRequest]) -> None:
        error: BaseException | None = None
        outcomes: list[Outcome] = []
        try:
            outcomes = self._resolve([r.ref for r in requests], self._closing)
        except BaseException as exc:  # handed to every waiter of this batch
            error = exc
        self._complete(requests, outcomes, error)

    def _complete(
        self, requests: list[LeaseRequest], outcomes: list[Outcome], error: BaseException | None
    ) -> None:
        """Record the outcomes and wake the waiters of ``requests``.

        A request the call left unanswered without an error (it was cancelled part-way) goes back to the
        queue once, so a cancelled refresh does not turn into "no URL" for someone else's tile.
        """
        self._record(outcomes)
        by_ident = {outcome.ref.ident: outcome for outcome in outcomes}
        with self._lock:
            requeued = False
            for request in requests:
                ident = request.ref.ident
                outcome = by_ident.get(ident)
                if outcome is None and error is None and not self._closing.is_set() and request.tries == 0:
                    request.tries += 1
                    self._queue[ident] = None
                    requeued = True
                    continue
                if self._requests.get(ident) is request:
                    del self._requests[ident]
                request.outcome = outcome
                request.error = error
                request.done.set()
            if requeued:
                self._wake_collector_locked()
