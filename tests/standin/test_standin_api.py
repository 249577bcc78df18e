"""The stand-in's API over real loopback HTTP: envelopes, order, limits, token, sheets/cells, quota, log."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kdocs_viewer.core.contract import (
    CELLS_PATH,
    CODE_BAD_REQUEST,
    CODE_FILE_NOT_FOUND,
    CODE_QUOTA_EXCEEDED,
    CODE_TOKEN_INVALID,
    CODE_TOO_MANY_PICS,
    MAX_CELLS_PER_CALL,
    MAX_PICS_PER_CALL,
    PICTURE_URLS_PATH,
    SHEETS_PATH,
    TOKEN_PARAM,
)
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.quota import daily_limit_from_headers
from kdocs_viewer.standin.server import StandinServer

Factory = Callable[..., StandinServer]


def urls_call(
    http: httpx.Client,
    server: StandinServer,
    pics: Any,
    *,
    token: str | None = "demo-token",
    file_token: str = "",
) -> httpx.Response:
    path = PICTURE_URLS_PATH.format(file_token=file_token or server.config.file_token)
    params = {TOKEN_PARAM: token} if token is not None else {}
    body = pics if isinstance(pics, bytes) else json.dumps({"pics": pics}).encode()
    return http.post(
        server.base_url + path, params=params, content=body, headers={"Content-Type": "application/json"}
    )


def as_items(refs: list[PicRef]) -> list[dict[str, str]]:
    return [{"pic_key": r.pic_key, "tag": r.tag} for r in refs]


def get_sheets(http: httpx.Client, server: StandinServer) -> list[dict[str, Any]]:
    response = http.get(
        server.base_url + SHEETS_PATH.format(file_token=server.config.file_token),
        params={TOKEN_PARAM: server.config.token},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 0
    sheets: list[dict[str, Any]] = body["data"]["sheets_info"]
    return sheets


def get_cells(http: httpx.Client, server: StandinServer, sheet_idx: int, **params: Any) -> httpx.Response:
    path = CELLS_PATH.format(file_token=server.config.file_token, sheet_idx=sheet_idx)
    return http.get(server.base_url + path, params={TOKEN_PARAM: server.config.token, **params})


def test_urls_come_back_in_request_order_with_unknown_key_empty(
    standin: StandinServer, http: httpx.Client
) -> None:
    refs = standin.pictures()
    asked = as_items([refs[7], refs[2], refs[30]])
    asked.insert(1, {"pic_key": "ravXFmauNdDdDnapWimCvn", "tag": "attachment"})
    response = urls_call(http, standin, asked)
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 0
    urls = body["data"]["urls"]
    assert [(u["pic_key"], u["tag"]) for u in urls] == [(a["pic_key"], a["tag"]) for a in asked]
    assert urls[1]["pic_url"] == ""
    for item in (urls[0], urls[2], urls[3]):
        assert item["pic_url"].startswith(
            f"{standin.base_url}/img/{standin.config.file_token}/{item['pic_key']}?"
        )
        assert "Sig=" in item["pic_url"]
    assert set(urls[0]) == {"pic_key", "tag", "pic_url"}


def test_known_key_with_another_tag_is_unknown_and_duplicates_are_answered(
    standin: StandinServer, http: httpx.Client
) -> None:
    ref = standin.pictures()[0]
    other_tag = "cloud" if ref.tag != "cloud" else "local"
    asked = [{"pic_key": ref.pic_key, "tag": other_tag}, *as_items([ref, ref])]
    urls = urls_call(http, standin, asked).json()["data"]["urls"]
    assert urls[0] == {"pic_key": ref.pic_key, "tag": other_tag, "pic_url": ""}
    assert urls[1]["pic_url"] and urls[2]["pic_url"]


def test_empty_list_is_fine(standin: StandinServer, http: httpx.Client) -> None:
    assert urls_call(http, standin, []).json() == {"code": 0, "data": {"urls": []}}


def test_more_than_max_pictures_is_rejected(standin_factory: Factory, http: httpx.Client) -> None:
    server = standin_factory(pictures=MAX_PICS_PER_CALL + 1)
    items = as_items(server.pictures())
    ok = urls_call(http, server, items[:MAX_PICS_PER_CALL]).json()
    assert ok["code"] == 0 and len(ok["data"]["urls"]) == MAX_PICS_PER_CALL
    response = urls_call(http, server, items)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == CODE_TOO_MANY_PICS
    assert str(MAX_PICS_PER_CALL) in body["message"]


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        (b"not json at all", "JSON"),
        (b"[]", "pics"),
        (b'{"pics": "abc"}', "pics"),
        (b'{"pics": [1]}', "pics[0]"),
        (b'{"pics": [{"tag": "local"}]}', "pics[0].pic_key"),
        (b'{"pics": [{"pic_key": "k", "tag": "local"}, {"pic_key": "k2"}]}', "pics[1].tag"),
        (b"\xff\xfe", "JSON"),
    ],
)
def test_malformed_body_is_a_bad_request_with_a_message(
    standin: StandinServer, http: httpx.Client, body: bytes, mentions: str
) -> None:
    response = urls_call(http, standin, body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == CODE_BAD_REQUEST
    assert mentions in answer["message"]


@pytest.mark.parametrize("token", [None, "", "wrong-token", "demo-token "])
def test_bad_or_missing_token_is_20007_on_every_endpoint(
    standin: StandinServer, http: httpx.Client, token: str | None
) -> None:
    params = {TOKEN_PARAM: token} if token is not None else {}
    file_token = standin.config.file_token
    responses = [
        urls_call(http, standin, as_items(standin.pictures()[:1]), token=token),
        http.get(standin.base_url + SHEETS_PATH.format(file_token=file_token), params=params),
        http.get(
            standin.base_url + CELLS_PATH.format(file_token=file_token, sheet_idx=0),
            params={**params, "row_from": 0, "row_to": 3, "col_from": 0, "col_to": 3},
        ),
    ]
    for response in responses:
        assert response.status_code == 401
        assert response.json() == {
            "code": CODE_TOKEN_INVALID,
            "msg": "AccessTokenInvalid",
            "hint": "access_token is required",
        }


def test_set_token_switches_the_accepted_token(standin: StandinServer, http: httpx.Client) -> None:
    items = as_items(standin.pictures()[:1])
    standin.set_token("fresh-token")
    assert urls_call(http, standin, items).json()["code"] == CODE_TOKEN_INVALID
    assert urls_call(http, standin, items, token="fresh-token").json()["code"] == 0


def test_unknown_file_token(standin: StandinServer, http: httpx.Client) -> None:
    response = urls_call(http, standin, as_items(standin.pictures()[:1]), file_token="no-such-file")
    assert response.status_code == 404
    assert response.json()["code"] == CODE_FILE_NOT_FOUND
    sheets = http.get(
        standin.base_url + SHEETS_PATH.format(file_token="nope"), params={TOKEN_PARAM: "demo-token"}
    )
    assert sheets.json()["code"] == CODE_FILE_NOT_FOUND


def test_file_token_that_needs_percent_encoding(standin_factory: Factory, http: httpx.Client) -> None:
    server = standin_factory(file_token="表格 2024", pictures=3)
    response = http.post(
        server.base_url + "/api/v1/openapi/et/%E8%A1%A8%E6%A0%BC%202024/pictures/urls",
        params={TOKEN_PARAM: "demo-token"},
        json={"pics": as_items(server.pictures())},
    )
    urls = response.json()["data"]["urls"]
    assert all(u["pic_url"] for u in urls)
    assert http.get(urls[0]["pic_url"]).content == server.image_bytes(urls[0]["pic_key"])


def test_unknown_query_parameters_are_ignored(standin: StandinServer, http: httpx.Client) -> None:
    ref = standin.pictures()[0]
    path = PICTURE_URLS_PATH.format(file_token=standin.config.file_token)
    response = http.post(
        f"{standin.base_url}{path}?access_token=demo-token&row_from=0&row_to=2&col_from=0&col_to=2&x=y",
        json={"pics": as_items([ref])},
    )
    assert response.json()["data"]["urls"][0]["pic_url"]


def test_sheets_and_cells_describe_the_same_pictures(standin: StandinServer, http: httpx.Client) -> None:
    sheets = get_sheets(http, standin)
    assert [s["sheet_name"] for s in sheets] == ["Products", "Team", "Receipts"]
    assert [s["sheet_idx"] for s in sheets] == [0, 1, 2]
    found: list[PicRef] = []
    for sheet in sheets:
        assert set(sheet) >= {
            "sheet_id",
            "sheet_idx",
            "sheet_name",
            "is_visible",
            "sheet_type",
            "row_from",
            "row_to",
            "col_from",
            "col_to",
        }
        assert sheet["row_from"] == 0 and sheet["col_from"] == 0
        response = get_cells(
            http,
            standin,
            sheet["sheet_idx"],
            row_from=0,
            row_to=sheet["row_to"],
            col_from=0,
            col_to=sheet["col_to"],
        )
        body = response.json()
        assert body["code"] == 0
        cells = body["data"]["cells"]
        text_at = {(c["row_from"], c["col_from"]): c["cell_text"] for c in cells}
        for cell in cells:
            assert {
                "row_from",
                "row_to",
                "col_from",
                "col_to",
                "cell_text",
                "original_cell_value",
                "num_format",
            } <= set(cell)
            assert cell["row_to"] <= sheet["row_to"] and cell["col_to"] <= sheet["col_to"]
            if "pic_key" in cell:
                assert "pic_url" not in cell
                row = cell["row_from"]
                found.append(
                    PicRef(
                        cell["pic_key"],
                        cell["tag"],
                        sheet=sheet["sheet_name"],
                        cell=f"{sheet['sheet_name']}!A{row + 1}",
                        caption=text_at[(row, 1)],
                    )
                )
        assert max(c["row_to"] for c in cells) == sheet["row_to"]
    expected = standin.pictures()
    assert found == expected
    assert [(r.sheet, r.cell, r.caption) for r in found] == [(r.sheet, r.cell, r.caption) for r in expected]
    assert {r.tag for r in expected} == {"attachment", "local", "cloud"}


def test_cells_have_a_merged_title_and_formatted_values(standin: StandinServer, http: httpx.Client) -> None:
    cells = get_cells(http, standin, 0, row_from=0, row_to=2, col_from=2, col_to=2).json()["data"]["cells"]
    title = cells[0]
    assert (title["row_from"], title["row_to"], title["col_from"], title["col_to"]) == (0, 0, 0, 3)
    price = next(c for c in cells if c["row_from"] == 2)
    assert isinstance(price["original_cell_value"], float)
    assert price["cell_text"].startswith("¥") and price["num_format"] != "General"


def test_cells_with_pic_url_give_working_urls(standin: StandinServer, http: httpx.Client) -> None:
    cells = get_cells(
        http, standin, 1, row_from=2, row_to=4, col_from=0, col_to=0, with_pic_url="true"
    ).json()["data"]["cells"]
    assert len(cells) == 3
    for cell in cells:
        image = http.get(cell["pic_url"])
        assert image.status_code == 200
        assert image.content == standin.image_bytes(cell["pic_key"])


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"row_from": 0, "row_to": 0, "col_from": 0}, "col_to"),
        ({"row_from": "a", "row_to": 3, "col_from": 0, "col_to": 3}, "row_from"),
        ({"row_from": -1, "row_to": 3, "col_from": 0, "col_to": 3}, "row_from"),
        ({"row_from": 5, "row_to": 3, "col_from": 0, "col_to": 3}, "row_to"),
        ({"row_from": 0, "row_to": MAX_CELLS_PER_CALL, "col_from": 0, "col_to": 0}, str(MAX_CELLS_PER_CALL)),
    ],
)
def test_bad_cells_ranges_are_refused(
    standin: StandinServer, http: httpx.Client, params: dict[str, Any], mentions: str
) -> None:
    response = get_cells(http, standin, 0, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == CODE_BAD_REQUEST
    assert mentions in body["message"]


def test_cells_cap_allows_exactly_the_maximum(standin: StandinServer, http: httpx.Client) -> None:
    ok = get_cells(http, standin, 0, row_from=0, row_to=MAX_CELLS_PER_CALL // 10 - 1, col_from=0, col_to=9)
    assert ok.json()["code"] == 0
    too_big = get_cells(http, standin, 0, row_from=0, row_to=MAX_CELLS_PER_CALL // 10, col_from=0, col_to=9)
    assert too_big.json()["msg"] == "RangeTooLarge"


def test_unknown_sheet(standin: StandinServer, http: httpx.Client) -> None:
    for sheet_idx in (7, "x"):
        response = get_cells(http, standin, sheet_idx, row_from=0, row_to=1, col_from=0, col_to=1)  # type: ignore[arg-type]
        assert response.json()["code"] == CODE_BAD_REQUEST


def test_quota_exhausted_answers_429_with_retry_after(standin_factory: Factory, http: httpx.Client) -> None:
    server = standin_factory(quota=3, pictures=3)
    items = as_items(server.pictures())
    url = urls_call(http, server, items).json()["data"]["urls"][0]["pic_url"]
    get_sheets(http, server)
    get_sheets(http, server)
    assert server.api_calls_today() == 3
    response = urls_call(http, server, items)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["code"] == CODE_QUOTA_EXCEEDED
    assert daily_limit_from_headers(response.headers.multi_items()) == 3  # the limit, stated once used up
    assert server.api_calls_today() == 3
    assert http.get(url).status_code == 200  # downloads are not API calls
    assert server.api_calls_today() == 3


def test_request_log_holds_no_query_strings_or_tokens(
    canary_standin: StandinServer, http: httpx.Client
) -> None:
    from tests.conftest import CANARY_TOKEN

    server = canary_standin
    refs = server.pictures()[:2]
    urls = urls_call(http, server, as_items(refs), token=CANARY_TOKEN).json()["data"]["urls"]
    for item in urls:
        assert http.get(item["pic_url"]).status_code == 200
    urls_call(http, server, as_items(refs), token="demo-token")
    log = server.request_log()
    assert [(e.method, e.status) for e in log] == [("POST", 200), ("GET", 200), ("GET", 200), ("POST", 401)]
    assert log[1].path == f"/img/{server.config.file_token}/{refs[0].pic_key}"
    for entry in log:
        assert "?" not in entry.path and "Sig" not in entry.path
        assert CANARY_TOKEN not in repr(entry)
    assert CANARY_TOKEN not in repr(server) and CANARY_TOKEN not in repr(server.config)


def test_latency_delays_api_calls_and_downloads(standin: StandinServer, http: httpx.Client) -> None:
    ref = standin.pictures()[0]
    url = urls_call(http, standin, as_items([ref])).json()["data"]["urls"][0]["pic_url"]
    standin.set_latency_ms(200)
    assert urls_call(http, standin, as_items([ref])).elapsed.total_seconds() >= 0.2
    assert http.get(url).elapsed.total_seconds() >= 0.2
    standin.set_latency_ms(0)
