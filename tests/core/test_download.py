"""Downloader against a small scripted HTTP server on loopback (real sockets, exact control of the bytes)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kdocs_viewer.core.download import (
    DownloadCancelled,
    Downloader,
    DownloadError,
    UrlExpiredError,
)
from kdocs_viewer.core.errors import FailureReason
from tests.helpers.threads import InThread

Script = Callable[[BaseHTTPRequestHandler], None]

CHUNK = 64 * 1024  # what httpcore reads from the socket at a time


@dataclass
class Scripted:
    """Loopback server answering each GET per path from a script (a queue of handlers, then the last)."""

    base: str
    scripts: dict[str, list[Script]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    hung_up: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))  # a client closed

    def on(self, path: str, *steps: Script) -> str:
        self.scripts[path] = list(steps)
        return f"{self.base}{path}?Expires=9999999999&Sig=s3cr3t-signature"


def body(data: bytes, status: int = 200, content_length: int | None = None) -> Script:
    def run(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "image/png")
        h.send_header("Content-Length", str(len(data) if content_length is None else content_length))
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()
        if content_length is not None and content_length != len(data):
            h.close_connection = True

    return run


def redirect(location: str) -> Script:
    def run(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return run


def chunked(chunks: list[bytes], after_first: threading.Event | None = None, pause: float = 0.0) -> Script:
    def run(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            for i, chunk in enumerate(chunks):
                h.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                h.wfile.flush()
                if i == 0 and after_first is not None:
                    after_first.set()
                time.sleep(pause)
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up (cancel): expected

    return run


@pytest.fixture
def server() -> Iterator[Scripted]:
    scripted: Scripted

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            scripted.hits[path] = scripted.hits.get(path, 0) + 1
            scripted.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
            steps = scripted.scripts.get(path)
            if not steps:
                body(b"not found", 404)(self)
                return
            step = steps.pop(0) if len(steps) > 1 else steps[0]
            step(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

        def finish(self) -> None:  # the connection ended: the client closed it (keep-alive until then)
            super().finish()
            scripted.hung_up.release()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    scripted = Scripted(base=f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), name="scripted-http", daemon=True)
    thread.start()
    yield scripted
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def downloader() -> Iterator[Downloader]:
    with Downloader(timeout=5.0, retry_delay=0.01) as d:
        yield d


def assert_no_url(exc: BaseException) -> None:
    text = str(exc)
    assert "127.0.0.1" not in text and "s3cr3t" not in text and "http" not in text
    assert exc.__suppress_context__ or exc.__context__ is None  # no httpx text in a printed traceback


def test_returns_the_exact_bytes_of_a_multi_chunk_body(server: Scripted, downloader: Downloader) -> None:
    data = bytes(range(256)) * (3 * CHUNK // 256 + 17)
    url = server.on("/img/a", body(data))
    assert downloader.get(url) == data
    assert downloader.get(url) == data
    assert server.hits["/img/a"] == 2


def test_sends_no_token_and_no_cookies(server: Scripted, downloader: Downloader) -> None:
    url = server.on("/img/a", body(b"png"))
    downloader.get(url)
    headers = server.headers_seen[0]
    assert "authorization" not in headers and "cookie" not in headers
    assert "access_token" not in " ".join(headers.values())


def test_empty_body_is_returned_as_empty_bytes(server: Scripted, downloader: Downloader) -> None:
    assert downloader.get(server.on("/img/zero", body(b""))) == b""


def test_follows_a_redirect_to_another_location(server: Scripted, downloader: Downloader) -> None:
    server.on("/cdn/real", body(b"cdn bytes"))
    url = server.on("/img/signed", redirect(f"{server.base}/cdn/real?token=abc"))
    assert downloader.get(url) == b"cdn bytes"
    assert server.hits == {"/img/signed": 1, "/cdn/real": 1}


@pytest.mark.parametrize("status", [403, 410])
def test_refused_url_is_expired_and_not_retried(
    server: Scripted, downloader: Downloader, status: int
) -> None:
    url = server.on("/img/x", body(b"denied", status))
    with pytest.raises(UrlExpiredError) as info:
        downloader.get(url)
    assert info.value.status == status and info.value.reason is FailureReason.EXPIRED_LINK
    assert f"HTTP {status}" in str(info.value)
    assert_no_url(info.value)
    assert server.hits["/img/x"] == 1


def test_404_is_a_plain_error_without_retry(server: Scripted, downloader: Downloader) -> None:
    with pytest.raises(DownloadError) as info:
        downloader.get(server.on("/img/x", body(b"gone", 404)))
    assert not isinstance(info.value, UrlExpiredError)
    assert info.value.status == 404 and not info.value.transient
    assert info.value.reason is FailureReason.BAD_LINK
    assert server.hits["/img/x"] == 1


def test_5xx_is_retried_once_then_succeeds(server: Scripted, downloader: Downloader) -> None:
    url = server.on("/img/x", body(b"oops", 503), body(b"fine"))
    assert downloader.get(url) == b"fine"
    assert server.hits["/img/x"] == 2


def test_persistent_5xx_fails_after_two_tries(server: Scripted, downloader: Downloader) -> None:
    url = server.on("/img/x", body(b"oops", 500))
    with pytest.raises(DownloadError) as info:
        downloader.get(url)
    assert info.value.status == 500 and info.value.transient
    assert info.value.reason is FailureReason.SERVER_ERROR
    assert_no_url(info.value)
    assert server.hits["/img/x"] == 2


def test_truncated_body_is_an_error_then_retried(server: Scripted, downloader: Downloader) -> None:
    url = server.on("/img/t", body(b"x" * 500, content_length=1000), body(b"y" * 1000))
    assert downloader.get(url) == b"y" * 1000
    url = server.on("/img/t2", body(b"x" * 500, content_length=1000))
    with pytest.raises(DownloadError) as info:
        downloader.get(url)
    assert info.value.transient and info.value.reason is FailureReason.NETWORK
    assert_no_url(info.value)
    assert server.hits["/img/t2"] == 2


def test_max_bytes_by_declared_length_and_by_stream(server: Scripted, downloader: Downloader) -> None:
    with pytest.raises(DownloadError, match="too large") as info:
        downloader.get(server.on("/img/big", body(b"z" * 5000)), max_bytes=4000)
    assert info.value.reason is FailureReason.TOO_LARGE
    with pytest.raises(DownloadError, match="larger than the limit") as info:
        downloader.get(server.on("/img/big2", chunked([b"z" * 3000, b"z" * 3000])), max_bytes=4000)
    assert info.value.reason is FailureReason.TOO_LARGE
    assert server.hits["/img/big"] == 1 and server.hits["/img/big2"] == 1  # a definite answer: no retry
    assert downloader.get(server.on("/img/ok", body(b"z" * 4000)), max_bytes=4000) == b"z" * 4000


def test_cancel_before_start_sends_nothing(server: Scripted, downloader: Downloader) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DownloadCancelled) as info:
        downloader.get(server.on("/img/x", body(b"x")), cancel=cancel)
    assert info.value.reason is FailureReason.CANCELLED
    assert "/img/x" not in server.hits


def held(data: bytes, arrived: threading.Event, release: threading.Event) -> Script:
    """Answer only once ``release`` is set: the GET is on the wire meanwhile."""

    def run(h: BaseHTTPRequestHandler) -> None:
        arrived.set()
        release.wait(5)
        body(data)(h)

    return run


def test_close_leaves_a_get_on_the_wire_alone_and_ends_the_connection_after_it(server: Scripted) -> None:
    data = b"p" * (2 * CHUNK + 5)
    arrived, release = threading.Event(), threading.Event()
    url = server.on("/img/held", held(data, arrived, release))
    downloader = Downloader(timeout=5.0, retry_delay=0.01)
    call = InThread(lambda: downloader.get(url))
    assert arrived.wait(5)
    downloader.close()  # returns while the answer is still held back: closing never waits for the network
    with pytest.raises(DownloadCancelled):
        downloader.get(server.on("/img/later", body(b"x")))
    assert "/img/later" not in server.hits
    release.set()
    # The socket was not closed under the worker's read (that turned the answer into a failed retry).
    assert call.result() == data
    assert server.hung_up.acquire(timeout=5), "the last GET to end did not close the connection"
    assert server.hits["/img/held"] == 1


def test_cancel_between_chunks(server: Scripted, downloader: Downloader) -> None:
    first_sent = threading.Event()
    chunk = b"c" * CHUNK
    url = server.on("/img/slow", chunked([chunk] * 200, after_first=first_sent, pause=0.02))
    cancel = threading.Event()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            downloader.get(url, cancel=cancel)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert first_sent.wait(5)
    cancel.set()
    worker.join(5)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], DownloadCancelled)
    assert server.hits["/img/slow"] == 1


def test_cancel_during_retry_wait(server: Scripted) -> None:
    cancel = threading.Event()
    url = server.on("/img/x", body(b"oops", 500))
    with Downloader(timeout=5.0, retry_delay=30.0) as slow_retry:
        timer = threading.Timer(0.05, cancel.set)
        timer.start()
        with pytest.raises(DownloadCancelled):
            slow_retry.get(url, cancel=cancel)
        timer.join()
    assert server.hits["/img/x"] == 1


def test_connection_refused_is_a_clean_error(downloader: Downloader) -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError) as info:
        downloader.get(f"http://127.0.0.1:{port}/img/x?Sig=s3cr3t-signature")
    assert "could not connect" in str(info.value)
    assert info.value.reason is FailureReason.NETWORK
    assert_no_url(info.value)


@pytest.mark.parametrize("url", ["ftp://example.org/x.png", "not a url", ""])
def test_unusable_urls(downloader: Downloader, url: str) -> None:
    with pytest.raises(DownloadError) as info:
        downloader.get(url)
    assert not info.value.transient and info.value.reason is FailureReason.BAD_LINK


def test_repr_and_close() -> None:
    d = Downloader()
    assert "Downloader" in repr(d)
    d.close()
    assert "closed" in repr(d)
