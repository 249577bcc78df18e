"""``kdocs-pics token | login | logout | whoami | files``: the access token, and signing in with your own
KDocs app, from a terminal.

``token set | clear | status`` keeps a token you got elsewhere in the system keyring.

``login`` prints the authorization URL as the first line of stdout, waits for the browser's callback on
``127.0.0.1:<port>`` (or reads the address the browser was sent to from stdin with ``--paste``), and keeps
the tokens and the APPKEY in the system keyring — never in a file. Every other command then uses (and
renews) the signed-in tokens when no token is given on stdin or in ``KDOCS_ACCESS_TOKEN``.

Registered by ``cli.py``; shares its output rules: data on stdout, words for people on stderr, every
secret of the run (APPKEY, tokens) masked in whatever is printed or logged.
"""

from __future__ import annotations

import argparse
import atexit
import getpass
import json
import os
import sys
import threading
import webbrowser
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kdocs_viewer.cli import (
    ENV_TOKEN,
    _base_url,
    _clean_token,
    _client,
    _get_token,
    _iso_utc,
    _read_token_stdin,
)
from kdocs_viewer.cli_terminal import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    CliError,
    _note,
    _say,
    _stop_signals_cancel,
)
from kdocs_viewer.core.contract import DEFAULT_CALLBACK_PORT
from kdocs_viewer.core.redact import register_secret

if TYPE_CHECKING:
    from kdocs_viewer.core.auth import AuthError
    from kdocs_viewer.core.token_refresh import TokenRefresher

__all__ = ["COMMANDS", "add_parsers", "auth_failure", "signed_in_provider"]

ENV_APP_KEY = "KDOCS_APP_KEY"
LOGIN_TIMEOUT = 300.0
_NO_PLAIN_FILES = f"Nothing is ever written to a plain file instead; use {PROG} with --token-stdin."
_signed_in_app: list[str] = []  # the APPID of the sign-in this run uses, for the "sign in again" hint


# ---- arguments --------------------------------------------------------------------------------------------


def add_parsers(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Add the five commands with ``add(name, help)``, cli.py's subparser factory."""
    token = add("token", "manage the access token stored in the system keyring")
    token.add_argument("action", choices=["set", "clear", "status"], help="set (from stdin), clear or status")
    token.add_argument(
        "--json",
        action="store_true",
        help="status as one JSON object: base_url, keyring, token, detail, env_token_set",
    )
    login = add(
        "login", "sign in with your own KDocs app (APPID + APPKEY) and keep the tokens in the keyring"
    )
    login.add_argument("--app-id", required=True, metavar="ID", help="your app's APPID (developer console)")
    login.add_argument(
        "--app-key-stdin",
        action="store_true",
        help=f"read the APPKEY from the first line of standard input (else ${ENV_APP_KEY}, the key stored "
        "for this app, or a hidden prompt)",
    )
    login.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_CALLBACK_PORT,
        metavar="N",
        help=f"loopback port of the callback http://127.0.0.1:N/callback registered for your app "
        f"(default {DEFAULT_CALLBACK_PORT}; 0 = any free port, for a stand-in server only)",
    )
    login.add_argument(
        "--no-browser", action="store_true", help="do not open a browser; just print the address"
    )
    login.add_argument(
        "--paste",
        action="store_true",
        help="no listener: paste the address the browser was sent to after allowing access (a browser on "
        "another machine)",
    )
    login.add_argument(
        "--timeout",
        type=_seconds,
        default=LOGIN_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for the browser (default {LOGIN_TIMEOUT:g})",
    )
    add("logout", "sign out: remove the signed-in tokens and the APPKEY from the keyring")
    add("whoami", "print the signed-in user (one JSON object)")
    files = add("files", "list your spreadsheets, one JSON object per line (file_token, name, mtime, …)")
    files.add_argument("--recent", action="store_true", help="recently opened spreadsheets, newest first")
    files.add_argument("--query", default="", metavar="TEXT", help="only names containing every word of TEXT")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be between 0 and 65535")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 24 * 3600:
        raise argparse.ArgumentTypeError("must be more than 0 and at most a day")
    return value


# ---- errors -----------------------------------------------------------------------------------------------


def auth_failure(exc: AuthError, app_id: str | None = None) -> CliError:
    """The CliError (message and exit status) of a sign-in failure."""
    from kdocs_viewer.core.auth import AuthReason, SignInRequiredError

    reason = exc.auth_reason
    if reason in (AuthReason.STATE_MISMATCH, AuthReason.NO_CODE):
        code = EXIT_USAGE
    elif reason is AuthReason.CANCELLED:
        code = EXIT_CANCELLED
    elif reason in (AuthReason.PORT_IN_USE, AuthReason.NETWORK, AuthReason.SERVER):
        code = EXIT_API
    else:
        code = EXIT_AUTH
    message = str(exc)
    if isinstance(exc, SignInRequiredError):
        app_id = app_id or (_signed_in_app[-1] if _signed_in_app else "ID")
        message += f"\nSign in again with `{PROG} login --app-id {app_id}`."
    return CliError(message, code)


# ---- the signed-in tokens for every command ----------------------------------------------------------------


def signed_in_provider(base_url: str) -> TokenRefresher | None:
    """A token provider over the sign-in stored for ``base_url``, or None when nobody is signed in (or the
    keyring cannot say: the caller's keyring lookup reports that). Renewed tokens are stored again."""
    from kdocs_viewer.core.auth import OAuthClient, TokenSet
    from kdocs_viewer.core.secrets import SignInStore, TokenStatus
    from kdocs_viewer.core.token_refresh import TokenRefresher

    store = SignInStore()
    loaded = store.load(base_url)
    sign_in = loaded.sign_in
    if loaded.status is not TokenStatus.STORED or sign_in is None:
        if loaded.status is TokenStatus.ERROR:
            _note(f"note: {loaded.detail}")
        return None
    _signed_in_app.append(sign_in.app.app_id)
    try:
        oauth = OAuthClient(base_url)
    except ValueError as exc:
        raise CliError(f"--base-url: {exc}", EXIT_USAGE) from None
    atexit.register(oauth.close)

    def store_renewed(tokens: TokenSet) -> None:
        saved = store.save(base_url, sign_in.with_tokens(tokens))
        if saved.status is not TokenStatus.STORED:
            warning = f"the renewed sign-in could not be stored ({saved.detail})"
            _say(warning + "; the next command may ask you to sign in again")

    return TokenRefresher.for_sign_in(oauth, sign_in, on_refreshed=store_renewed)


# ---- login ------------------------------------------------------------------------------------------------


def _read_line(what: str) -> str:
    if sys.stdin is None:
        raise CliError(f"there is no standard input to read {what} from", EXIT_USAGE)
    line = sys.stdin.readline()
    if not line.strip():
        raise CliError(f"no {what} on standard input", EXIT_USAGE)
    return line.strip()


def _app_key(args: argparse.Namespace, base_url: str) -> str:
    """--app-key-stdin, else $KDOCS_APP_KEY, else the key stored for this app, else a hidden prompt."""
    if args.app_key_stdin:
        key = _read_line("APPKEY (--app-key-stdin)")
    elif os.environ.get(ENV_APP_KEY, "").strip():
        key = os.environ[ENV_APP_KEY].strip()
    else:
        from kdocs_viewer.core.secrets import SignInStore

        stored = SignInStore().load(base_url).sign_in
        if stored is not None and stored.app.app_id == args.app_id:
            key = stored.app.app_key
        elif sys.stdin is not None and sys.stdin.isatty() and not args.paste:
            try:
                key = getpass.getpass(f"APPKEY of app {args.app_id} (input is hidden): ").strip()
            except EOFError:
                key = ""
        else:
            raise CliError(
                f"the APPKEY is needed: give it with --app-key-stdin or in ${ENV_APP_KEY} (never on the "
                "command line)",
                EXIT_USAGE,
            )
    register_secret(key)
    return key


def _can_open_a_browser() -> bool:
    """A graphical browser can show up here. Without a display, Python's webbrowser would start a text
    browser (lynx, w3m) in this very terminal, on top of the prompt."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_login(args: argparse.Namespace) -> int:
    from kdocs_viewer.core.auth import AppCredentials, AuthError, OAuthClient, SignIn
    from kdocs_viewer.core.files import get_user
    from kdocs_viewer.core.secrets import SignInStore, TokenStatus
    from kdocs_viewer.core.signin import SignInFlow

    if getattr(args, "token_stdin", False):
        raise CliError("--token-stdin has no use with login: it gets its own tokens", EXIT_USAGE)
    if args.paste and args.port == 0:
        raise CliError("--paste needs the registered --port (0 means any free port)", EXIT_USAGE)
    base_url = _base_url(args)
    key = _app_key(args, base_url)
    try:
        app = AppCredentials(args.app_id, key)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    try:
        oauth = OAuthClient(base_url)
    except ValueError as exc:
        raise CliError(f"--base-url: {exc}", EXIT_USAGE) from None
    store = SignInStore()
    with oauth, SignInFlow(oauth, app, port=args.port, listen=not args.paste, timeout=args.timeout) as flow:
        _, keyring_state = store.signed_in_app(base_url)
        if not keyring_state.ok:  # said before the user goes through the browser for nothing
            raise CliError(
                f"a sign-in could not be kept: {keyring_state.detail}. {_NO_PLAIN_FILES}", EXIT_API
            )
        try:
            url = flow.start()
        except AuthError as exc:
            raise auth_failure(exc, app.app_id) from None
        sys.stdout.write(url + "\n")
        sys.stdout.flush()
        _say(
            f"open the address above in a browser and allow access. Your app must have the callback "
            f"{flow.redirect_uri} registered, with the scopes user_basic and access_personal_files."
        )
        if not args.no_browser:
            _open_browser(url)
        try:
            tokens = _await_tokens(args, flow)
        except AuthError as exc:
            raise auth_failure(exc, app.app_id) from None
    saved = store.save(base_url, SignIn(app, tokens))
    if saved.status is not TokenStatus.STORED:
        raise CliError(
            f"signed in, but the tokens could not be stored: {saved.detail}. {_NO_PLAIN_FILES}", EXIT_API
        )
    who = ""
    try:
        with _client(tokens.access_token, base_url) as client:
            nickname = get_user(client).nickname
        who = f" as {nickname}" if nickname else ""
    except Exception as exc:  # the sign-in stands; only the name is missing (e.g. no user_basic scope)
        _note(f"note: could not read your user name: {exc}")
    _note(f"signed in{who} with app {app.app_id} at {base_url}; tokens kept in {saved.backend}")
    return EXIT_OK


def _open_browser(url: str) -> None:
    if not _can_open_a_browser():
        _say("no display here: open the address on a machine with a browser (see --paste)")
        return
    try:
        opened = webbrowser.open(url)
    except Exception:
        opened = False
    if not opened:
        _say("could not start a browser: open the address yourself")


def _await_tokens(args: argparse.Namespace, flow: Any) -> Any:
    """The tokens from the listener (Ctrl+C cancels) or from a pasted address."""
    if args.paste:
        _say(
            "after you allow access the browser goes to an address starting with "
            f"{flow.redirect_uri}?code= (the page itself may fail to load): paste that whole address here "
            "and press Enter"
        )
        return flow.complete(_read_line("pasted address"))
    _note(f"waiting for the browser (at most {args.timeout:g} s; Ctrl+C cancels)…")
    cancel = threading.Event()
    result: dict[str, Any] = {}

    def wait() -> None:
        try:
            result["tokens"] = flow.wait()
        except BaseException as exc:  # handed to the main thread below
            result["error"] = exc

    waiter = threading.Thread(target=wait, name="kdocs-login-wait", daemon=True)
    with _stop_signals_cancel(cancel) as stop:
        waiter.start()
        while waiter.is_alive():
            waiter.join(0.2)
            if cancel.is_set():
                flow.cancel()
    if "error" in result:
        if cancel.is_set():  # stopped by a signal: its exit status (130, 143, 129), as every command has
            raise CliError(str(result["error"]), stop.exit_code)
        raise result["error"]
    return result["tokens"]


# ---- the token kept in the keyring ------------------------------------------------------------------------


def cmd_token(args: argparse.Namespace) -> int:
    from kdocs_viewer.core.secrets import TokenStatus, TokenStore

    base_url = _base_url(args)
    store = TokenStore()
    if args.json and args.action != "status":
        raise CliError(f"--json goes with `token status`, not `token {args.action}`", EXIT_USAGE)
    if args.action == "status":
        result = store.get(base_url)
        out = sys.stdout
        env_set = bool(os.environ.get(ENV_TOKEN, "").strip())
        if args.json:  # the same facts as the text, never the token itself
            record = {
                "base_url": base_url,
                "keyring": result.backend,
                "token": result.status.value,
                "detail": None if result.ok else result.detail,
                "env_token_set": env_set,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            return EXIT_OK if result.ok else EXIT_API
        out.write(f"base URL: {base_url}\n")
        out.write(f"keyring:  {result.backend}\n")
        out.write(f"token:    {result.status.value}\n")
        if not result.ok:
            out.write(f"detail:   {result.detail}\n")
        if env_set:
            out.write(f"note:     {ENV_TOKEN} is set and is used before the keyring\n")
        out.flush()
        return EXIT_OK if result.ok else EXIT_API
    if args.action == "clear":
        result = store.delete(base_url)
        (_note if result.ok else _say)(f"{result.detail} ({base_url})")
        return EXIT_OK if result.ok else EXIT_API
    # set
    if getattr(args, "token_stdin", False) or sys.stdin is None or not sys.stdin.isatty():
        token = _read_token_stdin()
    else:
        try:
            raw = getpass.getpass(f"Access token for {base_url} (input is hidden): ")
        except EOFError:
            raw = ""
        token = _clean_token(raw, "the prompt")
    result = store.set(base_url, token)
    if result.status is TokenStatus.STORED:
        _note(f"{result.detail} for {base_url}")
        return EXIT_OK
    _say(f"the token was not stored: {result.detail}")
    if result.status is TokenStatus.UNAVAILABLE:
        _say(f"use --token-stdin or {ENV_TOKEN} instead (a token is never written to a plain file)")
    return EXIT_API


# ---- logout, whoami, files ---------------------------------------------------------------------------------


def cmd_logout(args: argparse.Namespace) -> int:
    from kdocs_viewer.core.secrets import SignInStore

    base_url = _base_url(args)
    result = SignInStore().clear(base_url)
    (_note if result.ok else _say)(f"{result.detail} ({base_url})")
    return EXIT_OK if result.ok else EXIT_API


def cmd_whoami(args: argparse.Namespace) -> int:
    from kdocs_viewer.cli import _api_failure
    from kdocs_viewer.core.files import get_user
    from kdocs_viewer.core.token_refresh import TokenRefresher

    base_url = _base_url(args)
    token = _get_token(args, base_url)
    with _client(token, base_url) as client:
        try:
            user = get_user(client)
        except Exception as exc:
            raise _api_failure(exc, "") from None
    record: dict[str, Any] = {"nickname": user.nickname, "user_id": user.user_id, "base_url": base_url}
    if isinstance(token, TokenRefresher):
        record["signed_in"] = True
        record["expires_at"] = _iso_utc(token.tokens.expires_at)
    else:
        record["signed_in"] = False
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return EXIT_OK


def cmd_files(args: argparse.Namespace) -> int:
    from kdocs_viewer.cli import _api_failure
    from kdocs_viewer.core.files import FilePage, collect, filter_items, list_recent, list_spreadsheets

    base_url = _base_url(args)
    token = _get_token(args, base_url)
    cancel = threading.Event()
    with _client(token, base_url) as client, _stop_signals_cancel(cancel) as stop:
        skipped = 0

        def fetch(offset: int) -> FilePage:
            nonlocal skipped
            page = (
                list_recent(client, offset=offset)
                if args.recent
                else list_spreadsheets(client, offset=offset)
            )
            skipped += page.skipped
            return page

        try:
            items = collect(fetch, cancel=cancel)
        except Exception as exc:
            raise _api_failure(exc, "") from None
    if args.recent:
        items = [item for item in items if item.is_spreadsheet]
    items = filter_items(items, args.query)
    for item in items:
        sys.stdout.write(json.dumps(item.as_json(), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    if cancel.is_set():
        _say("cancelled")
        return stop.exit_code
    _note(f"{len(items)} spreadsheet{'s' if len(items) != 1 else ''}")
    if skipped:
        _note(f"note: {skipped} listed item(s) named no file token or no name and were left out")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "token": cmd_token,
    "login": cmd_login,
    "logout": cmd_logout,
    "whoami": cmd_whoami,
    "files": cmd_files,
}
