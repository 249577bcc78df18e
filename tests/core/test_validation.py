"""The one rule for file tokens and pic keys, and the one validator of the API base URL."""

from __future__ import annotations

import pytest

from kdocs_viewer.core.secrets import normalise_base_url
from kdocs_viewer.core.validation import (
    MAX_ID_LEN,
    InsecureBaseUrlError,
    InvalidBaseUrlError,
    InvalidIdentifierError,
    check_base_url,
    check_file_token,
    file_token_problem,
    is_loopback_host,
    pic_key_problem,
)

# Shapes of real ids (developer.kdocs.cn examples, numeric v5 ids, link-like ids, DISPIMG ids) and ours.
PLAUSIBLE = ["ravXFmauNdDdDnapWimCvn", "100012345678", "cmCEk9o7uhXU", "demo-workbook", "ID_2F5A9C1E0B",
             "a.b", "a..b", "...", "v1~draft", "a+b=", "a%2Fb", "工作簿", "k" * MAX_ID_LEN]  # fmt: skip


@pytest.mark.parametrize("value", PLAUSIBLE)
def test_plausible_ids_pass(value: str) -> None:
    assert file_token_problem(value) is None
    assert pic_key_problem(value) is None
    assert check_file_token(value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "the file token is empty"),
        (".", "the file token cannot be '.'"),
        ("..", "the file token cannot be '..'"),
        ("a/b", "the file token 'a/b' contains a slash (/ or \\)"),
        ("../../etc/passwd", "the file token '../../etc/passwd' contains a slash (/ or \\)"),
        ("a\\b", "the file token 'a\\\\b' contains a slash (/ or \\)"),
        (" demo", "the file token ' demo' contains whitespace"),
        ("demo\n", "the file token 'demo\\n' contains whitespace"),
        ("de\u3000mo", "the file token 'de\\u3000mo' contains whitespace"),
        ("de\x00mo", "the file token 'de\\x00mo' contains a control or invisible character"),
        ("de\u200bmo", "the file token 'de\\u200bmo' contains a control or invisible character"),
        (
            "k" * (MAX_ID_LEN + 1),
            f"the file token is {MAX_ID_LEN + 1} characters long (at most {MAX_ID_LEN})",
        ),
    ],
)
def test_impossible_file_tokens_are_refused_saying_why(value: str, expected: str) -> None:
    assert file_token_problem(value) == expected
    with pytest.raises(InvalidIdentifierError) as info:
        check_file_token(value)
    assert str(info.value) == expected
    assert isinstance(info.value, ValueError)  # the CLI maps ValueErrors of input to exit 2


def test_pic_keys_follow_the_same_rule_under_their_own_name() -> None:
    assert pic_key_problem("..") == "pic_key cannot be '..'"
    assert pic_key_problem("a/b") == "pic_key 'a/b' contains a slash (/ or \\)"
    assert pic_key_problem(42) == "pic_key must be a string"


def test_loopback_detection() -> None:
    for host in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"):
        assert is_loopback_host(host), host
    for host in ("10.0.0.1", "example.com", "localhost.example.com", "0.0.0.0", "::", "128.0.0.1"):
        assert not is_loopback_host(host), host


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://developer.kdocs.cn", "https://developer.kdocs.cn"),
        ("  https://developer.kdocs.cn/\n", "https://developer.kdocs.cn"),
        ("HTTPS://Developer.KDocs.cn/", "https://developer.kdocs.cn"),
        ("https://gw.example/kdocs/", "https://gw.example/kdocs"),
        ("http://127.0.0.1:43121", "http://127.0.0.1:43121"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
        ("https://h.example:8443", "https://h.example:8443"),
        ("https://h.example:443/", "https://h.example"),
        ("https://例子.测试/接口/", "https://例子.测试/接口"),
    ],
)
def test_usable_base_urls_are_normalised(given: str, expected: str) -> None:
    assert check_base_url(given) == expected
    assert normalise_base_url(given) == expected  # the keyring's account for it: the same form


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", "the API base URL is empty"),
        ("   ", "the API base URL is empty"),
        ("http://127.0.0.1:99999/", "the API base URL has port 99999, outside 1–65535"),
        ("http://127.0.0.1:0/", "the API base URL has port 0, outside 1–65535"),
        ("http://127.0.0.1:8o80/", "the API base URL has an invalid port '8o80'"),
        ("developer.kdocs.cn", "the API base URL has no scheme: write it as https://host"),
        ("127.0.0.1:8080", "the API base URL has no scheme: write it as https://host"),
        ("localhost:8080", "the API base URL has no scheme: write it as https://host"),
        ("ftp://h/x", "the API base URL must start with https:// (or http:// to this machine), not ftp:"),
        ("file:///etc", "the API base URL must start with https:// (or http:// to this machine), not file:"),
        (
            "https://u:secret-pw@h.example/",
            "the API base URL must not contain user credentials (user:password@)",
        ),
        ("https://h.example/?q=1", "the API base URL must not contain a query (?…)"),
        ("https://h.example?", "the API base URL must not contain a query (?…)"),
        ("https://h.example/#top", "the API base URL must not contain a fragment (#…)"),
        ("https://", "the API base URL names no host"),
        ("https://exa mple.com", "the API base URL contains spaces or control characters"),
        ("https://a..b/", "the API base URL has an invalid host name"),
        ("https://" + "x" * 64 + ".example/", "the API base URL has an invalid host name"),
        ("http://[::1/", "the API base URL has an invalid IPv6 address"),
    ],
)
def test_unusable_base_urls_say_what_is_wrong(given: str, expected: str) -> None:
    with pytest.raises(InvalidBaseUrlError) as info:
        check_base_url(given)
    assert str(info.value) == expected
    assert "secret-pw" not in str(info.value)


def test_plain_http_is_only_for_this_machine() -> None:
    with pytest.raises(InsecureBaseUrlError) as info:
        check_base_url("http://api.example.com")
    assert "api.example.com" in str(info.value) and "https://" in str(info.value)
    assert isinstance(info.value, InvalidBaseUrlError)  # one type to catch for every unusable URL


def test_the_fast_character_checks_agree_with_unicodedata_for_every_code_point() -> None:
    """``_has_control``/``_has_surrogate`` and the whitespace pattern are fast paths of the category rule:
    for every character they must say what ``unicodedata`` and ``str.isspace`` say."""
    import sys
    import unicodedata

    from kdocs_viewer.core.validation import _WHITESPACE, _has_control, _has_surrogate

    wrong = []
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        category = unicodedata.category(c)
        if (
            _has_control(c) != (category in ("Cc", "Cf", "Cs"))
            or _has_surrogate(c) != (category == "Cs")
            or bool(_WHITESPACE.search(c)) != c.isspace()
        ):
            wrong.append(hex(code))
    assert wrong == []
    assert _has_control("abc\u200bdef") and not _has_control("abcdef") and _has_control("a\x7f")
