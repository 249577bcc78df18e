"""Picture cells: every known shape, the one caption rule, unreadable cells named — and "Find pictures" and a
pasted cells response agreeing on the same workbook (the stand-in's, over loopback)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.cells import (
    SheetCells,
    cell_address,
    column_letters,
    read_picture_cells,
)
from kdocs_viewer.core.contract import CELLS_PATH, STANDIN_TAGS
from kdocs_viewer.core.models import PicRef, Problem
from kdocs_viewer.core.piclist import PicListError, parse_pic_list
from kdocs_viewer.standin.config import CELL_SHAPES
from kdocs_viewer.standin.server import StandinServer


@pytest.mark.parametrize(
    ("col", "letters"), [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"), (51, "AZ"), (52, "BA"),
                         (701, "ZZ"), (702, "AAA"), (16383, "XFD")]
)  # fmt: skip
def test_column_letters(col: int, letters: str) -> None:
    assert column_letters(col) == letters


def test_cell_address_is_one_based_rows() -> None:
    assert cell_address("Products", 6, 2) == "Products!C7"
    assert cell_address("表1", 0, 0) == "表1!A1"
    with pytest.raises(ValueError):
        column_letters(-1)


def _cell(row: int, col: int, **fields: Any) -> dict[str, Any]:
    return {"row_from": row, "row_to": row, "col_from": col, "col_to": col, **fields}


def _pic(row: int, col: int, key: str, tag: str = "attachment") -> dict[str, Any]:
    return _cell(row, col, cell_text="", pic_key=key, tag=tag)


def _row(row: int, *texts: str | None) -> list[dict[str, Any]]:
    """One row: a text per column, ``None`` for an empty cell, ``"PIC:key"`` for a picture."""
    cells = []
    for col, text in enumerate(texts):
        if text is None:
            continue
        if text.startswith("PIC:"):
            cells.append(_pic(row, col, text[4:]))
        else:
            cells.append(_cell(row, col, cell_text=text))
    return cells


def captions(cells: list[dict[str, Any]], sheet: str | None = None) -> dict[str, str | None]:
    found, problems = read_picture_cells(cells, sheet)
    assert problems == []
    return {ref.pic_key: ref.caption for _, ref in found}


def full(ref: PicRef) -> tuple[str, str, str | None, str | None, str | None]:
    return (ref.pic_key, ref.tag, ref.sheet, ref.cell, ref.caption)


# ---- the caption rule -------------------------------------------------------------------------------------


def test_nested_keys_tags_and_captions() -> None:
    cells = [
        _cell(0, 0, cell_text="Title", row_to=0, col_to=3),
        _cell(2, 1, cell_text="Left caption"),
        _cell(2, 2, cell_text="", extra={"image": {"pic_key": "K1", "tag": "local"}}),
        _cell(2, 3, cell_text="Right caption"),
        _cell(3, 0, cell_text="12.50"),
        _cell(3, 1, pics=[{"pic_key": "K2", "tag": "cloud"}, {"pic_key": "K3"}], tag="attachment"),
        _cell(3, 2, cell_text="A name"),
        _cell(4, 27, pic_key="K4", tag="attachment"),
        _cell(4, 29, original_cell_value=42),
        _cell(5, 0, pic_key="", tag="local", cell_text="not a picture"),
    ]
    found, problems = read_picture_cells(cells, "Sheet 1")
    assert problems == []
    assert [full(ref) for _, ref in found] == [
        ("K1", "local", "Sheet 1", "Sheet 1!C3", "Left caption"),  # left wins over right
        ("K2", "cloud", "Sheet 1", "Sheet 1!B4", "A name"),  # a word beats the nearer number on the left
        ("K3", "attachment", "Sheet 1", "Sheet 1!B4", "A name"),  # tag found elsewhere in the cell object
        ("K4", "attachment", "Sheet 1", "Sheet 1!AB5", "42"),  # only a number: better than nothing
    ]
    assert [where for where, _ in found] == ["cell Sheet 1!C3", "cell Sheet 1!B4", "cell Sheet 1!B4",
                                             "cell Sheet 1!AB5"]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (("a", None, "PIC:k", "b"), "a"),  # the nearest on the left, even when the right one is as near
        ((None, None, "PIC:k", "b", None, "c"), "b"),  # nothing on the left: the nearest on the right
        ((None, "9.5", "PIC:k", None, "word"), "word"),  # a word, however far, before a number
        ((None, "¥1,234.00", "PIC:k", None, "50%"), "¥1,234.00"),  # only numbers: the left one
        (("2024-03-05", "PIC:k", "全家 FamilyMart", "¥35.50"), "全家 FamilyMart"),  # a date is no word
        (("PIC:k",), None),
    ],
)
def test_caption_rule_within_a_row(row: tuple[str | None, ...], expected: str | None) -> None:
    assert captions(_row(5, *row)) == {"k": expected}


def test_product_list_without_a_header_skips_prices_and_serial_numbers() -> None:
    """A pasted range of data rows only (no header): the name is found whichever side of the picture it is."""
    cells = [
        *_row(3, "1", "PIC:p1", "青花茶杯", "¥38.00"),  # No. | picture | name | price
        *_row(4, "保温杯", "¥129.00", "PIC:p2"),  # name | price | picture: not the nearer price
        *_row(5, "PIC:p3", "Canvas bag", "89", "新品"),
    ]
    assert captions(cells) == {"p1": "青花茶杯", "p2": "保温杯", "p3": "Canvas bag"}


def test_header_row_names_the_name_column() -> None:
    """A specification or notes column next to the picture does not win over the column headed 名称."""
    cells = [
        _cell(0, 0, cell_text="2024 春季新品目录", col_to=5),  # a merged title over the table
        *_row(1, "序号", "商品名称", "单价", "规格", "图片", "备注"),
        *_row(2, "1", "青花茶杯", "¥38.00", "200ml 陶瓷", "PIC:p1", "新品"),
        *_row(3, "2", "1024", "¥129.00", "500ml", "PIC:p2", None),  # a name that looks like a number
        *_row(4, "3", None, "¥12.50", "A5 横线", "PIC:p3", "补货中"),  # no name: the rule goes on
    ]
    assert captions(cells) == {"p1": "青花茶杯", "p2": "1024", "p3": "A5 横线"}
    # Without the header row the nearest word on the left is the specification.
    assert captions(cells[7:]) == {"p1": "200ml 陶瓷", "p2": "500ml", "p3": "A5 横线"}


@pytest.mark.parametrize(
    "header",
    [
        ("部门", "姓名", "职位", "照片"),
        ("Team", "Full name", "Role", "Photo"),
        ("Notes", "Product 产品", "Spec", ""),
    ],
)
def test_name_headers_in_either_language(header: tuple[str, ...]) -> None:
    cells = [*_row(0, *(h or None for h in header)), *_row(1, "设计部", "王伟", "Designer", "PIC:k")]
    assert captions(cells) == {"k": "王伟"}
    assert captions(cells[len(_row(0, *(h or None for h in header))) :]) == {"k": "Designer"}


def test_rows_that_are_not_headers() -> None:
    # A row with a number or a single text is not a header, nor is any row below the first picture.
    data = _row(1, None, "Spec", "PIC:k", "Full name")
    for above in (_row(0, "2024", None, None, "名称"), _row(0, None, None, None, "产品名称")):
        assert captions([*above, *data]) == {"k": "Spec"}
    assert captions([*_row(0, "Code", None, None, "名称"), *data]) == {"k": "Full name"}
    later = [*data, *_row(2, "x", "y", "照片", "名称"), *_row(3, None, "S", "PIC:b", "Lamp")]
    assert captions(later) == {"k": "Spec", "b": "S"}


def test_merged_cells() -> None:
    cells = [
        *_row(1, "类别", "图片", "型号"),  # no name column here
        _cell(2, 0, cell_text="杯具 Cups", row_to=4),  # a category merged over three rows
        *_row(2, None, "PIC:c1", "CUP-01"),
        *_row(3, None, "PIC:c2", "CUP-02"),
        _pic(4, 1, "c3"),  # no model text: the category is better than nothing
        _cell(5, 0, cell_text="Desk lamp", col_to=1),  # a name merged over two columns, left of the picture
        _pic(5, 2, "c4"),
        _cell(5, 3, cell_text="Notes"),
        _pic(6, 1, "c5") | {"row_to": 7},  # a picture and its name each merged over two rows
        _cell(6, 2, cell_text="Tall vase", row_to=7),
        *_row(7, "Other"),
    ]
    assert captions(cells) == {
        "c1": "CUP-01", "c2": "CUP-02", "c3": "杯具 Cups", "c4": "Desk lamp", "c5": "Tall vase",
    }  # fmt: skip


def test_bands_of_one_sheet_share_the_header_and_count_a_merged_cell_once() -> None:
    reader = SheetCells("Products")
    tall = _pic(1, 0, "a") | {"row_to": 2}  # merged over rows 2–3: read with both bands
    first, _ = reader.read([*_row(0, "Photo", "Spec", "Name"), tall, *_row(1, None, "10 cm", "Cup")])
    second, _ = reader.read([tall, *_row(3, "PIC:b", "Blue", "Lamp")])
    assert [(ref.pic_key, ref.cell, ref.caption) for _, ref in first + second] == [
        ("a", "Products!A2", "Cup"),
        ("b", "Products!A4", "Lamp"),  # the header of the first band names column C
    ]


# ---- the DISPIMG shape (kdocs-api.md §2b) -----------------------------------------------------------------


def _dispimg(row: int, col: int, **fields: Any) -> dict[str, Any]:
    return _cell(row, col, cell_text='=DISPIMG("ID_0A1B2C",1)', is_cell_pic=True, **fields)


def test_dispimg_cells_snake_and_camel_case() -> None:
    cells = [
        _cell(2, 0, cell_text="Red cup", is_cell_pic=False, pic_data="", sha1="", tag=""),
        _dispimg(2, 1, pic_data="online-id", sha1="", tag="attachment"),
        _dispimg(3, 1, pic_data="", sha1="3f786850e387550fdab836ed7e6dc881de23001b", tag="local"),
        {"rowFrom": 4, "colFrom": 1, "cellText": '=DISPIMG("ID_9",1)', "isCellPic": True, "picData": "p4",
         "tag": "url"},
        {"rowFrom": 4, "colFrom": 2, "cellText": "Camel name", "isCellPic": False},
        _dispimg(5, 1, pic_key="the-key", pic_data="other", tag="cloud"),  # a pic_key wins
        _cell(6, 1, sha1="s6", tag="local"),  # no flag, no formula: the id alone says picture
        _cell(7, 1, cell_text='=DISPIMG("ID_7",1)', is_cell_pic="false", sha1="s7", tag="local"),
    ]  # fmt: skip
    found, problems = read_picture_cells(cells)
    assert problems == []
    assert [full(ref) for _, ref in found] == [
        ("online-id", "attachment", None, "B3", "Red cup"),
        ("3f786850e387550fdab836ed7e6dc881de23001b", "local", None, "B4", None),
        ("p4", "url", None, "B5", "Camel name"),  # and never the =DISPIMG formula as a caption
        ("the-key", "cloud", None, "B6", None),
        ("s6", "local", None, "B7", None),
    ]


def test_unreadable_picture_cells_are_named_not_dropped() -> None:
    cells = [
        _dispimg(2, 1, pic_data="", sha1="", tag="attachment"),
        {"rowFrom": 3, "colFrom": 1, "isCellPic": True, "picData": 12, "tag": "local"},
        {"rowFrom": 4, "colFrom": 1, "isCellPic": True, "tag": "local"},
        _dispimg(5, 1, sha1="abc"),  # no tag
        _cell(6, 1, pic_key=7, tag="local"),
        _dispimg(7, 1, pic_data="fine", tag="attachment"),
    ]
    found, problems = read_picture_cells(cells, "Products")
    assert [ref.pic_key for _, ref in found] == ["fine"]
    assert problems == [
        Problem("cell Products!B3", "picture 'ID_0A1B2C' has no pic_key, pic_data or sha1: its download "
                                    "link cannot be asked for"),
        Problem("cell Products!B4", "picData must be a string, got 12"),
        Problem("cell Products!B5", "a picture cell without picKey, picData or sha1: its download link "
                                    "cannot be asked for"),
        Problem("cell Products!B6", "missing tag after pic_key 'abc'"),
        Problem("cell Products!B7", "pic_key must be a non-empty string, got 7"),
    ]  # fmt: skip


def test_a_pasted_range_response_in_the_dispimg_shape() -> None:
    body = {"code": 0, "data": {"range_data": [
        _cell(0, 0, cell_text="名称", is_cell_pic=False), _cell(0, 1, cell_text="价格", is_cell_pic=False),
        _cell(0, 2, cell_text="图片", is_cell_pic=False),
        _cell(1, 0, cell_text="台灯", is_cell_pic=False), _cell(1, 1, cell_text="¥199.00", is_cell_pic=False),
        _dispimg(1, 2, sha1="k1", tag="local"),
    ]}}  # fmt: skip
    result = parse_pic_list(json.dumps(body, ensure_ascii=False))
    assert result.format == "cells"
    assert [full(r) for r in result.pics] == [("k1", "local", None, "C2", "台灯")]
    camel = [{"rowFrom": 1, "colFrom": 0, "cellText": "Lamp"}, {"rowFrom": 1, "colFrom": 1, "isCellPic": True,
             "cellText": '=DISPIMG("ID_1",1)', "picData": "k2", "tag": "attachment"}]  # fmt: skip
    assert [full(r) for r in parse_pic_list(json.dumps(camel)).pics] == [
        ("k2", "attachment", None, "B2", "Lamp")
    ]
    with pytest.raises(PicListError) as info:
        parse_pic_list(json.dumps({"cells": [_dispimg(1, 2, tag="local")]}))
    assert [str(p) for p in info.value.problems] == [
        "cell C2: picture 'ID_0A1B2C' has no pic_key, pic_data or sha1: its download link cannot be asked for"
    ]


# ---- one workbook, two paths ------------------------------------------------------------------------------


def _pasted(standin: StandinServer, client: KDocsClient) -> list[PicRef]:
    """Each sheet's cells response, fetched raw as a user would copy it, read by the pic-list parser."""
    pics: list[PicRef] = []
    for sheet in client.list_sheets(standin.workbook.file_token):
        path = CELLS_PATH.format(file_token=standin.workbook.file_token, sheet_idx=sheet.sheet_idx)
        params = {"access_token": "demo-token", "row_from": sheet.row_from, "row_to": sheet.row_to,
                  "col_from": sheet.col_from, "col_to": sheet.col_to}  # fmt: skip
        reply = httpx.get(standin.base_url + path, params=params, timeout=10)
        assert reply.status_code == 200
        pics += [
            PicRef(r.pic_key, r.tag, sheet=sheet.name, cell=f"{sheet.name}!{r.cell}", caption=r.caption)
            for r in parse_pic_list(reply.text).pics
        ]
    return pics


@pytest.mark.parametrize("shape", CELL_SHAPES)
def test_find_pictures_and_a_pasted_cells_response_agree(
    standin_factory: Callable[..., StandinServer], shape: str
) -> None:
    standin = standin_factory(pictures=40, cell_shape=shape)
    with KDocsClient("demo-token", standin.base_url) as client:
        found = client.find_pictures(standin.workbook.file_token)
        pasted = _pasted(standin, client)
    assert found.problems == []
    expected = [full(ref) for ref in standin.pictures()]
    assert [full(ref) for ref in found.pics] == expected
    assert [full(ref) for ref in pasted] == expected
    assert {ref.tag for ref in found.pics} == set(STANDIN_TAGS)


def test_the_stand_in_serves_the_dispimg_shape(standin_factory: Callable[..., StandinServer]) -> None:
    standin = standin_factory(pictures=6, cell_shape="mixed")
    with KDocsClient("demo-token", standin.base_url) as client:
        cells = client.read_cells(standin.workbook.file_token, 0, 0, 5, 0, 3)
    flat, snake, camel = (c for c in cells if "pic_key" in c or c.get("is_cell_pic") or c.get("isCellPic"))
    first, second, third = standin.pictures()[:3]
    assert (flat["pic_key"], flat["tag"], "is_cell_pic" in flat) == (first.pic_key, first.tag, False)
    key_field = "sha1" if second.tag == "local" else "pic_data"
    assert snake[key_field] == second.pic_key and snake["tag"] == second.tag and "pic_key" not in snake
    assert snake["cell_text"].startswith('=DISPIMG("ID_') and snake["cell_text"].endswith('",1)')
    key_field = "sha1" if third.tag == "local" else "picData"
    assert camel[key_field] == third.pic_key and camel["isCellPic"] is True and camel["rowFrom"] == 4
    assert not any("_" in name for name in camel)
