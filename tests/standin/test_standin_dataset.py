"""Serving a folder of real image files: manifest (JSON or CSV), round-robin tags, cycling to N pictures."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image

from kdocs_viewer.core.contract import CELLS_PATH, PICTURE_URLS_PATH, STANDIN_TAGS, TOKEN_PARAM
from kdocs_viewer.standin.dataset import build_folder_workbook
from kdocs_viewer.standin.server import StandinServer

Factory = Callable[..., StandinServer]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(folder / "a-sunset.jpg", "JPEG")
    Image.new("RGBA", (20, 20), (0, 90, 200, 128)).save(folder / "b-logo.png", "PNG")
    Image.new("RGB", (32, 32), (10, 200, 10)).save(folder / "c-leaf.webp", "WEBP")
    (folder / "notes.txt").write_text("not an image")
    return folder


def resolve_all(http: httpx.Client, server: StandinServer) -> list[str]:
    refs = server.pictures()
    response = http.post(
        server.base_url + PICTURE_URLS_PATH.format(file_token=server.config.file_token),
        params={TOKEN_PARAM: server.config.token},
        json={"pics": [{"pic_key": r.pic_key, "tag": r.tag} for r in refs]},
    )
    return [u["pic_url"] for u in response.json()["data"]["urls"]]


def test_folder_without_manifest_round_robins_tags(
    standin_factory: Factory, photos: Path, http: httpx.Client
) -> None:
    server = standin_factory(dataset=photos, pictures=0)
    refs = server.pictures()
    assert [r.caption for r in refs] == ["a-sunset", "b-logo", "c-leaf"]
    assert [r.tag for r in refs] == list(STANDIN_TAGS)
    assert [r.cell for r in refs] == ["Photos!A3", "Photos!A4", "Photos!A5"]
    for ref, url in zip(refs, resolve_all(http, server), strict=True):
        response = http.get(url)
        file = (
            photos
            / {"a-sunset": "a-sunset.jpg", "b-logo": "b-logo.png", "c-leaf": "c-leaf.webp"}[ref.caption or ""]
        )
        assert response.content == file.read_bytes() == server.image_bytes(ref.pic_key)
    types = [http.get(u).headers["Content-Type"] for u in resolve_all(http, server)]
    assert types == ["image/jpeg", "image/png", "image/webp"]


def test_json_manifest_gives_tags_and_captions(standin_factory: Factory, photos: Path) -> None:
    manifest = {"b-logo.png": {"tag": "attachment", "caption": "公司标志 Logo"}, "c-leaf.webp": "custom-tag"}
    (photos / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    refs = standin_factory(dataset=photos, pictures=0).pictures()
    assert [(r.tag, r.caption) for r in refs] == [
        ("attachment", "a-sunset"),
        ("attachment", "公司标志 Logo"),
        ("custom-tag", "c-leaf"),
    ]


def test_json_manifest_as_a_list(photos: Path) -> None:
    (photos / "manifest.json").write_text(
        json.dumps({"pictures": [{"file": "a-sunset.jpg", "tag": "cloud"}]})
    )
    workbook = build_folder_workbook("f", photos, 0, seed=1)
    assert workbook.pictures[0].tag == "cloud"


def test_csv_manifest(standin_factory: Factory, photos: Path) -> None:
    (photos / "manifest.csv").write_text(
        "file,tag,caption\nc-leaf.webp,local,Green leaf\na-sunset.jpg,,Sunset\n"
    )
    refs = standin_factory(dataset=photos, pictures=0).pictures()
    assert [(r.tag, r.caption) for r in refs] == [
        ("attachment", "Sunset"),
        ("local", "b-logo"),
        ("local", "Green leaf"),
    ]


def test_cycling_makes_n_distinct_pictures(
    standin_factory: Factory, photos: Path, http: httpx.Client
) -> None:
    server = standin_factory(dataset=photos, pictures=8)
    refs = server.pictures()
    assert len({r.pic_key for r in refs}) == 8
    assert [r.caption for r in refs][:7] == [
        "a-sunset",
        "b-logo",
        "c-leaf",
        "a-sunset (2)",
        "b-logo (2)",
        "c-leaf (2)",
        "a-sunset (3)",
    ]
    urls = resolve_all(http, server)
    assert http.get(urls[3]).content == http.get(urls[0]).content == (photos / "a-sunset.jpg").read_bytes()
    cells_path = CELLS_PATH.format(file_token=server.config.file_token, sheet_idx=0)
    cells = http.get(
        server.base_url + cells_path,
        params={TOKEN_PARAM: "demo-token", "row_from": 0, "row_to": 20, "col_from": 0, "col_to": 3},
    ).json()["data"]["cells"]
    assert [c["pic_key"] for c in cells if "pic_key" in c] == [r.pic_key for r in refs]


def test_fewer_pictures_than_files_takes_the_first(photos: Path) -> None:
    assert [p.caption for p in build_folder_workbook("f", photos, 2, seed=1).pictures] == [
        "a-sunset",
        "b-logo",
    ]


@pytest.mark.parametrize(
    ("name", "content", "mentions"),
    [
        ("manifest.json", '{"missing.jpg": "local"}', "missing.jpg"),
        ("manifest.json", "{not json", "manifest.json"),
        ("manifest.json", "[{}]", "item 1"),
        ("manifest.csv", "tag,caption\nlocal,x\n", "file"),
    ],
)
def test_bad_manifests_say_what_is_wrong(photos: Path, name: str, content: str, mentions: str) -> None:
    (photos / name).write_text(content)
    with pytest.raises(ValueError, match=mentions):
        build_folder_workbook("f", photos, 0, seed=1)


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no image files"):
        build_folder_workbook("f", tmp_path, 0, seed=1)
    with pytest.raises(ValueError, match="does not exist"):
        build_folder_workbook("f", tmp_path / "nope", 0, seed=1)


def test_copies_of_a_file_share_one_read(photos: Path) -> None:
    from kdocs_viewer.standin.images import ImageStore

    workbook = build_folder_workbook("f", photos, 30, seed=1)
    store = ImageStore(workbook, 1)
    for picture in workbook.pictures:
        store.get(picture.pic_key)
    assert store.generated == 3
    first, fourth = workbook.pictures[0], workbook.pictures[3]
    assert store.get(first.pic_key) is store.get(fourth.pic_key)
