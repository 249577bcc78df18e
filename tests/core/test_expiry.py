"""Lease lifetimes and refresh planning: pure functions, time driven by hand."""

from __future__ import annotations

import calendar
import math
import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kdocs_viewer.core.contract import ESTIMATED_LIFETIME, MAX_PICS_PER_CALL, TAG_LIFETIMES
from kdocs_viewer.core.expiry import (
    EXPIRING_SOON,
    embedded_expiry,
    lease_state,
    lifetime_for,
    needs_refresh,
    next_refresh_at,
    plan_refresh,
    refresh_due_at,
    refresh_margin,
)
from kdocs_viewer.core.models import Lease, LeaseState, PicRef
from kdocs_viewer.core.refresh import RETRY_AFTER_FAILURE

SENT = 1_700_000_000.0  # a wall-clock send time


def make_lease(key: str, ttl: float | None, obtained_at: float = 1000.0, tag: str = "attachment") -> Lease:
    return Lease(PicRef(key, tag), f"https://cdn.example/{key}", obtained_at, ttl)


# ---- lifetime_for ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", sorted(TAG_LIFETIMES))
def test_known_tags_use_the_documented_lifetime(tag: str) -> None:
    assert lifetime_for(tag, "https://h/p/x?Sig=abc", SENT) == (TAG_LIFETIMES[tag], False)


def test_cloud_is_unbounded() -> None:
    assert lifetime_for("cloud", "https://h/p/x?Sig=abc", SENT) == (None, False)


def test_unknown_tag_gets_the_shortest_lifetime_as_an_estimate() -> None:
    assert lifetime_for("hologram", "https://h/p/x", SENT) == (ESTIMATED_LIFETIME, True)


def test_embedded_expires_wins_over_the_tag_and_may_be_fractional() -> None:
    url = f"http://127.0.0.1:4000/img/wb/k1?Expires={SENT + 42.5}&Sig=deadbeef"
    assert lifetime_for("attachment", url, SENT) == (pytest.approx(42.5), False)
    # ... also for unbounded and unknown tags: the URL knows best.
    assert lifetime_for("cloud", url, SENT) == (pytest.approx(42.5), False)
    assert lifetime_for("hologram", url, SENT) == (pytest.approx(42.5), False)


def test_parameter_names_are_case_insensitive() -> None:
    assert lifetime_for("local", f"https://h/x?EXPIRES={int(SENT) + 90}", SENT) == (90.0, False)
    assert lifetime_for("local", f"https://h/x?expires={int(SENT) + 90}", SENT) == (90.0, False)


def test_amz_date_plus_expires() -> None:
    start = "20231114T221320Z"
    start_unix = calendar.timegm(time.strptime(start, "%Y%m%dT%H%M%SZ"))
    url = f"https://bucket.s3.example/k?X-Amz-Algorithm=AWS4&X-Amz-Date={start}&X-Amz-Expires=900&X-Amz-Signature=z"
    ttl, estimated = lifetime_for("attachment", url, start_unix + 100)
    assert (ttl, estimated) == (800.0, False)
    lower = url.replace("X-Amz-Date", "x-amz-date").replace("X-Amz-Expires", "x-amz-expires")
    assert lifetime_for("attachment", lower, start_unix + 100) == (800.0, False)


def test_amz_expires_without_date_is_ignored() -> None:
    assert lifetime_for("local", "https://h/x?X-Amz-Expires=900", SENT) == (TAG_LIFETIMES["local"], False)


def test_embedded_expiry_in_the_past_means_expired_on_arrival() -> None:
    assert lifetime_for("attachment", f"https://h/x?Expires={SENT - 5}", SENT) == (0.0, False)


def test_milliseconds_expires_is_understood() -> None:
    url = f"https://h/x?Expires={int((SENT + 120) * 1000)}"
    ttl, _ = lifetime_for("attachment", url, SENT)
    assert ttl == pytest.approx(120.0)


# Each of these names an instant that the nearest float lies a hair *after*: ``float()`` alone would let the
# client believe in the URL ~0.1 µs longer than the server promised.
@pytest.mark.parametrize(
    ("query", "promised"),
    [
        ("Expires=1700000300.7", Decimal("1700000300.7")),
        ("Expires=1700000300121", Decimal("1700000300.121")),  # milliseconds
        ("X-Amz-Date=20231114T221320Z&X-Amz-Expires=900.7", Decimal("1700000900.7")),
    ],
)
def test_embedded_expiry_is_never_after_the_promised_instant(query: str, promised: Decimal) -> None:
    expiry = embedded_expiry(f"https://h/x?{query}")
    assert expiry is not None
    assert Decimal(expiry) <= promised
    assert math.nextafter(expiry, math.inf) > promised  # the latest float that is not after it


@given(
    seconds=st.decimals(min_value=1_000_000_000, max_value=99_999_999_999, allow_nan=False, places=6),
    millis=st.booleans(),
)
def test_embedded_expiry_rounds_toward_the_past(seconds: Decimal, millis: bool) -> None:
    text = str(seconds.scaleb(3).to_integral_value()) if millis else str(seconds)
    promised = Decimal(text).scaleb(-3) if millis else Decimal(text)
    expiry = embedded_expiry(f"https://h/x?Expires={text}")
    assert expiry is not None
    assert Decimal(expiry) <= promised < Decimal(math.nextafter(expiry, math.inf))


@pytest.mark.parametrize(
    "query",
    [
        "Expires=",
        "Expires=soon",
        "Expires=nan",
        "Expires=inf",
        "Expires=600",
        "X-Amz-Date=yesterday&X-Amz-Expires=5",
    ],
)
def test_unusable_embedded_expiry_falls_back_to_the_tag(query: str) -> None:
    assert embedded_expiry(f"https://h/x?{query}") is None
    assert lifetime_for("attachment", f"https://h/x?{query}", SENT) == (TAG_LIFETIMES["attachment"], False)


def test_garbage_urls_do_not_raise() -> None:
    assert lifetime_for("local", "http://[::1", SENT) == (TAG_LIFETIMES["local"], False)
    assert lifetime_for("local", "", SENT) == (TAG_LIFETIMES["local"], False)


@given(
    offset=st.floats(min_value=-1e6, max_value=1e7, allow_nan=False),
    tag=st.sampled_from(["attachment", "local", "cloud", "other", ""]),
)
def test_embedded_ttl_is_never_negative_and_matches_the_offset(offset: float, tag: str) -> None:
    ttl, estimated = lifetime_for(tag, f"https://h/x?a=1&Expires={SENT + offset!r}&b=2", SENT)
    assert ttl is not None and ttl >= 0
    assert not estimated
    assert ttl == pytest.approx(max(0.0, offset), abs=1e-3)


@given(url=st.text(max_size=200), tag=st.text(max_size=20), sent=st.floats(0, 4e9))
def test_lifetime_for_is_total(url: str, tag: str, sent: float) -> None:
    ttl, estimated = lifetime_for(tag, url, sent)
    assert ttl is None or ttl >= 0
    assert isinstance(estimated, bool)


# ---- margins and states ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ttl", "margin"),
    [(600.0, 120.0), (300.0, 60.0), (100.0, 50.0), (1.0, 0.5), (0.0, 0.0), (-3.0, 0.0), (3600.0, 720.0)],
)
def test_refresh_margin(ttl: float, margin: float) -> None:
    assert refresh_margin(ttl) == pytest.approx(margin)


@given(st.floats(min_value=0.0, max_value=1e7, allow_nan=False))
def test_refresh_margin_bounds(ttl: float) -> None:
    margin = refresh_margin(ttl)
    assert 0 <= margin <= ttl / 2 + 1e-9
    if ttl >= 120:
        assert margin >= 60


def test_needs_refresh_and_state_over_time() -> None:
    lease = make_lease("k", 600.0, obtained_at=1000.0)  # margin 120 → due at 1480, expired at 1600
    assert not needs_refresh(lease, 1000.0)
    assert lease_state(lease, 1000.0) is LeaseState.FRESH
    assert not needs_refresh(lease, 1479.9)
    assert needs_refresh(lease, 1480.0)
    assert lease_state(lease, 1500.0) is LeaseState.FRESH  # due for refresh, not expiring soon
    assert lease_state(lease, 1600.0 - EXPIRING_SOON) is LeaseState.FRESH
    assert lease_state(lease, 1600.0 - EXPIRING_SOON + 0.5) is LeaseState.EXPIRING
    assert needs_refresh(lease, 1600.0)
    assert lease_state(lease, 1600.0) is LeaseState.EXPIRED
    assert needs_refresh(lease, 99999.0)


@pytest.mark.parametrize("ttl", sorted({*TAG_LIFETIMES.values(), ESTIMATED_LIFETIME, 120.0, 3600.0, 86400.0}))
def test_a_lease_the_keeper_refreshes_never_shows_as_expiring_soon(ttl: float) -> None:
    """The keeper refreshes a needed lease at its refresh point; the badge turns only EXPIRING_SOON before
    the end, which leaves the refresh at least as long again to land — with room for one retry after a
    failed call — so "expiring soon" only ever shows on links nobody is renewing."""
    lease = make_lease("k", ttl, obtained_at=0.0)
    due, end = refresh_due_at(lease), lease.expires_at
    assert due is not None and end is not None
    warns_at = end - EXPIRING_SOON
    assert warns_at - due >= EXPIRING_SOON > RETRY_AFTER_FAILURE
    assert lease_state(lease, due) is LeaseState.FRESH
    assert lease_state(lease, warns_at - 0.001) is LeaseState.FRESH
    assert lease_state(lease, warns_at + 0.001) is LeaseState.EXPIRING


def test_unbounded_never_needs_refresh() -> None:
    lease = make_lease("c", None, tag="cloud")
    assert not needs_refresh(lease, 1e12)
    assert lease_state(lease, 1e12) is LeaseState.UNBOUNDED


# ---- plan_refresh / next_refresh_at ---------------------------------------------------------------------


def test_plan_refresh_only_needed_and_due_in_needed_order() -> None:
    leases = {
        ("fresh", "attachment"): make_lease("fresh", 600.0, obtained_at=1000.0),
        ("due", "attachment"): make_lease("due", 600.0, obtained_at=500.0),  # due at 980
        ("dead", "attachment"): make_lease("dead", 600.0, obtained_at=0.0),  # expired
        ("cloud", "cloud"): make_lease("cloud", None, obtained_at=0.0, tag="cloud"),
        ("unneeded", "attachment"): make_lease("unneeded", 600.0, obtained_at=0.0),
    }
    needed = [
        ("dead", "attachment"),
        ("cloud", "cloud"),
        ("fresh", "attachment"),
        ("missing", "attachment"),
        ("due", "attachment"),
        ("dead", "attachment"),  # duplicates collapse
    ]
    plan = plan_refresh(leases, needed, now=1000.0)
    assert [[ref.pic_key for ref in batch] for batch in plan] == [["dead", "due"]]


def test_plan_refresh_batches_at_the_call_limit() -> None:
    n = 2 * MAX_PICS_PER_CALL + 7
    leases = {(f"k{i}", "local"): make_lease(f"k{i}", 300.0, obtained_at=0.0, tag="local") for i in range(n)}
    needed = [(f"k{i}", "local") for i in reversed(range(n))]
    plan = plan_refresh(leases, needed, now=10_000.0)
    assert [len(batch) for batch in plan] == [MAX_PICS_PER_CALL, MAX_PICS_PER_CALL, 7]
    assert [ref.ident for batch in plan for ref in batch] == needed
    assert [len(b) for b in plan_refresh(leases, needed, now=10_000.0, batch_size=150)] == [150, 57]
    with pytest.raises(ValueError):
        plan_refresh(leases, needed, now=0.0, batch_size=0)


def test_plan_refresh_takes_leases_due_soon_along_but_never_alone() -> None:
    # 300 s local links: margin 60 s, so a lease obtained at t is due at t + 240.
    leases = {
        (k, "local"): make_lease(k, 300.0, obtained_at=at, tag="local")
        for k, at in [("now", 760.0), ("in10", 770.0), ("in25", 785.0), ("in40", 800.0)]
    }
    needed = [("in40", "local"), ("in25", "local"), ("in10", "local"), ("now", "local")]
    plan = plan_refresh(leases, needed, now=1000.0, lookahead=30.0)
    assert [[ref.pic_key for ref in batch] for batch in plan] == [["now", "in10", "in25"]]  # soonest first
    assert plan_refresh(leases, needed, now=1000.0) == [[leases["now", "local"].ref]]  # no lookahead
    assert plan_refresh(leases, needed, now=999.0, lookahead=30.0) == []  # nothing due: no call at all


def test_plan_refresh_lookahead_only_fills_the_last_batch() -> None:
    n = MAX_PICS_PER_CALL - 2
    leases = {(f"d{i}", "local"): make_lease(f"d{i}", 300.0, obtained_at=0.0, tag="local") for i in range(n)}
    leases.update(
        {(f"s{i}", "local"): make_lease(f"s{i}", 300.0, obtained_at=i, tag="local") for i in range(10, 0, -1)}
    )
    plan = plan_refresh(leases, list(leases), now=240.0, lookahead=30.0)
    assert [len(batch) for batch in plan] == [MAX_PICS_PER_CALL]  # two ride along; the other eight wait
    assert [ref.pic_key for ref in plan[0][n:]] == ["s1", "s2"]


def test_plan_refresh_nothing_due() -> None:
    leases = {("a", "local"): make_lease("a", 300.0, obtained_at=1000.0, tag="local")}
    assert plan_refresh(leases, [("a", "local")], now=1001.0) == []
    assert plan_refresh(leases, [], now=1e9) == []


def test_next_refresh_at_is_the_earliest_needed_due_time() -> None:
    leases = {
        ("a", "attachment"): make_lease("a", 600.0, obtained_at=1000.0),  # due 1480
        ("b", "local"): make_lease("b", 300.0, obtained_at=1000.0, tag="local"),  # due 1240
        ("c", "cloud"): make_lease("c", None, tag="cloud"),
        ("z", "local"): make_lease("z", 300.0, obtained_at=0.0, tag="local"),  # due long ago, not needed
    }
    assert next_refresh_at(leases, [("a", "attachment"), ("b", "local")], now=1000.0) == 1240.0
    assert next_refresh_at(leases, [("a", "attachment")], now=1000.0) == 1480.0
    assert next_refresh_at(leases, [("c", "cloud"), ("missing", "x")], now=1000.0) is None
    assert next_refresh_at(leases, [], now=1000.0) is None
    # Already due → now, so a timer fires at once instead of being armed in the past.
    assert next_refresh_at(leases, [("b", "local")], now=2000.0) == 2000.0


@given(
    lifetimes=st.lists(
        st.tuples(st.floats(0, 5000), st.one_of(st.none(), st.floats(0, 5000))), min_size=1, max_size=30
    ),
    now=st.floats(0, 20000),
)
def test_plan_and_timer_agree(lifetimes: list[tuple[float, float | None]], now: float) -> None:
    """Whatever is planned now is due by the timer's reckoning, and nothing is due before the timer fires."""
    leases = {
        (f"k{i}", "t"): make_lease(f"k{i}", ttl, obtained_at=at, tag="t")
        for i, (at, ttl) in enumerate(lifetimes)
    }
    needed = list(leases)
    planned = {ref.ident for batch in plan_refresh(leases, needed, now) for ref in batch}
    at = next_refresh_at(leases, needed, now)
    if planned:
        assert at == now
    if at is None:
        assert all(lease.ttl is None for lease in leases.values())
    else:
        assert at >= now
        assert planned or at > now
        assert plan_refresh(leases, needed, at)  # at the armed time something is due
    for ident in planned:
        assert leases[ident].ttl is not None
