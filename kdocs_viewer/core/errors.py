"""Why something failed, as a code: callers decide by ``FailureReason``, never by comparing message texts.

Every failure the core hands out carries one — a ``PicFailure``, an API error (``KDocsError`` and its kinds,
defined here), a download error, ``PicUnavailable`` — and ``reason_of`` reads it off any exception. The CLI
maps reasons to exit statuses (one table in ``cli.py``), the GUI to what it tells the user (one table in
``gui/failure_text.py``). Message texts stay for people: translated, URL- and token-free.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = [
    "ApiTransportError",
    "FailureReason",
    "InsecureTransportError",
    "KDocsError",
    "QuotaExceededError",
    "TokenInvalidError",
    "reason_of",
]


class FailureReason(Enum):
    """What kind of failure it is. ``per_picture`` ones concern one picture; the others a whole call."""

    TOKEN_REJECTED = "token-rejected"  # code 20007: missing, invalid, expired or foreign token
    QUOTA = "quota"  # the daily quota is used up, or calls came too fast (after the allowed waits)
    WORKBOOK_NOT_FOUND = "workbook-not-found"  # no workbook with this file token
    NETWORK = "network"  # no usable reply: refused, reset, timed out, cut short
    SERVER_ERROR = "server-error"  # the API or the picture host answered with an error
    BAD_INPUT = "bad-input"  # a file token, pic key or base URL that cannot be used; plain http refused
    CANCELLED = "cancelled"  # the user (or closing) stopped it; nothing is wrong
    PICTURE_NOT_FOUND = "picture-not-found"  # the workbook has no such picture / no download URL for it
    NOT_IN_REPLY = "not-in-reply"  # the server's reply left this picture out
    BAD_LINK = "bad-link"  # the download URL is unusable, or its host refused it for good (e.g. 404)
    EXPIRED_LINK = "expired-link"  # the download URL was refused as expired or revoked (403/410)
    NOT_A_PICTURE = "not-a-picture"  # the host sent something else (a login page, JSON, text)
    TOO_LARGE = "too-large"  # the picture is over the size limit

    @property
    def per_picture(self) -> bool:
        """True when the failure says something about one picture, not about the call that asked for it."""
        return self in _PER_PICTURE

    @property
    def gone(self) -> bool:
        """True when the answer says the picture is not there (any more): the workbook has no such picture,
        or there is no such workbook. Unlike a failed call, a thumbnail shown from before is then wrong."""
        return self in _GONE


_GONE = frozenset({FailureReason.PICTURE_NOT_FOUND, FailureReason.WORKBOOK_NOT_FOUND})

_PER_PICTURE = frozenset(
    {
        FailureReason.PICTURE_NOT_FOUND,
        FailureReason.NOT_IN_REPLY,
        FailureReason.BAD_LINK,
        FailureReason.EXPIRED_LINK,
        FailureReason.NOT_A_PICTURE,
        FailureReason.TOO_LARGE,
    }
)


def reason_of(exc: BaseException) -> FailureReason | None:
    """The reason an exception of the core carries (its ``reason``); None for anything else — a bug, not a
    failure the core knows."""
    reason = getattr(exc, "reason", None)
    return reason if isinstance(reason, FailureReason) else None


# ---- errors of the API client -----------------------------------------------------------------------------


class KDocsError(Exception):
    """An API call failed. ``str(e)`` is for people and never contains a URL or a token.

    ``code`` is the envelope's code and ``status`` the HTTP status, when known; ``server_text`` is what the
    server said (its ``msg``/``message``/``result``/``hint``), redacted; ``reason`` classifies it (each
    subclass has its own, a plain KDocsError is a SERVER_ERROR unless told otherwise).
    """

    default_reason = FailureReason.SERVER_ERROR

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        server_text: str = "",
        reason: FailureReason | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.server_text = server_text
        self.reason = reason or self.default_reason

    def __reduce__(self) -> tuple[Any, ...]:
        state = {"code": self.code, "status": self.status, "server_text": self.server_text}
        return (type(self), (self.message,), {**state, "reason": self.reason})

    def __str__(self) -> str:
        return self.message


class TokenInvalidError(KDocsError):
    """Code 20007: the token is missing, invalid, expired or foreign. Never retried: ask for a new one."""

    default_reason = FailureReason.TOKEN_REJECTED


class QuotaExceededError(KDocsError):
    """HTTP 429 or the quota code, still failing after the allowed waits."""

    default_reason = FailureReason.QUOTA


class ApiTransportError(KDocsError):
    """No usable reply: connection refused/reset, timeout, reply cut short — after the retries."""

    default_reason = FailureReason.NETWORK


class InsecureTransportError(KDocsError):
    """Refused to send the token over plain http to a host that is not this machine."""

    default_reason = FailureReason.BAD_INPUT
