"""Picture cells: which cells of a sheet hold pictures, in every shape they are known to come in, and which
text of the same row captions each one. "Find pictures" and a pasted cells response both read cells here,
so the same cells always give the same pictures, cells and captions.

Shapes (kdocs-api.md §2 and §2b), snake_case or camelCase (``pic_key``/``picKey``, ``row_from``/``rowFrom``):

- ``pic_key`` (and ``tag``) on the cell object or anywhere inside it; a cell may hold several. A holder
  without its own ``tag`` takes the first ``tag`` found in the cell.
- ``cell_text`` ``=DISPIMG("ID_…",1)`` with ``is_cell_pic``, the picture's id in ``pic_data`` (online
  pictures) or ``sha1`` (local ones), and ``tag``. A ``pic_key`` on such a cell wins.

An empty ``pic_key`` or ``is_cell_pic: false`` means "no picture": a service may send those fields on every
cell. A cell that is a picture but whose fields cannot be read becomes a Problem naming the cell and the
fields, never a silent drop.

Caption rule, for each picture, among the non-picture cells of its row that show text:

1. the text under a *name column*, whatever it looks like (a name may be "0017"): the sheet's header row
   (the last row above the first picture row that has no picture, two or more texts, no numbers, and a
   header such as 名称/品名/姓名/标题/Name/Product/Title/Caption) names it;
2. else a word (a text with a letter in it) from a cell of this row alone;
3. else a word from a cell merged over several rows (a group label such as a category);
4. else any text (a price, a number, a date);

within each step the nearest cell on the left wins, else the nearest on the right. Why: in office lists the
columns next to a picture are often a price, a quantity, a serial number or a date, which make poor
captions and poor file names; the identifying column (the name) usually precedes the picture, and a header
that says so settles it even when a specification or notes column sits in between.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.models import PicRef, Problem
from kdocs_viewer.core.validation import make_ref, show_value

__all__ = [
    "CELL_LIST_KEYS",
    "PICTURE_ID_FIELDS",
    "FoundPictures",
    "SheetCells",
    "camel_case",
    "cell_address",
    "cell_name",
    "column_letters",
    "looks_like_cell",
    "read_picture_cells",
]

# Where a list of cells sits in a response: the cells API, and the range API of §2b.
CELL_LIST_KEYS = ("cells", "range_data", "rangeData")
# [ours] Where a DISPIMG picture cell keeps the id the pictures API is asked with; the first non-empty wins.
PICTURE_ID_FIELDS = ("pic_data", "sha1")
# Header words that name a name column; a header *ending* in one counts (商品名称, Product name).
NAME_HEADERS = (
    "名称", "品名", "姓名", "名字", "标题", "产品", "商品", "name", "title", "product", "item", "caption",
)  # fmt: skip
_MAX_POSITION = 10**7  # rows and columns beyond any spreadsheet's; a larger value is not a position
_MAX_SPAN = 1000  # rows a merged text cell lends its text to

Found = tuple[str, PicRef]  # (where a person finds it, the picture)


@dataclass
class FoundPictures:
    """The pictures of a workbook in reading order (one per ``(pic_key, tag)``), and the picture cells that
    could not be read — for the caller to show."""

    pics: list[PicRef]
    problems: list[Problem] = field(default_factory=list)


# ---- addresses --------------------------------------------------------------------------------------------


def column_letters(col: int) -> str:
    """0-based column index → spreadsheet letters: 0 → A, 25 → Z, 26 → AA, 701 → ZZ, 702 → AAA."""
    if col < 0:
        raise ValueError("column index must not be negative")
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def cell_name(row: int, col: int) -> str:
    """``"C7"`` for 0-based (row 6, col 2)."""
    return f"{column_letters(col)}{row + 1}"


def cell_address(sheet: str, row: int, col: int) -> str:
    """``"Products!C7"`` for 0-based (row 6, col 2) on sheet "Products"."""
    return f"{sheet}!{cell_name(row, col)}"


# ---- fields in either spelling ----------------------------------------------------------------------------


def camel_case(name: str) -> str:
    """``row_from`` → ``rowFrom``: the other spelling of a field (§2b shows both)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _has(obj: Mapping[str, Any], name: str) -> bool:
    return name in obj or camel_case(name) in obj


def _get(obj: Mapping[str, Any], name: str) -> Any:
    """``obj[name]``, else its camelCase twin, else None."""
    return obj[name] if name in obj else obj.get(camel_case(name))


def looks_like_cell(item: object) -> bool:
    """True for an object shaped like a cell of the cells or range API: a position, text or picture flag."""
    if not isinstance(item, dict):
        return False
    return any(_has(item, name) for name in ("row_from", "cell_text", "is_cell_pic"))


def _as_position(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 0 <= value < _MAX_POSITION:
        return value
    return None


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value) if isinstance(value, bool | int) else False


_DISPIMG = re.compile(r'^\s*=\s*DISPIMG\(\s*"([^"]*)"', re.IGNORECASE)


def _dispimg_id(cell: Mapping[str, Any]) -> str | None:
    """The image id of a ``=DISPIMG("ID_…",1)`` cell, or None."""
    for name in ("cell_text", "original_cell_value"):
        value = _get(cell, name)
        if isinstance(value, str) and (match := _DISPIMG.match(value)):
            return match.group(1)
    return None


def _text(cell: Mapping[str, Any]) -> str:
    """What the cell shows, for captions ("" for none and for a DISPIMG formula)."""
    for name in ("cell_text", "original_cell_value", "text", "value"):
        value = _get(cell, name)
        if isinstance(value, str) and value.strip():
            return "" if _DISPIMG.match(value) else value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return ""


# ---- pictures inside one cell -----------------------------------------------------------------------------


def _walk(node: object) -> Iterator[dict[str, Any]]:
    """Every dict inside ``node``, breadth first, iteratively (arbitrary nesting must not recurse)."""
    queue: deque[object] = deque([node])
    while queue:
        current = queue.popleft()
        if isinstance(current, dict):
            yield current
            queue.extend(current.values())
        elif isinstance(current, list):
            queue.extend(current)


def _pictures(cell: object) -> tuple[list[dict[str, Any]], list[str]]:
    """The raw ``{"pic_key", "tag"}`` records of the pictures in ``cell``, and what is unreadable."""
    holders = [d for d in _walk(cell) if _get(d, "pic_key") not in (None, "")]
    if holders:
        shared = next((_get(d, "tag") for d in _walk(cell) if _has(d, "tag")), None)
        return [
            {"pic_key": _get(h, "pic_key"), "tag": _get(h, "tag") if _has(h, "tag") else shared}
            for h in holders
        ], []
    if isinstance(cell, dict) and _is_dispimg_picture(cell):
        return _dispimg_picture(cell)
    return [], []


def _is_dispimg_picture(cell: Mapping[str, Any]) -> bool:
    if _has(cell, "is_cell_pic"):
        return _flag(_get(cell, "is_cell_pic"))
    ids = (_get(cell, name) for name in PICTURE_ID_FIELDS)
    return _dispimg_id(cell) is not None or any(isinstance(v, str) and v for v in ids)


def _dispimg_picture(cell: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    camel = any(name in cell for name in ("isCellPic", "cellText", "picData", "picKey"))
    shown = [(camel_case(n) if camel else n) for n in ("pic_key", *PICTURE_ID_FIELDS)]
    wrong: list[str] = []
    for name, label in zip(PICTURE_ID_FIELDS, shown[1:], strict=True):
        value = _get(cell, name)
        if isinstance(value, str) and value:
            return [{"pic_key": value, "tag": _get(cell, "tag")}], []
        if value not in (None, ""):
            msg = translate("piclist", "{field} must be a string, got {value}")
            wrong.append(msg.format(field=label, value=show_value(value)))
    if wrong:
        return [], wrong
    fields = translate("cells", "{first}, {second} or {third}").format(
        first=shown[0], second=shown[1], third=shown[2]
    )
    image = _dispimg_id(cell)
    if image:
        msg = translate("cells", "picture {image} has no {fields}: its download link cannot be asked for")
        return [], [msg.format(image=show_value(image), fields=fields)]
    msg = translate("cells", "a picture cell without {fields}: its download link cannot be asked for")
    return [], [msg.format(fields=fields)]


# ---- reading cells ----------------------------------------------------------------------------------------


@dataclass
class _Cell:
    number: int  # 1-based place in the input, for cells without a position
    row: int | None
    col: int | None
    row_to: int
    col_to: int
    text: str
    pictures: list[dict[str, Any]]
    unreadable: list[str]

    @property
    def is_picture(self) -> bool:
        return bool(self.pictures or self.unreadable)


@dataclass(frozen=True)
class _Text:
    col_from: int
    col_to: int
    text: str
    word: bool  # has a letter: a name, not a price, number or date
    spans_rows: bool  # merged over several rows: a group label


def _parse(number: int, cell: object) -> _Cell:
    pictures, unreadable = _pictures(cell)
    if not isinstance(cell, dict):
        return _Cell(number, None, None, 0, 0, "", pictures, unreadable)
    row = _as_position(_get(cell, "row_from") if _has(cell, "row_from") else cell.get("row"))
    col = _as_position(_get(cell, "col_from") if _has(cell, "col_from") else cell.get("col"))
    if row is None or col is None:
        return _Cell(number, None, None, 0, 0, "", pictures, unreadable)
    row_to = _as_position(_get(cell, "row_to"))
    col_to = _as_position(_get(cell, "col_to"))
    row_to = row_to if row_to is not None and row_to >= row else row
    col_to = col_to if col_to is not None and col_to >= col else col
    text = "" if pictures or unreadable else _text(cell)
    return _Cell(number, row, col, row_to, col_to, text, pictures, unreadable)


def _is_word(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _names_a_name(header: str) -> bool:
    folded = re.sub(r"[\s_\-:：*()（）]+", "", header.casefold())
    return folded.endswith(NAME_HEADERS)


def _choose_caption(texts: Sequence[_Text], col: int, name_cols: frozenset[int]) -> str | None:
    """The caption of a picture in column ``col`` (the rule of the module docstring)."""
    tiers = (
        [t for t in texts if t.col_from in name_cols],
        [t for t in texts if t.word and not t.spans_rows],
        [t for t in texts if t.word],
        list(texts),
    )
    for tier in tiers:
        left = [t for t in tier if t.col_to < col]
        if left:
            return max(left, key=lambda t: t.col_to).text
        right = [t for t in tier if t.col_from > col]
        if right:
            return min(right, key=lambda t: t.col_from).text
    return None


class SheetCells:
    """Reads the picture cells of one sheet (or one pasted range), a band of rows at a time.

    ``read`` may be called with consecutive bands of rows (a big sheet is read in chunks): the header row
    found in an early band names the name column for later ones, and a cell read twice (a merged cell at a
    band's edge) counts once. ``sheet`` goes into each PicRef's ``sheet`` and ``cell`` ("Products!B7").
    """

    def __init__(self, sheet: str | None = None) -> None:
        self._sheet = sheet
        self._name_cols: frozenset[int] = frozenset()
        self._pictures_seen = False
        self._reaching_on: dict[tuple[int, int], int] = {}  # position → row_to, of cells read again later
        self._count = 0

    def read(self, cells: Iterable[object]) -> tuple[list[Found], list[Problem]]:
        """The pictures of ``cells`` (row by row, left to right; cells without a position last, in input
        order) with where each was found, and the problems of picture cells that could not be read."""
        placed: list[_Cell] = []
        loose: list[_Cell] = []
        seen = self._reaching_on
        for cell in cells:
            self._count += 1
            parsed = _parse(self._count, cell)
            if parsed.row is None or parsed.col is None:
                if parsed.is_picture:
                    loose.append(parsed)
            elif (parsed.row, parsed.col) not in seen:
                seen[(parsed.row, parsed.col)] = parsed.row_to
                placed.append(parsed)
        placed.sort(key=lambda c: (c.row, c.col))
        # Only a cell reaching below every row read so far can come again with the next band.
        bottom = max((c.row for c in placed if c.row is not None), default=-1)
        self._reaching_on = {pos: row_to for pos, row_to in seen.items() if row_to > bottom}
        texts: dict[int, list[_Text]] = {}
        for c in placed:
            if c.text:
                assert c.row is not None and c.col is not None
                text = _Text(c.col, c.col_to, c.text, _is_word(c.text), c.row_to > c.row)
                for row in range(c.row, min(c.row_to, c.row + _MAX_SPAN) + 1):
                    texts.setdefault(row, []).append(text)
        found: list[Found] = []
        problems: list[Problem] = []
        by_row: dict[int, list[_Cell]] = {}
        for c in placed:
            assert c.row is not None
            by_row.setdefault(c.row, []).append(c)
        for row, row_cells in by_row.items():
            if not any(c.is_picture for c in row_cells):
                if not self._pictures_seen:
                    self._take_header(row_cells)
                continue
            self._pictures_seen = True
            for c in row_cells:
                self._emit(c, texts.get(row, []), found, problems)
        for c in loose:
            self._emit(c, [], found, problems)
        return found, problems

    def _take_header(self, row_cells: list[_Cell]) -> None:
        """A picture-free row of words above the first picture row that names a name column."""
        shown = [c for c in row_cells if c.text]
        if len(shown) < 2 or not all(_is_word(c.text) for c in shown):
            return
        names = frozenset(c.col for c in shown if c.col is not None and _names_a_name(c.text))
        if names:
            self._name_cols = names

    def _emit(self, c: _Cell, texts: list[_Text], found: list[Found], problems: list[Problem]) -> None:
        if c.row is None or c.col is None:
            where = translate("piclist", "item {number}").format(number=c.number)
            context: dict[str, Any] = {"sheet": self._sheet}
        else:
            place = (
                cell_name(c.row, c.col) if self._sheet is None else cell_address(self._sheet, c.row, c.col)
            )
            where = translate("piclist", "cell {cell}").format(cell=place)
            caption = _choose_caption(texts, c.col, self._name_cols)
            context = {"sheet": self._sheet, "cell": place, "caption": caption}
        problems.extend(Problem(where, message) for message in c.unreadable)
        for picture in c.pictures:
            if (ref := make_ref(where, {**picture, **context}, problems)) is not None:
                found.append((where, ref))


def read_picture_cells(
    cells: Iterable[object], sheet: str | None = None
) -> tuple[list[Found], list[Problem]]:
    """The pictures of one response's cells and the problems of unreadable picture cells (``SheetCells``)."""
    return SheetCells(sheet).read(cells)
