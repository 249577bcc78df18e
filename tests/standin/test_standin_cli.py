"""The ``kdocs-viewer-standin`` command: base URL first on stdout, the documented curl example, clean exit."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from kdocs_viewer.standin.cli import build_parser, config_from_args

CURL_BODY = '{"pics":[{"pic_key":"ravXFmauNdDdDnapWimCvn","tag":"attachment"}]}'


@contextmanager
def running_cli(command: Sequence[str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start the CLI, read its first stdout line (the base URL), and stop it with SIGTERM at the end."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, encoding="utf-8"
    )
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline() if proc.stdout else ""))
    reader.start()
    reader.join(30)
    try:
        assert first and first[0], "the CLI printed no base URL"
        yield proc, first[0].strip()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(5)


def read_rest(proc: subprocess.Popen[str]) -> tuple[str, str]:
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()
    return out, err


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_module_cli_prints_base_url_first_and_serves_the_curl_example(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "kdocs_viewer.standin.cli", "--token", "xxxx", "--file-token", "1111",
               "--pictures", "12", "--access-log"]  # fmt: skip
    with running_cli(command, tmp_path) as (proc, base_url):
        assert base_url.startswith("http://127.0.0.1:")
        query = "access_token=xxxx&row_from=0&row_to=2&col_from=0&col_to=2"
        url = f"{base_url}/api/v1/openapi/et/1111/pictures/urls?{query}"
        result = subprocess.run(
            ["curl", "-s", "-X", "POST", url, "-H", "Content-Type: application/json", "-d", CURL_BODY],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert json.loads(result.stdout) == {
            "code": 0,
            "data": {"urls": [{"pic_key": "ravXFmauNdDdDnapWimCvn", "tag": "attachment", "pic_url": ""}]},
        }
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        out, err = read_rest(proc)
    assert out == ""  # nothing after the base URL on stdout
    assert "POST /api/v1/openapi/et/1111/pictures/urls 200" in err
    assert "xxxx" not in err and "access_token" not in err and "?" not in err.splitlines()[-1]


def test_console_script_stops_on_sigint(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "kdocs-viewer-standin"
    if not script.exists():
        pytest.skip("console script not installed (pip install -e .)")
    with running_cli([str(script), "--pictures", "3", "--no-disk-cache"], tmp_path) as (proc, base_url):
        assert base_url.startswith("http://")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
        read_rest(proc)


def test_bad_flags_are_usage_errors(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kdocs_viewer.standin.cli", "--dataset", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "does not exist" in result.stderr


def test_image_fail_rate_flag_spoils_picture_downloads_only(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "kdocs_viewer.standin.cli", "--pictures", "3", "--no-disk-cache",
               "--image-fail-rate", "1", "--access-log"]  # fmt: skip
    with running_cli(command, tmp_path) as (proc, base_url), httpx.Client(timeout=10) as http:
        response = http.post(
            f"{base_url}/api/v1/openapi/et/demo-workbook/pictures/urls",
            params={"access_token": "demo-token"},
            json={"pics": [{"pic_key": "nope", "tag": "local"}]},
        )
        assert response.json()["code"] == 0  # API calls take no image fault
        sheets = http.get(f"{base_url}/api/v1/openapi/et/demo-workbook/sheets?access_token=demo-token")
        cells = sheets.json()["data"]["sheets_info"][0]
        url = http.get(
            f"{base_url}/api/v1/openapi/et/demo-workbook/sheets/0/cells",
            params={"access_token": "demo-token", "row_from": 0, "row_to": cells["row_to"], "col_from": 0,
                    "col_to": cells["col_to"], "with_pic_url": "true"},
        ).json()["data"]["cells"]  # fmt: skip
        pic_url = next(c["pic_url"] for c in url if c.get("pic_url"))
        for _ in range(5):
            try:
                got = http.get(pic_url)
            except httpx.TransportError:
                continue
            assert got.status_code >= 500 or got.headers["Content-Type"].startswith("text/html")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        _, err = read_rest(proc)
    assert "POST /api/v1/openapi/et/demo-workbook/pictures/urls 200" in err
    assert "GET /img/demo-workbook/" in err
    bad = subprocess.run(
        [sys.executable, "-m", "kdocs_viewer.standin.cli", "--image-fail-rate", "2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2
    assert "image_fail_rate must be between 0 and 1" in bad.stderr


def test_flags_map_onto_the_config(tmp_path: Path) -> None:
    parser = build_parser()
    config = config_from_args(parser.parse_args([
        "--host", "127.0.0.2", "--port", "8123", "--token", "t", "--time-scale", "0.5", "--quota", "9",
        "--latency-ms", "20", "--fail-rate", "0.1", "--seed", "4", "--file-token", "ft",
        "--image-fail-rate", "0.25",
    ]))  # fmt: skip
    assert config.image_fail_rate == 0.25
    assert (config.host, config.port, config.token, config.pictures, config.time_scale) == (
        "127.0.0.2", 8123, "t", 240, 0.5)  # fmt: skip
    assert (config.quota, config.latency_ms, config.fail_rate, config.seed, config.file_token) == (
        9, 20.0, 0.1, 4, "ft")  # fmt: skip
    assert config.disk_cache and not config.access_log
    assert config.cell_shape == "flat"
    shaped = config_from_args(parser.parse_args(["--cell-shape", "dispimg-camel"]))
    assert shaped.cell_shape == "dispimg-camel"
    with pytest.raises(SystemExit):
        parser.parse_args(["--cell-shape", "round"])
    assert config_from_args(parser.parse_args(["--dataset", str(tmp_path)])).pictures == 0  # one per file
    assert (
        config_from_args(parser.parse_args(["--dataset", str(tmp_path), "--pictures", "10000"])).pictures
        == 10000
    )
