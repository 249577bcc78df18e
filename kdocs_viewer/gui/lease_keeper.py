"""Keeps the picture URLs the user needs alive, and spends API calls on nothing else.

One worker thread, owned here, makes every API call (through the ``PictureSession``): the initial resolve —
the rows on screen first, the rest in the background in batches — and refreshes. Refreshes are planned on the
GUI thread with ``expiry.plan_refresh`` for the *needed* idents only (visible, selected, previewed, being
saved) and scheduled with ONE single-shot timer armed at ``expiry.next_refresh_at``: while nothing needed is
about to expire the keeper makes no calls at all.

A rejected token (code 20007) pauses the worker with its queue intact; ``set_token`` resumes it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from kdocs_viewer.core.contract import MAX_PICS_PER_CALL
from kdocs_viewer.core.expiry import next_refresh_at, plan_refresh
from kdocs_viewer.core.models import Ident, Lease, Outcome, PicFailure, PicRef
from kdocs_viewer.core.redact import redact

if TYPE_CHECKING:  # the session module is loaded after the first paint (it brings the network stack)
    from kdocs_viewer.core.session import LeaseResolver

log = logging.getLogger(__name__)

BACKGROUND_CHUNK = (
    4 * MAX_PICS_PER_CALL
)  # refs per background resolve task (the client runs batches in parallel)
# The background chunks wait at least this long after the first screen's resolve answered (or was skipped),
# then while the gate (``set_background_gate``: the thumbnail loader is still busy) says so, checked every
# BACKGROUND_POLL_MS, at most BACKGROUND_MAX_WAIT_MS in all. So the first screen's fetches and decodes get
# the CPU instead of sharing it with 400-picture answers being parsed and applied. Needed pictures never
# wait: ``set_needed`` puts them ahead at once.
BACKGROUND_DELAY_MS = 300
BACKGROUND_POLL_MS = 100
BACKGROUND_MAX_WAIT_MS = 3000
RETRY_AFTER_FAILURE = 15.0  # seconds before a failed refresh of the same picture is tried again
MAX_RETRY_AFTER = 300.0
# A refresh that is sent anyway also takes the needed leases due within this many seconds: a second call a
# moment later costs quota; 30 s is 5-10 % of a local (300 s) or attachment (600 s) link's life.
REFRESH_LOOKAHEAD = 30.0


@dataclass(slots=True)
class _Task:
    refs: list[PicRef]
    kind: str  # "initial" (skips refs resolved meanwhile), "refresh" or "retry"
    first: bool = False  # the first screen's resolve: its answer releases the background chunks


@dataclass(frozen=True, slots=True)
class ResolveAnswer:
    kind: str
    refs: list[PicRef]
    outcomes: list[Outcome]
    error: str = ""  # set when the whole call failed (outcomes are then failures made from it)
    first: bool = False  # answers the first screen's task (possibly with nothing, when it was skipped)


class _Signals(QObject):
    """GUI-thread relay: the worker emits here, delivery to the keeper's slots is queued."""

    answered = Signal(object)
    rejected = Signal()


class _LeaseView(Mapping[Ident, Lease]):
    """The session's leases for a few idents, as the mapping ``expiry`` expects (O(needed), not O(all))."""

    def __init__(self, leases: dict[Ident, Lease]) -> None:
        self._leases = leases

    def __getitem__(self, key: Ident) -> Lease:
        return self._leases[key]

    def __iter__(self) -> Iterator[Ident]:
        return iter(self._leases)

    def __len__(self) -> int:
        return len(self._leases)


class LeaseKeeper(QObject):
    """Owner of the resolve worker and the single refresh timer."""

    leasesResolved = Signal(object)  # list[Outcome], in batches as answers arrive
    tokenRejected = Signal()  # once per rejection; the worker is paused until set_token()/resume()
    errorOccurred = Signal(str)  # human, redacted
    idle = Signal()  # the worker's queue ran empty

    def __init__(self, session: LeaseResolver, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._signals = _Signals(self)
        self._signals.answered.connect(self._on_answered)
        self._signals.rejected.connect(self._on_rejected)
        self._cond = threading.Condition()
        self._tasks: deque[_Task] = deque()
        self._background: list[_Task] = []  # held until the first screen answered (+ BACKGROUND_DELAY_MS)
        self._busy = False
        self._paused = False
        self._stopping = False
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._needed: dict[str, frozenset[Ident]] = {}
        self._refs: dict[Ident, PicRef] = {}
        self._unresolved: set[Ident] = set()
        self._prioritised: set[Ident] = set()
        self._refreshing: set[Ident] = set()
        self._retry_at: dict[Ident, tuple[float, float]] = {}  # ident -> (not before, current delay)
        self._refresh_enabled = True
        self._token_rejected = False
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_refresh_due)
        self._background_timer = QTimer(self)
        self._background_timer.setSingleShot(True)
        self._background_timer.timeout.connect(self._release_background)
        self._background_gate: Callable[[], bool] | None = None
        self._background_since = 0.0
        self.refresh_batches = 0  # refresh calls requested (for the status line and tests)

    # -- set-up ----------------------------------------------------------------------------------------
    def start(self, first: Sequence[PicRef], rest: Sequence[PicRef]) -> None:
        """Resolve ``first`` (what is on screen) in one task, then ``rest`` in background chunks.

        The background chunks are queued only ``BACKGROUND_DELAY_MS`` after the first task was answered, so
        the first screen's resolve and thumbnails never share the CPU with them.
        """
        if self._closed:
            return
        known = self._refs
        for ref in itertools.chain(first, rest):  # 10,000 refs on the GUI thread: no copy, no setdefault
            ident = ref.ident
            if ident not in known:
                known[ident] = ref
        self._unresolved = set(known)
        self._prioritised = {ref.ident for ref in first}  # already at the head of the queue
        rest = list(rest)
        background = [
            _Task(rest[i : i + BACKGROUND_CHUNK], "initial") for i in range(0, len(rest), BACKGROUND_CHUNK)
        ]
        with self._cond:
            if first:
                self._tasks.append(_Task(list(first), "initial", first=True))
                self._background.extend(background)
            else:
                self._tasks.extend(background)
            self._cond.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kdocs-lease-keeper", daemon=True)
            self._thread.start()

    def set_background_gate(self, gate: Callable[[], bool] | None) -> None:
        """``gate()`` is True once the background resolves may start (e.g. the thumbnail loader went idle);
        asked after the first screen answered + BACKGROUND_DELAY_MS, never waited on longer than
        BACKGROUND_MAX_WAIT_MS."""
        self._background_gate = gate

    def resolve_again(self, refs: Sequence[PicRef]) -> None:
        """Resolve these now, ahead of the background queue (a retry of failed pictures)."""
        if self._closed or not refs:
            return
        for ref in refs:
            self._refs.setdefault(ref.ident, ref)
        with self._cond:
            for i in reversed(range(0, len(refs), MAX_PICS_PER_CALL)):
                self._tasks.appendleft(_Task(list(refs[i : i + MAX_PICS_PER_CALL]), "retry"))
            self._cond.notify()

    # -- what is needed --------------------------------------------------------------------------------
    def set_needed(self, owner: str, idents: Iterable[Ident]) -> None:
        """Replace one owner's needed set ("visible", "selected", "preview", "pin:save", …) and re-plan."""
        frozen = frozenset(idents)
        if self._needed.get(owner) == frozen:
            return
        if frozen:
            self._needed[owner] = frozen
        else:
            self._needed.pop(owner, None)
        self._prioritise(frozen)
        self._rearm()

    def needed_by(self, owner: str) -> frozenset[Ident]:
        return self._needed.get(owner, frozenset())

    def needed(self) -> set[Ident]:
        out: set[Ident] = set()
        for idents in self._needed.values():
            out |= idents
        return out

    def _prioritise(self, idents: Iterable[Ident]) -> None:
        """Needed pictures still waiting for their first resolve jump the background queue."""
        jump = [self._refs[i] for i in idents if i in self._unresolved and i not in self._prioritised]
        if not jump:
            return
        self._prioritised.update(ref.ident for ref in jump)
        with self._cond:
            chunks = [jump[i : i + MAX_PICS_PER_CALL] for i in range(0, len(jump), MAX_PICS_PER_CALL)]
            for chunk in reversed(chunks):
                self._tasks.appendleft(_Task(chunk, "initial"))
            self._cond.notify()

    # -- refresh planning (GUI thread) -----------------------------------------------------------------
    def set_refresh_enabled(self, on: bool) -> None:
        self._refresh_enabled = on
        self._rearm()

    def refresh_enabled(self) -> bool:
        return self._refresh_enabled

    def refresh_timer_active(self) -> bool:
        return self._timer.isActive()

    def _plannable(self, now: float) -> tuple[list[Ident], float | None]:
        """Needed idents not being refreshed nor waiting out a failure; and the earliest retry time."""
        idents: list[Ident] = []
        retry_at: float | None = None
        for ident in self.needed():
            if ident in self._refreshing:
                continue
            waiting = self._retry_at.get(ident)
            if waiting is not None and waiting[0] > now:
                retry_at = waiting[0] if retry_at is None else min(retry_at, waiting[0])
                continue
            idents.append(ident)
        return idents, retry_at

    def _lease_view(self, idents: Iterable[Ident]) -> _LeaseView:
        leases: dict[Ident, Lease] = {}
        for ident in idents:
            lease = self._session.leases.get(ident)
            if lease is not None:
                leases[ident] = lease
        return _LeaseView(leases)

    def _rearm(self) -> None:
        if self._closed or self._token_rejected or not self._refresh_enabled:
            self._timer.stop()
            return
        now = time.monotonic()
        idents, retry_at = self._plannable(now)
        due = next_refresh_at(self._lease_view(idents), idents, now)
        if retry_at is not None:
            due = retry_at if due is None else min(due, retry_at)
        if due is None:
            self._timer.stop()
            return
        self._timer.start(max(0, int((due - now) * 1000) + 1))

    @Slot()
    def _on_refresh_due(self) -> None:
        if self._closed or self._token_rejected or not self._refresh_enabled:
            return
        now = time.monotonic()
        idents, _ = self._plannable(now)
        batches = plan_refresh(self._lease_view(idents), idents, now, lookahead=REFRESH_LOOKAHEAD)
        if batches:
            with self._cond:
                for batch in batches:
                    self._refreshing.update(ref.ident for ref in batch)
                    self._tasks.appendleft(_Task(batch, "refresh"))  # refreshes before background resolves
                    self.refresh_batches += 1
                self._cond.notify()
        self._rearm()

    # -- token -----------------------------------------------------------------------------------------
    def token_rejected(self) -> None:
        """Someone else (a thumbnail fetch) saw 20007: pause like the worker does."""
        with self._cond:
            self._paused = True
        self._on_rejected()

    def resume(self) -> None:
        """After a new token was given to the client: continue where the worker stopped."""
        self._token_rejected = False
        with self._cond:
            self._paused = False
            self._cond.notify()
        self._rearm()

    def is_paused(self) -> bool:
        return self._token_rejected

    @Slot()
    def _on_rejected(self) -> None:
        if self._closed or self._token_rejected:
            return
        self._token_rejected = True
        self._timer.stop()
        self.tokenRejected.emit()

    # -- answers (GUI thread) --------------------------------------------------------------------------
    @Slot(object)
    def _on_answered(self, answer: ResolveAnswer) -> None:
        if self._closed:
            return
        if answer.first and self._background and not self._background_timer.isActive():
            self._background_since = time.monotonic()
            self._background_timer.start(BACKGROUND_DELAY_MS)
        now = time.monotonic()
        failed_refresh: list[PicFailure] = []
        for outcome in answer.outcomes:
            ident = outcome.ref.ident
            self._unresolved.discard(ident)
            if answer.kind == "refresh":
                self._refreshing.discard(ident)
                if isinstance(outcome, PicFailure):
                    _, delay = self._retry_at.get(ident, (0.0, RETRY_AFTER_FAILURE / 2))
                    delay = min(MAX_RETRY_AFTER, delay * 2)
                    self._retry_at[ident] = (now + delay, delay)
                    failed_refresh.append(outcome)
                else:
                    self._retry_at.pop(ident, None)
        if answer.kind == "refresh":
            for ref in answer.refs:  # a ref the answer did not mention must not stay "refreshing" forever
                self._refreshing.discard(ref.ident)
        if answer.outcomes:
            self.leasesResolved.emit(answer.outcomes)
        first_failures = (
            [o for o in answer.outcomes if isinstance(o, PicFailure)] if answer.kind != "refresh" else []
        )
        if answer.error:
            self.errorOccurred.emit(answer.error)
        elif first_failures:  # a dead server or a wrong file token fails every tile: say so once
            text = self.tr("No download link for %n picture(s): %1 (F5 retries)", "", len(first_failures))
            self.errorOccurred.emit(text.replace("%1", first_failures[0].message))
        elif failed_refresh:
            self.errorOccurred.emit(
                self.tr("Could not refresh %n picture link(s): %1", "", len(failed_refresh)).replace(
                    "%1", failed_refresh[0].message
                )
            )
        self._rearm()
        if self.is_idle():
            self.idle.emit()

    def is_idle(self) -> bool:
        with self._cond:
            return not self._tasks and not self._busy and not self._background

    @Slot()
    def _release_background(self) -> None:
        if self._closed:
            return
        gate = self._background_gate
        waited_ms = (time.monotonic() - self._background_since) * 1000
        if gate is not None and waited_ms < BACKGROUND_MAX_WAIT_MS and not gate():
            self._background_timer.start(BACKGROUND_POLL_MS)
            return
        with self._cond:
            self._tasks.extend(self._background)
            self._background.clear()
            self._cond.notify()

    # -- worker thread ---------------------------------------------------------------------------------
    def _next_task(self) -> _Task | None:
        with self._cond:
            self._busy = False
            while not self._stopping and (self._paused or not self._tasks):
                self._cond.wait()
            if self._stopping:
                return None
            self._busy = True
            return self._tasks.popleft()

    def _run(self) -> None:
        from kdocs_viewer.core.api import KDocsError, TokenInvalidError  # here, not at start-up: httpx

        while (task := self._next_task()) is not None:
            refs = task.refs
            if task.kind == "initial":  # prioritised meanwhile, or learned by a fetch: skip
                leases = self._session.leases
                refs = [ref for ref in refs if leases.get(ref.ident) is None]
                if not refs:
                    if task.first:  # nothing to ask, but the background must not wait forever
                        self._signals.answered.emit(ResolveAnswer(task.kind, [], [], first=True))
                    continue
            try:
                outcomes = self._session.resolve(refs, cancel=self._cancel)
            except TokenInvalidError:
                with self._cond:
                    self._paused = True
                    self._tasks.appendleft(_Task(refs, task.kind, task.first))
                self._signals.rejected.emit()
                continue
            except (KDocsError, ValueError, RuntimeError) as exc:  # what LeaseResolver.resolve raises
                if self._cancel.is_set():
                    return
                message = redact(str(exc)) or type(exc).__name__
                log.warning("resolve failed: %s", message)
                failures: list[Outcome] = [PicFailure(ref, message) for ref in refs]
                self._signals.answered.emit(ResolveAnswer(task.kind, refs, failures, message, task.first))
                continue
            if self._cancel.is_set():
                return
            self._signals.answered.emit(ResolveAnswer(task.kind, refs, outcomes, first=task.first))

    # -- lifetime --------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the timer, cancel the running call, join the worker. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self._background_timer.stop()
        self._cancel.set()
        with self._cond:
            self._stopping = True
            self._tasks.clear()
            self._background.clear()
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
