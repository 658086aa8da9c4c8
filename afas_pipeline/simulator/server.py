"""Serve the simulator over HTTP with uvicorn, in the foreground or in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn

from afas_pipeline.simulator.app import BASE_PATH, EnvironmentLike, create_app
from afas_pipeline.simulator.faults import FaultConfig


class _Server(uvicorn.Server):
    """A uvicorn server that reports its base URL once its socket is bound."""

    def __init__(self, config: uvicorn.Config, ready: Callable[[str], None] | None) -> None:
        super().__init__(config)
        self._ready = ready
        self.base_url: str | None = None

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:
            return
        # With port 0 the OS picked the port: read it back from the bound socket.
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        if ":" in host:
            host = f"[{host}]"
        self.base_url = f"http://{host}:{port}{BASE_PATH}"
        if self._ready is not None:
            self._ready(self.base_url)


def _config(app: Any, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
    )


def serve(
    environment: EnvironmentLike,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: FaultConfig | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Run the simulator until interrupted; `ready` (default: print) gets the base URL."""
    report = ready if ready is not None else (lambda url: print(url, flush=True))
    server = _Server(_config(create_app(environment, faults), host, port), report)
    server.run()


class ServerThread:
    """The simulator on a real loopback socket in a background thread, for in-process tests.

    >>> with ServerThread(environment) as server:
    ...     httpx.get(server.base_url + "/ProfitVersion", headers=...)
    """

    def __init__(
        self,
        environment: EnvironmentLike,
        *,
        faults: FaultConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 10.0,
    ) -> None:
        self.app = create_app(environment, faults)
        self._server = _Server(_config(self.app, host, port), None)
        self._thread = threading.Thread(target=self._server.run, name="afas-simulator", daemon=True)
        self._startup_timeout = startup_timeout

    @property
    def base_url(self) -> str:
        if self._server.base_url is None:
            raise RuntimeError("the simulator server has not started")
        return self._server.base_url

    def start(self) -> ServerThread:
        self._thread.start()
        _wait_until(
            lambda: self._server.started or not self._thread.is_alive(), self._startup_timeout
        )
        if not self._server.started:
            self.stop()
            raise RuntimeError("the simulator server did not start")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
