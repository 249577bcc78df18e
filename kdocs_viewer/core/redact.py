"""The one place that knows how to hide secrets in text, URLs and log records.

Every KDocs API URL carries the user's token as ``access_token=…`` and every picture URL is a signed,
short-lived capability, so neither may reach a log, an error dialog or a crash report; signing in adds the
``refresh_token``, the app's ``app_key`` and the one-time ``code`` of a callback URL. ``redact`` masks these
parameters wherever they appear (also percent-encoded, or as a JSON/dict field; ``code`` only as a query
parameter, since "code" is also an ordinary word) and drops the query string of every http(s) URL;
``redact_url`` keeps only scheme, host, port and path.

Secrets also turn up bare, outside any parameter: a server that echoes the token in an error text, a keyring
backend that quotes what it was given. Whoever first holds a secret (the API client, a sign-in's token set,
the keyring store, the command line) hands it to ``register_secret``; from then on ``redact`` masks that
literal value everywhere in the process, so a token met in one module is hidden by all of them.

``install_log_redaction`` applies this to *all* log records, including those of third-party libraries and
handlers added later (a GUI log view, pytest's caplog), by redacting records when they are created.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "MASK",
    "MIN_SECRET_CHARS",
    "RedactingFilter",
    "install_log_redaction",
    "redact",
    "redact_links",
    "redact_url",
    "register_secret",
]

MASK = "…"
# Shorter values are not masked as literals: a 1–3 character "token" would mask ordinary words and numbers
# all over every message, and is no real credential anyway (the parameter rules below still hide it).
MIN_SECRET_CHARS = 4

_SECRET_NAMES = r"(?:access_token|refresh_token|app_key)"
# access_token=<value> in a query string, a form body or free text; also the percent-encoded form
# (access_token%3D<value>) that shows up when a whole URL was itself quoted into another URL. The same for
# the other secret names, and for a callback's one-time code=<value> after "?" or "&".
_TOKEN_PARAM_RE = re.compile(
    rf"(?P<name>(?:{_SECRET_NAMES}|(?<=[?&])code|(?<=%3[fF])code|(?<=%26)code)(?:=|%3[dD]))"
    r"(?P<value>[^&\s#'\"<>,;)\]}]+)",
    re.IGNORECASE,
)
# "access_token": "<value>" / 'access_token': '<value>' (JSON bodies, dict reprs); the same for the others.
_TOKEN_FIELD_RE = re.compile(
    rf"(?P<name>['\"]{_SECRET_NAMES}['\"]\s*:\s*)(?P<quote>['\"])(?P<value>[^'\"]*)(?P=quote)", re.IGNORECASE
)
# An http(s) URL with a query: keep everything before "?", drop the query (up to whitespace, a quote, an
# angle bracket or a fragment). Signed picture URLs are capabilities: their signature must never leak.
_URL_QUERY_RE = re.compile(r"(?P<base>\bhttps?://[^\s?#'\"<>]*)\?[^\s#'\"<>]*", re.IGNORECASE)
# Any URL, whatever its scheme, up to the next whitespace.
_ANY_URL_RE = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S+")

_secrets_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_secrets_longest_first: tuple[str, ...] = ()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in what ``redact`` sees from now on, for the rest of the process.

    Values are never forgotten: a replaced or refreshed token may still work for a while. Cheap when the
    value is known already, so callers may register on every use. Values shorter than MIN_SECRET_CHARS are
    ignored.
    """
    global _secrets, _secrets_longest_first
    if not value or len(value) < MIN_SECRET_CHARS or value in _secrets:
        return
    with _secrets_lock:
        if value not in _secrets:
            _secrets = _secrets | {value}
            # Longest first: a secret that contains another is masked whole, not around the shorter one.
            _secrets_longest_first = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` with every registered secret, every token parameter and every http(s) URL query masked."""
    if not text:
        return text
    for value in _secrets_longest_first:
        if value in text:
            text = text.replace(value, MASK)
    text = _URL_QUERY_RE.sub(lambda m: f"{m.group('base')}?{MASK}", text)
    text = _TOKEN_PARAM_RE.sub(lambda m: f"{m.group('name')}{MASK}", text)
    return _TOKEN_FIELD_RE.sub(lambda m: f"{m.group('name')}{m.group('quote')}{MASK}{m.group('quote')}", text)


def redact_links(text: str, placeholder: str) -> str:
    """``redact(text)`` with every URL of any scheme replaced, whole, by ``placeholder``.

    For messages to people, where a link is noise and only "which server" could be kept: a signature may sit
    in a URL's path as well as in its query.
    """
    return redact(_ANY_URL_RE.sub(lambda _: placeholder, text)) if text else text


def redact_url(url: str) -> str:
    """``scheme://host[:port]/path`` with the query replaced by ``?…`` when there is one.

    User info (``user:password@``) and the fragment are dropped too. Anything that does not parse as a URL
    goes through ``redact`` instead, so the result is always safe to show.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return redact(url)
    if not parts.scheme or not host:
        return redact(url)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    query = f"?{MASK}" if parts.query else ""
    return redact(f"{parts.scheme}://{netloc}{parts.path}") + query


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def _redact_record(record: logging.LogRecord) -> None:
    """Rewrite ``record`` in place so that nothing a formatter reads from it holds a secret.

    Idempotent (a masked value masks to itself), so a record may pass the factory and several filters.
    """
    try:
        message = record.getMessage()
    except Exception:  # a broken format call: still log something, but safely
        message = f"{record.msg!r} % {record.args!r}"
    record.msg = redact(message)
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        # Formatters cache the traceback text in exc_text and reuse it: fill it in redacted. Exception
        # messages of HTTP libraries routinely contain the full request URL.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """Masks tokens and URL query strings in a record's message, arguments and traceback; never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


_install_lock = threading.Lock()
_installed_filter = RedactingFilter()


def _redacting_factory(base: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = base(*args, **kwargs)
        _redact_record(record)
        return record

    factory._kdocs_redacting = True  # type: ignore[attr-defined]
    return factory


def install_log_redaction() -> None:
    """Redact every log record of the process; quiet httpx/httpcore, which log full URLs at INFO/DEBUG.

    Adds ``RedactingFilter`` to the root logger and its current handlers (the contract), and also wraps the
    log record factory: a filter on the root logger does not see records propagated from child loggers, and
    handlers added later would otherwise carry none. Idempotent and thread-safe.
    """
    with _install_lock:
        root = logging.getLogger()
        if _installed_filter not in root.filters:
            root.addFilter(_installed_filter)
        for handler in root.handlers:
            if _installed_filter not in handler.filters:
                handler.addFilter(_installed_filter)
        current = logging.getLogRecordFactory()
        if not getattr(current, "_kdocs_redacting", False):
            logging.setLogRecordFactory(_redacting_factory(current))
        for name in ("httpx", "httpcore"):
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET or logger.level < logging.WARNING:
                logger.setLevel(logging.WARNING)
