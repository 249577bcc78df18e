"""OAuthClient, the callback listener and a scripted browser against the real stand-in over loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kdocs_viewer.core.auth import (
    AppCredentials,
    AuthError,
    AuthReason,
    AuthRequest,
    OAuthClient,
    SignInRequiredError,
)
from kdocs_viewer.core.oauth_listener import CallbackListener
from kdocs_viewer.standin.browser import visit
from kdocs_viewer.standin.server import StandinServer

APP = AppCredentials("demo-app", "demo-key")
Factory = Callable[..., StandinServer]


@pytest.fixture
def oauth(standin: StandinServer) -> Iterator[OAuthClient]:
    with OAuthClient(standin.base_url) as client:
        yield client


def code_from_browser(server: StandinServer) -> str:
    """Consent in a scripted browser; the real listener catches the redirect."""
    request = AuthRequest.create(server.base_url, APP.app_id, "http://127.0.0.1:1/callback")
    with CallbackListener(request.state, port=0) as listener:
        real = AuthRequest.create(server.base_url, APP.app_id, listener.redirect_uri, request.state)
        assert visit(real.url).status_code == 200
        return listener.wait(10)


def test_sign_in_end_to_end(standin: StandinServer, oauth: OAuthClient) -> None:
    tokens = oauth.exchange_code(APP, code_from_browser(standin))
    assert tokens.lifetime == 86_400 and tokens.refresh_token
    assert standin.live_access_tokens() == 1
    renewed = oauth.refresh(APP, tokens.refresh_token)
    assert renewed.access_token != tokens.access_token
    assert renewed.refresh_token != tokens.refresh_token  # the stand-in rotates it; we keep what came back
    assert oauth.calls_made == 2


def test_a_reused_code_is_refused_plainly(standin: StandinServer, oauth: OAuthClient) -> None:
    code = code_from_browser(standin)
    oauth.exchange_code(APP, code)
    with pytest.raises(AuthError) as info:
        oauth.exchange_code(APP, code)
    assert info.value.auth_reason is AuthReason.CODE_INVALID
    assert info.value.code == 20001
    assert "expired" in str(info.value) and "used already" in str(info.value)


def test_a_wrong_app_key(standin: StandinServer, oauth: OAuthClient) -> None:
    with pytest.raises(AuthError) as info:
        oauth.exchange_code(AppCredentials("demo-app", "not-the-key"), code_from_browser(standin))
    assert info.value.auth_reason is AuthReason.APP_CREDENTIALS_INVALID
    assert "APPKEY" in str(info.value) and "not-the-key" not in str(info.value)


def test_a_revoked_refresh_token_means_sign_in_again(standin: StandinServer, oauth: OAuthClient) -> None:
    tokens = oauth.exchange_code(APP, code_from_browser(standin))
    standin.revoke_refresh_tokens()
    with pytest.raises(SignInRequiredError) as info:
        oauth.refresh(APP, tokens.refresh_token)
    assert info.value.auth_reason is AuthReason.REFRESH_REJECTED


def test_a_server_fault_during_a_refresh_is_not_a_sign_out(
    standin: StandinServer, oauth: OAuthClient
) -> None:
    tokens = oauth.exchange_code(APP, code_from_browser(standin))
    standin.queue_faults(["503"])
    with pytest.raises(AuthError) as info:
        oauth.refresh(APP, tokens.refresh_token)
    assert info.value.auth_reason is AuthReason.SERVER
    assert not isinstance(info.value, SignInRequiredError)
    assert oauth.refresh(APP, tokens.refresh_token).access_token  # the refresh token is still good


def test_an_unreachable_server(standin_factory: Factory) -> None:
    server = standin_factory()
    url = server.base_url
    server.stop()
    with OAuthClient(url) as oauth, pytest.raises(AuthError) as info:
        oauth.refresh(APP, "some-refresh-token")
    assert info.value.auth_reason is AuthReason.NETWORK
    assert "could not connect" in str(info.value)
