"""Does the D-Bus session bus answer? Asked once, with a deadline, before Qt starts.

Qt connects to the session bus on the GUI thread and waits for it without a timeout: under X11 the first
widget asks for the accessibility bridge, which asks for the bus, and platform themes and input methods do
the same. A bus that accepts connections but never answers (a wedged or half-dead daemon, a stale socket
someone else serves) therefore freezes the program before its window appears. ``probe`` does what libdbus
does when it connects — connect, authenticate, say ``Hello`` — but gives up at a deadline, so the caller can
start Qt without the bus (``DISABLED_ADDRESS``) instead of hanging.

A bus that is simply not there is left alone: libdbus fails at once by itself then. Plain Python, no Qt.
"""

from __future__ import annotations

import os
import socket
import stat
import struct
import threading
import time
from collections.abc import Mapping
from enum import Enum
from urllib.parse import unquote

__all__ = ["DISABLED_ADDRESS", "BusProbe", "BusState", "probe", "session_bus_address"]

# An address of no transport at all: libdbus (under Qt) and jeepney (under keyring) refuse it at once as an
# unknown address type, so every D-Bus client fails fast instead of waiting. (An unset variable would not do:
# libdbus then falls back to $XDG_RUNTIME_DIR/bus or X11 autolaunch.)
DISABLED_ADDRESS = "disabled:"


class BusState(Enum):
    ANSWERS = "answers"
    ABSENT = "absent"  # no address, nothing listening, or it hung up: D-Bus clients fail fast by themselves
    SILENT = "silent"  # accepted, then said nothing before the deadline: D-Bus clients would wait forever
    UNKNOWN = "unknown"  # only transports this probe cannot try (launchd:, unixexec:, nonce-tcp:, …)


def session_bus_address(environ: Mapping[str, str] = os.environ) -> str | None:
    """The address libdbus would use: ``DBUS_SESSION_BUS_ADDRESS``, else ``$XDG_RUNTIME_DIR/bus`` when that
    is a socket; None when neither (libdbus then tries X11 autolaunch, which this probe leaves alone)."""
    address = environ.get("DBUS_SESSION_BUS_ADDRESS")
    if address is not None:
        return address
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime:
        path = os.path.join(runtime, "bus")
        try:
            if stat.S_ISSOCK(os.stat(path).st_mode):
                return "unix:path=" + path
        except OSError:
            pass
    return None


def probe(address: str | None, timeout: float) -> BusState:
    """Try ``address`` (each of its ``;``-separated entries in turn, as libdbus does) until one connects,
    then authenticate and send ``Hello``; SILENT if no answer comes within ``timeout`` seconds in all."""
    if address is None:
        return BusState.ABSENT
    deadline = time.monotonic() + timeout
    unknown = False
    for entry in address.split(";"):
        target = _socket_target(entry.strip())
        if target is None:
            unknown = unknown or bool(entry.strip())
            continue
        family, where = target
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            try:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                sock.connect(where)
            except TimeoutError:
                return BusState.SILENT  # a listen queue that never accepts
            except OSError:
                continue  # nothing there: libdbus moves on to the next entry too
            return _handshake(sock, deadline)
        finally:
            sock.close()
    return BusState.UNKNOWN if unknown else BusState.ABSENT


class BusProbe:
    """``probe`` on a daemon thread, so it overlaps the Qt imports; ``result`` waits for the rest of the
    deadline at most and calls a probe that is still running SILENT."""

    def __init__(self, address: str | None, timeout: float) -> None:
        self._timeout = timeout
        self._started = time.monotonic()
        self._state: BusState | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(address,), name="kdocs-bus-probe", daemon=True
        )
        self._thread.start()

    def _run(self, address: str | None) -> None:
        try:
            self._state = probe(address, self._timeout)
        except Exception:
            self._state = BusState.UNKNOWN  # a probe that cannot tell must not change what Qt does
        finally:
            self._done.set()

    def result(self) -> BusState:
        remaining = self._timeout + 0.5 - (time.monotonic() - self._started)
        if not self._done.wait(max(0.0, remaining)):
            return BusState.SILENT
        assert self._state is not None
        return self._state


def _socket_target(entry: str) -> tuple[socket.AddressFamily, str | bytes | tuple[str, int]] | None:
    """Where a ``unix:`` or ``tcp:`` address entry points, or None for other transports and bad entries."""
    transport, _, rest = entry.partition(":")
    keys: dict[str, str] = {}
    for pair in rest.split(","):
        key, eq, value = pair.partition("=")
        if eq:
            keys[key] = unquote(value)
    if transport == "unix" and hasattr(socket, "AF_UNIX"):
        if "path" in keys:
            return socket.AF_UNIX, keys["path"]
        if "abstract" in keys:
            return socket.AF_UNIX, b"\0" + keys["abstract"].encode()
        if keys.get("runtime") == "yes" and os.environ.get("XDG_RUNTIME_DIR"):
            return socket.AF_UNIX, os.path.join(os.environ["XDG_RUNTIME_DIR"], "bus")
        return None
    if transport == "tcp" and "host" in keys and keys.get("port", "").isdigit():
        family = socket.AF_INET6 if keys.get("family") == "ipv6" else socket.AF_INET
        return family, (keys["host"], int(keys["port"]))
    return None


def _handshake(sock: socket.socket, deadline: float) -> BusState:
    """SASL EXTERNAL (or whatever the bus answers instead), BEGIN, Hello: ANSWERS once any reply arrives."""
    uid = str(os.getuid()).encode().hex() if hasattr(os, "getuid") else ""
    try:
        _send(sock, b"\0AUTH EXTERNAL " + uid.encode() + b"\r\n", deadline)
        line = _receive(sock, deadline, until=b"\r\n")
        if not line.startswith(b"OK "):
            return BusState.ANSWERS  # REJECTED or an error: it answers; libdbus tries other mechanisms
        _send(sock, b"BEGIN\r\n" + _HELLO, deadline)
        reply = _receive(sock, deadline, size=16)
    except TimeoutError:
        return BusState.SILENT
    except OSError:
        return BusState.ABSENT  # reset or closed: clients fail fast here too
    return BusState.ANSWERS if len(reply) >= 2 and reply[:1] in (b"l", b"B") else BusState.ABSENT


def _send(sock: socket.socket, data: bytes, deadline: float) -> None:
    sock.settimeout(max(0.001, deadline - time.monotonic()))
    sock.sendall(data)


def _receive(sock: socket.socket, deadline: float, *, until: bytes = b"", size: int = 0) -> bytes:
    """Bytes until ``until`` is seen or ``size`` bytes came; short when the peer closes."""
    data = b""
    while (until and until not in data) or (size and len(data) < size):
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _hello_message() -> bytes:
    """``org.freedesktop.DBus.Hello`` as a little-endian D-Bus method call with serial 1 and no body."""
    fields = b""
    for code, kind, value in (
        (1, b"o", "/org/freedesktop/DBus"),  # PATH
        (2, b"s", "org.freedesktop.DBus"),  # INTERFACE
        (3, b"s", "Hello"),  # MEMBER
        (6, b"s", "org.freedesktop.DBus"),  # DESTINATION
    ):
        fields += b"\0" * (-len(fields) % 8)  # each (yv) struct starts on an 8-byte boundary
        text = value.encode()
        fields += struct.pack("<B", code) + b"\1" + kind + b"\0" + struct.pack("<I", len(text)) + text + b"\0"
    header = b"l\1\0\1" + struct.pack("<III", 0, 1, len(fields)) + fields
    return header + b"\0" * (-len(header) % 8)


_HELLO = _hello_message()
