"""Fail a test on any Python log record at WARNING or above that the test did not declare.

pytest-qt already fails a test on Qt warnings (``qt_log_level_fail``); this does the same for ``logging``,
so an error the product only logs (a worker that swallowed an exception, a refresh that quietly failed)
cannot pass unnoticed. Loaded by the root conftest, whose docstring tells tests how to declare a record.

One handler on the root logger sees records from every thread. Each record is judged when it is emitted:
- expected — it matches an ``expect_log(...)`` block that is open: kept in that block's list;
- tolerated — it matches a ``logfail_ignore`` marker of the running test, or ``THIRD_PARTY_ALLOWED``;
- unexpected — anything else: the phase (setup, call or teardown) it was emitted in fails, and the
  report lists each record with its logger, thread, source line and traceback.
A record emitted between two tests (a thread that outlived its fixture) is charged to the next phase that
ends, with its thread named, rather than lost.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import pytest

FAIL_LEVEL = logging.WARNING

# Records from loggers we do not own that a passing test may emit, each with why it cannot be avoided.
# (logger prefix, level, message regex) -> reason. Keep it short: a record of ours never belongs here.
THIRD_PARTY_ALLOWED: dict[tuple[str, int, str], str] = {}

MARKER = "logfail_ignore"
MARKER_HELP = (
    f"{MARKER}(logger, level=logging.WARNING, match=None, reason=...): tolerate (not require) log records "
    "of that logger (or a child) at exactly that level whose message matches the regex, for this test"
)


@dataclass(frozen=True, slots=True)
class LogMatcher:
    """Which records a declaration covers: a logger and its children, one exact level, a message regex."""

    logger: str
    level: int = logging.WARNING
    match: str | None = None

    def __post_init__(self) -> None:
        if self.match is not None:
            re.compile(self.match)  # a bad regex fails the declaration, not the code that logs later

    def covers(self, record: logging.LogRecord) -> bool:
        name_ok = record.name == self.logger or record.name.startswith(self.logger + ".")
        if not name_ok or record.levelno != self.level:
            return False
        if self.match is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format call is for the report to show, not for the logging call to raise
            return False
        return re.search(self.match, message) is not None

    def describe(self) -> str:
        what = f"a {logging.getLevelName(self.level)} record from {self.logger!r}"
        return what if self.match is None else f"{what} matching {self.match!r}"


class ExpectLog(Protocol):
    """The ``expect_log`` fixture's type, for test signatures."""

    def __call__(
        self, logger: str, level: int = logging.WARNING, match: str | None = None
    ) -> contextlib.AbstractContextManager[list[logging.LogRecord]]: ...


@dataclass(slots=True)
class _Expectation:
    matcher: LogMatcher
    records: list[logging.LogRecord] = field(default_factory=list)


class LogFailHandler(logging.Handler):
    """Sorts every WARNING+ record into expected, tolerated or unexpected (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(FAIL_LEVEL)
        # The test's declarations and findings, shared with logging threads. Reentrant: formatting a record
        # for its regex may call code that logs.
        self._guard = threading.RLock()
        self._expectations: list[_Expectation] = []
        self._tolerated: list[LogMatcher] = [LogMatcher(*key) for key in THIRD_PARTY_ALLOWED]
        self._marker_tolerated: list[LogMatcher] = []
        self._unexpected: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Runs on whichever thread logged; must never raise into it.
        with self._guard:
            self._sort(record)

    def _sort(self, record: logging.LogRecord) -> None:
        for expectation in reversed(self._expectations):
            if expectation.matcher.covers(record):
                expectation.records.append(record)
                return
        if any(m.covers(record) for m in (*self._marker_tolerated, *self._tolerated)):
            return
        self._unexpected.append(record)

    def start_test(self, tolerated: list[LogMatcher]) -> None:
        with self._guard:
            self._marker_tolerated = tolerated
            self._expectations = []

    def end_test(self) -> None:
        with self._guard:
            self._marker_tolerated = []
            self._expectations = []

    def take_unexpected(self) -> list[logging.LogRecord]:
        with self._guard:
            records, self._unexpected = self._unexpected, []
        return records

    @contextlib.contextmanager
    def expecting(self, matcher: LogMatcher) -> Iterator[list[logging.LogRecord]]:
        expectation = _Expectation(matcher)
        with self._guard:
            self._expectations.append(expectation)
        try:
            yield expectation.records
        finally:
            with self._guard:
                self._expectations.remove(expectation)
                seen = bool(expectation.records)
        # Only when the block itself succeeded: its own failure is the better message.
        if not seen:
            pytest.fail(f"expected {matcher.describe()} inside expect_log(...), but none was logged")


_FORMATTER = logging.Formatter("%(levelname)s %(name)s [%(threadName)s] %(pathname)s:%(lineno)d: %(message)s")


def _describe(records: list[logging.LogRecord], when: str) -> str:
    lines = [
        f"{len(records)} unexpected log record(s) at WARNING or above during {when}. Fix the cause, or "
        "declare the record: `with expect_log(logger, level, match=...)` or "
        f"`@pytest.mark.{MARKER}(...)` (see tests/conftest.py)."
    ]
    lines += ["  " + _format(r).replace("\n", "\n    ") for r in records]
    return "\n".join(lines)


def _format(record: logging.LogRecord) -> str:
    try:
        return _FORMATTER.format(record)
    except Exception as exc:
        return f"{record.levelname} {record.name} {record.msg!r} {record.args!r} (cannot format: {exc!r})"


_HANDLER_KEY = pytest.StashKey[LogFailHandler]()


def _handler(config: pytest.Config) -> LogFailHandler:
    return config.stash[_HANDLER_KEY]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    handler = LogFailHandler()
    config.stash[_HANDLER_KEY] = handler
    logging.getLogger().addHandler(handler)


def pytest_unconfigure(config: pytest.Config) -> None:
    handler = config.stash.get(_HANDLER_KEY, None)
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()


def _marker_matchers(item: pytest.Item) -> list[LogMatcher]:
    matchers = []
    for mark in item.iter_markers(MARKER):
        if not mark.kwargs.get("reason"):
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{MARKER} needs reason=... (why it may log)")
        kwargs = {k: v for k, v in mark.kwargs.items() if k != "reason"}
        matchers.append(LogMatcher(*mark.args, **kwargs))
    return matchers


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _handler(item.config).start_test(_marker_matchers(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    handler = _handler(item.config)
    unexpected = handler.take_unexpected()
    if call.when == "teardown":
        handler.end_test()
    if unexpected:
        text = _describe(unexpected, call.when)
        if report.passed:
            report.outcome = "failed"
            report.longrepr = text
        else:
            report.sections.append((f"Unexpected log records ({call.when})", text))
    return report


@pytest.fixture
def expect_log(request: pytest.FixtureRequest) -> ExpectLog:
    """``with expect_log(logger, level=logging.WARNING, match=None) as records:`` — see tests/conftest.py.

    Inside the block, records of ``logger`` (or a child) at exactly ``level`` whose message matches ``match``
    (``re.search``) are expected, from any thread; they are collected in ``records``. Leaving the block
    without one fails the test.
    """
    handler = _handler(request.config)

    def expect(
        logger: str, level: int = logging.WARNING, match: str | None = None
    ) -> contextlib.AbstractContextManager[list[logging.LogRecord]]:
        return handler.expecting(LogMatcher(logger, level, match))

    return expect


__all__ = ["FAIL_LEVEL", "THIRD_PARTY_ALLOWED", "ExpectLog", "LogFailHandler", "LogMatcher", "expect_log"]
