"""The stand-in's request log: what each request was and how it was answered, for tests and benches.

The outermost ASGI layer records (method, path, status, body bytes, Range) and lends uvicorn's connection
cycle to the fault replies (``standin.replies``), which record their request before they cut the line.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from kdocs_viewer.standin.app import StandinState

__all__ = ["CYCLE_KEY", "RequestLogEntry", "RequestLogger", "record_now"]

access_logger = logging.getLogger("kdocs_viewer.standin.access")

CYCLE_KEY = "kdocs_standin.cycle"
_RECORD_KEY = "kdocs_standin.record"


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    """One request as the server saw it. Never holds a query string, hence never a token."""

    method: str
    path: str
    status: int
    body_bytes: int = 0  # response body bytes handed to the connection (headers not counted)
    range: str = ""  # the request's Range header, when it had one


class RequestLogger:
    """Outermost ASGI layer: records (method, path, status) and hands uvicorn's cycle to fault responses.

    The entry is recorded *before* the last byte of the response goes out (or before a fault closes the
    connection), so a client that has its answer always finds its request in the log.
    """

    def __init__(self, app: ASGIApp, state: StandinState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[CYCLE_KEY] = getattr(send, "__self__", None)
        status = 0
        sent = 0
        asked = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"range"), "")
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            entry = RequestLogEntry(scope["method"], scope["path"], status, sent, asked)
            self.state.log(entry)
            if self.state.config.access_log:
                access_logger.info("%s %s %s", entry.method, entry.path, entry.status)

        scope[_RECORD_KEY] = record

        async def logging_send(message: MutableMapping[str, Any]) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                if not message.get("more_body", False):
                    record()
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        finally:
            record()


def record_now(scope: Scope) -> None:
    """Fault responses call this before they cut the connection (see RequestLogger)."""
    record = scope.get(_RECORD_KEY)
    if record is not None:
        record()
