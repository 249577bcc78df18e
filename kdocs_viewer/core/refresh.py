"""What the lease keeper asks the API for, in which order and when: the Qt-free half of ``gui.lease_keeper``.

Plain state and decisions — no threads, no timers, no clock reads: whatever depends on the time takes ``now``
(``time.monotonic()`` in the keeper, a number the tests move by hand). The keeper arms its timers for the
times asked here, runs ``take()``'s tasks on its worker and reports each answer back. Not thread-safe: the
keeper calls it under its own lock.

The rules:

- **First resolve.** What is on screen is one task; the rest are background chunks of ``BACKGROUND_CHUNK``,
  held until ``release_background`` (``background_wait`` says when). A first-resolve task skips the
  pictures that got a lease meanwhile (a thumbnail fetch learned it).
- **Needed first.** Pictures are needed by owners ("preview", "visible", "selected", "pin:save", …); a
  needed picture still waiting for its first resolve jumps the queue.
- **Refresh only what is needed**, when ``expiry`` says it is due; a call due anyway also takes the needed
  leases due within ``REFRESH_LOOKAHEAD``. When a refresh takes more than one call, the owners in
  ``NEED_PRIORITY`` go first. Nothing needed can expire: no timer at all.
- **Back off per picture.** A picture whose refresh failed waits ``refresh_retry_delay`` (15 s, doubling to
  300 s) before it is planned again; a success forgets the delay.
- **Queue order.** Refreshes, retries and needed first resolves go to the front, each batch of them in the
  order planned; background chunks to the back.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from kdocs_viewer.core import expiry
from kdocs_viewer.core.contract import MAX_PICS_PER_CALL
from kdocs_viewer.core.models import Ident, Lease, Outcome, PicFailure, PicRef

__all__ = [
    "BACKGROUND_CHUNK",
    "NEED_PRIORITY",
    "REFRESH_LOOKAHEAD",
    "AnswerReport",
    "RefreshPlanner",
    "ResolveTask",
    "TaskKind",
    "background_wait",
    "refresh_retry_delay",
]

# Refs per background task: the client sends its batches of MAX_PICS_PER_CALL in parallel.
BACKGROUND_CHUNK = 4 * MAX_PICS_PER_CALL
# The background chunks wait at least BACKGROUND_DELAY after the first screen's resolve answered (or was
# skipped), then while the keeper's gate says so (the thumbnail loader is still busy), asked every
# BACKGROUND_POLL, at most BACKGROUND_MAX_WAIT in all: the first screen's fetches and decodes get the CPU
# instead of sharing it with 400-picture answers being parsed and applied. Needed pictures never wait.
BACKGROUND_DELAY = 0.3
BACKGROUND_POLL = 0.1
BACKGROUND_MAX_WAIT = 3.0
RETRY_AFTER_FAILURE = 15.0  # seconds before a picture whose refresh failed is planned again
MAX_RETRY_AFTER = 300.0
# A refresh sent anyway also takes the needed leases due within this many seconds: a second call a moment
# later costs quota; 30 s is 5-10 % of a local (300 s) or attachment (600 s) link's life.
REFRESH_LOOKAHEAD = 30.0
# Whose pictures go first when a refresh takes more than one call: what the user looks at closely, then the
# screen, then the selection; other owners (pins such as "pin:save") after them, by name.
NEED_PRIORITY = ("preview", "visible", "selected")


class TaskKind(Enum):
    INITIAL = "initial"  # a first resolve: pictures that got a lease meanwhile are skipped
    REFRESH = "refresh"  # needed leases due for renewal: a failure backs off per picture
    RETRY = "retry"  # failed pictures asked for again (F5): resolved whatever the session knows


@dataclass(slots=True)
class ResolveTask:
    """One ``resolve`` call's worth of work for the keeper's worker."""

    refs: list[PicRef]
    kind: TaskKind
    first: bool = False  # the first screen's resolve: its answer starts the background's wait


@dataclass(frozen=True, slots=True)
class AnswerReport:
    """What an answer means for the user: pictures that got no first link, and refreshes that failed."""

    failed: list[PicFailure]
    failed_refresh: list[PicFailure]


def chunked(refs: Sequence[PicRef], size: int = MAX_PICS_PER_CALL) -> list[list[PicRef]]:
    return [list(refs[i : i + size]) for i in range(0, len(refs), size)]


def refresh_retry_delay(previous: float | None) -> float:
    """Seconds a picture waits after a failed refresh: 15 s, then twice its ``previous`` wait, up to 300 s."""
    return RETRY_AFTER_FAILURE if previous is None else min(MAX_RETRY_AFTER, 2.0 * previous)


def background_wait(waited: float, gate: Callable[[], bool] | None) -> float | None:
    """How much longer the held background chunks wait, ``waited`` s after the first screen's answer (None:
    release them now).

    ``gate()`` is True once they may start (e.g. the thumbnail loader went idle); it is asked only after
    BACKGROUND_DELAY and never waited on beyond BACKGROUND_MAX_WAIT. No gate: they go after the delay.
    """
    if waited < BACKGROUND_DELAY:
        return BACKGROUND_DELAY - waited
    if gate is None or waited >= BACKGROUND_MAX_WAIT or gate():
        return None
    return BACKGROUND_POLL


class RefreshPlanner:
    """The keeper's queue, the needed sets and the refresh bookkeeping; see the module docstring."""

    def __init__(self, lease_of: Callable[[Ident], Lease | None]) -> None:
        self._lease_of = lease_of  # the session's newest lease of a picture (``LeaseTable.get``)
        self._queue: deque[ResolveTask] = deque()
        self._held: list[ResolveTask] = []  # background chunks, until release_background()
        self._needed: dict[str, frozenset[Ident]] = {}
        self._refs: dict[Ident, PicRef] = {}
        self._unresolved: set[Ident] = set()
        self._prioritised: set[Ident] = set()  # already queued ahead of the background
        self._refreshing: set[Ident] = set()
        self._backoff: dict[Ident, tuple[float, float]] = {}  # ident -> (not before, its wait)
        self.refresh_enabled = True

    # -- set-up ----------------------------------------------------------------------------------------
    def start(self, first: Sequence[PicRef], rest: Sequence[PicRef]) -> None:
        """Queue ``first`` (what is on screen) as one task and hold ``rest`` in background chunks — queued
        at once when there is no first screen."""
        known = self._refs
        for ref in itertools.chain(first, rest):  # 10,000 refs on the GUI thread: no copy, no setdefault
            ident = ref.ident
            if ident not in known:
                known[ident] = ref
        self._unresolved = set(known)
        self._prioritised = {ref.ident for ref in first}
        background = [ResolveTask(chunk, TaskKind.INITIAL) for chunk in chunked(rest, BACKGROUND_CHUNK)]
        if first:
            self._queue.append(ResolveTask(list(first), TaskKind.INITIAL, first=True))
            self._held.extend(background)
        else:
            self._queue.extend(background)

    def resolve_again(self, refs: Sequence[PicRef]) -> None:
        """Resolve these next, ahead of everything queued (a retry of failed pictures)."""
        for ref in refs:
            self._refs.setdefault(ref.ident, ref)
        self._push_front([ResolveTask(chunk, TaskKind.RETRY) for chunk in chunked(refs)])

    # -- what is needed --------------------------------------------------------------------------------
    def set_needed(self, owner: str, idents: Iterable[Ident]) -> bool:
        """Replace one owner's needed set; False when it did not change. Needed pictures not resolved yet
        are queued ahead of the background."""
        frozen = frozenset(idents)
        if self._needed.get(owner, frozenset()) == frozen:
            return False
        if frozen:
            self._needed[owner] = frozen
        else:
            self._needed.pop(owner, None)
        jump = [self._refs[i] for i in frozen if i in self._unresolved and i not in self._prioritised]
        if jump:
            self._prioritised.update(ref.ident for ref in jump)
            self._push_front([ResolveTask(chunk, TaskKind.INITIAL) for chunk in chunked(jump)])
        return True

    def needed_by(self, owner: str) -> frozenset[Ident]:
        return self._needed.get(owner, frozenset())

    def needed(self) -> list[Ident]:
        """Every needed ident once, owners in NEED_PRIORITY order, then the others by name."""
        owners = [o for o in NEED_PRIORITY if o in self._needed]
        owners += sorted(o for o in self._needed if o not in NEED_PRIORITY)
        seen: set[Ident] = set()
        out: list[Ident] = []
        for owner in owners:
            for ident in self._needed[owner]:
                if ident not in seen:
                    seen.add(ident)
                    out.append(ident)
        return out

    # -- the queue -------------------------------------------------------------------------------------
    def take(self) -> ResolveTask | None:
        """The next task with something to ask; None when the queue ran empty.

        A first-resolve task loses the pictures that have a lease by now; emptied, it is dropped — unless it
        is the first screen's, which is returned empty so its (empty) answer still starts the background.
        """
        while self._queue:
            task = self._queue.popleft()
            if task.kind is not TaskKind.INITIAL:
                return task
            lease_of = self._lease_of
            refs = [ref for ref in task.refs if lease_of(ref.ident) is None]
            if refs or task.first:
                return ResolveTask(refs, task.kind, task.first)
        return None

    def put_back(self, task: ResolveTask) -> None:
        """A task that could not run (the token was rejected) goes first again."""
        self._queue.appendleft(task)

    def release_background(self) -> None:
        self._queue.extend(self._held)
        self._held.clear()

    def has_tasks(self) -> bool:
        return bool(self._queue)

    def holds_background(self) -> bool:
        return bool(self._held)

    def is_idle(self) -> bool:
        """Nothing queued and nothing held back."""
        return not self._queue and not self._held

    def clear(self) -> None:
        self._queue.clear()
        self._held.clear()

    def _push_front(self, tasks: list[ResolveTask]) -> None:
        self._queue.extendleft(reversed(tasks))

    # -- refreshes -------------------------------------------------------------------------------------
    def _plannable(self, now: float) -> tuple[dict[Ident, Lease], list[Ident], float | None]:
        """The leases of the needed idents not being refreshed nor waiting out a failure, those idents in
        priority order, and the earliest end of a wait."""
        leases: dict[Ident, Lease] = {}
        idents: list[Ident] = []
        waits_until: float | None = None
        for ident in self.needed():
            if ident in self._refreshing:
                continue
            backoff = self._backoff.get(ident)
            if backoff is not None and backoff[0] > now:
                waits_until = backoff[0] if waits_until is None else min(waits_until, backoff[0])
                continue
            idents.append(ident)
            lease = self._lease_of(ident)
            if lease is not None:
                leases[ident] = lease
        return leases, idents, waits_until

    def next_refresh_at(self, now: float) -> float | None:
        """When the keeper's one refresh timer should fire (``now`` if something is due already); None when
        nothing needed can fall due — or refreshing is off."""
        if not self.refresh_enabled:
            return None
        leases, idents, waits_until = self._plannable(now)
        due = expiry.next_refresh_at(leases, idents, now)
        if waits_until is not None:
            due = waits_until if due is None else min(due, waits_until)
        return due

    def plan_refresh(self, now: float) -> list[ResolveTask]:
        """Queue the refresh calls due at ``now`` at the front (in priority order) and return them."""
        if not self.refresh_enabled:
            return []
        leases, idents, _ = self._plannable(now)
        batches = expiry.plan_refresh(leases, idents, now, lookahead=REFRESH_LOOKAHEAD)
        tasks = [ResolveTask(batch, TaskKind.REFRESH) for batch in batches]
        for task in tasks:
            self._refreshing.update(ref.ident for ref in task.refs)
        self._push_front(tasks)
        return tasks

    # -- answers ---------------------------------------------------------------------------------------
    def answered(
        self, kind: TaskKind, refs: Sequence[PicRef], outcomes: Sequence[Outcome], now: float
    ) -> AnswerReport:
        """Take in the answer to a task of ``kind`` for ``refs`` (received at ``now``)."""
        failed: list[PicFailure] = []
        failed_refresh: list[PicFailure] = []
        refresh = kind is TaskKind.REFRESH
        for outcome in outcomes:
            ident = outcome.ref.ident
            self._unresolved.discard(ident)
            if refresh:
                self._refreshing.discard(ident)
            if not isinstance(outcome, PicFailure):
                if refresh:
                    self._backoff.pop(ident, None)
            elif refresh:
                previous = self._backoff.get(ident)
                wait = refresh_retry_delay(None if previous is None else previous[1])
                self._backoff[ident] = (now + wait, wait)
                failed_refresh.append(outcome)
            else:
                failed.append(outcome)
        if refresh:  # also those the answer did not mention: none stays "refreshing" forever
            self._refreshing.difference_update(ref.ident for ref in refs)
        return AnswerReport(failed, failed_refresh)
