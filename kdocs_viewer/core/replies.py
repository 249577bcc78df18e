"""What the KDocs API's replies mean, as plain data: the envelope (its data, or the typed error it stands
for), the sheets list and the picture-URL items. No network here: ``core.api`` sends, this module reads.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kdocs_viewer.core import expiry
from kdocs_viewer.core.contract import CODE_FILE_NOT_FOUND, CODE_OK, CODE_QUOTA_EXCEEDED, CODE_TOKEN_INVALID
from kdocs_viewer.core.errors import FailureReason, KDocsError, QuotaExceededError, TokenInvalidError
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.models import Lease, Outcome, PicFailure, PicRef

__all__ = [
    "SheetInfo",
    "as_bool",
    "as_int",
    "parse_envelope",
    "pictures_from_reply",
    "server_text",
    "sheets_from_reply",
    "snippet",
]

_SNIPPET_CHARS = 120


# ---- small parsing helpers --------------------------------------------------------------------------------


def as_int(value: Any) -> int | None:
    """An integer from a JSON value that may be a number or a numeric string; None otherwise."""
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


def as_number(value: Any) -> float | None:
    """A finite number from a JSON value that may be a number or a numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def as_bool(value: Any, default: bool) -> bool:
    """A flag from a JSON value (true/1/"yes"/"visible"…); ``default`` when it says neither."""
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


def snippet(body: bytes) -> str:
    """A short, tag-stripped, single-line excerpt of a non-JSON body (e.g. a proxy's HTML error page)."""
    text = body[:4096].decode("utf-8", errors="replace")
    text = _HIDDEN_RE.sub(" ", text)
    text = html.unescape(_TAG_RE.sub(" ", text))
    text = _SPACE_RE.sub(" ", text).strip()
    if len(text) > _SNIPPET_CHARS:
        text = text[: _SNIPPET_CHARS - 1].rstrip() + "…"
    return text


def server_text(body: Mapping[str, Any]) -> str:
    """The distinct texts the server put in ``msg``, ``message``, ``result`` and ``hint``, joined."""
    parts: list[str] = []
    for key in ("msg", "message", "result", "hint"):
        value = body.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
            if text and text not in parts:
                parts.append(text)
    return "; ".join(parts)


# ---- the envelope ---------------------------------------------------------------------------------------


def parse_envelope(
    status: int, content: bytes, scrub: Callable[[str], str]
) -> tuple[dict[str, Any], KDocsError | None]:
    """(data, None) for a good envelope (2xx and code 0); otherwise ({}, the typed error it means).

    ``scrub`` hides secrets in whatever of the reply the error quotes (the server's words, a page excerpt).
    """
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
            detail = translate("api", "a redirect, which is not followed (the token stays on the API host)")
        elif not content.strip():
            detail = translate("api", "empty body")
        else:
            detail = scrub(snippet(content))
        message = (
            translate("api", "The server sent an unexpected JSON reply (HTTP {status}): {detail}")
            if is_json
            else translate("api", "The server sent a non-JSON reply (HTTP {status}): {detail}")
        ).format(status=status, detail=detail)
        return {}, KDocsError(message, status=status, server_text=detail)
    raw_code = parsed.get("code")
    code = as_int(raw_code)
    ok_status = 200 <= status < 300
    if raw_code is None and ok_status:
        code = CODE_OK  # tolerate an envelope without a code when the status says success
    if ok_status and code == CODE_OK:
        data = parsed.get("data")
        return (data if isinstance(data, dict) else {}), None
    text = scrub(server_text(parsed))
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
    reason = FailureReason.WORKBOOK_NOT_FOUND if code == CODE_FILE_NOT_FOUND else None
    return {}, cls(message, code=code, status=status, server_text=text, reason=reason)


# ---- sheets -----------------------------------------------------------------------------------


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


def sheets_from_reply(data: Mapping[str, Any]) -> list[SheetInfo]:
    """The sheets of a sheets reply's ``data``, in the server's order (``sheets_info`` or ``sheets``)."""
    raw = data.get("sheets_info", data.get("sheets"))
    sheets: list[SheetInfo] = []
    for position, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, dict):
            continue
        idx = as_int(item.get("sheet_idx"))
        idx = position if idx is None else idx
        name = item.get("sheet_name", item.get("name"))
        sheets.append(
            SheetInfo(
                sheet_idx=idx,
                sheet_id=as_int(item.get("sheet_id")),
                name=str(name) if name not in (None, "") else f"Sheet{idx + 1}",
                row_from=as_int(item.get("row_from")) or 0,
                row_to=as_int(item.get("row_to")) or 0,
                col_from=as_int(item.get("col_from")) or 0,
                col_to=as_int(item.get("col_to")) or 0,
                visible=as_bool(item.get("is_visible", item.get("visible")), True),
            )
        )
    return sheets


# ---- picture URLs ---------------------------------------------------------------------------------------


def pictures_from_reply(
    batch: list[PicRef], items: list[Any], sent_mono: float, sent_wall: float
) -> list[Outcome]:
    """A Lease or PicFailure per requested picture, from the ``urls`` items of a picture-URL reply to a
    request sent at (``sent_mono``, ``sent_wall``): items pair with requests by (pic_key, tag), else by
    pic_key alone (an unclaimed item)."""
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
            outcomes.append(PicFailure(ref, missing, reason=FailureReason.NOT_IN_REPLY))
            continue
        url = item.get("pic_url")
        if not isinstance(url, str) or not url.strip():
            missing = translate("api", "not found in this workbook / no download URL")
            code = as_int(item.get("code"))
            outcomes.append(PicFailure(ref, missing, code, reason=FailureReason.PICTURE_NOT_FOUND))
            continue
        url = url.strip()
        if not url.lower().startswith(("https://", "http://")):
            unusable = translate("api", "the server sent an unusable download URL")
            outcomes.append(PicFailure(ref, unusable, reason=FailureReason.BAD_LINK))
            continue
        ttl, estimated = expiry.lifetime_for(ref.tag, url, sent_wall)
        outcomes.append(Lease(ref, url, sent_mono, ttl, estimated, sent_wall))
    return outcomes
