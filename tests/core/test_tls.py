"""The shared TLS context: built once per process, used by every client, warm-able off the GUI thread."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from kdocs_viewer.core import tls
from kdocs_viewer.core.api import KDocsClient, KDocsError
from kdocs_viewer.core.download import Downloader, DownloadError
from kdocs_viewer.core.retry import RetryPolicy
from kdocs_viewer.core.warmup import warm_up


@pytest.fixture
def hangs_up() -> Iterator[int]:
    """A loopback port that accepts connections and closes them at once: a TLS client begins its handshake
    there (its context counts it) and fails; no certificate is involved."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    thread = threading.Thread(target=serve, name="tls-test-hang-up", daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        server.close()
        thread.join(5)


def _handshakes(context: ssl.SSLContext) -> int:
    return int(context.session_stats()["connect"])  # client handshakes started with this context


def test_one_context_for_every_client(hangs_up: int) -> None:
    thread = warm_up()
    thread.join(timeout=10)
    assert not thread.is_alive()
    context = tls.shared_ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert tls.shared_ssl_context() is context

    before = _handshakes(context)
    client = KDocsClient("t", f"https://127.0.0.1:{hangs_up}", retry=RetryPolicy(max_attempts=1))
    with client, pytest.raises(KDocsError):
        client.list_sheets("book")
    after_api = _handshakes(context)
    assert after_api > before  # the API client's handshake ran on the shared context
    with Downloader(tries=1) as downloader, pytest.raises(DownloadError):
        downloader.get(f"https://127.0.0.1:{hangs_up}/picture.jpg")
    assert _handshakes(context) > after_api  # and so did the downloader's
