"""A monotonic clock the bench can move forward, for simulating an hour of idle browsing in seconds.

The product reads ``time.monotonic()`` through each module's ``time`` global (leases, the lease keeper,
the session). ``FakeClock.install()`` swaps that global in every loaded ``kdocs_viewer`` module for a shim
whose ``monotonic()`` is the real one plus an offset; everything else (``time.time``, ``sleep``) is real.
Qt timers keep real time, so the driver fires the keeper's single refresh timer when the fake clock
reaches it.
"""

from __future__ import annotations

import sys
import time
import types
from typing import Any


class _TimeShim(types.ModuleType):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__("time")
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def monotonic(self) -> float:
        return time.monotonic() + self._clock.offset


class FakeClock:
    def __init__(self) -> None:
        self.offset = 0.0
        self._patched: list[types.ModuleType] = []

    def install(self, prefix: str = "kdocs_viewer") -> None:
        shim = _TimeShim(self)
        for name, module in list(sys.modules.items()):
            if (name == prefix or name.startswith(prefix + ".")) and getattr(module, "time", None) is time:
                module.time = shim  # type: ignore[attr-defined]
                self._patched.append(module)

    def uninstall(self) -> None:
        for module in self._patched:
            module.time = time  # type: ignore[attr-defined]
        self._patched.clear()

    def advance(self, seconds: float) -> None:
        self.offset += max(0.0, seconds)
