"""Fixtures shared by the stand-in's tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client: these tests speak to the stand-in directly, not through our API client."""
    with httpx.Client(timeout=10) as client:
        yield client
