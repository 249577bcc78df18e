"""PictureSession internals that need exact control of timing: LeaseTable, reuse, request collection, close.

The lease source here is a small in-process stand-in for ``KDocsClient.resolve`` with a gate, so a test can
hold a batch "in flight" and see what queues behind it. Real HTTP behaviour is in test_session_standin.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator

import pytest

from kdocs_viewer.core.download import DownloadCancelled
from kdocs_viewer.core.errors import FailureReason, reason_of
from kdocs_viewer.core.models import Lease, Outcome, PicFailure, PicRef
from kdocs_viewer.core.session import (
    REUSE_MARGIN,
    LeaseTable,
    PictureSession,
    PicUnavailable,
    SessionStats,
)
from tests.helpers.threads import wait_threads_end

PICTURE_NOT_FOUND = FailureReason.PICTURE_NOT_FOUND


class GatedResolver:
    """Answers resolve() with leases (a failure for keys starting with "bad"), optionally held at a gate."""

    def __init__(self, ttl: float | None = 600.0) -> None:
        self.ttl = ttl
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.raise_next: BaseException | None = None
        self.heed_cancel = True  # False: a call on the wire that only the gate ends (a slow server)
        self._lock = threading.Lock()

    @property
    def calls_made(self) -> int:
        with self._lock:
            return len(self.batches)

    def resolve(
        self, file_token: str, pics: Iterable[PicRef], *, cancel: threading.Event | None = None
    ) -> list[Outcome]:
        refs = list(dict.fromkeys(pics))
        with self._lock:
            self.batches.append([r.pic_key for r in refs])
            error, self.raise_next = self.raise_next, None
        sent = time.monotonic()
        self.entered.set()
        while not self.gate.wait(0.01):
            if self.heed_cancel and cancel is not None and cancel.is_set():
                return []
        if error is not None:
            raise error
        out: list[Outcome] = []
        for ref in refs:
            if ref.pic_key.startswith("bad"):
                message = "not found in this workbook / no download URL"
                out.append(PicFailure(ref, message, 404, reason=PICTURE_NOT_FOUND))
            else:
                out.append(Lease(ref, f"https://cdn.invalid/{ref.pic_key}?Sig=x", sent, self.ttl))
        return out


class WaitingProbe:
    """A cancel flag that never cancels, and tells when its caller is parked waiting for a lease.

    ``PictureSession`` looks at a caller's cancel flag only while that caller waits for a request's answer
    (every ``_POLL``), so the first look proves the call got past its enqueue: it joined a request in flight
    or queued a new one. Tests wait for that instead of sleeping "long enough" before they open the gate.
    """

    def __init__(self) -> None:
        self.waiting = threading.Event()

    def is_set(self) -> bool:
        self.waiting.set()
        return False

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return False


def wait_parked(probes: Iterable[WaitingProbe]) -> None:
    for probe in probes:
        assert probe.waiting.wait(5), "a caller never started waiting for its lease"


@pytest.fixture
def resolver() -> GatedResolver:
    return GatedResolver()


@pytest.fixture
def session(resolver: GatedResolver) -> Iterator[PictureSession]:
    with PictureSession(resolver, "wb") as s:
        yield s
    wait_threads_end("kdocs-lease")


def refs(*keys: str, tag: str = "attachment") -> list[PicRef]:
    return [PicRef(k, tag) for k in keys]


def run_threads(count: int, target: object) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
        assert not t.is_alive()


# ---- LeaseTable -----------------------------------------------------------------------------------------


def test_lease_table_keeps_the_newest_and_discards_by_url() -> None:
    table = LeaseTable()
    ref = PicRef("k", "local")
    new = Lease(ref, "https://h/new", obtained_at=200.0, ttl=300.0)
    old = Lease(ref, "https://h/old", obtained_at=100.0, ttl=300.0)
    table.update([new, PicFailure(ref, "later failure", reason=FailureReason.SERVER_ERROR)])
    table.update([old])  # a late answer to an older request must not win
    assert table.get(ref.ident) is new
    assert table.discard(ref.ident, "https://h/old") is False
    assert ref.ident in table and len(table) == 1
    snapshot = table.snapshot()
    assert table.discard(ref.ident, "https://h/new") is True
    assert snapshot == {ref.ident: new}  # snapshots are copies
    assert table.get(ref.ident) is None and len(table) == 0
    table.put(old)
    table.clear()
    assert "https://" not in repr(table)


def test_pic_unavailable_carries_the_reason() -> None:
    ref = PicRef("k", "attachment")
    err = PicUnavailable(PicFailure(ref, "not found in this workbook", 404, reason=PICTURE_NOT_FOUND))
    assert str(err) == "not found in this workbook"
    assert (err.ref, err.message, err.code) == (ref, "not found in this workbook", 404)
    assert err.reason is PICTURE_NOT_FOUND and reason_of(err) is PICTURE_NOT_FOUND


def test_stats_cache_hits() -> None:
    stats = SessionStats(0, 0, 0, 0, memory_hits=2, disk_hits=3, re_resolves=0, refetches=0, duplicate_gets=0)
    assert stats.cache_hits == 5


# ---- leases: reuse and collection -----------------------------------------------------------------------


def test_lease_is_reused_while_it_has_time_left(session: PictureSession, resolver: GatedResolver) -> None:
    (ref,) = refs("a")
    first = session.ensure_lease(ref)
    assert session.ensure_lease(ref) is first
    assert resolver.calls_made == 1
    # Near its end (less than the reuse margin left) it is replaced.
    session.leases.clear()
    session.leases.put(Lease(ref, first.url, time.monotonic() - 600 + REUSE_MARGIN / 2, 600.0))
    assert session.ensure_lease(ref) is not first
    assert resolver.calls_made == 2


def test_short_lifetimes_are_still_reused(resolver: GatedResolver, session: PictureSession) -> None:
    resolver.ttl = 2.0  # reuse margin is 10 % of it, not 10 s
    (ref,) = refs("short")
    lease = session.ensure_lease(ref)
    assert session.ensure_lease(ref) is lease
    assert resolver.calls_made == 1


def test_unbounded_leases_never_need_a_call_again(resolver: GatedResolver, session: PictureSession) -> None:
    resolver.ttl = None
    (ref,) = refs("c", tag="cloud")
    lease = session.ensure_lease(ref)
    session.leases.clear()
    session.leases.put(Lease(ref, lease.url, obtained_at=-1e9, ttl=None))
    session.ensure_lease(ref)
    assert resolver.calls_made == 1


def test_concurrent_requests_are_collected_into_one_call(resolver: GatedResolver) -> None:
    # A wider window than the default 20 ms: the test machine is shared, a starved thread must not split it.
    session = PictureSession(resolver, "wb", collect_window=0.2)
    many = refs(*(f"k{i}" for i in range(40)))
    barrier = threading.Barrier(40)
    got: dict[int, Lease] = {}

    def run(i: int) -> None:
        barrier.wait()
        got[i] = session.ensure_lease(many[i])

    run_threads(40, run)
    assert resolver.calls_made == 1
    assert sorted(resolver.batches[0]) == sorted(r.pic_key for r in many)
    assert all(got[i].ref == many[i] for i in range(40))
    assert session.stats.resolve_requests == 1 and session.stats.api_calls == 1
    session.close()


def test_requests_arriving_during_a_call_share_the_next_one_and_join_in_flight_refs(
    resolver: GatedResolver, session: PictureSession
) -> None:
    resolver.gate.clear()
    first = threading.Thread(target=session.ensure_lease, args=(PicRef("a", "local"),))
    first.start()
    assert resolver.entered.wait(5)  # batch ["a"] is now in flight and held
    late = refs("a", "b", "c", "b", tag="local")  # "a" joins the flight; b and c queue
    probes = [WaitingProbe() for _ in late]
    results: list[Lease] = []

    def run(i: int) -> None:
        results.append(session.ensure_lease(late[i], cancel=probes[i]))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(late))]
    for t in threads:
        t.start()
    wait_parked(probes)  # every late caller waits on a request while "a" is held
    resolver.gate.set()
    for t in [first, *threads]:
        t.join(5)
    assert resolver.batches[0] == ["a"]
    later = [key for batch in resolver.batches[1:] for key in batch]
    assert sorted(later) == ["b", "c"]  # "a" joined the flight; "b" was asked for once
    assert len(results) == 4


def test_ensure_leases_and_request_leases(resolver: GatedResolver, session: PictureSession) -> None:
    wanted = refs("x1", "bad-1", "x2", "x1")
    session.request_leases(wanted)  # prefetch: returns at once
    outcomes = session.ensure_leases(wanted)
    assert resolver.calls_made == 1
    assert set(outcomes) == {("x1", "attachment"), ("bad-1", "attachment"), ("x2", "attachment")}
    assert isinstance(outcomes[("bad-1", "attachment")], PicFailure)
    assert session.failures[("bad-1", "attachment")].code == 404
    assert session.ensure_leases(refs("x1", "x2"))  # all reusable: no call
    assert resolver.calls_made == 1


def test_picture_without_url_raises_pic_unavailable(session: PictureSession) -> None:
    with pytest.raises(PicUnavailable) as info:
        session.ensure_lease(PicRef("bad-key", "attachment"))
    assert "no download URL" in info.value.message
    assert info.value.reason is PICTURE_NOT_FOUND
    with pytest.raises(PicUnavailable):
        session.fetch_bytes(PicRef("bad-key", "attachment"))


def test_client_errors_reach_every_waiter_and_the_next_request_works(
    resolver: GatedResolver, session: PictureSession
) -> None:
    class TokenRejected(Exception):
        pass

    resolver.raise_next = TokenRejected("token rejected (code 20007)")
    batch = refs("p", "q", "r")
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            session.ensure_lease(batch[i])
        except TokenRejected as exc:
            errors.append(exc)

    run_threads(3, run)
    assert len(errors) == 3 and resolver.calls_made == 1
    assert session.ensure_lease(batch[0]).ref == batch[0]


def test_cancel_lets_a_waiter_go_and_the_answer_is_still_recorded(
    resolver: GatedResolver, session: PictureSession
) -> None:
    resolver.gate.clear()
    cancel = threading.Event()
    timer = threading.Timer(0.1, cancel.set)
    timer.start()
    with pytest.raises(DownloadCancelled):
        session.ensure_lease(PicRef("slow", "local"), cancel=cancel)
    timer.join()
    resolver.gate.set()
    deadline = time.monotonic() + 5
    while ("slow", "local") not in session.leases and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ("slow", "local") in session.leases  # the quota spent was not wasted


def test_close_releases_waiters_without_waiting_for_the_call_on_the_wire(resolver: GatedResolver) -> None:
    """Closing a workbook froze the window until the API answered: close() joined the resolvers."""
    resolver.gate.clear()
    resolver.heed_cancel = False
    session = PictureSession(resolver, "wb")
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            session.ensure_lease(PicRef(f"w{i}", "local"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    assert resolver.entered.wait(5)
    session.close()  # returns with the call still held at the gate
    for t in threads:
        t.join(5)
    assert len(errors) == 5 and all(isinstance(e, DownloadCancelled) for e in errors)
    lease_threads = [t for t in threading.enumerate() if t.name.startswith("kdocs-lease")]
    assert lease_threads and all(t.daemon for t in lease_threads)  # they never hold the process at exit
    with pytest.raises(DownloadCancelled):
        session.ensure_lease(PicRef("after", "local"))
    resolver.gate.set()  # the server answers at last: the resolver ends, its answer goes nowhere
    for t in lease_threads:
        t.join(5)
    assert not [t for t in lease_threads if t.is_alive()]


def test_forget_and_invalidate(resolver: GatedResolver, session: PictureSession) -> None:
    (ref,) = refs("f")
    lease = session.ensure_lease(ref)
    session.invalidate(ref, url="https://other/url")  # not the current URL: kept
    assert session.usable_lease(ref) is lease
    session.invalidate(ref, url=lease.url)
    assert session.usable_lease(ref) is None
    with pytest.raises(PicUnavailable):
        session.ensure_lease(PicRef("bad-f", "attachment"))
    session.forget(PicRef("bad-f", "attachment"))
    assert ("bad-f", "attachment") not in session.failures
    assert "https://" not in repr(session)


def test_fetches_during_an_explicit_resolve_wait_for_its_answer(
    resolver: GatedResolver, session: PictureSession
) -> None:
    resolver.gate.clear()
    screen = refs("s1", "s2", "s3")
    keeper = threading.Thread(target=session.resolve, args=(screen,))  # the GUI's initial resolve
    keeper.start()
    assert resolver.entered.wait(5)
    got: list[Lease] = []
    probe = WaitingProbe()
    tile = threading.Thread(target=lambda: got.append(session.ensure_lease(screen[1], cancel=probe)))
    tile.start()
    wait_parked([probe])  # the tile waits while the explicit resolve is held
    resolver.gate.set()
    keeper.join(5)
    tile.join(5)
    # Had the tile queued a request of its own, it could only have been answered by a second call (the tile
    # returned, so its answer came): no "long enough" wait is needed to see one.
    assert resolver.calls_made == 1
    assert got and got[0].ref == screen[1]


def test_explicit_resolve_takes_over_queued_requests(resolver: GatedResolver) -> None:
    with PictureSession(resolver, "wb", collect_window=1.0) as session:
        wanted = refs("q1", "q2")
        session.request_leases(wanted)  # queued; the collector waits up to a second for more
        session.resolve(wanted)
        assert session.ensure_leases(wanted)
    # close() makes the collector send what it still holds rather than drop it, so a queued request the
    # resolve failed to take over would show here as a second call: no sleep needed to give it time.
    assert resolver.calls_made == 1


def test_a_cancelled_resolve_does_not_fail_others_waiting_on_it(
    resolver: GatedResolver, session: PictureSession
) -> None:
    resolver.gate.clear()
    stop = threading.Event()
    (ref,) = refs("r1")
    keeper = threading.Thread(target=session.resolve, args=([ref],), kwargs={"cancel": stop})
    keeper.start()
    assert resolver.entered.wait(5)
    got: list[Lease] = []
    probe = WaitingProbe()
    tile = threading.Thread(target=lambda: got.append(session.ensure_lease(ref, cancel=probe)))
    tile.start()
    wait_parked([probe])  # the tile waits on the explicit resolve's request
    stop.set()  # the explicit resolve gives up without an answer ...
    keeper.join(5)
    resolver.gate.set()
    tile.join(5)
    assert got and got[0].ref == ref  # ... and the waiting tile's request was asked again
    assert resolver.calls_made == 2
