"""Read and write the lists of pictures a user hands the viewer.

People paste whatever they have: the request body of the picture-URL API, a JSON list, a cells-API
response, a CSV/TSV export or a plain ``pic_key tag [caption]`` text file. This module accepts all of them,
and when something is wrong it says *where* (line or item) and *what*, collecting every problem in one go so
a user fixes a file once instead of once per error. ``tag`` is opaque: it is validated as a non-empty string
and otherwise passed through untouched, because the API wants exactly what it gave.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from kdocs_viewer.core.cells import CELL_LIST_KEYS, looks_like_cell, read_picture_cells
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.models import PicRef, Problem
from kdocs_viewer.core.validation import CONTEXT_FIELDS, MAX_ID_LEN, make_ref
from kdocs_viewer.core.validation import show_value as _show

MAX_PIC_KEY_LEN = MAX_ID_LEN
SHOWN_PROBLEMS = 5  # PicListError's text lists this many, then "and N more"
COLUMNS = ("pic_key", "tag", *CONTEXT_FIELDS)
# Above this many pictures a list costs over 100 API calls (of a test app's 10,000 a day): the GUI asks first
# and the CLI wants --yes. One number for both.
CONFIRM_PICTURES_ABOVE = 10_000


class PicListError(ValueError):
    """The input could not be read as a picture list. ``problems`` holds all of them, in input order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = [str(p) for p in problems[:SHOWN_PROBLEMS]]
        if len(problems) > SHOWN_PROBLEMS:
            more = translate("piclist", "… and {count} more")
            shown.append(more.format(count=len(problems) - SHOWN_PROBLEMS))
        super().__init__("\n".join(shown))


@dataclass
class ParseResult:
    pics: list[PicRef]
    duplicates: list[Problem] = field(default_factory=list)
    format: str = "text"


def parse_pic_list(text: str) -> ParseResult:
    """Parse any supported format; raises PicListError (never returns an empty list)."""
    text = text.removeprefix("\ufeff")
    head = text.lstrip()
    if head.startswith(("{", "[")):
        fmt, items, problems = _parse_json(text)
    else:
        first = next((ln for ln in text.splitlines() if ln.strip() and not _is_comment(ln)), "")
        if "\t" in first:
            fmt, (items, problems) = "tsv", _parse_delimited(text, "\t")
        elif "," in first:
            fmt, (items, problems) = "csv", _parse_delimited(text, ",")
        else:
            fmt, (items, problems) = "text", _parse_text(text)
    if problems:
        raise PicListError(problems)
    pics, duplicates = _collapse(items)
    if not pics:
        raise PicListError([Problem("", translate("piclist", "no pictures found"))])
    return ParseResult(pics=pics, duplicates=duplicates, format=fmt)


def needs_confirmation(pictures: int) -> bool:
    """True when resolving this many distinct pictures should first get the user's yes."""
    return pictures > CONFIRM_PICTURES_ABOVE


def dump_pic_list(pics: Iterable[PicRef]) -> str:
    """The request-body shape, one picture per line (diff-friendly); ``parse_pic_list`` reads it back."""
    lines = []
    for ref in pics:
        item = {"pic_key": ref.pic_key, "tag": ref.tag}
        item.update({k: getattr(ref, k) for k in CONTEXT_FIELDS if getattr(ref, k) is not None})
        lines.append("  " + json.dumps(item, ensure_ascii=False))
    if not lines:
        return '{"pics": []}\n'
    return '{"pics": [\n' + ",\n".join(lines) + "\n]}\n"


# --- reading a pic list file ---------------------------------------------------------------------

MAX_PIC_LIST_BYTES = 20 * 1024 * 1024  # a pic list is text; anything bigger is not one


class PicFileError(ValueError):
    """A pic list file that cannot be used, named in the message. ``kind`` says why: "too_big" (over
    ``limit`` bytes), "binary", "encoding" or "os" (``detail`` then holds the system's reason)."""

    def __init__(self, kind: str, name: str, detail: str = "", limit: int = MAX_PIC_LIST_BYTES) -> None:
        self.kind = kind
        self.name = name
        self.detail = detail
        self.limit = limit
        super().__init__(self._text())

    def _text(self) -> str:
        if self.kind == "too_big":
            text = translate("piclist", "{name} is larger than {limit} MB: that is not a pic list.")
            return text.format(name=self.name, limit=self.limit // (1024 * 1024))
        if self.kind == "binary":
            return translate("piclist", "{name} is not a text file.").format(name=self.name)
        if self.kind == "encoding":
            text = translate("piclist", "{name} is neither UTF-8, UTF-16 nor GB18030 text.")
            return text.format(name=self.name)
        text = translate("piclist", "Could not read {name}: {reason}")
        return text.format(name=self.name, reason=self.detail)


def read_pic_list_file(path: Path, max_bytes: int = MAX_PIC_LIST_BYTES, *, name: str | None = None) -> str:
    """The text of a pic list file; messages name it ``name`` (default: the file's name). See
    ``read_pic_list_stream``. Reads at most ``max_bytes + 1`` bytes: a huge file is refused, not loaded."""
    name = path.name if name is None else name
    try:
        with path.open("rb") as handle:
            return read_pic_list_stream(handle, name, max_bytes)
    except OSError as exc:
        raise PicFileError("os", name, exc.strerror or type(exc).__name__) from None


def read_pic_list_stream(stream: BinaryIO, name: str, max_bytes: int = MAX_PIC_LIST_BYTES) -> str:
    """The text of a pic list: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (what Chinese
    Windows tools write). Refuses more than ``max_bytes`` and binary data (NUL bytes) with a
    ``PicFileError`` instead of handing an editor or the parser something that is not a list."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PicFileError("too_big", name, limit=max_bytes)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise PicFileError("encoding", name) from None
    if b"\x00" in data:
        raise PicFileError("binary", name)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PicFileError("encoding", name)


# --- validation shared by all formats ------------------------------------------------------------

_Item = tuple[str, PicRef]  # (where, ref)


def line_of(where: str) -> int | None:
    """The 1-based line a Problem's ``where`` names ("line 3", "line 4, column 2"), in any language."""
    for pattern in {
        translate("piclist", "line {line}, column {column}"),
        translate("piclist", "line {line}"),
        "line {line}, column {column}",
        "line {line}",
    }:
        regex = re.escape(pattern).replace(r"\{line\}", r"(?P<line>\d+)").replace(r"\{column\}", r"\d+")
        if match := re.fullmatch(regex, where):
            return int(match.group("line"))
    return None


def _collapse(items: list[_Item]) -> tuple[list[PicRef], list[Problem]]:
    first_where: dict[tuple[str, str], str] = {}
    pics: list[PicRef] = []
    duplicates: list[Problem] = []
    for where, ref in items:
        if ref.ident in first_where:
            msg = translate("piclist", "duplicate of {first} (pic_key {key}, tag {tag})").format(
                first=first_where[ref.ident], key=_show(ref.pic_key), tag=_show(ref.tag)
            )
            duplicates.append(Problem(where, msg))
        else:
            first_where[ref.ident] = where
            pics.append(ref)
    return pics, duplicates


# --- JSON -----------------------------------------------------------------------------------------


def _parse_json(text: str) -> tuple[str, list[_Item], list[Problem]]:
    repeated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        obj = dict(items)
        repeated = repeated or len(obj) != len(items)
        return obj

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as e:
        where = translate("piclist", "line {line}, column {column}").format(line=e.lineno, column=e.colno)
        return "json", [], [Problem(where, translate("piclist", "invalid JSON: {error}").format(error=e.msg))]
    except RecursionError:
        return "json", [], [Problem("", translate("piclist", "invalid JSON: nested too deeply"))]
    except ValueError as e:  # not a syntax error: an integer too long to convert (sys.int_info)
        return "json", [], _json_value_problems(text, e)
    if repeated:  # ambiguous: other readers keep the first value, Python the last
        return "json", [], _repeated_key_problems(text)
    if isinstance(data, list):
        first = next((x for x in data if isinstance(x, dict)), {})
        if looks_like_cell(first):
            return "cells", *_cells_items(data, "")
        return "json-list", *_json_items(data, translate("piclist", "the list"))
    if not isinstance(data, dict):
        msg = translate("piclist", "expected a JSON object or list, got {value}").format(value=_show(data))
        return "json", [], [Problem("", msg)]
    if "pics" in data:
        return "json-body", *_json_items(data["pics"], "'pics'")
    if "code" in data and data["code"] != 0:
        said = next((str(data[k]) for k in ("msg", "message", "hint", "result") if data.get(k)), "")
        msg = translate("piclist", "the input is an API error (code {code}) {said}")
        msg = msg.format(code=_show(data["code"]), said=said).rstrip()
        return "cells", [], [Problem("", msg)]
    body = data["data"] if isinstance(data.get("data"), dict) else data
    for key in CELL_LIST_KEYS:
        if key in body:
            return "cells", *_cells_items(body[key], key)
    keys = ", ".join(_show(k) for k in list(data)[:5]) or translate("piclist", "none")
    msg = translate(
        "piclist", "expected {example}, a list of pictures or a cells response; found keys {keys}"
    ).format(example='{"pics": [...]}', keys=keys)
    return "json", [], [Problem("", msg)]


# The parser's callbacks know no positions, so the rare error paths find them again in the text.
_JSON_TOKEN = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"'  # a string
    r"|[{}\[\],:]"
    r"|(-?\d+)(\.\d+)?([eE][+-]?\d+)?"  # a number; an integer when groups 2 and 3 are empty
)


class _Positions:
    """(line, column) of offsets into ``text``, asked for in increasing order (one pass over the text)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._offset = 0
        self._line = 1
        self._line_start = 0

    def at(self, offset: int) -> tuple[int, int]:
        newlines = self._text.count("\n", self._offset, offset)
        if newlines:
            self._line += newlines
            self._line_start = self._text.rfind("\n", self._offset, offset) + 1
        self._offset = offset
        return self._line, offset - self._line_start + 1


def _line_column(line: int, column: int) -> str:
    return translate("piclist", "line {line}, column {column}").format(line=line, column=column)


def _json_value_problems(text: str, error: ValueError) -> list[Problem]:
    """Where the first integer longer than Python converts is (the parser stopped there)."""
    limit = sys.get_int_max_str_digits()
    for match in _JSON_TOKEN.finditer(text):
        digits = (match.group(1) or "").lstrip("-")
        if limit and len(digits) > limit and not match.group(2) and not match.group(3):
            msg = translate("piclist", "a number with {digits} digits is too long (at most {limit})")
            where = _line_column(*_Positions(text).at(match.start()))
            return [Problem(where, msg.format(digits=len(digits), limit=limit))]
    detail = " ".join(str(error).split())[:120]
    return [Problem("", translate("piclist", "invalid JSON: {error}").format(error=detail))]


def _repeated_key_problems(text: str) -> list[Problem]:
    """Every key that repeats within one object, at the repeat, naming the line of its first use."""
    frames: list[dict[str, int] | None] = []  # per open object: key → offset of its first use; None: a list
    expect_key = False
    found: list[tuple[int, str, int]] = []  # (offset of the repeat, key, offset of the first use)
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "{[":
            frames.append({} if token == "{" else None)
            expect_key = token == "{"
        elif token in "}]":
            if frames:
                frames.pop()
            expect_key = False
        elif token == ",":
            expect_key = bool(frames) and frames[-1] is not None
        elif token.startswith('"') and expect_key and frames and (keys := frames[-1]) is not None:
            expect_key = False
            key = json.loads(token)
            if key in keys:
                found.append((match.start(), key, keys[key]))
            else:
                keys[key] = match.start()
    first_positions = _Positions(text)
    first_line = {first: first_positions.at(first)[0] for first in sorted({f for _, _, f in found})}
    positions = _Positions(text)
    msg = translate("piclist", "the key {key} appears twice in one object (first on line {line})")
    return [
        Problem(_line_column(*positions.at(offset)), msg.format(key=_show(key), line=first_line[first]))
        for offset, key, first in found
    ]


def _json_items(items: object, what: str) -> tuple[list[_Item], list[Problem]]:
    if not isinstance(items, list):
        msg = translate("piclist", "{what} must be a list, got {value}").format(what=what, value=_show(items))
        return [], [Problem("", msg)]
    out: list[_Item] = []
    problems: list[Problem] = []
    for i, item in enumerate(items, 1):
        where = translate("piclist", "item {number}").format(number=i)
        if not isinstance(item, dict):
            msg = translate("piclist", "expected an object with pic_key and tag, got {value}")
            problems.append(Problem(where, msg.format(value=_show(item))))
        elif (ref := make_ref(where, item, problems)) is not None:
            out.append((where, ref))
    return out, problems


def _cells_items(cells: object, what: str) -> tuple[list[_Item], list[Problem]]:
    """The pictures of a cells response (``core.cells``: every known shape, the one caption rule)."""
    if not isinstance(cells, list):
        msg = translate("piclist", "{what} must be a list, got {value}")
        return [], [Problem("", msg.format(what=repr(what), value=_show(cells)))]
    return read_picture_cells(cells)


# --- line formats ---------------------------------------------------------------------------------


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _parse_text(text: str) -> tuple[list[_Item], list[Problem]]:
    out: list[_Item] = []
    problems: list[Problem] = []
    for n, line in enumerate(text.splitlines(), 1):
        # "pic_key tag [caption…]": the rest of the line after the tag, inner spaces kept, is the caption
        # (what "Find pictures" would call the picture); a "#" after a space starts a comment.
        words = re.sub(r"(^|\s)#.*", "", line).strip().split(maxsplit=2)
        if not words:
            continue
        where = translate("piclist", "line {line}").format(line=n)
        values = dict(zip(("pic_key", "tag", "caption"), words, strict=False))
        if (ref := make_ref(where, values, problems)) is not None:
            out.append((where, ref))
    return out, problems


# Words that only a header row would hold in a pic_key or tag column. Known tags (contract.STANDIN_TAGS and
# "url") are left out: "k1,url" is a picture.
_HEADER_WORDS = frozenset(
    {"file", "filename", "file_name", "name", "image", "img", "picture", "pic", "photo", "id", "key", "title"}
    | {"path", "link", "图片", "文件", "文件名", "名称", "标题", "链接"}
)


def _header_names(row: list[str]) -> list[str] | None:
    """Column names when ``row`` is a header, else None.

    A header names pic_key, or any column we know, or holds a word only a header would (``file,name``): a
    row of unknown column names must be refused as a header, not sent to the API as a picture.
    """
    names = [re.sub(r"[\s\-]+", "_", c.strip().lower()).replace("pickey", "pic_key") for c in row]
    if any(name in COLUMNS or name in _HEADER_WORDS for name in names):
        return names
    return None


def _header_problem(names: list[str]) -> str | None:
    """What is wrong with a header row, or None."""
    unknown = [name for name in names if name not in COLUMNS]
    if len(unknown) == 1:
        msg = translate(
            "piclist", "unknown column {column} (expected pic_key and tag, optionally {optional})"
        )
        return msg.format(column=_show(unknown[0]), optional=", ".join(CONTEXT_FIELDS))
    if unknown:
        msg = translate(
            "piclist", "unknown columns {columns} (expected pic_key and tag, optionally {optional})"
        )
        columns = ", ".join(_show(name) for name in unknown)
        return msg.format(columns=columns, optional=", ".join(CONTEXT_FIELDS))
    if "pic_key" not in names and "tag" not in names:
        return translate("piclist", "the header has no pic_key and no tag column")
    if "pic_key" not in names:
        return translate("piclist", "the header has no pic_key column")
    if "tag" not in names:
        return translate("piclist", "the header has no tag column")
    return None


def _parse_delimited(text: str, delimiter: str) -> tuple[list[_Item], list[Problem]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    out: list[_Item] = []
    problems: list[Problem] = []
    columns: list[str] | None = None
    first_row = True
    while True:
        start = reader.line_num + 1
        where = translate("piclist", "line {line}").format(line=start)
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            msg = translate("piclist", "invalid {kind}: {error}")
            problems.append(Problem(where, msg.format(kind="TSV" if delimiter == "\t" else "CSV", error=e)))
            break
        row = [c.strip() for c in row]
        if not any(row) or row[0].startswith("#"):
            continue
        if first_row:
            first_row = False
            if (columns := _header_names(row)) is not None:
                if (wrong := _header_problem(columns)) is not None:
                    problems.append(Problem(where, wrong))
                    return out, problems
                continue
        names = columns or ["pic_key", "tag"]
        while len(row) > len(names) and not row[-1]:
            row.pop()  # a trailing separator is harmless
        if len(row) > len(names):
            msg = (
                translate("piclist", "{count} fields, expected {expected}")
                if columns
                else translate(
                    "piclist",
                    "{count} fields, expected {expected}; add a header row to name extra columns "
                    "(sheet, cell, caption)",
                )
            )
            problems.append(Problem(where, msg.format(count=len(row), expected=len(names))))
            continue
        values = {name: value for name, value in zip(names, row, strict=False) if value}
        if (ref := make_ref(where, values, problems)) is not None:
            out.append((where, ref))
    return out, problems
