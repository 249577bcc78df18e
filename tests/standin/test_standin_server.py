"""StandinServer's life cycle: free port, quick start/stop, no thread left behind, in-flight requests."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from kdocs_viewer.core.contract import SHEETS_PATH
from kdocs_viewer.standin import StandinConfig, StandinServer


def standin_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("standin")]


def test_start_stop_leaves_no_thread_and_frees_the_port() -> None:
    before = set(threading.enumerate())
    server = StandinServer(StandinConfig(pictures=3))
    base_url = server.start()
    assert base_url == server.base_url and base_url.startswith("http://127.0.0.1:")
    port = int(base_url.rsplit(":", 1)[1])
    assert port > 0
    assert server.image_bytes(server.pictures()[0].pic_key)  # the image pool is used off the loop too
    server.stop()
    assert set(threading.enumerate()) <= before
    assert not standin_threads()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    server.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = server.base_url


def test_context_manager_and_two_servers_side_by_side() -> None:
    with StandinServer(StandinConfig(pictures=2)) as one, StandinServer(StandinConfig(pictures=2)) as two:
        assert one.base_url != two.base_url
        with httpx.Client() as client:
            for server in (one, two):
                url = server.base_url + SHEETS_PATH.format(file_token="demo-workbook")
                assert client.get(url, params={"access_token": "demo-token"}).json()["code"] == 0
    assert not standin_threads()


def test_stop_does_not_wait_for_a_slow_request() -> None:
    server = StandinServer(StandinConfig(pictures=2))
    server.start()
    ref = server.pictures()[0]
    with httpx.Client() as client:
        response = client.post(
            server.base_url + "/api/v1/openapi/et/demo-workbook/pictures/urls",
            params={"access_token": "demo-token"},
            json={"pics": [{"pic_key": ref.pic_key, "tag": ref.tag}]},
        )
    url = response.json()["data"]["urls"][0]["pic_url"]
    server.set_latency_ms(30_000)
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(httpx.get(url, timeout=20).status_code)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while server.image_gets(ref.pic_key) == 0 and caller.is_alive():
        threading.Event().wait(0.01)
    server.stop()
    caller.join(10)
    assert not caller.is_alive()
    assert not standin_threads()
    assert outcome == [503]  # answered at once, not cancelled


def test_port_in_use_is_an_os_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        server = StandinServer(StandinConfig(pictures=1, port=taken.getsockname()[1]))
        with pytest.raises(OSError):
            server.start()
    assert not standin_threads()


def test_repr_and_config_hide_the_token() -> None:
    server = StandinServer(StandinConfig(token="secret-token-123", pictures=1))
    assert "secret-token-123" not in repr(server)
    assert "secret-token-123" not in repr(server.config)


@pytest.mark.parametrize(
    "bad",
    [
        {"pictures": -1},
        {"time_scale": 0},
        {"fail_rate": 2},
        {"latency_ms": -5},
        {"quota": -1},
        {"file_token": ""},
    ],
)
def test_config_refuses_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        StandinConfig(**bad)  # type: ignore[arg-type]


def test_listening_socket_is_tcp_so_answers_are_not_delayed() -> None:
    """asyncio sets TCP_NODELAY only on TCP-proto sockets; proto 0 costs ~40 ms per keep-alive answer."""
    from kdocs_viewer.standin.server import _bind

    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
