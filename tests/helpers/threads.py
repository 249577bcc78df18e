"""Threads in tests: ones that end on their own after a close (a bounded wait, then a failure that names
them), and a call run on a thread of its own while the test does something else."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class InThread:
    """``call`` running on a thread of its own from the start; ``result()`` is what it returned or raised."""

    def __init__(self, call: Callable[[], object]) -> None:
        self._outcome: list[object] = []
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], object]) -> None:
        try:
            self._outcome.append(call())
        except BaseException as exc:
            self._outcome.append(exc)

    def result(self, timeout: float = 10.0) -> object:
        """Join (failing when the call has not ended within ``timeout``) and return its outcome."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the call did not end within {timeout} s"
        return self._outcome[0]


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
