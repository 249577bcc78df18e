"""A one-shot loopback listener for the OAuth callback, on ``http.server`` in a thread (no Qt).

Bound to 127.0.0.1 only, on the one port registered as the app's callback. It takes exactly one answer:
the first ``GET /callback`` whose ``state`` matches. A request with a wrong or missing state gets 400 and the
listener keeps waiting — otherwise any web page or local program could end (or spoil) a sign-in in progress
by sending one forged request, and a stale tab from an earlier attempt would cancel the new one. Other paths
(a browser's ``/favicon.ico``) get 404. The browser is answered with a small self-contained page in the
user's language (texts given by the caller, escaped here; no scripts, no external resources, no referrer).

The listener closes after its answer, after ``timeout`` (5 minutes), or on ``cancel()``; its threads end
with it. Nothing it logs contains the code or the state.
"""

from __future__ import annotations

import contextlib
import errno
import html
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kdocs_viewer.core.auth import (
    AuthError,
    AuthReason,
    auth_error,
    parse_callback,
    redirect_uri_for,
    states_match,
)
from kdocs_viewer.core.contract import CALLBACK_PATH, DEFAULT_CALLBACK_PORT
from kdocs_viewer.core.i18n import translate

__all__ = ["DEFAULT_TIMEOUT", "LOOPBACK_HOST", "CallbackListener", "CallbackPage"]

log = logging.getLogger(__name__)

LOOPBACK_HOST = "127.0.0.1"
DEFAULT_TIMEOUT = 300.0  # seconds the listener waits for the browser
_CONNECTION_TIMEOUT = 5.0  # a connection that sends nothing (a browser's preconnect) is dropped after this
_POLL = 0.25  # how often the serving loop looks at the clock and at cancel()
_ADDR_IN_USE = {errno.EADDRINUSE, 10048}  # 10048: WSAEADDRINUSE


@dataclass(frozen=True)
class CallbackPage:
    """What the browser tab says after the callback, as plain text (escaped when rendered).

    ``lang`` goes into ``<html lang>`` (e.g. ``"en"``, ``"zh-CN"``). ``default()`` takes every text through
    the core's ``translate``, so it is in the user's language wherever the GUI installed a translator.
    """

    lang: str = "en"
    title: str = "KDocs sign-in"
    success_heading: str = "You are signed in"
    success_text: str = "You can close this tab and go back to the app."
    failure_heading: str = "You are not signed in"
    failure_text: str = "You can close this tab and go back to the app."
    stale_heading: str = "This sign-in page is out of date"
    stale_text: str = "Go back to the app and start signing in again."

    @classmethod
    def default(cls, lang: str = "en") -> CallbackPage:
        return cls(
            lang=lang,
            title=translate("oauth_listener", "KDocs sign-in"),
            success_heading=translate("oauth_listener", "You are signed in"),
            success_text=translate("oauth_listener", "You can close this tab and go back to the app."),
            failure_heading=translate("oauth_listener", "You are not signed in"),
            failure_text=translate("oauth_listener", "You can close this tab and go back to the app."),
            stale_heading=translate("oauth_listener", "This sign-in page is out of date"),
            stale_text=translate("oauth_listener", "Go back to the app and start signing in again."),
        )

    def render(self, heading: str, text: str, detail: str = "") -> bytes:
        """A small self-contained HTML page; every text is escaped."""
        esc = html.escape
        extra = f"<p class=detail>{esc(detail)}</p>" if detail else ""
        page = (
            "<!DOCTYPE html>"
            f'<html lang="{esc(self.lang, quote=True)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(self.title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;"
            "color:#222}h1{font-size:1.4em}.detail{color:#555}</style></head>"
            f"<body><h1>{esc(heading)}</h1><p>{esc(text)}</p>{extra}</body></html>"
        )
        return page.encode("utf-8")


_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    # Nothing on the page may load anything from anywhere: the callback page talks to no other host.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Connection": "close",
}


class _Server(ThreadingHTTPServer):
    """Tracks its open connections, so closing can end them instead of waiting out their timeouts."""

    daemon_threads = False  # joined by server_close()
    block_on_close = True
    allow_reuse_address = os.name != "nt"  # POSIX: rebind over TIME_WAIT; Windows: would allow stealing

    def __init__(self, listener: CallbackListener, port: int) -> None:
        self.listener = listener
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((LOOPBACK_HOST, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self._open_lock:
            open_now = list(self._open)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a broken browser connection is not our error.
        log.debug("callback listener: a connection failed", exc_info=False)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = _CONNECTION_TIMEOUT
    protocol_version = "HTTP/1.1"
    server_version = "kdocs-viewer"
    sys_version = ""

    def do_GET(self) -> None:
        listener = self.server.listener
        try:
            parts = urlsplit(self.path)
        except ValueError:
            self._answer(400, listener.page.stale_heading, listener.page.stale_text)
            return
        if parts.path != CALLBACK_PATH:
            self._answer(404, "404", "")
            return
        states = parse_qs(parts.query, keep_blank_values=True).get("state", [])
        if len(states) != 1 or not states_match(states[0], listener.state):
            log.info("callback listener: a request without this sign-in's state was refused")
            self._answer(400, listener.page.stale_heading, listener.page.stale_text)
            return
        listener._deliver(self)

    def do_POST(self) -> None:
        self._answer(405, "405", "")

    do_PUT = do_DELETE = do_HEAD = do_POST

    def _answer(self, status: int, heading: str, text: str, detail: str = "") -> None:
        body = self.server.listener.page.render(heading, text, detail)
        self.send_response(status)
        for name, value in _HEADERS.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """The default writes the request line — with the code — to stderr. Say nothing of it."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("callback listener: %s %s", self.command, code)


class CallbackListener:
    """Waits on ``127.0.0.1:port`` for the one callback of a sign-in attempt with ``state``.

    ``start()`` binds (AuthError PORT_IN_USE when it cannot); ``wait()`` blocks until the answer and returns
    the code, or raises AuthError DENIED, CALLBACK_ERROR, NO_CODE, TIMEOUT or CANCELLED. ``cancel()`` may be
    called from any thread (e.g. the GUI's Cancel button, while a worker sits in ``wait()``). ``port=0``
    takes any free port (tests; the real console wants the registered one).
    """

    def __init__(
        self,
        state: str,
        *,
        port: int = DEFAULT_CALLBACK_PORT,
        page: CallbackPage | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not state:
            raise ValueError("state must not be empty")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.state = state
        self.page = page or CallbackPage()
        self.timeout = timeout
        self._wanted_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._code: str | None = None
        self._claimed = False
        self._error: AuthError | None = None

    def __repr__(self) -> str:
        return (
            f"<CallbackListener {LOOPBACK_HOST}:{self.port} {'done' if self._done.is_set() else 'waiting'}>"
        )

    @property
    def port(self) -> int:
        server = self._server
        return server.server_address[1] if server is not None else self._wanted_port

    @property
    def address(self) -> tuple[str, int] | None:
        """(host, port) of the bound socket once started (the host is always 127.0.0.1), else None."""
        server = self._server
        if server is None:
            return None
        host, port = server.socket.getsockname()[:2]
        return str(host), int(port)

    @property
    def redirect_uri(self) -> str:
        """The callback URL this listener answers (the actual port once started)."""
        return redirect_uri_for(self.port)

    @property
    def done(self) -> bool:
        """An answer came, or the wait ended (timeout, cancel)."""
        return self._done.is_set()

    def start(self) -> CallbackListener:
        """Bind and serve in a background thread. AuthError(PORT_IN_USE) when the port is not free."""
        if self._server is not None:
            raise RuntimeError("already started")
        try:
            server = _Server(self, self._wanted_port)
        except OSError as exc:
            if exc.errno in _ADDR_IN_USE:
                raise auth_error(AuthReason.PORT_IN_USE, port=self._wanted_port) from None
            message = translate("auth", "Cannot listen on 127.0.0.1:{port}: {reason}")
            reason = exc.strerror or type(exc).__name__
            raise AuthError(
                AuthReason.PORT_IN_USE, message.format(port=self._wanted_port, reason=reason)
            ) from None
        self._server = server
        deadline = time.monotonic() + self.timeout
        self._thread = threading.Thread(
            target=self._serve, args=(server, deadline), name=f"kdocs-callback-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def _serve(self, server: _Server, deadline: float) -> None:
        try:
            while not self._done.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    self._finish(None, auth_error(AuthReason.TIMEOUT, seconds=self.timeout))
                    break
                server.timeout = min(left, _POLL)
                server.handle_request()
        finally:
            server.drop_connections()
            server.server_close()  # joins the connection threads

    def _deliver(self, handler: _Handler) -> None:
        """A request with the right state: the one answer. Reply to the browser first, then record it, so
        the tab has its page before the listener closes."""
        with self._lock:
            first = not self._done.is_set() and not self._claimed
            self._claimed = True
        if not first:  # a second matching request: the attempt is already over
            handler._answer(400, self.page.stale_heading, self.page.stale_text)
            return
        try:
            code = parse_callback(handler.path, self.state)
        except AuthError as exc:
            handler._answer(200, self.page.failure_heading, self.page.failure_text, str(exc))
            self._finish(None, exc)
            return
        handler._answer(200, self.page.success_heading, self.page.success_text)
        self._finish(code, None)

    def _finish(self, code: str | None, error: AuthError | None) -> None:
        with self._lock:
            if self._done.is_set():
                return
            self._code, self._error = code, error
            self._done.set()

    def wait(self, timeout: float | None = None) -> str:
        """Block until the answer; the code, or AuthError. ``timeout`` (seconds) bounds only this call:
        when it passes first, AuthError(TIMEOUT) is raised and the listener keeps listening."""
        if self._server is None:
            raise RuntimeError("start() the listener first")
        if not self._done.wait(timeout):
            raise auth_error(AuthReason.TIMEOUT, seconds=timeout or 0)
        self._join()
        with self._lock:
            code, error = self._code, self._error
        if error is not None:  # a fresh instance per raise: callers in several threads get their own
            raise type(error)(error.auth_reason, error.message, code=error.code, status=error.status)
        assert code is not None
        return code

    def cancel(self) -> None:
        """End the wait: ``wait()`` raises AuthError(CANCELLED); the port is released."""
        self._finish(None, auth_error(AuthReason.CANCELLED))
        self._join()

    def close(self) -> None:
        """Stop listening (as cancel() when no answer came yet) and join the threads. Idempotent."""
        self.cancel()

    def _join(self) -> None:
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def __enter__(self) -> CallbackListener:
        return self.start() if self._server is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
