"""What a person types or pastes that ends up in a URL: the API base URL, file tokens and pic keys.

One rule each, shared by the client, the pic-list parser, the CLI and the GUI, checked *before* any URL is
built or any request is sent, so a bad value is a clear "no" naming what is wrong — never a request to the
wrong path or the wrong host (the access token travels in every API URL).

File tokens and pic keys are opaque ids of the KDocs API; the real ones seen are short runs of letters and
digits (``ravXFmauNdDdDnapWimCvn``). The rule does not guess their alphabet; it refuses what can never be an
id and would change a URL's meaning: empty, ``.`` and ``..`` (path dot-segments, which HTTP clients and
servers resolve away), ``/`` and ``\\`` (path separators), whitespace, control and invisible characters, and
values longer than ``MAX_ID_LEN``. Whatever passes is still percent-encoded as one path segment.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from kdocs_viewer.core.i18n import translate

__all__ = [
    "MAX_ID_LEN",
    "InsecureBaseUrlError",
    "InvalidBaseUrlError",
    "InvalidIdentifierError",
    "check_base_url",
    "check_file_token",
    "file_token_problem",
    "is_loopback_host",
    "pic_key_problem",
]

MAX_ID_LEN = 256  # characters; real ids are a few dozen


class InvalidIdentifierError(ValueError):
    """A file token or pic key that cannot be used; ``str(e)`` names the field and what is wrong."""


class InvalidBaseUrlError(ValueError):
    """An API base URL that cannot be used; ``str(e)`` says what is wrong and never repeats credentials."""


class InsecureBaseUrlError(InvalidBaseUrlError):
    """Plain http to a host that is not this machine: the access token would cross the network unencrypted."""


def _show(value: str, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _id_problem(value: object, field: str) -> str | None:
    if not isinstance(value, str) or not value:
        if isinstance(value, str) or value is None:
            return translate("validation", "{field} is empty").format(field=field)
        return translate("validation", "{field} must be a string").format(field=field)
    if len(value) > MAX_ID_LEN:
        return translate("validation", "{field} is {length} characters long (at most {limit})").format(
            field=field, length=len(value), limit=MAX_ID_LEN
        )
    if any(c.isspace() for c in value):
        return translate("validation", "{field} {value} contains whitespace").format(
            field=field, value=_show(value)
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in value):
        return translate("validation", "{field} {value} contains a control or invisible character").format(
            field=field, value=_show(value)
        )
    if value in (".", ".."):
        return translate("validation", "{field} cannot be {value}").format(field=field, value=_show(value))
    if "/" in value or "\\" in value:
        return translate("validation", "{field} {value} contains a slash (/ or \\)").format(
            field=field, value=_show(value)
        )
    return None


def file_token_problem(value: object) -> str | None:
    """Why ``value`` cannot be a file token (the workbook's id), or None when it can."""
    return _id_problem(value, translate("validation", "the file token"))


def check_file_token(value: str) -> str:
    """``value`` unchanged when it can be a file token; else InvalidIdentifierError saying why.

    No stripping: a pasted value with spaces is refused rather than silently changed (the GUI strips what
    it pastes before asking).
    """
    problem = file_token_problem(value)
    if problem is not None:
        raise InvalidIdentifierError(problem)
    return value


def pic_key_problem(value: object) -> str | None:
    """Why ``value`` cannot be a pic key, or None when it can (the same rule as file tokens)."""
    return _id_problem(value, "pic_key")


# ---- the API base URL ------------------------------------------------------------------------------------


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (also IPv4-mapped IPv6), with or without brackets."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback
    return addr.is_loopback


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_HOST_CHARS = re.compile(r"^[\w.-]+$")


def _url_problem(message: str) -> InvalidBaseUrlError:
    return InvalidBaseUrlError(translate("validation", "the API base URL {problem}").format(problem=message))


def check_base_url(value: str) -> str:
    """The normalised API base URL when ``value`` is usable: scheme and host in lower case, no default
    port, no trailing slash — the same form as ``secrets.normalise_base_url``, the keyring's account name.

    Raises InvalidBaseUrlError saying what is wrong: empty (an empty value never means "the default": the
    token would silently go to the real service), no scheme or not http(s), no host, a port outside
    1–65535, credentials (``user:password@``), a query or a fragment, spaces or control characters; and
    InsecureBaseUrlError for plain http to a host that is not this machine. Surrounding whitespace (a
    paste) is ignored. A path (a gateway's prefix) is kept.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise _url_problem(translate("validation", "is empty"))
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text):
        raise _url_problem(translate("validation", "contains spaces or control characters"))
    scheme_match = _SCHEME.match(text)
    if scheme_match is None or "://" not in text:
        raise _url_problem(translate("validation", "has no scheme: write it as https://host"))
    scheme = scheme_match.group(1).lower()
    if scheme not in ("http", "https") or not text[scheme_match.end() :].startswith("//"):
        message = translate(
            "validation", "must start with https:// (or http:// to this machine), not {scheme}:"
        )
        raise _url_problem(message.format(scheme=scheme[:20]))
    if "?" in text:
        raise _url_problem(translate("validation", "must not contain a query (?…)"))
    if "#" in text:
        raise _url_problem(translate("validation", "must not contain a fragment (#…)"))
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:  # e.g. an unclosed or invalid [IPv6] address
        raise _url_problem(translate("validation", "has an invalid IPv6 address")) from None
    if "@" in parts.netloc:
        raise _url_problem(translate("validation", "must not contain user credentials (user:password@)"))
    if not host:
        raise _url_problem(translate("validation", "names no host"))
    bracketed = parts.netloc.startswith("[")
    if bracketed:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise _url_problem(translate("validation", "has an invalid IPv6 address")) from None
    elif not _HOST_CHARS.match(host) or ".." in host or host.startswith("."):
        raise _url_problem(translate("validation", "has an invalid host name"))
    after_host = parts.netloc.rpartition("]")[2] if bracketed else parts.netloc
    if ":" in after_host:
        port_text = after_host.rpartition(":")[2]
        if not (port_text.isascii() and port_text.isdigit()):
            raise _url_problem(
                translate("validation", "has an invalid port {port}").format(port=_show(port_text, 12))
            )
        if not 1 <= int(port_text) <= 65535:
            message = translate("validation", "has port {port}, outside 1–65535")
            raise _url_problem(message.format(port=int(port_text)))
    if not bracketed:
        try:
            host.encode("idna")  # each label fits DNS (at most 63 characters, once encoded)
        except UnicodeError:
            raise _url_problem(translate("validation", "has an invalid host name")) from None
    if scheme == "http" and not is_loopback_host(host):
        message = translate(
            "validation",
            "Refusing to send the access token over plain http to {host}: use https:// "
            "(plain http is only allowed to this machine, e.g. the stand-in server).",
        )
        raise InsecureBaseUrlError(message.format(host=host))
    port = parts.port
    shown_host = f"[{host}]" if bracketed else host
    shown_port = "" if port is None or port == {"http": 80, "https": 443}[scheme] else f":{port}"
    return f"{scheme}://{shown_host}{shown_port}{parts.path.rstrip('/')}"
