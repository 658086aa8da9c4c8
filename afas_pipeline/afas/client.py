"""The AFAS App Connector client: metainfo, paged GetConnector reads, UpdateConnector writes.

Plain Python over httpx. Every request goes through one bounded semaphore (AFAS allows at most 8
parallel calls), one retry policy and one error mapping, and is logged without headers.
"""

from __future__ import annotations

import contextlib
import copy
import decimal
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

import httpx
import polars as pl

from afas_pipeline.afas.contract import CONNECTORS
from afas_pipeline.afas.errors import (
    AfasAmbiguousWriteError,
    AfasAuthenticationError,
    AfasBookingLayoutLockedError,
    AfasConfigError,
    AfasConnectorBlockedError,
    AfasError,
    AfasFieldNotFoundError,
    AfasMaintenanceError,
    AfasNotFoundError,
    AfasPayloadTooLargeError,
    AfasResponseError,
    AfasTransientError,
    AfasValidationError,
)
from afas_pipeline.afas.filters import (
    Condition,
    F,
    Filter,
    all_of,
    any_of,
    format_value,
    validate_field_id,
)
from afas_pipeline.afas.frames import rows_to_frame
from afas_pipeline.afas.metainfo import ConnectorList, GetConnectorMeta, UpdateConnectorMeta
from afas_pipeline.afas.retry import RetryPolicy
from afas_pipeline.afas.settings import AfasSettings

logger = logging.getLogger("afas_pipeline.afas")

# AFAS answers 404 to a query string (from "?" on) over 2,049 characters (afas-api.md §1).
MAX_QUERY_LENGTH = 2049
# AFAS's guideline: fields x rows per page below 150,000 (afas-api.md §3.2).
MAX_CELLS_PER_PAGE = 150_000
# "A maximum of 8 parallel calls are allowed" (afas-api.md §3.2).
MAX_CONCURRENCY = 8
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=120.0)

FilterLike = Filter | Condition
_WRITE_OK = {"POST": (200, 201), "PUT": (200, 201), "DELETE": (200, 201, 204)}
# Connection failures before any byte was sent: safe to retry even a write.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Page(NamedTuple):
    """One GetConnector page: the typed rows and where they sit in the result."""

    connector_id: str
    skip: int
    take: int
    frame: pl.DataFrame
    row_count: int


@dataclass(frozen=True)
class PageQuery:
    """One paged read for `iter_pages_many`; `tag` is the caller's own bookkeeping."""

    connector_id: str
    filter: FilterLike | None = None
    order_by: Sequence[str] | None = None
    page_size: int | None = None
    tag: object = None
    keyset: bool = False


@dataclass(frozen=True)
class UpdateResult:
    """The answer to a POST/PUT/DELETE: the keys AFAS returned (strings) and the status."""

    status: int
    results: Mapping[str, Any]


@dataclass(frozen=True)
class StatsSnapshot:
    """Counters at one moment; subtract two snapshots to get the figures of one run."""

    api_calls: int = 0
    pages: int = 0
    rows: int = 0
    retries: int = 0
    bytes: int = 0

    def __sub__(self, other: StatsSnapshot) -> StatsSnapshot:
        return StatsSnapshot(
            self.api_calls - other.api_calls,
            self.pages - other.pages,
            self.rows - other.rows,
            self.retries - other.retries,
            self.bytes - other.bytes,
        )


@dataclass
class ClientStats:
    """Thread-safe counters of what the client did."""

    api_calls: int = 0
    pages: int = 0
    rows: int = 0
    retries: int = 0
    bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)

    def snapshot(self) -> StatsSnapshot:
        with self._lock:
            return StatsSnapshot(self.api_calls, self.pages, self.rows, self.retries, self.bytes)


class AfasClient:
    """A client for one AFAS environment. Thread-safe; use as a context manager."""

    def __init__(
        self,
        settings: AfasSettings,
        *,
        http_client: httpx.Client | None = None,
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        language: str = "nl-nl",
        field_meanings: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """`field_meanings`: per connector id, what its "date" fields hold ("date" or
        "datetime"), which AFAS's metainfo cannot say; other "date" fields are typed by their
        values (see `frames.py`)."""
        if not 1 <= max_concurrency <= MAX_CONCURRENCY:
            raise AfasConfigError(
                f"max_concurrency must be 1 to {MAX_CONCURRENCY} (AFAS allows at most "
                f"{MAX_CONCURRENCY} parallel calls), got {max_concurrency}"
            )
        self.settings = settings
        self.max_concurrency = max_concurrency
        self.retry = retry or RetryPolicy()
        self.language = language
        self.field_meanings = {cid: dict(m) for cid, m in (field_meanings or {}).items()}
        self.stats = ClientStats()
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=max_concurrency, max_keepalive_connections=max_concurrency
            ),
        )
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._meta: dict[str, GetConnectorMeta] = {}
        self._meta_lock = threading.Lock()
        self._meta_fetching: dict[str, threading.Lock] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> AfasClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AfasClient({self.settings.environment_label})"

    def counting_apart(self) -> AfasClient:
        """A client that shares this one's connections, request bound and metainfo cache but
        has its own counters: connectors read at the same time each report their own calls,
        and AFAS still never sees more than `max_concurrency` requests at once."""
        twin = copy.copy(self)
        twin.stats = ClientStats()
        twin._owns_http = False
        return twin

    # -- metainfo --------------------------------------------------------------------------

    def list_connectors(self) -> ConnectorList:
        """`GET /metainfo`: the connectors this token may use."""
        return ConnectorList.from_json(self._get_json("/metainfo"))

    def describe_get_connector(self, connector_id: str) -> GetConnectorMeta:
        """`GET /metainfo/get/{id}` with the fields' known meanings, cached for the lifetime
        of this client."""
        with self._meta_lock:
            cached = self._meta.get(connector_id)
            if cached is not None:
                return cached
            fetching = self._meta_fetching.setdefault(connector_id, threading.Lock())
        # One request per connector: the worker threads of a parallel read all start by asking
        # for the same metainfo, and without this each of them sent the request itself.
        with fetching:
            with self._meta_lock:
                cached = self._meta.get(connector_id)
            if cached is not None:
                return cached
            path = f"/metainfo/get/{_segment(connector_id)}"
            meta = GetConnectorMeta.from_json(self._get_json(path, connector_id=connector_id))
            meta = meta.with_meanings(self.field_meanings.get(connector_id, {}))
            with self._meta_lock:
                return self._meta.setdefault(connector_id, meta)

    def describe_update_connector(self, connector_id: str) -> UpdateConnectorMeta:
        """`GET /metainfo/update/{id}`: the UpdateConnector's object tree."""
        path = f"/metainfo/update/{_segment(connector_id)}"
        return UpdateConnectorMeta.from_json(self._get_json(path, connector_id=connector_id))

    def profit_version(self) -> str:
        """`GET /ProfitVersion`: the Profit version, e.g. "22.22.5" (also a cheap token test)."""
        return str(self.profit_version_info()["version"])

    def profit_version_info(self) -> Mapping[str, Any]:
        """`GET /ProfitVersion` as AFAS answers it: `{"version": ...}` (the simulator adds
        that it is one)."""
        body = self._get_json("/ProfitVersion")
        if not isinstance(body, Mapping) or "version" not in body:
            raise AfasResponseError("ProfitVersion answer has no 'version'", path="/ProfitVersion")
        return body

    # -- GetConnectors ---------------------------------------------------------------------

    def iter_pages(
        self,
        connector_id: str,
        *,
        filter: FilterLike | None = None,
        order_by: Sequence[str] | None = None,
        page_size: int | None = None,
        keyset: bool = False,
    ) -> Iterator[Page]:
        """Read a GetConnector page by page, ordered by its key so paging is stable.

        A generator: it fetches the next page only when asked, so memory holds one page. With
        `keyset`, every page asks for the rows after the last key seen (always `skip=0`), which
        stays correct when AFAS deletes or edits records during the read (skip/take would then
        shift rows across pages) and avoids large skips, which AFAS answers slowly.
        """
        meta = self.describe_get_connector(connector_id)
        order = self._order_by(connector_id, meta, order_by)
        take = self._take(connector_id, meta, page_size)
        if keyset and any(field.startswith("-") for field in order):
            raise AfasConfigError("keyset paging needs an ascending order_by (its key fields)")
        skip, after = 0, None
        while True:
            params = self._page_params(order, filter, after)
            page = self._fetch_page(connector_id, meta, skip, take, params)
            yield page
            if page.row_count < take:
                return
            if keyset:
                after = page.frame.select(order).row(-1, named=True)
            else:
                skip += take

    @staticmethod
    def _page_params(
        order: tuple[str, ...], filter: FilterLike | None, after: Mapping[str, Any] | None
    ) -> dict[str, str]:
        params: dict[str, str] = {"orderbyfieldids": ",".join(order)}
        if after is not None:
            rest = _after_key(order, after)
            filter = rest if filter is None else filter & rest
        if filter is not None:
            params.update(Filter.of(filter).to_query_params())
        return params

    def iter_pages_many(self, queries: Iterable[PageQuery]) -> Iterator[tuple[PageQuery, Page]]:
        """Run several paged reads in parallel threads, yielding pages as they arrive.

        At most `max_concurrency` queries run at once, each paging sequentially; at most about
        2 x max_concurrency pages wait in memory. The first error stops the other threads and
        is raised here; closing the generator early stops them too.
        """
        runner = _ParallelPages(self, list(queries))
        return runner.run()

    def _order_by(
        self, connector_id: str, meta: GetConnectorMeta, order_by: Sequence[str] | None
    ) -> tuple[str, ...]:
        if order_by is None:
            spec = CONNECTORS.get(connector_id)
            if spec is None:
                raise AfasConfigError(
                    f"connector {connector_id} is not in the contract: give order_by (its key "
                    "fields), because paging is only stable when ordered by a unique key"
                )
            order_by = spec.key
        if isinstance(order_by, str):
            order_by = (order_by,)
        known = set(meta.field_ids)
        for item in order_by:
            name = validate_field_id(item.removeprefix("-"))
            if name not in known:
                raise AfasConfigError(
                    f"cannot order connector {connector_id} by {name!r}: metainfo has no such field"
                )
        if not order_by:
            raise AfasConfigError(f"order_by for connector {connector_id} is empty")
        return tuple(order_by)

    def _take(self, connector_id: str, meta: GetConnectorMeta, page_size: int | None) -> int:
        limit = max(1, MAX_CELLS_PER_PAGE // max(1, len(meta.fields)))
        if page_size is None:
            return limit
        if page_size < 1:
            # take=-1 ("all rows") is discouraged by AFAS and breaks paging.
            raise AfasConfigError(f"page_size for connector {connector_id} must be >= 1")
        return min(page_size, limit)

    def _fetch_page(
        self,
        connector_id: str,
        meta: GetConnectorMeta,
        skip: int,
        take: int,
        params: Mapping[str, str],
    ) -> Page:
        path = f"/connectors/{_segment(connector_id)}"
        query = {"skip": str(skip), "take": str(take), **params}
        body = self._get_json(path, params=query, connector_id=connector_id)
        rows = _rows(body, method="GET", path=path, connector_id=connector_id)
        if len(rows) > take:
            raise AfasResponseError(
                f"AFAS returned {len(rows)} rows for take={take}; paging would skip rows",
                method="GET",
                path=path,
                connector_id=connector_id,
            )
        frame = rows_to_frame(rows, meta, connector_id=connector_id, skip=skip)
        self.stats.add(pages=1, rows=len(rows))
        return Page(connector_id, skip, take, frame, len(rows))

    # -- UpdateConnectors ------------------------------------------------------------------

    def post(self, connector_id: str, payload: Mapping[str, Any]) -> UpdateResult:
        """Insert through an UpdateConnector (`POST /connectors/{id}`); AFAS answers 201."""
        return self._write("POST", f"/connectors/{_segment(connector_id)}", connector_id, payload)

    def put(self, connector_id: str, payload: Mapping[str, Any]) -> UpdateResult:
        """Update through an UpdateConnector (`PUT /connectors/{id}`)."""
        return self._write("PUT", f"/connectors/{_segment(connector_id)}", connector_id, payload)

    def delete(
        self, connector_id: str, path: Sequence[tuple[str, Mapping[str, object]]]
    ) -> UpdateResult:
        """Delete by key: `delete("FiEntries", [("FiEntryPar", {"UnId": 1, "JoCo": "80"}),
        ("FiEntries", {"@EnNo": 5789})])` sends
        `DELETE /connectors/FiEntries/FiEntryPar/UnId,JoCo/1,80/FiEntries/@EnNo/5789`.
        """
        return self._write("DELETE", delete_path(connector_id, path), connector_id, None)

    def _write(
        self, method: str, path: str, connector_id: str, payload: Mapping[str, Any] | None
    ) -> UpdateResult:
        response = self._request(method, path, connector_id=connector_id, json_body=payload)
        if response.status_code not in _WRITE_OK[method]:
            raise AfasResponseError(
                f"unexpected success status {response.status_code} for {method}",
                method=method,
                path=path,
                connector_id=connector_id,
                status=response.status_code,
            )
        if not response.content.strip():
            # Some UpdateConnectors answer with an empty body (afas-api.md §5.1).
            return UpdateResult(response.status_code, {})
        body = _parse_json(response, method=method, path=path, connector_id=connector_id)
        if not isinstance(body, Mapping):
            raise AfasResponseError(
                "UpdateConnector answer is not a JSON object",
                method=method,
                path=path,
                connector_id=connector_id,
                status=response.status_code,
            )
        results = body.get("results", body)
        return UpdateResult(response.status_code, results if isinstance(results, Mapping) else {})

    # -- transport -------------------------------------------------------------------------

    def _get_json(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        connector_id: str | None = None,
    ) -> Any:
        response = self._request("GET", path, params=params, connector_id=connector_id)
        full = _with_query(path, params)
        if not response.content.strip():
            raise AfasResponseError(
                "AFAS answered with an empty body where JSON was expected",
                method="GET",
                path=full,
                connector_id=connector_id,
                status=response.status_code,
            )
        return _parse_json(response, method="GET", path=full, connector_id=connector_id)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        connector_id: str | None = None,
    ) -> httpx.Response:
        """Send one logical request with retries; returns a 2xx response or raises."""
        full = _with_query(path, params)
        query = full.partition("?")[2]
        if len(query) > MAX_QUERY_LENGTH:
            # AFAS would answer 404; refusing here gives the real reason.
            raise AfasNotFoundError(
                f"the query string is {len(query)} characters, over AFAS's limit of "
                f"{MAX_QUERY_LENGTH} (AFAS answers 404): narrow the filter or split the query",
                query_too_long=True,
                method=method,
                path=full,
                connector_id=connector_id,
            )
        content = None
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False, default=_json_default).encode()

        def attempt() -> httpx.Response:
            return self._send_once(method, full, content, connector_id)

        return self.retry.call(
            attempt, method=method, on_retry=lambda _error: self.stats.add(retries=1)
        )

    def _send_once(
        self, method: str, full: str, content: bytes | None, connector_id: str | None
    ) -> httpx.Response:
        headers = self._headers(write=content is not None)
        context = {"method": method, "path": full, "connector_id": connector_id}
        started = time.perf_counter()
        with self._slots:
            try:
                response = self._http.request(
                    method, self.settings.base_url + full, headers=headers, content=content
                )
            except httpx.TransportError as error:
                raise _transport_error(error, method, context) from None
        elapsed = time.perf_counter() - started
        self.stats.add(api_calls=1, bytes=len(response.content))
        logger.debug("%s %s -> %d in %.3f s", method, full, response.status_code, elapsed)
        if response.is_success:
            return response
        raise self._status_error(response, method, context)

    def _headers(self, *, write: bool) -> dict[str, str]:
        # No "Connection: close": AFAS then resets connections (afas-api.md §2).
        headers = {
            "Authorization": self.settings.token.authorization_header(),
            "Accept": "application/json",
            "Accept-Language": self.language,
        }
        if write:
            headers["Content-Type"] = "application/json;charset=utf-8"
        return headers

    def _status_error(
        self, response: httpx.Response, method: str, context: dict[str, Any]
    ) -> AfasError:
        status = response.status_code
        context = {**context, "status": status}
        if status in (401, 403):
            return AfasAuthenticationError(
                f"AFAS refused the token for {self.settings.environment_label}: check the "
                "token (expired or for another environment), the environment, that the "
                "connector is in the App Connector, and the App Connector's IP restriction",
                **context,
            )
        if status == 404:
            return AfasNotFoundError(
                "AFAS answered 404: check the connector id and the base URL "
                f"({self.settings.environment_label})",
                **context,
            )
        if status == 503:
            if method != "GET":
                # A 503 may come after AFAS applied the write (a proxy's or gateway's answer to
                # a booking that went through): repeating it could book an entry twice.
                return _ambiguous("maintenance answer (503) to a write", context)
            return _maintenance_error(response, context)
        if status == 500:
            return server_error(response, method, context)
        if status in (502, 504):
            if method != "GET":
                return _ambiguous(f"gateway error {status} on a write", context)
            return AfasTransientError(f"AFAS gateway error {status}", **context)
        if status == 413:
            return AfasPayloadTooLargeError(
                "AFAS refused the request as too large (over 75 MB?)", **context
            )
        return AfasError(f"AFAS answered with unexpected HTTP status {status}", **context)


# -- response and error helpers -------------------------------------------------------------

_LOCKED = re.compile(
    r"(blocked|locked) by another user|geblokkeerd door een andere gebruiker", re.IGNORECASE
)
_BLOCKED = re.compile(r"getconnector.*\((definition|definitie)\).*(blocked|geblokkeerd)", re.I)
_FIELD = re.compile(r"Connector field '([^']*)' not found", re.IGNORECASE)
_TOO_LARGE = re.compile(r"out of memory|out of string space", re.IGNORECASE)
_TRANSIENT = re.compile(
    r"an unexpected error has occurred"
    r"|maximale tijdsduur voor het uitvoeren van de opdracht is verstreken"
    r"|maximum duration for performing the assignment has been exceeded",
    re.IGNORECASE,
)


def server_error(response: httpx.Response, method: str, context: dict[str, Any]) -> AfasError:
    """Map an HTTP 500 to its error class by AFAS's `externalMessage`."""
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, Mapping) or "externalMessage" not in body:
        # AFAS's own 500s always carry the JSON body; a bare 500 comes from infrastructure.
        if method == "GET":
            return AfasTransientError("HTTP 500 without AFAS's error body", **context)
        return _ambiguous("HTTP 500 without AFAS's error body on a write", context)
    message = str(body.get("externalMessage") or "")
    number = body.get("errorNumber")
    details = {
        **context,
        "external_message": message,
        "error_number": int(number) if isinstance(number, int) else None,
        "profit_log_reference": body.get("profitLogReference"),
    }
    return _classify_500(message, details)


def _classify_500(message: str, details: dict[str, Any]) -> AfasError:
    said = f"AFAS: {message}"
    if _LOCKED.search(message):
        return AfasBookingLayoutLockedError(f"{said} (retrying later helps)", **details)
    if _BLOCKED.search(message):
        return AfasConnectorBlockedError(
            f"{said} (AFAS blocked this GetConnector under its fair-use policy; an AFAS "
            "administrator must unblock it)",
            **details,
        )
    field_match = _FIELD.search(message)
    if field_match:
        return AfasFieldNotFoundError(
            f"{said} (a filter or sort names a field the connector does not have)",
            field=field_match.group(1),
            **details,
        )
    if _TOO_LARGE.search(message):
        return AfasPayloadTooLargeError(
            f"{said} (the page is too large for AFAS: lower the page size / take)", **details
        )
    if _TRANSIENT.search(message):
        return AfasTransientError(said, **details)
    return AfasValidationError(said, **details)


def _maintenance_error(response: httpx.Response, context: dict[str, Any]) -> AfasError:
    retry_after = _retry_after_header(response.headers.get("Retry-After"))
    if retry_after is None:
        with contextlib.suppress(ValueError):
            body = json.loads(response.content)
            if isinstance(body, Mapping) and isinstance(body.get("retry_after"), int | float):
                retry_after = float(body["retry_after"])
    hint = f"; AFAS asks to retry after {retry_after:g} s" if retry_after is not None else ""
    return AfasMaintenanceError(
        f"AFAS is unavailable for maintenance (see afasstatus.nl){hint}",
        retry_after=retry_after,
        **context,
    )


def _retry_after_header(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError):
        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


def _transport_error(
    error: httpx.TransportError, method: str, context: dict[str, Any]
) -> AfasError:
    kind = type(error).__name__
    if isinstance(error, _NOT_SENT):
        return AfasTransientError(
            f"could not reach AFAS ({kind}); the request was not sent", before_send=True, **context
        )
    if method != "GET":
        return _ambiguous(f"the connection failed after the request was sent ({kind})", context)
    return AfasTransientError(f"the connection to AFAS failed ({kind})", **context)


def _ambiguous(reason: str, context: dict[str, Any]) -> AfasAmbiguousWriteError:
    return AfasAmbiguousWriteError(
        f"{reason}: AFAS may or may not have applied this write; check in AFAS before "
        "sending it again (it is not retried automatically)",
        **context,
    )


def _parse_json(
    response: httpx.Response, *, method: str, path: str, connector_id: str | None
) -> Any:
    try:
        # Exact decimals: an amount must never pass through a float.
        return json.loads(response.content, parse_float=decimal.Decimal)
    except ValueError:
        raise AfasResponseError(
            "AFAS answered with a body that is not valid JSON "
            f"(Content-Type {response.headers.get('Content-Type', 'missing')!r})",
            method=method,
            path=path,
            connector_id=connector_id,
            status=response.status_code,
        ) from None


def _rows(body: Any, *, method: str, path: str, connector_id: str) -> list[dict[str, Any]]:
    rows = body.get("rows") if isinstance(body, Mapping) else None
    if not isinstance(rows, list):
        raise AfasResponseError(
            "GetConnector answer has no 'rows' list",
            method=method,
            path=path,
            connector_id=connector_id,
        )
    return rows


def _with_query(path: str, params: Mapping[str, str] | None) -> str:
    if not params:
        return path
    # quote (not quote_plus): %20 for spaces, and ",", ";" encoded like AFAS's own examples.
    return f"{path}?{urlencode(params, quote_via=quote)}"


def _segment(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AfasConfigError(f"a connector id must be a non-empty string, got {value!r}")
    return quote(value, safe="")


def delete_path(connector_id: str, path: Sequence[tuple[str, Mapping[str, object]]]) -> str:
    """The DELETE URL path: per object its key names and values, comma-separated."""
    if not path:
        raise AfasConfigError("delete needs at least one (object, keys) pair")
    parts = ["", "connectors", _segment(connector_id)]
    for name, keys in path:
        if not keys:
            raise AfasConfigError(f"delete: object {name!r} needs at least one key field")
        parts.append(_segment(name))
        parts.append(",".join(quote(k, safe="@") for k in keys))
        parts.append(",".join(quote(format_value(v), safe="") for v in keys.values()))  # type: ignore[arg-type]
    return "/".join(parts)


def _json_default(value: object) -> object:
    if isinstance(value, decimal.Decimal):
        # AFAS reads amounts as JSON numbers or strings; a string keeps every digit.
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return, attr-defined]
    raise TypeError(f"cannot send a {type(value).__name__} to AFAS as JSON")


# -- parallel paging --------------------------------------------------------------------------


class _ParallelPages:
    """Worker threads paging queries into one bounded queue, drained by a generator."""

    # How often the consumer looks for a failed or finished worker while the queue is empty.
    POLL = 0.02

    def __init__(self, client: AfasClient, queries: list[PageQuery]) -> None:
        self.client = client
        self.queries = queries
        self.workers = max(1, min(client.max_concurrency, len(queries)))
        # Each worker holds at most one page while waiting, so about 2 x workers in memory.
        self.out: queue.Queue[tuple[PageQuery, Page]] = queue.Queue(maxsize=self.workers)
        self.todo: queue.SimpleQueue[PageQuery] = queue.SimpleQueue()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._error_lock = threading.Lock()

    def run(self) -> Iterator[tuple[PageQuery, Page]]:
        if not self.queries:
            return
        for query in self.queries:
            self.todo.put(query)
        threads = [
            threading.Thread(target=self._work, name=f"afas-pages-{i}", daemon=True)
            for i in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        try:
            yield from self._drain(threads)
        finally:
            # Also on an early close by the caller: workers stop at their next page.
            self.stop.set()
            for thread in threads:
                thread.join()

    def _drain(self, threads: list[threading.Thread]) -> Iterator[tuple[PageQuery, Page]]:
        while True:
            if self.error is not None:
                raise self.error
            try:
                item = self.out.get(timeout=self.POLL)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and self.out.empty():
                    if self.error is not None:
                        raise self.error from None
                    return
                continue
            yield item

    def _work(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    query = self.todo.get_nowait()
                except queue.Empty:
                    return
                self._page(query)
        except BaseException as error:  # handed to the consumer thread
            with self._error_lock:
                if self.error is None:
                    self.error = error
            self.stop.set()

    def _page(self, query: PageQuery) -> None:
        pages = self.client.iter_pages(
            query.connector_id,
            filter=query.filter,
            order_by=query.order_by,
            page_size=query.page_size,
            keyset=query.keyset,
        )
        try:
            for page in pages:
                if not self._put((query, page)):
                    return
        except AfasError as error:
            error.query_tag = query.tag  # which of the caller's queries failed
            raise

    def _put(self, item: tuple[PageQuery, Page]) -> bool:
        """Queue a page, waiting for room; False once the run is stopped."""
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=self.POLL)
                return True
            except queue.Full:
                continue
        return False


def _after_key(order: tuple[str, ...], last: Mapping[str, Any]) -> Filter:
    """Rows whose key sorts after `last`: (k1 > a) or (k1 = a and k2 > b) or ..."""
    groups = []
    for i, name in enumerate(order):
        equal = [F(order[j]) == last[order[j]] for j in range(i)]
        groups.append(all_of(*equal, F(name) > last[name]))
    return any_of(*groups)
