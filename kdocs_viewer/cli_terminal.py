"""What every ``kdocs-pics`` command shares with the terminal: exit statuses, words for people on stderr,
logging, and how Ctrl+C, SIGTERM and SIGHUP end a command.

Data goes to stdout, everything meant for people to stderr through ``_say``, which redacts (``core.redact``
masks every registered secret of the run too). A stop signal cancels the work in flight, which winds down
cleanly; the command then ends with the shell's 128 + the signal's number.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TextIO

from kdocs_viewer.core.redact import install_log_redaction, redact

PROG = "kdocs-pics"

EXIT_OK = 0
EXIT_FAILED = 1  # some pictures failed; the others were done
EXIT_USAGE = 2  # bad options or input (also what argparse uses)
EXIT_AUTH = 3  # no token, or the token was rejected
EXIT_API = 4  # network, API or keyring failure
EXIT_HANGUP = 129  # SIGHUP: the terminal went away
EXIT_CANCELLED = 130  # Ctrl+C
EXIT_TERMINATED = 143  # SIGTERM: kill, a service manager, a CI timeout

_STOP_SIGNALS: dict[int, int] = {
    signal.SIGINT: EXIT_CANCELLED,
    signal.SIGTERM: EXIT_TERMINATED,
    **({signal.SIGHUP: EXIT_HANGUP} if hasattr(signal, "SIGHUP") else {}),
}


class CliError(Exception):
    """Ends the command with ``message`` on stderr and exit status ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


# ---- output hygiene ---------------------------------------------------------------------------------------


def _say(message: str) -> None:
    """A line for people, on stderr, prefixed with the program name, redacted."""
    print(f"{PROG}: {redact(message)}", file=sys.stderr, flush=True)


class _Quiet:
    """``-q``: stderr keeps only errors (set once by ``main`` from the arguments)."""

    on = False


def _note(message: str) -> None:
    """A line for people that is not an error (a count, a summary): ``_say``, unless ``-q``."""
    if not _Quiet.on:
        _say(message)


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    install_log_redaction()


def _utf8_stdout() -> None:
    """Pic lists and JSON lines are UTF-8 whatever the locale when they go to a file or a pipe."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        if stream is sys.stdout and not stream.isatty():
            reconfigure(encoding="utf-8", errors="strict")
        else:
            reconfigure(errors="backslashreplace")


def _terminal_gone(exc: OSError) -> bool:
    """A write failed because the terminal hung up (EIO), perhaps before its SIGHUP arrived (or under
    ``nohup``, with none): what was to be shown has nowhere to go, and the work goes on."""
    return exc.errno == errno.EIO


def _quiet_broken_pipe(*streams: TextIO) -> None:
    """`kdocs-pics scan … | head` closed our stdout (default), or a hangup took the terminal: no traceback
    when Python flushes the streams at exit."""
    for stream in streams or (sys.stdout,):
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())


# ---- Ctrl+C, SIGTERM, SIGHUP ------------------------------------------------------------------------------


class _Stop:
    """Which stop signal arrived first; the exit status is the shell's 128 + its number."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CANCELLED if self.signum is None else _STOP_SIGNALS[self.signum]


class _StopNow(KeyboardInterrupt):
    """A second stop signal: leave at once. ``save_batch`` still waits for the writes in flight, which
    finish or remove their part files."""

    def __init__(self, exit_code: int) -> None:
        super().__init__()
        self.exit_code = exit_code


@contextlib.contextmanager
def _stop_signals_cancel(cancel: threading.Event) -> Iterator[_Stop]:
    """The first Ctrl+C, SIGTERM or SIGHUP sets ``cancel`` (work winds down cleanly, the summary is printed,
    the command returns ``stop.exit_code``); a second one interrupts at once."""
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.signum is not None:
            raise _StopNow(stop.exit_code)
        stop.signum = signum
        cancel.set()
        with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
            if signum == signal.SIGINT:
                _say("cancelling… (press Ctrl+C again to stop at once)")
            else:
                _say(f"{signal.Signals(signum).name} received: cancelling…")

    # A signal the caller chose to ignore stays ignored: SIGHUP under `nohup`, SIGINT in a script's `&` job.
    watched = [signum for signum in _STOP_SIGNALS if signal.getsignal(signum) is not signal.SIG_IGN]
    previous = {signum: signal.signal(signum, handler) for signum in watched}
    try:
        yield stop
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
