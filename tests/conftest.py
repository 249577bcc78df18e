"""Shared fixtures: offscreen Qt, a real stand-in KDocs server on a free loopback port, and strict logs.

Strict logs (``tests/helpers/logfail.py``, loaded below): any Python log record at WARNING or above, from
any thread, during a test's setup, call or teardown fails that phase unless the test declares it. (Qt's
own warnings fail tests too: pytest-qt's ``qt_log_level_fail`` in pyproject.toml.) Two ways to declare:

- Expect it, when the record is part of what the test checks. The block fails if no matching record
  came, so the declaration cannot go stale::

      from tests.helpers.logfail import ExpectLog

      def test_failing_hook_is_logged(expect_log: ExpectLog) -> None:
          with expect_log("kdocs_viewer.core.saving", logging.WARNING, match=r"after saving") as records:
              ...  # make it happen; if a worker logs it, wait (qtbot.waitUntil) inside the block
          assert len(records) == 1

- Tolerate it, when the record may or may not come (random fault injection) or comes from a fixture::

      @pytest.mark.logfail_ignore("kdocs_viewer.core.api", logging.WARNING, match=r"retrying", reason="...")

Both cover one logger and its children, one exact level, and a message regex (``re.search``). Give a
regex: a record at WARNING+ is either behaviour the test is about or a bug, and a declaration without
one hides the next, different record too. Third-party records that no test can avoid go in the
plugin's ``THIRD_PARTY_ALLOWED``, each with its reason.
"""

from __future__ import annotations

import os

# Must happen before anything imports Qt: without a platform and without DISPLAY, Qt aborts the run.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kdocs_viewer.standin.config import StandinConfig
from kdocs_viewer.standin.server import StandinServer

pytest_plugins = ["tests.keyring_support", "tests.helpers.logfail"]

CANARY_TOKEN = "canary-TOKEN-5f3a9c1e-do-not-leak"
CANARY_APP_KEY = "canary-APPKEY-7b21d0-do-not-leak"


@pytest.fixture(autouse=True)
def private_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own empty user cache folder: thumbnails kept on disk by one test (the disk cache
    outlives a session on purpose) must never turn another test's expected GETs into cache hits."""
    folder = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


@pytest.fixture(autouse=True)
def retired_workers_end() -> Iterator[None]:
    """Workers a shutdown left on the wire (``gui.retired``) end before the next test: what they still do
    or log belongs to the test that left them. Torn down after the test's stand-in stopped (autouse
    fixtures are set up first), so what they wait for fails fast."""
    yield
    retired = sys.modules.get("kdocs_viewer.gui.retired")
    if retired is None:
        return
    deadline = time.monotonic() + 30
    while retired.prune() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert retired.retired_count() == 0, "a worker left on the wire by a shutdown did not end within 30 s"


@pytest.fixture
def standin_factory() -> Iterator[Callable[..., StandinServer]]:
    """Start stand-in servers with any config; all are stopped at teardown."""
    started: list[StandinServer] = []

    def start(**overrides: Any) -> StandinServer:
        overrides.setdefault("pictures", 40)
        server = StandinServer(StandinConfig(**overrides))
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def standin(standin_factory: Callable[..., StandinServer]) -> StandinServer:
    """A running stand-in with a small demo workbook and the default demo token."""
    return standin_factory()


@pytest.fixture
def canary_standin(standin_factory: Callable[..., StandinServer]) -> StandinServer:
    """A stand-in that accepts only the canary token, for leak checks."""
    return standin_factory(token=CANARY_TOKEN)


@pytest.fixture
def canary_oauth_standin(standin_factory: Callable[..., StandinServer]) -> StandinServer:
    """A stand-in whose app key is the canary, consenting at once, for sign-in leak checks."""
    return standin_factory(app_key=CANARY_APP_KEY, auto_consent=True)
