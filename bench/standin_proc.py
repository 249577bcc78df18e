"""The stand-in KDocs server as a separate process, so its CPU never shares our GIL.

Started with the product's own CLI; the first stdout line is the base URL. The rest of its output is
drained by a thread (a full pipe would stall the server) and the process is stopped by its own pid.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from types import TracebackType

STANDIN_TOKEN = "demo-token"  # StandinConfig's default accepted token
STANDIN_FILE = "demo-workbook"  # StandinConfig's default file token


class StandinProcess:
    """``kdocs-viewer-standin --dataset DIR --pictures N --latency-ms L --port 0`` in a child process."""

    def __init__(self, *, dataset: Path, pictures: int, latency_ms: float, extra: list[str] | None = None,
                 log_dir: Path | None = None) -> None:
        self.args = ["--dataset", str(dataset), "--pictures", str(pictures),
                     "--latency-ms", str(latency_ms), "--port", "0", *(extra or [])]
        self.log_dir = log_dir
        self.base_url = ""
        self.token = STANDIN_TOKEN
        self.file_token = STANDIN_FILE
        self._proc: subprocess.Popen[str] | None = None
        self._tail: deque[str] = deque(maxlen=50)

    def start(self, timeout: float = 30.0) -> str:
        entry = "import sys; from kdocs_viewer.standin.cli import main; sys.exit(main())"
        cmd = [sys.executable, "-c", entry, *self.args]
        if self.log_dir is not None:
            with open(self.log_dir / "standin.stderr.log", "a") as log:  # the child keeps its own copy
                self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)
        else:
            self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                          bufsize=1)
        stdout = self._proc.stdout
        assert stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith("http"):
            self.stop()
            raise RuntimeError(f"stand-in did not print its base URL (got {line[:1]!r}); args={self.args}")
        self.base_url = line[0].strip()
        threading.Thread(target=self._drain, daemon=True).start()
        return self.base_url

    def _drain(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for text in self._proc.stdout:
            self._tail.append(text)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def __enter__(self) -> StandinProcess:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
