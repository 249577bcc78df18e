"""The quota rules shared by the client, the viewer and the stand-in: the day, the server key, the limit."""

from __future__ import annotations

import datetime

import pytest

from kdocs_viewer.core.quota import (
    DailyCalls,
    calls_to_resolve,
    daily_limit_from_headers,
    daily_limit_header,
    quota_day,
    seconds_to_next_quota_day,
    server_key,
)

UTC = datetime.UTC


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def test_the_quota_day_turns_at_midnight_in_beijing() -> None:
    assert quota_day(at("2026-03-01T15:59:59+00:00")) == datetime.date(2026, 3, 1)
    assert quota_day(at("2026-03-01T16:00:00+00:00")) == datetime.date(2026, 3, 2)
    assert quota_day(at("2026-03-01T23:30:00+01:00")) == datetime.date(2026, 3, 2)  # 06:30 in Beijing
    assert quota_day(at("2026-03-02T07:59:00+08:00")) == datetime.date(2026, 3, 2)


def test_seconds_to_the_next_quota_day() -> None:
    assert seconds_to_next_quota_day(at("2026-03-01T15:59:00+00:00")) == 60
    assert seconds_to_next_quota_day(at("2026-03-01T15:59:59.5+00:00")) == 1
    assert seconds_to_next_quota_day(at("2026-03-01T16:00:00+00:00")) == 86_400


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        quota_day(datetime.datetime(2026, 3, 1, 12, 0))


def test_one_server_one_key_and_the_key_holds_nothing_of_the_url() -> None:
    key = server_key("https://developer.kdocs.cn")
    assert key == server_key("HTTPS://Developer.KDocs.cn:443/")
    assert key != server_key("http://127.0.0.1:8123")
    assert server_key("http://127.0.0.1:8123") != server_key("http://127.0.0.1:8124")
    assert len(key) == 16 and set(key) <= set("0123456789abcdef")
    odd = server_key("https://user:pw@h.example/api?access_token=SECRET#frag")
    assert "SECRET" not in odd and set(odd) <= set("0123456789abcdef")
    assert odd == server_key("https://h.example/api")  # user info and query are not part of a server's name


@pytest.mark.parametrize(
    ("headers", "limit"),
    [
        (daily_limit_header(2), 2),
        ({"ratelimit-policy": '"day";q=10000;w=86400'}, 10_000),
        ({"RateLimit-Policy": "500;w=86400"}, 500),  # the older draft's shape
        ({"RateLimit-Policy": '"burst";q=10;w=1, "day";q=2000;w=86400'}, 2000),
        ({"RateLimit-Policy": '"minute";q=60;w=60'}, None),  # not a daily limit
        ({"RateLimit-Policy": "garbage;;;=,"}, None),
        ({"RateLimit-Policy": '"day";q=0;w=86400'}, None),
        ({"X-Other": '"day";q=5;w=86400'}, None),
        ({}, None),
    ],
)
def test_the_daily_limit_is_read_only_from_a_daily_policy(headers: dict[str, str], limit: int | None) -> None:
    assert daily_limit_from_headers(headers.items()) == limit


def test_daily_calls_add_earlier_runs_and_start_again_on_a_new_day() -> None:
    monday, tuesday = datetime.date(2026, 3, 2), datetime.date(2026, 3, 3)
    calls = DailyCalls(day=monday, earlier=40)
    assert calls.count(0, monday) == 40
    assert calls.count(7, monday) == 47
    assert calls.count(9, tuesday) == 0  # the client's 9 calls so far belong to Monday
    assert calls.count(12, tuesday) == 3
    assert calls.day == tuesday


def test_calls_to_resolve_are_batches_of_a_hundred() -> None:
    assert [calls_to_resolve(n) for n in (0, 1, 100, 101, 10_001, 200_000)] == [0, 1, 1, 2, 101, 2000]
