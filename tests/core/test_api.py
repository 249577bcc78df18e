"""The KDocs client: pure helpers first, then real loopback HTTP against the stand-in server.

A few reply shapes the stand-in never produces (nested picture cells, replies that drop or reorder items,
envelopes without a code, servers echoing the token) are served by a tiny in-process httpx transport that
plays "another server" — the client code under test is the same.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from kdocs_viewer.core import api
from kdocs_viewer.core.api import (
    MAX_CELLS_PER_READ,
    ApiTransportError,
    InsecureTransportError,
    KDocsClient,
    KDocsError,
    QuotaExceededError,
    SheetInfo,
    TokenInvalidError,
)
from kdocs_viewer.core.contract import MAX_PICS_PER_CALL, PICTURE_URLS_PATH, TAG_LIFETIMES
from kdocs_viewer.core.errors import FailureReason
from kdocs_viewer.core.models import Lease, PicFailure, PicRef
from kdocs_viewer.core.replies import snippet
from kdocs_viewer.core.retry import RetryPolicy
from kdocs_viewer.core.validation import InvalidIdentifierError
from kdocs_viewer.standin.server import RequestLogEntry, StandinServer
from tests.helpers.threads import InThread

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, budget=10.0)

# ---- pure helpers -----------------------------------------------------------------------------------------


def _cell(row: int, col: int, **fields: Any) -> dict[str, Any]:
    return {"row_from": row, "row_to": row, "col_from": col, "col_to": col, **fields}


def test_bands_cover_the_used_range_within_the_cell_limit() -> None:
    sheet = SheetInfo(0, 1, "S", row_from=0, row_to=30_000, col_from=0, col_to=3)
    bands = list(api._bands(sheet))
    assert all(len(band) == 1 for band in bands)
    chunks = [rect for band in bands for rect in band]
    assert all((r1 - r0 + 1) * (c1 - c0 + 1) <= MAX_CELLS_PER_READ for r0, r1, c0, c1 in chunks)
    assert all(c0 == 0 and c1 == 3 for _, _, c0, c1 in chunks)
    # no gap, no overlap
    assert [r0 for r0, _, _, _ in chunks] == [0] + [r1 + 1 for _, r1, _, _ in chunks[:-1]]
    assert chunks[0] == (0, 2499, 0, 3) and chunks[-1][1] == 30_000

    # A sheet wider than one read: each band of rows is read whole (all its columns) before the next, so
    # a picture's caption may come from any column of its row.
    most = MAX_CELLS_PER_READ
    wide = SheetInfo(0, 1, "W", row_from=0, row_to=1, col_from=0, col_to=most + 5)
    assert list(api._bands(wide)) == [
        [(0, 0, 0, most - 1), (0, 0, most, most + 5)], [(1, 1, 0, most - 1), (1, 1, most, most + 5)],
    ]
    assert list(api._bands(SheetInfo(0, 1, "E", row_from=0, row_to=-1, col_from=0, col_to=-1))) == []


def test_snippet_strips_tags_scripts_and_length() -> None:
    page = b"<html><head><style>body{}</style><title>x</title></head><body><h1>502 Bad&nbsp;Gateway</h1>" \
        b"<script>var a='<b>';</script><p>nginx</p></body></html>"
    assert snippet(page) == "502 Bad Gateway nginx"
    assert len(snippet(b"x" * 5000)) == 120


# ---- construction and transport security -------------------------------------------------------------------


class RecordingTransport(httpx.BaseTransport):
    """Wraps a real transport (or a handler) and records every request's host and path."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.hosts: list[str] = []
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        self.paths.append(request.url.path)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def fake_server(handler: Callable[[httpx.Request], httpx.Response]) -> RecordingTransport:
    return RecordingTransport(httpx.MockTransport(handler))


def envelope(data: dict[str, Any], code: int = 0, status: int = 200, **extra: Any) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "data": data, **extra})


@pytest.mark.parametrize(
    "url", ["http://developer.kdocs.cn", "http://10.0.0.5:8080", "http://example.com/api", "HTTP://Example.com"]
)
def test_plain_http_to_a_remote_host_is_refused_before_any_io(url: str) -> None:
    transport = fake_server(lambda r: envelope({}))
    with pytest.raises(InsecureTransportError) as info:
        KDocsClient("tok-secret", url, transport=transport)
    assert transport.hosts == []
    assert "https" in str(info.value) and "tok-secret" not in str(info.value)
    assert "http://" not in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1", "https://h.example"])
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    with KDocsClient("t", url) as client:
        assert client.base_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["developer.kdocs.cn", "ftp://h/x", "https://h/?q=1", "https://u:p@h/", ""])
def test_unusable_base_urls(url: str) -> None:
    with pytest.raises(ValueError):
        KDocsClient("t", url)


def test_constructor_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        KDocsClient("t", "https://h", concurrency=0)
    with pytest.raises(ValueError):
        KDocsClient("t", "https://h", timeout=0)


def test_repr_and_vars_hide_the_token() -> None:
    with KDocsClient("super-secret-token", "https://h.example") as client:
        assert "super-secret-token" not in repr(client)
        assert "super-secret-token" not in repr(vars(client))
        assert "h.example" in repr(client)


# ---- envelope and error mapping (another server's shapes) -------------------------------------------------


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> tuple[KDocsClient, RecordingTransport]:
    transport = fake_server(handler)
    kwargs.setdefault("retry", FAST)
    return KDocsClient("tok-123456", "https://api.example", transport=transport, **kwargs), transport


def test_request_shape_token_as_query_param_and_file_token_as_one_segment() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return envelope({"urls": []})

    client, _ = client_for(handler)
    client.resolve("a?d#e%f:é", [PicRef("k", "local")])
    request = seen[0]
    assert request.method == "POST"
    path = request.url.raw_path.decode()
    assert path.startswith("/api/v1/openapi/et/a%3Fd%23e%25f%3A%C3%A9/pictures/urls?")
    assert request.url.params["access_token"] == "tok-123456"
    assert json.loads(request.content) == {"pics": [{"pic_key": "k", "tag": "local"}]}
    assert "authorization" not in request.headers


@pytest.mark.parametrize("file_token", ["", ".", "..", "a/b", "../../etc/passwd", "a\\b", "a b", "x" * 300])
def test_a_bad_file_token_is_refused_before_any_request(file_token: str) -> None:
    client, transport = client_for(lambda r: envelope({"urls": [], "sheets_info": [], "cells": []}))
    calls: list[Callable[[], object]] = [
        lambda: client.resolve(file_token, [PicRef("k", "local")]),
        lambda: client.list_sheets(file_token),
        lambda: client.find_pictures(file_token),
        lambda: client.read_cells(file_token, 0, 0, 1, 0, 1),
    ]
    for call in calls:
        with pytest.raises(InvalidIdentifierError) as info:
            call()
        assert "the file token" in str(info.value)
    assert transport.hosts == []
    assert client.calls_made == 0


def test_a_bad_pic_key_fails_alone_and_is_never_sent() -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        pics = bodies[-1]["pics"]
        return envelope({"urls": [{**p, "pic_url": f"https://cdn.example/{p['pic_key']}"} for p in pics]})

    client, _ = client_for(handler)
    refs = [PicRef("good1", "local"), PicRef("..", "local"), PicRef("a/b", "cloud"), PicRef("good2", "local")]
    out = client.resolve("wb", refs)
    assert [o.ref for o in out] == refs
    assert [type(o).__name__ for o in out] == ["Lease", "PicFailure", "PicFailure", "Lease"]
    assert out[1].message == "pic_key cannot be '..'"  # type: ignore[union-attr]
    assert out[2].message == "pic_key 'a/b' contains a slash (/ or \\)"  # type: ignore[union-attr]
    assert bodies == [{"pics": [{"pic_key": "good1", "tag": "local"}, {"pic_key": "good2", "tag": "local"}]}]
    client.resolve("wb", [PicRef(".", "x")])
    assert len(bodies) == 1  # nothing left to ask: no call at all


def test_base_url_with_a_path_prefix_is_kept() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return envelope({"sheets_info": []})

    transport = fake_server(handler)
    with KDocsClient("t", "https://gw.example/kdocs/", transport=transport) as client:
        assert client.list_sheets("f") == []
    assert seen == ["/kdocs/api/v1/openapi/et/f/sheets"]


@pytest.mark.parametrize(
    ("response", "kind", "needles"),
    [
        (httpx.Response(200, json={"code": 20007, "msg": "AccessTokenInvalid",
                                   "hint": "access_token is required"}),
         TokenInvalidError, ["20007", "AccessTokenInvalid", "access_token is required"]),
        (httpx.Response(401, json={"code": 20007, "result": "AccessTokenInvalid"}),
         TokenInvalidError, ["20007"]),
        (httpx.Response(404, json={"code": 20404, "msg": "file not found", "message": "file not found"}),
         KDocsError, ["code 20404", "HTTP 404", "file not found"]),
        (httpx.Response(200, json={"code": 123, "message": "odd"}), KDocsError, ["code 123", "odd"]),
        (httpx.Response(400, text="<html><body><h1>400 Bad Request</h1></body></html>"),
         KDocsError, ["non-JSON reply (HTTP 400)", "400 Bad Request"]),
        (httpx.Response(200, text="[1, 2]"), KDocsError, ["unexpected JSON reply (HTTP 200)"]),
        (httpx.Response(302, headers={"Location": "https://evil.example/?x=1"}),
         KDocsError, ["HTTP 302", "redirect"]),
    ],
)
def test_errors_are_typed_and_readable(
    response: httpx.Response, kind: type[KDocsError], needles: list[str]
) -> None:
    client, transport = client_for(lambda r: response)
    with pytest.raises(kind) as info:
        client.list_sheets("f")
    text = str(info.value)
    for needle in needles:
        assert needle in text
    assert "file not found; file not found" not in text  # distinct texts only
    assert type(info.value) is kind
    assert len(transport.hosts) == 1  # none of these is worth a retry
    assert "tok-123456" not in text and "api.example" not in text


def test_envelope_without_code_is_accepted_when_the_status_is_ok() -> None:
    reply = {"data": {"sheets_info": [{"sheet_name": "X"}]}}
    client, _ = client_for(lambda r: httpx.Response(200, json=reply))
    assert [s.name for s in client.list_sheets("f")] == ["X"]


def test_a_server_echoing_the_token_does_not_leak_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params["access_token"]
        return httpx.Response(400, json={"code": 20400, "msg": f"bad token {token}",
                                         "hint": f"see https://x.example/doc?access_token={token}"})

    client, _ = client_for(handler)
    with pytest.raises(KDocsError) as info:
        client.list_sheets("f")
    assert "tok-123456" not in str(info.value) and "tok-123456" not in repr(info.value)
    assert "tok-123456" not in info.value.server_text
    assert "bad token" in str(info.value)


def test_reply_items_are_matched_by_key_and_tag_then_by_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return envelope({"urls": [
            {"pic_key": "b", "tag": "local", "pic_url": "https://cdn.example/b"},
            {"pic_key": "a", "pic_url": "https://cdn.example/a"},  # no tag: matched by key
            {"pic_key": "c", "tag": "cloud", "pic_url": ""},
            {"pic_key": "d", "tag": "cloud", "pic_url": "javascript:alert(1)"},
            {"pic_key": "zz", "tag": "local", "pic_url": "https://cdn.example/zz"},  # never asked for
            "garbage",
        ]})

    client, _ = client_for(handler)
    refs = [PicRef("a", "attachment"), PicRef("b", "local"), PicRef("c", "cloud"), PicRef("d", "cloud"),
            PicRef("e", "local")]
    out = client.resolve("f", refs)
    assert [o.ref for o in out] == refs
    assert isinstance(out[0], Lease) and out[0].url == "https://cdn.example/a"
    assert isinstance(out[1], Lease) and out[1].url == "https://cdn.example/b"
    assert isinstance(out[2], PicFailure) and out[2].message == "not found in this workbook / no download URL"
    assert isinstance(out[3], PicFailure) and out[3].message == "the server sent an unusable download URL"
    assert isinstance(out[4], PicFailure)
    assert out[4].message == "the server's reply did not include this picture"
    assert [o.reason for o in out[2:]] == [
        FailureReason.PICTURE_NOT_FOUND, FailureReason.BAD_LINK, FailureReason.NOT_IN_REPLY,
    ]  # fmt: skip


def test_find_pictures_reads_big_sheets_in_chunks() -> None:
    reads: list[tuple[int, int, int, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/sheets"):
            return envelope({"sheets_info": [
                {"sheet_idx": 0, "sheet_id": 7, "sheet_name": "Big", "row_from": 0, "row_to": 4999,
                 "col_from": 0, "col_to": 3, "is_visible": False},
            ]})
        p = request.url.params
        r0, r1, c0, c1 = (int(p[k]) for k in ("row_from", "row_to", "col_from", "col_to"))
        reads.append((r0, r1, c0, c1))
        cells = [_cell(r, 0, pic_key=f"k{r}", tag="local") for r in range(r0, r1 + 1) if r % 1000 == 5]
        cells += [_cell(r, 1, cell_text=f"row {r}") for r in range(r0, r1 + 1) if r % 1000 == 5]
        return envelope({"cells": cells})

    client, _ = client_for(handler)
    sheets = client.list_sheets("f")
    assert sheets == [SheetInfo(0, 7, "Big", 0, 4999, 0, 3, visible=False)]
    refs = client.find_pictures("f").pics
    assert [(r.pic_key, r.cell, r.caption) for r in refs] == [
        (f"k{r}", f"Big!A{r + 1}", f"row {r}") for r in (5, 1005, 2005, 3005, 4005)
    ]
    assert reads == [(0, 2499, 0, 3), (2500, 4999, 0, 3)]


# ---- against the stand-in over real loopback HTTP ----------------------------------------------------------

FILE = "demo-workbook"
PICTURE_CALL = PICTURE_URLS_PATH.format(file_token=FILE)


def settled_log(standin: StandinServer, client: KDocsClient) -> list[RequestLogEntry]:
    """The stand-in's request log once it holds every request the client sent.

    The stand-in logs a request after its reply went out, so the client can be a moment ahead of the log.
    """
    deadline = time.monotonic() + 2.0
    log = standin.request_log()
    while len(log) < client.calls_made and time.monotonic() < deadline:
        time.sleep(0.005)
        log = standin.request_log()
    return log


def picture_calls(standin: StandinServer, client: KDocsClient) -> list[int]:
    """Statuses of the pictures/urls calls the stand-in saw (0 = connection dropped)."""
    return [e.status for e in settled_log(standin, client) if e.path == PICTURE_CALL]


@pytest.fixture
def client(standin: StandinServer) -> Iterator[KDocsClient]:
    with KDocsClient("demo-token", standin.base_url, retry=FAST) as c:
        yield c


def test_batches_of_at_most_100_and_order_kept(standin_factory: Callable[..., StandinServer]) -> None:
    standin = standin_factory(pictures=250)
    refs = standin.pictures()
    assert len(refs) == 250
    before = time.monotonic()
    with KDocsClient("demo-token", standin.base_url, retry=FAST) as client:
        out = client.resolve(FILE, refs)
        assert client.calls_made == 3
    after = time.monotonic()
    assert picture_calls(standin, client) == [200, 200, 200]
    assert [o.ref for o in out] == refs
    assert all(isinstance(o, Lease) for o in out)
    for lease in out:
        assert isinstance(lease, Lease)
        assert before <= lease.obtained_at <= after
        assert lease.url.startswith(standin.base_url + f"/img/{FILE}/{lease.ref.pic_key}?")
        # the context the caller gave is kept on the lease's ref
        assert lease.ref.cell is not None and lease.ref.caption is not None


def test_duplicates_collapse_to_one_lease_in_first_occurrence_order(
    standin: StandinServer, client: KDocsClient
) -> None:
    refs = standin.pictures()[:10]
    order = (3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 0)
    shuffled = [refs[i] for i in order]
    shuffled.append(PicRef(refs[0].pic_key, refs[0].tag, caption="same picture, other context"))
    out = client.resolve(FILE, shuffled)
    assert [o.ref.pic_key for o in out] == [refs[i].pic_key for i in (3, 1, 4, 5, 9, 2, 6, 8, 7, 0)]
    assert all(isinstance(o, Lease) for o in out)
    assert out[-1].ref.caption == refs[0].caption  # the first occurrence wins
    assert picture_calls(standin, client) == [200]


def test_unknown_keys_fail_alone(standin: StandinServer, client: KDocsClient) -> None:
    good = standin.pictures()[:6]
    wrong_tag = PicRef(good[0].pic_key, "attachment" if good[0].tag != "attachment" else "local")
    refs = [good[0], PicRef("no-such-key", "local"), *good[1:3], wrong_tag, PicRef("ravXFmauNdDdDnapWimCvn",
            "attachment"), *good[3:]]
    out = client.resolve(FILE, refs)
    assert [o.ref for o in out] == refs
    failures = [o for o in out if isinstance(o, PicFailure)]
    assert [f.ref for f in failures] == [refs[1], wrong_tag, refs[5]]
    assert all(f.message == "not found in this workbook / no download URL" for f in failures)
    assert all(f.reason is FailureReason.PICTURE_NOT_FOUND for f in failures)
    assert sum(isinstance(o, Lease) for o in out) == 6
    assert picture_calls(standin, client) == [200]


def test_empty_input_makes_no_call(standin: StandinServer, client: KDocsClient) -> None:
    assert client.resolve(FILE, []) == []
    assert client.calls_made == 0 and standin.request_log() == []


def test_429_waits_for_retry_after(standin: StandinServer, client: KDocsClient) -> None:
    standin.queue_faults(["429"])
    started = time.monotonic()
    out = client.resolve(FILE, standin.pictures()[:3])
    waited = time.monotonic() - started
    assert all(isinstance(o, Lease) for o in out)
    assert picture_calls(standin, client) == [429, 200]
    assert waited >= 0.95  # Retry-After: 1 was honoured (a behaviour check, not a speed goal)
    # The lease clock starts at the request that succeeded, not at the one that was refused.
    assert all(isinstance(o, Lease) and o.obtained_at >= started + 0.95 for o in out)


@pytest.mark.parametrize("fault", ["500", "502", "503", "reset", "truncated", "html", "empty"])
def test_server_faults_are_retried(standin: StandinServer, client: KDocsClient, fault: str) -> None:
    standin.queue_faults([fault])
    out = client.resolve(FILE, standin.pictures()[:5])
    assert all(isinstance(o, Lease) for o in out)
    assert len(picture_calls(standin, client)) == 2
    assert picture_calls(standin, client)[-1] == 200
    assert client.calls_made == 2


def test_20007_is_raised_and_never_retried(standin: StandinServer, client: KDocsClient) -> None:
    standin.queue_faults(["20007"])
    with pytest.raises(TokenInvalidError) as info:
        client.resolve(FILE, standin.pictures()[:5])
    assert picture_calls(standin, client) == [401]
    assert info.value.code == 20007
    assert "20007" in str(info.value) and "access_token is required" in str(info.value)


def test_a_rejected_token_stops_all_batches_and_set_token_recovers(
    standin_factory: Callable[..., StandinServer],
) -> None:
    standin = standin_factory(pictures=500)
    with KDocsClient("stale-token", standin.base_url, retry=FAST, concurrency=2) as client:
        with pytest.raises(TokenInvalidError):
            client.resolve(FILE, standin.pictures())
        assert 1 <= len(picture_calls(standin, client)) <= 2  # only what was already in flight
        client.set_token("demo-token")
        out = client.resolve(FILE, standin.pictures()[:10])
    assert all(isinstance(o, Lease) for o in out)


class _Tokens:
    """A ``TokenProvider`` that hands out ``token`` and records rejections."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.rejected_tokens: list[str] = []

    def current(self) -> str:
        return self.token

    def rejected(self, token: str) -> None:
        self.rejected_tokens.append(token)
        self.token = "demo-token"


def test_set_token_switches_between_a_fixed_token_and_a_provider(standin: StandinServer) -> None:
    """A window's one client goes from a pasted token to a sign-in and back, without being rebuilt."""
    provider = _Tokens("stale-token")
    with KDocsClient("stale-token", standin.base_url, retry=FAST) as client:
        client.set_token(provider)
        assert [s.name for s in client.list_sheets(FILE)]  # refused once, renewed by the provider, retried
        assert provider.rejected_tokens == ["stale-token"]
        client.set_token("stale-token")  # a fixed token again: no provider to renew it
        with pytest.raises(TokenInvalidError):
            client.list_sheets(FILE)
    assert provider.rejected_tokens == ["stale-token"]


@pytest.mark.parametrize(
    ("fault", "needles"),
    [
        ("html", ["non-JSON reply (HTTP 502)", "502 Bad Gateway", "nginx"]),
        ("empty", ["non-JSON reply (HTTP 500)", "empty body"]),
        ("503", ["code 50000", "HTTP 503", "injected server fault"]),
    ],
)
def test_error_bodies_give_clear_typed_errors(standin: StandinServer, fault: str, needles: list[str]) -> None:
    standin.queue_faults([fault])
    with KDocsClient("demo-token", standin.base_url, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(KDocsError) as info:
            client.list_sheets(FILE)
        standin.queue_faults([fault])
        (failure,) = client.resolve(FILE, standin.pictures()[:1])
    assert type(info.value) is KDocsError
    for needle in needles:
        assert needle in str(info.value)
    assert "<" not in str(info.value) and standin.base_url not in str(info.value)
    assert isinstance(failure, PicFailure) and failure.message == str(info.value)


def test_connection_errors_exhaust_into_a_transport_error(
    standin_factory: Callable[..., StandinServer],
) -> None:
    standin = standin_factory()
    url = standin.base_url
    standin.queue_faults(["reset"] * FAST.max_attempts)
    with KDocsClient("demo-token", url, retry=FAST) as client:
        with pytest.raises(ApiTransportError) as info:
            client.list_sheets(FILE)
        assert client.calls_made == FAST.max_attempts
        standin.stop()
        with pytest.raises(ApiTransportError) as refused:
            client.list_sheets(FILE)
    assert "after 4 attempts" in str(info.value)
    assert "could not connect" in str(refused.value)
    for text in (str(info.value), str(refused.value)):
        assert "127.0.0.1" not in text and "http" not in text
    assert info.value.__context__ is None and info.value.__cause__ is None


def test_a_failed_batch_does_not_sink_the_others(standin_factory: Callable[..., StandinServer]) -> None:
    standin = standin_factory(pictures=250)
    refs = standin.pictures()
    policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
    standin.queue_faults(["500", "502"])  # both tries of the first batch
    with KDocsClient("demo-token", standin.base_url, retry=policy, concurrency=1) as client:
        out = client.resolve(FILE, refs)
    assert [o.ref for o in out] == refs
    assert all(isinstance(o, PicFailure) for o in out[:100])
    assert all(isinstance(o, Lease) for o in out[100:])
    failure = out[0]
    assert isinstance(failure, PicFailure)
    assert failure.code == 50000 and "HTTP 502" in failure.message
    assert picture_calls(standin, client) == [500, 502, 200, 200]


def test_a_failed_batch_among_parallel_ones(standin_factory: Callable[..., StandinServer]) -> None:
    standin = standin_factory(pictures=400)
    refs = standin.pictures()
    policy = RetryPolicy(max_attempts=1)
    standin.queue_faults(["503"])
    with KDocsClient("demo-token", standin.base_url, retry=policy, concurrency=4) as client:
        out = client.resolve(FILE, refs)
    assert [o.ref for o in out] == refs
    failed = [i for i, o in enumerate(out) if isinstance(o, PicFailure)]
    assert len(failed) == MAX_PICS_PER_CALL and failed[0] % MAX_PICS_PER_CALL == 0
    assert failed == list(range(failed[0], failed[0] + MAX_PICS_PER_CALL))


class ConcurrencyProbe(httpx.BaseTransport):
    """A real HTTP transport that counts requests in flight and can run a hook after each one."""

    def __init__(self, after: Callable[[], None] | None = None) -> None:
        self.inner = httpx.HTTPTransport()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.after = after

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            response = self.inner.handle_request(request)
            response.read()
            return response
        finally:
            with self.lock:
                self.in_flight -= 1
            if self.after is not None:
                self.after()

    def close(self) -> None:
        self.inner.close()


def test_batches_run_concurrently_up_to_the_limit(standin_factory: Callable[..., StandinServer]) -> None:
    standin = standin_factory(pictures=600, latency_ms=150)
    probe = ConcurrencyProbe()
    with KDocsClient("demo-token", standin.base_url, concurrency=3, transport=probe) as client:
        out = client.resolve(FILE, standin.pictures())
    assert len(out) == 600 and all(isinstance(o, Lease) for o in out)
    assert probe.peak == 3
    assert len(picture_calls(standin, client)) == 6


def test_cancel_stops_launching_batches(standin_factory: Callable[..., StandinServer]) -> None:
    standin = standin_factory(pictures=500)
    cancel = threading.Event()
    probe = ConcurrencyProbe(after=cancel.set)
    with KDocsClient("demo-token", standin.base_url, concurrency=1, transport=probe) as client:
        out = client.resolve(FILE, standin.pictures(), cancel=cancel)
        assert client.resolve(FILE, standin.pictures(), cancel=cancel) == []
    assert [o.ref for o in out] == standin.pictures()[:100]
    assert picture_calls(standin, client) == [200]


def test_cancel_interrupts_a_retry_wait(standin: StandinServer, client: KDocsClient) -> None:
    standin.queue_faults(["429"])
    cancel = threading.Event()
    timer = threading.Timer(0.1, cancel.set)
    timer.start()
    try:
        assert client.resolve(FILE, standin.pictures()[:3], cancel=cancel) == []
    finally:
        timer.join()
    assert picture_calls(standin, client) == [429]


def test_lifetimes_follow_the_url_expiry_with_time_scale(
    standin_factory: Callable[..., StandinServer],
) -> None:
    scale = 0.01
    standin = standin_factory(time_scale=scale, pictures=12)
    with KDocsClient("demo-token", standin.base_url) as client:
        out = client.resolve(FILE, standin.pictures())
    by_tag: dict[str, list[Lease]] = {}
    for lease in out:
        assert isinstance(lease, Lease)
        by_tag.setdefault(lease.ref.tag, []).append(lease)
    assert set(by_tag) == {"local", "attachment", "cloud"}
    for tag, leases in by_tag.items():
        for lease in leases:
            assert not lease.estimated
            if tag == "cloud":
                assert lease.ttl is None
            else:
                assert lease.ttl == pytest.approx(TAG_LIFETIMES[tag] * scale, abs=0.5)


def test_find_pictures_matches_the_workbook(standin: StandinServer, client: KDocsClient) -> None:
    found = client.find_pictures(FILE).pics
    expected = standin.pictures()
    assert [(r.pic_key, r.tag, r.sheet, r.cell, r.caption) for r in found] == [
        (r.pic_key, r.tag, r.sheet, r.cell, r.caption) for r in expected
    ]
    sheets = client.list_sheets(FILE)
    assert [s.name for s in sheets] == ["Products", "Team", "Receipts"]
    assert client.calls_made == 1 + len(sheets) + 1


def test_find_pictures_in_chunks_against_the_stand_in(
    standin: StandinServer, client: KDocsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "MAX_CELLS_PER_READ", 12)  # 3 rows of 4 columns per read
    found = client.find_pictures(FILE).pics
    assert [(r.pic_key, r.cell, r.caption) for r in found] == [
        (r.pic_key, r.cell, r.caption) for r in standin.pictures()
    ]
    cells_calls = [e for e in settled_log(standin, client) if e.path.endswith("/cells")]
    assert len(cells_calls) > 3 * 3 and all(e.status == 200 for e in cells_calls)


def test_find_pictures_stops_on_cancel(standin: StandinServer, client: KDocsClient) -> None:
    cancel = threading.Event()
    cancel.set()
    assert client.find_pictures(FILE, cancel=cancel).pics == []


def test_unknown_file_token(standin: StandinServer, client: KDocsClient) -> None:
    with pytest.raises(KDocsError) as info:
        client.list_sheets("other-workbook")
    assert info.value.code == 20404 and info.value.status == 404
    assert info.value.reason is FailureReason.WORKBOOK_NOT_FOUND
    (failure,) = client.resolve("other-workbook", standin.pictures()[:1])
    assert isinstance(failure, PicFailure) and failure.code == 20404
    assert failure.reason is FailureReason.WORKBOOK_NOT_FOUND
    assert failure.server_text == info.value.server_text == "FileNotFound; no such file"


def test_quota_used_up_is_not_waited_out(standin_factory: Callable[..., StandinServer]) -> None:
    standin = standin_factory(quota=1)
    with KDocsClient("demo-token", standin.base_url) as client:
        client.list_sheets(FILE)
        assert client.daily_limit is None  # not stated by a good answer
        with pytest.raises(QuotaExceededError) as info:
            client.list_sheets(FILE)
        assert client.daily_limit == 1  # stated by the quota answer
    assert "quota" in str(info.value) and info.value.status == 429
    assert info.value.reason is FailureReason.QUOTA
    assert len(settled_log(standin, client)) == 2  # Retry-After points to tomorrow: beyond any budget


def test_after_a_quota_error_later_batches_fail_without_a_call(
    standin_factory: Callable[..., StandinServer],
) -> None:
    standin = standin_factory(pictures=300, quota=1)
    refs = standin.pictures()
    with KDocsClient("demo-token", standin.base_url, concurrency=1) as client:
        out = client.resolve(FILE, refs)
        assert picture_calls(standin, client) == [200, 429]
    assert all(isinstance(o, Lease) for o in out[:100])
    failures = [o for o in out[100:] if isinstance(o, PicFailure)]
    assert len(failures) == 200 and all(f.code == 20429 for f in failures)
    assert all(f.reason is FailureReason.QUOTA for f in failures)
    assert "quota" in failures[0].message and failures[0].message == failures[-1].message


def test_environment_proxies_are_not_used_for_a_loopback_api(
    standin: StandinServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://192.0.2.1:9")  # TEST-NET: would hang or fail if used
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    once = RetryPolicy(max_attempts=1)
    with KDocsClient("demo-token", standin.base_url, timeout=3.0, retry=once) as client:
        assert len(client.list_sheets(FILE)) == 3


def test_calls_made_counts_every_request_sent(standin: StandinServer, client: KDocsClient) -> None:
    standin.queue_faults(["500", "reset"])
    client.list_sheets(FILE)
    assert client.calls_made == 3 == len(settled_log(standin, client))


def test_closed_client_refuses_work(standin: StandinServer) -> None:
    client = KDocsClient("demo-token", standin.base_url)
    client.close()
    with pytest.raises(RuntimeError):
        client.list_sheets(FILE)


class SendProbe(httpx.BaseTransport):
    """The real transport, telling when a request goes out."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.set()
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_close_lets_a_call_on_the_wire_finish(standin_factory: Callable[..., StandinServer]) -> None:
    """The window closes its client while a call waits for its answer: closing the sockets under it made
    the answer a transport failure (or, worse, a read of whatever file took the descriptor number next)."""
    standin = standin_factory(pictures=3, latency_ms=800)
    probe = SendProbe()
    client = KDocsClient("demo-token", standin.base_url, retry=FAST, transport=probe)
    call = InThread(lambda: client.list_sheets(FILE))
    assert probe.sent.wait(5)
    time.sleep(0.2)  # the request is out; the answer comes after the stand-in's latency
    client.close()
    with pytest.raises(RuntimeError):
        client.list_sheets(FILE)
    sheets = call.result()
    assert isinstance(sheets, list) and sheets, sheets
    assert client.calls_made == 1


_RESOLVE_THEN_EXIT = """
import json, sys, threading, time
from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.models import PicRef
base, keys = sys.argv[1], json.loads(sys.argv[2])
client = KDocsClient("demo-token", base, concurrency=4)
refs = [PicRef(key, tag) for key, tag in keys]
threading.Thread(target=client.resolve, args=("demo-workbook", refs), daemon=True).start()
time.sleep(0.5)  # the batches are on the wire; the program ends (a window closed, say)
"""


def test_a_resolve_on_the_wire_does_not_keep_the_process_alive(
    standin_factory: Callable[..., StandinServer],
) -> None:
    """Its batches ran on a ThreadPoolExecutor, whose threads Python joins at exit: a program that ended
    during a resolve on a slow line stayed alive until the server answered."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    standin = standin_factory(pictures=3 * MAX_PICS_PER_CALL, latency_ms=8000)
    keys = [[ref.pic_key, ref.tag] for ref in standin.pictures()]
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _RESOLVE_THEN_EXIT, standin.base_url, json.dumps(keys)],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 5.0  # joined, it took the server's 8 s
