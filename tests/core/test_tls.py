"""The shared TLS context: built once per process, used by every client, warm-able off the GUI thread."""

from __future__ import annotations

import ssl

from kdocs_viewer.core import tls
from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.download import Downloader


def test_one_context_for_every_client() -> None:
    thread = tls.warm_up()
    thread.join(timeout=10)
    assert not thread.is_alive()
    context = tls.shared_ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert tls.shared_ssl_context() is context
    with KDocsClient("t", "https://developer.kdocs.cn") as client:
        transport = client._http._transport  # httpx keeps the context on its pool
        assert transport._pool._ssl_context is context
    downloader = Downloader()
    try:
        assert downloader._client._transport._pool._ssl_context is context
    finally:
        downloader.close()
