"""core.files: the user and their workbooks against the stand-in, the lenient item reader, local search,
and share links."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.files import (
    FileItem,
    FilePage,
    collect,
    distinct_pages,
    filter_items,
    find_by_link,
    get_user,
    is_spreadsheet_name,
    list_recent,
    list_spreadsheets,
    pages,
    share_link_explanation,
    share_link_id,
)
from kdocs_viewer.standin.oauth import DEMO_WORKBOOK_NAME, USER_NICKNAME
from kdocs_viewer.standin.server import StandinServer

Factory = Callable[..., StandinServer]


# ---- against the stand-in ----------------------------------------------------------------------------------


@pytest.fixture
def server(standin_factory: Factory) -> StandinServer:
    return standin_factory(workbooks=12)


@pytest.fixture
def client(server: StandinServer) -> Iterator[KDocsClient]:
    with KDocsClient("demo-token", server.base_url) as client:
        yield client


def test_the_signed_in_user(client: KDocsClient) -> None:
    user = get_user(client)
    assert user.nickname == USER_NICKNAME
    assert user.user_id and user.user_id.startswith("o-")


def test_all_spreadsheets_page_by_page(server: StandinServer, client: KDocsClient) -> None:
    seen_pages = list(pages(lambda offset: list_spreadsheets(client, offset=offset, count=4)))
    assert [len(p.items) for p in seen_pages][:-1] == [4] * (len(seen_pages) - 1)
    assert seen_pages[-1].next_offset is None
    items = [item for page in seen_pages for item in page.items]
    own = [f for f in server.user_files() if f.ftype == "file" and is_spreadsheet_name(f.name)]
    assert [i.file_token for i in items] == [f.file_token for f in own]
    assert all(i.is_spreadsheet and not i.shared and i.mtime for i in items)
    assert items[0].name == DEMO_WORKBOOK_NAME and items[0].file_token == "demo-workbook"
    assert collect(lambda offset: list_spreadsheets(client, offset=offset, count=4)) == items


def test_recent_files_include_shared_ones_and_other_documents(
    server: StandinServer, client: KDocsClient
) -> None:
    items = collect(lambda offset: list_recent(client, offset=offset))
    assert len(items) == len(server.user_files())
    assert any(i.shared for i in items) and any(not i.is_spreadsheet for i in items)
    demo = next(i for i in items if i.file_token == "demo-workbook")
    assert demo.link_id and find_by_link(items, demo.link_id) == demo
    record = demo.as_json()
    assert record["file_token"] == "demo-workbook" and record["name"] == DEMO_WORKBOOK_NAME
    assert isinstance(record["mtime"], str) and record["mtime"].endswith("Z")


def test_cancel_stops_paging(client: KDocsClient) -> None:
    cancel = threading.Event()
    fetched: list[int] = []

    def fetch(offset: int) -> FilePage:
        fetched.append(offset)
        cancel.set()  # the user closes the picker while the first page loads
        return list_recent(client, offset=offset, count=2)

    assert len(collect(fetch, cancel=cancel)) == 2
    assert fetched == [0]


def test_a_file_that_moves_while_the_list_is_paged_is_listed_once() -> None:
    a, b, c = (FileItem(token, f"{token}.xlsx") for token in ("a", "b", "c"))
    listing = {0: FilePage([a, b], 0, 2), 2: FilePage([a, c], 2, None)}  # "a" edited between the pages
    found = list(distinct_pages(pages(lambda offset: listing[offset])))
    assert [[i.file_token for i in page.items] for page in found] == [["a", "b"], ["c"]]
    assert [(page.offset, page.next_offset) for page in found] == [(0, 2), (2, None)]
    assert collect(lambda offset: listing[offset]) == [a, b, c]


def test_page_arguments_are_checked(client: KDocsClient) -> None:
    for kwargs in ({"count": 0}, {"count": 101}, {"offset": -1}):
        with pytest.raises(ValueError):
            list_recent(client, **kwargs)  # type: ignore[arg-type]


# ---- item shapes of another server -------------------------------------------------------------------------


def files_server(items: list[object]) -> KDocsClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": 0, "data": {"files": items}})

    return KDocsClient("t", "https://api.example", transport=httpx.MockTransport(handler))


def test_items_are_read_leniently_and_unreadable_ones_counted() -> None:
    client = files_server(
        [
            {"id": "plain-token", "fname": "a.xlsx", "mtime": 1_700_000_000_000, "fsize": "12"},
            {"id": {"union_id": "u-1"}, "name": "b.et", "mtime": "1700000000", "type": "sharefile"},
            {"file_id": 42, "fname": "c.xls", "link_url": "https://www.kdocs.cn/l/cabc123"},
            {"id": {"open_id": "no-name"}},
            {"fname": "no-token.xlsx"},
            "garbage",
        ]
    )
    page = list_recent(client, count=100)
    assert page.skipped == 3 and page.next_offset is None
    a, b, c = page.items
    assert (a.file_token, a.mtime, a.size) == ("plain-token", 1_700_000_000.0, 12)  # milliseconds → seconds
    assert (b.file_token, b.name, b.mtime, b.shared) == ("u-1", "b.et", 1_700_000_000.0, True)
    assert (c.file_token, c.link_id, c.mtime) == ("42", "cabc123", None)
    assert c.as_json()["mtime"] is None


def test_a_full_page_means_there_may_be_more() -> None:
    client = files_server([{"id": str(i), "fname": f"{i}.xlsx"} for i in range(3)])
    page = list_spreadsheets(client, count=3, offset=6)
    assert page.next_offset == 9


def test_the_flat_list_keeps_only_the_asked_extensions() -> None:
    client = files_server([{"id": "1", "fname": "a.xlsx"}, {"id": "2", "fname": "b.docx"}])
    assert [i.name for i in list_spreadsheets(client).items] == ["a.xlsx"]


# ---- local search and share links --------------------------------------------------------------------------


def test_local_search_matches_every_word_in_any_case() -> None:
    items = [
        FileItem("1", "2024年销售报表 Sales 2024.xlsx"),
        FileItem("2", "Team roster.et"),
        FileItem("3", "SALES.xls"),
    ]
    assert [i.file_token for i in filter_items(items, "sales")] == ["1", "3"]
    assert [i.file_token for i in filter_items(items, "销售 2024")] == ["1"]
    assert filter_items(items, "  ") == items
    assert filter_items(items, "nothing") == []


@pytest.mark.parametrize(
    ("text", "link_id"),
    [
        ("https://www.kdocs.cn/l/cqAbC12_x-Y", "cqAbC12_x-Y"),
        ("https://www.kdocs.cn/l/cqAbC12?from=docs#x", "cqAbC12"),
        ("  www.kdocs.cn/l/cqAbC12/  ", "cqAbC12"),
        ("kdocs.cn/l/abc", "abc"),
        ("https://365.kdocs.cn/l/abc", "abc"),
        ("https://www.kdocs.cn/view/l/abc", "abc"),
        ("https://WWW.KDOCS.CN/l/abc", "abc"),
        ("https://www.kdocs.cn/", None),
        ("https://www.kdocs.cn/l/", None),
        ("https://evil-kdocs.cn/l/abc", None),
        ("https://www.kdocs.cn.evil.example/l/abc", None),
        ("demo-workbook", None),
        ("", None),
    ],
)
def test_share_links_are_recognised(text: str, link_id: str | None) -> None:
    assert share_link_id(text) == link_id


def test_the_share_link_explanation_is_plain() -> None:
    text = share_link_explanation("cqAbC12")
    assert "cqAbC12" in text and "link" in text and "not the workbook" in text
