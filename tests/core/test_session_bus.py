"""The session-bus probe: real sockets — a real dbus-daemon, silent ones, nothing listening."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kdocs_viewer.core.session_bus import BusProbe, BusState, probe, session_bus_address
from tests.silent_bus import SilentBus

pytest_plugins = ["tests.silent_bus"]

TIMEOUT = 0.5  # the probe's deadline in these tests


@pytest.fixture
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="kdocs-bus-"))  # short: Unix socket paths are limited to ~108 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def dbus_daemon() -> Iterator[str]:
    """A real, private dbus-daemon with the system's session-bus configuration; its address."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("needs dbus-daemon (apt: dbus-daemon)")
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # "Failed to set fd limit" noise as root
        text=True,
    )
    assert daemon.stdout is not None
    try:
        yield daemon.stdout.readline().strip()
    finally:
        daemon.terminate()
        daemon.wait(10)
        daemon.stdout.close()


def test_a_real_bus_answers(dbus_daemon: str) -> None:
    assert probe(dbus_daemon, 5.0) is BusState.ANSWERS


def test_a_bus_that_accepts_and_never_answers_is_silent(silent_bus: SilentBus) -> None:
    assert probe(silent_bus.address, TIMEOUT) is BusState.SILENT
    assert silent_bus.accepted == 1


def test_a_bus_that_logs_in_but_never_answers_hello_is_silent(folder: Path) -> None:
    bus = SilentBus(folder / "bus", auth_ok=True)
    try:
        assert probe(bus.address, TIMEOUT) is BusState.SILENT
    finally:
        bus.stop()


def test_a_bus_that_hangs_up_is_absent(folder: Path) -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(folder / "bus"))
    server.listen(1)

    def hang_up() -> None:
        conn, _ = server.accept()
        conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        assert probe(f"unix:path={folder / 'bus'}", 5.0) is BusState.ABSENT
    finally:
        thread.join(5)
        server.close()


def test_nothing_listening_is_absent_and_the_next_entry_is_tried(folder: Path, silent_bus: SilentBus) -> None:
    nowhere = f"unix:path={folder / 'no-such-socket'}"
    assert probe(nowhere, TIMEOUT) is BusState.ABSENT
    with socket.socket() as spare:  # a loopback port nobody listens on
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    assert probe(f"tcp:host=127.0.0.1,port={port}", TIMEOUT) is BusState.ABSENT
    assert probe(f"{nowhere};{silent_bus.address}", TIMEOUT) is BusState.SILENT


def test_addresses_it_cannot_try_are_unknown() -> None:
    assert probe(None, TIMEOUT) is BusState.ABSENT
    assert probe("", TIMEOUT) is BusState.ABSENT
    assert probe("disabled:", TIMEOUT) is BusState.UNKNOWN
    assert probe("launchd:env=DBUS_LAUNCHD_SESSION_BUS_SOCKET", TIMEOUT) is BusState.UNKNOWN


def test_escaped_paths_are_unescaped(folder: Path) -> None:
    bus = SilentBus(folder / "a bus,1")
    try:
        assert probe(f"unix:path={folder}/a%20bus%2c1,guid=0123", TIMEOUT) is BusState.SILENT
    finally:
        bus.stop()


def test_the_probe_runs_in_the_background(silent_bus: SilentBus) -> None:
    assert BusProbe(silent_bus.address, TIMEOUT).result() is BusState.SILENT
    assert BusProbe(None, TIMEOUT).result() is BusState.ABSENT


def test_hello_is_the_message_another_implementation_writes() -> None:
    jeepney = pytest.importorskip("jeepney.bus_messages")
    from kdocs_viewer.core.session_bus import _HELLO

    assert jeepney.message_bus.Hello().serialise(serial=1) == _HELLO


def test_the_address_is_the_one_libdbus_would_use(folder: Path) -> None:
    assert session_bus_address({"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}) == "unix:path=/x"
    assert session_bus_address({"XDG_RUNTIME_DIR": str(folder)}) is None  # no socket there
    (folder / "bus").write_text("not a socket")
    assert session_bus_address({"XDG_RUNTIME_DIR": str(folder)}) is None
    os.remove(folder / "bus")
    bus = SilentBus(folder / "bus")
    try:
        assert session_bus_address({"XDG_RUNTIME_DIR": str(folder)}) == f"unix:path={folder / 'bus'}"
    finally:
        bus.stop()
    assert session_bus_address({}) is None
