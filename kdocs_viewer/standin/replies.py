"""What the stand-in answers with: API envelopes and errors, and the faulty or shaped replies.

Apart from the routes so that every area (pictures, sheets, sign-in) answers the same way: one envelope,
one error shape, one set of injected faults (see the [ours] list in ``standin.app``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from kdocs_viewer.core.contract import CODE_INTERNAL, CODE_OK, CODE_QUOTA_EXCEEDED, CODE_TOKEN_INVALID
from kdocs_viewer.standin.link import CHUNK_BYTES
from kdocs_viewer.standin.request_log import CYCLE_KEY, record_now

if TYPE_CHECKING:
    from kdocs_viewer.standin.app import StandinState

__all__ = [
    "DroppedConnection",
    "ShapedBody",
    "TruncatedBody",
    "api_error",
    "base_of",
    "envelope",
    "fault_response",
    "token_error",
]


def base_of(request: Request) -> str:
    """The scheme and host the client reached us at: picture URLs point back there."""
    return f"{request.url.scheme}://{request.url.netloc}"


def envelope(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"code": CODE_OK, "data": data})


def api_error(
    status: int, code: int, name: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse({"code": code, "msg": name, "message": message}, status_code=status, headers=headers)


def token_error() -> Response:
    return JSONResponse(
        {"code": CODE_TOKEN_INVALID, "msg": "AccessTokenInvalid", "hint": "access_token is required"},
        status_code=401,
    )


class DroppedConnection(Response):
    """Fault "reset": the connection is dropped (RST) before any status line is sent."""

    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = scope.get(CYCLE_KEY)
        transport = getattr(cycle, "transport", None)
        if transport is None:  # not under uvicorn: the closest we can do
            raise ConnectionAbortedError("injected reset")
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        record_now(scope)
        transport.abort()
        await _until_disconnected(cycle)


class TruncatedBody(Response):
    """Fault "truncated": Content-Length announces the whole body; half is sent, then a close."""

    def __init__(
        self, content: bytes, media_type: str, status_code: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(content, status_code=status_code, media_type=media_type, headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = scope.get(CYCLE_KEY)
        transport = getattr(cycle, "transport", None)
        full = len(self.body)
        declared = full if full >= 2 else full + 64
        headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        headers.append((b"content-length", str(declared).encode()))
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self.body[: full // 2], "more_body": True})
        if transport is None:
            raise ConnectionAbortedError("injected truncation")
        record_now(scope)
        transport.close()  # flushes what was written, then closes
        await _until_disconnected(cycle)


class ShapedBody(Response):
    """A picture body sent through the shared line (``StandinState.link``), chunk by chunk.

    Content-Length is announced up front; each chunk waits for its booking on the line. When the server
    stops, the rest goes out at once so shutdown never waits for a slow line.
    """

    def __init__(
        self,
        content: bytes,
        state: StandinState,
        *,
        status_code: int,
        media_type: str,
        headers: dict[str, str],
    ) -> None:
        super().__init__(content, status_code=status_code, media_type=media_type, headers=headers)
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        link = self._state.link
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body = memoryview(self.body)
        for start in range(0, len(body), CHUNK_BYTES):
            chunk = body[start : start + CHUNK_BYTES]
            delay = link.reserve(len(chunk)) if link is not None else 0.0
            if delay > 0 and not self._state.stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._state.stopping.wait(), delay)
            more = start + CHUNK_BYTES < len(body)
            await send({"type": "http.response.body", "body": bytes(chunk), "more_body": more})
        if not body:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _until_disconnected(cycle: object, limit: float = 2.0) -> None:
    """Let uvicorn notice the closed connection, so it does not try to answer on it."""
    deadline = time.monotonic() + limit
    await asyncio.sleep(0)
    while not getattr(cycle, "disconnected", True) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


def fault_response(kind: str) -> Response:
    if kind in ("500", "502", "503"):
        return api_error(int(kind), CODE_INTERNAL, "InternalError", f"injected server fault (HTTP {kind})")
    if kind == "html":
        page = (
            "<html><head><title>502 Bad Gateway</title></head>"
            "<body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
        )
        return Response(page, status_code=502, media_type="text/html")
    if kind == "empty":
        return Response(b"", status_code=500)
    if kind == "429":
        return api_error(
            429,
            CODE_QUOTA_EXCEEDED,
            "QuotaExceeded",
            "too many requests, slow down",
            headers={"Retry-After": "1"},
        )
    if kind == "reset":
        return DroppedConnection()
    if kind == "truncated":
        body = json.dumps(
            {"code": CODE_OK, "data": {"urls": [], "note": "this body is cut short" * 8}}
        ).encode()
        return TruncatedBody(body, "application/json")
    if kind == "20007":
        return token_error()
    raise ValueError(kind)
