"""File names people can read, from a template, and claims on them across one batch.

Names come from a template (``{index:04d} {cell} {caption}``), are sanitised for Windows, macOS and Linux
at once (a folder is often copied between them) and capped at 255 UTF-8 bytes. The extension comes from the
bytes, never from the URL: a signed URL says nothing reliable about the format.

Names are reserved across the whole batch, case-insensitively, so two pictures called "image" never race
for one file and a batch stays portable to case-insensitive file systems.
"""

from __future__ import annotations

import functools
import os
import re
import string
import threading
import unicodedata
from collections.abc import Sequence
from enum import StrEnum
from itertools import count
from pathlib import Path

from pathvalidate import sanitize_filename

from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.models import PicRef

__all__ = [
    "DEFAULT_TEMPLATE",
    "FIELDS",
    "MAX_NAME_BYTES",
    "ConflictPolicy",
    "NameReserver",
    "fit_utf8",
    "name_key",
    "render_name",
    "validate_template",
    "with_counter",
]

# Index first so a folder sorts in workbook order; the cell leads a person back to the sheet.
DEFAULT_TEMPLATE = "{index:04d} {cell} {caption}"
FIELDS = ("index", "pic_key", "sheet", "cell", "caption", "tag")
MAX_NAME_BYTES = 255

_SEPARATORS = "-_.,;~+=·—–"
_END_STRIP = " " + _SEPARATORS  # trailing dots/spaces are illegal on Windows; leading dots hide files
_INVALID = re.compile(r'[<>:"/\\|?*]')
_LEAD = re.compile(rf"^[\s{re.escape(_SEPARATORS)}]*")
_TRAIL = re.compile(rf"[\s{re.escape(_SEPARATORS)}]*$")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|（\s*）|【\s*】")


class ConflictPolicy(StrEnum):
    SKIP_IDENTICAL = "skip-identical"  # skip when "name" or a "name (n)" holds the same bytes, else keep both
    UNIQUIFY = "uniquify"  # "name (2).jpg"
    SKIP = "skip"  # leave the existing file alone
    OVERWRITE = "overwrite"  # atomically replace it


_Piece = tuple[str, str | None, str]  # (literal text, field name or None, format spec)


@functools.lru_cache(maxsize=32)
def _parse_template(template: str) -> tuple[_Piece, ...]:
    if not template.strip():
        raise ValueError(translate("saving", "the name template is empty"))
    for sep in "/\\":
        if sep in template:
            message = translate(
                "saving", "the name template must not contain {separator}: it names files, not folders"
            )
            raise ValueError(message.format(separator=repr(sep)))
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        if "Single '}'" in str(e):
            raise ValueError(
                translate(
                    "saving", "unbalanced braces: a '}' has no matching '{' (write '}}' for a literal one)"
                )
            ) from None
        raise ValueError(
            translate("saving", "unbalanced braces: a '{' is never closed (write '{{' for a literal one)")
        ) from None
    known = ", ".join("{" + f + "}" for f in FIELDS)
    pieces: list[_Piece] = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            pieces.append((literal, None, ""))
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if name == "" or name.isdigit():
            message = translate(
                "saving", "positional field {field} is not allowed; use a named field: {known}"
            )
            raise ValueError(message.format(field=shown, known=known))
        if "." in name or "[" in name:
            message = translate(
                "saving", "{field}: attribute or index access is not allowed; use a plain field: {known}"
            )
            raise ValueError(message.format(field=shown, known=known))
        if name not in FIELDS:
            message = translate("saving", "unknown field {field}; the fields are {known}")
            raise ValueError(message.format(field=shown, known=known))
        if conversion or "{" in (spec or ""):
            message = translate("saving", "{field}: conversions and nested fields are not allowed")
            raise ValueError(message.format(field=shown))
        try:
            format(1 if name == "index" else "x", spec or "")
        except ValueError as e:
            message = translate("saving", "{field}: bad format spec ({error})")
            raise ValueError(message.format(field=shown, error=e)) from None
        pieces.append((literal, name, spec or ""))
    return tuple(pieces)


def validate_template(template: str) -> None:
    """Raise ValueError, with a message for people, when ``template`` cannot name files."""
    _parse_template(template)


def _clean(text: str) -> str:
    """One line of text fit for a file name: NFC, no controls or bidi tricks, no reserved characters."""
    text = unicodedata.normalize("NFC", text)
    hidden = ("Cc", "Cf", "Cs")
    text = "".join(
        " " if c.isspace() else c for c in text if c.isspace() or unicodedata.category(c) not in hidden
    )
    return " ".join(_INVALID.sub("_", text).split())


def _join_over_gap(left: str, right: str) -> str:
    """Join the text around a field that rendered empty, keeping one separator: "a - " + " - b" → "a - b"."""
    left_sep, right_sep = _TRAIL.search(left), _LEAD.match(right)
    assert left_sep is not None and right_sep is not None  # both patterns match the empty string
    lsep, rsep = left_sep.group(), right_sep.group()
    sep = lsep if lsep.strip() else rsep if rsep.strip() else " " if (lsep or rsep) else ""
    return left[: left_sep.start()] + sep + right[right_sep.end() :]


def _render_stem(pieces: Sequence[_Piece], ref: PicRef, index: int) -> str:
    values: dict[str, object] = {
        "index": index,
        "pic_key": ref.pic_key,
        "sheet": ref.sheet or "",
        "cell": ref.cell.rsplit("!", 1)[-1] if ref.cell else "",
        "caption": ref.caption or "",
        "tag": ref.tag,
    }
    out, gap = "", False
    for literal, name, spec in pieces:
        out = _join_over_gap(out, literal) if gap else out + literal
        gap = False
        if name is not None:
            try:
                text = _clean(format(values[name], spec))
            except (ValueError, OverflowError):
                text = _clean(str(values[name]))
            if text:
                out += text
            else:
                gap = True
    out = " ".join(_EMPTY_BRACKETS.sub(" ", _clean(out)).split())
    return out.strip(_END_STRIP)


def fit_utf8(text: str, budget: int) -> str:
    """``text`` cut to at most ``budget`` UTF-8 bytes, never through the middle of a character."""
    data = text.encode("utf-8")
    return text if len(data) <= budget else data[: max(budget, 0)].decode("utf-8", "ignore")


def _finish(stem: str, ext: str) -> str | None:
    stem = fit_utf8(stem, MAX_NAME_BYTES - len(ext.encode())).strip(_END_STRIP)
    if not stem:
        return None
    name = sanitize_filename(stem + ext, platform="universal", max_len=MAX_NAME_BYTES)  # reserved: CON → CON_
    return name if name.strip(_END_STRIP) and name != ext else None


def render_name(template: str, ref: PicRef, index: int, ext: str) -> str:
    """The file name for picture ``index`` (1-based); never empty, falls back to the pic_key."""
    ext = ("." + ext.lstrip(".")) if ext else ""
    if not re.fullmatch(r"(\.[A-Za-z0-9]{1,10})?", ext):
        raise ValueError(f"not a file extension: {ext!r}")
    stem = _render_stem(_parse_template(template), ref, index)
    return _finish(stem, ext) or _finish(_clean(ref.pic_key), ext) or f"picture{ext}"


def with_counter(name: str, n: int) -> str:
    """``name (n).ext``, still within the byte cap."""
    if n <= 1:
        return name
    stem, ext = os.path.splitext(name)
    suffix = f" ({n})"
    return fit_utf8(stem, MAX_NAME_BYTES - len((suffix + ext).encode())).rstrip() + suffix + ext


def name_key(name: str) -> str:
    """Case- and normalisation-insensitive identity, as macOS and Windows see names."""
    return unicodedata.normalize("NFC", name).casefold()


class NameReserver:
    """Thread-safe claims on final names in one folder, for one batch.

    A name is free when no other item of the batch holds it and no file of that name exists (compared
    case-insensitively with what was in the folder at the start, and checked live on disk).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._reserved: set[str] = set()
        try:
            self._existing = {name_key(n): n for n in os.listdir(self.folder)}
        except FileNotFoundError:
            self._existing = {}

    def reserve(self, name: str, policy: ConflictPolicy, *, start: int = 1) -> str | None:
        """Claim ``name`` or, past ``start``, ``name (n)``; None when SKIP meets an existing file.

        Under OVERWRITE an existing file keeps its own spelling ("Image.JPG"), so it is replaced rather than
        joined by a near-twin; names claimed by this batch are never overwritten.
        """
        with self._lock:
            for n in count(max(start, 1)):
                candidate = with_counter(name, n)
                key = name_key(candidate)
                if key in self._reserved:
                    continue
                on_disk = self._existing.get(key)
                if on_disk is None and os.path.lexists(self.folder / candidate):
                    on_disk = candidate
                if on_disk is not None:
                    if policy is ConflictPolicy.SKIP:
                        return None
                    if policy is ConflictPolicy.UNIQUIFY or policy is ConflictPolicy.SKIP_IDENTICAL:
                        continue  # SKIP_IDENTICAL: the caller found no twin, so a differing picture is kept
                    candidate = on_disk
                self._reserved.add(key)
                return candidate
        raise AssertionError("unreachable")

    def on_disk(self, name: str) -> str | None:
        """The spelling of the file in the folder that takes ``name`` (case-insensitively), or None."""
        with self._lock:
            found = self._existing.get(name_key(name))
        if found is None and os.path.lexists(self.folder / name):
            found = name
        return found

    def release(self, name: str) -> None:
        with self._lock:
            self._reserved.discard(name_key(name))

    def mark_existing(self, name: str) -> None:
        """Someone else created ``name`` meanwhile (found when the no-clobber rename refused)."""
        with self._lock:
            self._existing[name_key(name)] = name
