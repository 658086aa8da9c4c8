"""The AFAS App Connector client: metainfo, paged GetConnector reads, UpdateConnector writes.

Plain Python over httpx. Every request goes through one bounded semaphore (AFAS allows at most 8
parallel calls), one retry policy and one error mapping (`responses.py`), and is logged without
headers. The paging machinery is in `paging.py`.
"""

from __future__ import annotations

import copy
import decimal
import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from afas_pipeline.afas.errors import AfasConfigError, AfasNotFoundError, AfasResponseError
from afas_pipeline.afas.filters import format_value, validate_field_id
from afas_pipeline.afas.frames import rows_to_frame
from afas_pipeline.afas.metainfo import ConnectorList, GetConnectorMeta, UpdateConnectorMeta
from afas_pipeline.afas.paging import FilterLike, Page, PageQuery, ParallelPages, page_params
from afas_pipeline.afas.responses import page_rows, parse_json, status_error, transport_error
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

_WRITE_OK = {"POST": (200, 201), "PUT": (200, 201), "DELETE": (200, 201, 204)}


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
        order_keys: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`field_meanings`: per connector id, what its "date" fields hold ("date" or
        "datetime"), which AFAS's metainfo cannot say; other "date" fields are typed by their
        values (see `frames.py`). `order_keys`: per connector id, the key fields a read is
        ordered by when it gives no `order_by`."""
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
        self.order_keys = {cid: tuple(key) for cid, key in (order_keys or {}).items()}
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
            params = page_params(order, filter, after)
            page = self._fetch_page(connector_id, meta, skip, take, params)
            yield page
            if page.row_count < take:
                return
            if keyset:
                after = page.frame.select(order).row(-1, named=True)
            else:
                skip += take

    def iter_pages_many(self, queries: Iterable[PageQuery]) -> Iterator[tuple[PageQuery, Page]]:
        """Run several paged reads in parallel threads, yielding pages as they arrive.

        At most `max_concurrency` queries run at once, each paging sequentially; at most about
        2 x max_concurrency pages wait in memory. The first error stops the other threads and
        is raised here; closing the generator early stops them too.
        """
        runner = ParallelPages(self, list(queries))
        return runner.run()

    def _order_by(
        self, connector_id: str, meta: GetConnectorMeta, order_by: Sequence[str] | None
    ) -> tuple[str, ...]:
        if order_by is None:
            order_by = self.order_keys.get(connector_id)
            if order_by is None:
                raise AfasConfigError(
                    f"connector {connector_id} has no known key: give order_by (its key "
                    "fields), because paging is only stable when ordered by a unique key"
                )
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
        rows = page_rows(body, method="GET", path=path, connector_id=connector_id)
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
        body = parse_json(response, method=method, path=path, connector_id=connector_id)
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
        return parse_json(response, method="GET", path=full, connector_id=connector_id)

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
                raise transport_error(error, method, context) from None
        elapsed = time.perf_counter() - started
        self.stats.add(api_calls=1, bytes=len(response.content))
        logger.debug("%s %s -> %d in %.3f s", method, full, response.status_code, elapsed)
        if response.is_success:
            return response
        raise status_error(response, method, context, self.settings.environment_label)

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
        return value.isoformat()
    raise TypeError(f"cannot send a {type(value).__name__} to AFAS as JSON")
