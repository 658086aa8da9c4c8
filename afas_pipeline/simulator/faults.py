"""Fault injection for the simulator: latency, 500/503 bursts, dropped connections, locks, and
writes that AFAS applies but answers badly (a 503 after applying, a slow apply).

Like AFAS, the simulator reads a request's whole body before anything else, so a write whose
client disconnects (killed, timed out) is applied all the same; only a `drop` fault loses it.

`FaultConfig` says what to inject; `FaultInjector` decides per request, deterministically from
the seed for a given sequence of requests; `FaultMiddleware` is the pure-ASGI layer that acts on
the decision. Faults apply to the AFAS endpoints only, never to the `/_simulator/` admin ones.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from afas_pipeline.simulator.hostile import MODES, NO_ROWS, rewrite
from afas_pipeline.simulator.query import UNEXPECTED_MESSAGE, error_body

# The key under which the outermost middleware keeps the server's own `send`, so a drop can reach
# the socket behind it even when other middleware wrapped `send`.
RAW_SEND_KEY = "afas_simulator.raw_send"

MAINTENANCE_MESSAGE = (
    "Service temporarily unavailable due to scheduled maintenance. "
    "Please check afasstatus.nl for details."
)
LOCKED_MESSAGE = "The booking layout is blocked by another user. Try again later."
# errorNumber for the lock message is not documented; a validation-style number is used.
LOCKED_ERROR_NUMBER = -2147220469


@dataclass(frozen=True)
class FaultConfig:
    """What faults to inject; everything is off by default. Rates are probabilities per request."""

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_500_rate: float = 0.0
    error_503_rate: float = 0.0
    # AFAS's own example says 7200; a small default keeps clients that honour it usable in tests.
    retry_after_seconds: int = 1
    burst_length: int = 1
    drop_rate: float = 0.0
    slow_page_rate: float = 0.0
    slow_page_ms: float = 0.0
    # A GetConnector page answered 200 without rows, as if the filter matched nothing.
    empty_page_rate: float = 0.0
    booking_layout_locked_rate: float = 0.0
    # Writes (POST, PUT, DELETE): applied, then answered with a 503 as if never applied...
    error_503_after_apply_rate: float = 0.0
    # ...or applied only after this long (a client may give up, or be killed, meanwhile).
    slow_apply_ms: float = 0.0
    seed: int = 0
    # Path prefixes relative to /ProfitRestServices (e.g. "/connectors"), case-insensitive.
    only_paths: tuple[str, ...] = ()
    # HTTP methods (e.g. "GET"); empty means all.
    methods: tuple[str, ...] = ()
    # A mode of `hostile.MODES`: every GetConnector page (GET /connectors/{id}) that passes
    # `applies` is answered, with 200, in that spoiled form. Empty means off.
    hostile: str = ""

    def __post_init__(self) -> None:
        rates = ("error_500_rate", "error_503_rate", "drop_rate", "slow_page_rate")
        for name in (*rates, "empty_page_rate", "error_503_after_apply_rate"):
            _check_rate(name, getattr(self, name))
        _check_rate("booking_layout_locked_rate", self.booking_layout_locked_rate)
        if self.hostile and self.hostile not in MODES:
            raise ValueError(f"unknown hostile mode {self.hostile!r}; one of {', '.join(MODES)}")
        if self.burst_length < 1:
            raise ValueError("burst_length must be at least 1")
        # Accept lists from JSON while staying hashable and frozen.
        object.__setattr__(self, "only_paths", tuple(self.only_paths))
        object.__setattr__(self, "methods", tuple(m.upper() for m in self.methods))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["only_paths"] = list(self.only_paths)
        data["methods"] = list(self.methods)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        """Build from JSON; unknown keys are an error so a typo does not silently do nothing."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> FaultConfig:
        return cls.from_dict(json.loads(text))

    def applies(self, method: str, path: str) -> bool:
        """Whether requests with this method and path (relative to the base) may get faults."""
        if self.methods and method.upper() not in self.methods:
            return False
        lowered = path.lower()
        return not self.only_paths or any(lowered.startswith(p.lower()) for p in self.only_paths)


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value}")


@dataclass(frozen=True)
class Decision:
    """What to do to one request: wait `delay` seconds, then answer with `fault` (or pass on)."""

    delay: float = 0.0
    fault: str | None = None  # "drop", "503", "500", "locked", "empty", "503_after_apply"


class FaultInjector:
    """Holds the current config, its seeded RNG and the state of running bursts."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Replace the config and restart the RNG and bursts, so a run is reproducible."""
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)
            self._bursts: dict[str, int] = {}

    def decide(self, method: str, path: str) -> Decision:
        config = self._config
        if not config.applies(method, path):
            return Decision()
        with self._lock:
            delay_ms = config.latency_ms
            if config.latency_jitter_ms:
                delay_ms += self._rng.uniform(0, config.latency_jitter_ms)
            page = _is_page(method, path)
            if page and config.slow_page_rate and self._rng.random() < config.slow_page_rate:
                delay_ms += config.slow_page_ms
            if _is_write(method, path):
                delay_ms += config.slow_apply_ms
            return Decision(delay_ms / 1000, self._fault(config, method, path))

    def _fault(self, config: FaultConfig, method: str, path: str) -> str | None:
        candidates = [
            ("drop", config.drop_rate),
            ("503", config.error_503_rate),
            ("500", config.error_500_rate),
        ]
        if _is_page(method, path):
            candidates.append(("empty", config.empty_page_rate))
        if _is_write(method, path):
            candidates.append(("503_after_apply", config.error_503_after_apply_rate))
        if method.upper() == "POST" and path.lower().rstrip("/") == "/connectors/fientries":
            candidates.append(("locked", config.booking_layout_locked_rate))
        # A running burst continues first: faults come in runs of burst_length requests.
        for kind, _ in candidates:
            if self._bursts.get(kind, 0) > 0:
                self._bursts[kind] -= 1
                return kind
        for kind, rate in candidates:
            if rate and self._rng.random() < rate:
                self._bursts[kind] = config.burst_length - 1
                return kind
        return None


class ConnectionDropped(Exception):
    """Raised where no socket can be closed (in-process transports): the request got no answer."""


class FaultMiddleware:
    """Pure ASGI middleware that applies the injector's decisions to the AFAS endpoints."""

    def __init__(self, app: Any, injector: FaultInjector, base_path: str, admin_segment: str):
        self.app = app
        self.injector = injector
        self.base = base_path.lower()
        self.admin = admin_segment.lower()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = self._relative(scope) if scope["type"] == "http" else None
        if path is None:
            await self.app(scope, receive, send)
            return
        receive = await _read_whole_body(receive)
        decision = self.injector.decide(scope["method"], path)
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)
        config = self.injector.config
        hostile = config.hostile if config.applies(scope["method"], path) else ""
        if decision.fault is None and hostile and _is_page(scope["method"], path):
            await _send_hostile(self.app, scope, receive, send, hostile)
        elif decision.fault is None:
            await self.app(scope, receive, send)
        elif decision.fault == "drop":
            await _drop_connection(scope, send)
        elif decision.fault == "empty":
            await _send_hostile(self.app, scope, receive, send, NO_ROWS)
        elif decision.fault == "503_after_apply":
            await self.app(scope, receive, _discard)  # applied; its answer never arrives
            await _send_fault(send, "503", self.injector.config.retry_after_seconds)
        else:
            await _send_fault(send, decision.fault, self.injector.config.retry_after_seconds)

    def _relative(self, scope: dict[str, Any]) -> str | None:
        # The path below the base, or None for admin endpoints and paths outside the API.
        path: str = scope["path"]
        if not path.lower().startswith(self.base):
            return None
        rest = path[len(self.base) :]
        if rest.lower().lstrip("/").startswith(self.admin):
            return None
        return rest


async def _read_whole_body(receive: Any) -> Any:
    """Read the request's body now and hand it on from memory: a client that disconnects
    during a delay (or is killed) no longer takes its write with it, as with AFAS."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break

    async def replay() -> dict[str, Any]:
        return messages.pop(0) if messages else await receive()

    return replay


async def _discard(message: dict[str, Any]) -> None:
    return None


def _is_write(method: str, path: str) -> bool:
    return method.upper() in ("POST", "PUT", "DELETE") and path.lower().startswith("/connectors/")


def _is_page(method: str, path: str) -> bool:
    segments = [s for s in path.lower().split("/") if s]
    return method.upper() == "GET" and len(segments) == 2 and segments[0] == "connectors"


async def _send_hostile(
    app: Any, scope: dict[str, Any], receive: Any, send: Any, mode: str
) -> None:
    # Let the app answer into a buffer, then spoil a good (200) page; anything else passes on.
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def capture(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    body = b"".join(chunks)
    if start.get("status") == 200:
        body = rewrite(mode, body, _take(scope))
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": start["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _take(scope: dict[str, Any]) -> int:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    try:
        return int(query.get("take", ["100"])[0])
    except ValueError:
        return 100


async def _send_fault(send: Any, fault: str, retry_after: int) -> None:
    headers = [(b"content-type", b"application/json; charset=utf-8")]
    if fault == "503":
        status = 503
        body: dict[str, Any] = {
            "error": {"code": "503", "message": MAINTENANCE_MESSAGE},
            "retry_after": retry_after,
        }
        headers.append((b"retry-after", str(retry_after).encode()))
    elif fault == "locked":
        status, body = 500, error_body(LOCKED_MESSAGE, LOCKED_ERROR_NUMBER)
    else:
        status, body = 500, error_body(UNEXPECTED_MESSAGE)
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _drop_connection(scope: dict[str, Any], send: Any) -> None:
    # uvicorn answers 500 itself when an app raises or returns without a response, so a real
    # drop needs the socket: its protocol's `send` is a bound method of an object holding the
    # transport. Aborting it resets the connection; once uvicorn has seen the loss it sends
    # nothing more.
    raw_send = scope.get(RAW_SEND_KEY, send)
    transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionDropped("simulated dropped connection")
    transport.abort()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
