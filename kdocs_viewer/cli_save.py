"""``kdocs-pics save``: download the pictures of a pic list into a folder, atomically, then say how it went.

Registered by ``cli.py``, whose output rules it shares: the saved paths on stdout, failures and a one-line
summary on stderr, a progress bar only for a person at a terminal. A rejected token or an unknown workbook
ends the command before anything is written; Ctrl+C, SIGTERM and SIGHUP wind the batch down cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdocs_viewer.cli import (
    _api_failure,
    _base_url,
    _batch_level_failure,
    _check_list_size,
    _client,
    _file_token,
    _get_token,
    _read_pics,
)
from kdocs_viewer.cli_terminal import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    _quiet_broken_pipe,
    _say,
    _stop_signals_cancel,
)
from kdocs_viewer.core.models import PicFailure, PicRef
from kdocs_viewer.core.units import format_size

if TYPE_CHECKING:
    from kdocs_viewer.core.saving import SaveSummary

__all__ = ["COMMANDS", "cmd_save"]


def cmd_save(args: argparse.Namespace) -> int:
    from kdocs_viewer.core.api import TokenInvalidError
    from kdocs_viewer.core.saving import ConflictPolicy, SaveProgress, Source, save_batch, validate_template
    from kdocs_viewer.core.session import PictureSession, PicUnavailable

    try:
        validate_template(args.template)
    except ValueError as exc:
        raise CliError(f"--template: {exc}", EXIT_USAGE) from None
    _file_token(args)
    pics = _read_pics(args)
    _check_list_size(args, pics)
    folder: Path = args.out
    if folder.exists() and not folder.is_dir():
        raise CliError(f"--out {folder} exists and is not a folder", EXIT_USAGE)
    base_url = _base_url(args)
    token = _get_token(args, base_url)

    cancel = threading.Event()
    token_rejected: list[TokenInvalidError] = []
    with (
        _client(token, base_url) as client,
        PictureSession(client, args.file_token, memory_budget=16 * 1024 * 1024) as session,
        _stop_signals_cancel(cancel) as stop,
    ):
        # One pass over the whole list first: batches of 100 per call, and a rejected token or an unknown
        # workbook ends the command before anything is written. Leases that expire meanwhile are renewed
        # by the session on demand.
        try:
            outcomes = session.resolve(pics, cancel=cancel)
        except Exception as exc:
            raise _api_failure(exc, args.file_token) from None
        if cancel.is_set():
            _say("cancelled")
            return stop.exit_code
        whole = _batch_level_failure(outcomes, args.file_token)
        if whole is not None:
            raise whole
        unavailable = {o.ref.ident: o for o in outcomes if isinstance(o, PicFailure)}

        def fetch(ref: PicRef, stop: threading.Event | None) -> Source:
            failure = unavailable.get(ref.ident)
            if failure is not None:  # already answered "no URL": do not spend another call on it
                raise PicUnavailable(failure)
            try:
                return session.fetch_for_save(ref, cancel=stop)
            except TokenInvalidError as exc:
                token_rejected.append(exc)
                cancel.set()  # every other picture would fail the same way
                raise

        bar = _progress_bar(len(pics))

        def progress(p: SaveProgress) -> None:
            if bar is not None:
                with contextlib.suppress(OSError):  # a closed terminal must not stop the save
                    bar.update(p.done - bar.n)

        try:
            summary = save_batch(
                pics,
                fetch,
                folder,
                template=args.template,
                policy=ConflictPolicy(args.on_conflict),
                workers=args.jobs,
                progress=progress,
                cancel=cancel,
            )
        except OSError as exc:
            raise CliError(f"cannot write to {folder}: {exc.strerror or exc}", EXIT_USAGE) from None
        finally:
            if bar is not None:
                with contextlib.suppress(OSError):
                    bar.close()

    try:
        _report_save(summary, len(pics), folder)
    except OSError:
        if stop.signum is None:
            raise
        _quiet_broken_pipe(sys.stdout, sys.stderr)  # a hangup took the terminal: the exit status still tells
    if token_rejected:
        raise _api_failure(token_rejected[0], args.file_token)
    if cancel.is_set():
        return stop.exit_code
    return EXIT_FAILED if summary.failed else EXIT_OK


def _report_save(summary: SaveSummary, total: int, folder: Path) -> None:
    """The saved paths on stdout, the failures and a one-line summary on stderr."""
    for item in summary.saved:
        if item.path is not None:
            sys.stdout.write(f"{item.path}\n")
    sys.stdout.flush()
    for item in summary.failed:
        _say(f"failed: {item.ref.label()} ({item.ref.pic_key}): {item.reason}")
    parts = [
        f"saved {len(summary.saved)}",
        f"skipped {len(summary.skipped)}",
        f"failed {len(summary.failed)}",
    ]
    if summary.cancelled:
        parts.append(f"cancelled {len(summary.cancelled)}")
    _say(f"{', '.join(parts)} of {total} pictures ({format_size(summary.bytes)}) in {folder}")


def _progress_bar(total: int) -> Any:
    """A tqdm bar on stderr, only for a person watching a terminal."""
    stderr = sys.stderr
    if stderr is None or not stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="pic", file=stderr, dynamic_ncols=True, leave=False)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"save": cmd_save}
