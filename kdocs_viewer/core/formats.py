"""What a download's bytes are: which picture format (by magic bytes), or why they are not a picture at all.

One rule for everyone who receives picture bytes — the session (and through it saving, thumbnails, drag
and drop and the CLI) — so an HTML page a captive portal or a login wall answers with 200 is a failure
with its reason, never a saved ``*.bin``, a cached original or a broken tile that says "not a valid image".

The rule refuses what is recognisably *text*: HTML pages, XML documents (a storage service's error),
JSON, plain text. It accepts every format it recognises, including SVG (a picture format made of text; a
spreadsheet can hold one) and ICO, and it accepts unknown *binary* data too: pictures come in more formats
than any list (EMF/WMF from Office files, JPEG XL, JPEG 2000, PSD, camera RAW), and refusing one would lose
a real picture, while error pages are text. Unknown binary is saved as ``.bin`` and its tile says it cannot
be shown. Empty bytes are left to the callers' own rule (an empty picture in the workbook is not a server
that answered with something else).
"""

from __future__ import annotations

import html
import json
import re

from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.redact import redact

__all__ = ["SNIFF_BYTES", "not_a_picture", "sniff_extension"]

SNIFF_BYTES = 1024  # enough for an XML prolog, comments and a DOCTYPE before an <svg> root
_TEXT_SAMPLE = 4096  # bytes looked at to tell text from binary and to find an HTML title
_JSON_LIMIT = 1 << 20  # larger bodies are called text rather than parsed

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
# Bytes that never occur in text (NUL and the C0 controls other than \t \n \v \f \r and ESC, and DEL).
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_PROLOG = re.compile(r"\s*(?:<\?xml[^>]*\?>|<!--.*?-->|<!doctype[^>\[]*(?:\[.*?\])?\s*>|\s+)", re.I | re.S)
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)")
_HTML_DOCTYPE = re.compile(r"<!doctype\s+html\b", re.I)
_HTML_TAGS = frozenset(
    {"html", "head", "body", "meta", "title", "script", "style", "link", "div", "p", "a", "form", "iframe",
     "table", "h1", "h2", "br", "noscript", "center", "pre", "span", "img"}
)  # fmt: skip
_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.I | re.S)


def sniff_extension(head: bytes) -> str | None:
    """The extension the first bytes of a picture call for (``.jpg``, ``.svg``, …), or None when unknown.

    Give it at least ``SNIFF_BYTES`` bytes when you have them (an SVG's root may follow a long prolog).
    """
    head = bytes(head[:SNIFF_BYTES])
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return ".gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return ".tiff"
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in (12, 16, 40, 52, 56, 64, 108, 124):
        return ".bmp"
    if head[4:8] == b"ftyp":  # ISO-BMFF: major brand, then compatible brands
        size = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
        if brands & {b"avif", b"avis"}:
            return ".avif"
        if brands & _HEIC_BRANDS:
            return ".heic"
        if brands & {b"mif1", b"msf1"}:
            return ".heif"
    icons = int.from_bytes(head[4:6], "little")
    if head[:4] == b"\x00\x00\x01\x00" and 0 < icons <= 256 and head[9:10] == b"\0":
        return ".ico"  # reserved 0, type 1 (icon), 1–256 images, the first entry's reserved byte 0
    text = _as_text(head)
    if text is not None and _markup_root(text) == "svg":
        return ".svg"
    return None


def not_a_picture(data: bytes) -> str | None:
    """Why ``data`` is not a picture ("the server sent an HTML page, not a picture"), or None.

    None for every recognised format, for unknown binary data and for empty bytes (see the module text).
    The reason is for people: an HTML page's title is quoted (shortened, redacted), never the page itself.
    """
    if not data or sniff_extension(data[:SNIFF_BYTES]) is not None:
        return None
    text = _as_text(data[:_TEXT_SAMPLE])
    if text is None:
        return None  # binary in a format we do not know: possibly a picture
    body = text.lstrip("\ufeff \t\r\n\f\v")
    if body.startswith("<"):
        root = _markup_root(body)
        if _HTML_DOCTYPE.search(body[:200]) or root in _HTML_TAGS or not body.startswith("<?xml"):
            title = _title(body)
            if title:
                message = translate("formats", "the server sent an HTML page ({title}), not a picture")
                return message.format(title=title)
            return translate("formats", "the server sent an HTML page, not a picture")
        return translate("formats", "the server sent an XML document, not a picture")
    if body.startswith(("{", "[")) and len(data) <= _JSON_LIMIT and _is_json(data):
        return translate("formats", "the server sent JSON data, not a picture")
    return translate("formats", "the server sent text, not a picture")


def _as_text(sample: bytes) -> str | None:
    """``sample`` decoded when it reads as text (UTF-8, UTF-16 with a BOM, GB 18030), else None."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return sample.decode("utf-16", errors="replace")
    if _BINARY.search(sample):
        return None
    sample = sample.removeprefix(b"\xef\xbb\xbf")
    try:
        return sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:  # the sample ends inside a character
            return sample[: exc.start].decode("utf-8")
    return sample.decode("gb18030", errors="replace")  # pages of Chinese portals that are not UTF-8


def _markup_root(text: str) -> str | None:
    """The lower-case local name of the first element after the XML prolog, comments and DOCTYPE."""
    text = text.lstrip("\ufeff")
    position = 0
    while (match := _PROLOG.match(text, position)) is not None and match.end() > position:
        position = match.end()
    root = _ROOT.match(text, position)
    return root.group(1).rsplit(":", 1)[-1].lower() if root else None


def _title(page: str) -> str:
    match = _TITLE.search(page)
    if match is None:
        return ""
    title = " ".join(html.unescape(re.sub(r"<[^>]*>", " ", match.group(1))).split())
    title = redact(title)
    return f"“{title[:59]}…”" if len(title) > 60 else (f"“{title}”" if title else "")


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:  # includes UnicodeDecodeError and the integer-length limit
        return False
    except RecursionError:
        return False  # called text: not a picture either way
    return True
