"""``kdocs-pics save``: download the pictures of a pic list into a folder, atomically, then say how it went.

Registered by ``cli.py``, whose output rules it shares: each saved path on stdout as soon as it is written
(or, with ``--json``, one JSON object per picture as it finishes, whatever became of it), failures and a
one-line summary on stderr. Progress is a bar for a person at a terminal, else a line every few seconds (a
log file or CI shows the run is alive); ``-q`` keeps only the errors. ``--simulate`` prints the names the
template gives and touches neither the network nor the folder. A rejected token or an unknown workbook ends
the command before anything is written; Ctrl+C, SIGTERM and SIGHUP wind the batch down cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
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
    _terminal_gone,
)
from kdocs_viewer.core.models import PicFailure, PicRef
from kdocs_viewer.core.redact import redact
from kdocs_viewer.core.units import format_size

if TYPE_CHECKING:
    from kdocs_viewer.core.saving import SaveItemResult, SaveProgress, SaveSummary

PROGRESS_LINE_SECONDS = 5.0
"""Without a terminal on stderr, a progress line at most this often; ``KDOCS_PICS_PROGRESS_SECONDS``
overrides it (tests, or a CI log that wants more or fewer lines)."""

__all__ = ["COMMANDS", "cmd_save"]


def cmd_save(args: argparse.Namespace) -> int:
    from kdocs_viewer.core.api import TokenInvalidError
    from kdocs_viewer.core.saving import ConflictPolicy, Source, save_batch, validate_template
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
    quiet = bool(getattr(args, "quiet", False))
    if args.simulate:
        return _simulate(pics, folder, args.template, as_json=args.json, quiet=quiet)
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

        bar = None if quiet else _progress_bar(len(pics))
        lines = None if quiet or bar is not None else _ProgressLines(folder)

        def progress(p: SaveProgress) -> None:
            with contextlib.suppress(OSError):  # a closed terminal must not stop the save
                if bar is not None:
                    bar.update(p.done - bar.n)
                elif lines is not None:
                    lines.update(p)

        def finished(result: SaveItemResult) -> None:
            line = _result_line(result, as_json=args.json, quiet=quiet)
            if line is None:
                return
            # Above the bar, which tqdm redraws; without one straight to stdout, flushed for a pipe's reader.
            try:
                if bar is not None and sys.stdout.isatty():
                    bar.write(line, file=sys.stdout)
                else:
                    sys.stdout.write(line + "\n")
                    sys.stdout.flush()
            except OSError as exc:
                if not _terminal_gone(exc):
                    raise  # a closed pipe: ``main`` ends the command quietly
                _quiet_broken_pipe(sys.stdout)  # the save goes on; a SIGHUP, if one comes, stops it

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
                on_result=finished,
            )
        except OSError as exc:
            raise CliError(f"cannot write to {folder}: {exc.strerror or exc}", EXIT_USAGE) from None
        finally:
            if bar is not None:
                with contextlib.suppress(OSError):
                    bar.close()

    try:
        _report_save(summary, len(pics), folder, quiet=quiet)
    except OSError as exc:
        if stop.signum is None and not _terminal_gone(exc):
            raise
        _quiet_broken_pipe(sys.stdout, sys.stderr)  # a hangup took the terminal: the exit status still tells
    if token_rejected:
        raise _api_failure(token_rejected[0], args.file_token)
    if cancel.is_set():
        return stop.exit_code
    return EXIT_FAILED if summary.failed else EXIT_OK


def _result_line(result: SaveItemResult, *, as_json: bool, quiet: bool) -> str | None:
    """What stdout says about one finished picture: its path when saved (not with ``-q``), or with
    ``--json`` a JSON object whatever its status."""
    if as_json:
        ref = result.ref
        return json.dumps(
            {
                "path": None if result.path is None else str(result.path),
                "pic_key": ref.pic_key,
                "tag": ref.tag,
                "cell": ref.cell,
                "bytes": result.bytes,
                "status": result.status,
                **({"reason": redact(result.reason)} if result.reason and result.status != "saved" else {}),
            },
            ensure_ascii=False,
        )
    if quiet or result.status != "saved" or result.path is None:
        return None
    return str(result.path)


class _ProgressLines:
    """Progress for a log file or a pipe: "12 of 60 pictures saved…" at most every PROGRESS_LINE_SECONDS."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            self.every = float(os.environ.get("KDOCS_PICS_PROGRESS_SECONDS", PROGRESS_LINE_SECONDS))
        except ValueError:
            self.every = PROGRESS_LINE_SECONDS
        self.last = time.monotonic()

    def update(self, p: SaveProgress) -> None:
        now = time.monotonic()
        if p.done >= p.total or now - self.last < self.every:
            return  # the summary says the end
        self.last = now
        size = format_size(p.bytes_done)
        _say(f"progress: {p.done} of {p.total} pictures done ({size}) into {self.folder}")


def _simulate(pics: list[PicRef], folder: Path, template: str, *, as_json: bool, quiet: bool) -> int:
    """The names the template gives, without a download, an API call or a write.

    The extension comes from each picture's bytes, so it is shown as ``.*`` (a glob that matches the file
    a real save writes); repeats inside the list get their " (n)" as in a real save. Files already in the
    folder are not looked at: what happens to them is the conflict policy's business at save time.
    """
    from kdocs_viewer.core.file_names import render_name, with_counter
    from kdocs_viewer.core.saving import batch_starts

    for i, (ref, start) in enumerate(zip(pics, batch_starts(template, pics), strict=True), 1):
        path = folder / (with_counter(render_name(template, ref, i, ""), start) + ".*")
        if as_json:
            record = {"path": str(path), "pic_key": ref.pic_key, "tag": ref.tag, "cell": ref.cell,
                      "bytes": None, "status": "simulated"}  # fmt: skip
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(f"{path}\n")
    sys.stdout.flush()
    if not quiet:
        _say(f"simulated: {len(pics)} picture{'s' if len(pics) != 1 else ''} would be saved in {folder}")
    return EXIT_OK


def _report_save(summary: SaveSummary, total: int, folder: Path, *, quiet: bool = False) -> None:
    """The failures and a one-line summary on stderr (the paths went to stdout as they were written)."""
    for item in summary.failed:
        _say(f"failed: {item.ref.label()} ({item.ref.pic_key}): {item.reason}")
    if quiet:
        return
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
