"""Signing in with KDocs (OAuth 2 authorization code): URLs, callback parsing, code exchange, refresh.

No Qt and no keyring here: the GUI and the CLI both drive these pieces (see ``core.signin`` for one whole
attempt, ``core.token_refresh`` for keeping a token fresh, ``core.secrets.SignInStore`` for the keyring).

The user brings their own KDocs app (APPID + APPKEY from the developer console; we never ship one) with the
callback ``http://127.0.0.1:<port>/callback`` registered. The browser is sent to ``/h5/auth`` with a random,
unguessable ``state``; the callback's ``state`` is compared in constant time before anything else is read
from it. The APPKEY, the refresh token and the one-time code are secrets like the access token: they never
appear in a ``repr``, an exception text or a log line (``core.redact`` masks them too).

Every failure is an ``AuthError`` with a ``reason`` a caller can branch on and a message for people.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from enum import Enum
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from kdocs_viewer.core.api import (
    ApiTransportError,
    InsecureTransportError,
    KDocsClient,
    KDocsError,
    TokenInvalidError,
)
from kdocs_viewer.core.contract import (
    ACCESS_TOKEN_LIFETIME,
    AUTH_PAGE_PATH,
    CALLBACK_PATH,
    CODE_APP_CREDENTIALS_INVALID,
    CODE_AUTH_CODE_INVALID,
    CODE_QUOTA_EXCEEDED,
    DEFAULT_CALLBACK_PORT,
    OAUTH_REFRESH_PATH,
    OAUTH_SCOPES,
    OAUTH_TOKEN_PATH,
)
from kdocs_viewer.core.errors import FailureReason
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.models import DEFAULT_BASE_URL
from kdocs_viewer.core.redact import redact, register_secret
from kdocs_viewer.core.replies import as_number
from kdocs_viewer.core.retry import RetryPolicy

__all__ = [
    "DEFAULT_CALLBACK_PORT",
    "REFRESH_MARGIN",
    "SCOPE",
    "AppCredentials",
    "AuthError",
    "AuthReason",
    "AuthRequest",
    "OAuthClient",
    "SignIn",
    "SignInRequiredError",
    "TokenSet",
    "auth_error",
    "authorization_url",
    "new_state",
    "parse_callback",
    "redirect_uri_for",
    "states_match",
]

log = logging.getLogger(__name__)

SCOPE = ",".join(OAUTH_SCOPES)
# Refresh this long before the access token expires — or a tenth of its lifetime, when that is shorter, so a
# stand-in with a scaled-down lifetime behaves like the real service in proportion.
REFRESH_MARGIN = 300.0
_STATE_BYTES = 32  # 256 bits of randomness, as URL-safe base64 (43 characters)
_SHOWN_ERROR_CHARS = 64
_SAFE_ERROR_RE = re.compile(r"[^A-Za-z0-9_.\- ]")
_APP_KEY_HINT_RE = re.compile(r"app[_ ]?(key|id|secret)", re.IGNORECASE)

# The exchange carries a single-use code: a retried request could spend it on a reply we never see.
_NO_RETRY = RetryPolicy(max_attempts=1)


# ---- errors -----------------------------------------------------------------------------------------------


class AuthReason(Enum):
    """Why signing in (or staying signed in) failed — what a caller branches on."""

    CODE_INVALID = "code_invalid"  # 20001: the code expired (5 min) or was used already
    APP_CREDENTIALS_INVALID = "app_credentials_invalid"  # wrong APPID/APPKEY
    DENIED = "denied"  # the user refused in the browser (error=access_denied)
    CALLBACK_ERROR = "callback_error"  # the callback carried another error
    STATE_MISMATCH = "state_mismatch"  # the callback's state is not this attempt's
    NO_CODE = "no_code"  # the callback (or pasted text) holds no code
    TIMEOUT = "timeout"  # the browser never came back
    CANCELLED = "cancelled"  # cancelled in the app
    PORT_IN_USE = "port_in_use"  # the loopback port is taken
    NETWORK = "network"  # KDocs could not be reached
    SERVER = "server"  # any other error reply
    REFRESH_REJECTED = "refresh_rejected"  # the refresh token was refused: sign in again
    NOT_SIGNED_IN = "not_signed_in"  # no stored sign-in to use


# What each way a sign-in can fail means to the rest of the product (``core.errors.FailureReason``: the CLI's
# exit status, the window's advice): no usable token, except for a mangled callback (bad input) and trouble
# on the wire or at the server.
_FAILURE_REASON: dict[AuthReason, FailureReason] = {
    AuthReason.CODE_INVALID: FailureReason.TOKEN_REJECTED,
    AuthReason.APP_CREDENTIALS_INVALID: FailureReason.TOKEN_REJECTED,
    AuthReason.DENIED: FailureReason.TOKEN_REJECTED,
    AuthReason.CALLBACK_ERROR: FailureReason.TOKEN_REJECTED,
    AuthReason.STATE_MISMATCH: FailureReason.BAD_INPUT,
    AuthReason.NO_CODE: FailureReason.BAD_INPUT,
    AuthReason.TIMEOUT: FailureReason.TOKEN_REJECTED,
    AuthReason.CANCELLED: FailureReason.CANCELLED,
    AuthReason.PORT_IN_USE: FailureReason.NETWORK,
    AuthReason.NETWORK: FailureReason.NETWORK,
    AuthReason.SERVER: FailureReason.SERVER_ERROR,
    AuthReason.REFRESH_REJECTED: FailureReason.TOKEN_REJECTED,
    AuthReason.NOT_SIGNED_IN: FailureReason.TOKEN_REJECTED,
}


class AuthError(KDocsError):
    """Signing in failed. ``reason`` says why; ``str(e)`` is for people and holds no secret and no URL."""

    def __init__(
        self,
        reason: AuthReason,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        server_text: str = "",
    ) -> None:
        super().__init__(
            message, code=code, status=status, server_text=server_text, reason=_FAILURE_REASON[reason]
        )
        self.auth_reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        state = {"code": self.code, "status": self.status, "server_text": self.server_text}
        return (type(self), (self.auth_reason, self.message), state)


class SignInRequiredError(AuthError, TokenInvalidError):
    """The stored sign-in no longer works (refresh refused, app key wrong, nothing stored): sign in again.

    A ``TokenInvalidError`` too, so code that already handles a rejected token handles this one.
    """


def _message(reason: AuthReason, **fields: Any) -> str:
    """The text for people of each reason, translated, placeholders filled after translation."""
    texts = {
        AuthReason.CODE_INVALID: translate(
            "auth",
            "KDocs did not accept the sign-in code: it expired (a code lives 5 minutes) or was used "
            "already. Please sign in again.",
        ),
        AuthReason.APP_CREDENTIALS_INVALID: translate(
            "auth",
            "KDocs refused the app's credentials: check the APPID and APPKEY in the KDocs developer console.",
        ),
        AuthReason.DENIED: translate(
            "auth", "Access was not allowed in the browser, so you are not signed in."
        ),
        AuthReason.CALLBACK_ERROR: translate(
            "auth", "KDocs sent an error instead of a sign-in code: {error}"
        ),
        AuthReason.STATE_MISMATCH: translate(
            "auth",
            "This answer does not belong to the sign-in in progress (its state does not match). "
            "Start the sign-in again and use the newest browser tab.",
        ),
        AuthReason.NO_CODE: translate(
            "auth",
            "No sign-in code found. Paste the whole address the browser was sent to "
            "after you allowed access.",
        ),
        AuthReason.TIMEOUT: translate(
            "auth", "The browser did not come back within {duration}. Please sign in again."
        ),
        AuthReason.CANCELLED: translate("auth", "Signing in was cancelled."),
        AuthReason.PORT_IN_USE: translate(
            "auth",
            "Port {port} on 127.0.0.1 is used by another program. Close it, or choose another port and "
            "register the matching callback address in the KDocs developer console.",
        ),
        AuthReason.SERVER: translate("auth", "KDocs reported an error while signing in{where}: {detail}"),
        AuthReason.REFRESH_REJECTED: translate(
            "auth", "Your KDocs sign-in has expired or was revoked. Please sign in again."
        ),
        AuthReason.NOT_SIGNED_IN: translate("auth", "You are not signed in to KDocs."),
    }
    if "seconds" in fields:
        fields["duration"] = _duration(fields.pop("seconds"))
    return texts[reason].format(**fields)


def _duration(seconds: float) -> str:
    """ "5 minutes" or "30 seconds", for people."""
    if seconds >= 60 and seconds % 60 == 0:
        return translate("auth", "{count} minutes").format(count=int(seconds // 60))
    return translate("auth", "{count} seconds").format(count=f"{seconds:g}")


def auth_error(reason: AuthReason, **fields: Any) -> AuthError:
    """An ``AuthError`` (a ``SignInRequiredError`` for the reasons that need a new sign-in) with its text."""
    cls = (
        SignInRequiredError
        if reason in (AuthReason.REFRESH_REJECTED, AuthReason.NOT_SIGNED_IN)
        else AuthError
    )
    return cls(reason, _message(reason, **fields))


# ---- the app and the tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppCredentials:
    """The user's own KDocs app. ``app_key`` is a secret: left out of the repr, registered with
    ``core.redact`` as soon as the credentials exist."""

    app_id: str
    app_key: str = field(repr=False)

    def __post_init__(self) -> None:
        for attribute, name in (("app_id", "APPID"), ("app_key", "APPKEY")):
            value = getattr(self, attribute)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(translate("auth", "The {name} is empty.").format(name=name))
            if any(c.isspace() for c in value):
                raise ValueError(translate("auth", "The {name} contains spaces.").format(name=name))
        register_secret(self.app_key)


@dataclass(frozen=True)
class TokenSet:
    """The tokens of one sign-in. Times are wall-clock Unix seconds, since they must survive a restart.

    ``obtained_at`` is when the request that got them was *sent* (the safe side). An empty
    ``refresh_token`` means the server gave none: the sign-in ends when the access token expires. Both
    tokens are registered with ``core.redact`` as soon as the set exists (a reply, the keyring).
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    obtained_at: float

    def __post_init__(self) -> None:
        if not self.access_token:
            raise ValueError("access_token must not be empty")
        if not (math.isfinite(self.expires_at) and math.isfinite(self.obtained_at)):
            raise ValueError("token times must be finite")
        register_secret(self.access_token)
        register_secret(self.refresh_token)

    @property
    def lifetime(self) -> float:
        return max(0.0, self.expires_at - self.obtained_at)

    @property
    def refresh_margin(self) -> float:
        """How long before expiry a refresh is due."""
        return min(REFRESH_MARGIN, 0.1 * self.lifetime)

    def remaining(self, now: float | None = None) -> float:
        """Seconds the access token still works (negative once expired)."""
        return self.expires_at - (time.time() if now is None else now)

    def is_expired(self, now: float | None = None) -> bool:
        return self.remaining(now) <= 0

    def refresh_due(self, now: float | None = None) -> bool:
        """Time to refresh: inside the margin before expiry, or past it."""
        return self.remaining(now) <= self.refresh_margin

    @classmethod
    def from_reply(
        cls, data: dict[str, Any], sent_wall: float, *, previous_refresh_token: str = ""
    ) -> TokenSet:
        """The tokens of an exchange or refresh reply's ``data``; AuthError(SERVER) when unusable.

        A reply without a refresh token keeps ``previous_refresh_token`` (whether a refresh rotates it is
        not documented: store whatever comes back). A missing ``expires_in`` counts as the usual 24 h.
        """
        access = data.get("access_token")
        if not isinstance(access, str) or not access.strip():
            raise AuthError(
                AuthReason.SERVER,
                _message(
                    AuthReason.SERVER, where="", detail=translate("auth", "the reply holds no access token")
                ),
            )
        refresh = data.get("refresh_token")
        refresh = refresh.strip() if isinstance(refresh, str) and refresh.strip() else previous_refresh_token
        lifetime = _seconds(data.get("expires_in"))
        if lifetime is None:
            lifetime = ACCESS_TOKEN_LIFETIME
        return cls(access.strip(), refresh, sent_wall + lifetime, sent_wall)


@dataclass(frozen=True)
class SignIn:
    """A signed-in user: the app they signed in with and its current tokens (what the keyring keeps)."""

    app: AppCredentials
    tokens: TokenSet

    def with_tokens(self, tokens: TokenSet) -> SignIn:
        return SignIn(self.app, tokens)


def _seconds(value: Any) -> float | None:
    seconds = as_number(value)
    return seconds if seconds is not None and seconds > 0 else None


# ---- the authorization URL and the callback ---------------------------------------------------------------


def new_state() -> str:
    """A fresh, unguessable ``state`` for one sign-in attempt."""
    return secrets.token_urlsafe(_STATE_BYTES)


def redirect_uri_for(port: int = DEFAULT_CALLBACK_PORT) -> str:
    """The loopback callback to register in the developer console: ``http://127.0.0.1:<port>/callback``."""
    if not 0 < port < 65536:
        raise ValueError(translate("auth", "The port must be between 1 and 65535."))
    return f"http://127.0.0.1:{port}{CALLBACK_PATH}"


def authorization_url(base_url: str, app_id: str, redirect_uri: str, state: str) -> str:
    """Where the browser goes to consent: ``{base}/h5/auth?app_id&scope&redirect_uri&state``."""
    query = urlencode({"app_id": app_id, "scope": SCOPE, "redirect_uri": redirect_uri, "state": state})
    return f"{base_url.strip().rstrip('/')}{AUTH_PAGE_PATH}?{query}"


@dataclass(frozen=True)
class AuthRequest:
    """One attempt's authorization URL with the state and callback it expects back."""

    url: str = field(repr=False)  # holds the state
    state: str = field(repr=False)
    redirect_uri: str

    @classmethod
    def create(cls, base_url: str, app_id: str, redirect_uri: str, state: str | None = None) -> AuthRequest:
        """The request for a new attempt (with a fresh state unless one is given)."""
        state = state or new_state()
        return cls(authorization_url(base_url, app_id, redirect_uri, state), state, redirect_uri)


def states_match(received: str | None, expected: str) -> bool:
    """Constant-time comparison: how long it takes tells nothing about how much of a guess was right."""
    if not received or not expected:
        return False
    return hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8"))


def parse_callback(text: str, expected_state: str) -> str:
    """The code from a callback: a whole URL, a path with a query, or just the query. Raises AuthError.

    The state is checked first (constant time), so an answer that is not ours — a forged request, an old
    tab — never counts, not even as a denial. Then ``error`` (``access_denied`` → DENIED), then ``code``.
    """
    query = _query_of(text)
    params = parse_qs(query, keep_blank_values=True)
    if not params:
        raise auth_error(AuthReason.NO_CODE)
    states = params.get("state", [])
    if len(states) != 1 or not states_match(states[0], expected_state):
        raise auth_error(AuthReason.STATE_MISMATCH)
    errors = [e for e in params.get("error", []) if e]
    if errors:
        if errors[0] == "access_denied":
            raise auth_error(AuthReason.DENIED)
        shown = _SAFE_ERROR_RE.sub("", errors[0])[:_SHOWN_ERROR_CHARS] or "?"
        raise auth_error(AuthReason.CALLBACK_ERROR, error=shown)
    codes = [c.strip() for c in params.get("code", []) if c.strip()]
    if not codes:
        raise auth_error(AuthReason.NO_CODE)
    return codes[0]


def _query_of(text: str) -> str:
    text = text.strip()
    if "?" in text:
        try:
            return urlsplit(text).query
        except ValueError:
            return text.split("?", 1)[1].split("#", 1)[0]
    return text if "=" in text else ""


# ---- talking to the OAuth endpoints -----------------------------------------------------------------------


class OAuthClient:
    """Exchanges codes and refreshes tokens at ``base_url`` (thread-safe; one keep-alive connection pool).

    Built on ``KDocsClient``'s transport: same https-or-loopback rule, TLS context, proxy handling, envelope
    parsing and URL-free errors. Nothing is retried — a code is single use, and so may be a refresh token.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api = KDocsClient(
            "", base_url, timeout=timeout, concurrency=1, retry=_NO_RETRY, transport=transport
        )

    @property
    def base_url(self) -> str:
        return self._api.base_url

    @property
    def calls_made(self) -> int:
        return self._api.calls_made

    def authorization_request(self, app_id: str, redirect_uri: str) -> AuthRequest:
        """A new attempt's authorization URL (with a fresh state) for this base URL."""
        return AuthRequest.create(self.base_url, app_id, redirect_uri)

    def exchange_code(self, app: AppCredentials, code: str) -> TokenSet:
        """The tokens for a callback's code. AuthError: CODE_INVALID (20001), APP_CREDENTIALS_INVALID,
        NETWORK, SERVER."""
        register_secret(code)  # single use, but a server may echo it in the error that refuses it
        params = {"code": code, "app_id": app.app_id, "app_key": app.app_key}
        sent = time.time()
        data = self._request("GET", OAUTH_TOKEN_PATH, params, None, refreshing=False)
        return TokenSet.from_reply(data, sent)

    def refresh(self, app: AppCredentials, refresh_token: str) -> TokenSet:
        """New tokens for ``refresh_token``. SignInRequiredError when KDocs refuses it (or the app's
        credentials); AuthError NETWORK/SERVER for trouble that another try may fix."""
        if not refresh_token:
            raise auth_error(AuthReason.REFRESH_REJECTED)
        register_secret(refresh_token)
        body = {"app_key": app.app_key, "refresh_token": refresh_token}
        sent = time.time()
        data = self._request("POST", OAUTH_REFRESH_PATH, {"app_id": app.app_id}, body, refreshing=True)
        return TokenSet.from_reply(data, sent, previous_refresh_token=refresh_token)

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: Any,
        *,
        refreshing: bool,
    ) -> dict[str, Any]:
        error: AuthError
        try:
            return self._api.call(method, path, params=params, body=body, send_token=False)
        except InsecureTransportError:
            raise
        except ApiTransportError as exc:  # its text already says what went wrong on the wire
            error = AuthError(AuthReason.NETWORK, redact(exc.message))
        except KDocsError as exc:
            error = _classify(exc, refreshing)
        # Raised out here, so the original (whose text may echo a secret) is not even its __context__.
        raise error

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> OAuthClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OAuthClient(base_url={self.base_url!r})"


def _classify(exc: KDocsError, refreshing: bool) -> AuthError:
    """The AuthError an error reply of the exchange or refresh endpoint means."""
    said = redact(exc.server_text)
    transient = exc.status is not None and (exc.status == 429 or exc.status >= 500)
    transient = transient or exc.code == CODE_QUOTA_EXCEEDED
    cls: type[AuthError] = AuthError
    # [ours] The real code for wrong app credentials is undocumented: ours, or a message naming them.
    if exc.code == CODE_APP_CREDENTIALS_INVALID or (
        not transient and exc.code is not None and _APP_KEY_HINT_RE.search(said)
    ):
        reason = AuthReason.APP_CREDENTIALS_INVALID
        cls = SignInRequiredError if refreshing else AuthError
        message = _message(reason)
    elif not refreshing and exc.code == CODE_AUTH_CODE_INVALID:
        reason = AuthReason.CODE_INVALID
        message = _message(reason)
    elif refreshing and not transient and exc.code is not None:
        # [ours] Any other refusal of a refresh (the real codes are undocumented) means: sign in again.
        reason, cls = AuthReason.REFRESH_REJECTED, SignInRequiredError
        message = _message(reason)
    else:
        reason = AuthReason.SERVER
        parts = [
            f"code {exc.code}" if exc.code is not None else "",
            f"HTTP {exc.status}" if exc.status else "",
        ]
        where = ", ".join(p for p in parts if p)
        message = _message(reason, where=f" ({where})" if where else "", detail=said or redact(exc.message))
    return cls(reason, message, code=exc.code, status=exc.status, server_text=said)
