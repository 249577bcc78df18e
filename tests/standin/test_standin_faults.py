"""Fault injection of the stand-in: each queued kind behaves as contracts.md says, then the server is fine."""

from __future__ import annotations

import io
from collections.abc import Callable
from http import client as http_client
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from kdocs_viewer.core.contract import (
    CODE_INTERNAL,
    CODE_QUOTA_EXCEEDED,
    CODE_TOKEN_INVALID,
    PICTURE_URLS_PATH,
    SHEETS_PATH,
    TOKEN_PARAM,
)
from kdocs_viewer.core.quota import daily_limit_from_headers
from kdocs_viewer.standin.config import StandinConfig
from kdocs_viewer.standin.server import StandinServer

Factory = Callable[..., StandinServer]


def sheets(http: httpx.Client, server: StandinServer) -> httpx.Response:
    return http.get(
        server.base_url + SHEETS_PATH.format(file_token=server.config.file_token),
        params={TOKEN_PARAM: server.config.token},
    )


def first_url(http: httpx.Client, server: StandinServer) -> str:
    ref = server.pictures()[0]
    response = http.post(
        server.base_url + PICTURE_URLS_PATH.format(file_token=server.config.file_token),
        params={TOKEN_PARAM: server.config.token},
        json={"pics": [{"pic_key": ref.pic_key, "tag": ref.tag}]},
    )
    url: str = response.json()["data"]["urls"][0]["pic_url"]
    return url


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_faults_carry_a_json_envelope(
    standin: StandinServer, http: httpx.Client, status: int
) -> None:
    standin.queue_faults([str(status)])
    response = sheets(http, standin)
    assert response.status_code == status
    assert response.json()["code"] == CODE_INTERNAL
    assert sheets(http, standin).status_code == 200


def test_html_fault_is_a_proxy_page(standin: StandinServer, http: httpx.Client) -> None:
    standin.queue_faults(["html"])
    response = sheets(http, standin)
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text


def test_empty_fault_is_a_bodiless_500(standin: StandinServer, http: httpx.Client) -> None:
    standin.queue_faults(["empty"])
    response = sheets(http, standin)
    assert response.status_code == 500
    assert response.content == b""


def test_429_fault_asks_to_retry_after_a_second(standin: StandinServer, http: httpx.Client) -> None:
    standin.queue_faults(["429"])
    response = sheets(http, standin)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json()["code"] == CODE_QUOTA_EXCEEDED
    assert daily_limit_from_headers(response.headers.multi_items()) is None  # "slow down" is no daily limit


def test_20007_fault_rejects_the_token_once(standin: StandinServer, http: httpx.Client) -> None:
    standin.queue_faults(["20007"])
    response = sheets(http, standin)
    assert response.status_code == 401
    assert response.json()["code"] == CODE_TOKEN_INVALID
    assert sheets(http, standin).json()["code"] == 0


def test_reset_fault_drops_the_connection(standin: StandinServer, http: httpx.Client) -> None:
    standin.queue_faults(["reset"])
    with pytest.raises(httpx.TransportError):
        sheets(http, standin)
    assert sheets(http, standin).status_code == 200
    assert [e.status for e in standin.request_log()] == [0, 200]


def test_truncated_fault_sends_less_than_content_length(standin: StandinServer, http: httpx.Client) -> None:
    standin.queue_faults(["truncated"])
    with pytest.raises(httpx.RemoteProtocolError):
        sheets(http, standin)
    # Seen raw: the declared length is more than what arrives before the close.
    standin.queue_faults(["truncated"])
    parts = urlsplit(standin.base_url)
    conn = http_client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        path = SHEETS_PATH.format(file_token=standin.config.file_token)
        conn.request("GET", path + "?access_token=demo-token")
        response = conn.getresponse()
        declared = int(response.headers["Content-Length"])
        with pytest.raises(http_client.IncompleteRead) as caught:
            response.read()
        assert 0 < len(caught.value.partial) < declared
    finally:
        conn.close()
    assert sheets(http, standin).status_code == 200


def test_faults_are_taken_in_order_by_api_calls_only(standin: StandinServer, http: httpx.Client) -> None:
    url = first_url(http, standin)
    standin.queue_faults(["503", "429"])
    assert http.get(url).status_code == 200  # image GETs take no API fault
    assert sheets(http, standin).status_code == 503
    assert sheets(http, standin).status_code == 429
    assert sheets(http, standin).status_code == 200
    assert standin.api_calls_today() == 4  # faulted calls count too


def test_unknown_fault_kinds_are_refused(standin: StandinServer) -> None:
    with pytest.raises(ValueError, match="nope"):
        standin.queue_faults(["500", "nope"])
    with pytest.raises(ValueError, match="20007"):
        standin.queue_image_faults(["html", "20007"])  # an API fault, not one of a picture host


@pytest.mark.parametrize("status", [500, 502, 503, 403])
def test_image_status_faults(standin: StandinServer, http: httpx.Client, status: int) -> None:
    url = first_url(http, standin)
    standin.queue_image_faults([str(status)])
    assert http.get(url).status_code == status
    assert http.get(url).status_code == 200
    assert standin.image_gets(standin.pictures()[0].pic_key) == 2


def test_image_reset_and_truncated_faults(standin: StandinServer, http: httpx.Client) -> None:
    url = first_url(http, standin)
    standin.queue_image_faults(["reset", "truncated"])
    with pytest.raises(httpx.TransportError):
        http.get(url)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(url)
    assert http.get(url).content == standin.image_bytes(standin.pictures()[0].pic_key)


def test_image_corrupt_fault_serves_undecodable_bytes(standin: StandinServer, http: httpx.Client) -> None:
    url = first_url(http, standin)
    good = standin.image_bytes(standin.pictures()[0].pic_key)
    standin.queue_image_faults(["corrupt"])
    response = http.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.content != good
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(io.BytesIO(response.content))
    assert http.get(url).content == good


def test_image_html_fault_is_a_login_page_with_200(standin: StandinServer, http: httpx.Client) -> None:
    url = first_url(http, standin)
    standin.queue_image_faults(["html"])
    response = http.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>Wi-Fi login</title>" in response.text
    assert http.get(url).content == standin.image_bytes(standin.pictures()[0].pic_key)


def test_image_fail_rate_mixes_every_fault_and_leaves_api_calls_alone(
    standin_factory: Factory, http: httpx.Client
) -> None:
    server = standin_factory(image_fail_rate=1.0, seed=3, pictures=3)
    url = first_url(http, server)  # the API call itself is not touched
    good = server.image_bytes(server.pictures()[0].pic_key)
    seen: set[str] = set()
    for _ in range(60):
        try:
            response = http.get(url)
        except httpx.TransportError:  # a reset connection or a body cut short
            seen.add("truncated or reset")
            continue
        assert response.content != good
        if response.status_code == 200:
            assert response.headers["Content-Type"].startswith("text/html")
            seen.add("html")
        else:
            assert response.status_code in (500, 502, 503)
            seen.add(str(response.status_code))
    assert seen == {"500", "502", "503", "html", "truncated or reset"}
    assert sheets(http, server).status_code == 200
    server.set_image_fail_rate(0.0)
    assert http.get(url).content == good
    with pytest.raises(ValueError):
        server.set_image_fail_rate(-0.1)


def _fault_sequence(server: StandinServer, http: httpx.Client, url: str, count: int) -> list[str]:
    """What each of ``count`` GETs of ``url`` met: "ok", a status, "html" or "broken"."""
    out = []
    for _ in range(count):
        try:
            response = http.get(url)
        except httpx.TransportError:
            out.append("broken")
            continue
        kind = response.headers["Content-Type"].split(";")[0]
        out.append("html" if kind == "text/html" else "ok" if response.status_code == 200 else "5xx")
    return out


def test_image_fail_rate_is_deterministic_per_seed(standin_factory: Factory, http: httpx.Client) -> None:
    runs = []
    for seed in (7, 7, 8):
        server = standin_factory(image_fail_rate=0.4, seed=seed, pictures=3)
        runs.append(_fault_sequence(server, http, first_url(http, server), 40))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert 4 <= sum(kind != "ok" for kind in runs[0]) <= 30


def test_image_fail_rate_is_validated() -> None:
    with pytest.raises(ValueError, match="image_fail_rate"):
        StandinConfig(image_fail_rate=1.5)


def test_fail_rate_one_fails_every_call_and_zero_none(standin: StandinServer, http: httpx.Client) -> None:
    standin.set_fail_rate(1.0)
    for _ in range(12):
        try:
            status = sheets(http, standin).status_code
        except httpx.TransportError:
            continue
        assert status in (429, 500, 502, 503)
    standin.set_fail_rate(0.0)
    assert sheets(http, standin).status_code == 200
    with pytest.raises(ValueError):
        standin.set_fail_rate(1.5)


def test_fail_rate_is_roughly_the_asked_fraction(standin_factory: Factory, http: httpx.Client) -> None:
    server = standin_factory(fail_rate=0.3, seed=5, pictures=3)
    failures = 0
    for _ in range(60):
        try:
            failures += sheets(http, server).status_code != 200
        except httpx.TransportError:
            failures += 1
    assert 5 <= failures <= 35


def test_keep_alive_connections_are_reused(standin: StandinServer) -> None:
    parts = urlsplit(standin.base_url)
    conn = http_client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        path = SHEETS_PATH.format(file_token=standin.config.file_token) + "?access_token=demo-token"
        conn.request("GET", path)
        assert conn.getresponse().read()
        sock = conn.sock
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200 and response.read()
        assert conn.sock is sock and sock is not None
    finally:
        conn.close()
