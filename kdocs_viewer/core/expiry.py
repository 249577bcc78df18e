"""How long a picture URL is good for, and which leases to refresh when.

Pure functions of plain data (no I/O, no clock reads), so the GUI's lease keeper, the CLI and the saver share
one set of rules and the tests can drive time by hand. The per-tag values live in ``core.contract``.

Rules (kdocs-api.md §1):
- an expiry embedded in the URL (``Expires=<unix>``, or ``X-Amz-Date`` + ``X-Amz-Expires``) wins;
- else the per-tag lifetime, or "unbounded" for tags like ``cloud``;
- else the shortest known lifetime, flagged as an estimate.
The clock of a lease starts when its request was *sent*, which errs on the safe side.
"""

from __future__ import annotations

import calendar
import math
import time
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit

from kdocs_viewer.core.contract import (
    ESTIMATED_LIFETIME,
    MAX_PICS_PER_CALL,
    TAG_LIFETIMES,
    UNBOUNDED_TAGS,
)
from kdocs_viewer.core.models import Lease, LeaseState, PicRef

__all__ = [
    "MIN_REFRESH_MARGIN",
    "embedded_expiry",
    "lease_state",
    "lifetime_for",
    "needs_refresh",
    "next_refresh_at",
    "plan_refresh",
    "refresh_due_at",
    "refresh_margin",
]

MIN_REFRESH_MARGIN = 60.0  # seconds: a refresh must land before the URL dies, even on a slow network
REFRESH_FRACTION = 0.2  # of the ttl

# Unix times before this (2001-09-09) are not plausible expiries: such a parameter means something else
# (e.g. a relative count), so it is ignored instead of making every URL look long dead.
_PLAUSIBLE_UNIX = 1_000_000_000.0
# Above this an "Expires" is in milliseconds (some CDNs do that); seconds would be past year 33658.
_MILLIS_THRESHOLD = 1e12


def _query_params(url: str) -> dict[str, str]:
    """Query parameters with lower-cased names; the first occurrence of a name wins."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return {}
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name.lower(), value.strip())
    return params


def _parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_amz_date(text: str) -> float | None:
    """``YYYYMMDDTHHMMSSZ`` (UTC) → Unix time."""
    try:
        parsed = time.strptime(text, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None
    return float(calendar.timegm(parsed))


def embedded_expiry(url: str) -> float | None:
    """The Unix time at which a signed URL says it expires, or None when it says nothing usable."""
    params = _query_params(url)
    expires = params.get("expires")
    if expires is not None:
        value = _parse_number(expires)
        if value is not None and value >= _MILLIS_THRESHOLD:
            value /= 1000.0
        if value is not None and value >= _PLAUSIBLE_UNIX:
            return value
    amz_date, amz_expires = params.get("x-amz-date"), params.get("x-amz-expires")
    if amz_date is not None and amz_expires is not None:
        start = _parse_amz_date(amz_date)
        seconds = _parse_number(amz_expires)
        if start is not None and seconds is not None and seconds >= 0:
            return start + seconds
    return None


def lifetime_for(tag: str, url: str, sent_wall: float) -> tuple[float | None, bool]:
    """(ttl seconds or None for unbounded, estimated?) for a URL obtained by a request sent at ``sent_wall``.

    An embedded expiry already in the past (clock skew, slow answer) gives ttl 0: the lease is expired on
    arrival and the caller decides whether to try it anyway.
    """
    expiry = embedded_expiry(url)
    if expiry is not None:
        return max(0.0, expiry - sent_wall), False
    if tag in UNBOUNDED_TAGS:
        return None, False
    lifetime = TAG_LIFETIMES.get(tag)
    if lifetime is not None:
        return lifetime, False
    return ESTIMATED_LIFETIME, True


def refresh_margin(ttl: float) -> float:
    """Seconds before expiry at which a still-needed lease is refreshed.

    max(60 s, 20 % of ttl), but never more than half the ttl, so short lifetimes (tests with a time scale,
    odd CDNs) still get a useful first half instead of being refreshed on arrival.
    """
    if ttl <= 0:
        return 0.0
    return min(max(MIN_REFRESH_MARGIN, REFRESH_FRACTION * ttl), ttl / 2.0)


def needs_refresh(lease: Lease, now: float) -> bool:
    """True when the lease is expired or inside its refresh margin; never for unbounded leases."""
    due = refresh_due_at(lease)
    return due is not None and now >= due


def refresh_due_at(lease: Lease) -> float | None:
    """Monotonic time from which the lease needs a refresh, or None when unbounded.

    The one formula behind ``needs_refresh`` and ``next_refresh_at``, so a timer armed for this time always
    finds the lease due (no float rounding gap between the two).
    """
    if lease.ttl is None:
        return None
    return lease.obtained_at + lease.ttl - refresh_margin(lease.ttl)


def lease_state(lease: Lease, now: float) -> LeaseState:
    """The badge a lease should show at monotonic time ``now``."""
    if lease.ttl is None:
        return LeaseState.UNBOUNDED
    if lease.is_expired(now):
        return LeaseState.EXPIRED
    if needs_refresh(lease, now):
        return LeaseState.EXPIRING
    return LeaseState.FRESH


def _needed_leases(
    leases: Mapping[tuple[str, str], Lease], needed: Iterable[tuple[str, str]]
) -> Iterable[Lease]:
    """Bounded leases of the needed idents, each once, in the order first needed."""
    seen: set[tuple[str, str]] = set()
    for ident in needed:
        if ident in seen:
            continue
        seen.add(ident)
        lease = leases.get(ident)
        if lease is not None and lease.ttl is not None:
            yield lease


def plan_refresh(
    leases: Mapping[tuple[str, str], Lease],
    needed: Iterable[tuple[str, str]],
    now: float,
    batch_size: int = MAX_PICS_PER_CALL,
) -> list[list[PicRef]]:
    """Batches (≤ ``batch_size``) of the needed refs whose lease is due for refresh, in ``needed`` order.

    Idents without a lease are not planned (they were never resolved: that is a first fetch, not a refresh);
    unbounded leases never are. Quota is precious, so nothing outside ``needed`` is ever included.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    due = [lease.ref for lease in _needed_leases(leases, needed) if needs_refresh(lease, now)]
    return [due[i : i + batch_size] for i in range(0, len(due), batch_size)]


def next_refresh_at(
    leases: Mapping[tuple[str, str], Lease], needed: Iterable[tuple[str, str]], now: float
) -> float | None:
    """Monotonic time of the earliest refresh among the needed leases (``now`` if one is already due).

    None when nothing needed can expire, so callers arm one timer instead of polling every row.
    """
    earliest: float | None = None
    for lease in _needed_leases(leases, needed):
        due = refresh_due_at(lease)
        if due is not None and (earliest is None or due < earliest):
            earliest = due
    return None if earliest is None else max(earliest, now)
