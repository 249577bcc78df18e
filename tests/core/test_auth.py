"""core.auth without a server: the authorization URL, callback parsing, token sets, errors, and the error
mapping of replies the stand-in never sends (served by an in-process httpx transport playing "another
server" — the client code under test is the same). The real round trips are in test_auth_standin.py."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from kdocs_viewer.core.api import KDocsError, TokenInvalidError
from kdocs_viewer.core.auth import (
    REFRESH_MARGIN,
    SCOPE,
    AppCredentials,
    AuthError,
    AuthReason,
    AuthRequest,
    OAuthClient,
    SignIn,
    SignInRequiredError,
    TokenSet,
    auth_error,
    authorization_url,
    new_state,
    parse_callback,
    redirect_uri_for,
    states_match,
)
from kdocs_viewer.core.contract import DEFAULT_CALLBACK_PORT

STATE = "s" * 43
APP = AppCredentials("my-app", "my-secret-app-key")


# ---- the authorization URL ---------------------------------------------------------------------------------


def test_authorization_url_names_app_scopes_callback_and_state() -> None:
    url = authorization_url("https://developer.kdocs.cn/", "my-app", redirect_uri_for(18765), STATE)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "developer.kdocs.cn", "/h5/auth")
    assert parse_qs(parts.query) == {
        "app_id": ["my-app"],
        "scope": ["user_basic,access_personal_files"],
        "redirect_uri": ["http://127.0.0.1:18765/callback"],
        "state": [STATE],
    }
    assert SCOPE == "user_basic,access_personal_files"


def test_each_attempt_gets_its_own_unguessable_state() -> None:
    states = {new_state() for _ in range(50)}
    assert len(states) == 50
    assert all(len(s) >= 43 for s in states)  # 256 bits as URL-safe base64
    one, two = (
        AuthRequest.create("https://h", "a", "http://127.0.0.1:1/callback"),
        AuthRequest.create("https://h", "a", "http://127.0.0.1:1/callback"),
    )
    assert one.state != two.state and one.state in one.url
    assert one.state not in repr(one)


def test_redirect_uri_uses_the_fixed_default_port() -> None:
    assert redirect_uri_for() == f"http://127.0.0.1:{DEFAULT_CALLBACK_PORT}/callback"
    assert DEFAULT_CALLBACK_PORT == 18765
    for bad in (0, -1, 65536):
        with pytest.raises(ValueError):
            redirect_uri_for(bad)


# ---- the callback ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"http://127.0.0.1:18765/callback?code=C0de-1&state={STATE}",
        f"  http://127.0.0.1:18765/callback?state={STATE}&code=C0de-1#frag \n",
        f"/callback?code=C0de-1&state={STATE}",
        f"?code=C0de-1&state={STATE}",
        f"code=C0de-1&state={STATE}",
    ],
)
def test_the_code_is_read_from_a_url_a_path_or_a_query(text: str) -> None:
    assert parse_callback(text, STATE) == "C0de-1"


@pytest.mark.parametrize(
    "text",
    [
        "http://127.0.0.1:18765/callback?code=C&state=someone-elses",
        "http://127.0.0.1:18765/callback?code=C",
        f"http://127.0.0.1:18765/callback?code=C&state={STATE}&state={STATE}",
        f"http://127.0.0.1:18765/callback?code=C&state={STATE[:-1]}",
        "http://127.0.0.1:18765/callback?error=access_denied&state=someone-elses",
    ],
)
def test_a_wrong_or_missing_state_is_refused_before_anything_else(text: str) -> None:
    with pytest.raises(AuthError) as info:
        parse_callback(text, STATE)
    assert info.value.auth_reason is AuthReason.STATE_MISMATCH
    assert "state" in str(info.value)


def test_states_compare_exactly() -> None:
    assert states_match(STATE, STATE)
    assert not states_match(STATE + "x", STATE)
    assert not states_match("", "")
    assert not states_match(None, STATE)


def test_denial_and_other_errors_with_our_state() -> None:
    with pytest.raises(AuthError) as info:
        parse_callback(f"/callback?error=access_denied&state={STATE}", STATE)
    assert info.value.auth_reason is AuthReason.DENIED
    with pytest.raises(AuthError) as info:
        parse_callback(f"/callback?error=server_error%3Cscript%3E&state={STATE}", STATE)
    assert info.value.auth_reason is AuthReason.CALLBACK_ERROR
    assert "server_errorscript" in str(info.value) and "<" not in str(info.value)


@pytest.mark.parametrize(
    "text", ["", "   ", "not a url at all", "https://www.kdocs.cn/", f"/callback?state={STATE}"]
)
def test_no_code_found(text: str) -> None:
    with pytest.raises(AuthError) as info:
        parse_callback(text, STATE)
    assert info.value.auth_reason is AuthReason.NO_CODE
    assert "Paste the whole address" in str(info.value)


# ---- tokens and credentials --------------------------------------------------------------------------------


def test_refresh_is_due_inside_the_margin_which_scales_with_short_lifetimes() -> None:
    day = TokenSet("a", "r", expires_at=1000.0 + 86_400, obtained_at=1000.0)
    assert day.refresh_margin == REFRESH_MARGIN == 300.0
    assert not day.refresh_due(now=1000.0 + 86_400 - 301)
    assert day.refresh_due(now=1000.0 + 86_400 - 300)
    assert not day.is_expired(now=1000.0 + 86_399.9)
    assert day.is_expired(now=1000.0 + 86_400)
    short = TokenSet("a", "r", expires_at=110.0, obtained_at=100.0)  # a stand-in with --time-scale
    assert short.refresh_margin == pytest.approx(1.0)
    assert not short.refresh_due(now=108.9)
    assert short.refresh_due(now=109.0)
    assert short.remaining(now=105.0) == pytest.approx(5.0)


def test_token_sets_from_replies() -> None:
    reply = {"access_token": " at ", "expires_in": "7200", "refresh_token": "rt", "scope": "x"}
    tokens = TokenSet.from_reply(reply, 1000.0)
    assert (tokens.access_token, tokens.refresh_token) == ("at", "rt")
    assert (tokens.obtained_at, tokens.expires_at) == (1000.0, 8200.0)
    # No expires_in: the usual 24 h. No refresh token in a refresh reply: keep the one we have.
    tokens = TokenSet.from_reply({"access_token": "at2"}, 0.0, previous_refresh_token="old-rt")
    assert tokens.expires_at == 86_400.0 and tokens.refresh_token == "old-rt"
    for bad in ({}, {"access_token": ""}, {"access_token": 5}):
        with pytest.raises(AuthError) as info:
            TokenSet.from_reply(bad, 0.0)
        assert info.value.auth_reason is AuthReason.SERVER


def test_secrets_stay_out_of_reprs() -> None:
    tokens = TokenSet("access-SECRET", "refresh-SECRET", 2.0, 1.0)
    sign_in = SignIn(APP, tokens)
    for text in (repr(tokens), repr(APP), repr(sign_in), str(sign_in)):
        assert "SECRET" not in text and "my-secret-app-key" not in text
    assert "my-app" in repr(APP)


@pytest.mark.parametrize(
    ("app_id", "app_key", "named"),
    [
        ("", "k", "APPID"),
        ("a", "", "APPKEY"),
        ("a b", "k", "APPID"),
        ("a", " k", "APPKEY"),
        ("a", "k\n", "APPKEY"),
    ],
)
def test_app_credentials_are_checked_locally(app_id: str, app_key: str, named: str) -> None:
    with pytest.raises(ValueError) as info:
        AppCredentials(app_id, app_key)
    assert named in str(info.value)


def test_errors_are_typed() -> None:
    again = auth_error(AuthReason.REFRESH_REJECTED)
    assert isinstance(again, SignInRequiredError)
    assert isinstance(again, TokenInvalidError)  # what existing code already treats as "new token needed"
    assert isinstance(again, KDocsError)
    assert isinstance(auth_error(AuthReason.NOT_SIGNED_IN), SignInRequiredError)
    assert not isinstance(auth_error(AuthReason.DENIED), TokenInvalidError)
    copy = pickle.loads(pickle.dumps(auth_error(AuthReason.PORT_IN_USE, port=18765)))
    assert copy.auth_reason is AuthReason.PORT_IN_USE and "18765" in str(copy)


# ---- replies of another server -----------------------------------------------------------------------------


def oauth_for(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[OAuthClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return OAuthClient("https://api.example", transport=httpx.MockTransport(record)), seen


def test_the_exchange_and_refresh_requests_have_the_documented_shape() -> None:
    ok = {
        "code": 0,
        "result": "ok",
        "data": {"access_token": "AT", "expires_in": 86400, "refresh_token": "RT"},
    }
    client, seen = oauth_for(lambda r: httpx.Response(200, json=ok))
    before = time.time()
    tokens = client.exchange_code(APP, "the-code")
    assert tokens.obtained_at >= before and tokens.lifetime == 86400
    client.refresh(APP, "RT")
    exchange, refresh = seen
    assert (exchange.method, exchange.url.path) == ("GET", "/api/v1/oauth2/access_token")
    assert dict(exchange.url.params) == {
        "code": "the-code",
        "app_id": "my-app",
        "app_key": "my-secret-app-key",
    }
    assert (refresh.method, refresh.url.path) == ("POST", "/api/v1/oauth2/refresh_token")
    assert dict(refresh.url.params) == {"app_id": "my-app"}
    assert httpx.Response(200, content=refresh.content).json() == {
        "app_key": "my-secret-app-key",
        "refresh_token": "RT",
    }
    for request in seen:
        assert "access_token" not in request.url.params


def test_a_server_echoing_secrets_in_its_errors_does_not_leak_them() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        said = f"bad code {request.url.params.get('code')} for key {request.url.params.get('app_key')}"
        return httpx.Response(400, json={"code": 40000, "msg": said})

    client, _ = oauth_for(handler)
    with pytest.raises(AuthError) as info:
        client.exchange_code(AppCredentials("my-app", "KEY-abcdef"), "CODE-123456")
    for text in (str(info.value), repr(info.value), info.value.server_text):
        assert "KEY-abcdef" not in text and "CODE-123456" not in text
    assert info.value.__context__ is None and info.value.__cause__ is None


@pytest.mark.parametrize(
    ("status", "body", "refreshing", "reason", "sign_in_again"),
    [
        (400, {"code": 20001, "msg": "InvalidCode"}, False, AuthReason.CODE_INVALID, False),
        (400, {"code": 20003, "msg": "InvalidAppKey"}, False, AuthReason.APP_CREDENTIALS_INVALID, False),
        (400, {"code": 20003, "msg": "InvalidAppKey"}, True, AuthReason.APP_CREDENTIALS_INVALID, True),
        # Codes we have never seen: a message naming the app's credentials, or any refusal of a refresh.
        (
            200,
            {"code": 41234, "message": "invalid app_key"},
            False,
            AuthReason.APP_CREDENTIALS_INVALID,
            False,
        ),
        (200, {"code": 41235, "message": "refresh token expired"}, True, AuthReason.REFRESH_REJECTED, True),
        (400, {"code": 41236, "message": "odd"}, False, AuthReason.SERVER, False),
        # Trouble another try may fix is never "sign in again".
        (503, {"code": 50000, "message": "busy"}, True, AuthReason.SERVER, False),
        (429, {"code": 20429, "message": "slow down"}, True, AuthReason.SERVER, False),
        (502, None, True, AuthReason.SERVER, False),
    ],
)
def test_error_replies_map_to_reasons(
    status: int, body: dict[str, object] | None, refreshing: bool, reason: AuthReason, sign_in_again: bool
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status, text="<html>Bad Gateway</html>")
        return httpx.Response(status, json=body)

    client, seen = oauth_for(handler)
    with pytest.raises(AuthError) as info:
        if refreshing:
            client.refresh(APP, "RT-value")
        else:
            client.exchange_code(APP, "code-value")
    assert info.value.auth_reason is reason
    assert isinstance(info.value, SignInRequiredError) is sign_in_again
    assert len(seen) == 1  # never retried: a code (and maybe a refresh token) is single use


def test_an_unreachable_server_is_a_network_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client, _ = oauth_for(handler)
    with pytest.raises(AuthError) as info:
        client.refresh(APP, "RT-value")
    assert info.value.auth_reason is AuthReason.NETWORK
    assert not isinstance(info.value, SignInRequiredError)
    assert "could not connect" in str(info.value)


def test_refreshing_without_a_refresh_token_needs_a_new_sign_in() -> None:
    client, seen = oauth_for(lambda r: httpx.Response(500))
    with pytest.raises(SignInRequiredError):
        client.refresh(APP, "")
    assert seen == []
