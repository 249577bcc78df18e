"""``kdocs-viewer-standin``: run the stand-in KDocs server from a shell.

The first line on stdout is the base URL (flushed), so scripts can read it and go; then it serves until
SIGINT/SIGTERM. Its access log (``--access-log``) prints ``METHOD path status`` — never query strings,
which carry the access token.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from kdocs_viewer.standin.config import CELL_SHAPES, StandinConfig
from kdocs_viewer.standin.server import StandinServer


def build_parser() -> argparse.ArgumentParser:
    defaults = StandinConfig()
    parser = argparse.ArgumentParser(
        prog="kdocs-viewer-standin",
        description="A stand-in for the KDocs (金山文档) open platform: picture URLs, sheets and cells of a "
        "demo workbook (or of a folder of images), with expiring signed image URLs, quota and fault knobs.",
    )
    parser.add_argument("--host", default=defaults.host, help="address to listen on (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=defaults.port, help="port, 0 = a free one (default %(default)s)"
    )
    parser.add_argument(
        "--token", default=defaults.token, help="the access token to accept (default %(default)s)"
    )
    parser.add_argument(
        "--pictures",
        type=int,
        default=None,
        help=f"number of pictures (default {defaults.pictures}; --dataset: one per file, more cycles)",
    )
    parser.add_argument(
        "--dataset",
        type=Path,
        default=None,
        help="serve the images of this folder (tags/captions from manifest.json or manifest.csv if present)",
    )
    parser.add_argument(
        "--time-scale", type=float, default=defaults.time_scale, help="multiplies every URL lifetime"
    )
    parser.add_argument(
        "--quota", type=int, default=defaults.quota, help="API calls per day (default %(default)s)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=defaults.latency_ms, help="delay of every request"
    )
    parser.add_argument(
        "--bandwidth-mbps",
        type=float,
        default=defaults.bandwidth_mbps,
        help="one line of this many Mbit/s shared by every picture download, on top of --latency-ms "
        "(default: unlimited)",
    )
    parser.add_argument(
        "--no-range",
        action="store_true",
        help="ignore HTTP Range on picture URLs: every GET is answered whole with 200, as some servers do",
    )
    parser.add_argument(
        "--fail-rate", type=float, default=defaults.fail_rate, help="fraction of API calls that fail"
    )
    parser.add_argument(
        "--image-fail-rate",
        type=float,
        default=defaults.image_fail_rate,
        help="fraction of picture downloads that fail: HTTP 5xx, a reset connection, a truncated body or "
        "an HTML login page answered with 200 (a captive portal)",
    )
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help="seed of the demo workbook and of faults"
    )
    parser.add_argument("--file-token", default=defaults.file_token, help="the workbook's file token")
    add_sign_in_arguments(parser, defaults)
    parser.add_argument(
        "--no-disk-cache",
        action="store_true",
        help="do not keep generated phone-size photos under $XDG_CACHE_HOME/kdocs-viewer/standin",
    )
    parser.add_argument("--access-log", action="store_true", help="log METHOD path status lines to stderr")
    parser.add_argument(
        "--cell-shape",
        choices=CELL_SHAPES,
        default=defaults.cell_shape,
        help="how the cells API shows picture cells: pic_key on the cell (flat, the default), "
        '=DISPIMG("ID_…",1) with is_cell_pic/pic_data/sha1 in snake_case or camelCase, or a mix',
    )
    return parser


def add_sign_in_arguments(parser: argparse.ArgumentParser, defaults: StandinConfig) -> None:
    group = parser.add_argument_group("signing in and file lists")
    group.add_argument("--app-id", default=defaults.app_id, help="the app's APPID (default %(default)s)")
    group.add_argument(
        "--app-key", default=defaults.app_key, help="the app's APPKEY (default: the demo key, demo-key)"
    )
    group.add_argument(
        "--token-lifetime",
        type=float,
        default=defaults.token_lifetime,
        help="seconds an access token lives, times --time-scale (default %(default)g)",
    )
    group.add_argument(
        "--code-lifetime",
        type=float,
        default=defaults.code_lifetime,
        help="seconds an authorization code can be exchanged (default %(default)g; not scaled)",
    )
    group.add_argument(
        "--auto-consent",
        action="store_true",
        help="the consent page redirects at once, as if Allow was pressed",
    )
    group.add_argument(
        "--workbooks",
        type=int,
        default=defaults.workbooks,
        help="spreadsheets in the user's file lists, the demo workbook included (default %(default)s)",
    )


def sign_in_config(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "app_id": args.app_id,
        "app_key": args.app_key,
        "token_lifetime": args.token_lifetime,
        "code_lifetime": args.code_lifetime,
        "auto_consent": args.auto_consent,
        "workbooks": args.workbooks,
    }


def config_from_args(args: argparse.Namespace) -> StandinConfig:
    pictures = args.pictures
    if pictures is None:
        pictures = 0 if args.dataset is not None else StandinConfig.pictures
    return StandinConfig(
        host=args.host,
        port=args.port,
        token=args.token,
        pictures=pictures,
        dataset=args.dataset,
        time_scale=args.time_scale,
        quota=args.quota,
        latency_ms=args.latency_ms,
        bandwidth_mbps=args.bandwidth_mbps,
        honour_range=not args.no_range,
        fail_rate=args.fail_rate,
        image_fail_rate=args.image_fail_rate,
        seed=args.seed,
        file_token=args.file_token,
        disk_cache=not args.no_disk_cache,
        access_log=args.access_log,
        **sign_in_config(args),
        cell_shape=args.cell_shape,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        server = StandinServer(config)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO if args.access_log else logging.WARNING, format="%(message)s")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        base_url = server.start()
    except OSError as exc:
        print(f"kdocs-viewer-standin: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    print(base_url, flush=True)
    print(
        f"kdocs-viewer-standin: file token {config.file_token!r}, {len(server.workbook.pictures)} pictures "
        f"in {len(server.workbook.sheets)} sheet(s); Ctrl+C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stop.is_set() and server.running:
            stop.wait(0.2)
    finally:
        started = time.monotonic()
        server.stop()
        logging.getLogger(__name__).debug("stopped in %.2f s", time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
