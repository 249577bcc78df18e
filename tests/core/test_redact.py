"""Secrets never survive redaction: tokens, signed URL queries, log messages, arguments and tracebacks."""

from __future__ import annotations

import io
import logging
import sys
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kdocs_viewer.core.redact import (
    MASK,
    MIN_SECRET_CHARS,
    RedactingFilter,
    install_log_redaction,
    redact,
    redact_links,
    redact_url,
    register_secret,
)
from tests.helpers.logfail import ExpectLog

SECRET = "s3cr3t-Tok_en.value~42"


@pytest.fixture
def clean_logging() -> Iterator[None]:
    """Undo install_log_redaction: it changes process-wide logging state."""
    root = logging.getLogger()
    factory = logging.getLogRecordFactory()
    root_filters = list(root.filters)
    handler_filters = {h: list(h.filters) for h in root.handlers}
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    yield
    logging.setLogRecordFactory(factory)
    root.filters[:] = root_filters
    for handler, filters in handler_filters.items():
        handler.filters[:] = filters
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


# ---- redact ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"GET https://developer.kdocs.cn/api/v1/openapi/et/x/sheets?access_token={SECRET} 200",
        f"GET /api/v1/openapi/et/x/sheets?row_from=0&access_token={SECRET}&col_to=3",
        f"Client error '404' for url 'http://127.0.0.1:8080/p?access_token={SECRET}'",
        f"access_token={SECRET}",
        f"ACCESS_TOKEN={SECRET}",
        f"url=https%3A%2F%2Fh%2Fp%3Faccess_token%3D{SECRET}",
        f'{{"access_token": "{SECRET}", "x": 1}}',
        f"{{'access_token': '{SECRET}'}}",
        f"b'/api/v1/openapi/et/x/pictures/urls?access_token={SECRET}'",
        f"URL('https://h/p?a=1&access_token={SECRET}')",
    ],
)
def test_tokens_are_masked_everywhere(text: str) -> None:
    out = redact(text)
    assert SECRET not in out
    assert MASK in out


@pytest.mark.parametrize(
    "text",
    [
        f"refresh_token={SECRET}",
        f"app_key={SECRET}&app_id=demo",
        f'{{"app_key": "{SECRET}", "refresh_token": "{SECRET}"}}',
        f"{{'refresh_token': '{SECRET}'}}",
        f"GET /callback?code={SECRET}&state=s HTTP/1.1",  # a loopback request line: no scheme, no host
        f"GET /callback?state=s&code={SECRET}",
        f"redirect%3Fcode%3D{SECRET}",
    ],
)
def test_the_sign_in_secrets_are_masked_too(text: str) -> None:
    out = redact(text)
    assert SECRET not in out
    assert MASK in out


def test_code_as_a_word_is_left_alone() -> None:
    text = "the API reported an error (code 20001); error code=20001 in the log"
    assert redact(text) == text


def test_signed_url_queries_are_dropped_but_the_rest_is_kept() -> None:
    text = "fetch https://cdn.example/img/a.jpg?Expires=1700000000&Sig=abcdef failed; retry"
    assert redact(text) == f"fetch https://cdn.example/img/a.jpg?{MASK} failed; retry"


def test_text_without_secrets_is_unchanged() -> None:
    text = "resolved 100 pictures in 3 calls (https://developer.kdocs.cn/api/v1/openapi)"
    assert redact(text) == text
    assert redact("") == ""


def test_several_urls_in_one_text() -> None:
    out = redact("a http://h/x?k=1 and https://g/y?z=2#frag end")
    assert out == f"a http://h/x?{MASK} and https://g/y?{MASK}#frag end"


def test_redact_is_idempotent() -> None:
    once = redact(f"https://h/p?access_token={SECRET} access_token={SECRET}")
    assert redact(once) == once


_TOKEN_CHARS = st.characters(
    blacklist_categories=("Cs", "Z", "Cc"), blacklist_characters="&#'\"<>,;)]}"
)


@given(token=st.text(alphabet=_TOKEN_CHARS, min_size=1, max_size=60))
def test_any_token_value_after_access_token_is_masked(token: str) -> None:
    out = redact(f"x?access_token={token}&y=1 and https://h/p?access_token={token}")
    assert out == f"x?access_token={MASK}&y=1 and https://h/p?{MASK}"


def test_registered_secrets_are_masked_as_bare_literals_longest_first() -> None:
    short = f"lit-{uuid.uuid4().hex}"
    longer = f"{short}-and-more"
    assert redact(f"said {longer}") == f"said {longer}"  # unknown: a bare value is left alone
    register_secret(short)
    register_secret(longer)
    register_secret(longer)  # again: no change
    assert redact(f"said {longer}, then {short}.") == f"said {MASK}, then {MASK}."
    assert redact(redact(f"said {longer}")) == f"said {MASK}"


def test_values_too_short_to_be_secrets_are_not_masked_as_literals() -> None:
    register_secret("x" * (MIN_SECRET_CHARS - 1))
    register_secret("")
    register_secret(None)
    text = "xxx marks the spot; error code 20001"
    assert redact(text) == text


def test_redact_links_hides_whole_links_of_any_scheme() -> None:
    text = f"failed: 403 for https://cdn.example/sig={SECRET}/a.jpg and s3://b/k?x=1, access_token={SECRET}"
    assert redact_links(text, "(link)") == f"failed: 403 for (link) and (link) access_token={MASK}"


# ---- redact_url -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://developer.kdocs.cn/api/x?access_token={SECRET}", f"https://developer.kdocs.cn/api/x?{MASK}"),
        ("https://developer.kdocs.cn/api/v1/x", "https://developer.kdocs.cn/api/v1/x"),
        ("http://127.0.0.1:4321/img/f/k?Expires=1&Sig=2", f"http://127.0.0.1:4321/img/f/k?{MASK}"),
        ("https://user:pw@host.example/p?q=1#frag", f"https://host.example/p?{MASK}"),
        ("http://[::1]:8080/a?b=c", f"http://[::1]:8080/a?{MASK}"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_url_of_garbage_is_still_safe() -> None:
    assert SECRET not in redact_url(f"not a url access_token={SECRET}")
    assert SECRET not in redact_url(f"http://[broken/?access_token={SECRET}")


# ---- logging ----------------------------------------------------------------------------------------------


def test_filter_rewrites_message_args_and_traceback() -> None:
    try:
        raise RuntimeError(f"boom for url 'https://h/p?access_token={SECRET}'")
    except RuntimeError:
        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, __file__, 1, "GET %s -> %d", (f"https://h/p?access_token={SECRET}", 200),
            exc_info=sys.exc_info(),
        )
    assert RedactingFilter().filter(record) is True
    text = logging.Formatter("%(message)s").format(record)
    assert SECRET not in text
    assert "GET https://h/p?" in text and "-> 200" in text
    assert "RuntimeError" in text


def test_filter_survives_a_broken_format_call() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "%s %s", (f"access_token={SECRET}",), None)
    RedactingFilter().filter(record)
    assert SECRET not in record.getMessage()


@pytest.mark.usefixtures("clean_logging")
def test_install_covers_child_loggers_and_later_handlers(
    caplog: pytest.LogCaptureFixture, expect_log: ExpectLog
) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    root = logging.getLogger()
    assert sum(isinstance(f, RedactingFilter) for f in root.filters) == 1
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING

    caplog.set_level(logging.DEBUG)  # caplog's handler is added after the install
    logging.getLogger("some.library").debug("calling %s", f"https://api.example/x?access_token={SECRET}")
    with expect_log("kdocs_viewer.x", logging.ERROR, match="^failed$"):
        try:
            raise ValueError(f"access_token={SECRET}")
        except ValueError:
            logging.getLogger("kdocs_viewer.x").exception("failed")
    assert "calling https://api.example/x?" in caplog.text
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in (record.exc_text or "")


@pytest.mark.usefixtures("clean_logging")
def test_a_handler_added_after_the_install_gets_redacted_records(expect_log: ExpectLog) -> None:
    install_log_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # no filter of ours on it
    logger = logging.getLogger("kdocs_viewer.late")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("GET %s", f"https://api.example/x?access_token={SECRET}")
        with expect_log("kdocs_viewer.late", logging.ERROR, match="^failed$"):
            try:
                raise OSError(f"for url https://api.example/x?access_token={SECRET}")
            except OSError:
                logger.exception("failed")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    text = stream.getvalue()
    assert "GET https://api.example/x?" in text and "OSError" in text
    assert SECRET not in text
