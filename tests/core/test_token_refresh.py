"""TokenRefresher: one refresh for many threads, before expiry and once on rejection, and a clean "sign in
again" when the refresh token is refused. First with a refresh function the test controls, then inside a
real KDocsClient against the stand-in (whose accepted token the test changes)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from kdocs_viewer.core.api import KDocsClient, KDocsError, TokenInvalidError
from kdocs_viewer.core.auth import AuthError, AuthReason, SignInRequiredError, TokenSet, auth_error
from kdocs_viewer.core.models import Lease
from kdocs_viewer.core.retry import RetryPolicy
from kdocs_viewer.core.token_refresh import TokenRefresher
from kdocs_viewer.standin.server import StandinServer
from tests.helpers.logfail import ExpectLog

FAST = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02, budget=5.0)


class Clock:
    def __init__(self, now: float = 10_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def tokens(name: str, *, expires_at: float, obtained_at: float = 0.0, refresh: str | None = None) -> TokenSet:
    return TokenSet(name, refresh if refresh is not None else f"rt-{name}", expires_at, obtained_at)


class Refresher:
    """The refresh function: hands out at1, at2, … (each lives 1000 s from the clock), counts its calls,
    and can be held at a gate or told to fail."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls: list[str] = []
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self.fail_with: KDocsError | None = None
        self._lock = threading.Lock()

    def __call__(self, refresh_token: str) -> TokenSet:
        with self._lock:
            self.calls.append(refresh_token)
            number = len(self.calls)
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail_with is not None:
            raise self.fail_with
        now = self.clock()
        return tokens(f"at{number + 1}", expires_at=now + 1000, obtained_at=now)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def refresh(clock: Clock) -> Refresher:
    return Refresher(clock)


def run_threads(count: int, target: Callable[[], object]) -> list[object]:
    results: list[object] = [None] * count

    def work(index: int) -> None:
        try:
            results[index] = target()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    return results


# ---- with a refresh function the test controls ------------------------------------------------------------


def test_a_fresh_token_is_handed_out_without_refreshing(clock: Clock, refresh: Refresher) -> None:
    fresh = tokens("at1", expires_at=clock.now + 1000, obtained_at=clock.now)
    provider = TokenRefresher(fresh, refresh, clock=clock)
    assert provider.current() == "at1"
    clock.now += 899  # margin: a tenth of 1000 s
    assert provider.current() == "at1"
    assert refresh.calls == []


def test_many_threads_share_one_refresh_before_expiry(clock: Clock, refresh: Refresher) -> None:
    saved: list[str] = []
    provider = TokenRefresher(
        tokens("at1", expires_at=clock.now + 50, obtained_at=clock.now - 950),
        refresh,
        clock=clock,
        on_refreshed=lambda t: saved.append(t.access_token),
    )
    refresh.gate = threading.Event()
    results: list[object] = []
    runner = threading.Thread(target=lambda: results.extend(run_threads(8, provider.current)))
    runner.start()
    assert refresh.entered.wait(10)  # one thread refreshes; the others wait on it (or come after)
    refresh.gate.set()
    runner.join(10)
    assert results == ["at2"] * 8
    assert refresh.calls == ["rt-at1"]
    assert saved == ["at2"]
    assert provider.refreshes == 1 and provider.tokens.access_token == "at2"


def test_a_rejected_token_is_renewed_once_even_when_many_calls_saw_it(
    clock: Clock, refresh: Refresher
) -> None:
    provider = TokenRefresher(tokens("at1", expires_at=clock.now + 1000), refresh, clock=clock)
    run_threads(6, lambda: provider.rejected("at1"))
    assert refresh.calls == ["rt-at1"]
    assert provider.current() == "at2"
    provider.rejected("at1")  # a late report about the old token changes nothing
    assert refresh.calls == ["rt-at1"]
    provider.rejected("at2")
    assert refresh.calls == ["rt-at1", "rt-at2"] and provider.current() == "at3"


def test_a_refused_refresh_ends_the_sign_in_for_every_caller(clock: Clock, refresh: Refresher) -> None:
    provider = TokenRefresher(tokens("at1", expires_at=clock.now + 5), refresh, clock=clock)
    refresh.fail_with = auth_error(AuthReason.REFRESH_REJECTED)
    results = run_threads(5, provider.current)
    assert all(isinstance(r, SignInRequiredError) for r in results)
    assert all(r.auth_reason is AuthReason.REFRESH_REJECTED for r in results if isinstance(r, AuthError))
    assert len({id(r) for r in results}) == 5  # each thread its own exception object
    assert refresh.calls == ["rt-at1"]  # no caller asked again
    assert provider.failed is AuthReason.REFRESH_REJECTED
    with pytest.raises(SignInRequiredError):
        provider.rejected("at1")
    # A new sign-in clears it.
    provider.replace(tokens("fresh", expires_at=clock.now + 1000))
    assert provider.failed is None and provider.current() == "fresh"


def test_a_passing_failure_keeps_the_working_token_and_waits_before_trying_again(
    clock: Clock, refresh: Refresher
) -> None:
    provider = TokenRefresher(tokens("at1", expires_at=clock.now + 50), refresh, clock=clock, retry_after=30)
    refresh.fail_with = AuthError(AuthReason.NETWORK, "could not connect")
    assert provider.current() == "at1"  # still good for 50 s
    assert provider.current() == "at1"
    assert len(refresh.calls) == 1  # not asked again within 30 s
    clock.now += 31
    assert provider.current() == "at1"
    assert len(refresh.calls) == 2
    clock.now += 31  # now expired, and the server still cannot be reached: the caller hears why
    with pytest.raises(AuthError) as info:
        provider.current()
    assert info.value.auth_reason is AuthReason.NETWORK
    assert not isinstance(info.value, SignInRequiredError)
    assert provider.failed is None  # not the user's problem: no "sign in again"
    refresh.fail_with = None
    clock.now += 31
    assert provider.current() == "at5"  # the fourth refresh call
    assert len(refresh.calls) == 4


def test_a_rejected_token_with_the_server_unreachable_raises(clock: Clock, refresh: Refresher) -> None:
    provider = TokenRefresher(tokens("at1", expires_at=clock.now + 1000), refresh, clock=clock)
    refresh.fail_with = AuthError(AuthReason.NETWORK, "could not connect")
    with pytest.raises(AuthError):
        provider.rejected("at1")


def test_no_refresh_token_means_sign_in_again(clock: Clock, refresh: Refresher) -> None:
    provider = TokenRefresher(tokens("at1", expires_at=clock.now + 5, refresh=""), refresh, clock=clock)
    with pytest.raises(SignInRequiredError):
        provider.current()
    assert refresh.calls == []


def test_storing_failures_are_logged_not_raised(
    clock: Clock, refresh: Refresher, expect_log: ExpectLog
) -> None:
    def broken_store(new: TokenSet) -> None:
        raise RuntimeError("keyring gone")

    provider = TokenRefresher(
        tokens("at1", expires_at=clock.now + 5), refresh, clock=clock, on_refreshed=broken_store
    )
    with expect_log("kdocs_viewer.core.token_refresh", match="could not be stored") as records:
        assert provider.current() == "at2"
    assert all("at2" not in r.getMessage() for r in records)


# ---- inside KDocsClient, against the stand-in --------------------------------------------------------------


@pytest.fixture
def server(standin_factory: Callable[..., StandinServer]) -> StandinServer:
    return standin_factory(pictures=250)  # three batches of pictures


@pytest.fixture
def renewals() -> list[str]:
    """The refresh tokens the test's refresh function was called with."""
    return []


def test_the_client_renews_a_rejected_token_once_and_all_batches_succeed(
    server: StandinServer, renewals: list[str]
) -> None:
    server.set_token("new-token")  # the token the client holds is no longer accepted
    now_tokens = TokenSet("demo-token", "rt-0", 1e12, 0.0)

    def renew(refresh_token: str) -> TokenSet:
        renewals.append(refresh_token)
        return TokenSet("new-token", "rt-1", 1e12, 0.0)

    provider = TokenRefresher(now_tokens, renew)
    with KDocsClient(provider, server.base_url, retry=FAST, concurrency=3) as client:
        outcomes = client.resolve("demo-workbook", server.pictures())
        assert all(isinstance(o, Lease) for o in outcomes) and len(outcomes) == 250
        assert client.list_sheets("demo-workbook")
    assert renewals == ["rt-0"]  # three parallel batches were refused; one refresh served them all
    statuses = [e.status for e in server.request_log()]
    assert statuses.count(401) <= 3 and statuses.count(200) == 4


def test_a_token_refused_again_after_renewal_is_not_renewed_in_a_loop(
    server: StandinServer, renewals: list[str]
) -> None:
    server.set_token("nobody-has-this")

    def renew(refresh_token: str) -> TokenSet:
        renewals.append(refresh_token)
        return TokenSet(f"useless-{len(renewals)}", "rt", 1e12, 0.0)

    with (
        KDocsClient(
            TokenRefresher(TokenSet("demo-token", "rt", 1e12, 0.0), renew), server.base_url
        ) as client,
        pytest.raises(TokenInvalidError) as info,
    ):
        client.list_sheets("demo-workbook")
    assert not isinstance(info.value, SignInRequiredError)
    assert renewals == ["rt"]
    assert [e.status for e in server.request_log()] == [401, 401]


def test_a_refused_refresh_surfaces_as_sign_in_required(server: StandinServer) -> None:
    server.set_token("someone-else")

    def refuse(refresh_token: str) -> TokenSet:
        raise auth_error(AuthReason.REFRESH_REJECTED)

    provider = TokenRefresher(TokenSet("demo-token", "rt", 1e12, 0.0), refuse)
    with KDocsClient(provider, server.base_url, retry=FAST, concurrency=3) as client:
        with pytest.raises(SignInRequiredError) as info:
            client.resolve("demo-workbook", server.pictures())
        assert "sign in again" in str(info.value)
        calls = client.calls_made
        with pytest.raises(SignInRequiredError):  # no request at all once the sign-in has ended
            client.list_sheets("demo-workbook")
        assert client.calls_made == calls


def test_a_token_due_for_refresh_is_renewed_before_the_call(
    server: StandinServer, renewals: list[str]
) -> None:
    def renew(refresh_token: str) -> TokenSet:
        renewals.append(refresh_token)
        server.set_token("after-refresh")
        return TokenSet("after-refresh", "rt-2", 1e12, 0.0)

    expiring = TokenSet("demo-token", "rt-1", expires_at=1.0, obtained_at=0.0)  # long past
    with KDocsClient(TokenRefresher(expiring, renew), server.base_url) as client:
        assert client.list_sheets("demo-workbook")
        assert "after-refresh" not in repr(client) and "after-refresh" not in repr(vars(client))
    assert renewals == ["rt-1"]
    assert [e.status for e in server.request_log()] == [200]  # no refused call first


def test_a_new_sign_in_during_a_refresh_wins(clock: Clock, refresh: Refresher) -> None:
    provider = TokenRefresher(tokens("at1", expires_at=clock.now + 5), refresh, clock=clock)
    refresh.gate = threading.Event()
    refresh.fail_with = auth_error(AuthReason.REFRESH_REJECTED)  # the old sign-in's refresh is refused …
    results = []
    waiter = threading.Thread(target=lambda: results.append(run_threads(1, provider.current)[0]))
    waiter.start()
    assert refresh.entered.wait(10)
    provider.replace(tokens("signed-in-again", expires_at=clock.now + 1000, obtained_at=clock.now))
    refresh.gate.set()
    waiter.join(10)
    assert isinstance(results[0], SignInRequiredError)  # … its caller hears so,
    assert provider.failed is None  # … but the new sign-in stands
    assert provider.current() == "signed-in-again"
