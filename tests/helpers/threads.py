"""Threads that end on their own after a close: a bounded wait, then a failure that names them."""

from __future__ import annotations

import threading
import time


def wait_threads_end(prefix: str, timeout: float = 5.0) -> None:
    """Wait until no thread whose name starts with ``prefix`` is alive; fail naming them after ``timeout``.

    For workers a close tells to stop but does not join (``LeaseBatcher`` resolvers: a call on the wire is not
    waited for). Idle, they end at once."""
    deadline = time.monotonic() + timeout
    while (left := [t.name for t in threading.enumerate() if t.name.startswith(prefix)]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert not left, f"threads still alive {timeout} s after close(): {left}"
