"""Run one measurement in a fresh Python process and read back its JSON answer.

GUI scenarios run in a child each time: a clean QApplication, a clean peak-RSS high-water mark, no caches
left over from an earlier run, and private XDG folders so nothing of the user's (or an earlier run's)
leaks in — the thumbnail disk cache in ``$XDG_CACHE_HOME`` included: a scenario starts with it empty unless
it shares a home on purpose (``reopen``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MARK = "BENCH-RESULT "


def child_env(home: Path) -> dict[str, str]:
    """The environment of a measured child: offscreen Qt and private config/cache/data folders."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    home = home.resolve()  # XDG paths must be absolute: Qt ignores a relative one and uses ~/.cache
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def run_child(module: str, params: dict[str, Any], *, home: Path, timeout: float,
              bytecode: bool = False) -> dict[str, Any]:
    """``python -m module '<params json>'``; returns the dict it emitted (raises with its stderr if none).

    ``bytecode``: the child writes the ``.pyc`` files it compiles (as an installed app has them), so a later
    child whose start-up is timed does not compile every module.
    """
    env = child_env(home)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run([sys.executable, "-m", module, json.dumps(params)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            result: dict[str, Any] = json.loads(line[len(MARK):])
            return result
    tail = "\n".join(proc.stderr.splitlines()[-25:])
    raise RuntimeError(f"{module} exited {proc.returncode} without a result:\n{tail}")


def emit(result: dict[str, Any]) -> None:
    print(MARK + json.dumps(result), flush=True)
