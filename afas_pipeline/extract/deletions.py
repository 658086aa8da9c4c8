"""Finding records that AFAS deleted, and keeping their last version visible, flagged.

AFAS deletes leave no trace on the record. Journal lines: AFAS reports every booking date on
which lines were added, changed or deleted (`Profit_Fin_ChangedEntrydate`); re-reading the keys
of those dates and comparing them with the warehouse shows which lines are gone. Master data: a
full read of the keys. A record is only called deleted if the warehouse loaded it before the
check began, so a record created while the check runs is never mistaken for a deleted one.

AFAS can answer wrongly (one empty 200 flagged all 404 debtors deleted), so an answer that would
flag an implausible share of the keys compared, or that is empty where many records were
loaded, is refused: nothing is flagged and the check says why. Keys that AFAS returns again
lose a flag an earlier, bad answer gave them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from afas_pipeline.afas import AfasClient, F, PageQuery
from afas_pipeline.datadir import STATE_DIR, write_atomically
from afas_pipeline.extract.days import DayRange
from afas_pipeline.extract.loader import (
    LoadReport,
    QueryScope,
    admin_tuple,
    finish_report,
    iter_frames,
    scope_of,
)
from afas_pipeline.extract.specs import ExtractSpec
from afas_pipeline.extract.storage import (
    DELETED,
    DELETED_RUN_ID_COLUMN,
    DELETED_SEEN_AT_COLUMN,
    DISPLACED,
    LOADED_AT_COLUMN,
    RawStore,
)

ENTRY_DATE = "EntryDate"
_UNIT = "UnitId"
ROW_HASH = "_row_hash"
# Consecutive changed dates closer than this are read in one range query.
MAX_GAP_DAYS = 3
MAX_RANGE_DAYS = 31
# An answer that would flag more than this share of the keys compared is refused...
MAX_DELETED_SHARE = 0.5
# ...when it concerns more keys than this: a date with a few lines may lose them all.
MIN_IMPLAUSIBLE = 10


class ImplausibleDeletionsError(RuntimeError):
    """AFAS's answer would flag an implausible share of the keys as deleted; nothing was.
    `report` holds what the check read and compared."""

    def __init__(self, message: str, report: LoadReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class DeletionReport(LoadReport):
    """A load report plus what the check compared and found."""

    checked_keys: int = 0
    deleted: int = 0
    checked_dates: int = 0


def all_versions(store: RawStore, spec: ExtractSpec) -> pl.LazyFrame | None:
    """Every loaded version of the connector's records: the day files and the displaced rows
    (None before the first load)."""
    files = store.day_files(spec.name) + store.history_files(spec.name, DISPLACED)
    if not files:
        return None
    return pl.concat([store.scan(f) for f in files], how="diagonal_relaxed")


def row_hash(spec: ExtractSpec, present: Iterable[str]) -> pl.Expr:
    """A fingerprint of a record's content, the same for a page from AFAS and a stored version:
    every contract field in the contract's type, null where the frame lacks it (`present` are
    the frame's columns)."""
    names = set(present)
    fields = [
        pl.col(name).cast(dtype) if name in names else pl.lit(None, dtype).alias(name)
        for name, dtype in spec.schema.items()
    ]
    return pl.struct(fields).hash(seed=0).alias(ROW_HASH)


def live_versions(
    store: RawStore,
    spec: ExtractSpec,
    *,
    columns: Sequence[str] | None = None,
    keys: pl.LazyFrame | None = None,
    fingerprinted: bool = False,
    deleted_too: bool = False,
) -> pl.DataFrame:
    """The newest loaded version of every key that is not known to be deleted.

    Displaced rows count as versions too, so a key whose day was re-read stays known. A
    deletion counts only if it was seen after that version was loaded. With `columns`, only
    those (and what the versioning needs) are read; with `keys`, only those keys: a check of a
    million lines then holds keys in memory, not whole rows. `fingerprinted` adds each
    version's `row_hash` (a column of `ROW_HASH`); `deleted_too` keeps the deleted keys.
    """
    versions = all_versions(store, spec)
    if versions is None:
        return pl.DataFrame()
    key = list(spec.key)
    if fingerprinted:
        versions = versions.with_columns(row_hash(spec, versions.collect_schema().names()))
        columns = [*(columns or ()), ROW_HASH]
    if columns is not None:
        needed = [*key, spec.modification_field, LOADED_AT_COLUMN, *columns]
        versions = versions.select(list(dict.fromkeys(needed)))
    if keys is not None:
        versions = versions.join(keys, on=key, how="semi", nulls_equal=True)
    # Read once, then version in memory: a plan that scans the files for each of its branches
    # held twice the memory.
    newest = _newest_per_key(versions.collect(engine="streaming").lazy(), spec)
    deleted_files = [] if deleted_too else store.history_files(spec.name, DELETED)
    if deleted_files:
        seen = store.scan(deleted_files).select(*key, DELETED_SEEN_AT_COLUMN)
        gone = (
            seen.join(newest.select(*key, LOADED_AT_COLUMN), on=key, nulls_equal=True)
            .filter(pl.col(DELETED_SEEN_AT_COLUMN) >= pl.col(LOADED_AT_COLUMN))
            .select(key)
        )
        newest = newest.join(gone, on=key, how="anti", nulls_equal=True)
    return newest.collect()


def _newest_per_key(versions: pl.LazyFrame, spec: ExtractSpec) -> pl.LazyFrame:
    """The last version of each key by modification and load time. Most keys have one version,
    so only the few with several are sorted: sorting all (a million lines) held ~5x the memory."""
    key = list(spec.key)
    repeated = versions.group_by(key).len().filter(pl.col("len") > 1).select(key)
    several = (
        versions.join(repeated, on=key, how="semi", nulls_equal=True)
        .sort([spec.modification_field, LOADED_AT_COLUMN])
        .unique(subset=key, keep="last")
    )
    single = versions.join(repeated, on=key, how="anti", nulls_equal=True)
    return pl.concat([single, several])


def detect_deleted_journal_lines(
    client: AfasClient,
    store: RawStore,
    spec: ExtractSpec,
    changed_dates: pl.DataFrame,
    *,
    administrations: Sequence[int] | None,
    run_id: str,
    accept_mass_deletions: bool = False,
) -> DeletionReport:
    """Flag loaded journal lines whose booking date AFAS reports as changed and that are gone.

    `changed_dates` is the current `Profit_Fin_ChangedEntrydate` (EntryDate, Modified). Dates
    whose Modified is not newer than at the last check are skipped. Only the lines of
    `administrations` (None: all) are compared, as only theirs are read.
    """
    report = DeletionReport(
        spec.name, "deletion check", administrations=admin_tuple(administrations)
    )
    started_at, started, before = datetime.now(UTC), time.monotonic(), client.stats.snapshot()
    state_path = store.data_dir / STATE_DIR / f"{spec.name}-checked-entry-dates.parquet"
    try:
        versions = all_versions(store, spec)
        dates = [] if versions is None else _dates_to_check(changed_dates, state_path, versions)
        report.checked_dates = len(dates)
        if versions is not None and dates:
            candidates = _lines_on_dates(store, spec, versions, dates).filter(
                pl.col(LOADED_AT_COLUMN) < started_at
            )
            if administrations is not None:
                candidates = candidates.filter(pl.col(_UNIT).is_in(administrations))
            queries = _entry_date_queries(spec, dates, administrations)
            report.deleted = _flag_missing(
                client, store, spec, candidates, queries, report, run_id, started_at,
                accept_mass_deletions=accept_mass_deletions,
            )  # fmt: skip
        write_atomically(changed_dates.select(ENTRY_DATE, "Modified"), state_path)
    finally:
        finish_report(report, client, before, started)
    return report


def detect_deleted_by_key_scan(
    client: AfasClient,
    store: RawStore,
    spec: ExtractSpec,
    *,
    run_id: str,
    accept_mass_deletions: bool = False,
) -> DeletionReport:
    """Flag loaded records whose key a full read of the connector no longer returns."""
    report = DeletionReport(spec.name, "deletion check")
    started_at, started, before = datetime.now(UTC), time.monotonic(), client.stats.snapshot()
    try:
        live = live_versions(store, spec, columns=[])
        if live.height:
            candidates = live.filter(pl.col(LOADED_AT_COLUMN) < started_at)
            query = PageQuery(
                connector_id=spec.connector_id,
                filter=None,
                order_by=spec.key,
                tag=QueryScope(None, None),
                keyset=True,
            )
            report.deleted = _flag_missing(
                client, store, spec, candidates, [query], report, run_id, started_at,
                accept_mass_deletions=accept_mass_deletions,
            )  # fmt: skip
    finally:
        finish_report(report, client, before, started)
    return report


def _flag_missing(
    client: AfasClient,
    store: RawStore,
    spec: ExtractSpec,
    candidates: pl.DataFrame,
    queries: list[PageQuery],
    report: DeletionReport,
    run_id: str,
    seen_at: datetime,
    *,
    accept_mass_deletions: bool,
) -> int:
    key = list(spec.key)
    present, answered = afas_keys(client, queries, spec, report)
    report.checked_keys = candidates.height
    gone = candidates.join(present, on=key, how="anti", nulls_equal=True)
    doubt = implausible(spec, candidates, gone, answered)
    if doubt and not accept_mass_deletions:
        raise ImplausibleDeletionsError(
            f"{spec.name}: refused to flag deletions: {doubt}. Nothing was flagged; AFAS may "
            "have answered wrongly, and the next check asks again. If AFAS really deleted "
            "them, run the check (or the full reconciliation) with accept_mass_deletions",
            report,
        )
    report.restored = store.clear_deletions(
        spec.name, key, present.lazy(), seen_at=seen_at, run_id=run_id
    )
    flag_deleted(store, spec, gone.select(key), seen_at=seen_at, run_id=run_id)
    return gone.height


def flag_deleted(
    store: RawStore, spec: ExtractSpec, gone: pl.DataFrame, *, seen_at: datetime, run_id: str
) -> None:
    """Keep the last version of the records `gone` names (keys), flagged deleted as of
    `seen_at`."""
    if not gone.height:
        return
    whole = live_versions(store, spec, keys=gone.select(spec.key).lazy())
    flagged = whole.with_columns(
        pl.lit(seen_at, dtype=pl.Datetime("us", "UTC")).alias(DELETED_SEEN_AT_COLUMN),
        pl.lit(run_id, dtype=pl.String).alias(DELETED_RUN_ID_COLUMN),
    )
    store.append_history(spec.name, DELETED, flagged, f"deleted-{run_id}")


def implausible(
    spec: ExtractSpec,
    candidates: pl.DataFrame,
    gone: pl.DataFrame,
    answered: dict[QueryScope, int],
    *,
    day_column: str = ENTRY_DATE,
) -> str | None:
    """Why AFAS's answer cannot be trusted as deletions, or None: it would flag most of many
    keys, or one query came back empty where many records were loaded (the candidates of a
    query's scope: its administration, and its days of `day_column`)."""
    if gone.height > MIN_IMPLAUSIBLE and gone.height > MAX_DELETED_SHARE * candidates.height:
        return (
            f"the answer would flag {gone.height} of the {candidates.height} records compared "
            f"as deleted (more than {MAX_DELETED_SHARE:.0%})"
        )
    for scope, rows in answered.items():
        loaded = _in_scope(candidates, scope, day_column).height
        if rows == 0 and loaded > MIN_IMPLAUSIBLE:
            return (
                f"AFAS answered{scope or ' the full read'} with no rows, where {loaded} were loaded"
            )
    return None


def _in_scope(candidates: pl.DataFrame, scope: QueryScope, day_column: str) -> pl.DataFrame:
    """The candidates a query of `scope` (days, administration) compares."""
    if scope.days is not None:
        days = pl.col(day_column).is_between(scope.days.start, scope.days.end, closed="left")
        if scope.open_start:
            days = pl.col(day_column) < scope.days.end
        candidates = candidates.filter(days)
    if scope.administration is not None:
        candidates = candidates.filter(pl.col(_UNIT) == scope.administration)
    return candidates


def afas_keys(
    client: AfasClient, queries: list[PageQuery], spec: ExtractSpec, report: LoadReport
) -> tuple[pl.DataFrame, dict[QueryScope, int]]:
    """The keys AFAS returns for `queries`, and the rows each query returned; only key columns
    are kept, so memory stays small."""
    parts = [pl.DataFrame(schema={k: spec.schema[k] for k in spec.key})]
    answered = dict.fromkeys((scope_of(q) for q in queries), 0)
    for query, frame in iter_frames(client, queries, spec):
        report.observe(frame, None)
        answered[scope_of(query)] += frame.height
        parts.append(frame.select(spec.key))
    return pl.concat(parts).unique(), answered


def _lines_on_dates(
    store: RawStore, spec: ExtractSpec, versions: pl.LazyFrame, dates: list[date]
) -> pl.DataFrame:
    """The live journal lines whose newest version is booked on one of `dates`.

    Only keys with a version on those dates are versioned: a line moved off a date by an edit
    is not a candidate there, and a day's check does not hold the whole ledger in memory.
    """
    on_dates = pl.col(ENTRY_DATE).is_in(dates)
    touched = versions.filter(on_dates).select(spec.key).unique()
    live = live_versions(store, spec, columns=[ENTRY_DATE], keys=touched)
    return live.filter(on_dates)


def _dates_to_check(changed: pl.DataFrame, state_path: Path, versions: pl.LazyFrame) -> list[date]:
    """Changed booking dates not checked since AFAS last reported them, that hold loaded lines
    (in any version: a deleted line's last version may be a displaced one)."""
    if not changed.height:
        return []
    fresh = changed.select(ENTRY_DATE, "Modified")
    if state_path.exists():
        checked = pl.read_parquet(state_path).rename({"Modified": "_checked"})
        fresh = fresh.join(checked, on=ENTRY_DATE, how="left").filter(
            pl.col("_checked").is_null() | (pl.col("Modified") > pl.col("_checked"))
        )
    loaded_dates = versions.select(pl.col(ENTRY_DATE).unique()).collect(engine="streaming")
    return sorted(fresh.join(loaded_dates, on=ENTRY_DATE, how="semi")[ENTRY_DATE].to_list())


def _entry_date_queries(
    spec: ExtractSpec, dates: list[date], administrations: Sequence[int] | None
) -> list[PageQuery]:
    queries = []
    for days in _date_ranges(dates):
        in_range = (F(ENTRY_DATE) >= days.start) & (F(ENTRY_DATE) < days.end)
        scopes: Sequence[int | None] = administrations or [None]
        for admin in scopes:
            flt = in_range if admin is None else in_range & (F(_UNIT) == admin)
            queries.append(
                PageQuery(
                    connector_id=spec.connector_id,
                    filter=flt,
                    order_by=spec.key,
                    tag=QueryScope(days, admin),
                    keyset=True,
                )
            )
    return queries


def _date_ranges(dates: list[date]) -> Iterator[DayRange]:
    """Group sorted dates into few ranges: one query per range instead of one per date."""
    start = prev = dates[0]
    for day in dates[1:]:
        if (day - prev).days > MAX_GAP_DAYS or (day - start).days >= MAX_RANGE_DAYS:
            yield DayRange.inclusive(start, prev)
            start = day
        prev = day
    yield DayRange(start, prev + timedelta(days=1))
