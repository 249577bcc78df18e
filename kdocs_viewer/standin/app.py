"""The stand-in's HTTP application (Starlette), following /work/shared/kdocs-api.md.

Decisions marked [ours] (the real service does not document them; the client must cope with any choice):

- HTTP status of API errors [ours]: wrong/missing token → 401 with code 20007 (``msg`` "AccessTokenInvalid",
  ``hint`` "access_token is required"); unknown file token → 404 with CODE_FILE_NOT_FOUND; malformed body,
  more than MAX_PICS_PER_CALL pictures, bad cells range or unknown sheet → 400 with CODE_BAD_REQUEST /
  CODE_TOO_MANY_PICS; quota used up → 429 with CODE_QUOTA_EXCEEDED, ``Retry-After`` (seconds to the next
  quota day, ``core.quota``) and the daily limit in ``RateLimit-Policy`` (``"day";q=N;w=86400``; the
  injected "slow down" 429 states none); injected server faults → 500/502/503 with CODE_INTERNAL. Error
  envelopes carry ``code``, ``msg`` (symbolic name) and ``message`` (for people); 20007 carries ``hint``
  instead.
- Order of checks on an API call: latency → daily quota (every call that is not refused by the quota counts,
  whatever its outcome) → injected fault (queued first, then ``fail_rate``) → token → file token → request.
- A (pic_key, tag) pair that is not in the workbook — unknown key, or a known key with another tag — comes
  back with an empty ``pic_url``; the rest of the batch succeeds. Items come back in request order, echoing
  pic_key and tag exactly; duplicates are answered each time.
- A cells request covers at most MAX_CELLS_PER_CALL cells (rows × columns of the asked range); larger →
  400 with CODE_BAD_REQUEST and msg "RangeTooLarge". Only non-empty cells are returned. Picture cells come
  in the shape ``config.cell_shape`` names (``config.CELL_SHAPES``); in the DISPIMG shape the id to ask the
  pictures API with is the pic_key, in ``sha1`` for local pictures and in ``pic_data`` for the others.
- Picture URLs: ``{base}/img/{file_token}/{pic_key}?Expires=<unix time, 3 decimals>&Sig=<hmac>`` for tags
  with a lifetime (TAG_LIFETIMES × time_scale, unknown tags ESTIMATED_LIFETIME × time_scale) and
  ``?Sig=<hmac>`` for UNBOUNDED_TAGS. The HMAC (per-server random secret) covers file token, pic key,
  the Expires text and a per-picture epoch that ``revoke_url`` bumps. Bad/missing signature, expiry or a
  revoked URL → 403; unknown picture → 404. Image GETs do not count against the quota.
- Image GETs take faults too (queued first, then ``image_fail_rate``): 500/502/503/403, "reset" and
  "html" (a login page answered with 200 and text/html) come before the URL is checked, as a proxy or a
  captive portal would answer; "truncated" and "corrupt" (bytes no decoder reads) spoil the real picture.
- Picture URLs answer HTTP ``Range`` as object stores do (``standin.link.parse_range``): ``Accept-Ranges:
  bytes``; ``206`` with ``Content-Range: bytes a-b/size`` for ``bytes=a-b``, ``bytes=a-`` and ``bytes=-n``,
  also when the range happens to cover the whole file (S3 and nginx do the same); ``416`` with
  ``Content-Range: bytes */size`` for a range that starts past the end; ``200`` with the whole file for a GET
  without ``Range``, for several ranges at once (no ``multipart/byteranges``) and for a header that does not
  parse. No ``If-Range`` (a pic key names one picture; its bytes never change). ``honour_range=False``
  (``--no-range``) answers every GET whole with 200 and no ``Accept-Ranges``. Faults apply to the ranged
  answer: "truncated" cuts the 206 body short, "corrupt" replaces the file before the range is taken.
- ``bandwidth_mbps`` shapes every picture body (200 and 206) through one ``TokenBucket`` shared by all
  connections, sent in ``CHUNK_BYTES`` chunks after the latency; error answers and API calls are not shaped.
- The request log keeps method, path (never the query string), status, the body bytes sent and the
  request's ``Range`` header; status 0 means the connection was dropped before a status line (fault
  "reset").
- Signing in, the user and the file lists live in ``standin.oauth`` (its own [ours] list); the API accepts
  the static ``token`` and every live access token issued there. A file token of the user's listing other
  than the demo workbook answers as a workbook without pictures.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import hashlib
import hmac
import json
import logging
import math
import random
import secrets
import socket
import struct
import threading
import time
from collections.abc import MutableMapping
from concurrent.futures import Executor
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from kdocs_viewer.core.cells import camel_case
from kdocs_viewer.core.contract import (
    CELLS_PATH,
    CODE_BAD_REQUEST,
    CODE_FILE_NOT_FOUND,
    CODE_INTERNAL,
    CODE_OK,
    CODE_QUOTA_EXCEEDED,
    CODE_TOKEN_INVALID,
    CODE_TOO_MANY_PICS,
    ESTIMATED_LIFETIME,
    MAX_CELLS_PER_CALL,
    MAX_PICS_PER_CALL,
    PICTURE_URLS_PATH,
    SHEETS_PATH,
    TAG_LIFETIMES,
    TOKEN_PARAM,
    UNBOUNDED_TAGS,
)
from kdocs_viewer.core.quota import daily_limit_header, quota_day, seconds_to_next_quota_day
from kdocs_viewer.standin.config import CELL_SHAPES, StandinConfig
from kdocs_viewer.standin.dataset import Cell, Picture, Workbook
from kdocs_viewer.standin.images import ImageStore, corrupt_bytes
from kdocs_viewer.standin.link import CHUNK_BYTES, TokenBucket, Unsatisfiable, bytes_per_second, parse_range
from kdocs_viewer.standin.oauth import OAuthState, oauth_routes, other_workbook_reply

IMAGE_PATH = "/img/{file_token}/{pic_key}"

API_FAULTS = frozenset({"500", "502", "503", "html", "empty", "429", "reset", "truncated", "20007"})
IMAGE_FAULTS = frozenset({"500", "502", "503", "reset", "truncated", "403", "corrupt", "html"})
RANDOM_FAULTS = ("500", "502", "503", "429", "reset", "truncated")  # what fail_rate draws from
# What image_fail_rate draws from: server errors, a dropped connection, a body cut short, and a captive
# portal's login page answered with 200 (an HTML page where a picture should be).
RANDOM_IMAGE_FAULTS = ("500", "502", "503", "reset", "truncated", "html")
CAPTIVE_PORTAL_PAGE = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Wi-Fi login</title></head>\n'
    '<body><h1>Sign in to continue</h1><form method="post" action="/login"><input name="user">'
    '<input name="password" type="password"><button>Sign in</button></form></body></html>\n'
)

access_logger = logging.getLogger("kdocs_viewer.standin.access")

_CYCLE_KEY = "kdocs_standin.cycle"
_RECORD_KEY = "kdocs_standin.record"


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    """One request as the server saw it. Never holds a query string, hence never a token."""

    method: str
    path: str
    status: int
    body_bytes: int = 0  # response body bytes handed to the connection (headers not counted)
    range: str = ""  # the request's Range header, when it had one


class StandinState:
    """Everything the app and the test hooks share. All mutation happens under one lock."""

    def __init__(self, config: StandinConfig, workbook: Workbook, images: ImageStore) -> None:
        self.config = config
        self.workbook = workbook
        self.images = images
        self.oauth = OAuthState(config)  # sign-in, user and file lists (standin.oauth)
        self.executor: Executor | None = None  # for image generation; set by the server
        # One line for every picture body, shared by all connections (None: unlimited).
        self.link = (
            TokenBucket(bytes_per_second(config.bandwidth_mbps)) if config.bandwidth_mbps > 0 else None
        )
        # Set (on the loop) when the server stops, so requests sleeping in latency answer at once.
        self.stopping = asyncio.Event()
        self._lock = threading.Lock()
        self._token = config.token
        self._fail_rate = config.fail_rate
        self._latency_ms = config.latency_ms
        self._rng = random.Random(f"faults:{config.seed}")
        self._image_fail_rate = config.image_fail_rate
        self._image_rng = random.Random(f"image-faults:{config.seed}")  # API faults stay as they were
        self._secret = secrets.token_bytes(32)
        self._calls = 0
        self._day = quota_day()
        self._faults: collections.deque[str] = collections.deque()
        self._image_faults: collections.deque[str] = collections.deque()
        self._epochs: dict[str, int] = {}
        self._image_gets: collections.Counter[str] = collections.Counter()
        self._log: collections.deque[RequestLogEntry] = collections.deque(maxlen=200_000)

    # ---- settings changed by tests
    def set_token(self, token: str) -> None:
        with self._lock:
            self._token = token

    def token_ok(self, token: str | None) -> bool:
        with self._lock:
            expected = self._token
        if token is not None and hmac.compare_digest(token.encode(), expected.encode()):
            return True
        return self.oauth.access_ok(token)

    def set_fail_rate(self, rate: float) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fail rate must be between 0 and 1")
        with self._lock:
            self._fail_rate = rate

    def set_image_fail_rate(self, rate: float) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("image fail rate must be between 0 and 1")
        with self._lock:
            self._image_fail_rate = rate

    def set_latency_ms(self, ms: float) -> None:
        if ms < 0:
            raise ValueError("latency must be >= 0")
        with self._lock:
            self._latency_ms = ms

    @property
    def latency(self) -> float:
        with self._lock:
            return self._latency_ms / 1000.0

    async def wait_latency(self) -> bool:
        """Sleep the configured latency without blocking the loop; False when the server is stopping."""
        latency = self.latency
        if latency > 0 and not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), latency)
        return not self.stopping.is_set()

    # ---- faults
    def queue_faults(self, kinds: list[str]) -> None:
        unknown = [k for k in kinds if k not in API_FAULTS]
        if unknown:
            raise ValueError(f"unknown API fault kinds {unknown}; known: {sorted(API_FAULTS)}")
        with self._lock:
            self._faults.extend(kinds)

    def queue_image_faults(self, kinds: list[str]) -> None:
        unknown = [k for k in kinds if k not in IMAGE_FAULTS]
        if unknown:
            raise ValueError(f"unknown image fault kinds {unknown}; known: {sorted(IMAGE_FAULTS)}")
        with self._lock:
            self._image_faults.extend(kinds)

    def next_fault(self) -> str | None:
        with self._lock:
            if self._faults:
                return self._faults.popleft()
            if self._fail_rate > 0 and self._rng.random() < self._fail_rate:
                return self._rng.choice(RANDOM_FAULTS)
        return None

    def next_image_fault(self) -> str | None:
        with self._lock:
            if self._image_faults:
                return self._image_faults.popleft()
            if self._image_fail_rate > 0 and self._image_rng.random() < self._image_fail_rate:
                return self._image_rng.choice(RANDOM_IMAGE_FAULTS)
        return None

    # ---- quota
    def charge_call(self) -> bool:
        """Count one API call; False when the day's quota is used up (the call is then not counted)."""
        with self._lock:
            today = quota_day()
            if today != self._day:
                self._day, self._calls = today, 0
            if self._calls >= self.config.quota:
                return False
            self._calls += 1
            return True

    def api_calls_today(self) -> int:
        with self._lock:
            if quota_day() != self._day:
                return 0
            return self._calls

    # ---- image URLs
    def issue_url(self, base: str, picture: Picture) -> str:
        lifetime = _lifetime(picture.tag)
        path = f"{base}/img/{quote(self.workbook.file_token, safe='')}/{quote(picture.pic_key, safe='')}"
        if lifetime is None:
            return f"{path}?Sig={self._sign(picture.pic_key, '')}"
        expires = expires_param(time.time_ns(), lifetime * self.config.time_scale)
        return f"{path}?Expires={expires}&Sig={self._sign(picture.pic_key, expires)}"

    def url_valid(self, pic_key: str, expires: str | None, sig: str | None) -> bool:
        if not sig:
            return False
        picture = self.workbook.by_key[pic_key]
        bounded = _lifetime(picture.tag) is not None
        if bounded != (expires is not None):
            return False
        if not hmac.compare_digest(sig.encode(), self._sign(pic_key, expires or "").encode()):
            return False
        if expires is None:
            return True
        try:
            deadline = float(expires)
        except ValueError:
            return False
        return math.isfinite(deadline) and time.time() < deadline

    def _sign(self, pic_key: str, expires: str) -> str:
        with self._lock:
            epoch = self._epochs.get(pic_key, 0)
        message = f"{self.workbook.file_token}\x00{pic_key}\x00{expires}\x00{epoch}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def revoke_url(self, pic_key: str) -> None:
        if pic_key not in self.workbook.by_key:
            raise KeyError(pic_key)
        with self._lock:
            self._epochs[pic_key] = self._epochs.get(pic_key, 0) + 1

    # ---- bookkeeping
    def count_image_get(self, pic_key: str) -> None:
        with self._lock:
            self._image_gets[pic_key] += 1

    def image_gets(self, pic_key: str) -> int:
        with self._lock:
            return self._image_gets[pic_key]

    def log(self, entry: RequestLogEntry) -> None:
        with self._lock:
            self._log.append(entry)

    def request_log(self) -> list[RequestLogEntry]:
        with self._lock:
            return list(self._log)


def expires_param(now_ns: int, lifetime: float) -> str:
    """The ``Expires`` text (Unix seconds, 3 decimals) of a URL issued at ``now_ns`` living ``lifetime`` s.

    Rounded *down* to the millisecond, in integers: a URL may die a little early but never promises to
    live longer than its lifetime (rounding to nearest overshot by up to half a millisecond).
    """
    deadline_ms = (now_ns + math.floor(Fraction(lifetime) * 1_000_000_000)) // 1_000_000
    seconds, millis = divmod(deadline_ms, 1000)
    return f"{seconds}.{millis:03d}"


def _lifetime(tag: str) -> float | None:
    if tag in UNBOUNDED_TAGS:
        return None
    return TAG_LIFETIMES.get(tag, ESTIMATED_LIFETIME)


# ------------------------------------------------------------------------------------------------ replies
def envelope(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"code": CODE_OK, "data": data})


def api_error(
    status: int, code: int, name: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse({"code": code, "msg": name, "message": message}, status_code=status, headers=headers)


def token_error() -> Response:
    return JSONResponse(
        {"code": CODE_TOKEN_INVALID, "msg": "AccessTokenInvalid", "hint": "access_token is required"},
        status_code=401,
    )


class DroppedConnection(Response):
    """Fault "reset": the connection is dropped (RST) before any status line is sent."""

    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = scope.get(_CYCLE_KEY)
        transport = getattr(cycle, "transport", None)
        if transport is None:  # not under uvicorn: the closest we can do
            raise ConnectionAbortedError("injected reset")
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        _record_now(scope)
        transport.abort()
        await _until_disconnected(cycle)


class TruncatedBody(Response):
    """Fault "truncated": Content-Length announces the whole body; half is sent, then a close."""

    def __init__(
        self, content: bytes, media_type: str, status_code: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(content, status_code=status_code, media_type=media_type, headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = scope.get(_CYCLE_KEY)
        transport = getattr(cycle, "transport", None)
        full = len(self.body)
        declared = full if full >= 2 else full + 64
        headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        headers.append((b"content-length", str(declared).encode()))
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self.body[: full // 2], "more_body": True})
        if transport is None:
            raise ConnectionAbortedError("injected truncation")
        _record_now(scope)
        transport.close()  # flushes what was written, then closes
        await _until_disconnected(cycle)


class ShapedBody(Response):
    """A picture body sent through the shared line (``StandinState.link``), chunk by chunk.

    Content-Length is announced up front; each chunk waits for its booking on the line. When the server
    stops, the rest goes out at once so shutdown never waits for a slow line.
    """

    def __init__(
        self,
        content: bytes,
        state: StandinState,
        *,
        status_code: int,
        media_type: str,
        headers: dict[str, str],
    ) -> None:
        super().__init__(content, status_code=status_code, media_type=media_type, headers=headers)
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        link = self._state.link
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body = memoryview(self.body)
        for start in range(0, len(body), CHUNK_BYTES):
            chunk = body[start : start + CHUNK_BYTES]
            delay = link.reserve(len(chunk)) if link is not None else 0.0
            if delay > 0 and not self._state.stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._state.stopping.wait(), delay)
            more = start + CHUNK_BYTES < len(body)
            await send({"type": "http.response.body", "body": bytes(chunk), "more_body": more})
        if not body:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _until_disconnected(cycle: object, limit: float = 2.0) -> None:
    """Let uvicorn notice the closed connection, so it does not try to answer on it."""
    deadline = time.monotonic() + limit
    await asyncio.sleep(0)
    while not getattr(cycle, "disconnected", True) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


def fault_response(kind: str) -> Response:
    if kind in ("500", "502", "503"):
        return api_error(int(kind), CODE_INTERNAL, "InternalError", f"injected server fault (HTTP {kind})")
    if kind == "html":
        page = (
            "<html><head><title>502 Bad Gateway</title></head>"
            "<body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
        )
        return Response(page, status_code=502, media_type="text/html")
    if kind == "empty":
        return Response(b"", status_code=500)
    if kind == "429":
        return api_error(
            429,
            CODE_QUOTA_EXCEEDED,
            "QuotaExceeded",
            "too many requests, slow down",
            headers={"Retry-After": "1"},
        )
    if kind == "reset":
        return DroppedConnection()
    if kind == "truncated":
        body = json.dumps(
            {"code": CODE_OK, "data": {"urls": [], "note": "this body is cut short" * 8}}
        ).encode()
        return TruncatedBody(body, "application/json")
    if kind == "20007":
        return token_error()
    raise ValueError(kind)


# -------------------------------------------------------------------------------------------- endpoints
def create_app(state: StandinState) -> ASGIApp:
    """The ASGI app over ``state``, wrapped so every request is logged (method, path, status)."""
    workbook = state.workbook

    async def api_preamble(request: Request) -> Response | None:
        if not await state.wait_latency():
            return api_error(503, CODE_INTERNAL, "ServerStopping", "the server is shutting down")
        if not state.charge_call():
            return api_error(
                429,
                CODE_QUOTA_EXCEEDED,
                "QuotaExceeded",
                f"daily quota of {state.config.quota} API calls used up",
                headers={
                    "Retry-After": str(seconds_to_next_quota_day()),
                    **daily_limit_header(state.config.quota),
                },
            )
        fault = state.next_fault()
        if fault is not None:
            return fault_response(fault)
        if not state.token_ok(request.query_params.get(TOKEN_PARAM)):
            return token_error()
        file_token = request.path_params.get("file_token")
        if file_token is not None and file_token != workbook.file_token:
            other = await other_workbook_reply(request, state.oauth, file_token)
            return other or api_error(404, CODE_FILE_NOT_FOUND, "FileNotFound", "no such file")
        return None

    def base_of(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    async def picture_urls(request: Request) -> Response:
        early = await api_preamble(request)
        if early is not None:
            return early
        pics, problem = _parse_pics(await request.body())
        if problem is not None:
            return api_error(400, CODE_BAD_REQUEST, "InvalidRequest", problem)
        if len(pics) > MAX_PICS_PER_CALL:
            return api_error(
                400,
                CODE_TOO_MANY_PICS,
                "TooManyPictures",
                f"at most {MAX_PICS_PER_CALL} pictures per call, got {len(pics)}",
            )
        base = base_of(request)
        urls = []
        for pic_key, tag in pics:
            picture = workbook.by_key.get(pic_key)
            url = state.issue_url(base, picture) if picture is not None and picture.tag == tag else ""
            urls.append({"pic_key": pic_key, "tag": tag, "pic_url": url})
        return envelope({"urls": urls})

    async def sheets(request: Request) -> Response:
        early = await api_preamble(request)
        if early is not None:
            return early
        info = [
            {
                "sheet_id": s.sheet_id,
                "sheet_idx": s.idx,
                "sheet_name": s.name,
                "is_visible": s.is_visible,
                "sheet_type": s.sheet_type,
                "row_from": 0,
                "row_to": s.row_to,
                "col_from": 0,
                "col_to": s.col_to,
            }
            for s in workbook.sheets
        ]
        return envelope({"sheets_info": info})

    async def cells(request: Request) -> Response:
        early = await api_preamble(request)
        if early is not None:
            return early
        try:
            sheet_idx = int(request.path_params["sheet_idx"])
            sheet = next(s for s in workbook.sheets if s.idx == sheet_idx)
        except (ValueError, StopIteration):
            return api_error(
                400,
                CODE_BAD_REQUEST,
                "InvalidSheetIdx",
                f"no sheet with sheet_idx {request.path_params['sheet_idx']!r}",
            )
        bounds: dict[str, int] = {}
        for name in ("row_from", "row_to", "col_from", "col_to"):
            raw = request.query_params.get(name)
            try:
                bounds[name] = int(raw) if raw is not None else -1
            except ValueError:
                bounds[name] = -1
            if bounds[name] < 0:
                return api_error(
                    400,
                    CODE_BAD_REQUEST,
                    "InvalidRange",
                    f"{name} must be a non-negative integer (0-based), got {raw!r}",
                )
        rows = bounds["row_to"] - bounds["row_from"] + 1
        cols = bounds["col_to"] - bounds["col_from"] + 1
        if rows <= 0 or cols <= 0:
            return api_error(
                400, CODE_BAD_REQUEST, "InvalidRange", "row_to/col_to must not be below row_from/col_from"
            )
        if rows * cols > MAX_CELLS_PER_CALL:
            return api_error(
                400,
                CODE_BAD_REQUEST,
                "RangeTooLarge",
                f"at most {MAX_CELLS_PER_CALL} cells per request, asked for {rows * cols}",
            )
        with_url = request.query_params.get("with_pic_url", "").lower() in ("true", "1", "yes")
        base = base_of(request)
        found = sheet.cells_in(bounds["row_from"], bounds["row_to"], bounds["col_from"], bounds["col_to"])
        return envelope({"cells": [_cell_json(c, state, base if with_url else None) for c in found]})

    async def image(request: Request) -> Response:
        pic_key = request.path_params["pic_key"]
        state.count_image_get(pic_key)
        if not await state.wait_latency():
            return Response("Service Unavailable: shutting down\n", status_code=503, media_type="text/plain")
        picture = workbook.by_key.get(pic_key)
        fault = state.next_image_fault()
        if fault is not None:
            if fault in ("500", "502", "503", "403"):
                return Response(f"injected fault {fault}\n", status_code=int(fault), media_type="text/plain")
            if fault == "reset":
                return DroppedConnection()
            if fault == "html":  # a captive portal answers every URL itself, whatever it is
                return Response(CAPTIVE_PORTAL_PAGE, media_type="text/html")
        if request.path_params["file_token"] != workbook.file_token or picture is None:
            return Response("Not Found\n", status_code=404, media_type="text/plain")
        params = request.query_params
        if not state.url_valid(pic_key, params.get("Expires"), params.get("Sig")):
            return Response(
                "Forbidden: URL expired or signature invalid\n", status_code=403, media_type="text/plain"
            )
        data = await _image_bytes(state, pic_key)
        if fault == "corrupt":
            data = corrupt_bytes(f"fault:{pic_key}", max(64, min(len(data), 4096)))
        status, headers = 200, {"Cache-Control": "private, max-age=60"}
        if state.config.honour_range:
            headers["Accept-Ranges"] = "bytes"
            wanted = parse_range(request.headers.get("range"), len(data))
            if isinstance(wanted, Unsatisfiable):
                headers["Content-Range"] = f"bytes */{wanted.size}"
                return Response(
                    "Range Not Satisfiable\n", status_code=416, media_type="text/plain", headers=headers
                )
            if wanted is not None:
                first, last = wanted
                status, headers["Content-Range"] = 206, f"bytes {first}-{last}/{len(data)}"
                data = data[first : last + 1]
        if fault == "truncated":
            return TruncatedBody(data, picture.content_type, status, headers)
        if state.link is not None:
            return ShapedBody(
                data, state, status_code=status, media_type=picture.content_type, headers=headers
            )
        return Response(data, status_code=status, media_type=picture.content_type, headers=headers)

    routes = [
        Route(PICTURE_URLS_PATH, picture_urls, methods=["POST"]),
        Route(SHEETS_PATH, sheets, methods=["GET"]),
        Route(CELLS_PATH, cells, methods=["GET"]),
        Route(IMAGE_PATH, image, methods=["GET"]),
        *oauth_routes(state, api_preamble),
    ]
    return RequestLogger(Starlette(routes=routes), state)


async def _image_bytes(state: StandinState, pic_key: str) -> bytes:
    data = state.images.peek(pic_key)
    if data is not None:
        return data
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(state.executor, state.images.get, pic_key)


def _parse_pics(body: bytes) -> tuple[list[tuple[str, str]], str | None]:
    """(pics, None) or ([], what is wrong) — the message names the faulty item."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return [], 'body must be JSON like {"pics": [{"pic_key": "…", "tag": "…"}]}'
    if not isinstance(data, dict) or not isinstance(data.get("pics"), list):
        return [], 'body must be an object with a "pics" list'
    pics = []
    for number, item in enumerate(data["pics"]):
        if not isinstance(item, dict):
            return [], f"pics[{number}] must be an object with pic_key and tag"
        pic_key, tag = item.get("pic_key"), item.get("tag")
        if not isinstance(pic_key, str) or not pic_key:
            return [], f"pics[{number}].pic_key must be a non-empty string"
        if not isinstance(tag, str):
            return [], f"pics[{number}].tag must be a string"
        pics.append((pic_key, tag))
    return pics, None


def _cell_json(cell: Cell, state: StandinState, base: str | None) -> dict[str, Any]:
    shape = state.config.cell_shape
    picture = cell.picture
    if shape == "mixed":
        shape = CELL_SHAPES[picture.index % 3] if picture is not None else "flat"
    out: dict[str, Any] = {
        "row_from": cell.row_from,
        "row_to": cell.row_to,
        "col_from": cell.col_from,
        "col_to": cell.col_to,
        "cell_text": cell.text,
        "original_cell_value": cell.value,
        "num_format": cell.num_format,
    }
    if shape == "flat":
        if picture is not None:
            out["pic_key"] = picture.pic_key
            out["tag"] = picture.tag
    else:
        local = picture is not None and picture.tag == "local"
        out["is_cell_pic"] = picture is not None
        out["pic_data"] = picture.pic_key if picture is not None and not local else ""
        out["sha1"] = picture.pic_key if picture is not None and local else ""
        out["tag"] = picture.tag if picture is not None else ""
        if picture is not None:
            image_id = "ID_" + hashlib.blake2b(picture.pic_key.encode(), digest_size=16).hexdigest().upper()
            out["cell_text"] = out["original_cell_value"] = f'=DISPIMG("{image_id}",1)'
    if picture is not None and base is not None:
        out["pic_url"] = state.issue_url(base, picture)
    if shape == "dispimg-camel":
        out = {camel_case(name): value for name, value in out.items()}
    return out


class RequestLogger:
    """Outermost ASGI layer: records (method, path, status) and hands uvicorn's cycle to fault responses.

    The entry is recorded *before* the last byte of the response goes out (or before a fault closes the
    connection), so a client that has its answer always finds its request in the log.
    """

    def __init__(self, app: ASGIApp, state: StandinState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[_CYCLE_KEY] = getattr(send, "__self__", None)
        status = 0
        sent = 0
        asked = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"range"), "")
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            entry = RequestLogEntry(scope["method"], scope["path"], status, sent, asked)
            self.state.log(entry)
            if self.state.config.access_log:
                access_logger.info("%s %s %s", entry.method, entry.path, entry.status)

        scope[_RECORD_KEY] = record

        async def logging_send(message: MutableMapping[str, Any]) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                if not message.get("more_body", False):
                    record()
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        finally:
            record()


def _record_now(scope: Scope) -> None:
    """Fault responses call this before they cut the connection (see RequestLogger)."""
    record = scope.get(_RECORD_KEY)
    if record is not None:
        record()
