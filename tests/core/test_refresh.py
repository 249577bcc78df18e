"""The lease keeper's planner: queue order, needed sets, refresh times and back-off, on a hand-moved clock."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from kdocs_viewer.core.contract import MAX_PICS_PER_CALL, TAG_LIFETIMES
from kdocs_viewer.core.errors import FailureReason
from kdocs_viewer.core.models import Ident, Lease, Outcome, PicFailure, PicRef
from kdocs_viewer.core.refresh import (
    BACKGROUND_CHUNK,
    BACKGROUND_DELAY,
    BACKGROUND_MAX_WAIT,
    BACKGROUND_POLL,
    REFRESH_LOOKAHEAD,
    RefreshPlanner,
    ResolveTask,
    TaskKind,
    background_wait,
    refresh_retry_delay,
)

HOUR = 3600.0


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def advance_to(self, when: float) -> None:
        assert when >= self.now, "the clock never goes back"
        self.now = when


class FakeSession:
    """A lease table and a ``resolve`` that hands out leases with the documented lifetimes at ``clock.now``.

    ``failing`` pictures get a PicFailure instead; ``calls`` records every resolve's refs.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.leases: dict[Ident, Lease] = {}
        self.failing: set[Ident] = set()
        self.calls: list[list[PicRef]] = []

    def resolve(self, refs: Sequence[PicRef]) -> list[Outcome]:
        self.calls.append(list(refs))
        outcomes: list[Outcome] = []
        for ref in refs:
            if ref.ident in self.failing:
                outcomes.append(PicFailure(ref, "server error", reason=FailureReason.SERVER_ERROR))
                continue
            url = f"https://cdn.example/{ref.pic_key}"
            lease = Lease(ref, url, self.clock.now, TAG_LIFETIMES.get(ref.tag))
            self.leases[ref.ident] = lease
            outcomes.append(lease)
        return outcomes


def refs_of(tag: str, count: int, prefix: str = "") -> list[PicRef]:
    return [PicRef(f"{prefix or tag}{i:04d}", tag) for i in range(count)]


def keys(task: ResolveTask | None) -> list[str]:
    assert task is not None
    return [ref.pic_key for ref in task.refs]


def run_queue(planner: RefreshPlanner, session: FakeSession) -> list[ResolveTask]:
    """What the keeper's worker and answer slot do, until the queue is empty."""
    done: list[ResolveTask] = []
    while (task := planner.take()) is not None:
        outcomes = session.resolve(task.refs) if task.refs else []
        planner.answered(task.kind, task.refs, outcomes, session.clock.now)
        done.append(task)
    return done


def idle_for(planner: RefreshPlanner, session: FakeSession, seconds: float) -> list[float]:
    """What the keeper's refresh timer does while nobody touches anything: fire at each due time, plan, run.

    Returns the times at which refresh calls were planned.
    """
    clock = session.clock
    end = clock.now + seconds
    fired: list[float] = []
    for _ in range(10_000):
        due = planner.next_refresh_at(clock.now)
        if due is None or due > end:
            return fired
        clock.advance_to(due)
        if planner.plan_refresh(clock.now):
            fired.append(clock.now)
        run_queue(planner, session)
    raise AssertionError("the timer kept firing without time passing")


# ---- first resolve and the queue --------------------------------------------------------------------------


def test_first_screen_goes_first_and_the_background_waits_for_its_release() -> None:
    session = FakeSession(FakeClock())
    planner = RefreshPlanner(session.leases.get)
    first, rest = refs_of("local", 10), refs_of("attachment", BACKGROUND_CHUNK + 5)
    planner.start(first, rest)

    task = planner.take()
    assert task is not None and task.first and task.kind is TaskKind.INITIAL and task.refs == first
    assert planner.take() is None and planner.holds_background() and not planner.is_idle()
    planner.release_background()
    assert [len(t.refs) for t in run_queue(planner, session)] == [BACKGROUND_CHUNK, 5]
    assert planner.is_idle()


def test_without_a_first_screen_the_background_is_queued_at_once() -> None:
    planner = RefreshPlanner({}.get)
    planner.start([], refs_of("local", 3))
    assert not planner.holds_background()
    assert keys(planner.take()) == ["local0000", "local0001", "local0002"]


def test_first_resolves_skip_pictures_that_got_a_lease_meanwhile() -> None:
    session = FakeSession(FakeClock())
    planner = RefreshPlanner(session.leases.get)
    first, rest = refs_of("local", 3), refs_of("attachment", 2)
    planner.start(first, rest)
    session.resolve([*first, rest[0]])  # e.g. thumbnail fetches learned them first
    task = planner.take()
    assert task is not None and task.first and task.refs == []  # still answered: it starts the background
    planner.release_background()
    assert keys(planner.take()) == ["attachment0001"]
    planner.start([], [rest[0]])  # a chunk left with nothing to ask is dropped
    assert planner.take() is None


def test_needed_pictures_jump_the_queue_once_in_call_sized_chunks() -> None:
    session = FakeSession(FakeClock())
    planner = RefreshPlanner(session.leases.get)
    rest = refs_of("local", 1000)
    planner.start([], rest)
    wanted = rest[-(MAX_PICS_PER_CALL + 20) :]
    assert planner.set_needed("visible", {ref.ident for ref in wanted})
    assert not planner.set_needed("visible", {ref.ident for ref in wanted})  # unchanged: nothing to do
    jumped = [planner.take(), planner.take()]
    assert [len(task.refs) for task in jumped if task] == [MAX_PICS_PER_CALL, 20]
    assert {ref for task in jumped if task for ref in task.refs} == set(wanted)
    planner.set_needed("selected", {wanted[0].ident})  # queued already: not again
    assert keys(planner.take())[0] == "local0000"  # back to the background


def test_retries_go_first_in_order_and_a_rejected_task_goes_back_first() -> None:
    planner = RefreshPlanner({}.get)
    planner.start([], refs_of("local", 5))
    again = refs_of("attachment", MAX_PICS_PER_CALL + 1)
    planner.resolve_again(again)
    task = planner.take()
    assert task is not None and task.kind is TaskKind.RETRY and task.refs == again[:MAX_PICS_PER_CALL]
    planner.put_back(task)  # the token was rejected: this one runs first after resume
    assert planner.take() is task
    assert keys(planner.take()) == ["attachment0100"]
    assert keys(planner.take())[0] == "local0000"


def test_answers_report_first_failures_and_failed_refreshes_apart() -> None:
    clock = FakeClock()
    session = FakeSession(clock)
    planner = RefreshPlanner(session.leases.get)
    refs = refs_of("local", 3)
    session.failing = {refs[2].ident}
    planner.start(refs, [])
    task = planner.take()
    assert task is not None
    report = planner.answered(task.kind, task.refs, session.resolve(task.refs), clock.now)
    assert [f.ref for f in report.failed] == [refs[2]] and report.failed_refresh == []
    planner.set_needed("visible", {ref.ident for ref in refs[:2]})
    session.failing = {refs[0].ident}
    clock.advance_to(clock.now + 240.0)
    [refresh] = planner.plan_refresh(clock.now)
    report = planner.answered(refresh.kind, refresh.refs, session.resolve(refresh.refs), clock.now)
    assert report.failed == [] and [f.ref for f in report.failed_refresh] == [refs[0]]


# ---- refreshes --------------------------------------------------------------------------------------------


def test_only_needed_leases_are_refreshed_when_due_with_one_timer() -> None:
    clock = FakeClock()
    session = FakeSession(clock)
    planner = RefreshPlanner(session.leases.get)
    local, cloud = refs_of("local", 4), refs_of("cloud", 2)
    session.resolve([*local, *cloud])
    assert planner.next_refresh_at(clock.now) is None  # nothing needed: no timer
    planner.set_needed("visible", {local[0].ident, cloud[0].ident})
    planner.set_needed("selected", {local[1].ident})
    assert planner.next_refresh_at(clock.now) == 1240.0  # 300 s link: refreshed with 60 s left
    assert planner.plan_refresh(1239.0) == []

    clock.advance_to(1240.0)
    [task] = planner.plan_refresh(clock.now)
    assert task.kind is TaskKind.REFRESH and set(task.refs) == {local[0], local[1]}
    assert planner.next_refresh_at(clock.now) is None  # both are being refreshed: nothing else can fall due
    run_queue(planner, session)
    assert planner.next_refresh_at(clock.now) == 1480.0
    assert session.leases[local[2].ident].obtained_at == 1000.0  # never needed: left to lapse


def test_refresh_off_plans_nothing_and_on_again_catches_up() -> None:
    clock = FakeClock()
    session = FakeSession(clock)
    planner = RefreshPlanner(session.leases.get)
    refs = refs_of("local", 2)
    session.resolve(refs)
    planner.set_needed("visible", {ref.ident for ref in refs})
    planner.refresh_enabled = False
    clock.advance_to(2000.0)
    assert planner.next_refresh_at(clock.now) is None and planner.plan_refresh(clock.now) == []
    planner.refresh_enabled = True
    assert planner.next_refresh_at(clock.now) == clock.now  # overdue: at once
    assert [len(task.refs) for task in planner.plan_refresh(clock.now)] == [2]


def test_a_call_due_anyway_takes_the_leases_due_within_the_lookahead() -> None:
    clock = FakeClock()
    session = FakeSession(clock)
    planner = RefreshPlanner(session.leases.get)
    early, soon, later = PicRef("early", "local"), PicRef("soon", "local"), PicRef("later", "local")
    session.resolve([early])
    clock.advance_to(clock.now + REFRESH_LOOKAHEAD - 1)
    session.resolve([soon])
    clock.advance_to(clock.now + 2)
    session.resolve([later])  # due REFRESH_LOOKAHEAD + 1 s after the first: waits for its own call
    planner.set_needed("visible", {early.ident, soon.ident, later.ident})
    assert idle_for(planner, session, 300.0) == [1240.0, 1240.0 + REFRESH_LOOKAHEAD + 1]
    refreshed = [sorted(ref.pic_key for ref in call) for call in session.calls[3:]]
    assert refreshed == [["early", "soon"], ["later"]]


def test_a_failed_refresh_backs_off_per_picture_and_a_success_forgets_it() -> None:
    clock = FakeClock()
    session = FakeSession(clock)
    planner = RefreshPlanner(session.leases.get)
    bad, good = PicRef("bad", "local"), PicRef("good", "local")
    session.resolve([bad, good])
    planner.set_needed("visible", {bad.ident, good.ident})
    session.failing = {bad.ident}

    fired = idle_for(planner, session, 465.0)
    assert fired == [1240.0, 1255.0, 1285.0, 1345.0, 1465.0]  # waits of 15, 30, 60 and 120 s
    assert sorted(ref.pic_key for ref in session.calls[-1]) == ["bad", "good"]  # "good" (due 1480) rode along
    assert planner.next_refresh_at(clock.now) == 1465.0 + 240.0  # "bad" now waits 240 s

    session.failing = set()
    assert idle_for(planner, session, 240.0) == [1705.0]
    assert planner.next_refresh_at(clock.now) == 1705.0 + 240.0  # renewed: back to the lease's own rhythm


def test_the_retry_wait_doubles_up_to_five_minutes() -> None:
    waits = [refresh_retry_delay(None)]
    for _ in range(6):
        waits.append(refresh_retry_delay(waits[-1]))
    assert waits == [15.0, 30.0, 60.0, 120.0, 240.0, 300.0, 300.0]


def test_a_refresh_of_many_calls_serves_the_preview_and_the_screen_first() -> None:
    clock = FakeClock()
    session = FakeSession(clock)
    planner = RefreshPlanner(session.leases.get)
    saved = refs_of("local", 2 * MAX_PICS_PER_CALL, prefix="saved")
    shown, previewed = refs_of("local", 30, prefix="shown"), PicRef("previewed", "local")
    session.resolve([*saved, *shown, previewed])
    planner.set_needed("pin:save", {ref.ident for ref in saved})
    planner.set_needed("visible", {ref.ident for ref in shown})
    planner.set_needed("preview", {previewed.ident})
    clock.advance_to(1240.0)
    planned = planner.plan_refresh(clock.now)
    assert [len(task.refs) for task in planned] == [MAX_PICS_PER_CALL, MAX_PICS_PER_CALL, 31]
    first = planner.take()
    assert first is planned[0]  # taken in the order planned
    assert first.refs[0] == previewed and set(first.refs[1:31]) == set(shown)


def test_an_idle_hour_of_a_first_screen_costs_fifteen_calls() -> None:
    """The bench's idle scenario, planned alone: 9 local (300 s), 10 attachment (600 s) and 9 cloud
    (unbounded) tiles on screen, resolved a few milliseconds apart, then an hour with nothing touched."""
    clock = FakeClock()
    session = FakeSession(clock)
    planner = RefreshPlanner(session.leases.get)
    screen = [*refs_of("local", 9), *refs_of("attachment", 10), *refs_of("cloud", 9)]
    for ref in screen:
        session.resolve([ref])
        clock.advance_to(clock.now + 0.005)
    planner.set_needed("visible", {ref.ident for ref in screen})
    calls = len(session.calls)

    fired = idle_for(planner, session, HOUR)
    assert len(fired) == len(session.calls) - calls == 15  # local every 240 s; attachment rides along
    assert sum(len(call) for call in session.calls[calls:]) == 15 * 9 + 7 * 10


# ---- the background's wait -------------------------------------------------------------------------------


def test_background_waits_its_delay_then_for_the_gate_at_most_the_maximum() -> None:
    def never_asked() -> bool:
        raise AssertionError("the gate is asked only after the delay")

    assert background_wait(0.0, never_asked) == pytest.approx(BACKGROUND_DELAY)
    assert background_wait(BACKGROUND_DELAY / 3, never_asked) == pytest.approx(BACKGROUND_DELAY * 2 / 3)
    assert background_wait(BACKGROUND_DELAY, None) is None
    assert background_wait(BACKGROUND_DELAY, lambda: False) == BACKGROUND_POLL
    assert background_wait(BACKGROUND_DELAY + 1.0, lambda: True) is None
    assert background_wait(BACKGROUND_MAX_WAIT, lambda: False) is None
