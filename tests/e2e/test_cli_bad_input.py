"""kdocs-pics gives every bad input a clear no: exit 2, a message naming what is wrong, and nothing sent or
written. Real subprocesses against the real stand-in over loopback; its request log shows what was sent."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.piclist import CONFIRM_PICTURES_ABOVE, dump_pic_list
from kdocs_viewer.standin.server import StandinServer
from tests.e2e.test_cli import FILE_TOKEN, TOKEN, Run, cli_env, run_cli, saved_files, write_pics

Factory = Callable[..., StandinServer]
ENV = cli_env(KDOCS_ACCESS_TOKEN=TOKEN)


@pytest.fixture
def server(standin_factory: Factory) -> StandinServer:
    return standin_factory(pictures=6)


def assert_refused(run: Run, *texts: str) -> None:
    """Exit 2, each text on stderr, nothing on stdout."""
    assert run.code == 2, run.err
    for text in texts:
        assert text in run.err, run.err
    assert "unexpected error" not in run.err
    assert run.out == ""


def commands(
    server: StandinServer, pics_file: Path, out: Path, *, file_token: str = FILE_TOKEN
) -> list[list[str]]:
    """scan, resolve and save, each against ``server`` with ``file_token``."""
    base = ["--base-url", server.base_url, "--file-token", file_token]
    return [
        ["scan", *base],
        ["resolve", *base, "--pics", str(pics_file)],
        ["save", *base, "--pics", str(pics_file), "--out", str(out)],
    ]


# ---- pic lists ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"pics": [\n  {"pic_key": "k", "tag": ' + "1" * 100_000 + "}\n]}",
         "line 2, column 27: a number with 100000 digits is too long (at most 4300)"),
        ('{"pics": [{"pic_key": "a", "tag": "local",\n "pic_key": "b"}]}',
         "line 2, column 2: the key 'pic_key' appears twice in one object (first on line 1)"),
        ("file,name\nphoto.png,cat\n",
         "line 1: unknown columns 'file', 'name' (expected pic_key and tag, optionally sheet"),
        ('[{"pic_key": "..", "tag": "local"}]', "item 1: pic_key cannot be '..'"),
    ],
    ids=["huge-number", "repeated-key", "unknown-columns", "dot-dot-key"],
)  # fmt: skip
def test_a_bad_pic_list_costs_no_call_and_writes_nothing(
    server: StandinServer, tmp_path: Path, text: str, expected: str
) -> None:
    pics_file = tmp_path / "pics.txt"
    pics_file.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    for command in commands(server, pics_file, out)[1:]:
        assert_refused(run_cli(*command, env=ENV), f"bad pic list {pics_file}:", expected)
    assert server.request_log() == []
    assert not out.exists()


# ---- file tokens ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_token", "expected"),
    [
        ("..", "the file token cannot be '..'"),
        (".", "the file token cannot be '.'"),
        ("", "the file token is empty"),
        ("a/b", "the file token 'a/b' contains a slash (/ or \\)"),
        ("../../etc/passwd", "the file token '../../etc/passwd' contains a slash (/ or \\)"),
        ("a\\b", "the file token 'a\\\\b' contains a slash (/ or \\)"),
        ("demo workbook", "the file token 'demo workbook' contains whitespace"),
        (
            "demo\u200bworkbook",
            "the file token 'demo\\u200bworkbook' contains a control or invisible character",
        ),
        ("x" * 300, "the file token is 300 characters long (at most 256)"),
    ],
)
def test_a_bad_file_token_is_refused_before_any_url_is_built(
    server: StandinServer, tmp_path: Path, file_token: str, expected: str
) -> None:
    pics_file = write_pics(tmp_path / "pics.json", server.pictures()[:2])
    out = tmp_path / "out"
    for command in commands(server, pics_file, out, file_token=file_token):
        assert_refused(run_cli(*command, env=ENV), "--file-token: " + expected)
    assert server.request_log() == []
    assert not out.exists()


def test_a_file_token_that_needs_encoding_reaches_the_server_as_one_segment(
    server: StandinServer,
) -> None:
    run = run_cli("scan", "--base-url", server.base_url, "--file-token", "a?b#c%d", env=ENV)
    assert run.code == 2 and "unknown file token 'a?b#c%d'" in run.err
    sent = [(e.method, e.path) for e in server.request_log()]
    assert sent == [("GET", "/api/v1/openapi/et/a?b#c%d/sheets")]  # the server's view: decoded, one segment


# ---- the base URL ---------------------------------------------------------------------------------------


class ConnectionRecorder:
    """A TCP listener that notes every connection made to it (and answers nothing)."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


@pytest.fixture
def proxy() -> Iterator[ConnectionRecorder]:
    """Where every request to a remote host would go (HTTPS_PROXY): it must never see one."""
    recorder = ConnectionRecorder()
    yield recorder
    recorder.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "",
            "--base-url: the API base URL is empty (leave out --base-url to use https://developer.kdocs.cn)",
        ),
        ("http://127.0.0.1:99999/", "--base-url: the API base URL has port 99999, outside 1–65535"),
        ("127.0.0.1:8080", "--base-url: the API base URL has no scheme: write it as https://host"),
        ("ftp://127.0.0.1/", "must start with https:// (or http:// to this machine), not ftp:"),
        ("https://kdocs.example/?x=1", "--base-url: the API base URL must not contain a query (?…)"),
        ("https://kdocs.example/#x", "--base-url: the API base URL must not contain a fragment (#…)"),
        ("https://me:pw-secret@kdocs.example", "the API base URL must not contain user credentials"),
        ("http://kdocs.example", "Refusing to send the access token over plain http to kdocs.example"),
    ],
)
def test_a_bad_base_url_is_refused_and_nothing_leaves_the_machine(
    server: StandinServer, proxy: ConnectionRecorder, tmp_path: Path, given: str, expected: str
) -> None:
    pics_file = write_pics(tmp_path / "pics.json", server.pictures()[:2])
    out = tmp_path / "out"
    env = cli_env(KDOCS_ACCESS_TOKEN=TOKEN, HTTPS_PROXY=f"http://127.0.0.1:{proxy.port}",
                  HTTP_PROXY=f"http://127.0.0.1:{proxy.port}", NO_PROXY="")  # fmt: skip
    for command in commands(server, pics_file, out):
        command[command.index("--base-url") + 1] = given
        run = run_cli(*command, env=env)
        assert_refused(run, expected)
        assert "pw-secret" not in run.err
    assert_refused(run_cli("token", "status", "--base-url", given, env=env), expected)
    assert proxy.connections == 0
    assert server.request_log() == []
    assert not out.exists()


def test_an_empty_base_url_variable_is_refused_too(proxy: ConnectionRecorder) -> None:
    env = cli_env(KDOCS_ACCESS_TOKEN=TOKEN, KDOCS_BASE_URL="", HTTPS_PROXY=f"http://127.0.0.1:{proxy.port}")
    run = run_cli("scan", "--file-token", FILE_TOKEN, env=env)
    assert_refused(run, "KDOCS_BASE_URL: the API base URL is empty (unset KDOCS_BASE_URL to use https://")
    assert proxy.connections == 0


# ---- big lists ------------------------------------------------------------------------------------------


def test_a_list_above_the_limit_needs_yes_and_says_what_it_costs(
    server: StandinServer, tmp_path: Path
) -> None:
    count = CONFIRM_PICTURES_ABOVE + 1
    pics = [PicRef(f"key{i:06d}", "local") for i in range(count)]
    pics_file = tmp_path / "pics.json"
    pics_file.write_text(dump_pic_list(pics), encoding="utf-8")
    out = tmp_path / "out"
    cost = f"the pic list has {count:,} pictures: resolving them costs 101 API calls"
    for command in commands(server, pics_file, out)[1:]:
        assert_refused(run_cli(*command, env=ENV), cost, "Add --yes to go ahead.")
    assert server.request_log() == []
    assert not out.exists()

    at_limit = write_pics(tmp_path / "limit.json", pics[:CONFIRM_PICTURES_ABOVE])
    base = ["--base-url", server.base_url, "--file-token", FILE_TOKEN]
    run = run_cli("resolve", *base, "--pics", str(at_limit), env=ENV)
    assert run.code == 1  # no picture of these keys exists: each answered "no URL", none refused up front
    assert server.api_calls_today() == 100

    yes = commands(server, pics_file, out)[1]
    run = run_cli(*yes, "--yes", env=ENV)
    assert run.code == 1, run.err
    assert len(run.out.splitlines()) == count
    assert all("error" in json.loads(line) for line in run.out.splitlines()[:3])
    assert server.api_calls_today() == 100 + 101


# ---- answers that are not pictures ----------------------------------------------------------------------


def test_a_login_page_instead_of_a_picture_is_a_failure_never_a_file(
    server: StandinServer, tmp_path: Path
) -> None:
    pics = server.pictures()[:3]
    pics_file = write_pics(tmp_path / "pics.json", pics)
    out = tmp_path / "out"
    server.queue_image_faults(["html"])
    base = ["--base-url", server.base_url, "--file-token", FILE_TOKEN]
    run = run_cli("save", *base, "--pics", str(pics_file), "--out", str(out), "--jobs", "1", env=ENV)
    assert run.code == 1, run.err
    assert (
        f"failed: {pics[0].label()} ({pics[0].pic_key}): download failed: the server sent an HTML page "
        "(“Wi-Fi login”), not a picture"
    ) in run.err
    assert "saved 2, skipped 0, failed 1 of 3 pictures" in run.err
    files = saved_files(out)
    assert [p.read_bytes() for p in files] == [server.image_bytes(p.pic_key) for p in pics[1:]]
    assert not [p for p in out.iterdir() if p.suffix == ".bin" or p.name.endswith(".part")]


def test_a_picture_host_that_always_fails_leaves_an_empty_folder(
    standin_factory: Factory, tmp_path: Path
) -> None:
    server = standin_factory(pictures=6, image_fail_rate=1.0, seed=2)
    pics = server.pictures()[:5]
    out = tmp_path / "out"
    pics_file = write_pics(tmp_path / "pics.json", pics)
    base = ["--base-url", server.base_url, "--file-token", FILE_TOKEN]
    run = run_cli("save", *base, "--pics", str(pics_file), "--out", str(out), env=ENV)
    assert run.code == 1, run.err
    assert "saved 0, skipped 0, failed 5 of 5 pictures" in run.err
    reasons = [line for line in run.err.splitlines() if line.startswith("kdocs-pics: failed: ")]
    assert len(reasons) == 5 and all("download failed: the " in line for line in reasons)
    assert list(out.iterdir()) == []  # not even a part file
