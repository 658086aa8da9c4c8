"""Loading GetConnectors into the raw layer: days of change-tracked ones, snapshots of others.

Plain Python on top of the AFAS client; the Dagster assets are thin wrappers around these
functions, so the same code runs from the UI, a schedule, the headless command and the tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar, cast

import polars as pl

from afas_pipeline.afas import AfasClient, AfasError, AfasSchemaError, F, PageQuery
from afas_pipeline.afas.filters import Filter, any_of
from afas_pipeline.extract.days import DayRange
from afas_pipeline.extract.specs import ExtractSpec
from afas_pipeline.extract.storage import (
    LOADED_AT_COLUMN,
    PARTITION_COLUMN,
    RUN_ID_COLUMN,
    Keep,
    RawStore,
    repeated_keys,
)

# Keyset paging reads a query's pages one after another, so a range of days is split into
# about this many queries per parallel request to keep them all busy. More queries would only
# add calls: each ends on a part-filled page (31-day chunks made 80 calls for 100k lines
# where 19 full pages would do).
QUERIES_PER_PARALLEL_REQUEST = 2

K = TypeVar("K")
T = TypeVar("T")


class ExtractError(RuntimeError):
    """A load failed; the message says which connector, administration and partition."""


@dataclass(frozen=True)
class QueryScope:
    """What one query reads: a chunk of days (or everything) of one administration (or all)."""

    days: DayRange | None
    administration: int | None
    # The first partition also reads everything modified before it.
    open_start: bool = False

    def __str__(self) -> str:
        parts = [] if self.administration is None else [f"administration {self.administration}"]
        if self.days is not None:
            parts.append(f"partition {self.days}" + (" and earlier" if self.open_start else ""))
        return f" ({', '.join(parts)})" if parts else ""


@dataclass
class LoadReport:
    """What one load did: the figures an operator sees in the materialization metadata."""

    connector: str
    partition: str
    rows: int = 0
    pages: int = 0
    api_calls: int = 0
    retries: int = 0
    duration_s: float = 0.0
    rows_per_day: dict[date, int] = field(default_factory=dict)
    administrations: tuple[int, ...] | None = None
    min_modified: datetime | None = None
    max_modified: datetime | None = None
    # Deletion flags taken back because AFAS returned their keys again.
    restored: int = 0

    def observe(self, frame: pl.DataFrame, modification_field: str | None) -> None:
        self.rows += frame.height
        self.pages += 1
        if modification_field and frame.height:
            # A Datetime column's bounds (metainfo and contract agree on its type).
            column = frame[modification_field]
            low, high = cast(datetime, column.min()), cast(datetime, column.max())
            self.min_modified = low if self.min_modified is None else min(self.min_modified, low)
            self.max_modified = high if self.max_modified is None else max(self.max_modified, high)


def load_days(
    client: AfasClient,
    store: RawStore,
    spec: ExtractSpec,
    days: DayRange,
    *,
    administrations: Sequence[int] | None,
    run_id: str,
    first_partition: date | None = None,
) -> LoadReport:
    """Replace the partitions `days` of a change-tracked connector with what AFAS has now.

    Each administration and stretch of days is one filtered, keyset-paged query; the queries
    run concurrently within the client's bound. Nothing is replaced unless every query succeeded.
    The `first_partition` day (the partitions' start) also holds every record modified before
    it: master data and old entries predate any start date, and must not be left out.
    """
    report = LoadReport(spec.name, str(days), administrations=admin_tuple(administrations))
    queries = list(
        day_queries(spec, days, administrations, first_partition, parallel=client.max_concurrency)
    )
    spool = store.run_dir(run_id, f"spool-{spec.name}")
    started, stats_before = time.monotonic(), client.stats.snapshot()
    loaded_at = datetime.now(UTC)
    try:
        spooled = _spool_pages(client, queries, spool, spec, report, run_id, loaded_at)
        store.ensure_schema_files(spec.name, _empty_frame(spec).schema)
        report.rows_per_day = store.replace_days(
            spec.name,
            days=days.days,
            spool_files=spooled.files,
            key=spec.key,
            run_id=run_id,
            dedupe=spooled.repeated,
            keep=_others(spec, administrations),
        )
        if spooled.files:
            seen = pl.scan_parquet(spooled.files)
            report.restored = store.clear_deletions(
                spec.name, spec.key, seen, seen_at=loaded_at, run_id=run_id
            )
    finally:
        store.discard_run_dir(spool)
        finish_report(report, client, stats_before, started)
    return report


def load_snapshot(
    client: AfasClient,
    store: RawStore,
    spec: ExtractSpec,
    *,
    administrations: Sequence[int] | None,
    run_id: str,
) -> LoadReport:
    """Replace the snapshot of an unpartitioned connector with its whole current content (of
    `administrations`; the rows of the others stay as they were)."""
    report = LoadReport(spec.name, "snapshot", administrations=admin_tuple(administrations))
    queries = [_snapshot_query(spec, administrations)]
    spool = store.run_dir(run_id, f"spool-{spec.name}")
    started, stats_before = time.monotonic(), client.stats.snapshot()
    try:
        spooled = _spool_pages(client, queries, spool, spec, report, run_id, datetime.now(UTC))
        frame = pl.read_parquet(spooled.files) if spooled.files else _empty_frame(spec)
        if spooled.repeated:
            frame = frame.unique(maintain_order=True)
        store.write_snapshot(spec.name, frame, keep=_others(spec, administrations))
    finally:
        store.discard_run_dir(spool)
        finish_report(report, client, stats_before, started)
    return report


def known_administrations(client: AfasClient) -> list[int]:
    """The administrations AFAS has (`Profit_Administrations`)."""
    pages = client.iter_pages("Profit_Administrations", order_by=("AdminId",))
    return sorted(int(i) for page in pages for i in page.frame["AdminId"].to_list())


def check_administrations(client: AfasClient, configured: Sequence[int] | None) -> None:
    """Refuse a setting naming administrations that AFAS does not have: reading them would
    replace data with nothing (AFAS_ADMINISTRATIONS=99 emptied the snapshots)."""
    if configured is None:
        return
    known = known_administrations(client)
    unknown = sorted(set(configured) - set(known))
    if unknown:
        raise ExtractError(
            f"AFAS_ADMINISTRATIONS names {', '.join(map(str, unknown))}, which this AFAS "
            f"environment does not have (Profit_Administrations: {', '.join(map(str, known))}); "
            "nothing was read"
        )


def _others(spec: ExtractSpec, administrations: Sequence[int] | None) -> Keep | None:
    """What a load of some administrations leaves alone: the rows of the others."""
    field_id = spec.contract.administration_field
    if administrations is None or field_id is None:
        return None
    return Keep(field_id, tuple(administrations))


def iter_frames(
    client: AfasClient, queries: Iterable[PageQuery], spec: ExtractSpec
) -> Iterator[tuple[PageQuery, pl.DataFrame]]:
    """The typed pages of `queries` as the contract has them, with errors naming the connector
    and the query's scope. A connector whose metainfo does not match the contract is refused
    before any row is read."""
    try:
        meta = client.describe_get_connector(spec.connector_id)
        spec.contract.check_metainfo({f.id: f.data_type for f in meta.fields}, spec.connector_id)
        for query, page in client.iter_pages_many(queries):
            yield query, conform(page.frame, spec)
    except AfasError as exc:
        scope = getattr(exc, "query_tag", None) or ""
        raise ExtractError(f"{spec.name}{scope}: {exc}") from exc


def conform(frame: pl.DataFrame, spec: ExtractSpec) -> pl.DataFrame:
    """The page with the contract's fields that the connector has, in the contract's order and
    types: fields beyond the contract are left out (nothing reads them, and the raw layer's
    files keep one schema); an optional field the connector lacks stays absent (the folders'
    `_schema.parquet` makes it a null column for readers)."""
    schema = spec.schema
    if frame.schema == schema:
        return frame
    columns = [
        _exactly_as(frame[name], dtype, spec) for name, dtype in schema.items() if name in frame
    ]
    return pl.DataFrame(columns, height=frame.height)


def _exactly_as(column: pl.Series, dtype: pl.DataType, spec: ExtractSpec) -> pl.Series:
    """`column` in the contract's type, refused where that would change a value (e.g. an amount
    of 4 decimals into 2; a "date" typed by its values is a datetime at midnight)."""
    if column.dtype == dtype:
        return column
    cast = column.cast(dtype, strict=False)
    changed = cast.cast(column.dtype, strict=False).ne_missing(column)
    if changed.any():
        index = changed.arg_true()[0]
        raise AfasSchemaError(
            f"connector {spec.connector_id}: field {column.name!r} holds {column[index]!r}, "
            f"which is not exactly a {dtype} as the contract says",
            connector_id=spec.connector_id,
            field=column.name,
            value=column[index],
        )
    return cast


def read_concurrently(
    client: AfasClient, reads: Mapping[K, Callable[[AfasClient], T]]
) -> Iterator[tuple[K, T | Exception]]:
    """Run each read in a thread of its own and yield its key with its result, or with the
    exception it raised, as each finishes.

    Each read gets a client that counts its own calls (for its report) but shares `client`'s
    connections and request bound: reading connectors together costs a few round trips where
    one after another costs two per connector, and AFAS sees no more parallel requests.
    """
    with ThreadPoolExecutor(max(1, len(reads)), thread_name_prefix="afas-read") as pool:
        futures = {pool.submit(read, client.counting_apart()): key for key, read in reads.items()}
        for future in as_completed(futures):
            try:
                outcome: T | Exception = future.result()
            except Exception as error:
                outcome = error
            yield futures[future], outcome


def day_queries(
    spec: ExtractSpec,
    days: DayRange,
    administrations: Sequence[int] | None,
    first_partition: date | None,
    *,
    parallel: int,
) -> Iterator[PageQuery]:
    """The queries that read `days`: per administration, the days of a bulk connector split
    into a few stretches to read in parallel."""
    field_id = spec.modification_field
    scopes = _administration_scopes(spec, administrations)
    stretches = 1
    if spec.bulk:
        stretches = math.ceil(QUERIES_PER_PARALLEL_REQUEST * parallel / len(scopes))
    for chunk in days.chunks(math.ceil(len(days.days) / stretches)):
        open_start = chunk.start == first_partition
        in_chunk = Filter.of(F(field_id) < chunk.end_moment)
        if not open_start:
            in_chunk = in_chunk & (F(field_id) >= chunk.first_moment)
        for admin in scopes:
            flt = in_chunk if admin is None else in_chunk & (F(_admin_field(spec)) == admin)
            yield _query(spec, flt, QueryScope(chunk, admin, open_start))


def _snapshot_query(spec: ExtractSpec, administrations: Sequence[int] | None) -> PageQuery:
    """One query: a reference connector is small, and a query per administration only adds
    calls (each ends on a part-filled page)."""
    admins = _administration_scopes(spec, administrations)
    flt = None if admins == [None] else any_of(*(F(_admin_field(spec)) == a for a in admins))
    return _query(spec, flt, QueryScope(None, None))


def _administration_scopes(
    spec: ExtractSpec, administrations: Sequence[int] | None
) -> list[int | None]:
    if administrations is None or spec.contract.administration_field is None:
        return [None]
    return list(administrations)


def _admin_field(spec: ExtractSpec) -> str:
    assert spec.contract.administration_field is not None
    return spec.contract.administration_field


def scope_of(query: PageQuery) -> QueryScope:
    """The scope an extraction query is tagged with (`_query`'s, the deletion checks', the
    reconciliation's)."""
    if not isinstance(query.tag, QueryScope):
        raise TypeError(f"{query.connector_id}: an extraction query has no scope: {query.tag!r}")
    return query.tag


def _query(spec: ExtractSpec, flt: Filter | None, scope: QueryScope) -> PageQuery:
    return PageQuery(
        connector_id=spec.connector_id, filter=flt, order_by=spec.key, tag=scope, keyset=True
    )


@dataclass(frozen=True)
class Spooled:
    """A load's pages on disk: the files, which page of which query each holds, and whether a
    key came twice with the same content (dropped when the days are written)."""

    files: list[Path]
    pages: dict[str, str]
    repeated: bool = False


def _spool_pages(
    client: AfasClient,
    queries: list[PageQuery],
    spool: Path,
    spec: ExtractSpec,
    report: LoadReport,
    run_id: str,
    loaded_at: datetime,
) -> Spooled:
    """Write every page to its own Parquet file; memory holds one page at a time. Keys are
    checked: a null key, or a key twice in one day with other content, fails the load."""
    modification_field = spec.contract.modification_field
    files: list[Path] = []
    pages: dict[str, str] = {}
    numbers: dict[QueryScope, int] = {}
    for query, frame in iter_frames(client, queries, spec):
        scope = scope_of(query)
        _check_page_scope(frame, scope, spec)
        numbers[scope] = numbers.get(scope, 0) + 1
        page = f"page {numbers[scope]}{scope}"
        _check_keys_present(frame, spec, page)
        report.observe(frame, modification_field)
        if not frame.height:
            continue
        path = spool / f"page-{len(files):06d}.parquet"
        floor = scope.days.start if scope.days else None
        frame = _with_load_columns(frame, modification_field, loaded_at, run_id, floor)
        frame.write_parquet(path)
        files.append(path)
        pages[str(path)] = page
    return Spooled(files, pages, _check_repeated_keys(files, pages, spec))


def _check_keys_present(frame: pl.DataFrame, spec: ExtractSpec, page: str) -> None:
    """A row without a key can never be told apart from another: refuse the answer."""
    missing = frame.select(pl.any_horizontal(pl.col(spec.key).is_null()).arg_true())
    if missing.height:
        row = missing.item(0, 0)
        values = frame.row(row, named=True)
        empty = next(k for k in spec.key if values[k] is None)
        raise ExtractError(
            f"{spec.name}: row {row} of {page} has no {empty}, a key field (key "
            f"{_key_text(spec, values)}); AFAS's answer is not loaded, nothing was replaced"
        )


def _check_repeated_keys(files: list[Path], pages: dict[str, str], spec: ExtractSpec) -> bool:
    """Whether some key came twice in a day with the same content (harmless: kept once);
    a key twice with other content fails the load, naming the key and the pages."""
    repeated = repeated_keys(files, spec.key)
    conflicting = [r for r in repeated if r.variants > 1]
    if conflicting:
        first = conflicting[0]
        where = " and ".join(pages[f] for f in first.files)
        raise ExtractError(
            f"{spec.name}: AFAS returned key {_key_text(spec, first.key)} {first.rows} times "
            f"with different content, in {where}; which one is right cannot be known, so "
            f"nothing was replaced ({len(conflicting)} such key(s))"
        )
    return bool(repeated)


def _key_text(spec: ExtractSpec, values: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={values[k]!r}" for k in spec.key)


def _with_load_columns(
    frame: pl.DataFrame,
    modification_field: str | None,
    loaded_at: datetime,
    run_id: str,
    floor: date | None = None,
) -> pl.DataFrame:
    """Add the partition day (never before `floor`, the first day of the query) and load info."""
    if modification_field is None:
        partition = pl.lit("snapshot")
    else:
        day = pl.col(modification_field).dt.date()
        if floor is not None:
            day = pl.max_horizontal(day, pl.lit(floor))
        partition = day.cast(pl.String)
    return frame.with_columns(
        partition.alias(PARTITION_COLUMN),
        pl.lit(loaded_at, dtype=pl.Datetime("us", "UTC")).alias(LOADED_AT_COLUMN),
        pl.lit(run_id, dtype=pl.String).alias(RUN_ID_COLUMN),
    )


def _check_page_scope(frame: pl.DataFrame, scope: QueryScope, spec: ExtractSpec) -> None:
    """A row outside the requested days would land in the wrong partition: refuse it."""
    if scope.days is None or not frame.height:
        return
    days = frame[spec.modification_field].dt.date()
    first, last = cast(date, days.min()), cast(date, days.max())
    too_early = first < scope.days.start and not scope.open_start
    if too_early or last >= scope.days.end:
        raise ExtractError(
            f"{spec.name}{scope}: AFAS returned rows modified on {first}..{last}, "
            "outside the requested days; the connector's filter was not applied"
        )


def _empty_frame(spec: ExtractSpec) -> pl.DataFrame:
    return _with_load_columns(
        pl.DataFrame(schema=spec.schema), spec.contract.modification_field, datetime.now(UTC), ""
    )


def finish_report(report: LoadReport, client: AfasClient, before: object, started: float) -> None:
    delta = client.stats.snapshot() - before  # type: ignore[operator]
    report.api_calls = delta.api_calls
    report.retries = delta.retries
    report.duration_s = round(time.monotonic() - started, 3)


def admin_tuple(values: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if values is None else tuple(values)
