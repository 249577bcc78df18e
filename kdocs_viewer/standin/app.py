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

This module holds the server's state and the pictures API; the sheets API is ``standin.sheets``, the
envelopes, errors and injected faulty replies ``standin.replies``, the request log ``standin.request_log``.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import hashlib
import hmac
import json
import math
import random
import secrets
import threading
import time
from concurrent.futures import Executor
from fractions import Fraction
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from kdocs_viewer.core.contract import (
    CODE_BAD_REQUEST,
    CODE_FILE_NOT_FOUND,
    CODE_INTERNAL,
    CODE_QUOTA_EXCEEDED,
    CODE_TOO_MANY_PICS,
    ESTIMATED_LIFETIME,
    MAX_PICS_PER_CALL,
    PICTURE_URLS_PATH,
    TAG_LIFETIMES,
    TOKEN_PARAM,
    UNBOUNDED_TAGS,
)
from kdocs_viewer.core.quota import daily_limit_header, quota_day, seconds_to_next_quota_day
from kdocs_viewer.standin.config import StandinConfig
from kdocs_viewer.standin.dataset import Picture, Workbook
from kdocs_viewer.standin.images import ImageStore, corrupt_bytes
from kdocs_viewer.standin.link import TokenBucket, Unsatisfiable, bytes_per_second, parse_range
from kdocs_viewer.standin.oauth import OAuthState, oauth_routes, other_workbook_reply
from kdocs_viewer.standin.replies import (
    DroppedConnection,
    ShapedBody,
    TruncatedBody,
    api_error,
    base_of,
    envelope,
    fault_response,
    token_error,
)
from kdocs_viewer.standin.request_log import RequestLogEntry, RequestLogger
from kdocs_viewer.standin.sheets import sheet_routes

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
        Route(IMAGE_PATH, image, methods=["GET"]),
        *sheet_routes(state, api_preamble),
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
