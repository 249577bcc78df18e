"""Lease deadlines kept sorted, for the status bar's "expired" and "expiring soon" counts."""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from kdocs_viewer.core.models import Ident

__all__ = ["DeadlineIndex"]

_BULK_UPDATE = 256  # more changed deadlines than this: one re-sort beats that many sorted insertions


class DeadlineIndex:
    """Lease deadlines per ident, also kept sorted, so the status counts are two bisections.

    An update costs O(log n) to find plus a memmove, where sorting afresh would cost all 10,000 deadlines
    whenever one lease changes, on the 1 Hz tick and the status timer.
    """

    def __init__(self) -> None:
        self._of: dict[Ident, float] = {}
        self._sorted: list[float] = []

    def clear(self) -> None:
        self._of.clear()
        self._sorted.clear()

    def update(self, changes: Iterable[tuple[Ident, float | None]]) -> None:
        """Set each ident's deadline (None: no bounded lease). A big batch (the first resolve's answers)
        re-sorts once instead of paying a memmove per insertion."""
        latest = dict(changes)  # an ident named twice: its last deadline counts
        changes = [(ident, deadline) for ident, deadline in latest.items() if self._of.get(ident) != deadline]
        if len(changes) > _BULK_UPDATE:
            for ident, deadline in changes:
                self._store(ident, deadline)
            self._sorted = sorted(self._of.values())
            return
        for ident, deadline in changes:
            old = self._store(ident, deadline)
            if old is not None:
                del self._sorted[bisect.bisect_left(self._sorted, old)]
            if deadline is not None:
                bisect.insort(self._sorted, deadline)

    def _store(self, ident: Ident, deadline: float | None) -> float | None:
        """Record the deadline; returns the previous one."""
        if deadline is None:
            return self._of.pop(ident, None)
        old = self._of.get(ident)
        self._of[ident] = deadline
        return old

    def counts(self, now: float, soon: float) -> tuple[int, int]:
        """(deadlines ≤ now, deadlines in (now, now + soon))."""
        expired = bisect.bisect_right(self._sorted, now)
        return expired, max(0, bisect.bisect_left(self._sorted, now + soon) - expired)

    def __len__(self) -> int:
        return len(self._of)
