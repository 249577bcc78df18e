"""How the stand-in's picture host behaves like a real line and a real object store.

- ``TokenBucket``: one shared link of a given bandwidth for every picture body the server sends, whatever
  the connection. Every chunk books its bytes; a booking returns how long the sender must wait before the
  chunk may go out. Bookings are first come, first served, so parallel downloads share the line instead of
  each getting it whole. The arithmetic runs on an injectable clock and is unit-tested without sleeping.
- ``parse_range``: the ``Range`` header of a GET, read as object stores (S3, OSS, COS, nginx) read it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CHUNK_BYTES", "TokenBucket", "Unsatisfiable", "parse_range"]

# Bodies go out in chunks of this size on a shaped line; the bucket holds at most one chunk of credit, so
# an idle line lets one chunk through at once and then runs at its rate (a line has no bigger burst).
CHUNK_BYTES = 16 * 1024


class TokenBucket:
    """A line of ``rate`` bytes per second with ``burst`` bytes of credit, shared by all its users.

    Thread-safe. ``reserve(n)`` takes ``n`` bytes now, going into debt when the credit is short, and returns
    the seconds until the line has carried them: the caller sends after that wait. The debt makes bookings
    queue up in order, so the line never carries more than ``rate`` bytes per second (plus ``burst``).
    """

    def __init__(
        self, rate: float, burst: int = CHUNK_BYTES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError("rate must be a positive number of bytes per second")
        if burst < 0:
            raise ValueError("burst must not be negative")
        self._rate = float(rate)
        self._burst = float(burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._credit = float(burst)
        self._last = clock()

    @property
    def rate(self) -> float:
        return self._rate

    def reserve(self, n: int) -> float:
        """Book ``n`` bytes on the line; the seconds to wait before sending them (0 when credit covers it)."""
        if n < 0:
            raise ValueError("cannot book a negative number of bytes")
        with self._lock:
            now = self._clock()
            self._credit = min(self._burst, self._credit + (now - self._last) * self._rate)
            self._last = now
            self._credit -= n
            return 0.0 if self._credit >= 0 else -self._credit / self._rate


def bytes_per_second(mbps: float) -> float:
    """Megabits per second (as lines are sold: 10⁶ bits) in bytes per second."""
    return mbps * 1_000_000 / 8


@dataclass(frozen=True, slots=True)
class Unsatisfiable:
    """A Range none of whose bytes exist: answered 416 with ``Content-Range: bytes */size``."""

    size: int


def parse_range(header: str | None, size: int) -> tuple[int, int] | Unsatisfiable | None:
    """The inclusive byte range ``(first, last)`` a ``Range`` header asks of a ``size``-byte file.

    None means "answer 200 with the whole file": no header, a unit other than ``bytes``, a header that does
    not parse (RFC 9110 lets a server ignore those), or several ranges (we answer those whole rather than
    with ``multipart/byteranges``, which RFC 9110 allows and some object stores also do). Forms:
    ``bytes=a-b`` (``b`` past the end is cut to the end), ``bytes=a-``, ``bytes=-n`` (the last ``n``
    bytes). ``Unsatisfiable`` when ``a`` is at or past the end, for ``bytes=-0``, and for any range of an
    empty file.
    """
    if header is None:
        return None
    unit, sep, spec = header.strip().partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    spec = spec.strip()
    if "," in spec:
        return None
    first_text, dash, last_text = spec.partition("-")
    first_text, last_text = first_text.strip(), last_text.strip()
    if not dash or not _digits(first_text, allow_empty=True) or not _digits(last_text, allow_empty=True):
        return None
    if not first_text:  # suffix: the last n bytes
        if not last_text:
            return None
        count = int(last_text)
        if count == 0 or size == 0:
            return Unsatisfiable(size)
        return max(0, size - count), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else None
    if last is not None and last < first:
        return None  # invalid: ignored, as RFC 9110 says
    if first >= size:
        return Unsatisfiable(size)
    return first, size - 1 if last is None else min(last, size - 1)


def _digits(text: str, *, allow_empty: bool) -> bool:
    return (allow_empty and not text) or (text.isascii() and text.isdigit())
