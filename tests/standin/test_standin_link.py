"""The stand-in as a real line and a real object store: the shared line's arithmetic, HTTP Range, --no-range.

Shaping is checked for its arithmetic on a fake clock and for serving exact bytes when shaped; how fast a
shaped line really is belongs to the benchmark (``bench``), not to a unit test.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from kdocs_viewer.core.contract import PICTURE_URLS_PATH, TOKEN_PARAM
from kdocs_viewer.standin.cli import build_parser, config_from_args
from kdocs_viewer.standin.config import StandinConfig
from kdocs_viewer.standin.link import CHUNK_BYTES, TokenBucket, Unsatisfiable, bytes_per_second, parse_range
from kdocs_viewer.standin.server import StandinServer

Factory = Callable[..., StandinServer]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ----------------------------------------------------------------------------------------- the line
def test_a_booking_within_the_credit_goes_at_once_then_the_line_runs_at_its_rate() -> None:
    clock = FakeClock()
    line = TokenBucket(1000.0, burst=500, clock=clock)
    assert line.reserve(500) == 0.0  # the idle line's credit
    assert line.reserve(250) == pytest.approx(0.25)  # 250 bytes at 1000 B/s
    assert line.reserve(250) == pytest.approx(0.5)  # queued behind the first: first come, first served


def test_parallel_users_share_the_line() -> None:
    clock = FakeClock()
    line = TokenBucket(1000.0, burst=0, clock=clock)
    # Two downloads book 100-byte chunks in turn: together they get 1000 B/s, not 1000 B/s each.
    waits = [line.reserve(100) for _ in range(10)]
    assert waits == pytest.approx([0.1 * (i + 1) for i in range(10)])
    clock.now += 1.0  # a second later the line has carried all of them
    assert line.reserve(100) == pytest.approx(0.1)


def test_credit_refills_with_time_up_to_the_burst_only() -> None:
    clock = FakeClock()
    line = TokenBucket(1000.0, burst=200, clock=clock)
    assert line.reserve(200) == 0.0
    clock.now += 0.1  # 100 bytes of credit back
    assert line.reserve(100) == pytest.approx(0.0, abs=1e-9)
    clock.now += 60.0  # a long idle time refills the burst, not a minute's worth
    assert line.reserve(200) == pytest.approx(0.0, abs=1e-9)
    assert line.reserve(100) == pytest.approx(0.1)


def test_line_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0.0)
    with pytest.raises(ValueError):
        TokenBucket(float("inf"))
    with pytest.raises(ValueError):
        TokenBucket(10.0).reserve(-1)
    assert bytes_per_second(100) == 12_500_000


# ----------------------------------------------------------------------------------------- Range rules
@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=10-", 100, (10, 99)),
        ("bytes=-30", 100, (70, 99)),
        ("bytes=-300", 100, (0, 99)),  # more than the file: all of it
        ("bytes=90-1000", 100, (90, 99)),  # cut to the end
        ("bytes=0-0", 1, (0, 0)),
        ("BYTES = 5-6", 100, (5, 6)),
        ("bytes=100-", 100, Unsatisfiable(100)),
        ("bytes=100-200", 100, Unsatisfiable(100)),
        ("bytes=-0", 100, Unsatisfiable(100)),
        ("bytes=0-", 0, Unsatisfiable(0)),
        ("bytes=-5", 0, Unsatisfiable(0)),
        ("bytes=0-4,10-14", 100, None),  # several ranges: answered whole
        ("bytes=9-3", 100, None),  # invalid: ignored
        ("bytes=a-b", 100, None),
        ("bytes=-", 100, None),
        ("bytes=1", 100, None),
        ("items=0-9", 100, None),
        ("bytes=٣-٤", 100, None),  # Unicode digits are not HTTP digits
    ],
)
def test_parse_range(header: str | None, size: int, expected: object) -> None:
    assert parse_range(header, size) == expected


# ----------------------------------------------------------------------------------------- over HTTP
def picture_url(http: httpx.Client, server: StandinServer, index: int = 0) -> tuple[str, bytes]:
    ref = server.pictures()[index]
    response = http.post(
        server.base_url + PICTURE_URLS_PATH.format(file_token=server.config.file_token),
        params={TOKEN_PARAM: server.config.token},
        json={"pics": [{"pic_key": ref.pic_key, "tag": ref.tag}]},
    )
    return response.json()["data"]["urls"][0]["pic_url"], server.image_bytes(ref.pic_key)


def image_log(server: StandinServer) -> list[tuple[int, int, str]]:
    return [(e.status, e.body_bytes, e.range) for e in server.request_log() if e.path.startswith("/img/")]


def test_whole_file_is_200_and_says_ranges_are_accepted(standin: StandinServer, http: httpx.Client) -> None:
    url, data = picture_url(http, standin)
    response = http.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["accept-ranges"] == "bytes"
    assert "content-range" not in response.headers
    assert image_log(standin) == [(200, len(data), "")]


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-64", -64, None), ("bytes=0-", 0, None)],
)
def test_a_range_is_206_with_exactly_those_bytes(
    standin: StandinServer, http: httpx.Client, header: str, first: int, last: int | None
) -> None:
    url, data = picture_url(http, standin)
    response = http.get(url, headers={"Range": header})
    expected = data[first : None if last is None else last + 1]
    assert response.status_code == 206
    assert response.content == expected
    start = first % len(data)
    assert response.headers["content-range"] == f"bytes {start}-{start + len(expected) - 1}/{len(data)}"
    assert response.headers["content-length"] == str(len(expected))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"].startswith("image/")
    assert image_log(standin) == [(206, len(expected), header)]


def test_a_range_past_the_end_is_416_with_the_size(standin: StandinServer, http: httpx.Client) -> None:
    url, data = picture_url(http, standin)
    response = http.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(data)}"


def test_several_ranges_are_answered_whole_with_200(standin: StandinServer, http: httpx.Client) -> None:
    url, data = picture_url(http, standin)
    response = http.get(url, headers={"Range": "bytes=0-9,20-29"})
    assert response.status_code == 200
    assert response.content == data


def test_no_range_answers_every_get_whole(standin_factory: Factory, http: httpx.Client) -> None:
    server = standin_factory(honour_range=False)
    url, data = picture_url(http, server)
    response = http.get(url, headers={"Range": "bytes=0-99"})
    assert response.status_code == 200
    assert response.content == data
    assert "accept-ranges" not in response.headers and "content-range" not in response.headers
    assert http.get(url, headers={"Range": f"bytes={len(data) + 5}-"}).status_code == 200
    assert image_log(server) == [(200, len(data), "bytes=0-99"), (200, len(data), f"bytes={len(data) + 5}-")]


def test_faults_apply_to_the_ranged_answer(standin: StandinServer, http: httpx.Client) -> None:
    url, data = picture_url(http, standin)
    standin.queue_image_faults(["truncated"])
    with pytest.raises(httpx.RemoteProtocolError):  # Content-Length of the range, half of it sent
        http.get(url, headers={"Range": "bytes=0-999"})
    standin.queue_image_faults(["corrupt"])  # the file is replaced, then the range is taken of it
    corrupt = http.get(url, headers={"Range": "bytes=0-15"})
    assert corrupt.status_code == 206 and corrupt.content != data[:16] and len(corrupt.content) == 16
    assert http.get(url, headers={"Range": "bytes=0-15"}).content == data[:16]  # and then all is well
    assert [status for status, _, _ in image_log(standin)] == [206, 206, 206]
    assert image_log(standin)[0][1] == 500


def test_a_shaped_line_serves_exact_bytes(standin_factory: Factory, http: httpx.Client) -> None:
    # Fast enough not to slow the test down; the line's speed itself is the benchmark's business.
    server = standin_factory(bandwidth_mbps=10_000)
    photo = server.pictures_of_kind("photo")[0]
    index = server.pictures().index(photo)
    url, data = picture_url(http, server, index)
    assert len(data) > 3 * CHUNK_BYTES  # sent in several chunks
    whole = http.get(url)
    assert (whole.status_code, whole.content) == (200, data)
    head = http.get(url, headers={"Range": f"bytes=0-{CHUNK_BYTES + 99}"})
    assert (head.status_code, head.content) == (206, data[: CHUNK_BYTES + 100])
    tail = http.get(url, headers={"Range": "bytes=-10"})
    assert (tail.status_code, tail.content) == (206, data[-10:])
    assert [(status, sent) for status, sent, _ in image_log(server)] == [
        (200, len(data)),
        (206, CHUNK_BYTES + 100),
        (206, 10),
    ]


# ----------------------------------------------------------------------------------------- the CLI
def test_bandwidth_and_range_flags_map_onto_the_config() -> None:
    parser = build_parser()
    plain = config_from_args(parser.parse_args([]))
    assert (plain.bandwidth_mbps, plain.honour_range) == (0.0, True)
    shaped = config_from_args(
        parser.parse_args(["--bandwidth-mbps", "20", "--latency-ms", "40", "--no-range"])
    )
    assert (shaped.bandwidth_mbps, shaped.latency_ms, shaped.honour_range) == (20.0, 40.0, False)
    with pytest.raises(ValueError, match="bandwidth_mbps"):
        StandinConfig(bandwidth_mbps=-1)
