"""Part files for the tests: find them, and make a real one that a live process holds.

``python -m tests.part_files FOLDER NAME`` starts a real ``save_atomically`` of NAME into FOLDER whose data
source stops half-way, prints the part file's name once writing has begun, and then waits to be killed:
the part file is ours, made by the product's own code, and held by a live process until the test kills it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from kdocs_viewer.core.saving import ConflictPolicy, is_part_name, save_atomically

ROOT = Path(__file__).resolve().parents[1]
HALF_A_JPEG = b"\xff\xd8\xff\xe0" + b"half a picture" * 64


def part_files(folder: Path) -> list[str]:
    """Every name in ``folder`` that looks like a part file of any program (ours or not)."""
    return sorted(n for n in os.listdir(folder) if n.endswith(".part")) if folder.is_dir() else []


class StuckWriter:
    """A child process in the middle of writing ``folder/name``; ``part`` is the file it holds."""

    def __init__(self, folder: Path, name: str = "stuck.jpg") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.part_files", str(folder), name],
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode("utf-8").rstrip("\n")  # once the part file exists
        assert line, f"the writer ended early (exit {self.proc.wait()})"
        self.part = folder / line

    def kill(self) -> None:
        """SIGKILL: no handler, no cleanup — what a crash or ``kill -9`` leaves."""
        self.proc.send_signal(signal.SIGKILL if sys.platform != "win32" else signal.SIGTERM)
        self.proc.wait(timeout=30)
        assert self.proc.stdout is not None
        self.proc.stdout.close()

    def __enter__(self) -> StuckWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.kill()


def _stuck_writer(folder: Path, name: str) -> None:
    before = set(os.listdir(folder))

    def data() -> Iterator[bytes]:
        yield HALF_A_JPEG
        (part,) = [n for n in set(os.listdir(folder)) - before if is_part_name(n)]
        print(part, flush=True)
        threading.Event().wait()  # until killed
        yield b""

    save_atomically(folder, name, data(), policy=ConflictPolicy.UNIQUIFY)


if __name__ == "__main__":
    _stuck_writer(Path(sys.argv[1]), sys.argv[2])
