"""kdocs-pics reads pic list files by the viewer's rules: UTF-8, UTF-16 or GB18030 text, never binary."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kdocs_viewer.standin.server import StandinServer
from tests.e2e.test_cli import FILE_TOKEN, TOKEN, cli_env, run_cli


@pytest.fixture
def small(standin_factory: Callable[..., StandinServer]) -> StandinServer:
    return standin_factory(pictures=4)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16"])
def test_resolve_reads_a_chinese_windows_list(small: StandinServer, tmp_path: Path, encoding: str) -> None:
    pics = small.pictures()[:2]
    path = tmp_path / "图片.txt"
    path.write_text("# 工作簿的图片\n" + "".join(f"{r.pic_key} {r.tag}\n" for r in pics), encoding=encoding)
    run = run_cli(
        "resolve", "--base-url", small.base_url, "--file-token", FILE_TOKEN, "--pics", str(path),
        env=cli_env(KDOCS_ACCESS_TOKEN=TOKEN),
    )  # fmt: skip
    assert run.code == 0, run.err
    resolved = [json.loads(line) for line in run.out.splitlines()]
    assert [(d["pic_key"], d["tag"]) for d in resolved] == [r.ident for r in pics]


def test_a_binary_file_is_refused_by_name_before_any_call(small: StandinServer, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    run = run_cli(
        "resolve", "--base-url", small.base_url, "--file-token", FILE_TOKEN, "--pics", str(path),
        env=cli_env(KDOCS_ACCESS_TOKEN=TOKEN),
    )  # fmt: skip
    assert run.code == 2
    assert f"{path} is not a text file." in run.err
    assert small.api_calls_today() == 0
