"""LeaseKeeper: visible-first resolve, refresh of needed leases only, one timer, token pause/resume."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.errors import FailureReason
from kdocs_viewer.core.expiry import next_refresh_at
from kdocs_viewer.core.models import Lease, Outcome, PicFailure
from kdocs_viewer.core.session import PictureSession
from kdocs_viewer.gui.lease_keeper import LeaseKeeper
from kdocs_viewer.gui.retired import retired_count
from kdocs_viewer.standin.server import StandinServer
from tests.helpers.logfail import ExpectLog
from tests.helpers.sentinel import Sentinel, after_coarse

Setup = tuple[LeaseKeeper, PictureSession, StandinServer, KDocsClient]


@pytest.fixture
def setup(qtbot: QtBot, standin_factory: Callable[..., StandinServer]) -> Iterator[Callable[..., Setup]]:
    made: list[tuple[LeaseKeeper, PictureSession, KDocsClient]] = []

    def make(**config: object) -> Setup:
        server = standin_factory(**config)
        client = KDocsClient("demo-token", server.base_url)
        session = PictureSession(client, "demo-workbook")
        keeper = LeaseKeeper(session)
        made.append((keeper, session, client))
        return keeper, session, server, client

    yield make
    for keeper, session, client in made:
        keeper.shutdown()
        session.close()
        client.close()


def collect(keeper: LeaseKeeper) -> list[list[Outcome]]:
    answers: list[list[Outcome]] = []
    keeper.leasesResolved.connect(answers.append)
    return answers


def test_first_screen_first_then_the_rest_in_batches(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    keeper, session, server, _ = setup(pictures=150)
    refs = server.pictures()
    answers = collect(keeper)
    keeper.start(refs[:10], refs[10:])
    qtbot.waitUntil(lambda: sum(len(a) for a in answers) == 150, timeout=5000)
    assert [o.ref for o in answers[0]] == refs[:10]
    assert all(isinstance(o, Lease) for a in answers for o in a)
    assert server.api_calls_today() == 3  # 10, then 140 in two batches of ≤ 100
    assert len(session.leases) == 150


def test_needed_pictures_jump_the_background_queue(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    keeper, _, server, _ = setup(pictures=900)
    server.set_latency_ms(60)
    refs = server.pictures()
    answers = collect(keeper)
    keeper.start(refs[:5], refs[5:])
    wanted = {ref.ident for ref in refs[-3:]}
    keeper.set_needed("visible", wanted)  # the user jumped to the end before the background got there
    qtbot.waitUntil(lambda: len(answers) >= 2, timeout=5000)
    assert {o.ref.ident for o in answers[1]} == wanted


def test_refreshes_only_needed_leases_with_one_timer(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    keeper, session, server, _ = setup(pictures=12, time_scale=0.01)  # local: 3 s, refreshed at 1.5 s
    refs = server.pictures()
    answers = collect(keeper)
    keeper.start(refs, [])
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=3000)
    assert not keeper.refresh_timer_active()  # nothing needed: no timer, no calls
    local = [ref for ref in refs if ref.tag == "local"]
    needed, spare = local[0], local[1]
    old_needed, old_spare = session.leases.get(needed.ident), session.leases.get(spare.ident)
    calls = server.api_calls_today()

    keeper.set_needed("selected", {needed.ident})
    assert keeper.refresh_timer_active()
    with qtbot.waitSignal(keeper.leasesResolved, timeout=3000) as blocker:
        pass
    refreshed = blocker.args[0]
    assert [o.ref.ident for o in refreshed] == [needed.ident]
    new = session.leases.get(needed.ident)
    assert new is not None and old_needed is not None and old_needed.expires_at is not None
    assert old_needed.obtained_at < new.obtained_at < old_needed.expires_at
    assert session.leases.get(spare.ident) == old_spare
    assert server.api_calls_today() == calls + 1
    assert keeper.refresh_timer_active()  # re-armed for the new lease

    keeper.set_needed("selected", set())
    assert not keeper.refresh_timer_active()


def test_refresh_can_be_switched_off(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    keeper, session, server, _ = setup(pictures=6, time_scale=0.01)
    refs = server.pictures()
    answers = collect(keeper)
    keeper.start(refs, [])
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=3000)
    keeper.set_refresh_enabled(False)
    needed = {ref.ident for ref in refs}
    keeper.set_needed("visible", needed)
    assert not keeper.refresh_timer_active()
    calls = server.api_calls_today()
    # Until just after the keeper's timer would have fired, were refresh on: the earliest refresh point of
    # the needed leases (the local ones, at 1.5 s). A refresh it planned then would be counted by now.
    now = time.monotonic()
    due = next_refresh_at(session.leases.snapshot(), needed, now)
    assert due is not None
    Sentinel(after_coarse((due - now) * 1000)).wait(qtbot)
    assert keeper.refresh_batches == 0
    assert server.api_calls_today() == calls
    keeper.set_refresh_enabled(True)
    qtbot.waitUntil(lambda: server.api_calls_today() > calls, timeout=2000)  # due already: refreshed at once


def test_rejected_token_pauses_and_resumes(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    keeper, session, server, client = setup(pictures=250)
    server.set_token("other")
    refs = server.pictures()
    answers = collect(keeper)
    rejected: list[int] = []
    keeper.tokenRejected.connect(lambda: rejected.append(1))
    keeper.start(refs[:20], refs[20:])
    qtbot.waitUntil(lambda: rejected == [1], timeout=5000)
    assert keeper.is_paused()
    assert rejected == [1] and answers == []
    client.set_token("other")
    keeper.resume()
    qtbot.waitUntil(lambda: sum(len(a) for a in answers) == 250, timeout=5000)
    assert len(session.leases) == 250
    assert rejected == [1]
    # Paused means silent: a worker that went on would have retried at once with the refused token, and
    # those calls, refused too, would sit in the server's log before the calls made after resume().
    assert [e.status for e in server.request_log() if e.method == "POST"] == [401, 200, 200, 200, 200]


def test_shutdown_does_not_wait_for_the_call_on_the_wire(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    keeper, _, server, _ = setup(pictures=400)
    answers: list[object] = []
    keeper.leasesResolved.connect(answers.append)
    server.set_latency_ms(1500)
    refs = server.pictures()
    keeper.start(refs[:50], refs[50:])
    qtbot.waitUntil(lambda: server.api_calls_today() > 0 or keeper_thread_alive(), timeout=3000)
    qtbot.wait(100)  # the first call is on the wire
    started = time.monotonic()
    keeper.shutdown()
    keeper.shutdown()
    assert time.monotonic() - started < 1.0  # joining the worker took the rest of the server's 1.5 s
    assert retired_count() == 1  # its signals are kept for the worker until the call returns
    qtbot.waitUntil(lambda: not keeper_thread_alive() and retired_count() == 0, timeout=5000)
    assert answers == []  # the late answer went nowhere


def keeper_thread_alive() -> bool:
    return any(t.name == "kdocs-lease-keeper" for t in threading.enumerate())


def test_background_waits_for_the_first_screen_answer(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    keeper, session, server, _ = setup(pictures=900)
    server.set_latency_ms(30)
    refs = server.pictures()
    calls_at_answer: list[int] = []
    answers: list[list[Outcome]] = []
    sentinels: list[Sentinel] = []

    def on_answer(outcomes: list[Outcome]) -> None:
        calls_at_answer.append(server.api_calls_today())
        answers.append(outcomes)
        if len(answers) == 1:  # the background delay starts with this answer
            sentinels.append(Sentinel(100))  # well inside refresh.BACKGROUND_DELAY

    # An always-open gate: the keeper asks it at the moment it would release the background, which makes
    # that moment visible without changing what it does.
    gate_asked: list[int] = []

    def open_gate() -> bool:
        gate_asked.append(server.api_calls_today())
        return True

    keeper.set_background_gate(open_gate)
    keeper.leasesResolved.connect(on_answer)
    keeper.start(refs[:10], refs[10:])
    assert not keeper.is_idle()
    qtbot.waitUntil(lambda: len(answers) >= 1, timeout=5000)
    assert [o.ref for o in answers[0]] == refs[:10]
    assert calls_at_answer[0] == 1  # no background call was sent while the first screen resolved
    sentinels[0].wait(qtbot)  # the thumbnails of the first screen have the CPU
    assert gate_asked == []  # not released yet ...
    assert server.api_calls_today() == 1 and len(answers) == 1
    qtbot.waitUntil(lambda: sum(len(a) for a in answers) == 900, timeout=8000)
    qtbot.waitUntil(keeper.is_idle, timeout=2000)
    assert len(session.leases) == 900
    assert gate_asked == [1]  # ... and released once, before any background call


def test_background_starts_when_the_first_screen_needed_no_call(
    qtbot: QtBot, setup: Callable[..., Setup]
) -> None:
    keeper, session, server, _ = setup(pictures=120)
    refs = server.pictures()
    session.resolve(refs[:10])  # e.g. learned by thumbnail fetches before the keeper got to them
    answers = collect(keeper)
    keeper.start(refs[:10], refs[10:])
    qtbot.waitUntil(lambda: sum(len(a) for a in answers) == 110, timeout=5000)
    assert {o.ref.ident for a in answers for o in a} == {ref.ident for ref in refs[10:]}


def test_background_also_waits_for_its_gate(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    keeper, _, server, _ = setup(pictures=300)
    refs = server.pictures()
    open_gate: list[bool] = []
    asked: list[bool] = []

    def gate() -> bool:  # e.g. "the thumbnail loader went idle"
        asked.append(bool(open_gate))
        return bool(open_gate)

    keeper.set_background_gate(gate)
    answers = collect(keeper)
    keeper.start(refs[:10], refs[10:])
    qtbot.waitUntil(lambda: len(answers) >= 1, timeout=5000)
    # Asked once when refresh.BACKGROUND_DELAY ran out, and again a poll later: it kept waiting for the gate
    # (well before refresh.BACKGROUND_MAX_WAIT).
    qtbot.waitUntil(lambda: len(asked) >= 2, timeout=2000)
    assert server.api_calls_today() == 1 and not keeper.is_idle()
    open_gate.append(True)
    qtbot.waitUntil(lambda: sum(len(a) for a in answers) == 300, timeout=5000)
    assert server.api_calls_today() == 4  # 10, then 290 in three batches of ≤ 100


def test_a_call_that_cannot_be_made_fails_its_pictures_and_the_worker_goes_on(
    qtbot: QtBot, standin_factory: Callable[..., StandinServer], expect_log: ExpectLog
) -> None:
    server = standin_factory(pictures=5)
    refs = server.pictures()
    client = KDocsClient("demo-token", server.base_url)
    session = PictureSession(client, "")  # no file token: every resolve raises ValueError
    keeper = LeaseKeeper(session)
    try:
        answers = collect(keeper)
        errors: list[str] = []
        keeper.errorOccurred.connect(errors.append)
        with expect_log("kdocs_viewer.gui.lease_keeper", match="resolve failed") as records:
            keeper.start(refs[:2], refs[2:])
            qtbot.waitUntil(lambda: len(answers) == 1, timeout=3000)
            keeper.resolve_again(refs[2:])  # the worker is still there to take it
            qtbot.waitUntil(lambda: len(answers) == 2, timeout=3000)
        assert [o.ref for o in answers[0]] == refs[:2]
        assert [o.ref for o in answers[1]] == refs[2:]
        failures = [o for a in answers for o in a]
        assert all(isinstance(o, PicFailure) and "file token" in o.message for o in failures)
        assert all(isinstance(o, PicFailure) and o.reason is FailureReason.BAD_INPUT for o in failures)
        assert errors and all("file token" in e for e in errors)
        assert all("file token" in r.getMessage() for r in records)
        assert server.api_calls_today() == 0
    finally:
        keeper.shutdown()
        session.close()
        client.close()
