"""Token canary: run the client's flows with a marker token and look for it everywhere it must not be.

Everything is logged at DEBUG through the root logger with ``install_log_redaction``; the canary must not
show up in log text, exception texts, reprs or tracebacks, the stand-in's request log, picture URLs or the
client's repr — and no request may go to any host but the API host.
"""

from __future__ import annotations

import logging
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import keyring.errors
import pytest

from kdocs_viewer.core.api import ApiTransportError, KDocsClient, KDocsError, TokenInvalidError
from kdocs_viewer.core.auth import (
    AppCredentials,
    AuthError,
    AuthRequest,
    OAuthClient,
    SignInRequiredError,
    TokenSet,
)
from kdocs_viewer.core.files import get_user, list_recent
from kdocs_viewer.core.models import Lease, PicFailure, PicRef
from kdocs_viewer.core.oauth_listener import CallbackListener
from kdocs_viewer.core.redact import install_log_redaction, redact
from kdocs_viewer.core.retry import RetryPolicy
from kdocs_viewer.core.saving import save_batch
from kdocs_viewer.core.secrets import TokenStatus, TokenStore
from kdocs_viewer.core.token_refresh import TokenRefresher
from kdocs_viewer.standin.browser import visit
from kdocs_viewer.standin.server import StandinServer
from tests.conftest import CANARY_APP_KEY, CANARY_TOKEN
from tests.core.test_secrets import ScriptedKeyring
from tests.keyring_support import swap_keyring

FILE = "demo-workbook"
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02, budget=5.0)


class HostRecorder(httpx.BaseTransport):
    """A real HTTP transport that records the host of every request it carries."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.hosts: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def redacted_debug_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Root logger at DEBUG with the redaction installed; the process' logging state restored afterwards."""
    root = logging.getLogger()
    factory = logging.getLogRecordFactory()
    root_filters, handler_filters = list(root.filters), {h: list(h.filters) for h in root.handlers}
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    yield caplog
    logging.setLogRecordFactory(factory)
    root.filters[:] = root_filters
    for handler, filters in handler_filters.items():
        handler.filters[:] = filters
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def settle(standin: StandinServer, client: KDocsClient) -> None:
    """Wait until the stand-in has logged every request (it logs after the reply went out)."""
    deadline = time.monotonic() + 2.0
    while len(standin.request_log()) < client.calls_made and time.monotonic() < deadline:
        time.sleep(0.005)


def assert_clean(*texts: object) -> None:
    for text in texts:
        assert CANARY_TOKEN not in str(text)
        assert CANARY_TOKEN not in repr(text)


def assert_exception_clean(exc: BaseException) -> None:
    assert_clean(exc, exc.args, vars(exc))
    assert_clean("".join(traceback.format_exception(exc)))
    assert exc.__cause__ is None and exc.__context__ is None


def run_flows(standin: StandinServer, client: KDocsClient) -> list[BaseException]:
    """Resolve (with retries and per-picture errors), discovery, error replies; returns the errors seen."""
    errors: list[BaseException] = []
    refs = standin.pictures()
    standin.queue_faults(["500", "reset", "truncated"])  # the 4th try succeeds
    out = client.resolve(FILE, [*refs, PicRef("unknown-key", "local")])
    assert sum(isinstance(o, Lease) for o in out) == len(refs)
    assert isinstance(out[-1], PicFailure)
    assert_clean(*out)

    standin.queue_faults(["html", "empty", "503"])
    found = client.find_pictures(FILE).pics
    assert len(found) == len(refs)
    assert_clean(*found)

    with pytest.raises(KDocsError) as info:
        client.list_sheets("no-such-workbook")
    errors.append(info.value)
    with pytest.raises(KDocsError) as info:
        client.read_cells(FILE, 99, 0, 1, 0, 1)
    errors.append(info.value)

    standin.queue_faults(["20007"])
    with pytest.raises(TokenInvalidError) as token_info:
        client.resolve(FILE, refs[:3])
    errors.append(token_info.value)

    standin.queue_faults(["reset"] * FAST.max_attempts)
    with pytest.raises(ApiTransportError) as transport_info:
        client.list_sheets(FILE)
    errors.append(transport_info.value)

    standin.queue_faults(["500"] * FAST.max_attempts)
    (failure, *_) = client.resolve(FILE, refs[:2])
    assert isinstance(failure, PicFailure)
    assert_clean(failure)
    return errors


def test_the_canary_token_never_leaks(
    canary_standin: StandinServer, redacted_debug_logging: pytest.LogCaptureFixture
) -> None:
    recorder = HostRecorder()
    with KDocsClient(CANARY_TOKEN, canary_standin.base_url, retry=FAST, transport=recorder) as client:
        errors = run_flows(canary_standin, client)
        assert_clean(client, vars(client))
        settle(canary_standin, client)
        calls = client.calls_made

    for exc in errors:
        assert_exception_clean(exc)
    log_text = redacted_debug_logging.text
    assert "GET http://127.0.0.1" in log_text  # the client did log its calls, redacted
    assert_clean(log_text)
    for record in redacted_debug_logging.records:
        assert_clean(record.getMessage(), record.exc_text or "")

    request_log = canary_standin.request_log()
    assert len(request_log) == calls  # every request the client sent reached the stand-in ...
    assert_clean(request_log)  # ... and its log holds no token
    assert set(recorder.hosts) == {"127.0.0.1"}
    assert len(recorder.hosts) == calls


def test_noisy_http_library_logs_are_redacted_too(
    canary_standin: StandinServer, redacted_debug_logging: pytest.LogCaptureFixture
) -> None:
    """Even if someone turns httpx/httpcore logging back up, their full URLs are masked."""
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    logging.getLogger("httpcore").setLevel(logging.DEBUG)
    with KDocsClient(CANARY_TOKEN, canary_standin.base_url, retry=FAST) as client:
        client.resolve(FILE, canary_standin.pictures()[:3])
        client.list_sheets(FILE)
    assert any(r.name.startswith("httpx") for r in redacted_debug_logging.records)
    assert_clean(redacted_debug_logging.text)


def test_server_down_errors_are_clean(
    canary_standin: StandinServer, redacted_debug_logging: pytest.LogCaptureFixture
) -> None:
    url = canary_standin.base_url
    canary_standin.stop()
    with KDocsClient(CANARY_TOKEN, url, retry=FAST) as client:
        with pytest.raises(ApiTransportError) as info:
            client.list_sheets(FILE)
        outcomes = client.resolve(FILE, [PicRef("k", "local")])
    assert_exception_clean(info.value)
    assert isinstance(outcomes[0], PicFailure)
    assert_clean(outcomes, redacted_debug_logging.text)


# ---- signing in: the APPKEY, the refresh tokens and the codes ----------------------------------------------


def assert_none_of(secrets: set[str], *texts: object) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in str(text)
            assert secret not in repr(text)


def test_sign_in_secrets_never_leak(
    canary_oauth_standin: StandinServer, redacted_debug_logging: pytest.LogCaptureFixture
) -> None:
    """Sign in, refresh (ahead of a rejection), get refused: the APPKEY, every refresh and access token and
    every code stay out of logs, exceptions, the callback page, the request log, and other hosts."""
    server = canary_oauth_standin
    app = AppCredentials("demo-app", CANARY_APP_KEY)
    hosts = HostRecorder()
    secrets = {CANARY_APP_KEY}
    errors: list[BaseException] = []
    pages: list[str] = []

    def browse(listener: CallbackListener) -> str:
        request = AuthRequest.create(server.base_url, app.app_id, listener.redirect_uri, listener.state)
        pages.append(visit(request.url).text)
        code = listener.wait(10)
        secrets.add(code)
        return code

    with OAuthClient(server.base_url, transport=hosts) as oauth:
        with CallbackListener("canary-state-0123456789", port=0) as listener:
            code = browse(listener)
        tokens = oauth.exchange_code(app, code)
        secrets.update({tokens.access_token, tokens.refresh_token})
        with pytest.raises(AuthError) as reused:
            oauth.exchange_code(app, code)
        errors.append(reused.value)
        with pytest.raises(AuthError) as wrong_key:
            oauth.refresh(AppCredentials("demo-app", CANARY_APP_KEY + "-wrong"), tokens.refresh_token)
        errors.append(wrong_key.value)

        def refresh(refresh_token: str) -> TokenSet:
            new = oauth.refresh(app, refresh_token)
            secrets.update({new.access_token, new.refresh_token})
            return new

        provider = TokenRefresher(tokens, refresh)
        with KDocsClient(provider, server.base_url, retry=FAST, transport=hosts) as client:
            get_user(client)
            server.expire_access_tokens()  # the next call is refused (20007) and renewed once
            list_recent(client)
            assert provider.refreshes == 1
            server.revoke_refresh_tokens()
            server.expire_access_tokens()
            with pytest.raises(SignInRequiredError) as ended:
                client.list_sheets(FILE)
            errors.append(ended.value)
            assert_none_of(secrets, client, vars(client), provider, vars(provider), provider.tokens)

    assert len(secrets) >= 6  # the key, a code, two access and two refresh tokens
    for exc in errors:
        assert_none_of(secrets, exc, exc.args, vars(exc), "".join(traceback.format_exception(exc)))
        assert exc.__cause__ is None and exc.__context__ is None
    assert_none_of(secrets, redacted_debug_logging.text, *pages)
    for record in redacted_debug_logging.records:
        assert_none_of(secrets, record.getMessage(), record.exc_text or "")
    assert "oauth2/access_token" in redacted_debug_logging.text  # the calls were logged, redacted
    assert_none_of(secrets, server.request_log())
    assert set(hosts.hosts) == {"127.0.0.1"}


# ---- one registry: a secret met by one module is hidden by every other ----------------------------------


def _register_with_the_client(secret: str) -> None:
    KDocsClient(secret, "https://api.example").close()


def _register_with_a_new_token(secret: str) -> None:
    with KDocsClient("first-token-of-this-client", "https://api.example") as client:
        client.set_token(secret)


def _register_with_a_sign_in(secret: str) -> None:
    TokenSet(secret, "", 2_000_000_000.0, 1_999_990_000.0)


def _register_with_the_app_key(secret: str) -> None:
    AppCredentials("demo-app", secret)


def _register_with_the_keyring(secret: str) -> None:
    with swap_keyring(ScriptedKeyring()):
        assert TokenStore().set("https://api.example", secret).status is TokenStatus.STORED


@pytest.mark.parametrize(
    "register",
    [
        _register_with_the_client,
        _register_with_a_new_token,
        _register_with_a_sign_in,
        _register_with_the_app_key,
        _register_with_the_keyring,
    ],
)
def test_a_secret_one_module_met_is_hidden_by_all(
    register: Callable[[str], None], redacted_debug_logging: pytest.LogCaptureFixture
) -> None:
    """Each place that first holds a secret registers it with core.redact; then the API client's errors,
    a sign-in's errors, a save's reasons, the keyring's details and every log record mask it even where it
    shows up bare — a server or a backend quoting it, outside any ``access_token=`` parameter."""
    secret = f"bare-{register.__name__}-{uuid.uuid4().hex}"
    assert secret in redact(f"quoted: {secret}")  # unknown yet: nothing hides a bare value
    register(secret)

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"code": 20400, "msg": f"rejected {secret} (bare)"})

    server = httpx.MockTransport(echo)
    api = KDocsClient("another-token", "https://api.example", retry=FAST, transport=server)
    with api, pytest.raises(KDocsError) as api_error:
        api.list_sheets(FILE)
    oauth = OAuthClient("https://api.example", transport=server)
    with oauth, pytest.raises(AuthError) as auth_error:
        oauth.exchange_code(AppCredentials("demo-app", "app-key-of-the-test"), "one-time-code")

    def fetch(ref: PicRef, cancel: object) -> bytes:
        raise OSError(f"the disk quoted {secret}")

    with tempfile.TemporaryDirectory() as folder:
        summary = save_batch([PicRef("k", "local", caption="c")], fetch, Path(folder))
    with swap_keyring(ScriptedKeyring(keyring.errors.KeyringError(f"backend said {secret}"))):
        keyring_result = TokenStore().get("https://api.example")
    logging.getLogger("kdocs_viewer.test").info("a record quoting %s", secret)

    assert "rejected" in str(api_error.value) and "the disk quoted" in (summary.failed[0].reason or "")
    assert keyring_result.status is TokenStatus.ERROR and "backend said" in keyring_result.detail
    assert_none_of(
        {secret},
        api_error.value,
        api_error.value.server_text,
        auth_error.value,
        auth_error.value.server_text,
        summary.failed[0].reason,
        keyring_result.detail,
        redacted_debug_logging.text,
    )
