"""Start-up stays light: what the first paint does not need is imported after it, not before.

Checked in a fresh interpreter (this test process has imported everything already): build and show the main
window as ``main()`` does, then look at ``sys.modules``; then let the post-paint warm-up run and look again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pytestqt.qtbot import QtBot

from kdocs_viewer.core.secrets import TokenResult, TokenStatus
from kdocs_viewer.gui.keyring_bridge import KeyringBridge, KeyringOp

LAZY = [
    "httpx",
    "keyring",
    "kdocs_viewer.core.api",
    "kdocs_viewer.core.session",
    "kdocs_viewer.core.secrets",
    "kdocs_viewer.core.piclist",
    "kdocs_viewer.gui.thumbnails",
    "kdocs_viewer.gui.preview",
    "kdocs_viewer.gui.token_dialog",
    "pathvalidate",
    "kdocs_viewer.core.file_names",
    "kdocs_viewer.core.atomic_save",
    "kdocs_viewer.core.saving",
    "kdocs_viewer.gui.save_dialog",
    "kdocs_viewer.gui.save_runner",
]

PROBE = """
import json, sys, time
from kdocs_viewer import app
from kdocs_viewer.core.warmup import WARM_UP_MODULES
from PySide6.QtWidgets import QApplication
from kdocs_viewer.gui.main_window import MainWindow

qapp = app.create_application([])
window = MainWindow(base_url="http://127.0.0.1:9", language="en")
window.show()
lazy = %r
before = {name: name in sys.modules for name in lazy}
loaded = ["keyring", "kdocs_viewer.gui.thumbnails", *WARM_UP_MODULES]
deadline = time.monotonic() + 60
while not all(name in sys.modules for name in loaded) and time.monotonic() < deadline:
    qapp.processEvents()  # the first paint, then the browser's warm-up
    time.sleep(0.01)
after = {name: name in sys.modules for name in loaded}
window.shutdown()
print(json.dumps({"before": before, "after": after}))
"""


def test_main_window_shows_without_network_keyring_parser_or_loader(tmp_path: object) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data")):
        env[var] = os.path.join(str(tmp_path), sub)
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (LAZY,)], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"] == {name: False for name in LAZY}
    assert all(seen["after"].values()), seen["after"]  # the warm-up imported them after the paint


def test_bridge_without_a_store_makes_the_default_one_on_its_worker(qtbot: QtBot) -> None:
    bridge = KeyringBridge()
    assert bridge._store is None  # nothing made on the GUI thread yet
    with qtbot.waitSignal(bridge.finished, timeout=10_000) as answer:
        bridge.get("https://api.example.invalid")
    op, result = answer.args
    assert op == KeyringOp.GET
    assert isinstance(result, TokenResult)
    assert result.status in set(TokenStatus)
    assert bridge._store is not None  # made by the worker for the first call, reused after
    assert bridge.store is bridge._store
    assert bridge.shutdown()
