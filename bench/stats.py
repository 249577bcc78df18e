"""Figures with their spread: every number the benchmark reports is a median of runs with min and max."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass
class Metric:
    """One measured quantity over several runs; ``floor`` holds the same run's floor when it is a speed."""

    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    floor_name: str = ""
    note: str = ""

    def add(self, value: float, floor: float | None = None) -> None:
        self.samples.append(float(value))
        if floor is not None:
            self.floor.append(float(floor))

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else math.nan

    @property
    def ratios(self) -> list[float]:
        """Value ÷ floor, run by run (both were measured in the same run)."""
        return [v / f for v, f in zip(self.samples, self.floor, strict=False) if f > 0]

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"unit": self.unit, "samples": self.samples, **spread(self.samples)}
        if self.floor:
            out["floor"] = {"name": self.floor_name, "samples": self.floor, **spread(self.floor)}
            out["ratio"] = {"samples": self.ratios, **spread(self.ratios)}
        if self.note:
            out["note"] = self.note
        return out


def spread(values: Iterable[float]) -> dict[str, float]:
    vals = list(values)
    if not vals:
        return {"median": math.nan, "min": math.nan, "max": math.nan}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}
