"""The stand-in's sign-in, user and file-list endpoints, spoken to directly over loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from kdocs_viewer.core.contract import (
    CODE_APP_CREDENTIALS_INVALID,
    CODE_AUTH_CODE_INVALID,
    CODE_REFRESH_TOKEN_INVALID,
    CODE_TOKEN_INVALID,
)
from kdocs_viewer.standin.browser import ConsentError, consent
from kdocs_viewer.standin.cli import build_parser, config_from_args
from kdocs_viewer.standin.oauth import DEMO_WORKBOOK_NAME, USER_NICKNAME
from kdocs_viewer.standin.server import StandinServer

Factory = Callable[..., StandinServer]
CALLBACK = "http://127.0.0.1:18765/callback"


def auth_url(server: StandinServer, **overrides: str) -> str:
    params = {"app_id": "demo-app", "scope": "user_basic,access_personal_files", "redirect_uri": CALLBACK}
    params.update({"state": "st-123"}, **overrides)
    return f"{server.base_url}/h5/auth?{urlencode(params)}"


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def sign_in(http: httpx.Client, server: StandinServer) -> dict[str, object]:
    code = query_of(consent(auth_url(server)))["code"]
    reply = http.get(
        f"{server.base_url}/api/v1/oauth2/access_token",
        params={"code": code, "app_id": "demo-app", "app_key": "demo-key"},
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["code"] == 0 and body["result"] == "ok"
    data: dict[str, object] = body["data"]
    return data


def refresh(
    http: httpx.Client, server: StandinServer, token: object, key: str = "demo-key"
) -> httpx.Response:
    return http.post(
        f"{server.base_url}/api/v1/oauth2/refresh_token",
        params={"app_id": "demo-app"},
        json={"app_key": key, "refresh_token": token},
    )


# ---- the consent page --------------------------------------------------------------------------------


def test_the_consent_page_offers_allow_and_deny(standin: StandinServer, http: httpx.Client) -> None:
    page = http.get(auth_url(standin))
    assert page.status_code == 200
    assert "允许 Allow" in page.text and "拒绝 Deny" in page.text
    assert "user_basic" in page.text and "access_personal_files" in page.text
    allowed = consent(auth_url(standin), allow=True)
    assert allowed.startswith(CALLBACK + "?")
    assert set(query_of(allowed)) == {"code", "state"} and query_of(allowed)["state"] == "st-123"
    denied = consent(auth_url(standin), allow=False)
    assert query_of(denied) == {"error": "access_denied", "state": "st-123"}


def test_auto_consent_redirects_at_once(standin_factory: Factory, http: httpx.Client) -> None:
    server = standin_factory(auto_consent=True)
    reply = http.get(auth_url(server))
    assert reply.status_code == 302
    assert reply.headers["cache-control"] == "no-store"
    assert set(query_of(reply.headers["location"])) == {"code", "state"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"app_id": "someone-elses-app"},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": "http://192.168.1.5:18765/callback"},
        {"redirect_uri": "not a url"},
        {"scope": ""},
    ],
)
def test_bad_requests_get_an_error_page_and_never_a_redirect(
    standin_factory: Factory, http: httpx.Client, overrides: dict[str, str]
) -> None:
    server = standin_factory(auto_consent=True)
    reply = http.get(auth_url(server, **overrides))
    assert reply.status_code == 400
    assert "location" not in reply.headers
    with pytest.raises(ConsentError):
        consent(auth_url(server, **overrides))


# ---- codes and tokens --------------------------------------------------------------------------------


def test_a_code_buys_tokens_once(standin: StandinServer, http: httpx.Client) -> None:
    code = query_of(consent(auth_url(standin)))["code"]
    url = f"{standin.base_url}/api/v1/oauth2/access_token"
    params = {"code": code, "app_id": "demo-app", "app_key": "demo-key"}
    first = http.get(url, params=params).json()
    assert first["code"] == 0
    assert set(first["data"]) == {"access_token", "expires_in", "refresh_token"}
    assert first["data"]["expires_in"] == 86_400
    again = http.get(url, params=params)
    assert again.status_code == 400 and again.json()["code"] == CODE_AUTH_CODE_INVALID
    unknown = http.get(url, params={**params, "code": "never-issued"})
    assert unknown.json()["code"] == CODE_AUTH_CODE_INVALID


def test_a_code_expires(standin_factory: Factory, http: httpx.Client) -> None:
    server = standin_factory(code_lifetime=0.05)
    code = query_of(consent(auth_url(server)))["code"]
    time.sleep(0.1)
    reply = http.get(
        f"{server.base_url}/api/v1/oauth2/access_token",
        params={"code": code, "app_id": "demo-app", "app_key": "demo-key"},
    )
    assert reply.json()["code"] == CODE_AUTH_CODE_INVALID


def test_wrong_app_credentials(standin: StandinServer, http: httpx.Client) -> None:
    code = query_of(consent(auth_url(standin)))["code"]
    url = f"{standin.base_url}/api/v1/oauth2/access_token"
    reply = http.get(url, params={"code": code, "app_id": "demo-app", "app_key": "wrong-key"})
    assert reply.status_code == 400
    assert reply.json()["code"] == CODE_APP_CREDENTIALS_INVALID and reply.json()["msg"] == "InvalidAppKey"
    # The refused attempt did not spend the code.
    assert (
        http.get(url, params={"code": code, "app_id": "demo-app", "app_key": "demo-key"}).json()["code"] == 0
    )


def test_access_tokens_open_the_api_and_the_static_token_still_works(
    standin: StandinServer, http: httpx.Client
) -> None:
    tokens = sign_in(http, standin)
    sheets = f"{standin.base_url}/api/v1/openapi/et/demo-workbook/sheets"
    assert http.get(sheets, params={"access_token": tokens["access_token"]}).json()["code"] == 0
    assert http.get(sheets, params={"access_token": "demo-token"}).json()["code"] == 0
    assert (
        http.get(sheets, params={"access_token": tokens["refresh_token"]}).json()["code"]
        == CODE_TOKEN_INVALID
    )
    assert standin.live_access_tokens() == 1
    assert standin.expire_access_tokens() == 1
    assert (
        http.get(sheets, params={"access_token": tokens["access_token"]}).json()["code"] == CODE_TOKEN_INVALID
    )
    assert http.get(sheets, params={"access_token": "demo-token"}).json()["code"] == 0


def test_token_lifetime_scales_with_time_scale(standin_factory: Factory, http: httpx.Client) -> None:
    server = standin_factory(token_lifetime=600, time_scale=0.005)
    assert sign_in(http, server)["expires_in"] == 3
    server = standin_factory(token_lifetime=10, time_scale=0.001)
    assert sign_in(http, server)["expires_in"] == 1  # at least one second


def test_refresh_rotates_and_revoked_tokens_are_refused(standin: StandinServer, http: httpx.Client) -> None:
    tokens = sign_in(http, standin)
    renewed = refresh(http, standin, tokens["refresh_token"]).json()
    assert renewed["code"] == 0 and renewed["result"] == "ok"
    new = renewed["data"]
    assert new["access_token"] != tokens["access_token"] and new["refresh_token"] != tokens["refresh_token"]
    old_again = refresh(http, standin, tokens["refresh_token"])
    assert old_again.status_code == 400 and old_again.json()["code"] == CODE_REFRESH_TOKEN_INVALID
    assert (
        refresh(http, standin, new["refresh_token"], key="wrong").json()["code"]
        == CODE_APP_CREDENTIALS_INVALID
    )
    assert standin.revoke_refresh_tokens() == 1
    assert refresh(http, standin, new["refresh_token"]).json()["code"] == CODE_REFRESH_TOKEN_INVALID
    bad_body = http.post(f"{standin.base_url}/api/v1/oauth2/refresh_token?app_id=demo-app", content=b"{")
    assert bad_body.status_code == 400


def test_sign_in_calls_do_not_count_against_the_quota_but_user_and_files_do(
    standin: StandinServer, http: httpx.Client
) -> None:
    tokens = sign_in(http, standin)
    refresh(http, standin, tokens["refresh_token"])
    assert standin.api_calls_today() == 0
    http.get(f"{standin.base_url}/api/v1/openapi/user/basic", params={"access_token": "demo-token"})
    assert standin.api_calls_today() == 1


def test_the_request_log_holds_no_secret(standin: StandinServer, http: httpx.Client) -> None:
    tokens = sign_in(http, standin)
    refresh(http, standin, tokens["refresh_token"])
    log = repr(standin.request_log())
    for secret in ("demo-key", str(tokens["access_token"]), str(tokens["refresh_token"]), "st-123"):
        assert secret not in log
    assert "/api/v1/oauth2/access_token" in log and "/h5/auth" in log


# ---- the user and the file lists ---------------------------------------------------------------------


def api(http: httpx.Client, server: StandinServer, path: str, **params: object) -> httpx.Response:
    return http.get(
        f"{server.base_url}/api/v1/openapi/{path}", params={"access_token": "demo-token", **params}
    )


def test_user_basic(standin: StandinServer, http: httpx.Client) -> None:
    body = api(http, standin, "user/basic").json()
    assert body["code"] == 0
    assert body["data"]["nickname"] == USER_NICKNAME
    assert set(body["data"]["id"]) == {"open_id", "union_id"}
    assert http.get(f"{standin.base_url}/api/v1/openapi/user/basic").json()["code"] == CODE_TOKEN_INVALID


def test_recent_lists_everything_newest_first_in_pages(standin_factory: Factory, http: httpx.Client) -> None:
    server = standin_factory(workbooks=12)
    files = server.user_files()
    listed = []
    offset = 0
    while True:
        page = api(http, server, "personal/files/recent", count=5, offset=offset).json()["data"]["files"]
        listed.extend(page)
        offset += len(page)
        if len(page) < 5:
            break
    assert [item["id"]["open_id"] for item in listed] == [f.file_token for f in files]
    assert [item["mtime"] for item in listed] == sorted((item["mtime"] for item in listed), reverse=True)
    assert listed[0]["fname"] == DEMO_WORKBOOK_NAME and listed[0]["id"]["open_id"] == "demo-workbook"
    assert {item["ftype"] for item in listed} == {"file", "sharefile"}
    assert any(item["fname"].endswith(".docx") for item in listed)
    assert all(item["link_url"] == f"https://www.kdocs.cn/l/{item['link_id']}" for item in listed)
    assert sum(f.name.rsplit(".", 1)[1] in ("xlsx", "xlsm", "xls", "et", "ets") for f in files) == 12


def test_flat_lists_own_files_by_extension(standin_factory: Factory, http: httpx.Client) -> None:
    server = standin_factory(workbooks=12)
    reply = http.get(
        f"{server.base_url}/api/v1/openapi/personal/files/flat",
        params=[("access_token", "demo-token"), ("exts", "xlsx"), ("exts", "et"), ("count", "100")],
    ).json()
    names = [item["fname"] for item in reply["data"]["files"]]
    assert names and all(n.endswith((".xlsx", ".et")) for n in names)
    assert all(item["ftype"] == "file" for item in reply["data"]["files"])
    comma = api(http, server, "personal/files/flat", exts="xlsx,et", count=100).json()
    assert [item["fname"] for item in comma["data"]["files"]] == names
    everything = api(http, server, "personal/files/flat", count=100).json()["data"]["files"]
    assert any(item["fname"].endswith(".pdf") for item in everything)


@pytest.mark.parametrize("params", [{"count": 0}, {"count": 101}, {"count": "x"}, {"offset": -1}])
def test_bad_paging_is_refused(standin: StandinServer, http: httpx.Client, params: dict[str, object]) -> None:
    reply = api(http, standin, "personal/files/recent", **params)
    assert reply.status_code == 400 and reply.json()["code"] != 0


def test_the_other_workbooks_exist_but_hold_no_pictures(standin: StandinServer, http: httpx.Client) -> None:
    other = next(f for f in standin.user_files() if f.file_token.startswith("wb-"))
    sheets = api(http, standin, f"et/{other.file_token}/sheets").json()
    assert sheets["code"] == 0 and [s["sheet_name"] for s in sheets["data"]["sheets_info"]] == ["Sheet1"]
    cells = api(
        http, standin, f"et/{other.file_token}/sheets/0/cells", row_from=0, row_to=0, col_from=0, col_to=0
    )
    assert cells.json() == {"code": 0, "data": {"cells": []}}
    urls = http.post(
        f"{standin.base_url}/api/v1/openapi/et/{other.file_token}/pictures/urls",
        params={"access_token": "demo-token"},
        json={"pics": [{"pic_key": "k", "tag": "local"}]},
    ).json()
    assert urls == {"code": 0, "data": {"urls": [{"pic_key": "k", "tag": "local", "pic_url": ""}]}}
    document = next(f for f in standin.user_files() if f.file_token.startswith("doc-"))
    assert api(http, standin, f"et/{document.file_token}/sheets").status_code == 404
    assert api(http, standin, "et/no-such-file/sheets").status_code == 404


def test_the_command_line_knobs() -> None:
    args = build_parser().parse_args(
        [
            "--app-id",
            "a1",
            "--app-key",
            "k1",
            "--token-lifetime",
            "60",
            "--code-lifetime",
            "5",
            "--auto-consent",
            "--workbooks",
            "3",
        ]
    )
    config = config_from_args(args)
    assert (config.app_id, config.app_key, config.token_lifetime, config.code_lifetime) == ("a1", "k1", 60, 5)
    assert config.auto_consent and config.workbooks == 3
    assert "k1" not in repr(config)
    defaults = config_from_args(build_parser().parse_args([]))
    assert (defaults.app_id, defaults.app_key, defaults.token_lifetime) == ("demo-app", "demo-key", 86_400)
    assert not defaults.auto_consent
