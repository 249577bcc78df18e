"""The KDocs open-platform client: transport (one keep-alive connection pool, retries, the token kept
safe) and batching. What replies mean is read by ``core.replies``, failures are typed in ``core.errors``,
picture cells are read by ``core.cells``.

Every API URL carries the user's token (``access_token`` query parameter), so this module never formats a
URL into a log line or an exception text: logs get ``redact_url`` of the path, errors are our own types
raised ``from None`` with a safe description. The token is only ever sent to the configured API host, and
never over plain http unless that host is loopback (the stand-in server).

Quota is precious: pictures are resolved in batches of ``MAX_PICS_PER_CALL``, duplicates collapse, and one
bad batch or one bad key never sinks the others. See /work/shared/kdocs-api.md for the API itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from kdocs_viewer import __version__
from kdocs_viewer.core.cells import CELL_LIST_KEYS, FoundPictures, SheetCells
from kdocs_viewer.core.client_gate import ClientClosed, ClientGate
from kdocs_viewer.core.contract import (
    CELLS_PATH,
    MAX_CELLS_PER_READ,
    MAX_PICS_PER_CALL,
    PICTURE_URLS_PATH,
    SHEETS_PATH,
    TOKEN_PARAM,
)
from kdocs_viewer.core.errors import (
    ApiTransportError,
    FailureReason,
    InsecureTransportError,
    KDocsError,
    QuotaExceededError,
    TokenInvalidError,
)
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.models import DEFAULT_BASE_URL, Outcome, PicFailure, PicRef, Problem, now_pair
from kdocs_viewer.core.quota import daily_limit_from_headers
from kdocs_viewer.core.redact import redact, redact_url, register_secret
from kdocs_viewer.core.replies import SheetInfo, parse_envelope, pictures_from_reply, sheets_from_reply
from kdocs_viewer.core.retry import RetryPolicy, retry_delay
from kdocs_viewer.core.tls import shared_ssl_context
from kdocs_viewer.core.transport_errors import describe_api_transport_error, is_cert_error
from kdocs_viewer.core.validation import (
    InsecureBaseUrlError,
    check_base_url,
    check_file_token,
    is_loopback_host,
    pic_key_problem,
)

__all__ = [
    "DEFAULT_RETRY",
    "MAX_CELLS_PER_READ",
    "ApiTransportError",
    "FoundPictures",
    "InsecureTransportError",
    "KDocsClient",
    "KDocsError",
    "QuotaExceededError",
    "SheetInfo",
    "TokenInvalidError",
    "TokenProvider",
]

log = logging.getLogger(__name__)

DEFAULT_RETRY = RetryPolicy()
_USER_AGENT = f"kdocs-viewer/{__version__}"


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
        # With a provider, _token holds the last token it handed out. Every token is registered with
        # core.redact, so a server that echoes one back bare is masked in our errors and logs too.
        self._provider: TokenProvider | None = None if isinstance(token, str) else token
        self._token = _Secret(token.strip() if isinstance(token, str) else "")
        register_secret(self._token.value)
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
        self._gate = ClientGate(self._http.close)

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
        if isinstance(token, str):
            register_secret(token.strip())
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
        """No new calls; waits between retries end at once; the connections close when the calls on the
        wire end (``core.client_gate``: never pulled from under a worker, never waited for)."""
        self._closed.set()
        self._gate.close()

    def __enter__(self) -> KDocsClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KDocsClient(base_url={self._base_url!r}, calls_made={self.calls_made})"

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
        register_secret(token)
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
            with self._gate.use():
                return self._http.request(method, path, params=query, json=body)
        except ClientClosed:  # closed since the call began: as when closed in a wait to retry
            raise ApiTransportError(translate("api", "The KDocs client was closed.")) from None
        except httpx.RequestError as exc:
            retryable = not is_cert_error(exc) and not isinstance(
                exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError
            )
            return _WireFailure(describe_api_transport_error(exc), retryable)

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
                refused[ref] = PicFailure(ref, problem, reason=FailureReason.BAD_INPUT)
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
                results[index] = [_failure(ref, quota[0]) for ref in batch]
                return
            try:
                results[index] = self._resolve_batch(file_token, batch, cancel)
            except TokenInvalidError:
                stop.set()
                raise
            except KDocsError as exc:
                if isinstance(exc, QuotaExceededError):
                    quota.append(exc)
                results[index] = [_failure(ref, exc) for ref in batch]

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
        rejected token stop launching at once); after all have ended, raise the first unexpected error,
        else the first TokenInvalidError.

        Daemon threads, not a ``ThreadPoolExecutor``: Python joins an executor's threads at exit, so a
        window closed during a resolve on a slow line left its process running until the calls returned.
        """
        upcoming = iter(range(count))
        lock = threading.Lock()
        unexpected: list[Exception] = []
        rejected: list[TokenInvalidError] = []

        def worker() -> None:
            while not stop.is_set() and not (cancel is not None and cancel.is_set()):
                with lock:
                    index = None if unexpected else next(upcoming, None)
                if index is None:
                    return
                try:
                    run(index)
                except TokenInvalidError as exc:
                    with lock:
                        rejected.append(exc)
                except Exception as exc:
                    with lock:
                        unexpected.append(exc)

        threads = [
            threading.Thread(target=worker, name="kdocs-resolve", daemon=True)
            for _ in range(min(self._concurrency, count))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if unexpected:
            raise unexpected[0]
        if rejected:
            raise rejected[0]

    def _parse(self, response: httpx.Response) -> tuple[dict[str, Any], KDocsError | None]:
        """``replies.parse_envelope`` of the response, the token scrubbed from anything it quotes."""
        return parse_envelope(response.status_code, response.content, redact)

    def _resolve_batch(
        self, file_token: str, batch: list[PicRef], cancel: threading.Event | None
    ) -> list[Outcome] | None:
        body = {"pics": [{"pic_key": ref.pic_key, "tag": ref.tag} for ref in batch]}
        try:
            reply = self._call("POST", PICTURE_URLS_PATH, file_token, body=body, cancel=cancel)
        except _Cancelled:
            return None
        items = reply.data.get("urls")
        items = items if isinstance(items, list) else []
        return pictures_from_reply(batch, items, reply.sent_mono, reply.sent_wall)

    # -- sheets, cells, discovery --------------------------------------------------------------------------

    def list_sheets(self, file_token: str) -> list[SheetInfo]:
        """The workbook's sheets, in the server's order. A bad file token: InvalidIdentifierError, no call."""
        return sheets_from_reply(self._call("GET", SHEETS_PATH, file_token).data)

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
        cells = next((reply.data[key] for key in CELL_LIST_KEYS if key in reply.data), None)
        return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []

    def find_pictures(self, file_token: str, *, cancel: threading.Event | None = None) -> FoundPictures:
        """Every picture of the workbook, sheet by sheet in row-major order, with cell and caption, and the
        picture cells that could not be read (``core.cells`` reads them: the rule a pasted cells response
        follows too).

        Each sheet is read in bands of whole rows, each band in rectangles of at most
        ``MAX_CELLS_PER_READ`` cells. Returns what was found so far when ``cancel`` is set.
        """
        found: dict[PicRef, None] = {}
        problems: list[Problem] = []
        for sheet in self.list_sheets(file_token):
            reader = SheetCells(sheet.name)
            for band in _bands(sheet):
                cells: list[dict[str, Any]] = []
                for row_from, row_to, col_from, col_to in band:
                    if cancel is not None and cancel.is_set():
                        return FoundPictures(list(found), problems)
                    try:
                        cells += self._read_cells(
                            file_token, sheet.sheet_idx, row_from, row_to, col_from, col_to, cancel
                        )
                    except _Cancelled:
                        return FoundPictures(list(found), problems)
                pictures, unreadable = reader.read(cells)
                for _where, ref in pictures:
                    found.setdefault(ref, None)
                problems += unreadable
        return FoundPictures(list(found), problems)


# ---- pure helpers of resolve / find_pictures ---------------------------------------------------------------


def _failure(ref: PicRef, error: KDocsError) -> PicFailure:
    """The PicFailure of a picture whose whole call failed with ``error``."""
    return PicFailure(ref, str(error), error.code, error.server_text, reason=error.reason)


def _bands(sheet: SheetInfo) -> Iterator[list[tuple[int, int, int, int]]]:
    """Bands of rows covering the used range, top to bottom, each as the rectangles (row_from, row_to,
    col_from, col_to) of at most MAX_CELLS_PER_READ cells that read it: a row is captioned whole."""
    if sheet.row_to < sheet.row_from or sheet.col_to < sheet.col_from:
        return
    width = min(sheet.col_to - sheet.col_from + 1, MAX_CELLS_PER_READ)
    rows = max(1, MAX_CELLS_PER_READ // width)
    for row in range(sheet.row_from, sheet.row_to + 1, rows):
        row_end = min(row + rows - 1, sheet.row_to)
        yield [
            (row, row_end, col, min(col + width - 1, sheet.col_to))
            for col in range(sheet.col_from, sheet.col_to + 1, width)
        ]
