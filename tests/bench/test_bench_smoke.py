"""The benchmark runs end to end at ``--size tiny`` so it cannot rot.

Structure and sanity only — every scenario present, every number finite and not negative, times positive,
ratios to floors computed, every target judged — never speed targets (those belong in bench/RESULTS.md).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = {"resolve", "open", "shaped", "shaped_slow", "busy", "scroll", "save", "startup", "reopen"}
WITH_FLOOR = {("resolve", "wall_s"), ("open", "first_screen_s"), ("open", "all_visible_s"),
              ("shaped", "first_screen_s"), ("shaped_slow", "first_screen_s"), ("busy", "first_screen_s"),
              ("save", "core_mb_s"), ("startup", "first_paint_s"), ("reopen", "first_screen_s")}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_tiny_benchmark_runs_and_reports_every_scenario(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "tiny", "--out", str(out),
         "--dataset-dir", str(tmp_path / "ds")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "| target |" in proc.stdout  # the markdown table was printed

    data = json.loads(out.read_text())
    assert data["meta"]["size"] == "tiny"
    assert data["meta"]["commit"]
    assert set(data["scenarios"]) == SCENARIOS
    for scenario, metrics in data["scenarios"].items():
        assert metrics, scenario
        for name, m in metrics.items():
            assert m["samples"], (scenario, name)
            for key in ("median", "min", "max"):
                assert m[key] is not None and math.isfinite(m[key]) and m[key] >= 0, (scenario, name, m)
            assert m["min"] <= m["median"] <= m["max"]
            if m["unit"] in ("s", "MB/s", "MB"):
                assert m["median"] > 0, (scenario, name, m)
    for scenario, name in WITH_FLOOR:
        m = data["scenarios"][scenario][name]
        assert m["floor"]["median"] > 0, (scenario, name)
        assert m["ratio"]["median"] > 0 and math.isfinite(m["ratio"]["median"]), (scenario, name)
    assert data["targets"]
    for target in data["targets"]:
        assert target["met"] in (True, False), target  # measured and judged, whatever the verdict
