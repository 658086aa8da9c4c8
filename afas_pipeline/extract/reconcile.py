"""The full reconciliation: every record of a change-tracked connector compared with what AFAS
holds now, and what differs healed.

Incremental reads trust that every change moves `Mutatie_datum` and that every deletion of a
journal line shows in `Profit_Fin_ChangedEntrydate`; integrators run a periodic full
reconciliation beside the daily sync for when that trust fails. AFAS's GetConnectors cannot
return only some fields, so the whole history is paged once, as keyset-paged stretches of days
read in parallel, but only a fingerprint of each record is kept (its key, its partition day and
a hash of its content: tens of bytes, not the row). Compared per key with the newest stored
version of each record:

- a record AFAS has and the warehouse lacks, or holds with other content (a change that did
  not move `Mutatie_datum`), has its day re-read: only the days that differ are loaded;
- a record the warehouse holds and AFAS no longer has is flagged deleted (a deletion AFAS did
  not report), unless that would be an implausible share, as in the deletion checks;
- a deletion flag on a record AFAS has is taken back.

What it healed, per administration and day, lands in `raw/full_reconciliations/` for the marts.
It is also the way out of damage a bad day left behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import polars as pl

from afas_pipeline.afas import AfasClient, PageQuery
from afas_pipeline.extract.days import DayRange
from afas_pipeline.extract.deletions import (
    ROW_HASH,
    ImplausibleDeletionsError,
    flag_deleted,
    implausible,
    live_versions,
    row_hash,
)
from afas_pipeline.extract.loader import (
    LoadReport,
    QueryScope,
    admin_tuple,
    day_queries,
    finish_report,
    iter_frames,
    load_days,
    scope_of,
)
from afas_pipeline.extract.specs import ExtractSpec
from afas_pipeline.extract.storage import (
    LOADED_AT_COLUMN,
    PARTITION_COLUMN,
    RECONCILIATIONS_SCHEMA,
    RawStore,
)

DAY = "_day"
FLAGGED = "_flagged"
# Days to re-read closer than this are read in one range (one query instead of several).
MAX_GAP_DAYS = 3
# What a reconciliation heals, per administration and day.
HEALED = ("changed", "missing", "deleted", "restored")


@dataclass
class ReconcileReport(LoadReport):
    """A load report plus what the comparison found and healed."""

    keys_compared: int = 0
    afas_keys: int = 0
    changed: int = 0  # content differs from AFAS's (a change that did not move Mutatie_datum)
    missing: int = 0  # in AFAS, not in the warehouse (never loaded)
    deleted: int = 0  # in the warehouse, no longer in AFAS (a deletion nobody reported)
    restored: int = 0  # flagged deleted, yet in AFAS (a flag a bad answer left)
    days_reloaded: int = 0
    healed: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=RECONCILIATIONS_SCHEMA)
    )


def reconcile(
    client: AfasClient,
    store: RawStore,
    spec: ExtractSpec,
    days: DayRange,
    *,
    administrations: Sequence[int] | None,
    run_id: str,
    first_partition: date,
    accept_mass_deletions: bool = False,
) -> ReconcileReport:
    """Compare every record of `days` (of `administrations`, None: all) with AFAS and heal
    what differs; raises ImplausibleDeletionsError (changing nothing) when AFAS's answer would
    flag an implausible share of the records deleted."""
    report = ReconcileReport(
        spec.name, f"full reconciliation {days}", administrations=admin_tuple(administrations)
    )
    started_at, started, before = datetime.now(UTC), time.monotonic(), client.stats.snapshot()
    try:
        parallel = client.max_concurrency
        queries = list(day_queries(spec, days, administrations, first_partition, parallel=parallel))
        afas, answered = _afas_fingerprints(client, queries, spec, report, first_partition)
        # Every key's newest version, and whether a deletion flag on it counts.
        stored = _stored_fingerprints(store, spec, administrations, first_partition)
        stored = stored.filter(pl.col(LOADED_AT_COLUMN) < started_at)
        live = stored.filter(~pl.col(FLAGGED))
        key = list(spec.key)
        report.keys_compared, report.afas_keys = live.height, afas.height
        gone = live.join(afas, on=key, how="anti", nulls_equal=True)
        doubt = implausible(spec, live, gone, answered, day_column=DAY)
        if doubt and not accept_mass_deletions:
            raise ImplausibleDeletionsError(
                f"{spec.name}: the full reconciliation refused to flag deletions: {doubt}. "
                "Nothing was changed; run it again with accept_mass_deletions only if AFAS "
                "really deleted them",
                report,
            )
        missing = afas.join(stored, on=key, how="anti", nulls_equal=True)
        both = afas.join(stored, on=key, how="inner", nulls_equal=True, suffix="_stored")
        restored = both.filter(pl.col(FLAGGED))
        changed = both.filter(pl.col(ROW_HASH) != pl.col(f"{ROW_HASH}_stored"))
        reload = sorted(set(changed[DAY]) | set(missing[DAY]))
        for stretch in _ranges(reload):
            load_days(
                client,
                store,
                spec,
                stretch,
                administrations=administrations,
                run_id=run_id,
                first_partition=first_partition,
            )
        store.clear_deletions(spec.name, key, afas.lazy(), seen_at=started_at, run_id=run_id)
        flag_deleted(store, spec, gone.select(key), seen_at=started_at, run_id=run_id)
        found = {"changed": changed, "missing": missing, "deleted": gone, "restored": restored}
        for kind, frame in found.items():
            setattr(report, kind, frame.height)
        report.days_reloaded = len(reload)
        report.healed = _healed(spec, found, report, run_id, started_at)
    finally:
        finish_report(report, client, before, started)
    return report


def write_healed(store: RawStore, reports: Sequence[ReconcileReport], run_id: str) -> None:
    """Record what a reconciliation run healed in the raw layer (`full_reconciliations/`)."""
    frames = [r.healed for r in reports if r.healed.height]
    if frames:
        store.append_reconciliation(pl.concat(frames), run_id)


def _fingerprint_schema(spec: ExtractSpec) -> dict[str, pl.DataType]:
    return {**{k: spec.schema[k] for k in spec.key}, DAY: pl.Date(), ROW_HASH: pl.UInt64()}


def _afas_fingerprints(
    client: AfasClient,
    queries: list[PageQuery],
    spec: ExtractSpec,
    report: LoadReport,
    first_partition: date,
) -> tuple[pl.DataFrame, dict[QueryScope, int]]:
    """Key, partition day and content hash of every record AFAS returns, and rows per query."""
    modified = spec.modification_field
    parts = [pl.DataFrame(schema=_fingerprint_schema(spec))]
    answered = dict.fromkeys((scope_of(q) for q in queries), 0)
    for query, frame in iter_frames(client, queries, spec):
        report.observe(frame, modified)
        answered[scope_of(query)] += frame.height
        day = pl.max_horizontal(pl.col(modified).dt.date(), pl.lit(first_partition)).alias(DAY)
        parts.append(frame.select(*spec.key, day, row_hash(spec, frame.columns)))
    return pl.concat(parts), answered


def _stored_fingerprints(
    store: RawStore,
    spec: ExtractSpec,
    administrations: Sequence[int] | None,
    first_partition: date,
) -> pl.DataFrame:
    """The same for the newest version of every record the warehouse holds, with `FLAGGED`
    telling whether it counts as deleted."""
    newest = live_versions(
        store, spec, columns=[PARTITION_COLUMN], fingerprinted=True, deleted_too=True
    )
    if not newest.height:
        loaded = {LOADED_AT_COLUMN: pl.Datetime("us", "UTC"), FLAGGED: pl.Boolean()}
        return pl.DataFrame(schema={**_fingerprint_schema(spec), **loaded})
    admin = spec.contract.administration_field
    if administrations is not None and admin is not None:
        newest = newest.filter(pl.col(admin).is_in(administrations))
    live = live_versions(store, spec, columns=[]).select(spec.key)
    flagged = newest.join(live, on=list(spec.key), how="anti", nulls_equal=True).select(
        *spec.key, pl.lit(True).alias(FLAGGED)
    )
    day = pl.col(PARTITION_COLUMN).str.to_date().alias(DAY)
    return (
        newest.select(*spec.key, day, ROW_HASH, LOADED_AT_COLUMN)
        .join(flagged, on=list(spec.key), how="left", nulls_equal=True)
        .with_columns(pl.col(FLAGGED).fill_null(False))
        .filter(pl.col(DAY) >= first_partition)
    )


def _ranges(days: list[date]) -> Iterator[DayRange]:
    """Sorted days as few ranges: days closer than MAX_GAP_DAYS share one re-read."""
    if not days:
        return
    start = previous = days[0]
    for day in days[1:]:
        if (day - previous).days > MAX_GAP_DAYS:
            yield DayRange.inclusive(start, previous)
            start = day
        previous = day
    yield DayRange(start, previous + timedelta(days=1))


def _healed(
    spec: ExtractSpec,
    found: dict[str, pl.DataFrame],
    report: ReconcileReport,
    run_id: str,
    at: datetime,
) -> pl.DataFrame:
    """Per administration and day, how many records of each kind were healed; a connector in
    which nothing needed healing gets one row without a day, so every run shows."""
    admin = spec.contract.administration_field
    unit = (pl.col(admin) if admin else pl.lit(None)).cast(pl.Int64).alias("administration_id")
    counted = pl.concat(
        [
            frame.group_by(unit, pl.col(DAY).alias("day")).len(name=f"{kind}_keys")
            for kind, frame in found.items()
        ],
        how="diagonal_relaxed",
    )
    totals = [pl.col(f"{kind}_keys").sum().cast(pl.Int64) for kind in HEALED]
    rows = counted.group_by("administration_id", "day").agg(totals)
    if not rows.height:
        nothing = {"administration_id": [None], "day": [None], **{f"{k}_keys": [0] for k in HEALED}}
        rows = pl.DataFrame(nothing, schema={c: RECONCILIATIONS_SCHEMA[c] for c in nothing})
    return (
        rows.with_columns(
            pl.lit(run_id).alias("run_id"),
            pl.lit(at, pl.Datetime("us", "UTC")).alias("reconciled_at"),
            pl.lit(spec.name).alias("connector"),
            pl.lit(report.keys_compared).alias("keys_compared"),
        )
        .select(list(RECONCILIATIONS_SCHEMA))
        .cast(RECONCILIATIONS_SCHEMA)
        .sort("administration_id", "day", nulls_last=True)
    )
