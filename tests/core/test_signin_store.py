"""SignInStore: the signed-in user in a real Secret Service (gnome-keyring on a private D-Bus), and the
states it reports without one."""

from __future__ import annotations

import json

import keyring
import pytest
from keyring.backend import KeyringBackend

from kdocs_viewer.core.auth import AppCredentials, SignIn, TokenSet
from kdocs_viewer.core.secrets import SERVICE_NAME, SignInResult, SignInStore, TokenStatus, TokenStore
from tests.helpers.logfail import ExpectLog
from tests.keyring_support import HangingKeyring

BASE = "http://127.0.0.1:43121"
KEY = "app-KEY-secret-77"
ACCESS, REFRESH = "access-SECRET-1", "refresh-SECRET-1"


def sign_in(app_id: str = "app-1", access: str = ACCESS, refresh: str = REFRESH) -> SignIn:
    return SignIn(AppCredentials(app_id, KEY), TokenSet(access, refresh, 2_000_000_000.5, 1_999_900_000.25))


def assert_no_secret(result: SignInResult) -> None:
    for secret in (KEY, ACCESS, REFRESH):
        assert secret not in repr(result) and secret not in result.detail


@pytest.mark.keyring_service
def test_sign_in_round_trip_in_the_secret_service(secret_service: KeyringBackend) -> None:
    store = SignInStore()
    assert store.load(BASE).status is TokenStatus.NOT_STORED
    saved = store.save(BASE, sign_in())
    assert saved.status is TokenStatus.STORED and saved.backend == "Secret Service"
    loaded = store.load(BASE + "/")
    assert loaded.status is TokenStatus.STORED and loaded.sign_in == sign_in()
    assert "app-1" in loaded.detail
    # Really there: one entry per (base URL, APPID) with tokens, expiry and APPKEY, one naming the APPID.
    assert keyring.get_password(SERVICE_NAME, f"{BASE} oauth") == "app-1"
    entry = json.loads(keyring.get_password(SERVICE_NAME, f"{BASE} oauth app-1") or "{}")
    assert entry["app_key"] == KEY and entry["refresh_token"] == REFRESH
    assert entry["expires_at"] == 2_000_000_000.5
    # The static token of the same base URL is another entry and stays untouched.
    assert keyring.get_password(SERVICE_NAME, BASE) is None

    cleared = store.clear(BASE)
    assert cleared.status is TokenStatus.NOT_STORED and "signed out" in cleared.detail
    assert keyring.get_password(SERVICE_NAME, f"{BASE} oauth") is None
    assert keyring.get_password(SERVICE_NAME, f"{BASE} oauth app-1") is None
    assert store.load(BASE).status is TokenStatus.NOT_STORED
    again = store.clear(BASE)
    assert again.status is TokenStatus.NOT_STORED and "nobody" in again.detail
    for result in (saved, loaded, cleared):
        assert_no_secret(result)


@pytest.mark.keyring_service
def test_new_tokens_replace_old_and_another_app_replaces_the_first(secret_service: KeyringBackend) -> None:
    store = SignInStore()
    try:
        store.save(BASE, sign_in())
        store.save(BASE, sign_in(access="access-2", refresh="refresh-2"))
        loaded = store.load(BASE).sign_in
        assert loaded is not None and loaded.tokens.refresh_token == "refresh-2"
        store.save(BASE, sign_in("app-2"))
        assert store.load(BASE).sign_in == sign_in("app-2")
        assert keyring.get_password(SERVICE_NAME, f"{BASE} oauth app-1") is None  # no stale secrets left
        # Another base URL is another sign-in.
        store.save("https://developer.kdocs.cn", sign_in("real-app"))
        assert store.load(BASE).sign_in == sign_in("app-2")
    finally:
        store.clear(BASE)
        store.clear("https://developer.kdocs.cn")


@pytest.mark.keyring_service
def test_an_unreadable_entry_asks_for_a_new_sign_in(secret_service: KeyringBackend) -> None:
    store = SignInStore()
    try:
        keyring.set_password(SERVICE_NAME, f"{BASE} oauth", "app-1")
        keyring.set_password(
            SERVICE_NAME, f"{BASE} oauth app-1", '{"v": 1, "app_id": "app-1", "garbage-SECRET"'
        )
        result = store.load(BASE)
        assert result.status is TokenStatus.ERROR and result.sign_in is None
        assert "sign in again" in result.detail and "garbage-SECRET" not in result.detail
    finally:
        store.clear(BASE)


def test_without_a_keyring_nothing_is_stored_anywhere(no_keyring: KeyringBackend) -> None:
    store = SignInStore()
    for result in (store.save(BASE, sign_in()), store.load(BASE), store.clear(BASE)):
        assert result.status is TokenStatus.UNAVAILABLE and not result.ok
        assert result.sign_in is None
        assert_no_secret(result)


def test_a_hanging_keyring_times_out(hanging_keyring: HangingKeyring, expect_log: ExpectLog) -> None:
    store = SignInStore(TokenStore(timeout=0.2))
    with expect_log("kdocs_viewer.core.secrets", match="did not answer"):
        result = store.load(BASE)
    assert result.status is TokenStatus.TIMED_OUT
    assert store.save(BASE, sign_in()).status is TokenStatus.TIMED_OUT
