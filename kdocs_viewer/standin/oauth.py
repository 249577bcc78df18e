"""The stand-in's sign-in, user and file-list endpoints (kdocs-api.md §3 and §5).

Decisions marked [ours] (the real service does not document them):

- The consent page ``/h5/auth`` accepts the configured ``app_id`` only, and any *loopback* http
  ``redirect_uri`` (the real console accepts only the callbacks registered for the app); anything else gets
  a 400 page instead of a redirect, so the stand-in is never an open redirector. Allow redirects (302) to
  ``redirect_uri?code=…&state=…``, Deny to ``redirect_uri?error=access_denied&state=…``; with
  ``auto_consent`` the GET redirects at once, as if Allow was pressed.
- Errors of the OAuth endpoints answer HTTP 400: unknown ``app_id`` or wrong ``app_key`` →
  CODE_APP_CREDENTIALS_INVALID (``InvalidAppKey``); a code that is unknown, older than ``code_lifetime``,
  used already or issued for another app → CODE_AUTH_CODE_INVALID [doc: 20001]; an unknown, expired or
  revoked refresh token → CODE_REFRESH_TOKEN_INVALID. Success envelopes carry ``"result": "ok"`` [seen].
- A refresh *rotates* the refresh token (the old one stops working) — the strict reading of "store whatever
  comes back"; access tokens issued earlier keep working until they expire.
- Lifetimes: access tokens ``token_lifetime`` × ``time_scale`` seconds (``expires_in`` is that, rounded to
  whole seconds, at least 1); refresh tokens REFRESH_TOKEN_LIFETIME × ``time_scale``; codes
  ``code_lifetime`` (not scaled, so a test can expire codes without expiring everything else).
- The OAuth endpoints and the consent page take the latency and queued/random API faults but do not count
  against the daily quota; user/basic and the file lists are ordinary API calls (quota, token).
- File lists: ``workbooks`` spreadsheets (the demo workbook first and newest) plus a few other documents.
  Items are ``{"id": {"open_id": <file token>, "union_id": …}, "fname", "ftype", "fsize", "ctime",
  "mtime", "link_id", "link_url"}`` — ``id`` as an object [seen], the link fields [ours]. ``recent`` lists
  everything newest first, files shared with the user (``ftype: "sharefile"``) included; ``flat`` lists the
  user's own files, filtered by ``exts`` (repeated or comma-separated). Both page with ``count`` (1..100,
  default 20) and ``offset``; a short page is the last. The other workbooks answer the sheets API with one
  empty sheet and the pictures API with empty URLs: they exist, but hold no pictures.
- user/basic: ``{"id": {"open_id", "union_id"}, "nickname", "avatar"}`` [seen], ``avatar`` empty [ours].
"""

from __future__ import annotations

import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from kdocs_viewer.core.contract import (
    AUTH_PAGE_PATH,
    CODE_APP_CREDENTIALS_INVALID,
    CODE_AUTH_CODE_INVALID,
    CODE_BAD_REQUEST,
    CODE_INTERNAL,
    CODE_OK,
    CODE_REFRESH_TOKEN_INVALID,
    FILES_FLAT_PATH,
    FILES_RECENT_PATH,
    OAUTH_REFRESH_PATH,
    OAUTH_TOKEN_PATH,
    REFRESH_TOKEN_LIFETIME,
    SPREADSHEET_EXTS,
    USER_BASIC_PATH,
)
from kdocs_viewer.standin.config import StandinConfig
from kdocs_viewer.standin.replies import api_error, envelope, fault_response

if TYPE_CHECKING:
    from kdocs_viewer.standin.app import StandinState

__all__ = ["DEMO_WORKBOOK_NAME", "USER_NICKNAME", "FileEntry", "OAuthState", "build_files", "oauth_routes"]

DEMO_WORKBOOK_NAME = "演示工作簿 Demo workbook.xlsx"
USER_NICKNAME = "演示用户 Demo User"
MAX_PAGE = 100
DEFAULT_PAGE = 20
_NEWEST_MTIME = 1_717_200_000  # 2024-06-01, a fixed "now" for the listing: deterministic per seed

_OTHER_WORKBOOKS = (
    "2024年销售报表 Sales 2024.xlsx",
    "团队名册 Team roster.et",
    "Inventory 库存清单.xlsx",
    "报销汇总 Expenses.xls",
    "Marketing plan 市场计划.ets",
    "客户名单 Customers.xlsx",
    "Project tracker 项目进度.xlsm",
    "采购订单 Purchase orders.et",
    "Price list 价目表.xlsx",
    "门店照片 Store photos.xlsx",
)
_OTHER_DOCUMENTS = (
    "会议纪要 Meeting notes.docx",
    "Annual report 年度报告.pdf",
    "产品介绍 Product deck.pptx",
    "readme.txt",
)


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of the user's listing."""

    file_token: str
    name: str
    ftype: str  # "file" (the user's own) or "sharefile" (shared with the user)
    size: int
    ctime: int
    mtime: int
    link_id: str

    @property
    def ext(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""

    def as_json(self, link_base: str) -> dict[str, Any]:
        return {
            "id": {"open_id": self.file_token, "union_id": "u-" + self.file_token},
            "fname": self.name,
            "ftype": self.ftype,
            "fsize": self.size,
            "ctime": self.ctime,
            "mtime": self.mtime,
            "link_id": self.link_id,
            "link_url": f"{link_base}/l/{self.link_id}",
        }


def _digest(seed: int, what: str, size: int = 8) -> str:
    return hashlib.blake2b(f"kdocs-standin-files:{seed}:{what}".encode(), digest_size=size).hexdigest()


def build_files(config: StandinConfig) -> list[FileEntry]:
    """The user's files, newest first: ``config.workbooks`` spreadsheets (the demo workbook first), then a
    few other documents mixed in by date. Deterministic for (workbooks, seed, file_token)."""
    names = [DEMO_WORKBOOK_NAME]
    for index in range(max(0, config.workbooks - 1)):
        base = _OTHER_WORKBOOKS[index % len(_OTHER_WORKBOOKS)]
        if index >= len(_OTHER_WORKBOOKS):
            stem, ext = base.rsplit(".", 1)
            base = f"{stem} ({index // len(_OTHER_WORKBOOKS) + 1}).{ext}"
        names.append(base)
    entries: list[FileEntry] = []
    for index, name in enumerate(names):
        token = config.file_token if index == 0 else "wb-" + _digest(config.seed, f"wb:{index}")
        entries.append(_entry(config.seed, token, name, index * 2, shared=index % 4 == 3))
    for index, name in enumerate(_OTHER_DOCUMENTS):
        token = "doc-" + _digest(config.seed, f"doc:{index}")
        entries.append(_entry(config.seed, token, name, index * 3 + 1, shared=False))
    return sorted(entries, key=lambda e: (-e.mtime, e.name))


def _entry(seed: int, token: str, name: str, age_rank: int, *, shared: bool) -> FileEntry:
    mtime = _NEWEST_MTIME - age_rank * 37_000 - int(_digest(seed, "m:" + token, 2), 16)
    return FileEntry(
        file_token=token,
        name=name,
        ftype="sharefile" if shared else "file",
        size=4096 + int(_digest(seed, "s:" + token, 3), 16),
        ctime=mtime - 90 * 86_400,
        mtime=mtime,
        link_id="cq" + _digest(seed, "l:" + token, 5),
    )


@dataclass
class _Code:
    app_id: str
    issued: float  # monotonic
    used: bool = False


@dataclass
class _Grant:
    expires: float  # wall clock


class OAuthState:
    """Apps, codes and tokens of the stand-in; thread-safe (one lock)."""

    def __init__(self, config: StandinConfig) -> None:
        self.config = config
        self.files = build_files(config)
        self.by_token = {f.file_token: f for f in self.files}
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}

    @property
    def token_lifetime(self) -> int:
        """``expires_in`` of new access tokens: whole seconds, at least 1."""
        return max(1, round(self.config.token_lifetime * self.config.time_scale))

    def app_ok(self, app_id: str | None, app_key: str | None = None, *, check_key: bool = True) -> bool:
        if app_id is None or not secrets.compare_digest(app_id.encode(), self.config.app_id.encode()):
            return False
        if not check_key:
            return True
        return app_key is not None and secrets.compare_digest(app_key.encode(), self.config.app_key.encode())

    def issue_code(self, app_id: str) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(app_id, time.monotonic())
        return code

    def exchange(self, code: str, app_id: str) -> dict[str, Any] | None:
        """New tokens for an unused, unexpired code of ``app_id``; None otherwise (and the code is spent)."""
        with self._lock:
            entry = self._codes.get(code)
            if entry is None or entry.used or entry.app_id != app_id:
                return None
            entry.used = True
            if time.monotonic() - entry.issued > self.config.code_lifetime:
                return None
            return self._grant_locked()

    def refresh(self, refresh_token: str) -> dict[str, Any] | None:
        """New tokens for a live refresh token, which stops working; None when unknown/expired/revoked."""
        with self._lock:
            grant = self._refresh.pop(refresh_token, None)
            if grant is None or grant.expires <= time.time():
                return None
            return self._grant_locked()

    def _grant_locked(self) -> dict[str, Any]:
        now = time.time()
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        lifetime = self.token_lifetime
        self._access[access] = _Grant(now + lifetime)
        self._refresh[refresh] = _Grant(now + REFRESH_TOKEN_LIFETIME * self.config.time_scale)
        return {"access_token": access, "expires_in": lifetime, "refresh_token": refresh}

    def access_ok(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            grant = self._access.get(token)
            return grant is not None and grant.expires > time.time()

    # ---- test hooks
    def revoke_refresh_tokens(self) -> int:
        with self._lock:
            count = len(self._refresh)
            self._refresh.clear()
        return count

    def expire_access_tokens(self) -> int:
        with self._lock:
            count = len(self._access)
            for grant in self._access.values():
                grant.expires = 0.0
        return count

    def live_access_tokens(self) -> int:
        with self._lock:
            now = time.time()
            return sum(1 for g in self._access.values() if g.expires > now)


# ---------------------------------------------------------------------------------------------- helpers
def _oauth_error(code: int, name: str, message: str, status: int = 400) -> Response:
    return JSONResponse({"code": code, "msg": name, "message": message}, status_code=status)


def _ok(data: dict[str, Any]) -> Response:
    return JSONResponse({"code": CODE_OK, "result": "ok", "data": data})


def _loopback_redirect(uri: str | None) -> bool:
    if not uri:
        return False
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme == "http" and host in ("127.0.0.1", "localhost", "::1") and not parts.fragment


def _redirect_to(uri: str, params: dict[str, str]) -> Response:
    query = urlencode(params)
    joiner = "&" if urlsplit(uri).query else "?"
    # 302 + no-store: the Location holds the code, which no cache may keep.
    return RedirectResponse(uri + joiner + query, status_code=302, headers={"Cache-Control": "no-store"})


def _page(title: str, body: str, status: int = 200) -> Response:
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int | str:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return f"{name} must be an integer, got {raw!r}"
    if not low <= value <= high:
        return f"{name} must be between {low} and {high}, got {value}"
    return value


# --------------------------------------------------------------------------------------------- endpoints
def oauth_routes(
    state: StandinState, api_preamble: Callable[[Request], Awaitable[Response | None]]
) -> list[Route]:
    """The routes of this module over ``state`` (its ``oauth`` part); ``api_preamble`` is the app's check
    of an ordinary API call (latency, quota, faults, token)."""
    oauth: OAuthState = state.oauth
    config = state.config

    async def light_preamble() -> Response | None:
        """Latency and faults, but no quota and no access token: for the consent page and OAuth calls."""
        if not await state.wait_latency():
            return api_error(503, CODE_INTERNAL, "ServerStopping", "the server is shutting down")
        fault = state.next_fault()
        return fault_response(fault) if fault is not None else None

    def consent_problem(params: dict[str, str]) -> Response | None:
        if not oauth.app_ok(params.get("app_id"), check_key=False):
            return _page("Unknown app 未知应用", "<h1>Unknown app_id 未知应用</h1>", 400)
        if not _loopback_redirect(params.get("redirect_uri")):
            return _page(
                "Bad redirect_uri",
                "<h1>redirect_uri must be a loopback http URL 回调地址无效</h1>"
                "<p>The stand-in accepts http://127.0.0.1:&lt;port&gt;/… only.</p>",
                400,
            )
        if not params.get("scope"):
            return _page("Missing scope", "<h1>scope is required 缺少 scope</h1>", 400)
        return None

    def decide(params: dict[str, str], allow: bool) -> Response:
        extra = {"state": params["state"]} if params.get("state") else {}
        if not allow:
            return _redirect_to(params["redirect_uri"], {"error": "access_denied", **extra})
        return _redirect_to(params["redirect_uri"], {"code": oauth.issue_code(params["app_id"]), **extra})

    async def consent_page(request: Request) -> Response:
        early = await light_preamble()
        if early is not None:
            return early
        params = {k: request.query_params.get(k, "") for k in ("app_id", "scope", "redirect_uri", "state")}
        problem = consent_problem(params)
        if problem is not None:
            return problem
        if config.auto_consent:
            return decide(params, allow=True)
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value, quote=True)}">'
            for name, value in params.items()
        )
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params["scope"].split(",") if s)
        body = (
            f"<h1>{html.escape(params['app_id'])} 请求访问你的金山文档 / wants to access your KDocs</h1>"
            f"<p>{html.escape(USER_NICKNAME)}</p><ul>{scopes}</ul>"
            f'<form method="post" action="{AUTH_PAGE_PATH}">{hidden}'
            '<button type="submit" name="decision" value="allow">允许 Allow</button> '
            '<button type="submit" name="decision" value="deny">拒绝 Deny</button></form>'
        )
        return _page("金山文档授权 KDocs authorization", body)

    async def consent_decision(request: Request) -> Response:
        early = await light_preamble()
        if early is not None:
            return early
        form = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        params = {k: form.get(k, [""])[0] for k in ("app_id", "scope", "redirect_uri", "state")}
        problem = consent_problem(params)
        if problem is not None:
            return problem
        decision = form.get("decision", [""])[0]
        if decision not in ("allow", "deny"):
            return _page("Bad decision", "<h1>decision must be allow or deny</h1>", 400)
        return decide(params, allow=decision == "allow")

    async def access_token(request: Request) -> Response:
        early = await light_preamble()
        if early is not None:
            return early
        query = request.query_params
        if not oauth.app_ok(query.get("app_id"), query.get("app_key")):
            return _oauth_error(CODE_APP_CREDENTIALS_INVALID, "InvalidAppKey", "app_id or app_key is wrong")
        data = oauth.exchange(query.get("code") or "", query.get("app_id") or "")
        if data is None:
            return _oauth_error(
                CODE_AUTH_CODE_INVALID, "InvalidCode", "the code is invalid, expired or already used"
            )
        return _ok(data)

    async def refresh_token(request: Request) -> Response:
        early = await light_preamble()
        if early is not None:
            return early
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return _oauth_error(
                CODE_BAD_REQUEST, "InvalidRequest", 'body must be {"app_key", "refresh_token"}'
            )
        app_key, token = body.get("app_key"), body.get("refresh_token")
        if not isinstance(app_key, str) or not oauth.app_ok(request.query_params.get("app_id"), app_key):
            return _oauth_error(CODE_APP_CREDENTIALS_INVALID, "InvalidAppKey", "app_id or app_key is wrong")
        data = oauth.refresh(token) if isinstance(token, str) else None
        if data is None:
            return _oauth_error(
                CODE_REFRESH_TOKEN_INVALID, "InvalidRefreshToken", "the refresh token is invalid or expired"
            )
        return _ok(data)

    async def user_basic(request: Request) -> Response:
        early = await api_preamble(request)
        if early is not None:
            return early
        user = _digest(config.seed, "user")
        return envelope(
            {"id": {"open_id": "o-" + user, "union_id": "u-" + user}, "nickname": USER_NICKNAME, "avatar": ""}
        )

    def page_of(request: Request, entries: list[FileEntry]) -> Response:
        count = _int_param(request, "count", DEFAULT_PAGE, 1, MAX_PAGE)
        offset = _int_param(request, "offset", 0, 0, 10**9)
        for value in (count, offset):
            if isinstance(value, str):
                return api_error(400, CODE_BAD_REQUEST, "InvalidRequest", value)
        assert isinstance(count, int) and isinstance(offset, int)
        link_base = "https://www.kdocs.cn"
        return envelope({"files": [e.as_json(link_base) for e in entries[offset : offset + count]]})

    async def files_recent(request: Request) -> Response:
        early = await api_preamble(request)
        if early is not None:
            return early
        return page_of(request, oauth.files)

    async def files_flat(request: Request) -> Response:
        early = await api_preamble(request)
        if early is not None:
            return early
        exts = {
            e.strip().lstrip(".").lower()
            for raw in request.query_params.getlist("exts")
            for e in raw.split(",")
            if e.strip()
        }
        own = [f for f in oauth.files if f.ftype == "file" and (not exts or f.ext in exts)]
        return page_of(request, own)

    return [
        Route(AUTH_PAGE_PATH, consent_page, methods=["GET"]),
        Route(AUTH_PAGE_PATH, consent_decision, methods=["POST"]),
        Route(OAUTH_TOKEN_PATH, access_token, methods=["GET"]),
        Route(OAUTH_REFRESH_PATH, refresh_token, methods=["POST"]),
        Route(USER_BASIC_PATH, user_basic, methods=["GET"]),
        Route(FILES_RECENT_PATH, files_recent, methods=["GET"]),
        Route(FILES_FLAT_PATH, files_flat, methods=["GET"]),
    ]


async def other_workbook_reply(request: Request, oauth: OAuthState, file_token: str) -> Response | None:
    """The answer for a listed workbook other than the demo one (it exists, but holds no pictures); None
    for a file token the user does not have."""
    entry = oauth.by_token.get(file_token)
    if entry is None or entry.ext not in SPREADSHEET_EXTS:
        return None
    path = request.url.path
    if path.endswith("/sheets"):
        sheet = {"sheet_id": 1, "sheet_idx": 0, "sheet_name": "Sheet1", "is_visible": True,
                 "sheet_type": "grid", "row_from": 0, "row_to": 0, "col_from": 0, "col_to": 0}  # fmt: skip
        return envelope({"sheets_info": [sheet]})
    if path.endswith("/cells"):
        return envelope({"cells": []})
    if path.endswith("/pictures/urls"):
        try:
            body = json.loads(await request.body())
            pics = body["pics"] if isinstance(body, dict) and isinstance(body.get("pics"), list) else []
        except (ValueError, UnicodeDecodeError):
            pics = []
        urls = [
            {"pic_key": p.get("pic_key"), "tag": p.get("tag"), "pic_url": ""}
            for p in pics
            if isinstance(p, dict)
        ]
        return envelope({"urls": urls})
    return None
