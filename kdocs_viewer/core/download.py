"""Plain GETs of signed picture URLs: no token, streamed, cancellable, capped, checked for truncation.

A ``pic_url`` is a short-lived capability that may live on another host (a CDN), so the downloader has its
own HTTP client that never carries the access token and is kept apart from the API client. Errors are our
own types whose text never contains the URL (httpx puts URLs into its messages).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

import httpx

from kdocs_viewer.core.client_gate import ClientClosed, ClientGate
from kdocs_viewer.core.errors import FailureReason
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.redact import redact_url
from kdocs_viewer.core.tls import shared_ssl_context
from kdocs_viewer.core.transport_errors import describe_picture_transport_error

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Body",
    "CancelFlag",
    "DownloadCancelled",
    "DownloadError",
    "Downloader",
    "NotAPictureError",
    "RangeNotSatisfiable",
    "UnexpectedRange",
    "UrlExpiredError",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
USER_AGENT = "kdocs-viewer/0.1 (+https://github.com/kdocs-viewer)"

# Loopback picture hosts (the stand-in) are always reached directly, never through an environment proxy:
# the proxy's loopback is not ours. A None mount means "the client's own transport".
_LOOPBACK_DIRECT: dict[str, httpx.BaseTransport | None] = {
    "all://127.0.0.1": None,
    "all://localhost": None,
    "all://[::1]": None,
}


class CancelFlag(Protocol):
    """What the downloader needs of a cancel signal; ``threading.Event`` is one."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class DownloadError(Exception):
    """A picture download failed. The text is for people and never contains the URL.

    ``status`` is the HTTP status when one was received; ``transient`` marks failures worth another try
    later (network, 5xx, truncation) as opposed to definite answers (404, too large). ``reason``
    (``core.errors``) follows from them unless given: 5xx/429 is SERVER_ERROR, no answer or a cut-short
    one NETWORK, any other refusal BAD_LINK.
    """

    default_reason: FailureReason | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        transient: bool = False,
        reason: FailureReason | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient
        self.reason = reason or self.default_reason or _reason_for(status, transient)


def _reason_for(status: int | None, transient: bool) -> FailureReason:
    if status is not None and (status >= 500 or status == 429):
        return FailureReason.SERVER_ERROR
    if status is None or transient:  # no answer, or one cut short
        return FailureReason.NETWORK
    return FailureReason.BAD_LINK


class UrlExpiredError(DownloadError):
    """The host refused the URL (HTTP 403/410): it expired or was revoked; a fresh lease may work."""

    default_reason = FailureReason.EXPIRED_LINK


class NotAPictureError(DownloadError):
    """The host answered, but not with a picture (an HTML login page, JSON, text): see core.formats.

    Not retried: a captive portal or a login wall answers the same way until the user does something.
    """

    default_reason = FailureReason.NOT_A_PICTURE


class RangeNotSatisfiable(DownloadError):
    """HTTP 416: none of the asked bytes exist. ``size`` is the file's size when the host said it."""

    def __init__(self, message: str, *, size: int | None) -> None:
        super().__init__(message, status=416)
        self.size = size


class UnexpectedRange(DownloadError):
    """A 206 that is not the part asked for (no or another ``Content-Range``, or a body of another length)."""


class DownloadCancelled(DownloadError):
    """The caller's cancel flag was set; nothing is wrong with the picture."""

    default_reason = FailureReason.CANCELLED

    def __init__(self, message: str | None = None) -> None:
        super().__init__(translate("download", "download cancelled") if message is None else message)


@dataclass(frozen=True, slots=True)
class Body:
    """What a ranged GET brought: ``data`` starts at byte ``start`` of a file of ``size`` bytes.

    ``size`` is None when the host did not say (``Content-Range: bytes a-b/*``). A host that ignores
    ``Range`` answers 200 with the whole file: then ``start`` is 0 and ``whole`` is true, whatever was asked.
    """

    data: bytes
    start: int
    size: int | None

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.size == len(self.data)


_CONTENT_RANGE = re.compile(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*\Z", re.ASCII)
_UNSATISFIED_RANGE = re.compile(r"\s*bytes\s+\*/(\d+)\s*\Z", re.ASCII)


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    content_range: str | None
    data: bytes


class _Retry(Exception):
    """Internal: one attempt failed in a way worth a second try."""

    def __init__(self, error: DownloadError) -> None:
        super().__init__(str(error))
        self.error = error


class Downloader:
    """One keep-alive ``httpx.Client`` for picture GETs, shared by all worker threads (it is thread-safe).

    Connection limits fit 8–16 parallel GETs; timeouts are explicit so a stalled host cannot hang a worker
    forever; redirects are followed (a signed URL may bounce to a CDN). Transport errors, truncated bodies,
    5xx and 429 get ``tries`` attempts in all; 403/410 raise ``UrlExpiredError`` at once (the caller needs a
    new URL, not the same one again).
    """

    def __init__(
        self,
        *,
        timeout: httpx.Timeout | float | None = None,
        max_connections: int = 40,
        tries: int = 2,
        retry_delay: float = 0.25,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if timeout is None:
            timeout = httpx.Timeout(30.0, connect=10.0, pool=60.0)
        self._tries = max(1, tries)
        self._retry_delay = retry_delay
        self._client = httpx.Client(
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=30.0,
            ),
            follow_redirects=True,
            transport=transport,
            verify=shared_ssl_context(),
            mounts=_LOOPBACK_DIRECT if transport is None else None,
            headers={"User-Agent": USER_AGENT, "Accept": "image/*, */*;q=0.5"},
        )
        self._gate = ClientGate(self._client.close)

    def __repr__(self) -> str:
        return f"<Downloader tries={self._tries}{' closed' if self._gate.closed else ''}>"

    def close(self) -> None:
        """No new GETs (they raise DownloadCancelled); the connections close when the running ones end
        (``core.client_gate``: never pulled from under a worker, never waited for)."""
        self._gate.close()

    def __enter__(self) -> Downloader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def get(self, url: str, *, cancel: CancelFlag | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        """The whole body of ``url``.

        Raises ``UrlExpiredError`` (403/410), ``DownloadCancelled`` (``cancel`` was set; checked before the
        request, between chunks and while waiting to retry) or ``DownloadError`` (anything else).
        """
        return self._request(url, cancel, max_bytes, None).data

    def get_range(
        self,
        url: str,
        first: int,
        last: int | None = None,
        *,
        cancel: CancelFlag | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Body:
        """Bytes ``first``..``last`` (inclusive; None: to the end) of ``url`` with one ``Range`` GET.

        A 206 is checked against what was asked (``Content-Range`` present, starting at ``first``, ending
        at or before ``last``, as long as its body); a 200 is the whole file (the host ignores ``Range``).
        Raises ``RangeNotSatisfiable`` (416), ``UnexpectedRange`` (a 206 that does not match the request)
        and whatever ``get`` raises. Asks for the bytes as stored (``Accept-Encoding: identity``): a range
        of a compressed transfer would count other bytes.
        """
        if first < 0 or (last is not None and last < first):
            raise ValueError(f"bad byte range {first}-{last}")
        wanted = f"bytes={first}-{'' if last is None else last}"
        answer = self._request(url, cancel, max_bytes, {"Range": wanted, "Accept-Encoding": "identity"})
        if answer.status != 206:
            return Body(answer.data, 0, len(answer.data))
        match = _CONTENT_RANGE.match(answer.content_range or "")
        start, end = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
        size = None if match is None or match.group(3) == "*" else int(match.group(3))
        if (
            match is None
            or start != first
            or end < start
            or (last is not None and end > last)
            or (size is not None and end >= size)
            or len(answer.data) != end - start + 1
        ):
            message = translate("download", "the picture server sent another part of the picture than asked")
            raise UnexpectedRange(message, status=206)
        return Body(answer.data, start, size)

    def _request(
        self, url: str, cancel: CancelFlag | None, max_bytes: int, headers: dict[str, str] | None
    ) -> _Answer:
        for attempt in range(1, self._tries + 1):
            if cancel is not None and cancel.is_set():
                raise DownloadCancelled()
            try:
                return self._get_once(url, cancel, max_bytes, headers)
            except _Retry as retry:
                log.debug(
                    "picture GET %s failed (%s), attempt %d/%d", redact_url(url), retry, attempt, self._tries
                )
                if attempt == self._tries:
                    raise retry.error from None
                delay = self._retry_delay * attempt
                if cancel is not None:
                    if cancel.wait(delay):
                        raise DownloadCancelled() from None
                else:
                    time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_once(
        self, url: str, cancel: CancelFlag | None, max_bytes: int, headers: dict[str, str] | None
    ) -> _Answer:
        try:
            with self._gate.use(), self._client.stream("GET", url, headers=headers) as response:
                self._check_status(response)
                declared = self._declared_length(response)
                if declared is not None and declared > max_bytes:
                    message = translate(
                        "download", "the picture is too large ({size} bytes; the limit is {limit})"
                    )
                    raise DownloadError(
                        message.format(size=declared, limit=max_bytes),
                        status=response.status_code,
                        reason=FailureReason.TOO_LARGE,
                    )
                chunks: list[bytes] = []
                received = 0
                # Chunks as the socket delivers them: re-chunking to a fixed size costs about a third more
                # CPU (bench/RESULTS.md).
                for chunk in response.iter_bytes():
                    if cancel is not None and cancel.is_set():
                        raise DownloadCancelled()
                    received += len(chunk)
                    if received > max_bytes:
                        message = translate(
                            "download", "the picture is larger than the limit of {limit} bytes"
                        )
                        raise DownloadError(
                            message.format(limit=max_bytes),
                            status=response.status_code,
                            reason=FailureReason.TOO_LARGE,
                        )
                    chunks.append(chunk)
                if declared is not None and response.num_bytes_downloaded != declared:
                    message = translate(
                        "download", "the picture arrived incomplete ({received} of {size} bytes)"
                    )
                    raise _Retry(
                        DownloadError(
                            message.format(received=response.num_bytes_downloaded, size=declared),
                            status=response.status_code,
                            transient=True,
                        )
                    )
                return _Answer(response.status_code, response.headers.get("Content-Range"), b"".join(chunks))
        except ClientClosed:
            raise DownloadCancelled() from None
        except httpx.TransportError as exc:
            error = DownloadError(describe_picture_transport_error(exc), transient=True)
            if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
                error.transient = False
                error.reason = FailureReason.BAD_LINK
                raise error from None
            raise _Retry(error) from None
        except httpx.HTTPError as exc:  # e.g. TooManyRedirects, StreamError
            message = translate("download", "picture download failed ({error})")
            raise DownloadError(message.format(error=type(exc).__name__)) from None
        except ValueError:  # a URL httpx refuses to parse at all
            message = translate("download", "the picture link is not a usable http(s) address")
            raise DownloadError(message, reason=FailureReason.BAD_LINK) from None

    @staticmethod
    def _check_status(response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 416:
            match = _UNSATISFIED_RANGE.match(response.headers.get("Content-Range", ""))
            message = translate("download", "the picture server has none of the asked bytes (HTTP 416)")
            raise RangeNotSatisfiable(message, size=int(match.group(1)) if match else None)
        if status in (403, 410):
            message = translate(
                "download", "the picture link was refused (HTTP {status}): it expired or was revoked"
            )
            raise UrlExpiredError(message.format(status=status), status=status)
        if status >= 500 or status == 429:
            message = translate("download", "the picture server failed (HTTP {status})")
            raise _Retry(DownloadError(message.format(status=status), status=status, transient=True))
        message = translate("download", "the picture server refused the download (HTTP {status})")
        raise DownloadError(message.format(status=status), status=status)

    @staticmethod
    def _declared_length(response: httpx.Response) -> int | None:
        raw = response.headers.get("Content-Length")
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            return None
        return value if value >= 0 else None
