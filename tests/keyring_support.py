"""Keyring fixtures for every test (loaded by the root conftest): a real Secret Service and broken ones.

- ``secret_service`` — a REAL Secret Service: gnome-keyring on a private D-Bus session bus, unlocked, with
  its data in a throw-away folder. The daemons start once per test session (``secret_service_daemons``);
  each test that asks for ``secret_service`` gets ``DBUS_SESSION_BUS_ADDRESS`` pointed at that bus and
  keyring's backend set to ``SecretService.Keyring`` only for its own duration, so the rest of the suite
  (Qt included) never sees the private bus.
- ``no_keyring`` — keyring's ``fail`` backend, as on a headless machine with no keyring at all.
- ``hanging_keyring`` — a backend whose every call blocks until the test ends, as a Secret Service that
  waits on an invisible unlock prompt does.

Outside these fixtures keyring's backend is its ``fail`` one, set for the whole session before any test
runs (``keyring_of_no_one``): no test reaches the keyring of whoever runs the suite, and keyring never goes
looking for a backend itself (that may probe D-Bus and hang). Each fixture swaps its backend in with
keyring's public ``set_keyring`` and puts the previous one back, and waits for the ``TokenStore`` worker
threads it made hang, so no thread outlives it.

Test modules may also import its helpers directly; assertion rewriting is off here (PYTEST_DONT_REWRITE) so
that importing it before pytest registers it as a plugin is harmless.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.compat import properties

from kdocs_viewer.core.secrets import WORKER_THREAD_PREFIX

__all__ = [
    "HangingKeyring",
    "SecretServiceDaemons",
    "hanging_keyring",
    "keyring_of_no_one",
    "no_keyring",
    "secret_service",
    "secret_service_daemons",
    "swap_keyring",
]

B = TypeVar("B", bound=KeyringBackend)

SECRETS_NAME = "org.freedesktop.secrets"
_START_TIMEOUT = 15.0
_KEYRING_PASSWORD = b"kdocs-viewer-test-keyring"

# A bus of our own: no service activation (a second, *locked* gnome-keyring could otherwise be activated
# before ours owns the name), nothing of the user's session.
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={socket_dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@pytest.fixture(scope="session", autouse=True)
def keyring_of_no_one() -> Iterator[KeyringBackend]:
    """keyring's ``fail`` backend for the whole session, unless a fixture below swaps in another."""
    backend = fail.Keyring()
    keyring.set_keyring(backend)
    yield backend


@contextlib.contextmanager
def swap_keyring(backend: B) -> Iterator[B]:
    """Set keyring's backend for a block, then put back the one that was there. ``get_keyring`` only reads
    it: ``keyring_of_no_one`` chose one before any test ran."""
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def wait_for_keyring_workers(timeout: float = 5.0) -> None:
    """Join TokenStore worker threads still running (after a hang was released)."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name.startswith(WORKER_THREAD_PREFIX):
            thread.join(max(0.0, deadline - time.monotonic()))


# --- no keyring ------------------------------------------------------------------------------------------


@pytest.fixture
def no_keyring() -> Iterator[KeyringBackend]:
    """keyring's ``fail`` backend: every call raises NoKeyringError."""
    with swap_keyring(fail.Keyring()) as backend:
        yield backend


# --- a keyring that never answers ------------------------------------------------------------------------


class HangingKeyring(KeyringBackend):
    """Every call blocks until ``release`` is set, then answers "nothing stored"."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test-only backend: never chosen automatically")

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()
        self.calls = 0

    def _block(self) -> None:
        self.calls += 1
        self.entered.set()
        self.release.wait(60)

    def get_password(self, service: str, username: str) -> str | None:
        self._block()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._block()

    def delete_password(self, service: str, username: str) -> None:
        self._block()


@pytest.fixture
def hanging_keyring() -> Iterator[HangingKeyring]:
    """A keyring whose calls hang until the test is over; released and joined at teardown."""
    backend = HangingKeyring()
    try:
        with swap_keyring(backend):
            yield backend
    finally:
        backend.release.set()
        wait_for_keyring_workers()


# --- a real Secret Service -------------------------------------------------------------------------------


@dataclass
class SecretServiceDaemons:
    """A private session bus with an unlocked gnome-keyring on it."""

    address: str
    root: Path
    dbus: subprocess.Popen[bytes]
    keyring_daemon: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)  # what a test process needs to see this bus

    def stop(self) -> None:
        for proc in (self.keyring_daemon, self.dbus):
            _stop(proc)
        shutil.rmtree(self.root, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _secret_service_ready(address: str) -> bool:
    """The secrets name is owned on ``address`` and its default collection is unlocked."""
    import secretstorage
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    try:
        conn = open_dbus_connection(bus=address)
    except Exception:
        return False
    try:
        bus = DBusAddress(
            "/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus"
        )
        reply = conn.send_and_get_reply(new_method_call(bus, "NameHasOwner", "s", (SECRETS_NAME,)), timeout=2)
        if not reply.body[0]:
            return False
        collection = secretstorage.get_default_collection(conn)
        return not collection.is_locked()
    except Exception:
        return False
    finally:
        conn.close()


def _read_address(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """The first stdout line of ``dbus-daemon --print-address=1``, without blocking forever."""
    box: dict[str, bytes] = {}
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: box.setdefault("line", stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    line = box.get("line", b"").decode().strip()
    if not line:
        raise RuntimeError("dbus-daemon printed no address")
    return line


def start_secret_service() -> SecretServiceDaemons:
    """Start dbus-daemon and an unlocked gnome-keyring-daemon (secrets component) on it; wait until ready."""
    root = Path(tempfile.mkdtemp(prefix="kdocs-kr-"))  # short: unix socket paths are limited to ~108 bytes
    socket_dir = root / "run"
    socket_dir.mkdir(mode=0o700)
    for sub in ("data", "config", "cache"):
        (root / sub).mkdir(mode=0o700)
    config = root / "bus.conf"
    config.write_text(_BUS_CONFIG.format(socket_dir=socket_dir), encoding="utf-8")

    dbus = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # "Failed to set fd limit" noise as root
    )
    try:
        address = _read_address(dbus, _START_TIMEOUT)
    except Exception:
        _stop(dbus)
        shutil.rmtree(root, ignore_errors=True)
        raise

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    # No display: a locked keyring must fail fast instead of waiting on an invisible unlock prompt.
    env.update(
        DBUS_SESSION_BUS_ADDRESS=address,
        XDG_RUNTIME_DIR=str(socket_dir),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_CACHE_HOME=str(root / "cache"),
        HOME=str(root),
    )
    daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert daemon.stdin is not None
    daemon.stdin.write(_KEYRING_PASSWORD)
    daemon.stdin.close()
    daemons = SecretServiceDaemons(address, root, dbus, daemon, {"DBUS_SESSION_BUS_ADDRESS": address})

    deadline = time.monotonic() + _START_TIMEOUT
    while not _secret_service_ready(address):
        if daemon.poll() is not None or time.monotonic() > deadline:
            err = b""
            if daemon.poll() is not None and daemon.stderr is not None:
                err = daemon.stderr.read()
            daemons.stop()
            raise RuntimeError(f"gnome-keyring-daemon did not come up: {err.decode(errors='replace')[-500:]}")
        time.sleep(0.05)
    return daemons


@pytest.fixture(scope="session")
def secret_service_daemons() -> Iterator[SecretServiceDaemons]:
    """dbus-daemon + unlocked gnome-keyring, once per test session; stopped by PID at the end."""
    missing = [name for name in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(name) is None]
    if missing:
        pytest.skip(f"a real Secret Service needs {' and '.join(missing)} (apt: dbus-daemon gnome-keyring)")
    daemons = start_secret_service()
    try:
        yield daemons
    finally:
        daemons.stop()


@pytest.fixture
def secret_service(secret_service_daemons: SecretServiceDaemons) -> Iterator[KeyringBackend]:
    """keyring's real ``SecretService.Keyring`` talking to the private gnome-keyring, for this test only."""
    from keyring.backends import SecretService

    saved: dict[str, Any] = {k: os.environ.get(k) for k in secret_service_daemons.env}
    os.environ.update(secret_service_daemons.env)
    try:
        with swap_keyring(SecretService.Keyring()) as backend:
            yield backend
    finally:
        wait_for_keyring_workers()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
