"""Small value types shared by the core, the CLI and the GUI.

A picture is identified by its ``(pic_key, tag)`` pair; ``tag`` is opaque and is sent back exactly as given.
A resolved URL is a *lease*: it is only good for a while, and its clock starts when the request was sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import urlsplit, urlunsplit

from kdocs_viewer.core.errors import FailureReason
from kdocs_viewer.core.i18n import translate

DEFAULT_BASE_URL = "https://developer.kdocs.cn"

Ident = tuple[str, str]  # (pic_key, tag): what names one picture of a workbook; see ``PicRef.ident``
ThumbKey = tuple[str, str, int]  # (pic_key, tag, size bucket): one tile in the thumbnail caches


def normalise_base_url(base_url: str) -> str:
    """One server, one name — the keyring account and the API-call counter both go by it.

    Lower-case scheme and host, no default port, no trailing slash, no user info, query or fragment:
    ``https://Developer.KDocs.cn:443/`` → ``https://developer.kdocs.cn``.
    """
    text = base_url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return text.rstrip("/")
    scheme = parts.scheme.lower()
    if not scheme or not host:
        return text.rstrip("/")
    if ":" in host:
        host = f"[{host}]"
    if port is not None and not ((scheme == "https" and port == 443) or (scheme == "http" and port == 80)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True, slots=True)
class PicRef:
    """One picture of a workbook, as the user (or ``find_pictures``) named it.

    ``sheet``, ``cell`` (e.g. ``"Sheet1!B7"``) and ``caption`` are optional context for people and file names.
    Equality and hashing use only ``(pic_key, tag)`` so duplicates collapse whatever their context.
    """

    pic_key: str
    tag: str
    sheet: str | None = field(default=None, compare=False)
    cell: str | None = field(default=None, compare=False)
    caption: str | None = field(default=None, compare=False)

    @property
    def ident(self) -> Ident:
        return (self.pic_key, self.tag)

    def thumb_key(self, bucket: int) -> ThumbKey:
        """The one key of this picture's tile at a size bucket, in the thumbnail caches."""
        return (self.pic_key, self.tag, bucket)

    def label(self) -> str:
        """What a person should read for this picture: "caption — B7", else the cell, else the key."""
        cell = self.cell.split("!", 1)[-1] if self.cell else None
        if self.caption and cell:
            return f"{self.caption} — {cell}"
        return self.caption or self.cell or self.pic_key


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth knowing) about an input, anchored where a person can find it."""

    where: str
    message: str

    def __str__(self) -> str:
        if not self.where:
            return self.message
        return translate("piclist", "{where}: {message}").format(where=self.where, message=self.message)


class LeaseState(Enum):
    """What a lease's badge says (``expiry.lease_state``)."""

    FRESH = "fresh"
    EXPIRING = "expiring"  # less than expiry.EXPIRING_SOON left
    EXPIRED = "expired"
    UNBOUNDED = "unbounded"  # no known expiry (cloud pictures)


@dataclass(frozen=True, slots=True)
class Lease:
    """A download URL and how long it is good for.

    ``obtained_at`` is a ``time.monotonic()`` reading taken when the request was *sent* (the safe side).
    ``ttl`` is ``None`` when no expiry is known (cloud pictures); ``estimated`` marks a guessed lifetime
    (unknown tag without a URL-embedded expiry).
    """

    ref: PicRef
    url: str
    obtained_at: float
    ttl: float | None
    estimated: bool = False
    obtained_wall: float = 0.0  # time.time() at the same instant, only for display (ISO 8601 output)

    @property
    def expires_at(self) -> float | None:
        """Monotonic deadline, or None when unbounded."""
        return None if self.ttl is None else self.obtained_at + self.ttl

    def remaining(self, now: float | None = None) -> float | None:
        """Seconds left (may be negative), or None when unbounded."""
        if self.ttl is None:
            return None
        if now is None:
            now = time.monotonic()
        return self.obtained_at + self.ttl - now

    def is_expired(self, now: float | None = None) -> bool:
        left = self.remaining(now)
        return left is not None and left <= 0

    def expires_wall(self) -> float | None:
        """Wall-clock expiry (Unix time) for display, or None when unbounded."""
        return None if self.ttl is None else self.obtained_wall + self.ttl


@dataclass(frozen=True, slots=True)
class PicFailure:
    """Why one picture got no URL. ``message`` is for people and never contains a URL or token; ``reason``
    is for code (``core.errors``); ``code`` and ``server_text`` are what the server said, when it did."""

    ref: PicRef
    message: str
    code: int | None = None
    server_text: str = ""
    reason: FailureReason = field(kw_only=True)


Outcome = Lease | PicFailure


def now_pair() -> tuple[float, float]:
    """(monotonic, wall) read together; leases need both."""
    return time.monotonic(), time.time()

