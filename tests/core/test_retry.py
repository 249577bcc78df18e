"""Retry decisions as plain data: what is retried, how long to wait, when to give up."""

from __future__ import annotations

import random
import time
from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kdocs_viewer.core.contract import CODE_INTERNAL, CODE_QUOTA_EXCEEDED, CODE_TOKEN_INVALID
from kdocs_viewer.core.retry import RetryPolicy, is_retryable, parse_retry_after, retry_delay

POLICY = RetryPolicy(max_attempts=4, base_delay=0.25, max_delay=8.0, budget=30.0)


def delay(
    attempt: int = 1,
    *,
    status: int | None = None,
    code: int | None = None,
    retry_after: str | None = None,
    transport_error: bool = False,
    elapsed: float = 0.0,
    policy: RetryPolicy = POLICY,
    rng: random.Random | None = None,
) -> float | None:
    return retry_delay(
        policy,
        attempt,
        status=status,
        code=code,
        retry_after=retry_after,
        transport_error=transport_error,
        elapsed=elapsed,
        rng=rng or random.Random(7),
    )


# ---- what is retried ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599, 429])
def test_server_errors_and_429_are_retried(status: int) -> None:
    assert delay(status=status) is not None


def test_transport_errors_are_retried() -> None:
    assert delay(transport_error=True) is not None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 408, 410, 413, 422])
def test_other_4xx_are_never_retried(status: int) -> None:
    assert delay(status=status) is None
    assert delay(status=status, code=20400) is None


@pytest.mark.parametrize("status", [200, 401, 500, 503, None])
def test_token_rejection_is_never_retried(status: int | None) -> None:
    assert delay(status=status, code=CODE_TOKEN_INVALID) is None
    assert delay(status=status, code=CODE_TOKEN_INVALID, transport_error=True) is None
    assert not is_retryable(status=status, code=CODE_TOKEN_INVALID, transport_error=False)


def test_quota_and_internal_codes_are_retried_even_with_status_200() -> None:
    assert delay(status=200, code=CODE_QUOTA_EXCEEDED) is not None
    assert delay(status=200, code=CODE_INTERNAL) is not None
    assert delay(status=200, code=20404) is None


# ---- Retry-After ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "seconds"), [("1", 1.0), ("0", 0.0), (" 7 ", 7.0), ("2.5", 2.5)])
def test_retry_after_seconds_are_honoured_exactly(header: str, seconds: float) -> None:
    assert delay(status=429, retry_after=header) == seconds
    assert delay(status=503, retry_after=header) == seconds


def test_retry_after_longer_than_max_delay_is_not_shortened() -> None:
    assert delay(status=429, retry_after="20") == 20.0


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 12, usegmt=True), now=now) == pytest.approx(12.0)
    assert parse_retry_after(formatdate(now - 50, usegmt=True), now=now) == 0.0  # in the past: now
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:32 -0000", now=now) == pytest.approx(12.0)
    # Through retry_delay, measured from the real clock.
    got = delay(status=429, retry_after=formatdate(time.time() + 5, usegmt=True))
    assert got is not None and 3.0 <= got <= 5.0


@pytest.mark.parametrize("header", [None, "", "soon", "-3", "nan", "inf", "Wed, 99 Foo 2015"])
def test_unusable_retry_after_falls_back_to_backoff(header: str | None) -> None:
    assert parse_retry_after(header) is None
    got = delay(status=429, retry_after=header)
    assert got is not None and 0.0 <= got <= POLICY.base_delay


# ---- backoff, attempts, budget ----------------------------------------------------------------------------


def test_full_jitter_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=20, base_delay=0.5, max_delay=3.0, budget=1000.0)
    for attempt, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (10, 3.0)]:
        draws = [delay(attempt, status=500, policy=policy, rng=random.Random(seed)) for seed in range(200)]
        assert all(d is not None and 0.0 <= d <= cap for d in draws)
        assert max(d for d in draws if d is not None) > 0.8 * cap  # spread over the whole range


def test_the_rng_is_injectable_and_deterministic() -> None:
    a = delay(2, status=502, rng=random.Random(42))
    b = delay(2, status=502, rng=random.Random(42))
    assert a == b

    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    assert delay(3, status=500, rng=Top()) == 1.0  # 0.25 * 2**2


def test_gives_up_after_max_attempts() -> None:
    assert delay(3, status=500) is not None
    assert delay(4, status=500) is None
    assert delay(9, transport_error=True) is None
    assert delay(1, status=500, policy=RetryPolicy(max_attempts=1)) is None


def test_gives_up_when_the_wait_would_exceed_the_budget() -> None:
    assert delay(status=429, retry_after="5", elapsed=24.0) == 5.0
    assert delay(status=429, retry_after="5", elapsed=25.5) is None
    assert delay(status=429, retry_after="3600") is None
    tight = RetryPolicy(budget=0.1, base_delay=1.0)
    assert delay(status=500, elapsed=0.2, policy=tight) is None


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=-1)


@given(
    attempt=st.integers(min_value=1, max_value=50),
    status=st.one_of(st.none(), st.integers(min_value=100, max_value=599)),
    code=st.one_of(st.none(), st.integers(min_value=-5, max_value=60000)),
    transport_error=st.booleans(),
    elapsed=st.floats(min_value=0, max_value=100),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_delay_is_always_bounded(
    attempt: int, status: int | None, code: int | None, transport_error: bool, elapsed: float, seed: int
) -> None:
    got = delay(
        attempt, status=status, code=code, transport_error=transport_error, elapsed=elapsed,
        rng=random.Random(seed),
    )
    if got is not None:
        assert attempt < POLICY.max_attempts
        assert 0.0 <= got <= POLICY.max_delay
        assert elapsed + got <= POLICY.budget
        assert code != CODE_TOKEN_INVALID
