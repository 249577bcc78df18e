"""The newest lease of each picture, shared by every thread of a session.

Apart from ``PictureSession`` because the GUI's lease keeper and the thumbnail loader read it too
(``LeaseSource``), and its one rule — a late, older answer never replaces a newer lease — is its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from kdocs_viewer.core.models import Ident, Lease, Outcome

__all__ = ["LeaseTable"]


class LeaseTable:
    """Thread-safe ident → newest Lease. Readers get snapshots; a late, older answer never wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._leases: dict[Ident, Lease] = {}

    def get(self, ident: Ident) -> Lease | None:
        with self._lock:
            return self._leases.get(ident)

    def snapshot(self) -> dict[Ident, Lease]:
        with self._lock:
            return dict(self._leases)

    def put(self, lease: Lease) -> None:
        with self._lock:
            old = self._leases.get(lease.ref.ident)
            if old is None or lease.obtained_at >= old.obtained_at:
                self._leases[lease.ref.ident] = lease

    def update(self, outcomes: Iterable[Outcome]) -> None:
        """Record the Leases among ``outcomes``; failures leave an existing lease alone (it may work)."""
        for outcome in outcomes:
            if isinstance(outcome, Lease):
                self.put(outcome)

    def discard(self, ident: Ident, url: str | None = None) -> bool:
        """Drop the lease of ``ident`` — only if its URL is ``url`` when given, so a newer one survives."""
        with self._lock:
            lease = self._leases.get(ident)
            if lease is None or (url is not None and lease.url != url):
                return False
            del self._leases[ident]
            return True

    def clear(self) -> None:
        with self._lock:
            self._leases.clear()

    def __contains__(self, ident: object) -> bool:
        with self._lock:
            return ident in self._leases

    def __len__(self) -> int:
        with self._lock:
            return len(self._leases)

    def __repr__(self) -> str:
        return f"<LeaseTable {len(self)} leases>"  # never the URLs: they are signed capabilities
