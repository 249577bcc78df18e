"""Guards for platform traps that would otherwise show up as crashes far from their cause."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import kdocs_viewer

CORE = Path(kdocs_viewer.__file__).parent / "core"


def test_signal_emit_keeps_refcount_of_true(qapp: object) -> None:
    """PySide6 6.12.0 on CPython 3.11 drops a reference to True per emit and later aborts the process."""
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        fired = Signal(bool)

    emitter = Emitter()
    received: list[bool] = []
    emitter.fired.connect(received.append)
    before = sys.getrefcount(True)
    for _ in range(50):
        emitter.fired.emit(True)
    assert len(received) == 50
    assert sys.getrefcount(True) >= before


def test_core_never_imports_qt() -> None:
    """The core must stay usable (and testable) without Qt: the CLI and the stand-in rely on it."""
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            qt = {"PySide6", "PyQt6", "shiboken6"}
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in qt]
    assert offenders == []
    assert len(list(CORE.glob("*.py"))) >= 3


def test_every_python_folder_is_a_package() -> None:
    """setuptools' find_packages skips folders without __init__.py; an editable install hides the loss."""
    root = Path(kdocs_viewer.__file__).parent
    folders = {p.parent for p in root.rglob("*.py") if "__pycache__" not in p.parts}
    missing = sorted(str(f.relative_to(root)) for f in folders if not (f / "__init__.py").exists())
    assert missing == []
    assert {"core", "gui", "standin"} <= {f.name for f in folders}
