"""Keeps the picture URLs the user needs alive, and spends API calls on nothing else.

One worker thread, owned here, makes every API call (through the session's ``resolve``): the initial resolve
— the rows on screen first, the rest in the background in batches — and refreshes. What to ask and when is
decided by ``core.refresh.RefreshPlanner`` (rules and tests there); this class only arms its two timers for
the times the planner names, runs the planner's tasks on the worker and feeds the answers back. While
nothing needed is about to expire the one refresh timer is off and the keeper makes no calls at all.

A rejected token (code 20007) pauses the worker with its queue intact; ``resume`` continues it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from kdocs_viewer.core.errors import FailureReason, reason_of
from kdocs_viewer.core.models import Ident, Lease, Outcome, PicFailure, PicRef
from kdocs_viewer.core.redact import redact
from kdocs_viewer.core.refresh import BACKGROUND_DELAY, RefreshPlanner, ResolveTask, TaskKind, background_wait
from kdocs_viewer.gui.failure_text import with_advice
from kdocs_viewer.gui.retired import retire

if TYPE_CHECKING:  # the session module is loaded after the first paint (it brings the network stack)
    from kdocs_viewer.core.session import LeaseResolver

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ResolveAnswer:
    kind: TaskKind
    refs: list[PicRef]
    outcomes: list[Outcome]
    error: str = ""  # set when the whole call failed (outcomes are then failures made from it)
    first: bool = False  # answers the first screen's task (possibly with nothing, when it was skipped)


class _Signals(QObject):
    """GUI-thread relay: the worker emits here, delivery to the keeper's slots is queued."""

    answered = Signal(object)
    rejected = Signal()


def _ms(seconds: float) -> int:
    """A timer interval for ``seconds`` from now, rounded up so the planned time has come when it fires (a
    timer firing early finds nothing due and is armed again)."""
    return max(0, math.ceil(seconds * 1000)) + 1


class LeaseKeeper(QObject):
    """Owner of the resolve worker, the single refresh timer and the background timer."""

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
        self._cond = threading.Condition()  # guards the planner (GUI thread and worker) and the flags below
        self._planner = RefreshPlanner(session.leases.get)
        self._busy = False
        self._paused = False
        self._stopping = False
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._token_rejected = False
        self._closed = False
        self._timer = QTimer(self)  # the refresh timer: created first, the bench finds it that way
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_refresh_due)
        self._background_timer = QTimer(self)
        self._background_timer.setSingleShot(True)
        self._background_timer.timeout.connect(self._on_background_timer)
        self._background_gate: Callable[[], bool] | None = None
        self._background_since = 0.0
        self.refresh_batches = 0  # refresh calls requested (for the status line and tests)
        self._without_link: set[Ident] = set()  # pictures whose last resolve failed: what failures count

    # -- set-up ----------------------------------------------------------------------------------------
    def start(self, first: Sequence[PicRef], rest: Sequence[PicRef]) -> None:
        """Resolve ``first`` (what is on screen) in one task, then ``rest`` in background chunks.

        The background chunks are queued only a moment after the first task was answered
        (``refresh.background_wait``), so the first screen's resolve and thumbnails never share the CPU
        with them.
        """
        if self._closed:
            return
        self._without_link.clear()
        with self._cond:
            self._planner.start(first, rest)
            self._cond.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kdocs-lease-keeper", daemon=True)
            self._thread.start()

    def set_background_gate(self, gate: Callable[[], bool] | None) -> None:
        """``gate()`` is True once the background resolves may start (e.g. the thumbnail loader went idle);
        see ``refresh.background_wait`` for when it is asked."""
        self._background_gate = gate

    def resolve_again(self, refs: Sequence[PicRef]) -> None:
        """Resolve these now, ahead of the background queue (a retry of failed pictures)."""
        if self._closed or not refs:
            return
        with self._cond:
            self._planner.resolve_again(refs)
            self._cond.notify()

    # -- what is needed --------------------------------------------------------------------------------
    def set_needed(self, owner: str, idents: Iterable[Ident]) -> None:
        """Replace one owner's needed set ("visible", "selected", "preview", "pin:save", …) and re-plan."""
        with self._cond:
            if not self._planner.set_needed(owner, idents):
                return
            self._cond.notify()
        self._rearm()

    def needed_by(self, owner: str) -> frozenset[Ident]:
        with self._cond:
            return self._planner.needed_by(owner)

    def needed(self) -> set[Ident]:
        with self._cond:
            return set(self._planner.needed())

    # -- refresh timer (GUI thread) --------------------------------------------------------------------
    def set_refresh_enabled(self, on: bool) -> None:
        with self._cond:
            self._planner.refresh_enabled = on
        self._rearm()

    def refresh_enabled(self) -> bool:
        with self._cond:
            return self._planner.refresh_enabled

    def refresh_timer_active(self) -> bool:
        return self._timer.isActive()

    def _rearm(self) -> None:
        if self._closed or self._token_rejected:
            self._timer.stop()
            return
        now = time.monotonic()
        with self._cond:
            due = self._planner.next_refresh_at(now)
        if due is None:
            self._timer.stop()
        else:
            self._timer.start(_ms(due - now))

    @Slot()
    def _on_refresh_due(self) -> None:
        if self._closed or self._token_rejected:
            return
        with self._cond:
            planned = self._planner.plan_refresh(time.monotonic())
            if planned:
                self.refresh_batches += len(planned)
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
        now = time.monotonic()
        with self._cond:
            report = self._planner.answered(answer.kind, answer.refs, answer.outcomes, now)
            start_background = answer.first and self._planner.holds_background()
        if start_background and not self._background_timer.isActive():
            self._background_since = now
            self._background_timer.start(_ms(BACKGROUND_DELAY))
        self._without_link.difference_update(o.ref.ident for o in answer.outcomes if isinstance(o, Lease))
        self._without_link.update(failure.ref.ident for failure in report.failed)
        if answer.outcomes:
            self.leasesResolved.emit(answer.outcomes)
        if answer.error:
            self.errorOccurred.emit(answer.error)
        elif report.failed:  # a dead server or a wrong file token fails every tile: one line, all counted
            first = report.failed[0]
            count = len(self._without_link)  # so far, as the status bar counts them; not this answer's
            text = self.tr("No download link for %n picture(s): %1 (F5 retries)", "", count)
            self.errorOccurred.emit(with_advice(text.replace("%1", first.message), first.reason))
        elif report.failed_refresh:
            first = report.failed_refresh[0]
            text = self.tr("Could not refresh %n picture link(s): %1", "", len(report.failed_refresh))
            self.errorOccurred.emit(with_advice(text.replace("%1", first.message), first.reason))
        self._rearm()
        if self.is_idle():
            self.idle.emit()

    def is_idle(self) -> bool:
        with self._cond:
            return not self._busy and self._planner.is_idle()

    @Slot()
    def _on_background_timer(self) -> None:
        if self._closed:
            return
        wait = background_wait(time.monotonic() - self._background_since, self._background_gate)
        if wait is not None:
            self._background_timer.start(_ms(wait))
            return
        with self._cond:
            self._planner.release_background()
            self._cond.notify()

    # -- worker thread ---------------------------------------------------------------------------------
    def _next_task(self) -> ResolveTask | None:
        with self._cond:
            self._busy = False
            while True:
                while not self._stopping and (self._paused or not self._planner.has_tasks()):
                    self._cond.wait()
                if self._stopping:
                    return None
                task = self._planner.take()
                if task is not None:
                    self._busy = True
                    return task

    def _run(self) -> None:
        from kdocs_viewer.core.api import KDocsError, TokenInvalidError  # here, not at start-up: httpx

        while (task := self._next_task()) is not None:
            refs = task.refs
            if not refs:  # the first screen had its leases already: the background must not wait forever
                self._signals.answered.emit(ResolveAnswer(task.kind, [], [], first=task.first))
                continue
            try:
                outcomes = self._session.resolve(refs, cancel=self._cancel)
            except TokenInvalidError:
                with self._cond:
                    self._paused = True
                    self._planner.put_back(task)
                self._signals.rejected.emit()
                continue
            except (KDocsError, ValueError, RuntimeError) as exc:  # what LeaseResolver.resolve raises
                if self._cancel.is_set():
                    return
                message = redact(str(exc)) or type(exc).__name__
                log.warning("resolve failed: %s", message)
                # A RuntimeError is the client closing under the call: nothing is wrong with the pictures.
                reason = reason_of(exc) or FailureReason.CANCELLED
                failures: list[Outcome] = [PicFailure(ref, message, reason=reason) for ref in refs]
                self._signals.answered.emit(ResolveAnswer(task.kind, refs, failures, message, task.first))
                continue
            if self._cancel.is_set():
                return
            self._signals.answered.emit(ResolveAnswer(task.kind, refs, outcomes, first=task.first))

    # -- lifetime --------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the timers and cancel the running call; the worker ends once the call returns, not waited
        for (``gui.retired``): an API call on the wire cannot be interrupted. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self._background_timer.stop()
        self._cancel.set()
        with self._cond:
            self._stopping = True
            self._planner.clear()
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None:
            retire(self._signals, thread.is_alive)
