"""Where writes may go: the simulator by default, a real AFAS only with an explicit opt-in.

"The simulator" is the embedded simulator saying so itself (`GET /ProfitVersion` answers
`"simulator": SIMULATOR_MARK`, which AFAS never does) on a loopback host. A loopback address
alone proves nothing: a sidecar, an egress proxy or a tunnel to real AFAS listens there too.
Anything else is treated as real AFAS: the write-back sends nothing but GET to it unless
`AFAS_ALLOW_WRITES=true` is set in the process environment (an operator's deployment decision,
deliberately not a run-config switch in the UI), and waits AFAS's full 900 s before it takes an
unanswered POST for not booked. The check is made twice: before a run starts, and in the HTTP
transport itself, so no code path can slip a POST or DELETE past it.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from afas_pipeline.afas.client import DEFAULT_TIMEOUT, AfasClient
from afas_pipeline.simulator import SIMULATOR_MARK

ALLOW_WRITES_VARIABLE = "AFAS_ALLOW_WRITES"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TRUE = frozenset({"1", "true", "yes", "on"})


class WritesNotAllowedError(RuntimeError):
    """A write to a real AFAS environment without the explicit opt-in."""


def is_loopback_url(base_url: str) -> bool:
    """Whether `base_url` points at a loopback host (where the simulator listens, among others)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def says_simulator(profit_version: Mapping[str, Any]) -> bool:
    """Whether a `GET /ProfitVersion` answer is the embedded simulator's."""
    return profit_version.get("simulator") == SIMULATOR_MARK


def target_is_simulator(client: AfasClient) -> bool:
    """Whether the client's target is the embedded simulator: on this machine, saying so."""
    if not is_loopback_url(client.settings.base_url):
        return False  # never asked: real AFAS gets no request it does not need
    return says_simulator(client.profit_version_info())


def writes_opted_in(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the process environment has `AFAS_ALLOW_WRITES=true`."""
    env = os.environ if environ is None else environ
    return env.get(ALLOW_WRITES_VARIABLE, "").strip().lower() in _TRUE


def require_writes_allowed(
    base_url: str, *, simulator: bool, environ: Mapping[str, str] | None = None
) -> None:
    """Raise a clear error before a run that would write to real AFAS without the opt-in."""
    if not (simulator or writes_opted_in(environ)):
        raise WritesNotAllowedError(_refusal(base_url))


def _refusal(where: str) -> str:
    return (
        f"refusing to write to {where}: it is not the local simulator (a loopback address is "
        "not enough: the simulator says so itself), and posting to a real AFAS environment "
        f"needs the explicit opt-in {ALLOW_WRITES_VARIABLE}=true in the environment of the "
        "process that runs the write-back (dry runs need no opt-in)"
    )


class WriteGuardTransport(httpx.BaseTransport):
    """Passes GETs on; refuses any other method without the opt-in, unless its target is the
    simulator (a loopback host whose `/ProfitVersion` says so, asked once per base URL)."""

    def __init__(self, inner: httpx.BaseTransport, *, allow_writes: bool) -> None:
        self._inner = inner
        self._allow_writes = allow_writes
        self._simulators: dict[str, bool] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        method = request.method.upper()
        write = method not in _READ_METHODS
        if write and not self._allow_writes and not self._is_simulator(request):
            # Not an httpx error on purpose: the client must not mistake it for a network
            # failure (which it might map to "maybe sent").
            raise WritesNotAllowedError(_refusal(f"{request.url.scheme}://{request.url.host}"))
        return self._inner.handle_request(request)

    def _is_simulator(self, request: httpx.Request) -> bool:
        base = _base_url(request.url)
        if base is None or not is_loopback_url(str(base)):
            return False
        if str(base) not in self._simulators:
            self._simulators[str(base)] = self._asks_simulator(base, request)
        return self._simulators[str(base)]

    def _asks_simulator(self, base: httpx.URL, request: httpx.Request) -> bool:
        headers = {"Accept": "application/json"}
        if "Authorization" in request.headers:
            headers["Authorization"] = request.headers["Authorization"]
        probe = httpx.Request("GET", base.join(f"{base.path}/ProfitVersion"), headers=headers)
        try:
            response = self._inner.handle_request(probe)
            try:
                body = json.loads(response.read())
            finally:
                response.close()
        except (httpx.HTTPError, ValueError):
            return False
        return response.status_code == 200 and isinstance(body, dict) and says_simulator(body)

    def close(self) -> None:
        self._inner.close()


def _base_url(url: httpx.URL) -> httpx.URL | None:
    """`scheme://host:port/.../ProfitRestServices` of a request URL, or None."""
    segments = url.path.split("/")
    for index, segment in enumerate(segments):
        if segment.lower() == "profitrestservices":
            return url.copy_with(path="/".join(segments[: index + 1]), query=None)
    return None


def guarded_http_client(
    *,
    environ: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | None = None,
) -> httpx.Client:
    """An httpx client whose transport enforces the write guard (for `AfasClient(http_client=)`)."""
    inner = transport or httpx.HTTPTransport()
    return httpx.Client(
        transport=WriteGuardTransport(inner, allow_writes=writes_opted_in(environ)),
        timeout=timeout or DEFAULT_TIMEOUT,
    )
