"""Web-service politeness as pure decisions: whether to try a call again, and after how long.

No I/O and no sleeping here (the client sleeps), so every rule is tested with plain data. Quota is
precious and the server may be struggling: retry only what a retry can fix (429, 5xx, transport errors),
honour ``Retry-After``, back off exponentially with full jitter, and stop after a few attempts or when the
time budget would be exceeded. A rejected token (20007) or any other 4xx is never retried.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

from kdocs_viewer.core.contract import CODE_INTERNAL, CODE_QUOTA_EXCEEDED, CODE_TOKEN_INVALID

__all__ = ["RetryPolicy", "is_retryable", "parse_retry_after", "retry_delay"]

# Codes worth another try whatever the HTTP status says (the real API's status for errors is unknown).
_RETRYABLE_CODES = frozenset({CODE_QUOTA_EXCEEDED, CODE_INTERNAL})

_default_rng = random.Random()


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one API call.

    ``max_attempts`` counts the first try; ``base_delay`` doubles per attempt up to ``max_delay`` (full
    jitter draws the actual wait uniformly below that cap); ``budget`` bounds the total seconds spent on one
    call, waits included — a retry that would end past it is not made.
    """

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    budget: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.budget < 0:
            raise ValueError("delays and budget must not be negative")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date; None if unusable.

    ``now`` is the wall-clock time (``time.time()``) an HTTP-date is measured from; a date in the past
    means "now" (0 s).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" zone: RFC 9110 dates are GMT anyway
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_retryable(*, status: int | None, code: int | None, transport_error: bool) -> bool:
    """Whether a retry could help: transport errors, 429, 5xx and the quota/internal codes; never 20007."""
    if code == CODE_TOKEN_INVALID:
        return False
    if transport_error:
        return True
    if status is not None and (status == 429 or 500 <= status <= 599):
        return True
    return code in _RETRYABLE_CODES


def retry_delay(
    policy: RetryPolicy,
    attempt: int,
    *,
    status: int | None,
    code: int | None,
    retry_after: str | None,
    transport_error: bool,
    elapsed: float,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before the next try after failed try number ``attempt`` (1-based), or None to stop.

    ``elapsed`` is the time already spent on this call. A usable ``Retry-After`` is honoured as given (not
    shortened: the server asked for it; if it does not fit the budget we give up instead); otherwise the wait
    is drawn uniformly from [0, min(max_delay, base_delay·2^(attempt-1))] ("full jitter"), so many clients
    failing together do not come back together.
    """
    if attempt >= policy.max_attempts:
        return None
    if not is_retryable(status=status, code=code, transport_error=transport_error):
        return None
    delay = parse_retry_after(retry_after)
    if delay is None:
        cap = min(policy.max_delay, policy.base_delay * (2.0 ** max(0, attempt - 1)))
        delay = (rng or _default_rng).uniform(0.0, cap)
    if elapsed + delay > policy.budget:
        return None
    return delay
