"""TokenStore: explicit states for every keyring failure, no plaintext, no hang, no token in any text."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import null
from keyring.compat import properties

from kdocs_viewer.core.secrets import (
    SERVICE_NAME,
    TokenResult,
    TokenStatus,
    TokenStore,
    is_insecure_backend,
    normalise_base_url,
)
from tests.helpers.logfail import ExpectLog
from tests.keyring_support import HangingKeyring, swap_keyring, wait_for_keyring_workers

TOKEN = "tok-SECRET-1d2e3f-never-shown"


class ScriptedKeyring(KeyringBackend):
    """A backend that raises a given exception (or stores in memory), recording every write."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test-only backend: never chosen automatically")

    def __init__(self, error: BaseException | None = None, delete_error: BaseException | None = None) -> None:
        super().__init__()
        self.error = error
        self.delete_error = delete_error
        self.data: dict[tuple[str, str], str] = {}
        self.writes = 0

    def get_password(self, service: str, username: str) -> str | None:
        if self.error:
            raise self.error
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.writes += 1
        if self.error:
            raise self.error
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.delete_error:
            raise self.delete_error
        if self.error:
            raise self.error
        if self.data.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("No such password!")


class PlaintextKeyring(ScriptedKeyring):
    """Looks like keyrings.alt's plaintext file backend to TokenStore."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


def assert_no_token(result: TokenResult, token: str = TOKEN) -> None:
    assert token not in repr(result)
    assert token not in str(result)
    assert token not in result.detail
    assert token not in result.backend


@pytest.fixture
def scripted() -> Iterator[ScriptedKeyring]:
    with swap_keyring(ScriptedKeyring()) as backend:
        yield backend


# --- plain values -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://developer.kdocs.cn", "https://developer.kdocs.cn"),
        ("https://Developer.KDocs.cn:443/", "https://developer.kdocs.cn"),
        ("  HTTPS://developer.kdocs.cn/?x=1#f ", "https://developer.kdocs.cn"),
        ("http://127.0.0.1:43121/", "http://127.0.0.1:43121"),
        ("http://localhost:80", "http://localhost"),
        ("https://user:pw@host.example/api/", "https://host.example/api"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_account_is_the_normalised_base_url(given: str, expected: str) -> None:
    assert normalise_base_url(given) == expected


def test_result_repr_never_shows_the_token() -> None:
    result = TokenResult(TokenStatus.STORED, TOKEN, "Secret Service", "token found in Secret Service")
    assert_no_token(result)
    assert "STORED" in repr(result)
    assert result.ok


def test_empty_token_is_refused_before_touching_the_keyring(scripted: ScriptedKeyring) -> None:
    with pytest.raises(ValueError, match="empty"):
        TokenStore().set("https://developer.kdocs.cn", "  ")
    assert scripted.writes == 0


# --- no keyring, disabled keyring, insecure keyring -------------------------------------------------------


def test_no_backend_is_unavailable(no_keyring: KeyringBackend) -> None:
    store = TokenStore()
    for result in (
        store.get("https://developer.kdocs.cn"),
        store.set("https://developer.kdocs.cn", TOKEN),
        store.delete("https://developer.kdocs.cn"),
    ):
        assert result.status is TokenStatus.UNAVAILABLE
        assert result.detail == "no keyring backend"
        assert result.token is None
        assert not result.ok
        assert_no_token(result)
    assert store.backend_name() == "no keyring backend"


def test_null_backend_is_unavailable() -> None:
    with swap_keyring(null.Keyring()):
        result = TokenStore().set("https://developer.kdocs.cn", TOKEN)
    assert result.status is TokenStatus.UNAVAILABLE
    assert "disabled" in result.detail


def test_plaintext_backend_is_refused_and_never_written() -> None:
    backend = PlaintextKeyring()
    assert is_insecure_backend(backend)
    with swap_keyring(backend):
        store = TokenStore()
        stored = store.set("https://developer.kdocs.cn", TOKEN)
        read = store.get("https://developer.kdocs.cn")
    assert stored.status is TokenStatus.UNAVAILABLE
    assert read.status is TokenStatus.UNAVAILABLE
    assert "no secure keyring backend" in stored.detail
    assert backend.writes == 0
    assert backend.data == {}


# --- error mapping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (keyring.errors.KeyringLocked("Failed to unlock the collection!"), TokenStatus.LOCKED),
        (keyring.errors.InitError("Failed to create the collection: boom."), TokenStatus.ERROR),
        (keyring.errors.PasswordSetError("cannot set"), TokenStatus.ERROR),
        (keyring.errors.NoKeyringError("none"), TokenStatus.UNAVAILABLE),
        (OSError("dbus went away"), TokenStatus.ERROR),
    ],
)
def test_keyring_errors_become_states(error: BaseException, status: TokenStatus) -> None:
    with swap_keyring(ScriptedKeyring(error)):
        store = TokenStore()
        results = [store.get("https://a.example"), store.set("https://a.example", TOKEN)]
    for result in results:
        assert result.status is status
        assert result.detail
        assert_no_token(result)


def test_a_backend_echoing_the_token_in_its_error_is_scrubbed() -> None:
    error = keyring.errors.PasswordSetError(
        f"could not store {TOKEN} at https://x.example/p?access_token={TOKEN}"
    )
    with swap_keyring(ScriptedKeyring(error)):
        result = TokenStore().set("https://a.example", TOKEN)
    assert result.status is TokenStatus.ERROR
    assert "could not store" in result.detail
    assert_no_token(result)


def test_delete_of_a_missing_entry_is_not_stored(scripted: ScriptedKeyring) -> None:
    result = TokenStore().delete("https://developer.kdocs.cn")
    assert result.status is TokenStatus.NOT_STORED
    assert "no token was stored" in result.detail


def test_round_trip_on_a_memory_backend(scripted: ScriptedKeyring) -> None:
    store = TokenStore()
    assert store.set("https://Developer.kdocs.cn/", TOKEN).status is TokenStatus.STORED
    assert scripted.data == {(SERVICE_NAME, "https://developer.kdocs.cn"): TOKEN}
    got = store.get("https://developer.kdocs.cn")
    assert got.status is TokenStatus.STORED
    assert got.token == TOKEN
    assert_no_token(got)


# --- a keyring that hangs -------------------------------------------------------------------------------


def test_hanging_backend_times_out(hanging_keyring: HangingKeyring, expect_log: ExpectLog) -> None:
    store = TokenStore(timeout=0.2)
    with expect_log("kdocs_viewer.core.secrets", logging.WARNING, match="did not answer within 0.2 s"):
        result = store.get("https://developer.kdocs.cn")
    assert result.status is TokenStatus.TIMED_OUT
    assert "did not answer" in result.detail
    assert hanging_keyring.entered.is_set()
    # The first call is still stuck: later calls answer at once instead of stacking up more stuck threads.
    again = store.set("https://developer.kdocs.cn", TOKEN)
    assert again.status is TokenStatus.TIMED_OUT
    assert "still not answering" in again.detail
    assert hanging_keyring.calls == 1
    assert_no_token(again)


def test_store_recovers_once_the_keyring_answers_again(
    hanging_keyring: HangingKeyring, expect_log: ExpectLog
) -> None:
    store = TokenStore(timeout=0.2)
    with expect_log("kdocs_viewer.core.secrets", logging.WARNING, match="did not answer"):
        assert store.get("https://developer.kdocs.cn").status is TokenStatus.TIMED_OUT
    hanging_keyring.release.set()
    wait_for_keyring_workers()
    assert store.get("https://developer.kdocs.cn").status is TokenStatus.NOT_STORED


def test_calls_from_many_threads_are_safe(scripted: ScriptedKeyring) -> None:
    store = TokenStore()
    results: list[TokenResult] = []

    def worker(i: int) -> None:
        results.append(store.set(f"https://h{i}.example", f"{TOKEN}-{i}"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == [TokenStatus.STORED] * 8
    assert len(scripted.data) == 8


# --- the real Secret Service ----------------------------------------------------------------------------


@pytest.mark.keyring_service
def test_secret_service_round_trip(secret_service: KeyringBackend) -> None:
    store = TokenStore()
    base = "https://developer.kdocs.cn"
    assert store.backend_name() == "Secret Service"
    store.delete(base)

    assert store.get(base).status is TokenStatus.NOT_STORED
    stored = store.set(base, TOKEN)
    assert stored.status is TokenStatus.STORED
    assert stored.backend == "Secret Service"
    assert stored.token is None

    got = store.get(base + "/")
    assert got.status is TokenStatus.STORED
    assert got.token == TOKEN
    # Really in the Secret Service, under our service name and the normalised URL.
    assert keyring.get_password(SERVICE_NAME, base) == TOKEN

    removed = store.delete(base)
    assert removed.status is TokenStatus.NOT_STORED
    assert "removed" in removed.detail
    assert store.get(base).status is TokenStatus.NOT_STORED
    missing = store.delete(base)
    assert missing.status is TokenStatus.NOT_STORED
    assert "no token was stored" in missing.detail

    for result in (stored, got, removed, missing):
        assert_no_token(result)


@pytest.mark.keyring_service
def test_secret_service_keeps_one_token_per_base_url(secret_service: KeyringBackend) -> None:
    store = TokenStore()
    real, standin = "https://developer.kdocs.cn", "http://127.0.0.1:43121"
    try:
        assert store.set(real, TOKEN + "-real").status is TokenStatus.STORED
        assert store.set(standin, TOKEN + "-standin").status is TokenStatus.STORED
        assert store.get(real).token == TOKEN + "-real"
        assert store.get("HTTP://127.0.0.1:43121/").token == TOKEN + "-standin"
        # Replacing one leaves the other alone.
        assert store.set(standin, TOKEN + "-new").status is TokenStatus.STORED
        assert store.get(standin).token == TOKEN + "-new"
        assert store.get(real).token == TOKEN + "-real"
        store.delete(standin)
        assert store.get(standin).status is TokenStatus.NOT_STORED
        assert store.get(real).status is TokenStatus.STORED
    finally:
        store.delete(real)
        store.delete(standin)


def test_a_backend_message_with_its_own_full_stop_reads_once_in_a_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """secretstorage says "Prompt dismissed." and the CLI adds its own full stop after the detail."""
    import argparse

    from kdocs_viewer import cli

    monkeypatch.delenv(cli.ENV_TOKEN, raising=False)
    error = keyring.errors.KeyringError("Prompt dismissed.")
    with swap_keyring(ScriptedKeyring(error)):
        result = TokenStore().get("https://a.example")
        with pytest.raises(cli.CliError) as raised:
            cli._get_token(argparse.Namespace(token_stdin=False), "https://a.example")
    assert result.detail.endswith("Prompt dismissed")
    assert "Prompt dismissed." in str(raised.value) and ".." not in str(raised.value)
