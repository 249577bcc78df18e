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
import datetime
import decimal
import math
import re
import time
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from kdocs_viewer.core.contract import (
    ESTIMATED_LIFETIME,
    MAX_PICS_PER_CALL,
    TAG_LIFETIMES,
    UNBOUNDED_TAGS,
)
from kdocs_viewer.core.models import Ident, Lease, LeaseState, PicRef

__all__ = [
    "EXPIRING_SOON",
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
# A lease is "expiring soon" (a red badge, the status bar's count) with less than this left. Half the
# smallest refresh margin: a needed lease of any documented lifetime (≥ 120 s, margin ≥ 60 s) gets the first
# half to land its refresh — a call, its retries, and one more try after a failure (core.refresh waits 15
# s) — so the warning never fires for a link that is being renewed; it means "nobody renews this one" (not
# needed, refresh off, the token rejected, the server failing), with still half a minute to go.
EXPIRING_SOON = MIN_REFRESH_MARGIN / 2

# Unix times before this (2001-09-09) are not plausible expiries: such a parameter means something else
# (e.g. a relative count), so it is ignored instead of making every URL look long dead.
_PLAUSIBLE_UNIX = 1_000_000_000.0
# Above this an "Expires" is in milliseconds (some CDNs do that); seconds would be past year 33658.
_MILLIS_THRESHOLD = 1e12


# The three parameters expiry reads, found straight in the query (the first occurrence of a name wins); the
# second alternative spots a field name that parse_qsl would decode ("%65xpires", "a+b"), which the regex
# cannot judge. ``_expiry_params`` uses it only where it provably agrees with urlsplit + parse_qsl.
_EXPIRY_PARAM = re.compile(
    r"(?:^|&)(?:(expires|x-amz-date|x-amz-expires)(?:=([^&]*))?(?=&|\Z)|([^&=]*[%+]))", re.IGNORECASE
)


def _expiry_params(url: str) -> dict[str, str]:
    """``_query_params(url)`` restricted to the expiry parameters, without parsing the whole query.

    Every resolved URL goes through here (the resolve hot path). The regex reads plain ASCII URLs whose
    field names need no decoding; anything else takes the full parse, so the answer is always the same as
    ``_query_params``: non-ASCII (regex case folding and ``str.lower`` differ, urlsplit checks non-ASCII
    hosts), tabs/newlines (urlsplit drops them), brackets (urlsplit rejects bad IPv6 hosts), encoded names.
    """
    if not url.isascii() or "[" in url or "]" in url or "\t" in url or "\r" in url or "\n" in url:
        return _query_params(url)
    params: dict[str, str] = {}
    for name, value, encoded_name in _EXPIRY_PARAM.findall(url.partition("#")[0].partition("?")[2]):
        if encoded_name:
            return _query_params(url)
        if "%" in value or "+" in value:
            value = unquote(value.replace("+", " "))
        params.setdefault(name.lower(), value.strip())
    return params


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


# Arithmetic on an expiry rounds toward the past: a URL must never look alive later than it said.
_TOWARD_PAST = decimal.Context(rounding=decimal.ROUND_FLOOR)


def _parse_decimal(text: str) -> decimal.Decimal | None:
    """The exact number a parameter spells (the same forms ``float`` reads), None when not a finite number."""
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None
    return value if value.is_finite() else None


def _float_not_after(instant: decimal.Decimal) -> float | None:
    """The latest float not after ``instant``, None when out of float range.

    ``float()`` rounds to nearest, which can land up to half a unit in the last place (~0.1 µs for today's
    Unix times) *after* the promised instant.
    """
    value = float(instant)
    if not math.isfinite(value):
        return None
    if decimal.Decimal(value) > instant:
        value = math.nextafter(value, -math.inf)
    return value


_AMZ_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z")


def _parse_amz_date(text: str) -> float | None:
    """``YYYYMMDDTHHMMSSZ`` (UTC) → Unix time.

    The canonical form is read directly (``strptime`` costs ~20 µs a URL); anything else, and leap seconds,
    go through ``strptime`` so the accepted forms stay exactly its.
    """
    match = _AMZ_DATE.fullmatch(text)
    if match is not None:
        year, month, day, hour, minute, second = map(int, match.groups())
        if second < 60:
            try:
                datetime.datetime(year, month, day, hour, minute, second)
            except ValueError:
                return None
            return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))
    try:
        parsed = time.strptime(text, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None
    return float(calendar.timegm(parsed))


def embedded_expiry(url: str) -> float | None:
    """The Unix time at which a signed URL says it expires, or None when it says nothing usable.

    Never later than the instant the URL names (rounded toward the past where a float cannot hold it).
    """
    params = _expiry_params(url)
    expires = params.get("expires")
    if expires is not None:
        value = _parse_decimal(expires)
        if value is not None and value >= _MILLIS_THRESHOLD:
            value = _TOWARD_PAST.scaleb(value, -3)
        instant = None if value is None else _float_not_after(value)
        if instant is not None and instant >= _PLAUSIBLE_UNIX:
            return instant
    amz_date, amz_expires = params.get("x-amz-date"), params.get("x-amz-expires")
    if amz_date is not None and amz_expires is not None:
        start = _parse_amz_date(amz_date)
        seconds = _parse_decimal(amz_expires)
        if start is not None and seconds is not None and seconds >= 0:
            return _float_not_after(_TOWARD_PAST.add(decimal.Decimal(start), seconds))
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
    """What a lease's badge says at monotonic time ``now``; EXPIRING: less than EXPIRING_SOON left.

    The one rule for the tile badge, the model's repaint decisions and the status bar's count.
    """
    left = lease.remaining(now)
    if left is None:
        return LeaseState.UNBOUNDED
    if left <= 0:
        return LeaseState.EXPIRED
    if left < EXPIRING_SOON:
        return LeaseState.EXPIRING
    return LeaseState.FRESH


def _needed_leases(leases: Mapping[Ident, Lease], needed: Iterable[Ident]) -> Iterable[Lease]:
    """Bounded leases of the needed idents, each once, in the order first needed."""
    seen: set[Ident] = set()
    for ident in needed:
        if ident in seen:
            continue
        seen.add(ident)
        lease = leases.get(ident)
        if lease is not None and lease.ttl is not None:
            yield lease


def plan_refresh(
    leases: Mapping[Ident, Lease],
    needed: Iterable[Ident],
    now: float,
    batch_size: int = MAX_PICS_PER_CALL,
    *,
    lookahead: float = 0.0,
) -> list[list[PicRef]]:
    """Batches (≤ ``batch_size``) of the needed refs whose lease is due for refresh, in ``needed`` order.

    Idents without a lease are not planned (they were never resolved: that is a first fetch, not a refresh);
    unbounded leases never are. Quota is precious, so nothing outside ``needed`` is ever included. When a
    call is due anyway, leases falling due within ``lookahead`` seconds ride along — soonest first, only
    into room left in the last batch, so they never cost a call of their own (leases resolved a second
    apart would otherwise fall due a second apart, and cost two calls).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    due: list[PicRef] = []
    soon: list[tuple[float, int, PicRef]] = []
    for order, lease in enumerate(_needed_leases(leases, needed)):
        at = refresh_due_at(lease)
        if at is None:
            continue
        if now >= at:
            due.append(lease.ref)
        elif at <= now + lookahead:
            soon.append((at, order, lease.ref))
    if not due:
        return []
    room = -len(due) % batch_size
    due.extend(ref for _, _, ref in sorted(soon, key=lambda s: s[:2])[:room])
    return [due[i : i + batch_size] for i in range(0, len(due), batch_size)]


def next_refresh_at(leases: Mapping[Ident, Lease], needed: Iterable[Ident], now: float) -> float | None:
    """Monotonic time of the earliest refresh among the needed leases (``now`` if one is already due).

    None when nothing needed can expire, so callers arm one timer instead of polling every row.
    """
    earliest: float | None = None
    for lease in _needed_leases(leases, needed):
        due = refresh_due_at(lease)
        if due is not None and (earliest is None or due < earliest):
            earliest = due
    return None if earliest is None else max(earliest, now)
