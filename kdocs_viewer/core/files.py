"""The signed-in user and their workbooks: ``user/basic``, ``personal/files/recent`` and ``/flat``.

Calls go through ``KDocsClient.call`` (same envelope, errors, retries and token handling as the picture
calls). Item shapes are read leniently, since public clients disagree about them (kdocs-api.md §5): the
file token is ``id`` as a string or ``id.open_id``; the name ``fname`` or ``name``; ``mtime`` Unix seconds
(or milliseconds). Items that name no file token or no name are skipped and counted, never guessed.

A KDocs share link (``https://www.kdocs.cn/l/<id>``) carries a *link* id, not a file token, and no documented
API maps one to the other: ``share_link_id`` recognises one so the user can be told so plainly, and
``find_by_link`` finds it among listed files that carry their link.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.contract import (
    FILES_FLAT_PATH,
    FILES_PAGE_SIZE,
    FILES_RECENT_PATH,
    SPREADSHEET_EXTS,
    USER_BASIC_PATH,
)
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.replies import as_number

__all__ = [
    "MAX_LISTED_FILES",
    "FileItem",
    "FilePage",
    "UserInfo",
    "collect",
    "distinct_pages",
    "filter_items",
    "find_by_link",
    "get_user",
    "is_spreadsheet_name",
    "list_recent",
    "list_spreadsheets",
    "pages",
    "share_link_explanation",
    "share_link_id",
]

MAX_LISTED_FILES = 10_000  # [ours] a picker never pages further (quota is precious)
_MS_THRESHOLD = 100_000_000_000  # an mtime above this is in milliseconds (year 5138 in seconds)


@dataclass(frozen=True)
class UserInfo:
    """Who is signed in. ``nickname`` may be empty when the server sends none."""

    nickname: str
    user_id: str | None = None
    avatar: str | None = None


@dataclass(frozen=True)
class FileItem:
    """One file of a listing. ``mtime`` is Unix seconds (None when unknown); ``ftype`` is ``"file"`` (the
    user's own) or ``"sharefile"`` (shared with the user), or whatever else the server says."""

    file_token: str
    name: str
    mtime: float | None = None
    ftype: str = "file"
    size: int | None = None
    link_id: str | None = None

    @property
    def ext(self) -> str:
        return _ext(self.name)

    @property
    def is_spreadsheet(self) -> bool:
        return self.ext in SPREADSHEET_EXTS

    @property
    def shared(self) -> bool:
        return self.ftype == "sharefile"

    def as_json(self) -> dict[str, Any]:
        """For scripts: the fields, ``mtime`` as ISO 8601 UTC (``…Z``) or null."""
        mtime = None
        if self.mtime is not None:
            stamp = datetime.fromtimestamp(self.mtime, UTC).isoformat(timespec="seconds")
            mtime = stamp.replace("+00:00", "Z")
        return {
            "file_token": self.file_token,
            "name": self.name,
            "mtime": mtime,
            "ftype": self.ftype,
            "size": self.size,
            "link_id": self.link_id,
        }


@dataclass(frozen=True)
class FilePage:
    """One page of a listing. ``next_offset`` is None on the last page; ``skipped`` counts items that could
    not be read (no file token or no name)."""

    items: list[FileItem]
    offset: int
    next_offset: int | None
    skipped: int = 0


def _ext(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def is_spreadsheet_name(name: str) -> bool:
    """Whether a file name has one of the spreadsheet extensions (contract.SPREADSHEET_EXTS)."""
    return _ext(name) in SPREADSHEET_EXTS


# ---- reading items ----------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _file_token(item: dict[str, Any]) -> str | None:
    ident = item.get("id")
    if isinstance(ident, dict):
        for key in ("open_id", "file_token", "union_id"):
            found = _text(ident.get(key))
            if found:
                return found
    for key in ("file_token", "file_id", "fileid"):
        found = _text(item.get(key))
        if found:
            return found
    return _text(ident)


def _mtime(item: dict[str, Any]) -> float | None:
    for key in ("mtime", "modify_time", "mtime_ms"):
        seconds = as_number(item.get(key))
        if seconds is not None and seconds > 0:
            return seconds / 1000.0 if seconds > _MS_THRESHOLD else seconds
    return None


def _item(raw: Any) -> FileItem | None:
    if not isinstance(raw, dict):
        return None
    token = _file_token(raw)
    name = _text(raw.get("fname")) or _text(raw.get("name")) or _text(raw.get("file_name"))
    if not token or not name:
        return None
    size = as_number(raw.get("fsize", raw.get("size")))
    link = (
        _text(raw.get("link_id")) or _text(raw.get("sid")) or share_link_id(_text(raw.get("link_url")) or "")
    )
    return FileItem(
        file_token=token,
        name=name,
        mtime=_mtime(raw),
        ftype=_text(raw.get("ftype")) or _text(raw.get("type")) or "file",
        size=int(size) if size is not None and size >= 0 else None,
        link_id=link,
    )


def _page(data: dict[str, Any], offset: int, count: int) -> FilePage:
    raw = data.get("files")
    raw_items = raw if isinstance(raw, list) else []
    items = [item for item in map(_item, raw_items) if item is not None]
    # A short page is the last one [ours]: the reply says nothing else about paging.
    next_offset = offset + len(raw_items) if len(raw_items) >= count and raw_items else None
    return FilePage(items, offset, next_offset, skipped=len(raw_items) - len(items))


# ---- the calls ---------------------------------------------------------------------------------------------


def get_user(client: KDocsClient) -> UserInfo:
    """The signed-in user (scope ``user_basic``)."""
    data = client.call("GET", USER_BASIC_PATH)
    detail = data.get("detail")
    info = detail if isinstance(detail, dict) else data
    ident = info.get("id")
    user_id = _text(ident.get("open_id")) if isinstance(ident, dict) else _text(ident)
    name = _text(info.get("nickname")) or _text(info.get("name")) or ""
    return UserInfo(nickname=name, user_id=user_id, avatar=_text(info.get("avatar")))


def _checked_page(offset: int, count: int) -> None:
    if offset < 0:
        raise ValueError("offset must not be negative")
    if not 1 <= count <= FILES_PAGE_SIZE:
        raise ValueError(f"count must be between 1 and {FILES_PAGE_SIZE}")


def list_recent(client: KDocsClient, *, offset: int = 0, count: int = FILES_PAGE_SIZE) -> FilePage:
    """One page of the user's recent files, newest first, of every type (``FileItem.is_spreadsheet``
    tells the workbooks apart). Files shared with the user are among them."""
    _checked_page(offset, count)
    return _page(
        client.call("GET", FILES_RECENT_PATH, params={"count": count, "offset": offset}), offset, count
    )


def list_spreadsheets(
    client: KDocsClient,
    *,
    offset: int = 0,
    count: int = FILES_PAGE_SIZE,
    exts: Iterable[str] = SPREADSHEET_EXTS,
) -> FilePage:
    """One page of the user's own files with a spreadsheet extension (``exts`` asked of the server, and
    checked again here)."""
    _checked_page(offset, count)
    wanted = [e.lower().lstrip(".") for e in exts]
    params: dict[str, str | int | list[str]] = {"exts": wanted, "count": count, "offset": offset}
    page = _page(client.call("GET", FILES_FLAT_PATH, params=params), offset, count)
    kept = [item for item in page.items if item.ext in wanted]
    return FilePage(kept, page.offset, page.next_offset, page.skipped)


def pages(
    fetch: Callable[[int], FilePage],
    *,
    max_items: int = MAX_LISTED_FILES,
    cancel: threading.Event | None = None,
) -> Iterator[FilePage]:
    """Page after page of ``fetch(offset)`` until the last one, ``max_items`` raw items, or ``cancel``.

    For a picker that shows items as they come: e.g. ``pages(lambda o: list_spreadsheets(client, offset=o))``.
    """
    offset: int | None = 0
    while offset is not None and offset < max_items:
        if cancel is not None and cancel.is_set():
            return
        page = fetch(offset)
        yield page
        if page.next_offset is not None and page.next_offset <= offset:
            return  # a server that does not move forward: stop rather than loop
        offset = page.next_offset


def collect(
    fetch: Callable[[int], FilePage],
    *,
    max_items: int = MAX_LISTED_FILES,
    cancel: threading.Event | None = None,
) -> list[FileItem]:
    """Every item of every page (see ``pages``), each file token once, in the server's order."""
    found = distinct_pages(pages(fetch, max_items=max_items, cancel=cancel))
    return [item for page in found for item in page.items]


def distinct_pages(listing: Iterable[FilePage]) -> Iterator[FilePage]:
    """The pages with each file token kept at its first appearance only: a listing can move while it is
    paged (a file edited meanwhile jumps to the top of "recent" and comes again on a later page)."""
    seen: set[str] = set()
    for page in listing:
        fresh = [item for item in page.items if item.file_token not in seen]
        seen.update(item.file_token for item in fresh)
        yield FilePage(fresh, page.offset, page.next_offset, page.skipped)


def filter_items(items: Iterable[FileItem], query: str) -> list[FileItem]:
    """The items whose name contains every word of ``query`` (case-insensitive; an empty query keeps all)."""
    words = query.casefold().split()
    return [item for item in items if all(word in item.name.casefold() for word in words)]


# ---- share links -------------------------------------------------------------------------------------------

_LINK_PATH_RE = re.compile(r"^/(?:view/)?l/([A-Za-z0-9_-]+)/?$")


def share_link_id(text: str) -> str | None:
    """The link id of a KDocs share link (``https://www.kdocs.cn/l/<id>``, any ``*.kdocs.cn`` host, with
    or without the scheme, query or fragment), else None."""
    text = text.strip()
    if not text:
        return None
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    if host != "kdocs.cn" and not host.endswith(".kdocs.cn"):
        return None
    match = _LINK_PATH_RE.match(parts.path)
    return match.group(1) if match else None


def find_by_link(items: Iterable[FileItem], link_id: str) -> FileItem | None:
    """The listed file whose share link has ``link_id`` (only listings that carry links can tell)."""
    return next((item for item in items if item.link_id == link_id), None)


def share_link_explanation(link_id: str) -> str:
    """What to tell a user who gave a share link where a file token was wanted, in their language."""
    return translate(
        "files",
        "This is a KDocs share link. Its id ({link_id}) names the link, not the workbook, and KDocs offers "
        "apps no way to find the workbook behind a link. Pick the workbook from your files instead.",
    ).format(link_id=link_id)
