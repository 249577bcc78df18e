"""A D-Bus session bus stand-in that accepts connections and never answers (or answers only the login).

Used by the probe's own tests and by the test that starts the whole viewer against such a bus. Test modules
import ``SilentBus`` and load the fixture with ``pytest_plugins``; assertion rewriting is off here
(PYTEST_DONT_REWRITE), so importing it before pytest registers it as a plugin is harmless.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["SilentBus", "silent_bus"]


class SilentBus:
    """A Unix socket that accepts every connection; with ``auth_ok`` it answers the SASL login with ``OK``
    (as a bus does) and then says nothing more, else it never sends a byte."""

    def __init__(self, path: Path, *, auth_ok: bool = False) -> None:
        self.path = path
        self.address = f"unix:path={path}"
        self.accepted = 0
        self._auth_ok = auth_ok
        self._held: list[socket.socket] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(16)
        self._thread = threading.Thread(target=self._accept, name="silent-bus", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed by stop()
            self._held.append(conn)
            self.accepted += 1
            if self._auth_ok:
                data = b""
                while b"\r\n" not in data:
                    chunk = conn.recv(256)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")

    def stop(self) -> None:
        self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._thread.join(5)
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent_bus() -> Iterator[SilentBus]:
    folder = Path(tempfile.mkdtemp(prefix="kdocs-bus-"))  # short: Unix socket paths are limited to ~108 bytes
    bus = SilentBus(folder / "bus")
    yield bus
    bus.stop()
    shutil.rmtree(folder, ignore_errors=True)
