"""What went wrong on the wire, said without a URL (every API URL carries the token; picture URLs are
signed capabilities): one place for the API client's and the picture downloader's descriptions.
"""

from __future__ import annotations

import ssl

import httpx

from kdocs_viewer.core.i18n import translate

__all__ = ["describe_api_transport_error", "describe_picture_transport_error", "is_cert_error"]


def describe_api_transport_error(exc: httpx.RequestError) -> str:
    """A short, URL-free description of what went wrong on the wire to the API server."""
    if isinstance(exc, httpx.ConnectTimeout):
        return translate("api", "the connection timed out")
    if isinstance(exc, httpx.TimeoutException):
        return translate("api", "the server took too long to answer")
    if isinstance(exc, httpx.ProxyError):
        return translate("api", "the proxy refused the connection")
    if isinstance(exc, httpx.RemoteProtocolError):
        return translate("api", "the connection broke off before the reply was complete")
    if isinstance(exc, httpx.ConnectError):
        if is_cert_error(exc):
            return translate("api", "the server's TLS certificate could not be verified")
        return translate("api", "could not connect to the server")
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        return translate("api", "the connection was reset")
    if isinstance(exc, httpx.DecodingError):
        return translate("api", "the reply could not be decoded")
    return translate("api", "a network error occurred")


def is_cert_error(exc: BaseException) -> bool:
    """The TLS certificate was refused somewhere in the chain of causes (never worth a retry)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def describe_picture_transport_error(exc: httpx.TransportError) -> str:
    """The same for a picture GET: the picture server (a CDN, not the API host) is the one named."""
    if isinstance(exc, httpx.TimeoutException):
        return translate("download", "the picture server did not answer in time")
    if isinstance(exc, httpx.ConnectError):
        return translate("download", "could not connect to the picture server")
    if isinstance(exc, httpx.RemoteProtocolError):
        return translate(
            "download", "the picture server closed the connection before the picture was complete"
        )
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return translate("download", "the picture server reset the connection")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return translate("download", "the picture link is not a usable http(s) address")
    message = translate("download", "network error while downloading the picture ({error})")
    return message.format(error=type(exc).__name__)
