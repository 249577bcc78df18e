"""kdocs-pics as a script uses it (the way gallery-dl is used): each saved path as soon as it is written,
JSON lines, progress lines in a log, -q, --simulate, resolve's context, `token status --json` and the help.
A real subprocess against the stand-in over loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.standin.server import StandinServer
from tests.conftest import CANARY_TOKEN
from tests.e2e.test_cli import (
    FILE_TOKEN,
    TOKEN,
    Factory,
    cli_env,
    run_cli,
    saved_files,
    write_pics,
)

SAVE_FIELDS = {"path", "pic_key", "tag", "cell", "bytes", "status"}


def _save_args(server: StandinServer, pics_file: Path, out: Path, *extra: str) -> list[str]:
    return ["save", "--base-url", server.base_url, "--file-token", FILE_TOKEN, "--pics", str(pics_file),
            "--out", str(out), *extra]  # fmt: skip


def test_save_prints_each_path_as_soon_as_it_is_written(standin_factory: Factory, tmp_path: Path) -> None:
    # 250 ms per image GET, one at a time: six pictures take over a second after the first one is saved.
    server = standin_factory(pictures=6, latency_ms=250)
    pics = server.pictures()
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kdocs_viewer.cli",
         *_save_args(server, write_pics(tmp_path / "pics.json", pics), out, "--jobs", "1")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(KDOCS_ACCESS_TOKEN=TOKEN),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().decode().rstrip("\n")
        still_running = proc.poll() is None
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert still_running, "the first path came only when the save was over"
    assert Path(first).is_file() and Path(first).parent == out
    assert Path(first).read_bytes() == server.image_bytes(pics[0].pic_key)
    paths = [first, *rest.decode().splitlines()]
    assert sorted(paths) == sorted(str(p) for p in saved_files(out))
    assert len(paths) == 6


def test_save_json_lines_say_what_became_of_each_picture(standin_factory: Factory, tmp_path: Path) -> None:
    server = standin_factory(pictures=4, cell_shape="mixed")
    pics = server.pictures()
    ghost = PicRef("NoSuchPictureKey123456", "attachment")
    pics_file = write_pics(tmp_path / "pics.json", [*pics, ghost])
    out = tmp_path / "out"
    env = cli_env(KDOCS_ACCESS_TOKEN=TOKEN)

    first = run_cli(*_save_args(server, pics_file, out, "--json", "--on-conflict", "skip"), env=env)
    assert first.code == 1, first.err
    records = [json.loads(line) for line in first.out.splitlines()]
    assert all(set(r) >= SAVE_FIELDS for r in records)
    by_key = {r["pic_key"]: r for r in records}
    assert set(by_key) == {p.pic_key for p in [*pics, ghost]}
    for ref in pics:
        record = by_key[ref.pic_key]
        assert record["status"] == "saved" and record["tag"] == ref.tag and record["cell"] == ref.cell
        assert Path(record["path"]).read_bytes() == server.image_bytes(ref.pic_key)
        assert record["bytes"] == len(server.image_bytes(ref.pic_key))
    assert by_key[ghost.pic_key]["status"] == "failed" and by_key[ghost.pic_key]["path"] is None
    assert by_key[ghost.pic_key]["reason"]
    assert "failed: NoSuchPictureKey123456" in first.err  # errors stay on stderr too

    again = run_cli(*_save_args(server, write_pics(pics_file, pics), out, "--json", "--on-conflict", "skip"),
                    env=env)  # fmt: skip
    assert again.code == 0, again.err
    skipped = [json.loads(line) for line in again.out.splitlines()]
    assert [r["status"] for r in skipped] == ["skipped"] * 4
    assert {r["path"] for r in skipped} == {by_key[p.pic_key]["path"] for p in pics}
    assert all(r["bytes"] == 0 for r in skipped)


def test_without_a_terminal_progress_is_a_line_every_few_seconds(
    standin_factory: Factory, tmp_path: Path
) -> None:
    server = standin_factory(pictures=6, latency_ms=200)
    pics_file = write_pics(tmp_path / "pics.json", server.pictures())
    env = cli_env(KDOCS_ACCESS_TOKEN=TOKEN, KDOCS_PICS_PROGRESS_SECONDS="0.3")
    run = run_cli(*_save_args(server, pics_file, tmp_path / "out", "--jobs", "1"), env=env)
    assert run.code == 0, run.err
    progress = [line for line in run.err.splitlines() if line.startswith("kdocs-pics: progress: ")]
    assert progress, run.err
    assert all(" of 6 pictures done (" in line for line in progress)
    assert "\r" not in run.err and "pic/s" not in run.err  # no tqdm bar in a log
    assert run.err.rstrip().splitlines()[-1].startswith("kdocs-pics: saved 6, skipped 0, failed 0 of 6")


def test_quiet_keeps_only_the_errors(standin_factory: Factory, tmp_path: Path) -> None:
    small = standin_factory(pictures=3)
    env = cli_env(KDOCS_ACCESS_TOKEN=TOKEN, KDOCS_PICS_PROGRESS_SECONDS="0")
    pics = small.pictures()[:3]
    ok = run_cli(*_save_args(small, write_pics(tmp_path / "a.json", pics), tmp_path / "a", "-q"), env=env)
    assert ok.code == 0 and ok.out == "" and ok.err == ""
    assert len(saved_files(tmp_path / "a")) == 3

    ghost = PicRef("NoSuchPictureKey123456", "attachment")
    bad = run_cli(*_save_args(small, write_pics(tmp_path / "b.json", [*pics, ghost]), tmp_path / "b", "-q"),
                  env=env)  # fmt: skip
    assert bad.code == 1 and bad.out == ""
    [line] = bad.err.splitlines()
    assert line.startswith("kdocs-pics: failed: ") and "NoSuchPictureKey123456" in line

    scan = run_cli("scan", "-q", "--base-url", small.base_url, "--file-token", FILE_TOKEN, env=env)
    assert scan.code == 0 and scan.err == "" and '"pics"' in scan.out  # the data still goes to stdout
    files = run_cli("files", "-q", "--base-url", small.base_url, env=env)
    assert files.code == 0 and files.err == "" and files.out.strip()
    loud = run_cli("files", "--base-url", small.base_url, env=env)
    count = len(files.out.splitlines())
    assert loud.out == files.out and loud.err == f"kdocs-pics: {count} spreadsheets\n"  # not with -q


def test_simulate_prints_the_names_and_touches_nothing(standin_factory: Factory, tmp_path: Path) -> None:
    small = standin_factory(pictures=3)
    pics = [PicRef("k1", "attachment", cell="Sheet1!B2", caption="白色帆布包"),
            PicRef("k2", "local", cell="Sheet1!B3", caption="白色帆布包"),
            PicRef("k3", "cloud", caption="Golden candle")]  # fmt: skip
    out = tmp_path / "out"
    pics_file = write_pics(tmp_path / "pics.json", pics)
    # No token anywhere and a base URL nobody listens on: a simulation needs neither.
    args = ["save", "--file-token", FILE_TOKEN, "--pics", str(pics_file), "--out", str(out),
            "--template", "{caption}", "--simulate"]  # fmt: skip
    run = run_cli(*args, env=cli_env())
    assert run.code == 0, run.err
    assert run.out.splitlines() == [str(out / "白色帆布包.*"), str(out / "白色帆布包 (2).*"),
                                    str(out / "Golden candle.*")]  # fmt: skip
    assert "3 pictures would be saved" in run.err
    assert not out.exists()
    as_json = run_cli(*args, "--json", "-q", env=cli_env())
    assert as_json.code == 0 and as_json.err == ""
    records = [json.loads(line) for line in as_json.out.splitlines()]
    assert [r["status"] for r in records] == ["simulated"] * 3
    assert [r["cell"] for r in records] == ["Sheet1!B2", "Sheet1!B3", None]
    assert not small.request_log()


def test_resolve_says_the_sheet_cell_and_caption_it_knows(standin_factory: Factory, tmp_path: Path) -> None:
    server = standin_factory(pictures=3)
    pics = server.pictures()
    bare = PicRef(pics[2].pic_key, pics[2].tag)  # no context: none is made up
    pics_file = write_pics(tmp_path / "pics.json", [*pics[:2], bare])
    args = ["--base-url", server.base_url, "--file-token", FILE_TOKEN, "--pics", str(pics_file)]
    run = run_cli("resolve", *args, env=cli_env(KDOCS_ACCESS_TOKEN=TOKEN))
    assert run.code == 0, run.err
    lines = [json.loads(line) for line in run.out.splitlines()]
    for ref, line in zip(pics[:2], lines, strict=False):
        assert (line["sheet"], line["cell"], line["caption"]) == (ref.sheet, ref.cell, ref.caption)
        assert line["pic_url"]
    assert ref.cell and ref.caption  # the stand-in's workbook does name them
    assert not {"sheet", "cell", "caption"} & set(lines[2])


def test_token_status_json_says_where_the_token_would_come_from() -> None:
    run = run_cli("token", "status", "--json", env=cli_env(KDOCS_ACCESS_TOKEN=CANARY_TOKEN))
    assert run.code == 4  # this test's environment has no keyring
    status = json.loads(run.out)
    assert status["base_url"] == "https://developer.kdocs.cn"
    assert status["token"] == "unavailable" and status["detail"]
    assert status["keyring"] == "no keyring backend"
    assert status["env_token_set"] is True
    assert CANARY_TOKEN not in run.both
    wrong = run_cli("token", "clear", "--json")
    assert wrong.code == 2 and "--json goes with `token status`" in wrong.err


def test_help_has_an_example_per_command_and_the_exit_statuses_once() -> None:
    top = run_cli("--help")
    assert top.code == 0
    for line in ("0    success", "1    some pictures", "2    usage", "3    authentication", "4    network",
                 "129  stopped by SIGHUP", "130  cancelled (Ctrl+C)", "143  stopped by SIGTERM"):  # fmt: skip
        assert top.out.count(line) == 1
    for command in ("scan", "resolve", "save", "token", "login", "logout", "whoami", "files"):
        sub = run_cli(command, "--help")
        assert sub.code == 0
        example = sub.out.split("example:\n", 1)[1].splitlines()[0]
        assert example.startswith(f"  kdocs-pics {command}") or example.startswith("  kdocs-pics scan")
        assert "exit status" not in sub.out and "130  cancelled" not in sub.out
        assert "kdocs-pics --help" in sub.out
