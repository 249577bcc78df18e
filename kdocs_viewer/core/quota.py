"""The daily API quota as both sides see it: which day a call counts for, which server it counts against,
and how a server states its daily limit.

Qt-free, and shared by the client, the viewer's counter and the stand-in, so a call made at 23:30 in Berlin
(06:30 the next day in Beijing) counts for the same quota day everywhere.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from kdocs_viewer.core.contract import MAX_PICS_PER_CALL, QUOTA_DAY_UTC_OFFSET_HOURS
from kdocs_viewer.core.models import normalise_base_url

__all__ = [
    "DAY_SECONDS",
    "LIMIT_HEADER",
    "DailyCalls",
    "calls_to_resolve",
    "daily_limit_from_headers",
    "daily_limit_header",
    "quota_day",
    "seconds_to_next_quota_day",
    "server_key",
]

_OFFSET = datetime.timedelta(hours=QUOTA_DAY_UTC_OFFSET_HOURS)
DAY_SECONDS = 86_400
# IETF draft "RateLimit header fields for HTTP": a policy names its quota (q) and its window in seconds (w).
# Only a policy whose window is one day is a *daily* limit; a per-second or per-minute one says nothing of it.
LIMIT_HEADER = "RateLimit-Policy"
_PARAM_RE = re.compile(r"^\s*([A-Za-z]+)\s*=\s*\"?(\d{1,12})\"?\s*$")


def _quota_clock(now: datetime.datetime | None) -> datetime.datetime:
    moment = now if now is not None else datetime.datetime.now(datetime.UTC)
    if moment.tzinfo is None:
        raise ValueError("quota_day needs an aware datetime (a naive one has no known offset)")
    return moment.astimezone(datetime.UTC) + _OFFSET


def quota_day(now: datetime.datetime | None = None) -> datetime.date:
    """The quota day ``now`` (default: this instant) belongs to: the date in UTC+8."""
    return _quota_clock(now).date()


def seconds_to_next_quota_day(now: datetime.datetime | None = None) -> int:
    """Whole seconds (at least 1) until the next quota day begins: a server's ``Retry-After``."""
    clock = _quota_clock(now)
    midnight = datetime.datetime.combine(
        clock.date() + datetime.timedelta(days=1), datetime.time(), clock.tzinfo
    )
    return max(1, math.ceil((midnight - clock).total_seconds()))


def calls_to_resolve(pictures: int) -> int:
    """API calls needed to resolve ``pictures`` distinct pictures once (batches of ``MAX_PICS_PER_CALL``)."""
    return math.ceil(max(0, pictures) / MAX_PICS_PER_CALL)


def server_key(base_url: str) -> str:
    """A short, file-safe name for a server: a hash of its normal form (never the URL itself).

    The URL may be long, may hold characters a settings file escapes badly, and must not be copied around
    where a careless query string could carry a token; a hash of the normalised URL has none of that.
    """
    return hashlib.sha256(normalise_base_url(base_url).encode("utf-8")).hexdigest()[:16]


def daily_limit_header(limit: int) -> dict[str, str]:
    """The header that states a daily limit of ``limit`` calls (what ``daily_limit_from_headers`` reads)."""
    return {LIMIT_HEADER: f'"day";q={int(limit)};w={DAY_SECONDS}'}


def daily_limit_from_headers(headers: Iterable[tuple[str, str]]) -> int | None:
    """The daily call limit a response states in ``RateLimit-Policy``, or None when it states none.

    ``headers`` is ``(name, value)`` pairs (``httpx.Headers.multi_items()``, ``dict.items()``). Both draft
    shapes are read: ``"day";q=10000;w=86400`` and the older ``10000;w=86400``.
    """
    for name, value in headers:
        if name.lower() != LIMIT_HEADER.lower():
            continue
        for policy in value.split(","):
            quota: int | None = None
            window: int | None = None
            for position, part in enumerate(policy.split(";")):
                if position == 0 and part.strip().isdigit():
                    quota = int(part.strip())
                elif match := _PARAM_RE.match(part):
                    if match.group(1).lower() == "q":
                        quota = int(match.group(2))
                    elif match.group(1).lower() == "w":
                        window = int(match.group(2))
            if quota is not None and quota > 0 and window == DAY_SECONDS:
                return quota
    return None


@dataclass
class DailyCalls:
    """API calls made against one server on the current quota day, earlier runs included.

    ``earlier`` is what earlier runs recorded for ``day``; ``made`` (given to ``count``) is the client's
    running total for this run. When a new quota day begins during the run, the count starts again at 0
    from the client's total at that moment.
    """

    day: datetime.date
    earlier: int = 0
    base: int = 0  # the client's total when ``day`` began for this run

    def count(self, made: int, today: datetime.date | None = None) -> int:
        today = today if today is not None else quota_day()
        if today != self.day:
            self.day, self.earlier, self.base = today, 0, made
        return self.earlier + max(0, made - self.base)
