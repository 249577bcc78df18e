"""The stand-in's workbook: sheets, cells and pictures (the bytes are made by :mod:`.images`).

Metadata (keys, tags, cells) is cheap and built up front, even for 10,000 pictures; image bytes are made
lazily on the first request, deterministic from (seed, index).

Demo workbook layout (every sheet): row 0 is a merged title over columns A–D, row 1 holds headers, each
following row has the picture in column A and its caption in column B, so "the nearest text cell in the same
row" is unambiguous. Pictures are spread over "Products" (~1/2), "Team" (~1/4) and "Receipts" (the rest).
Picture kinds cycle through JPEG, PNG with alpha, progressive JPEG, WebP, EXIF-rotated JPEG and animated GIF;
a workbook of at least ``TAIL_MIN_PICTURES`` pictures ends (last rows of "Receipts") with a 16×16 image,
one to three 4000×3000 phone photos, ONE corrupt image and ONE zero-byte image, in that order — so tests
that use the first pictures only ever see small, decodable images.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from kdocs_viewer.core.contract import STANDIN_TAGS
from kdocs_viewer.core.models import PicRef

KIND_JPEG = "jpeg"
KIND_JPEG_PROGRESSIVE = "jpeg-progressive"
KIND_JPEG_EXIF_ROTATED = "jpeg-exif-rotated"  # stored turned 90° CCW with EXIF Orientation=6
KIND_PNG_ALPHA = "png-alpha"
KIND_GIF = "gif"  # animated, a few frames
KIND_WEBP = "webp"
KIND_TINY = "tiny"  # 16×16 PNG
KIND_PHOTO = "photo"  # 4000×3000 (or 3000×4000) textured JPEG, ~3 MB
KIND_CORRUPT = "corrupt"  # garbage bytes served as image/jpeg
KIND_EMPTY = "empty"  # zero bytes served as image/png
KIND_FILE = "file"  # a real file of a dataset folder

COMMON_KINDS: tuple[str, ...] = (
    KIND_JPEG,
    KIND_PNG_ALPHA,
    KIND_JPEG_PROGRESSIVE,
    KIND_WEBP,
    KIND_JPEG_EXIF_ROTATED,
    KIND_GIF,
)
ALL_DEMO_KINDS: tuple[str, ...] = (*COMMON_KINDS, KIND_TINY, KIND_PHOTO, KIND_CORRUPT, KIND_EMPTY)
TAIL_MIN_PICTURES = 12  # smaller workbooks hold only common (small, decodable) kinds

CONTENT_TYPES: dict[str, str] = {
    KIND_JPEG: "image/jpeg",
    KIND_JPEG_PROGRESSIVE: "image/jpeg",
    KIND_JPEG_EXIF_ROTATED: "image/jpeg",
    KIND_PNG_ALPHA: "image/png",
    KIND_GIF: "image/gif",
    KIND_WEBP: "image/webp",
    KIND_TINY: "image/png",
    KIND_PHOTO: "image/jpeg",
    KIND_CORRUPT: "image/jpeg",
    KIND_EMPTY: "image/png",
}

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif"}
)
MANIFEST_NAMES = ("manifest.json", "manifest.csv")

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PIC_KEY_LENGTH = 22


# --------------------------------------------------------------------------------------------------- model
@dataclass(frozen=True, slots=True)
class Picture:
    """One picture of the workbook and what the server knows about it."""

    index: int
    pic_key: str
    tag: str
    kind: str
    sheet: str
    cell: str  # "Products!A3"
    caption: str
    width: int = 0  # as displayed (after EXIF rotation); 0 when unknown (dataset files)
    height: int = 0
    content_type: str = "application/octet-stream"
    source: Path | None = None  # dataset file

    def ref(self) -> PicRef:
        return PicRef(self.pic_key, self.tag, sheet=self.sheet, cell=self.cell, caption=self.caption)


@dataclass(slots=True)
class Cell:
    """A (possibly merged) cell; ``value`` is the raw value, ``text`` what the sheet shows."""

    row_from: int
    col_from: int
    text: str = ""
    value: str | int | float = ""
    num_format: str = "General"
    row_to: int = -1
    col_to: int = -1
    picture: Picture | None = None

    def __post_init__(self) -> None:
        if self.row_to < 0:
            self.row_to = self.row_from
        if self.col_to < 0:
            self.col_to = self.col_from


@dataclass
class Sheet:
    idx: int
    sheet_id: int
    name: str
    cells_by_row: dict[int, list[Cell]] = field(default_factory=dict)
    row_to: int = 0
    col_to: int = 0
    is_visible: bool = True
    sheet_type: str = "grid"  # [ours] the real value for `et` is undocumented

    def add(self, cell: Cell) -> None:
        self.cells_by_row.setdefault(cell.row_from, []).append(cell)
        self.row_to = max(self.row_to, cell.row_to)
        self.col_to = max(self.col_to, cell.col_to)

    def cells_in(self, row_from: int, row_to: int, col_from: int, col_to: int) -> list[Cell]:
        """Cells that intersect the inclusive range, in (row, column) order. Merges span one row only."""
        found: list[Cell] = []
        for row in range(max(row_from, 0), min(row_to, self.row_to) + 1):
            for cell in self.cells_by_row.get(row, ()):
                if cell.col_from <= col_to and cell.col_to >= col_from:
                    found.append(cell)
        return found


@dataclass
class Workbook:
    file_token: str
    sheets: list[Sheet]
    pictures: list[Picture]
    by_key: dict[str, Picture] = field(init=False)

    def __post_init__(self) -> None:
        self.by_key = {p.pic_key: p for p in self.pictures}

    def delete_picture(self, pic_key: str) -> None:
        """As a user deleting the picture in KDocs: its key is unknown from now on and its cell is gone
        (KeyError for an unknown key)."""
        picture = self.by_key.pop(pic_key)
        self.pictures.remove(picture)
        for sheet in self.sheets:
            for row, cells in sheet.cells_by_row.items():
                sheet.cells_by_row[row] = [cell for cell in cells if cell.picture is not picture]


def make_pic_key(seed: int, index: int, salt: str = "") -> str:
    """A 22-character base62 key that looks like a real one, deterministic from (seed, index)."""
    digest = hashlib.blake2b(f"kdocs-standin:{seed}:{index}:{salt}".encode(), digest_size=20).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(PIC_KEY_LENGTH):
        number, rem = divmod(number, 62)
        chars.append(_BASE62[rem])
    return "".join(chars)


def _unique_keys(seed: int, count: int) -> list[str]:
    # The key of the API documentation's example must stay unknown (the curl example expects an empty URL).
    taken = {"ravXFmauNdDdDnapWimCvn"}
    keys = []
    for index in range(count):
        key, salt = make_pic_key(seed, index), 0
        while key in taken:
            salt += 1
            key = make_pic_key(seed, index, str(salt))
        taken.add(key)
        keys.append(key)
    return keys


# ------------------------------------------------------------------------------------------ demo workbook
_COLOURS = [
    ("红色", "Red"),
    ("蓝色", "Blue"),
    ("青花", "Indigo"),
    ("墨绿", "Forest"),
    ("金色", "Golden"),
    ("白色", "White"),
    ("橙色", "Orange"),
    ("紫色", "Violet"),
    ("灰色", "Grey"),
    ("粉色", "Pink"),
]
_PRODUCTS = [
    ("茶杯", "tea cup", 38.0),
    ("保温杯", "thermos", 129.0),
    ("帆布包", "canvas bag", 89.0),
    ("台灯", "desk lamp", 199.0),
    ("雨伞", "umbrella", 59.9),
    ("笔记本", "notebook", 12.5),
    ("钢笔", "fountain pen", 168.0),
    ("耳机", "headphones", 399.0),
    ("键盘", "keyboard", 259.0),
    ("鼠标", "mouse", 79.0),
    ("抱枕", "cushion", 45.0),
    ("花瓶", "vase", 88.0),
    ("围巾", "scarf", 139.0),
    ("运动鞋", "sneakers", 459.0),
    ("背包", "backpack", 299.0),
    ("手表", "watch", 899.0),
    ("茶壶", "teapot", 158.0),
    ("相框", "photo frame", 35.0),
    ("蜡烛", "candle", 29.0),
    ("拖鞋", "slippers", 49.0),
]
_NOTES = [
    "新品 new arrival",
    "热销 best seller",
    "限量 limited",
    "补货中 restocking",
    "",
    "清仓 clearance",
    "含税 tax incl.",
    "预售 pre-order",
]
_SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭"]
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
]
_EN_NAMES = [
    "Alice Chen",
    "Bob Li",
    "Carol Wang",
    "David Zhang",
    "Emma Liu",
    "Frank Zhou",
    "Grace Wu",
    "Henry Xu",
    "Iris Sun",
    "Jack Ma",
]
_ROLES = ["设计师 Designer", "工程师 Engineer", "产品经理 PM", "销售 Sales", "财务 Finance", "客服 Support"]
_CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "珠海"]
_VENDORS = [
    "全家 FamilyMart",
    "星巴克 Starbucks",
    "滴滴出行 DiDi",
    "京东 JD.com",
    "美团 Meituan",
    "盒马 Freshippo",
    "中国国航 Air China",
    "汉庭酒店 Hanting Hotel",
    "顺丰 SF Express",
]

SHEET_TITLES = {
    "Products": "产品目录 Product catalogue",
    "Team": "团队 Team members",
    "Receipts": "报销单据 Expense receipts",
}
SHEET_HEADERS = {
    "Products": ["Photo", "Product", "Price", "Notes"],
    "Team": ["Photo", "Name", "Role", "City"],
    "Receipts": ["Receipt", "Vendor", "Date", "Amount"],
    "Photos": ["Photo", "Caption", "File", "Tag"],
}
FIRST_DATA_ROW = 2
_EXCEL_EPOCH_2024 = 45292  # serial number of 2024-01-01


def _kinds_for(count: int) -> list[str]:
    kinds = [COMMON_KINDS[i % len(COMMON_KINDS)] for i in range(count)]
    if count >= TAIL_MIN_PICTURES:
        photos = 1 if count < 60 else 3
        tail = [KIND_TINY] + [KIND_PHOTO] * photos + [KIND_CORRUPT, KIND_EMPTY]
        kinds[count - len(tail) :] = tail
    return kinds


def _sheet_sizes(count: int) -> list[int]:
    products = math.ceil(count / 2)
    team = count // 4
    return [products, team, count - products - team]


def _size_for(kind: str, rng: random.Random) -> tuple[int, int]:
    if kind == KIND_TINY:
        return 16, 16
    if kind == KIND_PHOTO:
        return rng.choice([(4000, 3000), (4000, 3000), (3000, 4000)])
    if kind == KIND_GIF:
        longest = rng.choice([120, 200, 320, 400])
    else:
        longest = rng.choice([96, 240, 320, 480, 640, 800, 1024, 1280, 1600])
    aw, ah = rng.choice([(4, 3), (3, 4), (1, 1), (16, 9), (3, 2), (2, 3)])
    if aw >= ah:
        return longest, max(1, longest * ah // aw)
    return max(1, longest * aw // ah), longest


def build_demo_workbook(file_token: str, count: int, seed: int) -> Workbook:
    """The generated demo workbook: deterministic for (count, seed), cheap even for 10,000 pictures."""
    keys = _unique_keys(seed, count)
    kinds = _kinds_for(count)
    sheets: list[Sheet] = []
    pictures: list[Picture] = []
    index = 0
    for sheet_idx, (name, size) in enumerate(
        zip(("Products", "Team", "Receipts"), _sheet_sizes(count), strict=True)
    ):
        sheet = Sheet(idx=sheet_idx, sheet_id=sheet_idx + 1, name=name)
        sheet.add(Cell(0, 0, text=SHEET_TITLES[name], value=SHEET_TITLES[name], col_to=3))
        for col, header in enumerate(SHEET_HEADERS[name]):
            sheet.add(Cell(1, col, text=header, value=header))
        for offset in range(size):
            row = FIRST_DATA_ROW + offset
            rng = random.Random(f"row:{seed}:{index}")
            texts = _row_texts(name, rng, index)
            kind = kinds[index]
            width, height = _size_for(kind, rng)
            caption = texts[0][0]
            picture = Picture(
                index=index,
                pic_key=keys[index],
                tag=STANDIN_TAGS[(index + seed) % len(STANDIN_TAGS)],
                kind=kind,
                sheet=name,
                cell=f"{name}!A{row + 1}",
                caption=caption,
                width=width,
                height=height,
                content_type=CONTENT_TYPES[kind],
            )
            pictures.append(picture)
            sheet.add(Cell(row, 0, picture=picture))
            for col, (text, value, num_format) in enumerate(texts, start=1):
                if text:
                    sheet.add(Cell(row, col, text=text, value=value, num_format=num_format))
            index += 1
        if name == "Receipts" and size:
            total_row = FIRST_DATA_ROW + size
            total = sum(
                float(c.value)
                for cells in sheet.cells_by_row.values()
                for c in cells
                if c.col_from == 3 and isinstance(c.value, float)
            )
            sheet.add(Cell(total_row, 1, text="合计 Total", value="合计 Total"))
            sheet.add(
                Cell(total_row, 3, text=f"¥{total:,.2f}", value=round(total, 2), num_format="¥#,##0.00")
            )
        sheets.append(sheet)
    return Workbook(file_token=file_token, sheets=sheets, pictures=pictures)


CellText = tuple[str, str | int | float, str]


def _row_texts(sheet: str, rng: random.Random, index: int) -> list[CellText]:
    """Columns B.. of one row: (shown text, raw value, number format). Column B is the caption."""
    if sheet == "Products":
        zh_colour, en_colour = rng.choice(_COLOURS)
        zh_item, en_item, price = rng.choice(_PRODUCTS)
        name = f"{zh_colour}{zh_item}" if index % 2 == 0 else f"{en_colour} {en_item}"
        price = round(price * rng.choice([0.8, 0.9, 1.0, 1.0, 1.2]), 2)
        return [
            (name, name, "General"),
            (f"¥{price:,.2f}", price, "¥#,##0.00"),
            (note := rng.choice(_NOTES), note, "General"),
        ]
    if sheet == "Team":
        if index % 3 == 2:
            name = rng.choice(_EN_NAMES)
        else:
            name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice([1, 2])))
        role, city = rng.choice(_ROLES), rng.choice(_CITIES)
        return [(name, name, "General"), (role, role, "General"), (city, city, "General")]
    vendor = rng.choice(_VENDORS)
    serial = _EXCEL_EPOCH_2024 + rng.randrange(0, 366)
    day = _date_text(serial)
    amount = round(rng.uniform(8, 2400), 2)
    return [
        (vendor, vendor, "General"),
        (day, serial, "yyyy-mm-dd"),
        (f"¥{amount:,.2f}", amount, "¥#,##0.00"),
    ]


def _date_text(serial: int) -> str:
    import datetime

    return (datetime.date(1899, 12, 30) + datetime.timedelta(days=serial)).isoformat()


# ----------------------------------------------------------------------------------------- folder dataset
@dataclass(frozen=True)
class _FileEntry:
    path: Path
    tag: str | None
    caption: str | None


def _read_manifest(folder: Path) -> dict[str, tuple[str | None, str | None]]:
    """file name → (tag, caption) from manifest.json or manifest.csv; ValueError with the place of a fault."""
    json_path, csv_path = folder / MANIFEST_NAMES[0], folder / MANIFEST_NAMES[1]
    entries: dict[str, tuple[str | None, str | None]] = {}
    if json_path.is_file():
        try:
            data = json.loads(json_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{json_path.name}: not valid JSON ({exc})") from None
        if isinstance(data, dict) and isinstance(data.get("pictures"), list):
            data = data["pictures"]
        if isinstance(data, dict):
            for name, meta in data.items():
                if isinstance(meta, str):
                    entries[name] = (meta, None)
                elif isinstance(meta, dict):
                    entries[name] = (_opt_str(meta.get("tag")), _opt_str(meta.get("caption")))
                else:
                    raise ValueError(f"{json_path.name}: entry {name!r} must be a tag or an object")
        elif isinstance(data, list):
            for number, item in enumerate(data, start=1):
                name = (
                    item.get("file") or item.get("name") or item.get("filename")
                    if isinstance(item, dict)
                    else None
                )
                if not isinstance(name, str) or not isinstance(item, dict):
                    raise ValueError(f'{json_path.name}: item {number} needs a "file" name')
                entries[name] = (_opt_str(item.get("tag")), _opt_str(item.get("caption")))
        else:
            raise ValueError(f"{json_path.name}: expected an object or a list")
    elif csv_path.is_file():
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = {f.strip().lower(): f for f in reader.fieldnames or []}
            file_col = next((fields[n] for n in ("file", "filename", "name") if n in fields), None)
            if file_col is None:
                raise ValueError(f"{csv_path.name}: line 1: needs a 'file' column")
            for row in reader:
                name = (row.get(file_col) or "").strip()
                if not name:
                    raise ValueError(f"{csv_path.name}: line {reader.line_num}: missing file name")
                tag = (row.get(fields.get("tag", ""), "") or "").strip() or None
                caption = (row.get(fields.get("caption", ""), "") or "").strip() or None
                entries[name] = (tag, caption)
    for name in entries:
        if not (folder / name).is_file():
            raise ValueError(f"manifest names {name!r}, which is not a file in {folder}")
    return entries


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def build_folder_workbook(file_token: str, folder: Path, count: int, seed: int) -> Workbook:
    """A one-sheet workbook over the image files of ``folder`` (sorted by name).

    Tags and captions come from the manifest when it names the file, else tags go round-robin over
    STANDIN_TAGS and the caption is the file stem. ``count`` > number of files cycles through them (copies
    get their own pic_key and a " (2)", " (3)"… caption suffix); ``count`` = 0 serves each file once.
    """
    if not folder.is_dir():
        raise ValueError(f"dataset folder {folder} does not exist")
    manifest = _read_manifest(folder)
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
        key=lambda p: p.name,
    )
    if not files:
        raise ValueError(f"dataset folder {folder} holds no image files")
    entries = [_FileEntry(p, *manifest.get(p.name, (None, None))) for p in files]
    count = count or len(entries)
    keys = _unique_keys(seed, count)
    sheet = Sheet(idx=0, sheet_id=1, name="Photos")
    sheet.add(Cell(0, 0, text=f"照片 Photos — {folder.name}", value=f"照片 Photos — {folder.name}", col_to=3))
    for col, header in enumerate(SHEET_HEADERS["Photos"]):
        sheet.add(Cell(1, col, text=header, value=header))
    pictures = []
    for index in range(count):
        entry = entries[index % len(entries)]
        copy = index // len(entries)
        caption = entry.caption or entry.path.stem
        if copy:
            caption = f"{caption} ({copy + 1})"
        tag = entry.tag or STANDIN_TAGS[index % len(STANDIN_TAGS)]
        row = FIRST_DATA_ROW + index
        picture = Picture(
            index=index,
            pic_key=keys[index],
            tag=tag,
            kind=KIND_FILE,
            sheet=sheet.name,
            cell=f"{sheet.name}!A{row + 1}",
            caption=caption,
            content_type=_content_type_of(entry.path),
            source=entry.path,
        )
        pictures.append(picture)
        sheet.add(Cell(row, 0, picture=picture))
        for col, text in enumerate((caption, entry.path.name, tag), start=1):
            sheet.add(Cell(row, col, text=text, value=text))
    return Workbook(file_token=file_token, sheets=[sheet], pictures=pictures)


_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
_BY_SUFFIX = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
}


def _content_type_of(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        head = b""
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return _BY_SUFFIX.get(path.suffix.lower(), "application/octet-stream")
