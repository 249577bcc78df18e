"""Targets, the markdown table and the JSON results file."""

from __future__ import annotations

import json
import math
import operator
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stats import Metric

Results = dict[str, dict[str, Metric]]  # scenario → metric name → metric


@dataclass(frozen=True)
class Target:
    """A goal from issues 4 and 11, or ours (``busy``: a regression guard, see its scenario). ``on`` says
    which number is judged: the median, the worst run, or the ratio."""

    scenario: str
    metric: str
    op: str  # "<=", ">=", "=="
    limit: float
    text: str
    on: str = "median"  # "median" | "max" | "ratio"

    def value(self, m: Metric) -> float:
        if self.on == "ratio":
            return statistics.median(m.ratios) if m.ratios else math.nan
        return max(m.samples) if self.on == "max" else m.median


_OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, ">=": operator.ge, "==": operator.eq}

TARGETS: tuple[Target, ...] = (
    Target("resolve", "wall_s", "<=", 1.2, "resolve 10,000 ≤ 1.2 × floor", on="ratio"),
    Target("resolve", "idle_calls", "==", 0, "zero API calls while idle (nothing needed expiring)", on="max"),
    Target("open", "first_screen_s", "<=", 1.5, "first screenful ≤ 1.5 × byte floor", on="ratio"),
    Target("open", "all_visible_s", "<=", 2.0, "all visible tiles ≤ 2 × byte floor", on="ratio"),
    Target("shaped", "first_screen_s", "<=", 1.5, "100 Mbit/s line: first screenful ≤ 1.5 × byte floor",
           on="ratio"),
    Target("shaped", "kb_per_tile", "<=", 100, "100 Mbit/s line: ≤ 100 KB over the wire per photo tile"),
    Target("shaped_slow", "first_screen_s", "<=", 1.5, "20 Mbit/s line: first screenful ≤ 1.5 × byte floor",
           on="ratio"),
    Target("shaped_slow", "kb_per_tile", "<=", 100, "20 Mbit/s line: ≤ 100 KB over the wire per photo tile"),
    Target("busy", "first_screen_s", "<=", 2.0, "every core busy elsewhere: first screenful ≤ 2 s"),
    Target("busy", "max_gap_ms", "<=", 250, "every core busy elsewhere: longest GUI stall ≤ 250 ms"),
    Target("open", "max_gap_ms", "<=", 50, "longest GUI stall while opening ≤ 50 ms"),
    Target("open", "p99_gap_ms", "<=", 20, "p99 heartbeat gap while opening ≤ 20 ms"),
    Target("scroll", "max_gap_ms", "<=", 50, "longest GUI stall while scrolling ≤ 50 ms"),
    Target("scroll", "p99_gap_ms", "<=", 20, "p99 heartbeat gap while scrolling ≤ 20 ms"),
    Target("scroll", "peak_rss_mb", "<=", 400, "peak RSS ≤ 400 MB after 10,000 tiles"),
    Target("scroll", "gets_per_viewed_tile", "<=", 1.05, "≤ 1.05 image GETs per viewed tile"),
    Target("scroll", "duplicate_gets", "==", 0, "no duplicate GETs of cached pictures", on="max"),
    Target("save", "core_mb_s", ">=", 0.9, "save throughput ≥ 0.9 × curl", on="ratio"),
    Target("save", "second_speedup", ">=", 5, "second save (previewed pictures) ≥ 5 × faster"),
    Target("startup", "first_paint_s", "<=", 1.0, "start-up to first paint ≤ 1 s"),
    Target("reopen", "first_screen_s", "<=", 2.0, "reopen: first screen ≤ 2 × first paint", on="ratio"),
    Target("reopen", "image_gets", "==", 0, "reopen: no image GET for a cached tile", on="max"),
)


def judge(results: Results) -> list[dict[str, Any]]:
    """Each target with its value, limit and verdict (``met`` is None when the metric is missing)."""
    out = []
    for t in TARGETS:
        m = results.get(t.scenario, {}).get(t.metric)
        value = t.value(m) if m is not None and m.samples else math.nan
        met = None if math.isnan(value) else _OPS[t.op](value, t.limit)
        out.append({"scenario": t.scenario, "metric": t.metric, "target": t.text, "judged_on": t.on,
                     "value": value, "op": t.op, "limit": t.limit, "met": met})
    return out


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "–"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def markdown(results: Results, verdicts: list[dict[str, Any]]) -> str:
    """The results table: every metric with median [min–max], its floor and the ratio to that floor."""
    lines = ["| scenario | metric | median | min–max | unit | floor (median) | ratio, median [min–max] |",
             "| --- | --- | ---: | ---: | --- | --- | --- |"]
    for scenario, metrics in results.items():
        for name, m in metrics.items():
            s = m.to_json()
            floor = ratio = ""
            if m.floor:
                f, r = s["floor"], s["ratio"]
                assert isinstance(f, dict) and isinstance(r, dict)
                floor = f"{_fmt(f['median'])} ({f['name']})"
                ratio = f"{_fmt(r['median'])} [{_fmt(r['min'])}–{_fmt(r['max'])}]"
            lines.append(f"| {scenario} | {name} | {_fmt(float(s['median']))} | "  # type: ignore[arg-type]
                         f"{_fmt(float(s['min']))}–{_fmt(float(s['max']))} | {m.unit} | {floor} | {ratio} |")  # type: ignore[arg-type]
    lines += ["", "| target | judged on | value | limit | met |", "| --- | --- | ---: | ---: | --- |"]
    for v in verdicts:
        mark = {True: "met", False: "**NOT met**", None: "not measured"}[v["met"]]
        lines.append(f"| {v['target']} | {v['scenario']}.{v['metric']} ({v['judged_on']}) | "
                     f"{_fmt(v['value'])} | {v['op']} {_fmt(v['limit'])} | {mark} |")
    return "\n".join(lines)


def notes_markdown(notes: dict[str, list[str]]) -> str:
    lines = []
    for scenario, items in notes.items():
        for item in items:
            lines.append(f"- **{scenario}**: {item}")
    return "\n".join(lines)


def write_json(path: Path, meta: dict[str, Any], results: Results, verdicts: list[dict[str, Any]],
               notes: dict[str, list[str]]) -> None:
    data = {
        "meta": meta,
        "scenarios": {sc: {name: m.to_json() for name, m in ms.items()} for sc, ms in results.items()},
        "targets": verdicts,
        "notes": notes,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # NaN is not JSON: a missing number is null.
    path.write_text(json.dumps(_no_nan(data), indent=1, ensure_ascii=False))


def _no_nan(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _no_nan(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_no_nan(v) for v in x]
    return x
