"""``gui.throttle.Throttle``: at most one run per interval, the first of a quiet spell at once."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from kdocs_viewer.gui.throttle import Throttle

INTERVAL_MS = 300  # long enough that a loaded machine cannot pass it between two lines of a test


def test_the_first_run_is_at_once_the_rest_of_a_burst_once_after_the_interval(qtbot: QtBot) -> None:
    runs: list[int] = []
    throttle = Throttle(INTERVAL_MS, lambda: runs.append(len(runs)))
    throttle.soon()
    assert runs == [0] and not throttle.pending()  # nothing held back
    throttle.soon()
    throttle.soon()
    assert runs == [0] and throttle.pending()  # a burst waits for the interval ...
    qtbot.waitUntil(lambda: len(runs) == 2, timeout=5000)
    qtbot.wait(2 * INTERVAL_MS)
    assert runs == [0, 1] and not throttle.pending()  # ... and runs once for all of it


def test_after_a_quiet_spell_the_next_run_is_at_once_again(qtbot: QtBot) -> None:
    runs: list[int] = []
    throttle = Throttle(INTERVAL_MS, lambda: runs.append(len(runs)))
    throttle.soon()
    qtbot.wait(INTERVAL_MS + 50)
    throttle.soon()
    assert runs == [0, 1]


def test_now_runs_at_once_and_stop_drops_the_waiting_run(qtbot: QtBot) -> None:
    runs: list[int] = []
    throttle = Throttle(INTERVAL_MS, lambda: runs.append(len(runs)))
    throttle.soon()
    throttle.soon()
    assert throttle.pending()
    throttle.now()  # the waiting run happens now, not again later
    assert runs == [0, 1] and not throttle.pending()
    throttle.soon()
    assert throttle.pending()
    throttle.stop()
    qtbot.wait(2 * INTERVAL_MS)
    assert runs == [0, 1]
