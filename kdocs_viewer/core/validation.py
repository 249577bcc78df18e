"""What a person types or pastes that ends up in a URL: the API base URL, file tokens and pic keys.

One rule each, shared by the client, the pic-list parser, the CLI and the GUI, checked *before* any URL is
built or any request is sent, so a bad value is a clear "no" naming what is wrong — never a request to the
wrong path or the wrong host (the access token travels in every API URL).

File tokens and pic keys are opaque ids of the KDocs API; the real ones seen are short runs of letters and
digits (``ravXFmauNdDdDnapWimCvn``). The rule does not guess their alphabet; it refuses what can never be an
id and would change a URL's meaning: empty, ``.`` and ``..`` (path dot-segments, which HTTP clients and
servers resolve away), ``/`` and ``\\`` (path separators), whitespace, control and invisible characters, and
values longer than ``MAX_ID_LEN``. Whatever passes is still percent-encoded as one path segment.

A picture record (pic_key, tag and the optional sheet, cell and caption) is checked here too, by
``make_ref``: every input format and every shape of picture cell goes through it, so one rule decides what
becomes a ``PicRef``.
"""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from kdocs_viewer.core.errors import FailureReason
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.models import PicRef, Problem

__all__ = [
    "CONTEXT_FIELDS",
    "MAX_ID_LEN",
    "InsecureBaseUrlError",
    "InvalidBaseUrlError",
    "InvalidIdentifierError",
    "check_base_url",
    "check_file_token",
    "file_token_problem",
    "is_loopback_host",
    "make_ref",
    "pic_key_problem",
    "show_value",
]

MAX_ID_LEN = 256  # characters; real ids are a few dozen


class InvalidIdentifierError(ValueError):
    """A file token or pic key that cannot be used; ``str(e)`` names the field and what is wrong."""

    reason = FailureReason.BAD_INPUT


class InvalidBaseUrlError(ValueError):
    """An API base URL that cannot be used; ``str(e)`` says what is wrong and never repeats credentials."""

    reason = FailureReason.BAD_INPUT


class InsecureBaseUrlError(InvalidBaseUrlError):
    """Plain http to a host that is not this machine: the access token would cross the network unencrypted."""


def show_value(value: object, limit: int = 40) -> str:
    """A short, unambiguous rendering of a user value for an error message."""
    if isinstance(value, dict):
        return translate("piclist", "an object")
    if isinstance(value, list):
        return translate("piclist", "a list")
    text = repr(value) if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_WHITESPACE = re.compile(r"\s")  # what str.isspace() says, at C speed (a workbook has 10,000 keys)


def _has_control(value: str) -> bool:
    """A control (Cc), format (Cf, e.g. zero-width) or surrogate (Cs) character in ``value``."""
    if value.isascii():
        return not value.isprintable()  # in ASCII only Cc is any of the three
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in value)


def _has_surrogate(value: str) -> bool:
    """A lone surrogate (Cs) in ``value``: exactly what UTF-8 cannot encode."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _id_problem(value: object, field: str) -> str | None:
    if not isinstance(value, str) or not value:
        if isinstance(value, str) or value is None:
            return translate("validation", "{field} is empty").format(field=field)
        return translate("validation", "{field} must be a string").format(field=field)
    if len(value) > MAX_ID_LEN:
        return translate("validation", "{field} is {length} characters long (at most {limit})").format(
            field=field, length=len(value), limit=MAX_ID_LEN
        )
    if _WHITESPACE.search(value):
        return translate("validation", "{field} {value} contains whitespace").format(
            field=field, value=show_value(value)
        )
    if _has_control(value):
        return translate("validation", "{field} {value} contains a control or invisible character").format(
            field=field, value=show_value(value)
        )
    if value in (".", ".."):
        return translate("validation", "{field} cannot be {value}").format(
            field=field, value=show_value(value)
        )
    if "/" in value or "\\" in value:
        return translate("validation", "{field} {value} contains a slash (/ or \\)").format(
            field=field, value=show_value(value)
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


# ---- a picture record -------------------------------------------------------------------------------------

CONTEXT_FIELDS = ("sheet", "cell", "caption")


def _bad_chars(value: str, field: str) -> str | None:
    """Why ``value`` (of ``field``) cannot appear in a file (lone surrogates cannot be encoded), or None."""
    if _has_surrogate(value):
        return translate("piclist", "{field} contains an invalid character (a lone surrogate)").format(
            field=field
        )
    return None


def _record_key_problem(key: object) -> str | None:
    if not isinstance(key, str) or not key:
        msg = translate("piclist", "pic_key must be a non-empty string, got {value}")
        return msg.format(value=show_value(key))
    return pic_key_problem(key)


def _tag_problem(tag: object, key: str) -> str | None:
    if tag is None:
        return translate("piclist", "missing tag after pic_key {key}").format(key=show_value(key))
    if not isinstance(tag, str) or not tag:
        return translate("piclist", "tag must be a non-empty string, got {value}").format(
            value=show_value(tag)
        )
    return _bad_chars(tag, "tag")


def make_ref(where: str, values: Mapping[str, Any], problems: list[Problem]) -> PicRef | None:
    """The PicRef of one record (``pic_key``, ``tag``, optional ``CONTEXT_FIELDS``), or None with what is
    wrong appended to ``problems`` (anchored at ``where``). ``tag`` is opaque: any non-empty string."""
    before = len(problems)
    key = values.get("pic_key")
    if key is None or key == "":
        problems.append(Problem(where, translate("piclist", "missing pic_key")))
        return None
    if msg := _record_key_problem(key):
        problems.append(Problem(where, msg))
    if msg := _tag_problem(values.get("tag"), key if isinstance(key, str) else str(key)):
        problems.append(Problem(where, msg))
    context: dict[str, str | None] = {}
    for name in CONTEXT_FIELDS:
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            msg = translate("piclist", "{field} must be a string, got {value}")
            problems.append(Problem(where, msg.format(field=name, value=show_value(value))))
        elif value is not None and (msg := _bad_chars(value, name)):
            problems.append(Problem(where, msg))
        else:
            context[name] = value
    if len(problems) > before:
        return None
    return PicRef(key, values["tag"], **context)


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
                translate("validation", "has an invalid port {port}").format(port=show_value(port_text, 12))
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
