"""PictureSession end to end: real KDocsClient and Downloader against the stand-in over loopback HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kdocs_viewer.core.api import KDocsClient, TokenInvalidError
from kdocs_viewer.core.cache import CachedFile, DiskCache
from kdocs_viewer.core.contract import MAX_PICS_PER_CALL, PICTURE_URLS_PATH
from kdocs_viewer.core.download import DownloadCancelled, Downloader, DownloadError, NotAPictureError
from kdocs_viewer.core.errors import FailureReason
from kdocs_viewer.core.models import Lease, PicRef
from kdocs_viewer.core.saving import save_batch
from kdocs_viewer.core.session import PictureSession, PicUnavailable
from kdocs_viewer.standin.dataset import KIND_CORRUPT, KIND_EMPTY
from kdocs_viewer.standin.server import StandinServer
from tests.helpers.threads import wait_threads_end

URLS_PATH = PICTURE_URLS_PATH.format(file_token="demo-workbook")

SessionFactory = Callable[..., PictureSession]


@pytest.fixture
def make_session() -> Iterator[Callable[..., PictureSession]]:
    """PictureSessions (with their own clients) on a given stand-in; all closed at teardown."""
    opened: list[tuple[KDocsClient, PictureSession]] = []

    def make(server: StandinServer, **kwargs: object) -> PictureSession:
        client = KDocsClient("demo-token", server.base_url)
        session = PictureSession(client, "demo-workbook", **kwargs)  # type: ignore[arg-type]
        opened.append((client, session))
        return session

    yield make
    for client, session in opened:
        session.close()
        client.close()
    wait_threads_end("kdocs-lease")


def url_calls(server: StandinServer) -> int:
    return sum(1 for e in server.request_log() if e.method == "POST" and e.path == URLS_PATH)


def by_kind(server: StandinServer, tag: str) -> PicRef:
    return next(p for p in server.pictures() if p.tag == tag)


def parallel(count: int, target: Callable[[int], None]) -> None:
    """Run target(0..count-1) in threads released together by a barrier."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            target(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    if errors:
        raise errors[0]


def test_fetch_returns_the_exact_bytes_and_then_hits_the_cache(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    session = make_session(standin)
    ref = standin.pictures()[0]
    data = session.fetch_bytes(ref)
    assert data == standin.image_bytes(ref.pic_key)
    assert session.fetch_bytes(ref) == data
    assert session.cached_bytes(ref) == data
    assert standin.image_gets(ref.pic_key) == 1
    stats = session.stats
    assert (stats.image_gets, stats.memory_hits, stats.api_calls, stats.duplicate_gets) == (1, 1, 1, 0)
    assert stats.bytes_downloaded == len(data)
    assert isinstance(session.leases.get(ref.ident), Lease)


def test_concurrent_fetches_of_distinct_pictures_cost_one_call(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    # A wider collection window than the default: this machine is shared with other test runs, and a
    # starved thread must not split the batch (the default window is for a desktop's GUI workers).
    session = make_session(standin, collect_window=0.1)
    pics = standin.pictures()[:30]
    results: dict[str, bytes] = {}

    def fetch(i: int) -> None:
        results[pics[i].pic_key] = session.fetch_bytes(pics[i])

    parallel(30, fetch)
    assert url_calls(standin) == 1
    assert session.stats.api_calls == 1
    for ref in pics:
        assert results[ref.pic_key] == standin.image_bytes(ref.pic_key)
        assert standin.image_gets(ref.pic_key) == 1
    assert session.stats.image_gets == 30 and session.stats.duplicate_gets == 0


def test_concurrent_fetches_of_one_picture_share_one_get(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    standin.set_latency_ms(150)  # keep the GET open while the others arrive
    session = make_session(standin)
    ref = standin.pictures()[1]
    results: list[bytes] = []
    parallel(12, lambda i: results.append(session.fetch_bytes(ref)))
    assert len(results) == 12 and set(results) == {standin.image_bytes(ref.pic_key)}
    assert standin.image_gets(ref.pic_key) == 1
    assert url_calls(standin) == 1
    assert session.stats.duplicate_gets == 0 and session.stats.image_gets == 1


def test_prefetched_leases_serve_a_whole_screen_with_one_call(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    session = make_session(standin)
    screen = standin.pictures()[:12]
    session.request_leases(screen)
    for ref in screen:
        session.fetch_bytes(ref)
    assert url_calls(standin) == 1


def test_many_refs_go_in_batches_of_the_call_limit(
    standin_factory: Callable[..., StandinServer], make_session: SessionFactory
) -> None:
    server = standin_factory(pictures=2 * MAX_PICS_PER_CALL + 30)
    session = make_session(server)
    outcomes = session.ensure_leases(server.pictures())
    assert len(outcomes) == 2 * MAX_PICS_PER_CALL + 30
    failures = {o.message for o in outcomes.values() if not isinstance(o, Lease)}
    assert not failures
    assert url_calls(server) == 3, server.request_log()


def test_expired_lease_is_renewed_before_the_get(
    standin_factory: Callable[..., StandinServer], make_session: SessionFactory
) -> None:
    server = standin_factory(time_scale=0.002)  # "local" URLs live 0.6 s
    session = make_session(server, memory_budget=0)  # nothing kept in memory: every fetch needs a GET
    ref = by_kind(server, "local")
    first = session.fetch_bytes(ref)
    lease = session.leases.get(ref.ident)
    assert lease is not None and lease.ttl is not None and lease.ttl < 1.0
    time.sleep(max(0.0, lease.remaining() or 0.0) + 0.05)
    assert session.fetch_bytes(ref) == first == server.image_bytes(ref.pic_key)
    assert url_calls(server) == 2
    assert server.image_gets(ref.pic_key) == 2  # the dead URL was never tried
    assert session.stats.re_resolves == 0


def test_revoked_url_is_re_resolved_once_and_succeeds(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    session = make_session(standin, memory_budget=0)
    ref = by_kind(standin, "attachment")
    session.fetch_bytes(ref)
    old = session.leases.get(ref.ident)
    standin.revoke_url(ref.pic_key)
    assert session.fetch_bytes(ref) == standin.image_bytes(ref.pic_key)
    new = session.leases.get(ref.ident)
    assert old is not None and new is not None and new.url != old.url
    assert url_calls(standin) == 2
    assert standin.image_gets(ref.pic_key) == 3  # ok, 403, ok
    assert session.stats.re_resolves == 1


def test_url_that_keeps_failing_gives_a_clear_reason_after_one_re_resolve(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    session = make_session(standin)
    ref = standin.pictures()[2]
    standin.queue_image_faults(["403", "403"])
    with pytest.raises(DownloadError) as info:
        session.fetch_bytes(ref)
    text = str(info.value)
    assert "403" in text and "fresh link" in text
    assert "http" not in text and "Sig" not in text and "demo-token" not in text
    assert url_calls(standin) == 2
    assert standin.image_gets(ref.pic_key) == 2
    assert session.leases.get(ref.ident) is None  # the refused lease is not kept
    # The fault queue is drained: the next try works.
    assert session.fetch_bytes(ref) == standin.image_bytes(ref.pic_key)


def test_unknown_key_is_unavailable_and_the_rest_of_the_batch_works(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    session = make_session(standin, collect_window=0.1)
    good = standin.pictures()[:3]
    ghost = PicRef("no-such-picture-key", "attachment")
    outcome: dict[str, object] = {}

    def fetch(i: int) -> None:
        ref = [*good, ghost][i]
        try:
            outcome[ref.pic_key] = session.fetch_bytes(ref)
        except PicUnavailable as exc:
            outcome[ref.pic_key] = exc

    parallel(4, fetch)
    err = outcome[ghost.pic_key]
    assert isinstance(err, PicUnavailable) and err.ref == ghost and err.message
    assert err.reason is FailureReason.PICTURE_NOT_FOUND
    assert ghost.ident in session.failures
    for ref in good:
        assert outcome[ref.pic_key] == standin.image_bytes(ref.pic_key)
    assert url_calls(standin) == 1


def test_empty_and_corrupt_images_are_returned_as_served(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    session = make_session(standin)
    (empty,) = standin.pictures_of_kind(KIND_EMPTY)
    (corrupt,) = standin.pictures_of_kind(KIND_CORRUPT)
    assert session.fetch_bytes(empty) == b""
    assert session.fetch_bytes(corrupt) == standin.image_bytes(corrupt.pic_key)
    assert session.fetch_bytes(empty) == b""  # an empty picture is cached like any other
    assert standin.image_gets(empty.pic_key) == 1


def test_injected_corrupt_bytes_are_not_our_business(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    session = make_session(standin)
    ref = standin.pictures()[0]
    standin.queue_image_faults(["corrupt"])
    data = session.fetch_bytes(ref)
    assert data and data != standin.image_bytes(ref.pic_key)


def test_transient_image_faults_are_retried(standin: StandinServer, make_session: SessionFactory) -> None:
    downloader = Downloader(retry_delay=0.01)
    session = make_session(standin, downloader=downloader)
    ref = standin.pictures()[3]
    standin.queue_image_faults(["500"])
    assert session.fetch_bytes(ref) == standin.image_bytes(ref.pic_key)
    standin.queue_image_faults(["reset"])
    assert session.fetch_bytes(standin.pictures()[4]) == standin.image_bytes(standin.pictures()[4].pic_key)
    standin.queue_image_faults(["truncated"])
    assert session.fetch_bytes(standin.pictures()[5]) == standin.image_bytes(standin.pictures()[5].pic_key)
    assert session.stats.image_gets == 3  # one logical GET each; the Downloader retried inside
    downloader.close()


def test_cancel_stops_a_fetch_and_the_session_stays_usable(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    standin.set_latency_ms(300)
    session = make_session(standin)
    ref = standin.pictures()[6]
    cancel = threading.Event()
    timer = threading.Timer(0.1, cancel.set)
    timer.start()
    with pytest.raises(DownloadCancelled):
        session.fetch_bytes(ref, cancel=cancel)
    timer.join()
    standin.set_latency_ms(0)
    assert session.fetch_bytes(ref) == standin.image_bytes(ref.pic_key)


def test_one_caller_cancelling_does_not_cancel_the_others(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    standin.set_latency_ms(200)
    session = make_session(standin)
    ref = standin.pictures()[7]
    impatient = threading.Event()
    outcome: dict[str, object] = {}

    def fetch(i: int) -> None:
        if i == 0:
            threading.Timer(0.05, impatient.set).start()
            try:
                session.fetch_bytes(ref, cancel=impatient)
            except DownloadCancelled as exc:
                outcome["impatient"] = exc
            else:
                outcome["impatient"] = "got bytes"  # the first caller owns the GET and may still finish
        else:
            outcome["patient"] = session.fetch_bytes(ref, cancel=threading.Event())

    parallel(2, fetch)
    assert outcome["patient"] == standin.image_bytes(ref.pic_key)
    assert standin.image_gets(ref.pic_key) == 1


def test_token_rejection_reaches_the_caller_and_a_new_token_recovers(
    standin: StandinServer, make_session: SessionFactory
) -> None:
    session = make_session(standin)
    ref = standin.pictures()[8]
    standin.queue_faults(["20007"])
    with pytest.raises(TokenInvalidError):
        session.fetch_bytes(ref)
    assert session.fetch_bytes(ref) == standin.image_bytes(ref.pic_key)


def test_disk_cache_serves_a_new_session_without_any_request(
    standin: StandinServer, make_session: SessionFactory, tmp_path: Path
) -> None:
    ref = standin.pictures()[9]
    disk = DiskCache(tmp_path / "pics")
    first = make_session(standin, disk_cache=disk)
    data = first.fetch_bytes(ref)
    first.close()  # e.g. the same workbook opened again in one run of the app
    second = make_session(standin, disk_cache=disk)
    assert second.fetch_bytes(ref) == data
    assert second.cached_bytes(ref) == data
    assert standin.image_gets(ref.pic_key) == 1
    assert url_calls(standin) == 1
    assert second.stats.disk_hits == 1 and second.stats.api_calls == 0


def test_cloud_pictures_have_unbounded_leases(standin: StandinServer, make_session: SessionFactory) -> None:
    session = make_session(standin)
    ref = by_kind(standin, "cloud")
    lease = session.ensure_lease(ref)
    assert lease.ttl is None
    assert session.ensure_lease(ref) is lease
    assert session.fetch_bytes(ref) == standin.image_bytes(ref.pic_key)
    assert url_calls(standin) == 1


def test_saving_downloads_once_caches_by_adopting_the_saved_file(
    standin: StandinServer, make_session: SessionFactory, tmp_path: Path
) -> None:
    ref = standin.pictures()[10]
    disk = DiskCache(tmp_path / "pics")
    session = make_session(standin, disk_cache=disk)
    data = session.fetch_for_save(ref)
    assert data == standin.image_bytes(ref.pic_key)
    assert session.cached_bytes(ref) is None  # not kept twice: the saved file is about to exist
    saved = tmp_path / "saved.jpg"
    saved.write_bytes(data)  # what the saver did with them
    session.keep_saved(ref, saved)
    again = session.fetch_for_save(ref)
    assert isinstance(again, CachedFile) and again.path.read_bytes() == data
    assert session.fetch_bytes(ref) == data  # the grid, too, is served from the adopted file
    assert standin.image_gets(ref.pic_key) == 1
    assert session.stats.disk_hits == 2


def test_saving_a_viewed_picture_hands_over_the_cached_file(
    standin: StandinServer, make_session: SessionFactory, tmp_path: Path
) -> None:
    ref = standin.pictures()[11]
    session = make_session(standin, memory_budget=0, disk_cache=DiskCache(tmp_path / "pics"))
    viewed = session.fetch_bytes(ref)  # the grid's fetch keeps the bytes on disk
    source = session.fetch_for_save(ref)
    assert isinstance(source, CachedFile) and source.size == len(viewed)
    assert standin.image_gets(ref.pic_key) == 1
    plain = make_session(standin)  # no disk cache: bytes from memory
    plain.fetch_bytes(ref)
    assert plain.fetch_for_save(ref) == viewed
    assert plain.stats.memory_hits == 1


# ---- answers that are not pictures, and a flaky picture host -------------------------------------------

PORTAL = "the server sent an HTML page (“Wi-Fi login”), not a picture"


@pytest.fixture
def quick_downloader() -> Iterator[Downloader]:
    """A Downloader that retries after 10 ms (its session does not own it: closed here)."""
    with Downloader(retry_delay=0.01) as downloader:
        yield downloader


def test_a_login_page_instead_of_a_picture_fails_with_the_reason_and_is_never_cached(
    standin: StandinServer, make_session: SessionFactory, quick_downloader: Downloader, tmp_path: Path
) -> None:
    disk = DiskCache(tmp_path / "pics")
    session = make_session(standin, downloader=quick_downloader, disk_cache=disk)
    ref, other = standin.pictures()[0], standin.pictures()[1]
    standin.queue_image_faults(["503", "html"])
    with pytest.raises(NotAPictureError) as info:
        session.fetch_bytes(ref)
    assert str(info.value) == PORTAL
    assert standin.image_gets(ref.pic_key) == 2  # the 503 was retried; the page is an answer, not retried
    assert session.cached_bytes(ref) is None and disk.entry("demo-workbook", ref.pic_key) is None
    standin.queue_image_faults(["html"])
    with pytest.raises(NotAPictureError, match="HTML page"):
        session.fetch_for_save(other)  # the saver's path meets the same rule
    # Once the portal is gone, the next fetch downloads the picture itself.
    assert session.fetch_bytes(ref) == standin.image_bytes(ref.pic_key)
    assert standin.image_gets(ref.pic_key) == 3
    assert session.stats.re_resolves == 0


def test_a_host_failing_twice_gives_a_clear_failure_and_then_recovers(
    standin: StandinServer, make_session: SessionFactory, quick_downloader: Downloader
) -> None:
    session = make_session(standin, downloader=quick_downloader)
    ref = standin.pictures()[2]
    standin.queue_image_faults(["500", "502"])
    with pytest.raises(DownloadError) as info:
        session.fetch_bytes(ref)
    assert str(info.value) == "the picture server failed (HTTP 502)"
    assert not isinstance(info.value, NotAPictureError)
    assert standin.image_gets(ref.pic_key) == 2
    assert session.fetch_bytes(ref) == standin.image_bytes(ref.pic_key)


FLAKY_REASONS = (
    "download failed: the picture server failed (HTTP 50",
    "download failed: the picture server closed the connection before the picture was complete",
    "download failed: the picture server reset the connection",
    "download failed: the picture arrived incomplete (",
    "download failed: " + PORTAL,
)


@pytest.mark.parametrize("rate", [0.3, 1.0])
def test_saving_from_a_flaky_picture_host_writes_only_real_pictures(
    standin_factory: Callable[..., StandinServer],
    make_session: SessionFactory,
    quick_downloader: Downloader,
    tmp_path: Path,
    rate: float,
) -> None:
    server = standin_factory(pictures=24, image_fail_rate=rate, seed=11)
    spoilt = (KIND_CORRUPT, KIND_EMPTY)
    refs = [r for r in server.pictures() if server.picture_info(r.pic_key).kind not in spoilt]
    session = make_session(server, downloader=quick_downloader)
    out = tmp_path / "out"
    # One worker: the stand-in draws its faults in request order, so the run is the same every time.
    summary = save_batch(refs, lambda ref, stop: session.fetch_for_save(ref, cancel=stop), out, workers=1)
    failed = summary.failed
    for item in failed:
        assert item.reason is not None and item.reason.startswith(FLAKY_REASONS), item.reason
    for item in summary.saved:
        assert item.path is not None and item.path.read_bytes() == server.image_bytes(item.ref.pic_key)
    assert sorted(p.name for p in out.iterdir()) == sorted(i.path.name for i in summary.saved if i.path)
    assert not [p for p in out.iterdir() if p.suffix == ".bin"]
    if rate == 1.0:
        assert not summary.saved and len(failed) == len(refs)
        assert any(PORTAL in (item.reason or "") for item in failed)
    else:
        assert failed and summary.saved
