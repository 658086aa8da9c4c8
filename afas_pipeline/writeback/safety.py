"""Where writes may go: the simulator by default, a real AFAS only with an explicit opt-in.

"The simulator" is any base URL on a loopback host (127.0.0.0/8, ::1, localhost): the embedded
simulator always listens there, and no AFAS environment ever does (they are
`https://{n}.rest.afas.online`). Any other host is treated as real AFAS: the write-back sends
nothing but GET to it unless `AFAS_ALLOW_WRITES=true` is set in the process environment (an
operator's deployment decision, deliberately not a run-config switch in the UI). The check is
made twice: before a run starts, and in the HTTP transport itself, so no code path can slip a
POST or DELETE past it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from afas_pipeline.afas.client import DEFAULT_TIMEOUT

ALLOW_WRITES_VARIABLE = "AFAS_ALLOW_WRITES"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TRUE = frozenset({"1", "true", "yes", "on"})


class WritesNotAllowedError(RuntimeError):
    """A write to a real AFAS environment without the explicit opt-in."""


def is_simulator_url(base_url: str) -> bool:
    """Whether `base_url` points at a loopback host, i.e. a local simulator."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def writes_opted_in(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the process environment has `AFAS_ALLOW_WRITES=true`."""
    env = os.environ if environ is None else environ
    return env.get(ALLOW_WRITES_VARIABLE, "").strip().lower() in _TRUE


def writes_allowed(base_url: str, environ: Mapping[str, str] | None = None) -> bool:
    """Writes go to the simulator freely, and to anything else only with the opt-in."""
    return is_simulator_url(base_url) or writes_opted_in(environ)


def require_writes_allowed(base_url: str, environ: Mapping[str, str] | None = None) -> None:
    """Raise a clear error before a run that would write to real AFAS without the opt-in."""
    if not writes_allowed(base_url, environ):
        raise WritesNotAllowedError(_refusal(base_url))


def _refusal(where: str) -> str:
    return (
        f"refusing to write to {where}: it is not a local simulator, and posting to a real AFAS "
        f"environment needs the explicit opt-in {ALLOW_WRITES_VARIABLE}=true in the "
        "environment of the process that runs the write-back (dry runs need no opt-in)"
    )


class WriteGuardTransport(httpx.BaseTransport):
    """Passes GETs on; refuses any other method to a non-loopback host without the opt-in."""

    def __init__(self, inner: httpx.BaseTransport, *, allow_writes: bool) -> None:
        self._inner = inner
        self._allow_writes = allow_writes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        method = request.method.upper()
        write = method not in _READ_METHODS
        if write and not self._allow_writes and not is_simulator_url(str(request.url)):
            # Not an httpx error on purpose: the client must not mistake it for a network
            # failure (which it might map to "maybe sent").
            raise WritesNotAllowedError(_refusal(f"{request.url.scheme}://{request.url.host}"))
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


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
