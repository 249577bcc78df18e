"""Benchmark sizes and the context every scenario receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.dataset import FULL, TINY, DatasetSpec

LATENCY_MS = 40.0  # realistic round trip to the API and the picture host


@dataclass(frozen=True)
class Size:
    """How big each scenario is. ``full`` is the issue's numbers; ``tiny`` only proves the bench runs."""

    name: str
    dataset: DatasetSpec
    runs: int
    resolve_pics: int
    idle_seconds: float  # real seconds of idle in which no API call may happen
    simulated_idle: float  # seconds of idle simulated with the fake clock (per-hour figure scaled from it)
    open_pics: int
    scroll_pics: int
    scroll_seconds: float  # top to bottom at a steady rate
    pages: int  # page-downs at reading pace before the drag
    save_pics: int
    startup_runs: int
    gui_timeout: float  # give up waiting for tiles after this many seconds


SIZES: dict[str, Size] = {
    "full": Size("full", FULL, runs=3, resolve_pics=10_000, idle_seconds=20.0, simulated_idle=3600.0,
                 open_pics=1_000, scroll_pics=10_000, scroll_seconds=30.0, pages=10, save_pics=500,
                 startup_runs=5, gui_timeout=60.0),
    "tiny": Size("tiny", TINY, runs=1, resolve_pics=300, idle_seconds=0.5, simulated_idle=900.0,
                 open_pics=60, scroll_pics=300, scroll_seconds=1.0, pages=2, save_pics=20, startup_runs=1,
                 gui_timeout=20.0),
}


@dataclass
class Context:
    """What a scenario needs: where the stand-in is, the picture list, and a scratch folder."""

    size: Size
    runs: int
    base_url: str
    token: str
    file_token: str
    pic_list: Path  # dump_pic_list JSON of the workbook's pictures, in workbook order
    work: Path  # scratch space (removed by the caller)
    dataset: list[Path]
    latency_ms: float = LATENCY_MS
    pictures: int = 0  # pictures in the stand-in's workbook (a scenario's own stand-in serves the same)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def note(self, scenario: str, text: str) -> None:
        self.notes.setdefault(scenario, []).append(text)
