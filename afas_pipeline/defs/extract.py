"""Extract assets: one per connector, built by one factory from the declared extract specs."""

import warnings
from collections.abc import Sequence
from datetime import date

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from afas_pipeline.afas import AfasClient
from afas_pipeline.defs.resources import AfasResource, StorageResource
from afas_pipeline.extract.days import DayRange, wall_clock
from afas_pipeline.extract.deletions import (
    DeletionReport,
    detect_deleted_by_key_scan,
    detect_deleted_journal_lines,
)
from afas_pipeline.extract.loader import (
    LoadReport,
    load_days,
    load_snapshot,
    resolve_administrations,
)
from afas_pipeline.extract.specs import CHANGED_ENTRY_DATES, ExtractSpec, spec_by_name
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.warehouse import raw_lock

GROUP = "afas_extract"
KEY_PREFIX = "afas"
# Extract runs share AFAS's fair-use budget: a Dagster pool bounds how many run at once.
AFAS_POOL = "afas_api"


def daily_partitions(start_date: str) -> dg.DailyPartitionsDefinition:
    """Days of Mutatie_datum in Amsterdam time; `end_offset=1` makes today a partition too."""
    return dg.DailyPartitionsDefinition(
        start_date=start_date, timezone="Europe/Amsterdam", end_offset=1
    )


APP_CONNECTOR_KEY = dg.AssetKey([KEY_PREFIX, "app_connector"])


def asset_key(spec: ExtractSpec, suffix: str = "") -> dg.AssetKey:
    return dg.AssetKey([KEY_PREFIX, spec.name + suffix])


def build_extract_assets(
    specs: Sequence[ExtractSpec], partitions: dg.DailyPartitionsDefinition
) -> list[dg.AssetsDefinition]:
    """Every extract asset: partitioned per change-tracked connector, snapshots for the rest,
    and a deletion check per connector that has a deletion strategy."""
    assets = [_app_connector_asset(specs)]
    assets += [
        _partitioned_asset(s, partitions) if s.partitioned else _snapshot_asset(s) for s in specs
    ]
    assets += [_deletion_asset(s, specs) for s in specs if s.deletion]
    return assets


def _app_connector_asset(specs: Sequence[ExtractSpec]) -> dg.AssetsDefinition:
    @dg.asset(key=APP_CONNECTOR_KEY, group_name=GROUP, pool=AFAS_POOL, kinds={"afas"})
    def _asset(afas: AfasResource) -> dg.MaterializeResult:
        """Checks the token, and that the App Connector offers every connector the pipeline reads.

        Every extract asset depends on it, so a bad token or a missing connector fails one
        step with one request, before anything is read or written.
        """
        with afas.client() as client:
            listing = client.list_connectors()
        available = {connector_id for connector_id, _ in listing.get_connectors}
        missing = sorted({spec.connector_id for spec in specs} - available)
        if missing:
            raise dg.Failure(
                f"the App Connector of {afas.settings().environment_label} lacks the "
                f"GetConnectors {', '.join(missing)}: an AFAS administrator must add them"
            )
        updates = {connector_id for connector_id, _ in listing.update_connectors}
        return dg.MaterializeResult(
            metadata={
                "environment": listing.env_id or "",
                "get_connectors": len(available),
                "fientries_available": "FiEntries" in updates,
            }
        )

    return _asset


def _partitioned_asset(
    spec: ExtractSpec, partitions: dg.DailyPartitionsDefinition
) -> dg.AssetsDefinition:
    # BackfillPolicy is marked beta; single-run backfills are the point, so skip the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _build_partitioned_asset(spec, partitions)


def _build_partitioned_asset(
    spec: ExtractSpec, partitions: dg.DailyPartitionsDefinition
) -> dg.AssetsDefinition:
    first_partition = wall_clock(partitions.start).date()

    @dg.asset(
        key=asset_key(spec),
        group_name=GROUP,
        partitions_def=partitions,
        deps=[APP_CONNECTOR_KEY],
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=AFAS_POOL,
        kinds={"afas", "parquet"},
        description=f"AFAS {spec.connector_id} rows by day of {spec.modification_field} "
        "(Amsterdam time), every administration, replaced atomically per day.",
        check_specs=[dg.AssetCheckSpec("unique_key_per_day", asset=asset_key(spec))],
    )
    def _asset(
        context: AssetExecutionContext, afas: AfasResource, storage: StorageResource
    ) -> dg.MaterializeResult:
        window = context.partition_time_window
        days = DayRange(wall_clock(window.start).date(), wall_clock(window.end).date())
        store = storage.raw_store()
        with raw_lock(storage.path, shared=False), afas.client() as client:
            admins = _administrations(client, afas, spec)
            report = load_days(
                client,
                store,
                spec,
                days,
                administrations=admins,
                run_id=context.run_id,
                first_partition=first_partition,
            )
            check = _unique_key_check(store, spec, days.days)  # reads the files: still locked
        context.log.info(_summary(report))
        return dg.MaterializeResult(metadata=_metadata(report), check_results=[check])

    return _asset


def _snapshot_asset(spec: ExtractSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=asset_key(spec),
        deps=[APP_CONNECTOR_KEY],
        group_name=GROUP,
        pool=AFAS_POOL,
        kinds={"afas", "parquet"},
        description=f"AFAS {spec.connector_id}, read whole ({spec.contract.description}).",
    )
    def _asset(
        context: AssetExecutionContext, afas: AfasResource, storage: StorageResource
    ) -> dg.MaterializeResult:
        with raw_lock(storage.path, shared=False), afas.client() as client:
            admins = _administrations(client, afas, spec)
            report = load_snapshot(
                client, storage.raw_store(), spec, administrations=admins, run_id=context.run_id
            )
        context.log.info(_summary(report))
        return dg.MaterializeResult(metadata=_metadata(report))

    return _asset


def _deletion_asset(spec: ExtractSpec, specs: Sequence[ExtractSpec]) -> dg.AssetsDefinition:
    changed = spec_by_name(CHANGED_ENTRY_DATES, tuple(specs))
    deps = [asset_key(spec)]
    if spec.deletion == "changed_entry_dates":
        deps.append(asset_key(changed))

    @dg.asset(
        key=asset_key(spec, "_deletions"),
        group_name=GROUP,
        deps=deps,
        pool=AFAS_POOL,
        kinds={"afas", "parquet"},
        description=f"Finds {spec.name} records that AFAS deleted and keeps their last version, "
        "flagged with when the deletion was seen.",
    )
    def _asset(
        context: AssetExecutionContext, afas: AfasResource, storage: StorageResource
    ) -> dg.MaterializeResult:
        store = storage.raw_store()
        with raw_lock(storage.path, shared=False), afas.client() as client:
            report = _detect_deletions(client, store, spec, changed, afas, context.run_id)
        context.log.info(f"{_summary(report)}; {report.deleted} deleted")
        return dg.MaterializeResult(
            metadata={
                **_metadata(report),
                "deleted": report.deleted,
                "checked_keys": report.checked_keys,
                "checked_dates": report.checked_dates,
            }
        )

    return _asset


def _administrations(client: AfasClient, afas: AfasResource, spec: ExtractSpec) -> list[int] | None:
    """The administrations to read one by one; None (and no request) for connectors whose rows
    belong to no administration, such as accounts, VAT codes, debtors and creditors."""
    if spec.contract.administration_field is None:
        return None
    return resolve_administrations(client, afas.configured_administrations())


def _detect_deletions(
    client: AfasClient,
    store: RawStore,
    spec: ExtractSpec,
    changed: ExtractSpec,
    afas: AfasResource,
    run_id: str,
) -> DeletionReport:
    if spec.deletion == "full_key_scan":
        return detect_deleted_by_key_scan(client, store, spec, run_id=run_id)
    snapshot = store.snapshot_path(changed.name)
    if not snapshot.exists():
        raise dg.Failure(f"{changed.name} has not been loaded yet: materialize it first")
    admins = _administrations(client, afas, spec)
    return detect_deleted_journal_lines(
        client,
        store,
        spec,
        pl.read_parquet(snapshot),
        administrations=admins,
        run_id=run_id,
    )


def _unique_key_check(store: RawStore, spec: ExtractSpec, days: list[date]) -> dg.AssetCheckResult:
    """A key twice in one day means AFAS paging returned a row twice: the load is suspect."""
    files = [store.day_path(spec.name, d) for d in days]
    files = [f for f in files if f.exists()]
    duplicates = 0
    if files:
        keys = pl.scan_parquet(files).select(spec.key)
        duplicates = keys.group_by(spec.key).len().filter(pl.col("len") > 1).collect().height
    return dg.AssetCheckResult(
        check_name="unique_key_per_day",
        passed=duplicates == 0,
        metadata={"duplicate_keys": duplicates, "days_checked": len(files)},
    )


def _metadata(report: LoadReport) -> dict[str, object]:
    meta: dict[str, object] = {
        "rows": report.rows,
        "pages": report.pages,
        "api_calls": report.api_calls,
        "retries": report.retries,
        "duration_s": report.duration_s,
        "partition": report.partition,
        "administrations": ", ".join(map(str, report.administrations or ())) or "all",
    }
    if report.min_modified is not None:
        meta["mutatie_datum_min"] = report.min_modified.isoformat()
        meta["mutatie_datum_max"] = report.max_modified.isoformat()  # type: ignore[union-attr]
    if report.rows_per_day:
        busiest = max(report.rows_per_day.values())
        meta["days"] = len(report.rows_per_day)
        meta["rows_busiest_day"] = busiest
    return meta


def _summary(report: LoadReport) -> str:
    return (
        f"{report.connector} {report.partition}: {report.rows} rows in {report.pages} pages, "
        f"{report.api_calls} API calls, {report.duration_s:.1f} s"
    )
