"""Token storage in the operating system's keyring, with every failure an explicit, visible state.

Keyring backends fail in ways a desktop program must survive: no backend at all (headless Linux), a
locked collection, a Secret Service that never answers (a hidden unlock prompt), or — worst — a
*plaintext* file backend from ``keyrings.alt`` silently chosen when nothing better exists. So:

- every keyring call runs in a daemon worker thread and is abandoned after ``timeout`` seconds
  (``TIMED_OUT``); a hung D-Bus call never hangs the caller, and a worker that is still stuck makes later
  calls answer ``TIMED_OUT`` at once instead of piling up more stuck threads;
- insecure backends (``keyrings.alt.*``, keyring's ``null`` and ``fail``) are refused: ``UNAVAILABLE``,
  nothing is ever written to them; there is no plaintext fallback of our own either;
- results carry a status, a human backend name and a short detail for people — never the token
  (``TokenResult.token`` is left out of the repr; every token read or stored is registered with
  ``core.redact``, which masks it in every detail text).

One service name for the whole program; the account is the normalised API base URL, so a token for the
stand-in server never overwrites the token for the real service.

``SignInStore`` keeps a signed-in user the same way: one entry per (base URL, APPID) holding the access
token, the refresh token, their expiry and the APPKEY (one JSON secret), and one entry per base URL naming
the APPID signed in there. Nothing of it ever goes to settings or logs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

import keyring
import keyring.backend
import keyring.errors

from kdocs_viewer.core.auth import AppCredentials, SignIn, TokenSet
from kdocs_viewer.core.models import normalise_base_url
from kdocs_viewer.core.redact import redact, register_secret

__all__ = [
    "SERVICE_NAME",
    "WORKER_THREAD_PREFIX",
    "SignInResult",
    "SignInStore",
    "TokenResult",
    "TokenStatus",
    "TokenStore",
    "is_insecure_backend",
    "normalise_base_url",
]

log = logging.getLogger(__name__)

SERVICE_NAME = "kdocs-viewer"
_DETAIL_MAX = 200
WORKER_THREAD_PREFIX = "kdocs-keyring"  # names of worker threads, so fixtures can wait for them

T = TypeVar("T")


class TokenStatus(Enum):
    """Where the token stands after an operation (for ``set``/``delete``: the state they left)."""

    STORED = "stored"
    NOT_STORED = "not stored"
    UNAVAILABLE = "unavailable"  # no (secure) keyring backend: keep the token for this session only
    LOCKED = "locked"  # the keyring refused to unlock (prompt dismissed or impossible)
    TIMED_OUT = "timed out"  # the keyring did not answer in time
    ERROR = "error"  # anything else; see detail


@dataclass(frozen=True)
class TokenResult:
    """Outcome of a keyring operation. ``detail`` is for people and never contains the token."""

    status: TokenStatus
    token: str | None = field(default=None, repr=False)
    backend: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        """The keyring answered (the token is stored, or is known not to be)."""
        return self.status in (TokenStatus.STORED, TokenStatus.NOT_STORED)


# Human names by backend module; anything else falls back to keyring's own display name.
_BACKEND_NAMES: dict[str, str] = {
    "keyring.backends.SecretService": "Secret Service",
    "keyring.backends.libsecret": "Secret Service (libsecret)",
    "keyring.backends.kwallet": "KWallet",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Locker",
    "keyring.backends.fail": "no keyring backend",
    "keyring.backends.null": "keyring disabled",
}


_PLACEHOLDERS = frozenset({"keyring.backends.null", "keyring.backends.fail"})


def _module_of(backend: keyring.backend.KeyringBackend) -> str:
    return type(backend).__module__


def is_insecure_backend(backend: keyring.backend.KeyringBackend) -> bool:
    """True for backends we must never write a token to: keyrings.alt (plaintext or file based, which may
    also prompt on a terminal) and keyring's ``null``/``fail`` placeholders."""
    module = _module_of(backend)
    return module.split(".")[:2] == ["keyrings", "alt"] or module in _PLACEHOLDERS


def _display_name(backend: keyring.backend.KeyringBackend) -> str:
    module = _module_of(backend)
    for prefix, name in _BACKEND_NAMES.items():
        if module == prefix or module.startswith(prefix + "."):
            return name
    try:
        name = str(type(backend).name)
    except Exception:
        name = type(backend).__name__
    if module.startswith("keyrings.alt"):
        return f"{name} (insecure, not used)"
    return name


def _chain_members(backend: keyring.backend.KeyringBackend) -> list[keyring.backend.KeyringBackend]:
    """The backends behind a chainer, highest priority first; a plain backend stands for itself."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        try:
            return list(backend.backends)
        except Exception:
            return []
    return [backend]


class _Unavailable(Exception):
    """Internal: no secure backend; carries its human name and a reason for people."""

    def __init__(self, backend_name: str, reason: str) -> None:
        super().__init__(reason)
        self.backend_name = backend_name
        self.reason = reason


def _select_backend() -> tuple[keyring.backend.KeyringBackend, str]:
    """The secure backend to use and its human name, or ``_Unavailable``. Runs in the worker: the first
    ``keyring.get_keyring()`` probes D-Bus and may hang."""
    members = _chain_members(keyring.get_keyring())
    secure = [b for b in members if not is_insecure_backend(b)]
    if secure:
        return secure[0], _display_name(secure[0])
    refused = [b for b in members if _module_of(b) not in _PLACEHOLDERS]
    if refused:  # only keyrings.alt-style backends: name the one we refuse
        name = _display_name(refused[0])
        raise _Unavailable(name, f"no secure keyring backend ({name})")
    if members and _module_of(members[0]) == "keyring.backends.null":
        raise _Unavailable(_display_name(members[0]), "the keyring is disabled (null backend)")
    raise _Unavailable("no keyring backend", "no keyring backend")


def _scrub(text: str) -> str:
    """A short, safe detail: no registered secret (even if a backend echoed it), no URL query, one line.

    A detail is a clause that callers put inside their own sentence ("…: %1." or "(%1)"), so a backend's
    closing full stop ("Prompt dismissed.") is dropped; an ellipsis stays.
    """
    text = redact(" ".join(text.split()))
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    if len(text) > _DETAIL_MAX:
        text = text[: _DETAIL_MAX - 1] + "…"
    return text


def _secretstorage_unavailable(exc: BaseException) -> bool:
    try:
        from secretstorage.exceptions import SecretServiceNotAvailableException
    except Exception:  # secretstorage missing or broken: nothing to match
        return False
    return isinstance(exc, SecretServiceNotAvailableException)


class TokenStore:
    """Reads, writes and deletes the access token per API base URL in the system keyring.

    Thread-safe. Each call blocks the caller for at most about ``timeout`` seconds; GUI code should still
    call it from a worker, since a few seconds is long for an event loop.
    """

    def __init__(self, service: str = SERVICE_NAME, timeout: float = 5.0) -> None:
        self.service = service
        self.timeout = timeout
        self._lock = threading.Lock()
        self._stuck: threading.Thread | None = None
        self._backend_name: str | None = None

    def __repr__(self) -> str:
        return f"TokenStore(service={self.service!r}, timeout={self.timeout!r})"

    # -- public API ---------------------------------------------------------------------------------------

    def get(self, base_url: str) -> TokenResult:
        """The stored token for ``base_url`` (STORED with ``token``), or NOT_STORED, or why not."""
        result = self.get_secret(normalise_base_url(base_url))
        register_secret(result.token)
        return result

    def get_secret(self, account: str) -> TokenResult:
        """The secret stored under ``account`` (in ``token``), or NOT_STORED, or why not."""

        def op(backend: keyring.backend.KeyringBackend) -> str | None:
            return backend.get_password(self.service, account)

        return self._run("get", op, self._after_get)

    def set(self, base_url: str, token: str) -> TokenResult:
        """Store ``token`` for ``base_url``; STORED on success (the result does not echo the token)."""
        register_secret(token.strip() if token else None)  # a backend's error may quote it
        return self.set_secret(normalise_base_url(base_url), token)

    def set_secret(self, account: str, token: str) -> TokenResult:
        """Store the secret ``token`` under ``account``; STORED on success (never echoed)."""
        if not token or not token.strip():
            raise ValueError("refusing to store an empty token")

        def op(backend: keyring.backend.KeyringBackend) -> None:
            backend.set_password(self.service, account, token)

        def after(name: str, _: None) -> TokenResult:
            return TokenResult(TokenStatus.STORED, None, name, f"token saved in {name}")

        return self._run("set", op, after)

    def delete(self, base_url: str) -> TokenResult:
        """Remove the token for ``base_url``; NOT_STORED whether it was there or not (see ``detail``)."""
        return self.delete_secret(normalise_base_url(base_url))

    def delete_secret(self, account: str) -> TokenResult:
        """Remove the secret under ``account``; NOT_STORED whether it was there or not (see ``detail``)."""

        def op(backend: keyring.backend.KeyringBackend) -> bool:
            try:
                backend.delete_password(self.service, account)
            except keyring.errors.PasswordDeleteError:
                return False
            return True

        def after(name: str, removed: bool) -> TokenResult:
            detail = f"token removed from {name}" if removed else f"no token was stored in {name}"
            return TokenResult(TokenStatus.NOT_STORED, None, name, detail)

        return self._run("delete", op, after)

    def backend_name(self) -> str:
        """A human name for the keyring in use ("Secret Service", "macOS Keychain", …); asks the keyring
        (bounded by ``timeout``) since the backend may change at run time."""

        def probe(_backend: keyring.backend.KeyringBackend) -> None:
            return None

        result = self._run("probe", probe, lambda name, _: TokenResult(TokenStatus.NOT_STORED, None, name))
        return result.backend or "keyring"

    # -- machinery ----------------------------------------------------------------------------------------

    @staticmethod
    def _after_get(name: str, value: Any) -> TokenResult:
        if value is None or value == "":
            return TokenResult(TokenStatus.NOT_STORED, None, name, f"no token stored in {name}")
        return TokenResult(TokenStatus.STORED, str(value), name, f"token found in {name}")

    def _run(
        self,
        what: str,
        op: Callable[[keyring.backend.KeyringBackend], T],
        on_success: Callable[[str, T], TokenResult],
    ) -> TokenResult:
        known = self._backend_name or "keyring"
        with self._lock:
            stuck = self._stuck
            if stuck is not None and stuck.is_alive():
                return TokenResult(
                    TokenStatus.TIMED_OUT, None, known, f"{known} is still not answering an earlier request"
                )
            self._stuck = None

        box: dict[str, Any] = {}

        def work() -> None:
            try:
                backend, name = _select_backend()
                box["name"] = name
                box["value"] = op(backend)
            except BaseException as exc:  # reported to the caller as a status, never raised in the thread
                box["error"] = exc

        worker = threading.Thread(target=work, name=f"{WORKER_THREAD_PREFIX}-{what}", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            with self._lock:
                self._stuck = worker
            log.warning("keyring %s did not answer within %.1f s", what, self.timeout)
            name = box.get("name", known)
            return TokenResult(
                TokenStatus.TIMED_OUT, None, name, f"{name} did not answer within {self.timeout:g} s"
            )

        name = box.get("name", known)
        if "error" not in box:
            self._backend_name = name
            return on_success(name, box["value"])
        result = self._map_error(box["error"], name)
        if result.status is not TokenStatus.ERROR:
            self._backend_name = result.backend
        log.info("keyring %s: %s (%s)", what, result.status.value, result.detail)
        return result

    @staticmethod
    def _map_error(exc: BaseException, name: str) -> TokenResult:
        if isinstance(exc, _Unavailable):
            return TokenResult(TokenStatus.UNAVAILABLE, None, exc.backend_name, exc.reason)
        if isinstance(exc, keyring.errors.NoKeyringError):
            return TokenResult(TokenStatus.UNAVAILABLE, None, "no keyring backend", "no keyring backend")
        if _secretstorage_unavailable(exc):
            return TokenResult(TokenStatus.UNAVAILABLE, None, name, _scrub(f"{name} is not available: {exc}"))
        if isinstance(exc, keyring.errors.KeyringLocked):
            return TokenResult(TokenStatus.LOCKED, None, name, f"{name} is locked")
        if isinstance(exc, keyring.errors.KeyringError):
            text = str(exc) or type(exc).__name__
            return TokenResult(TokenStatus.ERROR, None, name, _scrub(f"{name}: {text}"))
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return TokenResult(TokenStatus.ERROR, None, name, _scrub(f"{name}: {text}"))


# ---- the signed-in user ------------------------------------------------------------------------------------

_SIGN_IN_VERSION = 1


@dataclass(frozen=True)
class SignInResult:
    """Outcome of a ``SignInStore`` operation. ``sign_in`` (on a load) holds secrets: left out of the repr;
    ``detail`` is for people and holds none."""

    status: TokenStatus
    sign_in: SignIn | None = field(default=None, repr=False)
    backend: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        """The keyring answered (the sign-in is stored, or is known not to be)."""
        return self.status in (TokenStatus.STORED, TokenStatus.NOT_STORED)


def _pointer_account(base_url: str) -> str:
    return f"{normalise_base_url(base_url)} oauth"


def _tokens_account(base_url: str, app_id: str) -> str:
    return f"{normalise_base_url(base_url)} oauth {app_id}"


def _encode(sign_in: SignIn) -> str:
    tokens = sign_in.tokens
    return json.dumps(
        {
            "v": _SIGN_IN_VERSION,
            "app_id": sign_in.app.app_id,
            "app_key": sign_in.app.app_key,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at,
            "obtained_at": tokens.obtained_at,
        },
        separators=(",", ":"),
    )


def _decode(secret: str, app_id: str) -> SignIn | None:
    """The sign-in of a stored secret, or None when it is not one of ours (never echoed anywhere)."""
    try:
        data = json.loads(secret)
        if not isinstance(data, dict) or data.get("v") != _SIGN_IN_VERSION or data.get("app_id") != app_id:
            return None
        tokens = TokenSet(
            str(data["access_token"]),
            str(data.get("refresh_token") or ""),
            float(data["expires_at"]),
            float(data["obtained_at"]),
        )
        return SignIn(AppCredentials(app_id, str(data["app_key"])), tokens)
    except (ValueError, TypeError, KeyError):
        return None


class SignInStore:
    """The signed-in user per API base URL, in the system keyring (see the module docstring).

    Thread-safe; each method makes two or three keyring calls, each bounded by the ``TokenStore``'s
    timeout — call it from a worker in GUI code.
    """

    def __init__(self, store: TokenStore | None = None) -> None:
        self._store = store or TokenStore()

    def __repr__(self) -> str:
        return f"SignInStore({self._store!r})"

    def signed_in_app(self, base_url: str) -> tuple[str | None, TokenResult]:
        """The APPID signed in at ``base_url`` (None when nobody is), and the keyring's answer."""
        result = self._store.get_secret(_pointer_account(base_url))
        return (result.token if result.status is TokenStatus.STORED else None), result

    def load(self, base_url: str) -> SignInResult:
        """The signed-in user at ``base_url``: STORED with ``sign_in``, NOT_STORED, or why not."""
        app_id, pointer = self.signed_in_app(base_url)
        if app_id is None:
            return self._result(pointer, "nobody is signed in")
        entry = self._store.get_secret(_tokens_account(base_url, app_id))
        if entry.status is not TokenStatus.STORED or entry.token is None:
            return self._result(entry, "nobody is signed in")
        sign_in = _decode(entry.token, app_id)
        if sign_in is None:
            detail = f"the sign-in stored in {entry.backend} could not be read; please sign in again"
            return SignInResult(TokenStatus.ERROR, None, entry.backend, detail)
        detail = f"signed in with app {app_id} (tokens in {entry.backend})"
        return SignInResult(TokenStatus.STORED, sign_in, entry.backend, detail)

    def save(self, base_url: str, sign_in: SignIn) -> SignInResult:
        """Store ``sign_in`` for ``base_url`` (replacing the entry of another app signed in there)."""
        previous, pointer = self.signed_in_app(base_url)
        if not pointer.ok:
            return self._result(pointer, "")
        app_id = sign_in.app.app_id
        stored = self._store.set_secret(_tokens_account(base_url, app_id), _encode(sign_in))
        if stored.status is not TokenStatus.STORED:
            return self._result(stored, "")
        if previous != app_id:
            named = self._store.set_secret(_pointer_account(base_url), app_id)
            if named.status is not TokenStatus.STORED:
                return self._result(named, "")
            if previous is not None:
                self._store.delete_secret(_tokens_account(base_url, previous))
        return SignInResult(TokenStatus.STORED, None, stored.backend, f"sign-in saved in {stored.backend}")

    def clear(self, base_url: str) -> SignInResult:
        """Sign out at ``base_url``: remove the tokens, the APPKEY and the note of who is signed in.
        NOT_STORED afterwards whether anybody was signed in or not (see ``detail``)."""
        app_id, pointer = self.signed_in_app(base_url)
        if not pointer.ok:
            return self._result(pointer, "")
        if app_id is None:
            return SignInResult(TokenStatus.NOT_STORED, None, pointer.backend, "nobody was signed in")
        removed = self._store.delete_secret(_tokens_account(base_url, app_id))
        if not removed.ok:
            return self._result(removed, "")
        unnamed = self._store.delete_secret(_pointer_account(base_url))
        if not unnamed.ok:
            return self._result(unnamed, "")
        return SignInResult(TokenStatus.NOT_STORED, None, removed.backend, f"signed out of app {app_id}")

    @staticmethod
    def _result(result: TokenResult, not_stored_detail: str) -> SignInResult:
        detail = (
            not_stored_detail
            if result.status is TokenStatus.NOT_STORED and not_stored_detail
            else result.detail
        )
        return SignInResult(result.status, None, result.backend, detail)
