"""The expiry fast path (one regex over the query) agrees with the full urlsplit + parse_qsl parse."""

from __future__ import annotations

import calendar
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kdocs_viewer.core import expiry

_WANTED = ("expires", "x-amz-date", "x-amz-expires")


def _wanted(params: dict[str, str]) -> dict[str, str]:
    return {name: params[name] for name in _WANTED if name in params}


def _full(url: str) -> dict[str, str]:
    return _wanted(expiry._query_params(url))


def _strptime(text: str) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(text, "%Y%m%dT%H%M%SZ")))
    except ValueError:
        return None


EXAMPLES = [
    "https://h/img/a/b?Expires=1800000000&Sig=ff",
    "https://h/img/a/b?expires=1800000000.25&expires=1",
    "https://h/img/a/b?EXPIRES=+1800000000",
    "https://h/img/a/b?Expires=%31800000000",
    "https://h/img/a/b?%45xpires=1800000000",
    "https://h/img/a/b?Expires+=1800000000",
    "https://h/img/a/b?Expires",
    "https://h/img/a/b?Expires=&Expires=1800000000",
    "https://h/img/a/b?a=1?Expires=1800000000",
    "https://h/img/a/b?x=1&&Expires==5&",
    "https://h/img/a/b#frag?Expires=1800000000",
    "https://h/img/a/b?Expires=1800000000#x&X-Amz-Date=1",
    "https://h/img/a/b?ExpiresX=1800000000&xExpires=1",
    "https://h/img/a/b?Exp\tires=1800000000",
    "https://h/img/a/b?Expires=18000\n00000",
    "https://[::1/img?Expires=1800000000",
    "https://[::1]:8/img?Expires=1800000000",
    "https://h/img?Expire\u017f=1800000000",
    "https://h\u00e9/img?EXP\u0130RES=1800000000",
    "https://h/p?X-Amz-Credential=AK%2F1&X-Amz-Date=20260101T000000Z&X-Amz-Expires=600&X-Amz-Signature=f",
    "https://h/p?x-amz-date=20260101t000000z&x-amz-expires=60",
    "https://h/p?X-Amz-Date=20261301T000000Z&X-Amz-Expires=60",
    "https://h/p?X-Amz-Date=20260230T000000Z&X-Amz-Expires=60",
    "https://h/p?X-Amz-Date=20260101T235960Z&X-Amz-Expires=60",
    "https://h/p?X-Amz-Date=00000101T000000Z&X-Amz-Expires=60",
    "https://h/p?X-Amz-Date=2026011T000000Z&X-Amz-Expires=60",
    "https://h/p?X-Amz-Date= 20260101T000000Z &X-Amz-Expires= 60 ",
    "",
    "?",
    "no query at all",
]


@pytest.mark.parametrize("url", EXAMPLES)
def test_fast_params_match_full_parse(url: str) -> None:
    assert _wanted(expiry._expiry_params(url)) == _full(url)


_PIECES = st.sampled_from(
    [
        "Expires",
        "expires",
        "EXPIRES",
        "X-Amz-Date",
        "x-amz-expires",
        "X-Amz-Expires",
        "Sig",
        "a",
        "%45",
        "e",
        "=",
        "&",
        "?",
        "#",
        "+",
        "%",
        "%2F",
        "%3D",
        "%26",
        " ",
        "\t",
        "\n",
        "[",
        "]",
        "\u0130",
        "\u017f",
        "1800000000",
        "1.5",
        "20260101T000000Z",
        "600",
        "-1",
        "x",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["https://h/p?", "http://127.0.0.1:8/img/a?", "https://[::1]/x?", ""]),
    st.lists(_PIECES, max_size=14),
)
def test_fast_params_agree_on_generated_urls(prefix: str, pieces: list[str]) -> None:
    url = prefix + "".join(pieces)
    assert _wanted(expiry._expiry_params(url)) == _full(url)


@settings(max_examples=400, deadline=None)
@given(
    st.from_regex(r"[0-9]{4}[0-9]{2}[0-9]{2}[Tt][0-9]{2}[0-9]{2}[0-9]{2}[Zz]?", fullmatch=True)
    | st.text(alphabet="0123456789TZtz ", max_size=18)
)
def test_amz_date_fast_path_matches_strptime(text: str) -> None:
    assert expiry._parse_amz_date(text) == _strptime(text)
