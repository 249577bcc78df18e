"""Shared fixtures: offscreen Qt, and a real stand-in KDocs server on a free loopback port."""

from __future__ import annotations

import os

# Must happen before anything imports Qt: without a platform and without DISPLAY, Qt aborts the run.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kdocs_viewer.standin.config import StandinConfig
from kdocs_viewer.standin.server import StandinServer

pytest_plugins = ["tests.keyring_support"]

CANARY_TOKEN = "canary-TOKEN-5f3a9c1e-do-not-leak"
CANARY_APP_KEY = "canary-APPKEY-7b21d0-do-not-leak"


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
