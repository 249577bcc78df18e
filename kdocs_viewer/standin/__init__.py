"""A stand-in for the KDocs open platform, good enough to develop, test and demo against.

It follows /work/shared/kdocs-api.md and reads every constant from :mod:`kdocs_viewer.core.contract`.
Start one in-process with :class:`StandinServer` or from a shell with ``kdocs-viewer-standin``.
"""

from __future__ import annotations

from kdocs_viewer.standin.config import StandinConfig
from kdocs_viewer.standin.server import RequestLogEntry, StandinServer

__all__ = ["RequestLogEntry", "StandinConfig", "StandinServer"]
