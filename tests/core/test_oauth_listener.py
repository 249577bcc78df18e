"""The one-shot loopback listener over real loopback HTTP: the one answer, wrong states and stray requests,
denial, timeout, cancel, a port in use, what the browser is shown, and that it never logs the code."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from kdocs_viewer.core.auth import AuthError, AuthReason
from kdocs_viewer.core.oauth_listener import CallbackListener, CallbackPage

STATE = "state-" + "x" * 40
CODE = "the-one-time-CODE-4242"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture
def listener() -> Iterator[CallbackListener]:
    listener = CallbackListener(STATE, port=0, timeout=30).start()
    yield listener
    listener.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("kdocs-callback")]


def callback(listener: CallbackListener, query: str) -> str:
    return f"http://127.0.0.1:{listener.port}/callback?{query}"


def port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_callback_gives_the_code_and_a_close_this_tab_page(
    listener: CallbackListener, http: httpx.Client
) -> None:
    host, port = listener.address or ("", 0)
    assert host == "127.0.0.1" and port == listener.port > 0
    assert listener.redirect_uri == f"http://127.0.0.1:{port}/callback"
    reply = http.get(callback(listener, f"code={CODE}&state={STATE}"))
    assert reply.status_code == 200
    assert "You are signed in" in reply.text and "close this tab" in reply.text
    assert CODE not in reply.text
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in reply.headers["content-security-policy"]
    assert "<script" not in reply.text and "http" not in reply.text.split("<body>", 1)[1]
    assert listener.wait(10) == CODE
    assert listener.done
    assert port_is_closed(port)  # one answer, then the port is free again


def test_wrong_state_and_stray_requests_are_refused_and_the_wait_goes_on(
    listener: CallbackListener, http: httpx.Client
) -> None:
    for query in ("code=forged&state=not-ours", "code=forged", "error=access_denied&state=not-ours", ""):
        reply = http.get(callback(listener, query))
        assert reply.status_code == 400
        assert "out of date" in reply.text
    assert http.get(f"http://127.0.0.1:{listener.port}/favicon.ico").status_code == 404
    assert http.post(callback(listener, f"code={CODE}&state={STATE}")).status_code == 405
    assert not listener.done
    assert http.get(callback(listener, f"state={STATE}&code={CODE}")).status_code == 200
    assert listener.wait(10) == CODE


def test_denial_in_the_browser(listener: CallbackListener, http: httpx.Client) -> None:
    reply = http.get(callback(listener, f"error=access_denied&state={STATE}"))
    assert reply.status_code == 200
    assert "You are not signed in" in reply.text and "not allowed" in reply.text
    with pytest.raises(AuthError) as info:
        listener.wait(10)
    assert info.value.auth_reason is AuthReason.DENIED


def test_no_answer_within_the_timeout() -> None:
    with CallbackListener(STATE, port=0, timeout=0.3) as listener:
        with pytest.raises(AuthError) as info:
            listener.wait(30)
        assert info.value.auth_reason is AuthReason.TIMEOUT
        assert "did not come back" in str(info.value)
        assert port_is_closed(listener.port)


def test_cancel_from_another_thread_ends_the_wait(listener: CallbackListener) -> None:
    errors: list[AuthError] = []

    def wait() -> None:
        try:
            listener.wait(30)
        except AuthError as exc:
            errors.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    listener.cancel()
    waiter.join(10)
    assert not waiter.is_alive()
    assert [e.auth_reason for e in errors] == [AuthReason.CANCELLED]
    assert port_is_closed(listener.port)


def test_a_port_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(AuthError) as info:
            CallbackListener(STATE, port=port).start()
    assert info.value.auth_reason is AuthReason.PORT_IN_USE
    assert str(port) in str(info.value) and "another port" in str(info.value)


def test_an_idle_connection_neither_blocks_the_callback_nor_the_close(http: httpx.Client) -> None:
    listener = CallbackListener(STATE, port=0, timeout=30).start()
    idle = socket.create_connection(("127.0.0.1", listener.port))  # a browser's speculative preconnect
    try:
        assert http.get(callback(listener, f"code={CODE}&state={STATE}")).status_code == 200
        assert listener.wait(10) == CODE
        listener.close()  # shuts the idle connection down instead of waiting out its timeout
        assert not [t for t in threading.enumerate() if t.name.startswith("kdocs-callback")]
    finally:
        idle.close()


def test_the_page_is_in_the_callers_language_and_escaped(http: httpx.Client) -> None:
    page = CallbackPage(
        lang="zh-CN",
        title="金山文档登录 <b>",
        success_heading="登录成功 <script>alert(1)</script>",
        success_text="可以关闭此标签页 & 返回应用。",
    )
    with CallbackListener(STATE, port=0, page=page) as listener:
        reply = http.get(callback(listener, f"code={CODE}&state={STATE}"))
        listener.wait(10)
    assert '<html lang="zh-CN">' in reply.text
    assert "登录成功 &lt;script&gt;alert(1)&lt;/script&gt;" in reply.text
    assert "可以关闭此标签页 &amp; 返回应用。" in reply.text
    assert "<script>" not in reply.text and "<b>" not in reply.text


def test_the_code_is_never_logged(
    http: httpx.Client, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.DEBUG), CallbackListener(STATE, port=0) as listener:
        http.get(callback(listener, "code=forged&state=wrong"))
        http.get(callback(listener, f"code={CODE}&state={STATE}"))
        assert listener.wait(10) == CODE
    out, err = capfd.readouterr()
    # The test's own HTTP client logs the URLs it requested; the listener's records must not hold them.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("kdocs_viewer")]
    assert ours  # it did log its requests
    for text in (*ours, out, err):
        assert CODE not in text and STATE not in text


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        CallbackListener("")
    with pytest.raises(ValueError):
        CallbackListener(STATE, timeout=0)
    with pytest.raises(RuntimeError):
        CallbackListener(STATE).wait(1)
