"""``StandinServer``: the stand-in KDocs server on a real loopback port, in a background thread.

Tests start many of these, so start() and stop() are quick (well under half a second): the listening socket
is bound here (port 0 → a free port, known before the thread starts), uvicorn serves it on its own event loop
in one thread, and stop() joins that thread and the image worker pool — nothing outlives stop().
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

import uvicorn

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.standin.app import RequestLogEntry, StandinState, create_app
from kdocs_viewer.standin.config import StandinConfig
from kdocs_viewer.standin.dataset import Picture, Workbook, build_demo_workbook, build_folder_workbook
from kdocs_viewer.standin.images import ImageStore, default_disk_cache_dir
from kdocs_viewer.standin.oauth import FileEntry

__all__ = ["RequestLogEntry", "StandinServer"]

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0
# In-flight requests (say, sleeping in injected latency) get this long before they are cancelled; uvicorn
# annotates the option as int but awaits it with asyncio.wait_for, which takes fractions.
_GRACEFUL_SHUTDOWN: Any = 0.2


def build_workbook(config: StandinConfig) -> Workbook:
    """The workbook a config describes (a dataset folder, else the generated demo)."""
    if config.dataset is not None:
        return build_folder_workbook(config.file_token, config.dataset, config.pictures, config.seed)
    return build_demo_workbook(config.file_token, config.pictures, config.seed)


class _PromptServer(uvicorn.Server):
    """uvicorn's server, but stop() wakes its main loop at once instead of at its next 0.1 s tick."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        while not await self.on_tick(0):  # tick 0 refreshes the Date header; once a second is enough
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)

    def request_exit(self, also: Callable[[], object] | None = None) -> None:
        """Ask the server to stop; ``also`` runs on the server's loop first (to wake sleeping requests)."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop may have closed meanwhile
                if also is not None:
                    loop.call_soon_threadsafe(also)
                loop.call_soon_threadsafe(wake.set)


class StandinServer:
    """A running stand-in (after :meth:`start`), with hooks that tests use to observe and steer it.

    Thread-safe: hooks may be called from any thread while the server runs.
    """

    def __init__(self, config: StandinConfig | None = None) -> None:
        self.config = config or StandinConfig()
        self.workbook = build_workbook(self.config)
        disk_dir = default_disk_cache_dir() if self.config.disk_cache else None
        self.images = ImageStore(
            self.workbook, self.config.seed, memory_budget=self.config.memory_budget, disk_dir=disk_dir
        )
        self._state = StandinState(self.config, self.workbook, self.images)
        self._server: _PromptServer | None = None
        self._thread: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._base_url: str | None = None

    def __repr__(self) -> str:
        return f"<StandinServer {self._base_url or 'stopped'} file_token={self.config.file_token!r}>"

    # ---------------------------------------------------------------------------------------- lifecycle
    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the stand-in server is not running")
        return self._base_url

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> str:
        """Bind, serve in a background thread, wait until it accepts connections; returns the base URL."""
        if self._thread is not None:
            raise RuntimeError("already started")
        sock = _bind(self.config.host, self.config.port)
        host, port = sock.getsockname()[:2]
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="standin-images")
        self._state.executor = self._executor
        self._state.stopping = asyncio.Event()  # fresh for this run's loop
        uv_config = uvicorn.Config(
            create_app(self._state),
            log_level="warning",
            log_config=None,  # leave the process' logging alone
            access_log=False,  # uvicorn's access log prints query strings, i.e. tokens
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_keep_alive=30,
            timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN,
            server_header=False,
        )
        server = _PromptServer(uv_config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"standin-{port}", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError("the stand-in server did not start")
            time.sleep(0.002)
        shown_host = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown_host}:{port}"
        return self._base_url

    def stop(self) -> None:
        """Stop serving and join every thread this server started. Idempotent."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.request_exit(also=self._state.stopping.set)
            thread.join(_STOP_TIMEOUT)
            if thread.is_alive():
                server.force_exit = True
                thread.join(_STOP_TIMEOUT)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._server = self._thread = self._executor = None
        self._base_url = None

    def wait(self) -> None:
        """Block until the server thread ends (the CLI serves this way until a signal)."""
        thread = self._thread
        while thread is not None and thread.is_alive():
            thread.join(0.2)

    def __enter__(self) -> StandinServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------------------------------- test hooks
    def request_log(self) -> list[RequestLogEntry]:
        """Every request so far: method, path (no query string) and status (0 = connection dropped)."""
        return self._state.request_log()

    def api_calls_today(self) -> int:
        """API calls counted against today's quota (image GETs are not API calls)."""
        return self._state.api_calls_today()

    def set_token(self, token: str) -> None:
        """Accept only ``token`` from now on (the old one gets 20007)."""
        self._state.set_token(token)

    def set_fail_rate(self, rate: float) -> None:
        self._state.set_fail_rate(rate)

    def set_image_fail_rate(self, rate: float) -> None:
        """Make this fraction of the following picture GETs fail at random (see app.RANDOM_IMAGE_FAULTS)."""
        self._state.set_image_fail_rate(rate)

    def set_latency_ms(self, ms: float) -> None:
        self._state.set_latency_ms(ms)

    def revoke_url(self, pic_key: str) -> None:
        """URLs handed out so far for ``pic_key`` answer 403 from now on; a new resolve gives a good one."""
        self._state.revoke_url(pic_key)

    def delete_picture(self, pic_key: str) -> None:
        """The picture is deleted from the workbook: resolving its key gives an empty URL (the API's "no such
        picture"), its URLs answer 404 and the cells API no longer lists it."""
        self.workbook.delete_picture(pic_key)

    def image_bytes(self, pic_key: str) -> bytes:
        """Exactly the bytes a GET of this picture's URL serves (KeyError for an unknown key)."""
        return self.images.get(pic_key)

    def pictures(self) -> list[PicRef]:
        """All pictures in workbook order, with sheet, cell ("Products!A3") and caption."""
        return [p.ref() for p in self.workbook.pictures]

    def picture_info(self, pic_key: str) -> Picture:
        """What the server knows of one picture: kind (see dataset.KIND_*), size, content type."""
        return self.workbook.by_key[pic_key]

    def pictures_of_kind(self, kind: str) -> list[PicRef]:
        """The pictures of one kind, e.g. dataset.KIND_CORRUPT or dataset.KIND_PHOTO."""
        return [p.ref() for p in self.workbook.pictures if p.kind == kind]

    def image_gets(self, pic_key: str) -> int:
        """GET requests received for this picture's image path, whatever their outcome."""
        return self._state.image_gets(pic_key)

    def queue_faults(self, kinds: list[str]) -> None:
        """Each of the next API calls takes one fault, in order (see app.API_FAULTS)."""
        self._state.queue_faults(list(kinds))

    def queue_image_faults(self, kinds: list[str]) -> None:
        """Each of the next image GETs takes one fault, in order (see app.IMAGE_FAULTS)."""
        self._state.queue_image_faults(list(kinds))

    # Test hooks of signing in (standin.oauth); nothing outside a test process can call these.
    def revoke_refresh_tokens(self) -> int:
        """Every refresh token issued so far stops working (as when the user revokes the app); returns how
        many there were. Access tokens keep working until they expire."""
        return self._state.oauth.revoke_refresh_tokens()

    def expire_access_tokens(self) -> int:
        """Every access token issued by sign-in expires now (the static token is not affected)."""
        return self._state.oauth.expire_access_tokens()

    def live_access_tokens(self) -> int:
        """Access tokens issued by sign-in that still work."""
        return self._state.oauth.live_access_tokens()

    def user_files(self) -> list[FileEntry]:
        """The user's files as the file lists serve them, newest first."""
        return list(self._state.oauth.files)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if family == socket.AF_INET and not host.replace(".", "").isdigit():
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    # proto IPPROTO_TCP (not 0) so asyncio sets TCP_NODELAY on accepted connections: without it every
    # keep-alive answer (headers and body are two writes) waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock
