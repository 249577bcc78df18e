"""``PictureBrowser.start()`` with a whole workbook: what it shows and what it queues, done cheaply.

start() runs on the GUI thread, so it was made lighter (lazy search text, Qt's own filter, no per-row
predicate without a filter, no garbage collection half-way). These tests pin down that the rows, their
order, the filter and the keeper's queue are exactly what the straightforward version gave.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence

import pytest
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.cache import ByteBudgetCache
from kdocs_viewer.core.contract import MAX_PICS_PER_CALL
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.lease_keeper import LeaseKeeper
from kdocs_viewer.gui.picture_filter import PictureFilterProxy
from kdocs_viewer.gui.picture_model import (
    PictureItem,
    PictureModel,
    RefRole,
    ThumbKey,
    collector_paused,
)
from kdocs_viewer.standin.server import StandinServer
from tests.gui.browser_helpers import grid_of, model_of, proxy_of

TAGS = ("local", "attachment", "cloud")


def workbook(count: int) -> list[PicRef]:
    """``count`` pictures over two sheets, some without caption or cell, plus duplicates of a few."""
    refs = []
    for i in range(count):
        sheet = "表一" if i % 2 else "Sheet2"
        refs.append(
            PicRef(
                f"key{i:05d}",
                TAGS[i % 3],
                sheet=sheet,
                cell=f"{sheet}!B{i + 2}" if i % 7 else "",
                caption=f"产品 {i} Photo" if i % 5 else "",
            )
        )
    return [*refs, refs[3], refs[count // 2], PicRef(refs[4].pic_key, refs[4].tag, caption="a later copy")]


def unique_in_order(refs: Sequence[PicRef]) -> list[PicRef]:
    seen: dict[tuple[str, str], PicRef] = {}
    for ref in refs:
        seen.setdefault(ref.ident, ref)
    return list(seen.values())


def old_search_text(ref: PicRef) -> str:
    """How search text was built for every row before it became lazy."""
    return " ".join(part for part in (ref.caption, ref.cell, ref.sheet, ref.pic_key) if part).casefold()


@pytest.fixture
def shown_browser(qtbot: QtBot, standin: StandinServer) -> Iterator[tuple[PictureBrowser, KDocsClient]]:
    browser = PictureBrowser()
    qtbot.addWidget(browser)
    browser.resize(900, 600)
    browser.show()
    qtbot.waitExposed(browser)
    client = KDocsClient("demo-token", standin.base_url)
    yield browser, client
    browser.shutdown()
    client.close()


@pytest.fixture
def keeper_starts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[PicRef], list[PicRef]]]:
    """What each LeaseKeeper.start() was given (recorded, then the real start runs)."""
    calls: list[tuple[list[PicRef], list[PicRef]]] = []
    real_start = LeaseKeeper.start

    def recording_start(self: LeaseKeeper, first: Sequence[PicRef], rest: Sequence[PicRef]) -> None:
        calls.append((list(first), list(rest)))
        real_start(self, first, rest)

    monkeypatch.setattr(LeaseKeeper, "start", recording_start)
    return calls


def shown_refs(browser: PictureBrowser) -> list[PicRef]:
    proxy = proxy_of(browser)
    return [proxy.index(row, 0).data(RefRole) for row in range(proxy.rowCount())]


def test_start_with_ten_thousand_rows_shows_and_queues_the_workbook_in_order(
    shown_browser: tuple[PictureBrowser, KDocsClient],
    keeper_starts: list[tuple[list[PicRef], list[PicRef]]],
) -> None:
    browser, client = shown_browser
    refs = workbook(10_000)
    expected = unique_in_order(refs)
    was_enabled = gc.isenabled()

    browser.start(client, "demo-workbook", refs)

    assert gc.isenabled() == was_enabled
    model = model_of(browser)
    assert model.rowCount() == len(expected) == 10_000
    assert model.refs() == expected  # duplicates keep their first occurrence, workbook order
    assert [item.order for item in model.items()] == list(range(10_000))
    assert all(model.row_of(item.ident) == row for row, item in enumerate(model.items()))
    assert model.item_for(refs[4].ident) is not None
    assert model.item_for(refs[4].ident).ref.caption == refs[4].caption  # type: ignore[union-attr]
    assert shown_refs(browser) == expected  # no filter: the proxy shows every row

    [(first, rest)] = keeper_starts
    visible, _ = grid_of(browser).visible_rows()
    assert visible.start == 0 and len(visible) < MAX_PICS_PER_CALL
    assert first == expected[:MAX_PICS_PER_CALL]  # the screen, topped up to one full call
    assert rest == expected[MAX_PICS_PER_CALL:]
    assert gc.get_freeze_count() > 10_000  # the rows left the collector's scans


def test_start_under_a_text_filter_queues_visible_then_matching_then_hidden_rows(
    shown_browser: tuple[PictureBrowser, KDocsClient],
    keeper_starts: list[tuple[list[PicRef], list[PicRef]]],
) -> None:
    browser, client = shown_browser
    proxy_of(browser).set_filter_text("photo")
    proxy_of(browser).set_tag("cloud")
    refs = workbook(3_000)
    expected = unique_in_order(refs)

    browser.start(client, "demo-workbook", refs)

    assert proxy_of(browser).is_filtering()  # the text stays; the tag choice starts again from "all kinds"
    matching = [ref for ref in expected if "photo" in old_search_text(ref)]
    hidden = [ref for ref in expected if ref not in set(matching)]
    assert shown_refs(browser) == matching
    [(first, rest)] = keeper_starts
    assert first == matching[:MAX_PICS_PER_CALL]
    assert rest == matching[MAX_PICS_PER_CALL:] + hidden


def test_the_sheets_the_pictures_name_become_a_filter(
    shown_browser: tuple[PictureBrowser, KDocsClient],
) -> None:
    browser, client = shown_browser
    combo = browser.findChild(QComboBox, "sheetFilter")
    assert isinstance(combo, QComboBox) and not combo.isVisibleTo(browser)  # nothing shown yet
    refs = workbook(40)
    browser.start(client, "demo-workbook", refs)
    names = [combo.itemText(i) for i in range(combo.count())]
    assert names == ["All sheets", "Sheet2", "表一"]  # in workbook order
    assert combo.isVisibleTo(browser)
    combo.setCurrentIndex(combo.findData("表一"))
    assert shown_refs(browser) == [ref for ref in unique_in_order(refs) if ref.sheet == "表一"]
    proxy_of(browser).set_filter_text("photo")
    assert shown_refs(browser) == [
        ref for ref in unique_in_order(refs) if ref.sheet == "表一" and "photo" in old_search_text(ref)
    ]

    browser.start(client, "demo-workbook", [PicRef("abc", "local")])  # a list that names no sheet
    assert not combo.isVisibleTo(browser) and combo.count() == 1
    assert shown_refs(browser) == []  # the text filter stays, the sheet choice does not
    proxy_of(browser).set_filter_text("")
    assert shown_refs(browser) == [PicRef("abc", "local")] and not proxy_of(browser).is_filtering()


def make_model(refs: Sequence[PicRef]) -> tuple[PictureModel, PictureFilterProxy]:
    cache: ByteBudgetCache[ThumbKey, QPixmap] = ByteBudgetCache(1 << 20, lambda _: 1)
    model = PictureModel(cache)
    proxy = PictureFilterProxy()
    proxy.setSourceModel(model)
    model.set_refs(refs)
    return model, proxy


def test_search_text_is_made_on_first_use_and_matches_the_old_rule() -> None:
    refs = workbook(40)
    model, _ = make_model(refs)
    for item in model.items():
        assert item._search_text is None  # not made by set_refs
        assert item.search_text == old_search_text(item.ref)
        assert item._search_text == item.search_text


TRICKY = [
    PicRef("k1", "local", sheet="S", cell="S!A1", caption="Price (USD) $5.00 [net] a+b*c?"),
    PicRef("k2", "local", sheet="S", cell="S!A2", caption="first line\nsecond LINE"),
    PicRef("k3", "cloud", sheet="Straße", cell="Straße!C3", caption="ΣΊΣΥΦΟΣ ß"),
    PicRef("k4", "attachment", caption="back\\slash ^anchor| pipe"),
    PicRef("local", "cloud", caption="key named like a tag"),
    PicRef("k6", "loc", caption="a tag that is a prefix of another"),
    PicRef("k7", "local.x", caption="a tag with a regex character"),
    PicRef("k8", "attachment", caption="emoji 📷 here"),
    PicRef("k9", "local", sheet="S\x1fx", cell="S\x1fx!A9", caption="a sheet name with the separator"),
]
FILTERS = [
    "",
    "(usd)",
    "$5.00",
    "[net]",
    "a+b*c?",
    "line\nsecond",
    "e\ns",
    "σίσυφος",
    "strasse",
    "\\slash ^anchor|",
    "local",
    "s!a",
    "📷",
    "nothing matches this",
    ".",
    "loc",
]


@pytest.mark.parametrize("tag", [None, "local", "cloud", "loc", "local.x", "attachment", "missing"])
@pytest.mark.parametrize("sheet", [None, "S", "Straße", "S\x1fx", "missing"])
def test_qt_filter_accepts_exactly_what_accepts_says(tag: str | None, sheet: str | None) -> None:
    model, proxy = make_model(TRICKY)
    for text in FILTERS:
        proxy.set_tag(tag)
        proxy.set_sheet(sheet)
        proxy.set_filter_text(text)
        shown = [proxy.index(row, 0).data(RefRole) for row in range(proxy.rowCount())]
        by_predicate = [item.ref for item in model.items() if proxy.accepts(item)]
        by_old_rule = [
            ref
            for ref in TRICKY
            if (tag is None or ref.tag == tag)
            and (sheet is None or ref.sheet == sheet)
            and text.strip().casefold() in old_search_text(ref)
        ]
        assert shown == by_predicate == by_old_rule, (tag, sheet, text)
        assert proxy.is_filtering() == (bool(text.strip()) or tag is not None or sheet is not None)


def test_collector_paused_restores_the_previous_state() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_picture_item_defaults() -> None:
    ref = PicRef("k", "local", caption="c")
    item = PictureItem(ref, 3)
    assert item.ident == ref.ident and item.order == 3
    assert item.lease is None and item.error == "" and item.thumb_bucket == 0
    assert item.byte_count is None and item.image_format == "" and item.pixel_size is None
    assert "k" in repr(item)
