"""One TLS context for the whole process.

Building an ``ssl.SSLContext`` loads the CA bundle: about 60 ms of CPU with the GIL held, paid again by every
``httpx.Client`` that is not handed a context. The viewer makes clients on the GUI thread (a new API client,
a session's downloader per Load), so each would freeze the window for a frame or five. Sharing one
context makes a client cost ~3 ms, and ``core.warmup`` moves the one-time cost off the GUI thread.
"""

from __future__ import annotations

import ssl
import threading

import httpx

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def shared_ssl_context() -> ssl.SSLContext:
    """The process's client TLS context: certifi's CA bundle, or SSL_CERT_FILE / SSL_CERT_DIR when set."""
    global _context
    with _lock:
        if _context is None:
            _context = httpx.create_ssl_context(trust_env=True)
        return _context
