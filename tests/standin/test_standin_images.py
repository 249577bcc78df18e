"""Signed picture URLs and the generated images: signature, expiry, revocation, bytes, kinds, determinism."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
import pytest
from PIL import Image, ImageOps

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.contract import PICTURE_URLS_PATH, TAG_LIFETIMES, TOKEN_PARAM, UNBOUNDED_TAGS
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.standin import dataset, images
from kdocs_viewer.standin.app import expires_param
from kdocs_viewer.standin.server import StandinServer

Factory = Callable[..., StandinServer]
SCALE = 0.005  # 300 s → 1.5 s


def resolve(http: httpx.Client, server: StandinServer, refs: list[PicRef]) -> list[str]:
    response = http.post(
        server.base_url + PICTURE_URLS_PATH.format(file_token=server.config.file_token),
        params={TOKEN_PARAM: server.config.token},
        json={"pics": [{"pic_key": r.pic_key, "tag": r.tag} for r in refs]},
    )
    body = response.json()
    assert body["code"] == 0
    return [item["pic_url"] for item in body["data"]["urls"]]


def with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query="&".join(f"{k}={v}" for k, v in query.items())))


def first_of_tag(server: StandinServer, tag: str) -> PicRef:
    return next(r for r in server.pictures() if r.tag == tag)


def test_signed_url_serves_exact_bytes_with_type_and_length(
    standin: StandinServer, http: httpx.Client
) -> None:
    refs = standin.pictures()[:6]
    for ref, url in zip(refs, resolve(http, standin, refs), strict=True):
        response = http.get(url)
        assert response.status_code == 200
        data = standin.image_bytes(ref.pic_key)
        assert response.content == data
        assert int(response.headers["Content-Length"]) == len(data)
        assert response.headers["Content-Type"] == standin.picture_info(ref.pic_key).content_type
        assert standin.image_gets(ref.pic_key) == 1


def test_url_shapes_follow_the_tag(standin: StandinServer, http: httpx.Client) -> None:
    for tag in ("attachment", "local", "cloud"):
        ref = first_of_tag(standin, tag)
        (url,) = resolve(http, standin, [ref])
        query = parse_qs(urlsplit(url).query)
        assert urlsplit(url).path == f"/img/{standin.config.file_token}/{ref.pic_key}"
        if tag in UNBOUNDED_TAGS:
            assert set(query) == {"Sig"}
        else:
            assert set(query) == {"Expires", "Sig"}
            remaining = float(query["Expires"][0]) - time.time()
            assert TAG_LIFETIMES[tag] - 30 < remaining <= TAG_LIFETIMES[tag]


# Issued at a fixed instant whose sub-millisecond part (0.6 ms) would round *up* to the nearest millisecond.
ISSUED_NS = 1_700_000_000_123_600_000


@pytest.mark.parametrize(
    ("lifetime", "expires"),
    [
        (300.0, "1700000300.123"),
        (300.0 * SCALE, "1700000001.623"),
        (0.0004, "1700000000.124"),  # the float 0.0004 is a hair above 4/10000: ends just past .124
        (0.0014, "1700000000.124"),  # the float 0.0014 is a hair below 14/10000: ends just before .125
    ],
)
def test_expires_is_rounded_down_so_a_url_never_outlives_its_lifetime(lifetime: float, expires: str) -> None:
    text = expires_param(ISSUED_NS, lifetime)
    assert text == expires
    promised = Fraction(ISSUED_NS, 1_000_000_000) + Fraction(lifetime)
    assert promised - Fraction(1, 1000) < Fraction(text) <= promised


@pytest.mark.parametrize(
    "change",
    [
        {"Sig": "AAAA"},
        {"Sig": None},
        {"Expires": "99999999999"},
        {"Expires": None},
        {"Expires": "nan"},
    ],
)
def test_bad_signature_or_tampered_expiry_is_403(
    standin: StandinServer, http: httpx.Client, change: dict[str, str | None]
) -> None:
    (url,) = resolve(http, standin, [first_of_tag(standin, "attachment")])
    assert http.get(with_query(url, **change)).status_code == 403
    assert http.get(url).status_code == 200


def test_cloud_url_cannot_grow_an_expiry(standin: StandinServer, http: httpx.Client) -> None:
    (url,) = resolve(http, standin, [first_of_tag(standin, "cloud")])
    assert http.get(with_query(url, Expires="99999999999")).status_code == 403


def test_unknown_picture_or_file_is_404(standin: StandinServer, http: httpx.Client) -> None:
    (url,) = resolve(http, standin, standin.pictures()[:1])
    assert http.get(url.replace(standin.config.file_token, "other-file")).status_code == 404
    assert http.get(re.sub(r"/img/([^/]+)/[^?]+", r"/img/\1/ravXFmauNdDdDnapWimCvn", url)).status_code == 404


def test_urls_expire_with_the_time_scale(standin_factory: Factory, http: httpx.Client) -> None:
    server = standin_factory(time_scale=SCALE, pictures=6)
    local, cloud = first_of_tag(server, "local"), first_of_tag(server, "cloud")
    local_url, cloud_url = resolve(http, server, [local, cloud])
    expires = float(parse_qs(urlsplit(local_url).query)["Expires"][0])
    assert expires - time.time() <= TAG_LIFETIMES["local"] * SCALE
    assert "." in parse_qs(urlsplit(local_url).query)["Expires"][0]  # fractional seconds
    assert http.get(local_url).status_code == 200
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    assert http.get(local_url).status_code == 403
    assert http.get(cloud_url).status_code == 200
    (fresh,) = resolve(http, server, [local])
    assert http.get(fresh).status_code == 200


def test_revoke_url_until_resolved_again(standin: StandinServer, http: httpx.Client) -> None:
    for tag in ("attachment", "cloud"):
        ref = first_of_tag(standin, tag)
        (url,) = resolve(http, standin, [ref])
        assert http.get(url).status_code == 200
        standin.revoke_url(ref.pic_key)
        assert http.get(url).status_code == 403
        assert http.get(url).status_code == 403
        (fresh,) = resolve(http, standin, [ref])
        assert http.get(fresh).status_code == 200
        assert standin.image_gets(ref.pic_key) == 4
    with pytest.raises(KeyError):
        standin.revoke_url("ravXFmauNdDdDnapWimCvn")


def test_a_deleted_picture_is_unknown_to_the_api_its_urls_and_its_sheet(
    standin: StandinServer, http: httpx.Client
) -> None:
    ref, other = standin.pictures()[:2]
    url, other_url = resolve(http, standin, [ref, other])
    standin.delete_picture(ref.pic_key)
    assert resolve(http, standin, [ref, other])[0] == ""  # the API's "no such picture"; the rest resolve
    assert http.get(url).status_code == 404 and http.get(other_url).status_code == 200
    with KDocsClient(standin.config.token, standin.base_url) as client:
        found = client.find_pictures(standin.config.file_token).pics
    assert ref not in found and other in found and found == standin.pictures()
    with pytest.raises(KeyError):
        standin.delete_picture(ref.pic_key)


def test_every_kind_is_present_and_decodes(standin: StandinServer, http: httpx.Client) -> None:
    by_kind = {kind: standin.pictures_of_kind(kind) for kind in dataset.ALL_DEMO_KINDS}
    assert all(by_kind.values()), {k for k, v in by_kind.items() if not v}
    assert len(by_kind[dataset.KIND_CORRUPT]) == 1 and len(by_kind[dataset.KIND_EMPTY]) == 1
    refs = [refs[0] for refs in by_kind.values()]
    fetched = dict(zip(by_kind, (http.get(u) for u in resolve(http, standin, refs)), strict=True))
    for kind, response in fetched.items():
        assert response.status_code == 200, kind
        if kind in (dataset.KIND_CORRUPT, dataset.KIND_EMPTY):
            continue
        info = standin.picture_info(by_kind[kind][0].pic_key)
        with Image.open(io.BytesIO(response.content)) as img:
            img.load()
            assert Image.MIME[img.format or ""] == response.headers["Content-Type"], kind
            assert ImageOps.exif_transpose(img).size == (info.width, info.height), kind
            if kind == dataset.KIND_JPEG_EXIF_ROTATED:
                assert img.getexif()[0x0112] == 6
                assert img.size == (info.height, info.width)  # stored sideways
            elif kind == dataset.KIND_JPEG_PROGRESSIVE:
                assert img.info.get("progressive") or img.info.get("progression")
            elif kind == dataset.KIND_JPEG:
                assert not img.info.get("progressive")
            elif kind == dataset.KIND_PNG_ALPHA:
                assert img.mode == "RGBA"
                assert img.getchannel("A").getextrema() != (255, 255)  # really translucent somewhere
            elif kind == dataset.KIND_GIF:
                assert getattr(img, "n_frames", 1) > 1
            elif kind == dataset.KIND_TINY:
                assert img.size == (16, 16)
            elif kind == dataset.KIND_PHOTO:
                assert max(img.size) == 4000 and min(img.size) == 3000
                assert 1_500_000 < len(response.content) < 6_000_000
    assert fetched[dataset.KIND_EMPTY].content == b""
    assert fetched[dataset.KIND_EMPTY].headers["Content-Length"] == "0"
    assert fetched[dataset.KIND_EMPTY].headers["Content-Type"].startswith("image/")
    corrupt = fetched[dataset.KIND_CORRUPT]
    assert corrupt.headers["Content-Type"].startswith("image/") and len(corrupt.content) > 0
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(io.BytesIO(corrupt.content))


def test_small_workbooks_hold_only_small_decodable_pictures(standin_factory: Factory) -> None:
    server = standin_factory(pictures=dataset.TAIL_MIN_PICTURES - 1)
    kinds = {server.picture_info(r.pic_key).kind for r in server.pictures()}
    assert kinds == set(dataset.COMMON_KINDS)


def test_specials_sit_at_the_end_of_the_workbook(standin: StandinServer) -> None:
    refs = standin.pictures()
    kinds = [standin.picture_info(r.pic_key).kind for r in refs]
    assert kinds[-2:] == [dataset.KIND_CORRUPT, dataset.KIND_EMPTY]
    assert set(kinds[: len(kinds) - 5]) <= set(dataset.COMMON_KINDS)
    assert refs[-1].sheet == "Receipts"


def test_same_seed_same_workbook_and_bytes(standin_factory: Factory) -> None:
    one, two, other = standin_factory(seed=7), standin_factory(seed=7), standin_factory(seed=8)
    refs = one.pictures()
    assert [(r.pic_key, r.tag, r.sheet, r.cell, r.caption) for r in refs] == [
        (r.pic_key, r.tag, r.sheet, r.cell, r.caption) for r in two.pictures()
    ]
    for ref in refs[:6]:
        assert one.image_bytes(ref.pic_key) == two.image_bytes(ref.pic_key)
    assert not {r.pic_key for r in refs} & {r.pic_key for r in other.pictures()}
    for ref in refs:
        assert re.fullmatch(r"[0-9A-Za-z]{22}", ref.pic_key)
    assert len({r.pic_key for r in refs}) == len(refs)


def test_image_bytes_of_unknown_key_raises(standin: StandinServer) -> None:
    with pytest.raises(KeyError):
        standin.image_bytes("ravXFmauNdDdDnapWimCvn")


def test_metadata_for_ten_thousand_pictures_is_cheap_and_consistent() -> None:
    workbook = dataset.build_demo_workbook("big", 10_000, seed=3)
    assert len(workbook.pictures) == len(workbook.by_key) == 10_000
    kinds = [p.kind for p in workbook.pictures]
    assert kinds.count(dataset.KIND_CORRUPT) == kinds.count(dataset.KIND_EMPTY) == 1
    assert kinds.count(dataset.KIND_PHOTO) == 3
    assert sum(len(s.cells_in(0, s.row_to, 0, 0)) for s in workbook.sheets) == 10_000 + 2 * 3


def test_image_store_generates_once_and_respects_its_budget() -> None:
    workbook = dataset.build_demo_workbook("wb", 6, seed=1)
    calls: list[int] = []

    def render(picture: dataset.Picture, seed: int) -> bytes:
        calls.append(picture.index)
        return bytes(100)

    store = images.ImageStore(workbook, 1, memory_budget=250, render=render)
    keys = [p.pic_key for p in workbook.pictures]
    store.get(keys[0])
    store.get(keys[0])
    assert calls == [0]
    store.get(keys[1])
    store.get(keys[2])  # evicts keys[0]
    assert store.peek(keys[0]) is None and store.peek(keys[2]) is not None
    store.get(keys[0])
    assert calls == [0, 1, 2, 0]


def test_disk_cache_keeps_photos_across_stores(tmp_path: Path) -> None:
    workbook = dataset.build_demo_workbook("wb", dataset.TAIL_MIN_PICTURES, seed=1)
    photo = next(p for p in workbook.pictures if p.kind == dataset.KIND_PHOTO)
    small = workbook.pictures[0]
    calls: list[int] = []

    def render(picture: dataset.Picture, seed: int) -> bytes:
        calls.append(picture.index)
        return f"bytes of {picture.index}".encode()

    for _ in range(2):
        store = images.ImageStore(workbook, 1, disk_dir=tmp_path / "cache", render=render)
        assert store.get(photo.pic_key) == f"bytes of {photo.index}".encode()
        store.get(small.pic_key)
    assert calls == [photo.index, small.index, small.index]  # only photos go to disk
    assert len(list((tmp_path / "cache").iterdir())) == 1
