"""SignInFlow against the stand-in: browser and listener, a pasted address, denial, cancel — and then a
signed-in client whose token expires (``--time-scale``) and is renewed without the caller noticing, with
the new tokens landing in a real Secret Service, until a revoked refresh token asks for a new sign-in."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from keyring.backend import KeyringBackend

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.auth import (
    AppCredentials,
    AuthError,
    AuthReason,
    OAuthClient,
    SignIn,
    SignInRequiredError,
    TokenSet,
)
from kdocs_viewer.core.files import get_user
from kdocs_viewer.core.models import Lease
from kdocs_viewer.core.secrets import SignInStore, TokenStatus
from kdocs_viewer.core.signin import SignInFlow
from kdocs_viewer.core.token_refresh import TokenRefresher
from kdocs_viewer.standin.browser import consent, visit
from kdocs_viewer.standin.server import StandinServer

APP = AppCredentials("demo-app", "demo-key")
Factory = Callable[..., StandinServer]


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def oauth(standin: StandinServer) -> Iterator[OAuthClient]:
    with OAuthClient(standin.base_url) as client:
        yield client


def test_browser_and_listener(oauth: OAuthClient) -> None:
    with SignInFlow(oauth, APP, port=0) as flow:
        url = flow.start()
        assert url.startswith(oauth.base_url + "/h5/auth?")
        assert flow.redirect_uri.startswith("http://127.0.0.1:") and flow.redirect_uri in unquote(url)
        page = visit(url)  # Allow, then the redirect to our listener
        assert "You are signed in" in page.text
        tokens = flow.wait()
    assert tokens.access_token and tokens.lifetime == 86_400


def test_a_pasted_address_without_a_listener(oauth: OAuthClient) -> None:
    flow = SignInFlow(oauth, APP, port=18765, listen=False)
    url = flow.start()
    assert flow.redirect_uri == "http://127.0.0.1:18765/callback"
    pasted = consent(url)  # where the browser was sent (nothing listens there: a headless machine)
    tokens = flow.complete(f"  {pasted}\n")
    assert tokens.access_token


def test_a_pasted_address_of_another_attempt_is_refused(oauth: OAuthClient) -> None:
    first = SignInFlow(oauth, APP, listen=False)
    stale = consent(first.start())
    second = SignInFlow(oauth, APP, listen=False)
    second.start()
    with pytest.raises(AuthError) as info:
        second.complete(stale)
    assert info.value.auth_reason is AuthReason.STATE_MISMATCH
    assert first.complete(stale).access_token  # the right attempt still works


def test_a_reused_code_is_code_invalid(oauth: OAuthClient) -> None:
    first = SignInFlow(oauth, APP, listen=False)
    pasted = consent(first.start())
    first.complete(pasted)
    second = SignInFlow(oauth, APP, listen=False)
    state = _query(second.start())["state"]
    with pytest.raises(AuthError) as info:
        second.complete(f"code={_query(pasted)['code']}&state={state}")
    assert info.value.auth_reason is AuthReason.CODE_INVALID


def test_denial(oauth: OAuthClient) -> None:
    with SignInFlow(oauth, APP, port=0) as flow:
        assert "You are not signed in" in visit(flow.start(), allow=False).text
        with pytest.raises(AuthError) as info:
            flow.wait()
    assert info.value.auth_reason is AuthReason.DENIED


def test_pasting_while_listening_stops_the_listener(oauth: OAuthClient) -> None:
    with SignInFlow(oauth, APP, port=0) as flow:
        url = flow.start()
        outcome: list[BaseException] = []

        def wait() -> None:
            try:
                flow.wait()
            except AuthError as exc:
                outcome.append(exc)

        waiter = threading.Thread(target=wait)
        waiter.start()
        tokens = flow.complete(consent(url))
        waiter.join(10)
    assert tokens.access_token
    assert [getattr(e, "auth_reason", None) for e in outcome] == [AuthReason.CANCELLED]


def test_cancel_and_timeout(oauth: OAuthClient) -> None:
    with SignInFlow(oauth, APP, port=0) as flow:
        flow.start()
        flow.cancel()
        with pytest.raises(AuthError) as info:
            flow.wait()
        assert info.value.auth_reason is AuthReason.CANCELLED
    with SignInFlow(oauth, APP, port=0, timeout=0.2) as flow:
        flow.start()
        with pytest.raises(AuthError) as info:
            flow.wait()
        assert info.value.auth_reason is AuthReason.TIMEOUT


def test_the_port_in_use(oauth: OAuthClient) -> None:
    with SignInFlow(oauth, APP, port=0) as first:
        first.start()
        port = int(first.redirect_uri.split(":")[2].split("/")[0])
        with pytest.raises(AuthError) as info:
            SignInFlow(oauth, APP, port=port).start()
        assert info.value.auth_reason is AuthReason.PORT_IN_USE and str(port) in str(info.value)


# ---- staying signed in -----------------------------------------------------------------------------------


@pytest.mark.keyring_service
def test_an_expiring_token_is_renewed_unnoticed_and_stored_until_the_refresh_token_is_revoked(
    secret_service: KeyringBackend, standin_factory: Factory
) -> None:
    server = standin_factory(pictures=30, token_lifetime=400, time_scale=0.005)  # tokens live 2 s
    store = SignInStore()
    with OAuthClient(server.base_url) as oauth:
        flow = SignInFlow(oauth, APP, listen=False)
        tokens = flow.complete(consent(flow.start()))
        assert tokens.lifetime == 2
        assert store.save(server.base_url, SignIn(APP, tokens)).status is TokenStatus.STORED
        loaded = store.load(server.base_url).sign_in
        assert loaded is not None

        def remember(new: TokenSet) -> None:
            store.save(server.base_url, loaded.with_tokens(new))

        provider = TokenRefresher.for_sign_in(oauth, loaded, on_refreshed=remember)
        with KDocsClient(provider, server.base_url) as client:
            assert get_user(client).nickname
            while not provider.tokens.refresh_due():  # the token's lifetime runs out
                time.sleep(0.05)
            outcomes = client.resolve("demo-workbook", server.pictures())
            assert all(isinstance(o, Lease) for o in outcomes)
            assert provider.refreshes == 1
            assert [e.status for e in server.request_log() if "oauth2" in e.path] == [200, 200]
            assert 401 not in [e.status for e in server.request_log()]  # renewed before, not after
            stored = store.load(server.base_url).sign_in
            assert stored is not None and stored.tokens == provider.tokens != tokens

            server.revoke_refresh_tokens()
            server.expire_access_tokens()
            with pytest.raises(SignInRequiredError) as info:
                client.list_sheets("demo-workbook")
            assert provider.failed is AuthReason.REFRESH_REJECTED
            assert "sign in again" in str(info.value)
    store.clear(server.base_url)
