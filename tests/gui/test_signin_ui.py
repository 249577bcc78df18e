"""Signing in from the window, end to end against the stand-in over loopback: the guided dialog, a browser
that consents and comes back to the app's listener, a real Secret Service, a token that expires and is
renewed unnoticed, a refresh token that is revoked, every way a sign-in fails, and the secrets' canary.

The "browser" is injected through the sign-in controller's seam instead of the system browser: either the
controller's ``ScriptedBrowser`` (it GETs the authorization URL, consents and follows the redirect to the
loopback listener over real HTTP), or ``NoBrowser``, which only writes the address down (a browser that never
comes back, or one on another computer whose final address the user pastes).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kdocs_viewer.core import i18n as core_i18n
from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.redact import install_log_redaction
from kdocs_viewer.core.secrets import SignInStore, TokenStatus, TokenStore
from kdocs_viewer.gui.i18n import install_translators
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.signin_dialog import SignInDialog
from kdocs_viewer.gui.token_controller import TokenSource
from kdocs_viewer.gui.token_dialog import TokenDialog
from kdocs_viewer.standin.browser import consent
from kdocs_viewer.standin.server import StandinServer
from tests.conftest import CANARY_APP_KEY
from tests.gui.shell_helpers import FolderChooser, Ui, child

pytest_plugins = ["tests.gui.shell_support"]  # keyring fixtures come from the root conftest

MakeWindow = Callable[..., MainWindow]
Factory = Callable[..., StandinServer]

REFRESH_PATH = "/api/v1/oauth2/refresh_token"
# URLs live 3-6 s and access tokens 4 s (400 s x 0.01): the browser keeps calling, so the token is renewed.
FAST = {"time_scale": 0.01, "token_lifetime": 400.0}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class NoBrowser:
    """An ``open_url`` that only writes the address down: nobody ever comes back to the listener."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> bool:
        self.urls.append(url)
        return True


class TokenDialogs:
    """Counts token dialogs (and cancels them): a transparent refresh or a sign-in prompt opens none."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        counter = self

        def fake_exec(dialog: TokenDialog) -> int:
            counter.calls += 1
            return QDialog.DialogCode.Rejected.value

        monkeypatch.setattr(TokenDialog, "exec", fake_exec)


class SignInUi:
    """The sign-in dialog as the user sees it, found by object names."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.prompts: list[str] = []
        window.signin.prompted.connect(self.prompts.append)

    def dialog(self) -> SignInDialog | None:
        shown = [d for d in self.window.findChildren(SignInDialog, "signInDialog") if d.isVisible()]
        assert len(shown) <= 1, f"{len(shown)} sign-in dialogs on screen"
        return shown[0] if shown else None

    def wait_open(self, qtbot: QtBot, timeout: int = 10_000) -> SignInDialog:
        qtbot.waitUntil(lambda: self.dialog() is not None, timeout=timeout)
        dialog = self.dialog()
        assert dialog is not None
        return dialog

    def fill(self, app_id: str, app_key: str, port: int) -> None:
        dialog = self.dialog()
        assert dialog is not None
        child(dialog, QLineEdit, "appId").setText(app_id)
        child(dialog, QLineEdit, "appKey").setText(app_key)
        child(dialog, QSpinBox, "callbackPort").setValue(port)

    def click(self, name: str) -> None:
        dialog = self.dialog()
        assert dialog is not None
        button = child(dialog, QAbstractButton, name)
        assert button.isVisible() and button.isEnabled(), name
        button.click()

    def message(self) -> tuple[str, str]:
        dialog = self.dialog()
        assert dialog is not None
        area = child(dialog, QLabel, "signInMessage")
        return str(area.property("kind") or ""), area.text()

    def waiting(self) -> bool:
        dialog = self.dialog()
        return dialog is not None and child(dialog, QLabel, "waitingLabel").isVisible()


def stored(base_url: str) -> Any:
    """What the keyring holds for ``base_url`` (asked from the test thread, bounded by its timeout)."""
    return SignInStore(TokenStore(timeout=10)).load(base_url)


def paths(server: StandinServer) -> list[tuple[str, str, int]]:
    return [(e.method, e.path, e.status) for e in server.request_log()]


def sign_in_with_dialog(
    window: MainWindow, ui: SignInUi, qtbot: QtBot, *, app_key: str = "demo-key", open_dialog: bool = True
) -> None:
    """Open the dialog (unless it is open), type the demo app in, click Sign in, wait for the sign-in."""
    if open_dialog and ui.dialog() is None:
        window.signin.sign_in_action.trigger()
    ui.wait_open(qtbot)
    ui.fill("demo-app", app_key, free_port())
    with qtbot.waitSignal(window.signin.signedIn, timeout=15_000):
        ui.click("signInButton")
    assert ui.dialog() is None
    assert window.token.source() is TokenSource.SIGNED_IN


def find_and_wait(window: MainWindow, qtbot: QtBot, count: int) -> None:
    main = Ui(window)
    main.file_token.setText("demo-workbook")
    main.find_button.click()
    qtbot.waitUntil(lambda: window.browser.stats().loaded == count, timeout=15_000)


# ---- the whole way, with a real keyring -------------------------------------------------------------------


@pytest.mark.keyring_service
def test_sign_in_end_to_end_keyring_transparent_refresh_restart_and_sign_out(
    make_window: MakeWindow,
    standin_factory: Factory,
    small_dataset: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    secret_service: Any,
) -> None:
    server = standin_factory(pictures=6, dataset=small_dataset, auto_consent=True, **FAST)
    base = server.base_url
    token_dialogs = TokenDialogs(monkeypatch)  # there must be none
    window = make_window(base_url=base, token_store=TokenStore(timeout=10))
    ui, main = SignInUi(window), Ui(window)
    window.signin.use_scripted_browser()
    assert not main.account.isVisible()

    window.begin()  # nothing stored: the guided dialog invites the user in
    dialog = ui.wait_open(qtbot)
    assert ui.prompts == [""]
    assert child(dialog, QLabel, "callbackUrl").text() == "http://127.0.0.1:18765/callback"
    assert child(dialog, QLabel, "scopes").text() == "user_basic,access_personal_files"
    sign_in_with_dialog(window, ui, qtbot, open_dialog=False)
    assert ("GET", "/h5/auth", 302) in paths(server)
    assert ("GET", "/api/v1/oauth2/access_token", 200) in paths(server)
    assert main.account.isVisible() and main.account.text() == f"Signed in as {window.signin.user_name()}"
    assert window.signin.user_name()  # the stand-in's nickname, from user/basic
    assert main.token_status.text() == "Token: from your KDocs sign-in"

    # The tokens and the APPKEY are in the real Secret Service.
    qtbot.waitUntil(lambda: "keyring" in main.account.toolTip(), timeout=10_000)
    assert "Secret Service" in main.account.toolTip()
    first = stored(base)
    assert first.status is TokenStatus.STORED
    assert first.sign_in.app.app_id == "demo-app" and first.sign_in.app.app_key == "demo-key"
    assert first.sign_in.tokens.refresh_token
    refresher = window.signin.token_provider().refresher
    assert refresher is not None

    # The access token lives 4 s: it is renewed while the pictures keep loading, and nobody is asked.
    find_and_wait(window, qtbot, 6)
    qtbot.waitUntil(lambda: ("POST", REFRESH_PATH, 200) in paths(server), timeout=20_000)
    calls = server.api_calls_today()
    qtbot.waitUntil(lambda: server.api_calls_today() > calls + 2, timeout=20_000)
    assert refresher.refreshes >= 1
    assert not [e for e in server.request_log() if e.status == 400 and "oauth2" in e.path]

    # Once on 20007: every access token dies at once; the next call is refused, renewed once, retried.
    refreshes = refresher.refreshes
    server.expire_access_tokens()
    qtbot.waitUntil(lambda: refresher.refreshes > refreshes, timeout=20_000)
    calls = server.api_calls_today()
    qtbot.waitUntil(lambda: server.api_calls_today() > calls + 2, timeout=20_000)
    assert window.browser.stats().failed == 0
    assert ui.prompts == [""] and token_dialogs.calls == 0  # the user noticed nothing

    # The renewed tokens went to the keyring too.
    qtbot.waitUntil(lambda: stored(base).sign_in.tokens == refresher.tokens, timeout=10_000)
    window.close()

    # A restart signs in from the keyring, without a dialog.
    again = make_window(base_url=base, token_store=TokenStore(timeout=10))
    again_ui, again_main = SignInUi(again), Ui(again)
    with qtbot.waitSignal(again.signin.signedIn, timeout=15_000):
        again.begin()
    assert again.token.source() is TokenSource.SIGNED_IN
    assert again_main.account.text().startswith("Signed in as ")
    assert again_ui.prompts == []

    # Sign out: both keyring entries go, the window is signed out.
    with qtbot.waitSignal(again.signin.signedOut, timeout=5000):
        again_main.sign_out_button.click()
    assert not again.token.has_token() and not again_main.account.isVisible()
    assert "removed from the keyring" in again_main.message()[1]
    qtbot.waitUntil(lambda: stored(base).status is TokenStatus.NOT_STORED, timeout=10_000)
    app_id, _ = SignInStore(TokenStore(timeout=10)).signed_in_app(base)
    assert app_id is None
    assert again_ui.prompts == []  # signing out does not ask to sign in again


def test_a_revoked_refresh_token_asks_to_sign_in_once_and_keeps_list_and_selection(
    make_window: MakeWindow,
    standin_factory: Factory,
    small_dataset: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    server = standin_factory(pictures=6, dataset=small_dataset, auto_consent=True, **FAST)
    token_dialogs = TokenDialogs(monkeypatch)
    window = make_window(base_url=server.base_url)
    ui, main = SignInUi(window), Ui(window)
    window.signin.use_scripted_browser()
    sign_in_with_dialog(window, ui, qtbot)
    # No keyring here: the sign-in is kept for this session only, and the user is told.
    qtbot.waitUntil(lambda: "this session only" in main.account.toolTip(), timeout=10_000)
    qtbot.waitUntil(lambda: "Keyring unavailable" in main.message()[1], timeout=10_000)

    find_and_wait(window, qtbot, 6)
    browser = window.browser
    refs = [r.ident for r in browser.all_refs()]
    browser.select_refs(refs[1:4])
    qtbot.waitUntil(lambda: len(browser.selected_refs()) == 3, timeout=3000)

    server.revoke_refresh_tokens()
    server.expire_access_tokens()  # the next call needs a refresh, which KDocs refuses
    dialog = ui.wait_open(qtbot, timeout=20_000)
    assert len(ui.prompts) == 2 and "no longer accepts your sign-in" in ui.prompts[1]
    assert "no longer accepts your sign-in" in child(dialog, QLabel, "signInReason").text()
    assert child(dialog, QLineEdit, "appId").text() == "demo-app"  # the APPKEY is known: left empty
    assert child(dialog, QLineEdit, "appKey").text() == ""
    assert [r.ident for r in browser.all_refs()] == refs
    assert [r.ident for r in browser.selected_refs()] == refs[1:4]

    calls = server.api_calls_today()
    child(dialog, QSpinBox, "callbackPort").setValue(free_port())
    with qtbot.waitSignal(window.signin.signedIn, timeout=15_000):
        ui.click("signInButton")
    qtbot.waitUntil(lambda: server.api_calls_today() > calls + 2, timeout=20_000)  # loading resumed
    assert len(ui.prompts) == 2 and token_dialogs.calls == 0  # asked exactly once
    assert [r.ident for r in browser.all_refs()] == refs
    assert [r.ident for r in browser.selected_refs()] == refs[1:4]


def test_a_pasted_address_signs_in_when_the_browser_is_elsewhere(
    make_window: MakeWindow, standin_factory: Factory, qtbot: QtBot, no_keyring: Any
) -> None:
    server = standin_factory(pictures=2, auto_consent=True)
    window = make_window(base_url=server.base_url)
    ui = SignInUi(window)
    elsewhere = NoBrowser()
    window.signin.set_open_url(elsewhere)
    window.signin.sign_in_action.trigger()
    ui.wait_open(qtbot)
    ui.fill("demo-app", "demo-key", free_port())
    ui.click("signInButton")
    qtbot.waitUntil(ui.waiting, timeout=5000)
    assert len(elsewhere.urls) == 1
    landed = consent(elsewhere.urls[0])  # the browser on the other computer: allowed, sent to our callback
    dialog = ui.dialog()
    assert dialog is not None
    child(dialog, QLineEdit, "pastedAddress").setText(landed)
    with qtbot.waitSignal(window.signin.signedIn, timeout=15_000):
        ui.click("usePastedButton")
    assert window.token.source() is TokenSource.SIGNED_IN


# ---- every way it fails: its own words, and nothing stored -------------------------------------------------


def _denied(server: StandinServer, window: MainWindow, ui: SignInUi, qtbot: QtBot) -> str:
    window.signin.use_scripted_browser(allow=False)
    ui.fill("demo-app", "demo-key", free_port())
    ui.click("signInButton")
    return "Access was not allowed in the browser"


def _wrong_app_key(server: StandinServer, window: MainWindow, ui: SignInUi, qtbot: QtBot) -> str:
    window.signin.use_scripted_browser()
    ui.fill("demo-app", "not-the-demo-key", free_port())
    ui.click("signInButton")
    return "KDocs refused the app's credentials: check the APPID and APPKEY"


def _code_expired(server: StandinServer, window: MainWindow, ui: SignInUi, qtbot: QtBot) -> str:
    window.signin.use_scripted_browser()  # the stand-in's codes live 1 ms here: spent before the exchange
    ui.fill("demo-app", "demo-key", free_port())
    ui.click("signInButton")
    return "KDocs did not accept the sign-in code: it expired"


def _port_in_use(server: StandinServer, window: MainWindow, ui: SignInUi, qtbot: QtBot) -> str:
    window.signin.use_scripted_browser()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ui.fill("demo-app", "demo-key", port)
        ui.click("signInButton")
    dialog = ui.dialog()
    assert dialog is not None and child(dialog, QWidget, "advancedBox").isVisible()  # the port field
    return f"Port {port} on 127.0.0.1 is used by another program. Close it, or choose another port"


def _cancel_while_waiting(server: StandinServer, window: MainWindow, ui: SignInUi, qtbot: QtBot) -> str:
    window.signin.set_open_url(NoBrowser())
    port = free_port()
    ui.fill("demo-app", "demo-key", port)
    ui.click("signInButton")
    qtbot.waitUntil(ui.waiting, timeout=5000)
    assert not port_is_free(port)
    ui.click("cancelButton")
    qtbot.waitUntil(lambda: not ui.waiting(), timeout=5000)
    qtbot.waitUntil(lambda: port_is_free(port), timeout=5000)  # the listener is closed
    return "Signing in was cancelled."


def _pasted_with_a_wrong_state(server: StandinServer, window: MainWindow, ui: SignInUi, qtbot: QtBot) -> str:
    window.signin.set_open_url(NoBrowser())
    port = free_port()
    ui.fill("demo-app", "demo-key", port)
    ui.click("signInButton")
    qtbot.waitUntil(ui.waiting, timeout=5000)
    dialog = ui.dialog()
    assert dialog is not None
    child(dialog, QLineEdit, "pastedAddress").setText(f"http://127.0.0.1:{port}/callback?code=abc&state=old")
    ui.click("usePastedButton")
    qtbot.waitUntil(lambda: ui.message()[0] == "error", timeout=5000)
    assert ui.waiting()  # still waiting for the right answer
    return "This answer does not belong to the sign-in in progress"


def _browser_never_came_back(server: StandinServer, window: MainWindow, ui: SignInUi, qtbot: QtBot) -> str:
    window.signin.set_open_url(NoBrowser())
    window.signin.listen_timeout = 0.5
    ui.fill("demo-app", "demo-key", free_port())
    ui.click("signInButton")
    return "The browser did not come back within 0.5 seconds."


FAILURES: dict[str, Callable[[StandinServer, MainWindow, SignInUi, QtBot], str]] = {
    "denied": _denied,
    "wrong_app_key": _wrong_app_key,
    "code_expired": _code_expired,
    "port_in_use": _port_in_use,
    "cancel_while_waiting": _cancel_while_waiting,
    "pasted_with_a_wrong_state": _pasted_with_a_wrong_state,
    "browser_never_came_back": _browser_never_came_back,
}


@pytest.mark.keyring_service
@pytest.mark.parametrize("case", list(FAILURES))
def test_a_failed_sign_in_says_why_and_stores_nothing(
    case: str,
    make_window: MakeWindow,
    standin_factory: Factory,
    qtbot: QtBot,
    secret_service: Any,
) -> None:
    # Denial needs the consent page (Allow/Deny); the others are answered at once.
    config: dict[str, Any] = {"auto_consent": case != "denied"}
    if case == "code_expired":
        config["code_lifetime"] = 0.001
    server = standin_factory(pictures=2, **config)
    window = make_window(base_url=server.base_url, token_store=TokenStore(timeout=10))
    ui = SignInUi(window)
    window.signin.sign_in_action.trigger()
    ui.wait_open(qtbot)
    expected = FAILURES[case](server, window, ui, qtbot)
    qtbot.waitUntil(lambda: expected in ui.message()[1], timeout=15_000)
    assert ui.message()[0] == ("info" if case == "cancel_while_waiting" else "error")
    assert not window.token.has_token() and not window.signin.is_signed_in()
    assert stored(server.base_url).status is TokenStatus.NOT_STORED
    if case != "pasted_with_a_wrong_state":
        assert not ui.waiting()  # back at the form: fix what is wrong, sign in again
    assert ui.dialog() is not None  # the dialog stays, with the message


def test_app_credentials_are_checked_before_anything_starts(
    make_window: MakeWindow, standin_factory: Factory, qtbot: QtBot, no_keyring: Any
) -> None:
    server = standin_factory(pictures=2, auto_consent=True)
    window = make_window(base_url=server.base_url)
    ui = SignInUi(window)
    browser = NoBrowser()
    window.signin.set_open_url(browser)
    window.signin.sign_in_action.trigger()
    ui.wait_open(qtbot)
    ui.fill("demo-app", "", free_port())
    ui.click("signInButton")
    assert ui.message() == ("error", "The APPKEY is empty.")
    ui.fill("demo app", "demo-key", free_port())
    ui.click("signInButton")
    assert ui.message() == ("error", "The APPID contains spaces.")
    assert browser.urls == [] and not ui.waiting()


def test_closing_the_dialog_leaves_a_note_and_no_listener(
    make_window: MakeWindow, standin_factory: Factory, qtbot: QtBot, no_keyring: Any
) -> None:
    """The first-run dialog closed while waiting: the listener closes, the window says how to sign in."""
    server = standin_factory(pictures=2, auto_consent=True)
    window = make_window(base_url=server.base_url)
    ui, main = SignInUi(window), Ui(window)
    window.signin.set_open_url(NoBrowser())
    main.file_token.setText("demo-workbook")
    main.find_button.click()  # no token: asks to sign in
    dialog = ui.wait_open(qtbot)
    port = free_port()
    ui.fill("demo-app", "demo-key", port)
    ui.click("signInButton")
    qtbot.waitUntil(ui.waiting, timeout=5000)
    dialog.close()
    qtbot.waitUntil(lambda: port_is_free(port), timeout=5000)
    assert main.message() == (
        "warning",
        "Not signed in: use Account → Sign in… or File → Set access token…",
    )
    assert not window.signin.is_prompting()


# ---- the canary: the APPKEY and the refresh tokens stay secret ---------------------------------------------


def _visible_texts(window: MainWindow) -> list[str]:
    texts = [window.windowTitle(), window.toolTip(), window.statusBar().currentMessage()]
    for widget in window.findChildren(QWidget):
        texts += [widget.windowTitle(), widget.toolTip(), widget.statusTip(), widget.accessibleName()]
        if isinstance(widget, QLabel | QAbstractButton | QLineEdit):
            texts.append(widget.text())
    return texts


def test_canary_app_key_and_refresh_tokens_never_reach_settings_texts_or_logs(
    make_window: MakeWindow,
    standin_factory: Factory,
    small_dataset: Path,
    settings_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
    no_keyring: Any,
) -> None:
    install_log_redaction()  # as the app does first thing
    caplog.set_level(logging.DEBUG)
    server = standin_factory(pictures=4, dataset=small_dataset, app_key=CANARY_APP_KEY, auto_consent=True)
    window = make_window(base_url=server.base_url)
    ui = SignInUi(window)
    window.signin.use_scripted_browser()

    # A wrong key first: its error must not echo it either.
    window.signin.sign_in_action.trigger()
    ui.wait_open(qtbot)
    ui.fill("demo-app", CANARY_APP_KEY + "-wrong", free_port())
    ui.click("signInButton")
    qtbot.waitUntil(lambda: "refused the app's credentials" in ui.message()[1], timeout=15_000)
    assert CANARY_APP_KEY not in ui.message()[1]
    sign_in_with_dialog(window, ui, qtbot, app_key=CANARY_APP_KEY, open_dialog=False)

    refresher = window.signin.token_provider().refresher
    assert refresher is not None
    secrets = {CANARY_APP_KEY, refresher.tokens.refresh_token}
    server.expire_access_tokens()  # the next call is refused once: a refresh with the APPKEY
    out = tmp_path / "saved"
    FolderChooser(monkeypatch, out)
    find_and_wait(window, qtbot, len(server.pictures()))
    qtbot.waitUntil(lambda: refresher.refreshes >= 1, timeout=10_000)
    secrets.add(refresher.tokens.refresh_token)
    assert len(secrets) == 3  # the key and two refresh tokens (the stand-in rotates them)
    window.browser.select_refs(r.ident for r in window.browser.all_refs())
    qtbot.waitUntil(window.save_action.isEnabled, timeout=3000)
    with qtbot.waitSignal(window.saver.saveFinished, timeout=10_000):
        window.save_action.trigger()
    texts = _visible_texts(window)
    window.close()

    settings = settings_path.read_text(encoding="utf-8")
    assert "app_id=demo-app" in settings  # the APPID is remembered; it is no secret
    for secret in secrets:
        assert all(secret not in text for text in texts)
        assert secret not in settings
        assert secret not in caplog.text
        assert all(secret not in p.name for p in out.iterdir())
        assert all(secret not in e.path for e in server.request_log())


# ---- the callback page speaks the user's language ----------------------------------------------------------


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[None]:
    installed = install_translators(qapp, "zh_CN")
    yield
    for translator in installed:
        qapp.removeTranslator(translator)
    install_translators(qapp, "en")  # resets the core hook: later tests see English
    assert core_i18n._translator is None


def test_the_callback_page_and_the_dialog_speak_chinese(
    chinese: None, make_window: MakeWindow, standin_factory: Factory, qtbot: QtBot, no_keyring: Any
) -> None:
    server = standin_factory(pictures=2, auto_consent=True)
    window = make_window(base_url=server.base_url, language="zh_CN")
    ui = SignInUi(window)
    browser = window.signin.use_scripted_browser()
    pages: list[tuple[int, str]] = []
    browser.visited.connect(lambda status, page: pages.append((status, page)))
    window.signin.sign_in_action.trigger()
    dialog = ui.wait_open(qtbot)
    assert dialog.windowTitle() == "使用金山文档登录"
    ui.fill("demo-app", "demo-key", free_port())
    with qtbot.waitSignal(window.signin.signedIn, timeout=15_000):
        ui.click("signInButton")
    qtbot.waitUntil(lambda: len(pages) == 1, timeout=5000)
    status, page = pages[0]
    assert status == 200
    assert '<html lang="zh-CN">' in page and "登录成功" in page
    assert Ui(window).account.text().startswith("已登录：")


def test_signing_out_while_pictures_are_being_found_asks_nobody_to_sign_in(
    make_window: MakeWindow,
    standin_factory: Factory,
    small_dataset: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    """A find whose answer arrives after the user signed out neither loads nor invites a sign-in: the user
    just left. (The answer is held until the sign-out is done, so the order is certain.)"""
    server = standin_factory(pictures=6, dataset=small_dataset, auto_consent=True)
    token_dialogs = TokenDialogs(monkeypatch)
    found, signed_out = threading.Event(), threading.Event()
    real_find = KDocsClient.find_pictures

    def find_then_wait(self: KDocsClient, file_token: str, **kwargs: Any) -> Any:
        pictures = real_find(self, file_token, **kwargs)  # every call made while signed in
        found.set()
        assert signed_out.wait(10)
        return pictures

    monkeypatch.setattr(KDocsClient, "find_pictures", find_then_wait)
    window = make_window(base_url=server.base_url)
    ui, main = SignInUi(window), Ui(window)
    window.signin.use_scripted_browser()
    sign_in_with_dialog(window, ui, qtbot)
    prompts = list(ui.prompts)
    main.file_token.setText("demo-workbook")
    with qtbot.waitSignal(window.input.findFinished, timeout=15_000):
        main.find_button.click()
        qtbot.waitUntil(found.is_set, timeout=10_000)
        with qtbot.waitSignal(window.signin.signedOut, timeout=5000):
            window.signin.sign_out()
        signed_out.set()
    assert ui.prompts == prompts and token_dialogs.calls == 0
    assert window.browser.stats().pictures == 0
    assert "pic_key" in main.editor.toPlainText()  # what was found is kept, for a Load once signed in

