"""kdocs-pics login / logout / whoami / files as real subprocesses against the stand-in, with a real Secret
Service. The "browser" is a test double that loads the printed authorization URL at the stand-in (Allow or
Deny on its consent page, or auto-consent) and follows the redirect to the CLI's loopback listener."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import keyring
import pytest
from keyring.backend import KeyringBackend

from kdocs_viewer.core.secrets import SERVICE_NAME
from kdocs_viewer.standin.browser import consent
from kdocs_viewer.standin.oauth import DEMO_WORKBOOK_NAME, USER_NICKNAME
from kdocs_viewer.standin.server import StandinServer
from tests.conftest import CANARY_APP_KEY
from tests.e2e.test_cli import ROOT, Run, cli_env, run_cli

Factory = Callable[..., StandinServer]
APP_ID = "demo-app"
APP_KEY = "demo-key"


@pytest.fixture
def env(secret_service: KeyringBackend) -> dict[str, str]:
    """The CLI's environment, with the test's private Secret Service as its keyring."""
    return cli_env(
        DBUS_SESSION_BUS_ADDRESS=os.environ["DBUS_SESSION_BUS_ADDRESS"],
        PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring",
    )


@dataclass
class Login:
    """A running `kdocs-pics login`: its first stdout line, then its end."""

    proc: subprocess.Popen[bytes]
    first_line: list[str]

    @property
    def url(self) -> str:
        assert self.first_line and self.first_line[0], "login printed no authorization URL"
        return self.first_line[0].strip()

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def finish(self) -> Run:
        out, err = self.proc.communicate(timeout=60)
        return Run(self.proc.returncode, self.first_line[0] + out.decode(), err.decode("utf-8", "replace"))


def start_login(server: StandinServer, env: dict[str, str], *args: str, key: str | None = APP_KEY) -> Login:
    command = [sys.executable, "-m", "kdocs_viewer.cli", "login", "--base-url", server.base_url]
    command += ["--app-id", APP_ID, "--no-browser", *args]
    if key is not None:
        command.append("--app-key-stdin")
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    login = Login(proc, [])
    if key is not None:
        login.send(key)
    reader = threading.Thread(target=lambda: login.first_line.append(proc.stdout.readline().decode()))  # type: ignore[union-attr]
    reader.start()
    reader.join(30)
    return login


def sign_in(server: StandinServer, env: dict[str, str], *args: str) -> Run:
    """A whole login through the browser double (Allow) and the CLI's listener."""
    login = start_login(server, env, "--port", "0", *args)
    assert httpx.get(consent(login.url)).status_code == 200
    return login.finish()


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(params)}"


def stored_sign_in(server: StandinServer) -> dict[str, object]:
    secret = keyring.get_password(SERVICE_NAME, f"{server.base_url} oauth {APP_ID}")
    assert secret is not None
    data: dict[str, object] = json.loads(secret)
    return data


def oauth_calls(server: StandinServer) -> list[tuple[str, int]]:
    return [(e.path.rsplit("/", 1)[-1], e.status) for e in server.request_log() if "/oauth2/" in e.path]


@pytest.fixture
def server(standin_factory: Factory) -> StandinServer:
    return standin_factory(pictures=12, workbooks=6)


# ---- the happy path ----------------------------------------------------------------------------------------


@pytest.mark.keyring_service
def test_login_whoami_files_scan_logout(server: StandinServer, env: dict[str, str]) -> None:
    login = sign_in(server, env)
    assert login.code == 0, login.err
    first, *rest = login.out.splitlines()
    assert first.startswith(server.base_url + "/h5/auth?") and rest == []  # the URL is the first line
    assert set(query(first)) == {"app_id", "scope", "redirect_uri", "state"}
    assert f"signed in as {USER_NICKNAME} with app {APP_ID}" in login.err
    assert "Secret Service" in login.err
    assert stored_sign_in(server)["app_key"] == APP_KEY

    base = ["--base-url", server.base_url]
    whoami = run_cli("whoami", *base, env=env)
    assert whoami.code == 0, whoami.err
    record = json.loads(whoami.out)
    assert record["nickname"] == USER_NICKNAME and record["signed_in"] is True
    assert record["expires_at"].endswith("Z")

    files = run_cli("files", *base, env=env)
    assert files.code == 0, files.err
    items = [json.loads(line) for line in files.out.splitlines()]
    assert items[0]["file_token"] == "demo-workbook" and items[0]["name"] == DEMO_WORKBOOK_NAME
    assert all({"file_token", "name", "mtime"} <= set(item) for item in items)
    own = [
        f for f in server.user_files() if f.ftype == "file" and f.ext in ("xlsx", "xlsm", "xls", "et", "ets")
    ]
    assert [i["file_token"] for i in items] == [f.file_token for f in own]

    recent = run_cli("files", "--recent", "--query", "demo WORKBOOK", *base, env=env)
    assert [json.loads(line)["name"] for line in recent.out.splitlines()] == [DEMO_WORKBOOK_NAME]
    recent_all = [json.loads(line) for line in run_cli("files", "--recent", *base, env=env).out.splitlines()]
    assert len(recent_all) == 6 and all(not i["name"].endswith((".docx", ".pdf")) for i in recent_all)

    scan = run_cli("scan", *base, "--file-token", "demo-workbook", env=env)  # no token given: the sign-in's
    assert scan.code == 0, scan.err
    assert "found 12 pictures" in scan.err

    logout = run_cli("logout", *base, env=env)
    assert logout.code == 0 and f"signed out of app {APP_ID}" in logout.err
    after = run_cli("whoami", *base, env=env)
    assert after.code == 3 and "no access token" in after.err and "kdocs-pics login" in after.err
    assert keyring.get_password(SERVICE_NAME, f"{server.base_url} oauth {APP_ID}") is None


@pytest.mark.keyring_service
def test_env_and_stdin_tokens_come_before_the_sign_in(server: StandinServer, env: dict[str, str]) -> None:
    assert sign_in(server, env).code == 0
    base = ["--base-url", server.base_url]
    forced = run_cli("whoami", *base, env={**env, "KDOCS_ACCESS_TOKEN": "not-accepted"})
    assert forced.code == 3  # the given token was used (and refused), not the sign-in
    given = run_cli("whoami", *base, "--token-stdin", stdin="demo-token", env=env)
    assert given.code == 0 and json.loads(given.out)["signed_in"] is False
    run_cli("logout", *base, env=env)


@pytest.mark.keyring_service
def test_paste_mode(server: StandinServer, env: dict[str, str]) -> None:
    login = start_login(server, env, "--paste", "--port", "18765")
    login.send(consent(login.url))  # nothing listens on 18765: the browser's address is copied instead
    run = login.finish()
    assert run.code == 0, run.err
    assert "paste that whole address" in run.err
    run_cli("logout", "--base-url", server.base_url, env=env)


# ---- expiry, renewal, revocation ---------------------------------------------------------------------------


@pytest.mark.keyring_service
def test_tokens_are_renewed_transparently_and_a_revoked_sign_in_asks_again(
    standin_factory: Factory, env: dict[str, str]
) -> None:
    server = standin_factory(pictures=12, token_lifetime=400, time_scale=0.005)  # access tokens live 2 s
    assert sign_in(server, env).code == 0
    base = ["--base-url", server.base_url]
    first_refresh_token = stored_sign_in(server)["refresh_token"]

    while server.live_access_tokens():  # the signed-in token runs out
        time.sleep(0.05)
    scan = run_cli("scan", *base, "--file-token", "demo-workbook", env=env)
    assert scan.code == 0, scan.err
    assert oauth_calls(server) == [("access_token", 200), ("refresh_token", 200)]
    assert 401 not in [e.status for e in server.request_log()]  # renewed before the call, not after a refusal
    assert stored_sign_in(server)["refresh_token"] != first_refresh_token  # the rotated one was stored

    # Refused although not yet expired by our clock (revoked on the server side): renewed once on 20007.
    server.expire_access_tokens()
    whoami = run_cli("whoami", *base, env=env)
    assert whoami.code == 0, whoami.err
    assert oauth_calls(server)[-1] == ("refresh_token", 200)

    server.revoke_refresh_tokens()
    server.expire_access_tokens()
    refused = run_cli("files", *base, env=env)
    assert refused.code == 3
    assert "expired or was revoked" in refused.err and f"kdocs-pics login --app-id {APP_ID}" in refused.err
    run_cli("logout", *base, env=env)


# ---- what goes wrong ---------------------------------------------------------------------------------------


@pytest.mark.keyring_service
def test_a_wrong_state_is_refused_and_the_login_waits_on(server: StandinServer, env: dict[str, str]) -> None:
    login = start_login(server, env, "--port", "0")
    target = consent(login.url)
    forged = httpx.get(with_query(target, code=query(target)["code"], state="forged-state"))
    assert forged.status_code == 400 and "out of date" in forged.text
    assert login.proc.poll() is None  # still waiting
    assert httpx.get(target).status_code == 200
    run = login.finish()
    assert run.code == 0, run.err
    run_cli("logout", "--base-url", server.base_url, env=env)


@pytest.mark.keyring_service
def test_a_pasted_address_with_a_wrong_state_exits_2(server: StandinServer, env: dict[str, str]) -> None:
    login = start_login(server, env, "--paste", "--port", "18765")
    target = consent(login.url)
    login.send(with_query(target, code=query(target)["code"], state="someone-elses"))
    run = login.finish()
    assert run.code == 2
    assert "state does not match" in run.err
    assert keyring.get_password(SERVICE_NAME, f"{server.base_url} oauth") is None


@pytest.mark.keyring_service
def test_a_reused_code_exits_3(server: StandinServer, env: dict[str, str]) -> None:
    first = start_login(server, env, "--paste", "--port", "18765")
    used = consent(first.url)
    first.send(used)
    assert first.finish().code == 0
    again = start_login(server, env, "--paste", "--port", "18765")
    again.send(with_query(used, code=query(used)["code"], state=query(again.url)["state"]))
    run = again.finish()
    assert run.code == 3
    assert "expired" in run.err and "used already" in run.err
    run_cli("logout", "--base-url", server.base_url, env=env)


@pytest.mark.keyring_service
def test_denial_exits_3_and_stores_nothing(server: StandinServer, env: dict[str, str]) -> None:
    login = start_login(server, env, "--port", "0")
    page = httpx.get(consent(login.url, allow=False))
    assert "You are not signed in" in page.text
    run = login.finish()
    assert run.code == 3 and "not allowed" in run.err
    assert keyring.get_password(SERVICE_NAME, f"{server.base_url} oauth") is None


@pytest.mark.keyring_service
def test_no_browser_coming_back_times_out(server: StandinServer, env: dict[str, str]) -> None:
    run = start_login(server, env, "--port", "0", "--timeout", "0.5").finish()
    assert run.code == 3
    assert "did not come back within 0.5 seconds" in run.err


@pytest.mark.keyring_service
def test_a_port_in_use_exits_4_before_printing_anything(server: StandinServer, env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        run = run_cli(
            "login", "--base-url", server.base_url, "--app-id", APP_ID, "--app-key-stdin", "--no-browser",
            "--port", port, stdin=APP_KEY + "\n", env=env,
        )  # fmt: skip
    assert run.code == 4
    assert run.out == "" and f"Port {port}" in run.err


def test_usage_errors(server: StandinServer) -> None:
    base = ["login", "--base-url", server.base_url, "--app-id", APP_ID, "--no-browser"]
    no_key = run_cli(*base, stdin="")
    assert no_key.code == 2 and "--app-key-stdin" in no_key.err and "KDOCS_APP_KEY" in no_key.err
    paste_any_port = run_cli(*base, "--paste", "--port", "0", "--app-key-stdin", stdin=APP_KEY)
    assert paste_any_port.code == 2
    bad_id = run_cli(
        "login", "--base-url", server.base_url, "--app-id", "a b", "--app-key-stdin", stdin="k\n"
    )
    assert bad_id.code == 2 and "APPID" in bad_id.err


def test_without_a_keyring_the_login_stores_nothing_anywhere(server: StandinServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = cli_env(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    run = start_login(server, env, "--port", "0").finish()
    assert run.code == 4
    assert run.out == ""  # said before the user goes through the browser for nothing
    assert "could not be kept" in run.err and "no keyring backend" in run.err
    assert not any(p.is_file() for p in home.rglob("*"))


# ---- the canary --------------------------------------------------------------------------------------------


@pytest.mark.keyring_service
def test_the_app_key_and_the_tokens_never_leak(standin_factory: Factory, env: dict[str, str]) -> None:
    server = standin_factory(pictures=6, app_key=CANARY_APP_KEY, token_lifetime=400, time_scale=0.005)
    base = ["--base-url", server.base_url, "--verbose"]
    runs: list[Run] = []
    login = start_login(server, env, "--port", "0", "--verbose", key=CANARY_APP_KEY)
    callback = httpx.get(consent(login.url))
    runs.append(login.finish())
    assert runs[-1].code == 0, runs[-1].err
    first = stored_sign_in(server)
    secrets = {CANARY_APP_KEY, str(first["access_token"]), str(first["refresh_token"])}

    while server.live_access_tokens():  # let the token run out: the next command renews it
        time.sleep(0.05)
    runs.append(run_cli("files", *base, env=env))
    renewed = stored_sign_in(server)
    secrets.update({str(renewed["access_token"]), str(renewed["refresh_token"])})
    runs.append(run_cli("whoami", *base, env=env))
    wrong_key = start_login(server, env, "--port", "0", "--verbose", key=CANARY_APP_KEY + "-wrong")
    httpx.get(consent(wrong_key.url))
    runs.append(wrong_key.finish())
    assert runs[-1].code == 3 and "APPKEY" in runs[-1].err
    server.revoke_refresh_tokens()
    server.expire_access_tokens()
    runs.append(run_cli("scan", *base, "--file-token", "demo-workbook", env=env))
    assert runs[-1].code == 3
    assert all("DEBUG" in run.err for run in runs[1:3])  # verbose logging really was on

    assert len(secrets) == 5
    for run in runs:
        for secret in secrets:
            assert secret not in run.both
        assert "app_key=" not in run.err.replace("app_key=…", "")
    for secret in secrets:
        assert secret not in callback.text
        assert secret not in repr(server.request_log())
    run_cli("logout", "--base-url", server.base_url, env=env)


def test_module_entry_point_shares_one_cli_module() -> None:
    """`python -m kdocs_viewer.cli` runs the imported module's main (cli_auth shares its state)."""
    proc = subprocess.run(
        [sys.executable, "-m", "kdocs_viewer.cli", "logout", "--base-url", "http://127.0.0.1:9"],
        capture_output=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 4  # the keyring is the fail backend: a clean CliError, not a traceback
    assert b"Traceback" not in proc.stderr and b"no keyring backend" in proc.stderr
