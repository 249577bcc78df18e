"""What the browser reports to the status bar, worked out from the model and the sorted lease deadlines
(``core.deadlines``), so a status update never walks all rows."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from kdocs_viewer.core.deadlines import DeadlineIndex
from kdocs_viewer.core.expiry import EXPIRING_SOON
from kdocs_viewer.core.models import Ident
from kdocs_viewer.gui.picture_model import PictureModel

__all__ = ["BrowserStats", "browser_stats", "note_deadlines"]


@dataclass(frozen=True, slots=True)
class BrowserStats:
    """What the status bar shows."""

    pictures: int = 0
    loaded: int = 0
    failed: int = 0
    expiring_soon: int = 0  # needed or not: leases with 0 < time left < expiry.EXPIRING_SOON
    api_calls: int = 0
    expired: int = 0  # leases past their lifetime (only needed ones get refreshed)


def browser_stats(model: PictureModel, deadlines: DeadlineIndex, api_calls: int) -> BrowserStats:
    expired, soon = deadlines.counts(time.monotonic(), EXPIRING_SOON)
    return BrowserStats(
        pictures=model.rowCount(),
        loaded=model.ready_count,
        failed=model.failed_count,
        expiring_soon=soon,
        api_calls=api_calls,
        expired=expired,
    )


def note_deadlines(deadlines: DeadlineIndex, model: PictureModel, idents: Iterable[Ident]) -> None:
    """Bring the deadline index in line with the model's lease of each ident (the model decides which lease
    a row keeps, e.g. the newest one)."""
    item_for = model.item_for
    deadlines.update(
        (ident, item.lease.expires_at if item is not None and item.lease is not None else None)
        for ident in idents
        for item in (item_for(ident),)
    )
