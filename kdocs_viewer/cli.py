"""``kdocs-pics``: find, resolve and save the pictures of a KDocs workbook from a terminal or a script.

Data goes to stdout (pic lists, one JSON object per resolved picture, saved paths), everything meant for
people goes to stderr. The access token never appears on a command line (no ``--token`` option: the process
list and shell history are readable by others); it comes from stdin (``--token-stdin``), the
``KDOCS_ACCESS_TOKEN`` environment variable or the system keyring, and never shows up in any output, even
with ``--verbose`` — every text we print or log goes through ``core.redact``, and every secret of the run is
registered with it, so its literal value is masked too.

Here: the arguments, the token and the input every command reads, the API's errors, ``scan`` and ``resolve``.
``save`` is in ``cli_save``, ``token`` and signing in in ``cli_auth``, exit statuses, stop signals and
stderr in ``cli_terminal``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdocs_viewer import __version__
from kdocs_viewer.cli_terminal import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_HANGUP,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    PROG,
    CliError,
    _note,
    _Quiet,
    _quiet_broken_pipe,
    _say,
    _setup_logging,
    _stop_signals_cancel,
    _StopNow,
    _utf8_stdout,
)
from kdocs_viewer.core.errors import FailureReason, reason_of
from kdocs_viewer.core.models import DEFAULT_BASE_URL, Lease, Outcome, PicFailure, PicRef
from kdocs_viewer.core.piclist import CONFIRM_PICTURES_ABOVE
from kdocs_viewer.core.redact import redact, register_secret

if TYPE_CHECKING:
    from kdocs_viewer.core.api import TokenProvider

__all__ = [
    "EXIT_API",
    "EXIT_AUTH",
    "EXIT_CANCELLED",
    "EXIT_FAILED",
    "EXIT_HANGUP",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

log = logging.getLogger("kdocs_viewer.cli")

ENV_TOKEN = "KDOCS_ACCESS_TOKEN"
ENV_BASE_URL = "KDOCS_BASE_URL"

# The exit status of each kind of failure; a failure of no known kind (a bug) is EXIT_API.
EXIT_STATUS: dict[FailureReason, int] = {
    FailureReason.TOKEN_REJECTED: EXIT_AUTH,
    FailureReason.BAD_INPUT: EXIT_USAGE,
    FailureReason.WORKBOOK_NOT_FOUND: EXIT_USAGE,
    FailureReason.QUOTA: EXIT_API,
    FailureReason.NETWORK: EXIT_API,
    FailureReason.SERVER_ERROR: EXIT_API,
    FailureReason.CANCELLED: EXIT_CANCELLED,
    # about one picture: the others were done
    FailureReason.PICTURE_NOT_FOUND: EXIT_FAILED,
    FailureReason.NOT_IN_REPLY: EXIT_FAILED,
    FailureReason.BAD_LINK: EXIT_FAILED,
    FailureReason.EXPIRED_LINK: EXIT_FAILED,
    FailureReason.NOT_A_PICTURE: EXIT_FAILED,
    FailureReason.TOO_LARGE: EXIT_FAILED,
}

EPILOG = f"""\
The access token is taken from, in this order: standard input with --token-stdin, the {ENV_TOKEN}
environment variable, your sign-in (`{PROG} login`, renewed as needed), or the system keyring (store it
there once with `{PROG} token set`). There is deliberately no --token option: command lines are visible
to other users and kept in shell history.

exit status:
  0    success
  1    some pictures failed (the others were found, resolved or saved; see stderr)
  2    usage or input error (bad option, pic list, file token, base URL or template; an unknown file
       token; a list of over {CONFIRM_PICTURES_ABOVE:,} pictures without --yes)
  3    authentication error (no access token, or the token was rejected: code 20007)
  4    network, API or keyring error
  129  stopped by SIGHUP (the terminal was closed)
  130  cancelled (Ctrl+C)
  143  stopped by SIGTERM
       (129, 130, 143: the work in flight winds down, the summary is printed, no partial file is left)
"""

EXAMPLES: dict[str, str] = {
    "scan": f"{PROG} scan --file-token FILE_TOKEN > pics.json",
    "resolve": f"{PROG} resolve --file-token FILE_TOKEN --pics pics.json | jq -r .pic_url",
    "save": f"{PROG} save --file-token FILE_TOKEN --pics pics.json --out ./pictures "
    "--template '{index:04d} {caption}'\n"
    f"  {PROG} scan --file-token FILE_TOKEN | {PROG} save --file-token FILE_TOKEN --pics - --out . --json",
    "token": f"{PROG} token set < token.txt     # then: {PROG} token status --json",
    "login": f"{PROG} login --app-id YOUR_APPID     # asks for the APPKEY, opens the browser",
    "logout": f"{PROG} logout",
    "whoami": f"{PROG} whoami",
    "files": f"{PROG} files --recent --query 销售",
}

SUBCOMMAND_EPILOG = f"""\
The token: --token-stdin, ${ENV_TOKEN}, your sign-in or the keyring (never an option on the command
line). Exit statuses and the rest: `{PROG} --help`."""

TOKEN_HELP = (
    f"Sign in once with `{PROG} login --app-id ID`, or give a token in one of three ways: on standard input "
    f"with --token-stdin; in the {ENV_TOKEN} environment variable; or stored in the system keyring with "
    f"`{PROG} token set`."
)


# ---- arguments --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    # allow_abbrev=False everywhere: "--token X" must not silently mean "--token-stdin" plus a stray "X".
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    # SUPPRESS: an option given before the subcommand is not reset by the subcommand's default.
    common.add_argument(
        "--base-url",
        default=argparse.SUPPRESS,
        help=f"API base URL (default: ${ENV_BASE_URL} or {DEFAULT_BASE_URL})",
    )
    common.add_argument(
        "--token-stdin",
        action="store_true",
        default=argparse.SUPPRESS,
        help="read the access token from standard input",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="debug logging on stderr (tokens and signed URLs are still masked)",
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="only errors on stderr (no progress, counts or summary); save prints no paths (its --json does)",
    )

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Find, resolve and save the pictures of a KDocs (金山文档) spreadsheet.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"example:\n  {EXAMPLES[name]}\n\n{SUBCOMMAND_EPILOG}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
            allow_abbrev=False,
        )

    scan = add("scan", "list the workbook's pictures as a pic list (JSON) on stdout")
    scan.add_argument("--file-token", required=True, help="the workbook's file token (document id)")

    yes_help = (
        f"go ahead with a list of more than {CONFIRM_PICTURES_ABOVE:,} pictures (without it such a list is "
        "refused, saying how many API calls it would cost)"
    )
    resolve = add("resolve", "print a download URL for each picture, one JSON object per line")
    resolve.add_argument("--file-token", required=True, help="the workbook's file token (document id)")
    resolve.add_argument("--pics", required=True, metavar="FILE", help="pic list file, or - for stdin")
    resolve.add_argument("--yes", action="store_true", help=yes_help)

    save = add("save", "download pictures into a folder (atomic, never half-written files)")
    save.add_argument("--file-token", required=True, help="the workbook's file token (document id)")
    save.add_argument("--pics", required=True, metavar="FILE", help="pic list file, or - for stdin")
    save.add_argument("--yes", action="store_true", help=yes_help)
    save.add_argument("--out", required=True, metavar="DIR", type=Path, help="target folder (created)")
    from kdocs_viewer.core.saving import DEFAULT_TEMPLATE, FIELDS, ConflictPolicy

    save.add_argument(
        "--template",
        default=DEFAULT_TEMPLATE,
        help=f"file name template; fields: {', '.join('{' + f + '}' for f in FIELDS)} "
        f"(default: {DEFAULT_TEMPLATE!r}); the extension comes from the picture's bytes",
    )
    save.add_argument(
        "--on-conflict",
        choices=[policy.value for policy in ConflictPolicy],
        default=ConflictPolicy.SKIP_IDENTICAL.value,
        help="when a file of that name exists: skip-identical skips a picture already saved with the same "
        "bytes (as name or 'name (n)') and keeps a differing one as 'name (n)', so a second or resumed run "
        "saves only what is new; uniquify always adds a number; skip; overwrite (default: skip-identical)",
    )
    save.add_argument(
        "--jobs", type=_positive_int, default=8, metavar="N", help="parallel downloads (default 8)"
    )
    save.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per picture on stdout as it finishes: path, pic_key, tag, cell, bytes, status "
        "(saved, skipped, failed, cancelled) and, unless saved, reason",
    )
    save.add_argument(
        "--simulate",
        action="store_true",
        help="print the paths the template gives (extension as .*: it comes from the bytes) and stop: "
        "no token, no API call, no download, nothing written",
    )

    from kdocs_viewer.cli_auth import add_parsers

    add_parsers(add)  # token, login, logout, whoami, files
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("must be between 1 and 64")
    return value


# ---- token and input --------------------------------------------------------------------------------------


def _base_url(args: argparse.Namespace) -> str:
    """--base-url, else $KDOCS_BASE_URL, else the real service; checked (core.validation), normalised.

    A given but empty value is an error, never "the default": the token would go to the real service.
    """
    from kdocs_viewer.core.validation import InvalidBaseUrlError, check_base_url

    if hasattr(args, "base_url"):
        given, source = str(args.base_url), "--base-url"
    elif (env := os.environ.get(ENV_BASE_URL)) is not None:
        given, source = env, ENV_BASE_URL
    else:
        return DEFAULT_BASE_URL
    try:
        return check_base_url(given)
    except InvalidBaseUrlError as exc:
        hint = ""
        if not given.strip():
            leave_out = f"unset {ENV_BASE_URL}" if source == ENV_BASE_URL else "leave out --base-url"
            hint = f" ({leave_out} to use {DEFAULT_BASE_URL})"
        raise CliError(f"{source}: {exc}{hint}", EXIT_USAGE) from None


def _file_token(args: argparse.Namespace) -> str:
    """--file-token, checked before any URL is built (core.validation)."""
    from kdocs_viewer.core.validation import InvalidIdentifierError, check_file_token

    try:
        return check_file_token(args.file_token)
    except InvalidIdentifierError as exc:
        raise CliError(f"--file-token: {exc}", EXIT_USAGE) from None


def _check_list_size(args: argparse.Namespace, pics: Sequence[PicRef]) -> None:
    """A list above CONFIRM_PICTURES_ABOVE needs --yes: say what it would cost instead of spending it."""
    from kdocs_viewer.core.contract import QUOTA_TEST_APP
    from kdocs_viewer.core.piclist import needs_confirmation
    from kdocs_viewer.core.quota import calls_to_resolve

    if needs_confirmation(len(pics)) and not getattr(args, "yes", False):
        raise CliError(
            f"the pic list has {len(pics):,} pictures: resolving them costs {calls_to_resolve(len(pics)):,} "
            f"API calls (a test app may make {QUOTA_TEST_APP:,} a day). Add --yes to go ahead.",
            EXIT_USAGE,
        )


def _clean_token(raw: str, source: str) -> str:
    token = raw.strip()
    if not token:
        raise CliError(f"the access token from {source} is empty", EXIT_USAGE)
    if any(c.isspace() for c in token):
        raise CliError(f"the access token from {source} contains spaces or several lines", EXIT_USAGE)
    register_secret(token)
    return token


def _read_token_stdin() -> str:
    if sys.stdin is None:
        raise CliError("--token-stdin: there is no standard input", EXIT_USAGE)
    return _clean_token(sys.stdin.read(), "standard input")


def _get_token(args: argparse.Namespace, base_url: str) -> str | TokenProvider:
    """--token-stdin, else $KDOCS_ACCESS_TOKEN, else the signed-in user's tokens, else the keyring's token;
    CliError(EXIT_AUTH) naming them all."""
    if getattr(args, "token_stdin", False):
        return _read_token_stdin()
    env = os.environ.get(ENV_TOKEN)
    if env is not None and env.strip():
        return _clean_token(env, ENV_TOKEN)
    from kdocs_viewer.cli_auth import signed_in_provider

    signed_in = signed_in_provider(base_url)
    if signed_in is not None:
        return signed_in
    from kdocs_viewer.core.secrets import TokenStatus, TokenStore

    result = TokenStore().get(base_url)
    if result.status is TokenStatus.STORED and result.token:
        return _clean_token(result.token, "the keyring")
    if result.status is TokenStatus.NOT_STORED:
        why = f"none is stored in the keyring ({result.backend}) for {base_url}"
    else:
        why = f"the keyring could not be read: {result.detail}"
    raise CliError(f"no access token: {why}.\n{TOKEN_HELP}", EXIT_AUTH)


def _read_pics(args: argparse.Namespace) -> list[PicRef]:
    from kdocs_viewer.core.piclist import (
        PicFileError,
        PicListError,
        parse_pic_list,
        read_pic_list_file,
        read_pic_list_stream,
    )

    source = args.pics
    if source == "-" and getattr(args, "token_stdin", False):
        raise CliError("--pics - and --token-stdin cannot both read standard input", EXIT_USAGE)
    name = "standard input" if source == "-" else source
    try:  # the viewer's rules: UTF-8, UTF-16 or GB18030 text, at most MAX_PIC_LIST_BYTES
        if source == "-":
            text = read_pic_list_stream(sys.stdin.buffer, name)
        else:
            text = read_pic_list_file(Path(source), name=name)
    except PicFileError as exc:
        if exc.kind == "os":
            raise CliError(f"cannot read the pic list {source}: {exc.detail}", EXIT_USAGE) from None
        raise CliError(str(exc), EXIT_USAGE) from None
    try:
        result = parse_pic_list(text)
    except PicListError as exc:
        raise CliError(f"bad pic list {name}:\n{exc}", EXIT_USAGE) from None
    for dup in result.duplicates:
        _note(f"note: {name}: {dup}")
    return result.pics


# ---- errors of the API ------------------------------------------------------------------------------------


def _exit_status(reason: FailureReason | None) -> int:
    return EXIT_API if reason is None else EXIT_STATUS[reason]


def _api_failure(exc: BaseException, file_token: str) -> CliError:
    """The CliError for an exception raised by the client (token rejected, unknown file, network…)."""
    from kdocs_viewer.core.auth import AuthError

    if isinstance(exc, AuthError):  # the signed-in tokens could not be renewed
        from kdocs_viewer.cli_auth import auth_failure

        return auth_failure(exc)
    reason = reason_of(exc)
    code: int | None = getattr(exc, "code", None)
    server_text: str = getattr(exc, "server_text", "")
    if reason is FailureReason.TOKEN_REJECTED:
        said = server_text or "missing, invalid, expired or issued for someone else"
        message = f"the access token was rejected (code 20007): {said}\n{TOKEN_HELP}"
    elif reason is FailureReason.WORKBOOK_NOT_FOUND:
        message = _unknown_file(file_token, code, server_text)
    else:
        message = str(exc)
    return CliError(message, _exit_status(reason))


def _unknown_file(file_token: str, code: int | None, server_text: str) -> str:
    said = f": {server_text}" if server_text else ""
    return f"unknown file token {file_token!r} (code {code}){said} — check --file-token"


def _batch_level_failure(outcomes: Sequence[Outcome], file_token: str) -> CliError | None:
    """A whole-request failure hiding behind per-picture failures: an unknown workbook (exit 2), or no
    picture got an answer from the API at all (exit 4). None when at least one picture was answered."""
    failures = [o for o in outcomes if isinstance(o, PicFailure)]
    for failure in failures:
        if failure.reason is FailureReason.WORKBOOK_NOT_FOUND:
            message = _unknown_file(file_token, failure.code, failure.server_text)
            return CliError(message, _exit_status(failure.reason))
    if failures and len(failures) == len(outcomes) and not any(f.reason.per_picture for f in failures):
        return CliError(failures[0].message, _exit_status(failures[0].reason))
    return None


# ---- commands ---------------------------------------------------------------------------------------------


def _client(token: str | TokenProvider, base_url: str) -> Any:
    from kdocs_viewer.core.api import InsecureTransportError, KDocsClient

    try:
        return KDocsClient(token, base_url)
    except InsecureTransportError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except ValueError as exc:
        raise CliError(f"--base-url: {exc}", EXIT_USAGE) from None


def cmd_scan(args: argparse.Namespace) -> int:
    from kdocs_viewer.core.piclist import dump_pic_list

    file_token = _file_token(args)
    base_url = _base_url(args)
    token = _get_token(args, base_url)
    cancel = threading.Event()
    with _client(token, base_url) as client, _stop_signals_cancel(cancel) as stop:
        try:
            found = client.find_pictures(file_token, cancel=cancel)
        except Exception as exc:
            raise _api_failure(exc, args.file_token) from None
    if cancel.is_set():
        _say("cancelled")
        return stop.exit_code
    pics = found.pics
    sys.stdout.write(dump_pic_list(pics))
    sys.stdout.flush()
    _note(f"found {len(pics)} picture{'s' if len(pics) != 1 else ''} in {args.file_token!r}")
    for problem in found.problems:
        _say(f"unreadable picture cell: {problem}")
    return EXIT_FAILED if found.problems else EXIT_OK


def _iso_utc(wall: float | None) -> str | None:
    if wall is None:
        return None
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    """pic_key and tag, then sheet, cell and caption when the pic list knew them, then the URL or error."""
    ref = outcome.ref
    known: dict[str, Any] = {"pic_key": ref.pic_key, "tag": ref.tag}
    known.update({k: v for k, v in (("sheet", ref.sheet), ("cell", ref.cell), ("caption", ref.caption)) if v})
    if isinstance(outcome, Lease):
        return {**known, "pic_url": outcome.url, "expires_at": _iso_utc(outcome.expires_wall())}
    return {**known, "error": redact(outcome.message)}


def cmd_resolve(args: argparse.Namespace) -> int:
    _file_token(args)
    pics = _read_pics(args)
    _check_list_size(args, pics)
    base_url = _base_url(args)
    token = _get_token(args, base_url)
    cancel = threading.Event()
    with _client(token, base_url) as client, _stop_signals_cancel(cancel) as stop:
        try:
            outcomes = client.resolve(args.file_token, pics, cancel=cancel)
        except Exception as exc:
            raise _api_failure(exc, args.file_token) from None
    if not cancel.is_set():
        whole = _batch_level_failure(outcomes, args.file_token)
        if whole is not None:
            raise whole
    for outcome in outcomes:
        sys.stdout.write(json.dumps(_outcome_json(outcome), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    if cancel.is_set():
        _say("cancelled")
        return stop.exit_code
    failed = [o for o in outcomes if isinstance(o, PicFailure)]
    if failed:
        _say(f"{len(failed)} of {len(outcomes)} pictures got no download URL")
        return EXIT_FAILED
    return EXIT_OK


def _command_in(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """A command of another CLI module, imported when it runs (that module imports this one)."""

    def run(args: argparse.Namespace) -> int:
        commands: dict[str, Callable[[argparse.Namespace], int]] = importlib.import_module(module).COMMANDS
        return commands[name](args)

    return run


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "scan": cmd_scan,
    "resolve": cmd_resolve,
    "save": _command_in("kdocs_viewer.cli_save", "save"),
    **{
        name: _command_in("kdocs_viewer.cli_auth", name)
        for name in ("token", "login", "logout", "whoami", "files")
    },
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kdocs-pics``; returns the exit status (see EPILOG)."""
    _utf8_stdout()
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a.startswith("--tok") and a != "--token-stdin" for a in argv):
        # Said without echoing the arguments: the next one is probably a real token.
        print(
            f"{PROG}: error: there is no --token option (command lines are visible to other users and kept "
            f"in shell history).\n{TOKEN_HELP}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(bool(getattr(args, "verbose", False)))
    _Quiet.on = bool(getattr(args, "quiet", False))
    log.debug("kdocs-pics %s: %s", __version__, args.command)
    try:
        return COMMANDS[args.command](args)
    except CliError as exc:
        _say(str(exc))
        return exc.code
    except KeyboardInterrupt as exc:
        _say("cancelled")
        return exc.exit_code if isinstance(exc, _StopNow) else EXIT_CANCELLED
    except BrokenPipeError:
        _quiet_broken_pipe()
        return EXIT_OK
    except Exception as exc:  # a bug: say what, safely; the (redacted) traceback only with --verbose
        log.debug("unexpected error", exc_info=True)
        _say(f"unexpected error: {type(exc).__name__}: {exc}")
        return EXIT_API


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy's: cli_auth and cli_save import that module.
    from kdocs_viewer.cli import main as _main

    sys.exit(_main())
