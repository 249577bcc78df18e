"""The KDocs open-platform client: envelope, typed errors, retries, batching and picture discovery.

Every API URL carries the user's token (``access_token`` query parameter), so this module never formats a
URL into a log line or an exception text: logs get ``redact_url`` of the path, errors are our own types
raised ``from None`` with a safe description. The token is only ever sent to the configured API host, and
never over plain http unless that host is loopback (the stand-in server).

Quota is precious: pictures are resolved in batches of ``MAX_PICS_PER_CALL``, duplicates collapse, and one
bad batch or one bad key never sinks the others. See /work/shared/kdocs-api.md for the API itself.
"""

from __future__ import annotations

import html
import json
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from kdocs_viewer import __version__
from kdocs_viewer.core import expiry
from kdocs_viewer.core.cells import cell_address, column_letters
from kdocs_viewer.core.contract import (
    CELLS_PATH,
    CODE_OK,
    CODE_QUOTA_EXCEEDED,
    CODE_TOKEN_INVALID,
    MAX_CELLS_PER_READ,
    MAX_PICS_PER_CALL,
    PICTURE_URLS_PATH,
    SHEETS_PATH,
    TOKEN_PARAM,
)
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.models import DEFAULT_BASE_URL, Lease, Outcome, PicFailure, PicRef, now_pair
from kdocs_viewer.core.quota import daily_limit_from_headers
from kdocs_viewer.core.redact import MASK, redact, redact_url
from kdocs_viewer.core.retry import RetryPolicy, retry_delay
from kdocs_viewer.core.tls import shared_ssl_context
from kdocs_viewer.core.validation import (
    InsecureBaseUrlError,
    check_base_url,
    check_file_token,
    is_loopback_host,
    pic_key_problem,
)

__all__ = [
    "BAD_URL_MESSAGE",
    "DEFAULT_RETRY",
    "MAX_CELLS_PER_READ",
    "MISSING_ITEM_MESSAGE",
    "MISSING_URL_MESSAGE",
    "ApiTransportError",
    "InsecureTransportError",
    "KDocsClient",
    "KDocsError",
    "QuotaExceededError",
    "SheetInfo",
    "TokenInvalidError",
    "TokenProvider",
    "cell_address",
    "column_letters",
]

log = logging.getLogger(__name__)

DEFAULT_RETRY = RetryPolicy()
_SNIPPET_CHARS = 120
_USER_AGENT = f"kdocs-viewer/{__version__}"

# The English texts, for callers that recognise them (the CLI); PicFailures carry the translated text.
MISSING_URL_MESSAGE = "not found in this workbook / no download URL"
MISSING_ITEM_MESSAGE = "the server's reply did not include this picture"
BAD_URL_MESSAGE = "the server sent an unusable download URL"


# ---- errors ---------------------------------------------------------------------------------------------


class KDocsError(Exception):
    """An API call failed. ``str(e)`` is for people and never contains a URL or a token.

    ``code`` is the envelope's code and ``status`` the HTTP status, when known; ``server_text`` is what the
    server said (its ``msg``/``message``/``result``/``hint``), redacted.
    """

    def __init__(
        self, message: str, *, code: int | None = None, status: int | None = None, server_text: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.server_text = server_text

    def __reduce__(self) -> tuple[Any, ...]:
        state = {"code": self.code, "status": self.status, "server_text": self.server_text}
        return (type(self), (self.message,), state)

    def __str__(self) -> str:
        return self.message


class TokenInvalidError(KDocsError):
    """Code 20007: the token is missing, invalid, expired or foreign. Never retried: ask for a new one."""


class QuotaExceededError(KDocsError):
    """HTTP 429 or the quota code, still failing after the allowed waits."""


class ApiTransportError(KDocsError):
    """No usable reply: connection refused/reset, timeout, reply cut short — after the retries."""


class InsecureTransportError(KDocsError):
    """Refused to send the token over plain http to a host that is not this machine."""


class TokenProvider(Protocol):
    """Where a client gets its access token when it is not one fixed string (a signed-in user's tokens).

    Both methods are called from the client's worker threads, possibly several at once, and may block
    while a refresh is in flight. They raise a ``KDocsError`` (e.g. "sign in again") when no token can be had.
    """

    def current(self) -> str:
        """A token good for the next call (renewed first when it is about to expire)."""
        ...

    def rejected(self, token: str) -> None:
        """The API refused ``token`` (20007 or HTTP 401): renew it, once, unless that already happened."""
        ...


# ---- sheets and cells -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetInfo:
    """One sheet of a workbook and its used range (0-based, inclusive)."""

    sheet_idx: int
    sheet_id: int | None
    name: str
    row_from: int
    row_to: int
    col_from: int
    col_to: int
    visible: bool = True


# ---- small parsing helpers --------------------------------------------------------------------------------


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _as_bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "1", "yes", "visible"}:
            return True
        if lowered in {"false", "0", "no", "hidden"}:
            return False
    return default


_TAG_RE = re.compile(r"<[^>]*>")
_HIDDEN_RE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE_RE = re.compile(r"\s+")


def _snippet(body: bytes) -> str:
    """A short, tag-stripped, single-line excerpt of a non-JSON body (e.g. a proxy's HTML error page)."""
    text = body[:4096].decode("utf-8", errors="replace")
    text = _HIDDEN_RE.sub(" ", text)
    text = html.unescape(_TAG_RE.sub(" ", text))
    text = _SPACE_RE.sub(" ", text).strip()
    if len(text) > _SNIPPET_CHARS:
        text = text[: _SNIPPET_CHARS - 1].rstrip() + "…"
    return text


def _server_text(body: Mapping[str, Any]) -> str:
    """The distinct texts the server put in ``msg``, ``message``, ``result`` and ``hint``, joined."""
    parts: list[str] = []
    for key in ("msg", "message", "result", "hint"):
        value = body.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
            if text and text not in parts:
                parts.append(text)
    return "; ".join(parts)


def _describe_transport_error(exc: httpx.RequestError) -> str:
    """A short, URL-free description of what went wrong on the wire."""
    if isinstance(exc, httpx.ConnectTimeout):
        return translate("api", "the connection timed out")
    if isinstance(exc, httpx.TimeoutException):
        return translate("api", "the server took too long to answer")
    if isinstance(exc, httpx.ProxyError):
        return translate("api", "the proxy refused the connection")
    if isinstance(exc, httpx.RemoteProtocolError):
        return translate("api", "the connection broke off before the reply was complete")
    if isinstance(exc, httpx.ConnectError):
        if _is_cert_error(exc):
            return translate("api", "the server's TLS certificate could not be verified")
        return translate("api", "could not connect to the server")
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        return translate("api", "the connection was reset")
    if isinstance(exc, httpx.DecodingError):
        return translate("api", "the reply could not be decoded")
    return translate("api", "a network error occurred")


def _is_cert_error(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


class _Secret:
    """Holds the token; its repr never shows it (tracebacks with locals, debuggers, ``vars(client)``)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<token hidden>"


class _Cancelled(Exception):
    """Internal: a cancel arrived while waiting to retry."""


@dataclass(frozen=True)
class _WireFailure:
    reason: str  # URL-free
    retryable: bool


@dataclass(frozen=True)
class _Reply:
    data: dict[str, Any]
    sent_mono: float
    sent_wall: float


# ---- the client -----------------------------------------------------------------------------------------


class KDocsClient:
    """A thread-safe client for the KDocs picture, sheets and cells APIs (one keep-alive httpx.Client).

    ``token`` is one fixed access token, or a ``TokenProvider`` (a signed-in user's tokens, renewed before
    they expire and once when the API rejects one). ``transport`` lets tests and benchmarks plug in an
    httpx transport (e.g. to record hosts). Proxies from the environment are honoured, except for a
    loopback API host, which is always reached directly.
    """

    def __init__(
        self,
        token: str | TokenProvider,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 15.0,
        concurrency: int = 4,
        retry: RetryPolicy = DEFAULT_RETRY,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._base_url = self._checked_base_url(base_url)
        # With a provider, _token holds the last token it handed out (so _scrub can hide it too).
        self._provider: TokenProvider | None = None if isinstance(token, str) else token
        self._token = _Secret(token.strip() if isinstance(token, str) else "")
        self._concurrency = concurrency
        self._retry = retry
        self._lock = threading.Lock()
        self._calls_made = 0
        self._daily_limit: int | None = None
        self._closed = threading.Event()
        host = httpx.URL(self._base_url).host
        # A loopback API host is never reached through a proxy: the proxy's loopback is not ours, and the
        # token would travel to the proxy over plain http. (A None mount means "the client's own transport".)
        pattern = f"all://[{host}]" if ":" in host else f"all://{host}"
        mounts: dict[str, httpx.BaseTransport | None] | None = (
            {pattern: None} if is_loopback_host(host) else None
        )
        self._http = httpx.Client(
            base_url=self._base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2),
            headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
            trust_env=True,
            transport=transport,
            verify=shared_ssl_context(),
            mounts=mounts,
        )

    @staticmethod
    def _checked_base_url(base_url: str) -> str:
        """``core.validation.check_base_url``; plain http to another host is an InsecureTransportError."""
        try:
            return check_base_url(base_url)
        except InsecureBaseUrlError as exc:
            raise InsecureTransportError(str(exc)) from None

    # -- plumbing ------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def calls_made(self) -> int:
        """API HTTP requests this client has sent (retries included)."""
        with self._lock:
            return self._calls_made

    @property
    def daily_limit(self) -> int | None:
        """The daily call limit the server last stated (see ``core.quota``), or None while it has not."""
        with self._lock:
            return self._daily_limit

    def set_token(self, token: str | TokenProvider) -> None:
        """Use a new token, or a token provider, for the following calls (after a TokenInvalidError, or
        when the user signs in or pastes a token by hand); replaces the fixed token or provider before."""
        with self._lock:
            self._provider = None if isinstance(token, str) else token
            self._token = _Secret(token.strip() if isinstance(token, str) else "")

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | list[str]] | None = None,
        body: Any = None,
        send_token: bool = True,
    ) -> dict[str, Any]:
        """One call of an API path that names no workbook (the user, file lists, signing in), with the same
        envelope, errors and retries as the picture calls: the envelope's ``data``.

        ``path`` is relative to the base URL, used as given. ``send_token=False`` leaves the access token
        out (the OAuth endpoints authenticate with the app's own credentials instead).
        """
        return self._call(method, path, None, params=params, body=body, send_token=send_token).data

    def close(self) -> None:
        """Close the connection pool; waits between retries end at once."""
        self._closed.set()
        self._http.close()

    def __enter__(self) -> KDocsClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KDocsClient(base_url={self._base_url!r}, calls_made={self.calls_made})"

    def _scrub(self, text: str) -> str:
        """Redact, and also hide the token itself should a server echo it back bare."""
        text = redact(text)
        with self._lock:
            token = self._token.value
        if token and len(token) >= 4:
            text = text.replace(token, MASK)
        return text

    def _path(self, template: str, file_token: str, **extra: int) -> str:
        """The request path: the file token checked (InvalidIdentifierError), then encoded as one segment."""
        return template.format(file_token=quote(check_file_token(file_token), safe=""), **extra)

    def _sleep(self, seconds: float, cancel: threading.Event | None) -> None:
        """Wait before a retry; a cancel ends the wait with _Cancelled, a close with ApiTransportError."""
        deadline = time.monotonic() + seconds
        while True:
            if cancel is not None and cancel.is_set():
                raise _Cancelled
            if self._closed.is_set():
                closed = translate("api", "The KDocs client was closed while waiting to retry.")
                raise ApiTransportError(closed)
            left = deadline - time.monotonic()
            if left <= 0:
                return
            (cancel or self._closed).wait(min(left, 0.05))

    def _current_token(self) -> str:
        provider = self._provider
        if provider is None:
            with self._lock:
                return self._token.value
        token = provider.current()
        with self._lock:
            self._token = _Secret(token)
        return token

    def _send(
        self, method: str, path: str, params: Mapping[str, Any], body: Any, token: str | None
    ) -> httpx.Response | _WireFailure:
        """One HTTP request (with ``token`` unless it is None): the response, or a URL-free description of
        the transport failure.

        The httpx exception is dropped here, inside this frame: it holds the request, whose URL carries the
        token, and must not become the ``__context__`` of anything we raise.
        """
        query: dict[str, Any] = dict(params) if token is None else {**params, TOKEN_PARAM: token}
        with self._lock:
            self._calls_made += 1
        try:
            return self._http.request(method, path, params=query, json=body)
        except httpx.RequestError as exc:
            retryable = not _is_cert_error(exc) and not isinstance(
                exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError
            )
            return _WireFailure(_describe_transport_error(exc), retryable)

    def _call(
        self,
        method: str,
        template: str,
        file_token: str | None,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        cancel: threading.Event | None = None,
        send_token: bool = True,
        **path_args: int,
    ) -> _Reply:
        """One API call with retries: the envelope's ``data`` and when the successful request was sent.

        ``file_token`` None: ``template`` is a plain path. With a token provider, a rejected token is
        renewed once and the call made again at once.
        """
        if self._closed.is_set():
            raise RuntimeError("this KDocsClient is closed")
        path = template if file_token is None else self._path(template, file_token, **path_args)
        shown = redact_url(self._base_url + path)
        started = time.monotonic()
        attempt = 0
        renewed = False
        while True:
            attempt += 1
            token = self._current_token() if send_token else None
            sent_mono, sent_wall = now_pair()
            log.debug("%s %s (attempt %d)", method, shown, attempt)
            result = self._send(method, path, params or {}, body, token)
            if isinstance(result, _WireFailure):
                log.debug("%s %s: %s", method, shown, result.reason)
                wait_s = (
                    retry_delay(
                        self._retry,
                        attempt,
                        status=None,
                        code=None,
                        retry_after=None,
                        transport_error=True,
                        elapsed=time.monotonic() - started,
                    )
                    if result.retryable
                    else None
                )
                if wait_s is None:
                    message = (
                        translate(
                            "api", "Could not reach the KDocs API: {reason} (after {attempts} attempts)."
                        )
                        if attempt > 1
                        else translate("api", "Could not reach the KDocs API: {reason}.")
                    )
                    raise ApiTransportError(message.format(reason=result.reason, attempts=attempt))
                self._sleep(wait_s, cancel)
                continue
            if (limit := daily_limit_from_headers(result.headers.multi_items())) is not None:
                with self._lock:
                    self._daily_limit = limit
            data, error = self._parse(result)
            log.debug("%s %s → HTTP %d%s", method, shown, result.status_code, " (error)" if error else "")
            if error is None:
                return _Reply(data, sent_mono, sent_wall)
            provider = self._provider
            if (
                provider is not None
                and token is not None
                and not renewed
                and (isinstance(error, TokenInvalidError) or error.status == 401)
            ):
                renewed = True
                log.debug("%s %s: token rejected, renewing it once", method, shown)
                provider.rejected(token)
                continue
            wait_s = retry_delay(
                self._retry,
                attempt,
                status=error.status,
                code=error.code,
                retry_after=result.headers.get("Retry-After"),
                transport_error=False,
                elapsed=time.monotonic() - started,
            )
            if wait_s is None:
                raise error
            log.debug("%s %s: retrying in %.2f s", method, shown, wait_s)
            self._sleep(wait_s, cancel)

    def _parse(self, response: httpx.Response) -> tuple[dict[str, Any], KDocsError | None]:
        """(data, None) for a good envelope (2xx and code 0); otherwise ({}, the typed error it means)."""
        status = response.status_code
        content = response.content
        parsed: Any = None
        is_json = False
        if content.strip():
            try:
                parsed = json.loads(content)
                is_json = True
            except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
                pass
        if not isinstance(parsed, dict):
            if 300 <= status < 400:
                detail = translate(
                    "api", "a redirect, which is not followed (the token stays on the API host)"
                )
            elif not content.strip():
                detail = translate("api", "empty body")
            else:
                detail = self._scrub(_snippet(content))
            message = (
                translate("api", "The server sent an unexpected JSON reply (HTTP {status}): {detail}")
                if is_json
                else translate("api", "The server sent a non-JSON reply (HTTP {status}): {detail}")
            ).format(status=status, detail=detail)
            return {}, KDocsError(message, status=status, server_text=detail)
        raw_code = parsed.get("code")
        code = _as_int(raw_code)
        ok_status = 200 <= status < 300
        if raw_code is None and ok_status:
            code = CODE_OK  # tolerate an envelope without a code when the status says success
        if ok_status and code == CODE_OK:
            data = parsed.get("data")
            return (data if isinstance(data, dict) else {}), None
        text = self._scrub(_server_text(parsed))
        if code == CODE_TOKEN_INVALID:
            cls: type[KDocsError] = TokenInvalidError
            lead = translate("api", "The access token was rejected (code 20007) — enter a new token")
        elif status == 429 or code == CODE_QUOTA_EXCEEDED:
            cls = QuotaExceededError
            lead = translate("api", "The KDocs API quota is used up or calls are too frequent")
        else:
            cls = KDocsError
            lead = translate("api", "The KDocs API reported an error")
        where = ", ".join(
            part
            for part in (
                translate("api", "code {code}").format(code=code)
                if code is not None and cls is not TokenInvalidError
                else "",
                "" if ok_status else f"HTTP {status}",
            )
            if part
        )
        message = lead + (f" ({where})" if where else "") + (f": {text}" if text else "")
        return {}, cls(message, code=code, status=status, server_text=text)

    # -- pictures ------------------------------------------------------------------------------------------

    def resolve(
        self, file_token: str, pics: Iterable[PicRef], *, cancel: threading.Event | None = None
    ) -> list[Outcome]:
        """A Lease or a PicFailure for each distinct picture, in first-occurrence order.

        Batches of ``MAX_PICS_PER_CALL`` run ``concurrency`` at a time. A failed batch turns into
        PicFailures for its own pictures only — except a rejected token, which is raised (no more batches
        are started). Once the quota error survives its retries, batches not yet sent fail with it too,
        without a call (quota is precious). After ``cancel`` is set no new batch starts; pictures of batches
        that never ran (or were cancelled while waiting to retry) are left out of the result.

        A bad file token raises InvalidIdentifierError before any call; a picture whose pic_key breaks
        ``core.validation``'s rule fails on its own, without being sent.
        """
        check_file_token(file_token)
        unique = list(dict.fromkeys(pics))
        refused: dict[PicRef, PicFailure] = {}
        for ref in unique:
            if (problem := pic_key_problem(ref.pic_key)) is not None:
                refused[ref] = PicFailure(ref, problem)
        if refused:
            sendable = [ref for ref in unique if ref not in refused]
            sent = {outcome.ref: outcome for outcome in self.resolve(file_token, sendable, cancel=cancel)}
            return [refused.get(ref) or sent[ref] for ref in unique if ref in refused or ref in sent]
        if not unique:
            return []
        batches = [unique[i : i + MAX_PICS_PER_CALL] for i in range(0, len(unique), MAX_PICS_PER_CALL)]
        results: list[list[Outcome] | None] = [None] * len(batches)
        stop = threading.Event()  # set on a rejected token: later batches would fail the same way
        quota: list[QuotaExceededError] = []  # the first quota error that survived its retries

        def run(index: int) -> None:
            if stop.is_set() or (cancel is not None and cancel.is_set()):
                return
            batch = batches[index]
            if quota:
                results[index] = [PicFailure(ref, str(quota[0]), quota[0].code) for ref in batch]
                return
            try:
                results[index] = self._resolve_batch(file_token, batch, cancel)
            except TokenInvalidError:
                stop.set()
                raise
            except KDocsError as exc:
                if isinstance(exc, QuotaExceededError):
                    quota.append(exc)
                results[index] = [PicFailure(ref, str(exc), exc.code) for ref in batch]

        if len(batches) == 1 or self._concurrency == 1:
            for index in range(len(batches)):
                run(index)
        else:
            self._run_parallel(run, len(batches), cancel, stop)
        return [outcome for batch in results if batch is not None for outcome in batch]

    def _run_parallel(
        self, run: Callable[[int], None], count: int, cancel: threading.Event | None, stop: threading.Event
    ) -> None:
        """Keep ``concurrency`` batches in flight; launch the next only when one finishes (so cancel and a
        rejected token stop launching at once); re-raise the first TokenInvalidError after all have ended."""
        token_error: TokenInvalidError | None = None
        with ThreadPoolExecutor(
            max_workers=min(self._concurrency, count), thread_name_prefix="kdocs-resolve"
        ) as pool:
            pending: set[Future[None]] = set()
            upcoming: Iterator[int] = iter(range(count))
            for index in upcoming:
                pending.add(pool.submit(run, index))
                if len(pending) >= self._concurrency:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    exc = future.exception()
                    if isinstance(exc, TokenInvalidError):
                        token_error = token_error or exc
                    elif exc is not None:
                        raise exc
                if stop.is_set() or (cancel is not None and cancel.is_set()):
                    continue
                for index in upcoming:
                    pending.add(pool.submit(run, index))
                    if len(pending) >= self._concurrency:
                        break
        if token_error is not None:
            raise token_error

    def _resolve_batch(
        self, file_token: str, batch: list[PicRef], cancel: threading.Event | None
    ) -> list[Outcome] | None:
        body = {"pics": [{"pic_key": ref.pic_key, "tag": ref.tag} for ref in batch]}
        try:
            reply = self._call("POST", PICTURE_URLS_PATH, file_token, body=body, cancel=cancel)
        except _Cancelled:
            return None
        items = reply.data.get("urls")
        return _match_items(batch, items if isinstance(items, list) else [], reply)

    # -- sheets, cells, discovery --------------------------------------------------------------------------

    def list_sheets(self, file_token: str) -> list[SheetInfo]:
        """The workbook's sheets, in the server's order. A bad file token: InvalidIdentifierError, no call."""
        data = self._call("GET", SHEETS_PATH, file_token).data
        raw = data.get("sheets_info", data.get("sheets"))
        sheets: list[SheetInfo] = []
        for position, item in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(item, dict):
                continue
            idx = _as_int(item.get("sheet_idx"))
            idx = position if idx is None else idx
            name = item.get("sheet_name", item.get("name"))
            sheets.append(
                SheetInfo(
                    sheet_idx=idx,
                    sheet_id=_as_int(item.get("sheet_id")),
                    name=str(name) if name not in (None, "") else f"Sheet{idx + 1}",
                    row_from=_as_int(item.get("row_from")) or 0,
                    row_to=_as_int(item.get("row_to")) or 0,
                    col_from=_as_int(item.get("col_from")) or 0,
                    col_to=_as_int(item.get("col_to")) or 0,
                    visible=_as_bool(item.get("is_visible", item.get("visible")), True),
                )
            )
        return sheets

    def read_cells(
        self, file_token: str, sheet_idx: int, row_from: int, row_to: int, col_from: int, col_to: int
    ) -> list[dict[str, Any]]:
        """The raw cell objects of one rectangle (0-based, inclusive), as the server sent them."""
        return self._read_cells(file_token, sheet_idx, row_from, row_to, col_from, col_to, None)

    def _read_cells(
        self,
        file_token: str,
        sheet_idx: int,
        row_from: int,
        row_to: int,
        col_from: int,
        col_to: int,
        cancel: threading.Event | None,
    ) -> list[dict[str, Any]]:
        params = {"row_from": row_from, "row_to": row_to, "col_from": col_from, "col_to": col_to}
        reply = self._call("GET", CELLS_PATH, file_token, params=params, cancel=cancel, sheet_idx=sheet_idx)
        cells = reply.data.get("cells")
        return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []

    def find_pictures(self, file_token: str, *, cancel: threading.Event | None = None) -> list[PicRef]:
        """Every picture of the workbook, sheet by sheet in row-major order, with cell and caption.

        Each sheet's used range is read in chunks of at most ``MAX_CELLS_PER_READ`` cells. Returns what was
        found so far when ``cancel`` is set.
        """
        found: dict[PicRef, None] = {}
        for sheet in self.list_sheets(file_token):
            for row_from, row_to, col_from, col_to in _chunks(sheet):
                if cancel is not None and cancel.is_set():
                    return list(found)
                try:
                    cells = self._read_cells(
                        file_token, sheet.sheet_idx, row_from, row_to, col_from, col_to, cancel
                    )
                except _Cancelled:
                    return list(found)
                for ref in _pictures_in_cells(sheet.name, cells):
                    found.setdefault(ref, None)
        return list(found)


# ---- pure helpers of resolve / find_pictures ---------------------------------------------------------------


def _match_items(batch: list[PicRef], items: list[Any], reply: _Reply) -> list[Outcome]:
    """Pair reply items with requests by (pic_key, tag), else by pic_key alone (an unclaimed item)."""
    by_ident: dict[tuple[str, str], dict[str, Any]] = {}
    by_key: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("pic_key"), str):
            continue
        tag = item.get("tag")
        if isinstance(tag, str):
            by_ident.setdefault((item["pic_key"], tag), item)
        by_key.setdefault(item["pic_key"], []).append(item)
    claimed = {id(by_ident[ref.ident]) for ref in batch if ref.ident in by_ident}
    outcomes: list[Outcome] = []
    for ref in batch:
        item = by_ident.get(ref.ident)
        if item is None:
            item = next((i for i in by_key.get(ref.pic_key, []) if id(i) not in claimed), None)
            if item is not None:
                claimed.add(id(item))
        if item is None:
            missing = translate("api", "the server's reply did not include this picture")
            outcomes.append(PicFailure(ref, missing))
            continue
        url = item.get("pic_url")
        if not isinstance(url, str) or not url.strip():
            missing = translate("api", "not found in this workbook / no download URL")
            outcomes.append(PicFailure(ref, missing, _as_int(item.get("code"))))
            continue
        url = url.strip()
        if not url.lower().startswith(("https://", "http://")):
            outcomes.append(PicFailure(ref, translate("api", "the server sent an unusable download URL")))
            continue
        ttl, estimated = expiry.lifetime_for(ref.tag, url, reply.sent_wall)
        outcomes.append(Lease(ref, url, reply.sent_mono, ttl, estimated, reply.sent_wall))
    return outcomes


def _chunks(sheet: SheetInfo) -> Iterator[tuple[int, int, int, int]]:
    """Rectangles (row_from, row_to, col_from, col_to) covering the used range, each ≤ MAX_CELLS_PER_READ."""
    if sheet.row_to < sheet.row_from or sheet.col_to < sheet.col_from:
        return
    width = min(sheet.col_to - sheet.col_from + 1, MAX_CELLS_PER_READ)
    rows = max(1, MAX_CELLS_PER_READ // width)
    for col in range(sheet.col_from, sheet.col_to + 1, width):
        col_end = min(col + width - 1, sheet.col_to)
        for row in range(sheet.row_from, sheet.row_to + 1, rows):
            yield row, min(row + rows - 1, sheet.row_to), col, col_end


def _find_pics(node: Any, depth: int = 0) -> Iterator[tuple[str, str | None]]:
    """(pic_key, tag or None) of every object with a non-empty ``pic_key`` anywhere inside ``node``."""
    if depth > 20:
        return
    if isinstance(node, dict):
        key = node.get("pic_key")
        if isinstance(key, str) and key.strip():
            tag = node.get("tag")
            yield key.strip(), tag if isinstance(tag, str) and tag else None
        for name, value in node.items():
            if name != "pic_key" and isinstance(value, dict | list):
                yield from _find_pics(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            yield from _find_pics(value, depth + 1)


def _find_tag(node: Any, depth: int = 0) -> str | None:
    if depth > 20:
        return None
    if isinstance(node, dict):
        tag = node.get("tag")
        if isinstance(tag, str) and tag:
            return tag
        children: Iterable[Any] = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for value in children:
        found = _find_tag(value, depth + 1)
        if found:
            return found
    return None


def _cell_text(cell: Mapping[str, Any]) -> str:
    for key in ("cell_text", "original_cell_value", "text", "value"):
        value = cell.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return ""


_NUMBER_RE = re.compile(r"^[+-]?[¥$€£]?\s*[\d,]*\.?\d+(?:[eE][+-]?\d+)?\s*%?$")


def _is_number(text: str) -> bool:
    return bool(_NUMBER_RE.match(text))


def _pictures_in_cells(sheet_name: str, cells: list[dict[str, Any]]) -> list[PicRef]:
    """PicRefs of the picture cells, row-major, each captioned by the nearest text cell of its row.

    Caption rule: among the row's non-picture cells with text, prefer real text over pure numbers; then the
    nearest cell to the left, else the nearest to the right.
    """
    rows: dict[int, dict[int, dict[str, Any]]] = {}
    for cell in cells:
        row, col = _as_int(cell.get("row_from")), _as_int(cell.get("col_from"))
        if row is None or col is None or row < 0 or col < 0:
            continue
        rows.setdefault(row, {}).setdefault(col, cell)  # a merged cell read twice counts once
    refs: list[PicRef] = []
    for row in sorted(rows):
        by_col = rows[row]
        pics = {col: list(_find_pics(cell)) for col, cell in by_col.items()}
        texts = {col: _cell_text(cell) for col, cell in by_col.items() if not pics[col]}
        texts = {col: text for col, text in texts.items() if text}
        for col in sorted(by_col):
            for key, tag in pics[col]:
                refs.append(
                    PicRef(
                        pic_key=key,
                        tag=tag or _find_tag(by_col[col]) or "attachment",
                        sheet=sheet_name,
                        cell=cell_address(sheet_name, row, col),
                        caption=_caption(texts, col),
                    )
                )
    return refs


def _caption(texts: Mapping[int, str], col: int) -> str | None:
    words = {c: t for c, t in texts.items() if not _is_number(t)}
    for pool in (words, texts):
        left = [c for c in pool if c < col]
        if left:
            return pool[max(left)]
        right = [c for c in pool if c > col]
        if right:
            return pool[min(right)]
    return None
