"""Extract assets: one per connector, built by one factory from the declared extract specs."""

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any, cast

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext
from pydantic import Field

from afas_pipeline.afas import AfasClient
from afas_pipeline.datadir import raw_lock
from afas_pipeline.defs.resources import AfasResource, StorageResource
from afas_pipeline.defs.scope import SINGLE, Scope
from afas_pipeline.extract.days import DayRange, amsterdam_today, wall_clock
from afas_pipeline.extract.deletions import (
    DeletionReport,
    ImplausibleDeletionsError,
    detect_deleted_by_key_scan,
    detect_deleted_journal_lines,
)
from afas_pipeline.extract.loader import (
    ExtractError,
    LoadReport,
    check_administrations,
    load_days,
    load_snapshot,
    read_concurrently,
)
from afas_pipeline.extract.reconcile import ReconcileReport, reconcile, write_healed
from afas_pipeline.extract.specs import CHANGED_ENTRY_DATES, ExtractSpec, spec_by_name
from afas_pipeline.extract.storage import RawStore

GROUP = "afas_extract"
KEY_PREFIX = "afas"
# Extract runs share AFAS's fair-use budget: a Dagster pool bounds how many run at once.
AFAS_POOL = "afas_api"
UNIQUE_KEY_CHECK = "unique_key_per_day"
PLAUSIBLE_CHECK = "deletions_plausible"
RECONCILIATION_GROUP = "afas_reconciliation"
# The resources every AFAS step uses (each environment's under its own keys, see Scope).
_RESOURCES = ("afas", "storage")


class DeletionChecksConfig(dg.Config):
    """Run config of the deletion checks (Launchpad: ops.afas_deletion_checks.config) and of
    the full reconciliation (ops.afas__full_reconciliations.config)."""

    accept_mass_deletions: bool = Field(
        default=False,
        description="Flag the deletions even if AFAS's answer would flag an implausible share "
        "of the records (more than half of many): only when AFAS really deleted them.",
    )


def asset_key(spec: ExtractSpec, suffix: str = "", scope: Scope = SINGLE) -> dg.AssetKey:
    return scope.key(KEY_PREFIX, spec.name + suffix)


def app_connector_key(scope: Scope = SINGLE) -> dg.AssetKey:
    return scope.key(KEY_PREFIX, "app_connector")


def reconciliation_key(scope: Scope = SINGLE) -> dg.AssetKey:
    return scope.key(KEY_PREFIX, "full_reconciliations")


def _resources(
    context: AssetExecutionContext, scope: Scope
) -> tuple[AfasResource, StorageResource]:
    return scope.resource(context, "afas"), scope.resource(context, "storage")


def build_extract_assets(
    specs: Sequence[ExtractSpec],
    partitions: dg.DailyPartitionsDefinition,
    scope: Scope = SINGLE,
) -> list[dg.AssetsDefinition]:
    """Every extract asset: the App Connector check, the change-tracked connectors (partitioned),
    the reference connectors (read whole) and the deletion checks.

    Each connector is its own asset, but the connectors of each kind are read in one step, at
    the same time, through one client: against AFAS's few hundred ms per request a run then
    waits for a few round trips, not for two per connector one after another, and AFAS still
    sees no more than the client's request bound.
    """
    changes = [s for s in specs if s.partitioned]
    reference = [s for s in specs if not s.partitioned]
    checked = [s for s in specs if s.deletion]
    return [
        _app_connector_asset(specs, scope),
        _changes_asset(changes, partitions, scope),
        _reference_asset(reference, scope),
        _deletions_asset(checked, specs, scope),
    ]


def _app_connector_asset(specs: Sequence[ExtractSpec], scope: Scope) -> dg.AssetsDefinition:
    @dg.asset(
        key=app_connector_key(scope),
        group_name=scope.name(GROUP),
        pool=scope.pool(AFAS_POOL),
        kinds={"afas"},
        required_resource_keys=scope.resource_keys("afas"),
    )
    def _asset(context: AssetExecutionContext) -> dg.MaterializeResult:
        """Checks the token, and that the App Connector offers every connector the pipeline reads.

        Every extract asset depends on it, so a bad token or a missing connector fails one
        step with one request, before anything is read or written.
        """
        afas: AfasResource = scope.resource(context, "afas")
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


def _changes_asset(
    specs: Sequence[ExtractSpec], partitions: dg.DailyPartitionsDefinition, scope: Scope
) -> dg.AssetsDefinition:
    first_partition = wall_clock(partitions.start).date()
    by_key = {asset_key(s, scope=scope): s for s in specs}

    # BackfillPolicy is marked beta; single-run backfills are the point, so skip the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)

        @dg.multi_asset(
            name=scope.name("afas_changes"),
            specs=[
                _spec(
                    s,
                    scope,
                    deps=[app_connector_key(scope)],
                    description=f"AFAS {s.connector_id} rows by day of {s.modification_field} "
                    "(Amsterdam time), every administration, replaced atomically per day.",
                )
                for s in specs
            ],
            check_specs=[
                dg.AssetCheckSpec(
                    UNIQUE_KEY_CHECK,
                    asset=key,
                    blocking=True,
                    description="No key twice in a day: AFAS's paging did not repeat a row.",
                )
                for key in by_key
            ],
            partitions_def=partitions,
            backfill_policy=dg.BackfillPolicy.single_run(),
            can_subset=True,
            pool=scope.pool(AFAS_POOL),
            required_resource_keys=scope.resource_keys(*_RESOURCES),
        )
        def _asset(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
            afas, storage = _resources(context, scope)
            window = context.partition_time_window
            days = DayRange(wall_clock(window.start).date(), wall_clock(window.end).date())
            store = storage.raw_store()

            def load(spec: ExtractSpec, admins: list[int] | None, client: AfasClient) -> Loaded:
                report = load_days(
                    client,
                    store,
                    spec,
                    days,
                    administrations=admins,
                    run_id=context.run_id,
                    first_partition=first_partition,
                )
                check = _unique_key_check(store, spec, days.days, scope)  # reads the files: locked
                return Loaded(report, _metadata(report), [check])

            yield from _read_concurrently(context, afas, storage, _selected(context, by_key), load)

    return _asset


def _reference_asset(specs: Sequence[ExtractSpec], scope: Scope) -> dg.AssetsDefinition:
    by_key = {asset_key(s, scope=scope): s for s in specs}

    @dg.multi_asset(
        name=scope.name("afas_reference_data"),
        specs=[
            _spec(
                s,
                scope,
                deps=[app_connector_key(scope)],
                description=f"AFAS {s.connector_id}, read whole ({s.contract.description}).",
            )
            for s in specs
        ],
        can_subset=True,
        pool=scope.pool(AFAS_POOL),
        required_resource_keys=scope.resource_keys(*_RESOURCES),
    )
    def _asset(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        afas, storage = _resources(context, scope)

        def load(spec: ExtractSpec, admins: list[int] | None, client: AfasClient) -> Loaded:
            report = load_snapshot(
                client, storage.raw_store(), spec, administrations=admins, run_id=context.run_id
            )
            return Loaded(report, _metadata(report))

        yield from _read_concurrently(context, afas, storage, _selected(context, by_key), load)

    return _asset


def _deletions_asset(
    specs: Sequence[ExtractSpec], all_specs: Sequence[ExtractSpec], scope: Scope
) -> dg.AssetsDefinition:
    changed = spec_by_name(CHANGED_ENTRY_DATES, tuple(all_specs))
    by_key = {asset_key(s, "_deletions", scope): s for s in specs}

    def deps(spec: ExtractSpec) -> list[dg.AssetKey]:
        extra = [changed] if spec.deletion == "changed_entry_dates" else []
        return [asset_key(s, scope=scope) for s in (spec, *extra)]

    @dg.multi_asset(
        name=scope.name("afas_deletion_checks"),
        specs=[
            _spec(
                s,
                scope,
                key=key,
                deps=deps(s),
                description=f"Finds {s.name} records that AFAS deleted and keeps their last "
                "version, flagged with when the deletion was seen.",
            )
            for key, s in by_key.items()
        ],
        check_specs=[
            dg.AssetCheckSpec(
                PLAUSIBLE_CHECK,
                asset=key,
                blocking=True,
                description="AFAS's answer to the deletion check is plausible: it does not flag "
                "most of many records, and no query came back empty where records were loaded.",
            )
            for key in by_key
        ],
        can_subset=True,
        pool=scope.pool(AFAS_POOL),
        required_resource_keys=scope.resource_keys(*_RESOURCES),
    )
    def _asset(
        context: AssetExecutionContext, config: DeletionChecksConfig
    ) -> Iterator[dg.MaterializeResult]:
        afas, storage = _resources(context, scope)
        store = storage.raw_store()

        def check(spec: ExtractSpec, admins: list[int] | None, client: AfasClient) -> Loaded:
            refused = None
            try:
                report = _detect_deletions(
                    client, store, spec, changed, admins, context.run_id,
                    accept=config.accept_mass_deletions,
                )  # fmt: skip
            except ImplausibleDeletionsError as error:
                # Raised by the deletion checks, with their own report.
                report, refused = cast(DeletionReport, error.report), str(error)
            metadata = {
                **_metadata(report),
                "deleted": report.deleted,
                "checked_keys": report.checked_keys,
                "checked_dates": report.checked_dates,
                **({"refused": refused} if refused else {}),
            }
            plausible = dg.AssetCheckResult(
                asset_key=asset_key(spec, "_deletions", scope),
                check_name=PLAUSIBLE_CHECK,
                passed=refused is None,
                description=refused,
                metadata={"checked_keys": report.checked_keys},
            )
            outcome = f"REFUSED: {refused}" if refused else f"{report.deleted} deleted"
            return Loaded(report, metadata, [plausible], summary=f"{_summary(report)}; {outcome}")

        yield from _read_concurrently(context, afas, storage, _selected(context, by_key), check)

    return _asset


def build_reconciliation_asset(
    specs: Sequence[ExtractSpec],
    partitions: dg.DailyPartitionsDefinition,
    scope: Scope = SINGLE,
) -> dg.AssetsDefinition:
    """The full reconciliation of the change-tracked connectors (see extract/reconcile.py)."""
    first_partition = wall_clock(partitions.start).date()
    tracked = [s for s in specs if s.partitioned]

    @dg.asset(
        key=reconciliation_key(scope),
        deps=[app_connector_key(scope)],
        group_name=scope.name(RECONCILIATION_GROUP),
        pool=scope.pool(AFAS_POOL),
        kinds={"afas", "parquet"},
        required_resource_keys=scope.resource_keys(*_RESOURCES),
        check_specs=[
            dg.AssetCheckSpec(
                PLAUSIBLE_CHECK,
                asset=reconciliation_key(scope),
                blocking=True,
                description="AFAS's answer is plausible: it does not make most of many records "
                "deleted, and no query came back empty where records were loaded.",
            )
        ],
    )
    def _asset(
        context: AssetExecutionContext, config: DeletionChecksConfig
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """Compares every record of the change-tracked connectors with what AFAS holds now
        (keys and a content hash per administration and day), re-reads the days that differ,
        sets and clears deletion flags from what AFAS holds, and records what it healed.

        Runs weekly and on demand: it finds what incremental reads cannot (a change that did
        not move Mutatie_datum, a deletion AFAS did not report) and heals what a bad day left.
        """
        afas, storage = _resources(context, scope)
        store = storage.raw_store()
        days = DayRange.inclusive(first_partition, amsterdam_today())
        reports, refused, failed = [], [], []
        with raw_lock(storage.path, shared=False), afas.client() as client:
            admins = afas.configured_administrations()
            check_administrations(client, admins)
            reads = {
                spec.name: partial(
                    reconcile,
                    store=store,
                    spec=spec,
                    days=days,
                    administrations=admins,
                    run_id=context.run_id,
                    first_partition=first_partition,
                    accept_mass_deletions=config.accept_mass_deletions,
                )
                for spec in tracked
            }
            for name, outcome in read_concurrently(client, reads):
                if isinstance(outcome, ImplausibleDeletionsError):
                    refused.append(str(outcome))
                elif isinstance(outcome, Exception):
                    context.log.error(f"{name} failed", exc_info=outcome)
                    failed.append(f"{name}: {outcome}")
                else:
                    context.log.info(_reconciled(outcome))
                    reports.append(outcome)
            write_healed(store, reports, context.run_id)
        if failed:
            raise dg.Failure("\n".join(failed))
        yield dg.MaterializeResult(metadata=_reconciliation_metadata(reports, refused))
        yield dg.AssetCheckResult(
            check_name=PLAUSIBLE_CHECK,
            passed=not refused,
            description="\n".join(refused) or None,
        )

    return _asset


def _reconciled(report: ReconcileReport) -> str:
    return (
        f"{report.connector}: {report.keys_compared} records compared with AFAS's "
        f"{report.afas_keys}; changed {report.changed}, missing {report.missing}, deleted "
        f"{report.deleted}, restored {report.restored}; {report.days_reloaded} days re-read; "
        f"{report.api_calls} API calls, {report.duration_s:.1f} s"
    )


def _reconciliation_metadata(reports: list[ReconcileReport], refused: list[str]) -> dict[str, Any]:
    kinds = ("changed", "missing", "deleted", "restored")
    healed = {kind: sum(getattr(r, kind) for r in reports) for kind in kinds}
    rows = [
        f"| {r.connector} | {r.keys_compared} | "
        + " | ".join(str(getattr(r, k)) for k in kinds)
        + f" | {r.days_reloaded} |"
        for r in reports
    ]
    table = "| connector | compared | " + " | ".join(kinds) + " | days re-read |\n"
    table += "|" + " --- |" * (len(kinds) + 3) + "\n" + "\n".join(rows)
    meta: dict[str, object] = {
        **{f"records_{kind}": n for kind, n in healed.items()},
        "records_compared": sum(r.keys_compared for r in reports),
        "days_reloaded": sum(r.days_reloaded for r in reports),
        "api_calls": sum(r.api_calls for r in reports),
        "healed": dg.MetadataValue.md(table),
    }
    if refused:
        meta["refused"] = "\n".join(refused)
    return meta


def _spec(
    spec: ExtractSpec,
    scope: Scope,
    *,
    deps: list[dg.AssetKey],
    description: str,
    key: dg.AssetKey | None = None,
) -> dg.AssetSpec:
    return dg.AssetSpec(
        key or asset_key(spec, scope=scope),
        deps=deps,
        description=description,
        group_name=scope.name(GROUP),
        kinds={"afas", "parquet"},
        skippable=True,
    )


@dataclass
class Loaded:
    """What reading one connector gave: its report, materialization metadata and checks."""

    report: LoadReport
    metadata: dict[str, Any]
    checks: list[dg.AssetCheckResult] = field(default_factory=list)
    summary: str = ""


Reader = Callable[[ExtractSpec, "list[int] | None", AfasClient], Loaded]


def _selected(
    context: AssetExecutionContext, by_key: dict[dg.AssetKey, ExtractSpec]
) -> dict[dg.AssetKey, ExtractSpec]:
    return {key: spec for key, spec in by_key.items() if key in context.selected_asset_keys}


def _check_key(result: dg.AssetCheckResult) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(result.asset_key, result.check_name)  # type: ignore[arg-type]


def _read_concurrently(
    context: AssetExecutionContext,
    afas: AfasResource,
    storage: StorageResource,
    selected: dict[dg.AssetKey, ExtractSpec],
    read: Reader,
) -> Iterator[dg.MaterializeResult]:
    """Read each selected connector in its own thread, under the raw layer's write lock, and
    report each as it finishes. A connector that fails leaves its files as they were and does
    not stop the others; the step fails afterwards, naming every connector that failed."""
    failed: list[str] = []
    selected_checks = context.selected_asset_check_keys
    with raw_lock(storage.path, shared=False), afas.client() as client:
        admins = afas.configured_administrations()  # None: every administration, unfiltered
        try:
            check_administrations(client, admins)
        except ExtractError as error:
            raise dg.Failure(str(error)) from error
        reads = {key: partial(read, spec, admins) for key, spec in selected.items()}
        for key, outcome in read_concurrently(client, reads):
            if isinstance(outcome, Exception):  # reported below, after the other connectors
                context.log.error(f"{key.to_user_string()} failed", exc_info=outcome)
                failed.append(f"{key.to_user_string()}: {outcome}")
                continue
            context.log.info(outcome.summary or _summary(outcome.report))
            checks = [c for c in outcome.checks if _check_key(c) in selected_checks]
            yield dg.MaterializeResult(
                asset_key=key, metadata=outcome.metadata, check_results=checks
            )
    if failed:
        raise dg.Failure("\n".join(failed))


def _detect_deletions(
    client: AfasClient,
    store: RawStore,
    spec: ExtractSpec,
    changed: ExtractSpec,
    admins: list[int] | None,
    run_id: str,
    *,
    accept: bool,
) -> DeletionReport:
    if spec.deletion == "full_key_scan":
        return detect_deleted_by_key_scan(
            client, store, spec, run_id=run_id, accept_mass_deletions=accept
        )
    snapshot = store.read_snapshot(changed.name)
    if snapshot is None:
        raise dg.Failure(f"{changed.name} has not been loaded yet: materialize it first")
    return detect_deleted_journal_lines(
        client,
        store,
        spec,
        snapshot,
        administrations=admins,
        run_id=run_id,
        accept_mass_deletions=accept,
    )


def _unique_key_check(
    store: RawStore, spec: ExtractSpec, days: list[date], scope: Scope
) -> dg.AssetCheckResult:
    """A key twice in one day means AFAS paging returned a row twice: the load is suspect."""
    files = [f for f in (store.day_file(spec.name, d) for d in days) if f is not None]
    duplicates = 0
    if files:
        keys = store.scan(files).select(spec.key)
        duplicates = keys.group_by(spec.key).len().filter(pl.col("len") > 1).collect().height
    return dg.AssetCheckResult(
        asset_key=asset_key(spec, scope=scope),
        check_name=UNIQUE_KEY_CHECK,
        passed=duplicates == 0,
        metadata={"duplicate_keys": duplicates, "days_checked": len(files)},
    )


def _metadata(report: LoadReport) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "rows": report.rows,
        "pages": report.pages,
        "api_calls": report.api_calls,
        "retries": report.retries,
        "duration_s": report.duration_s,
        "partition": report.partition,
        "administrations": ", ".join(map(str, report.administrations or ())) or "all",
    }
    if report.restored:
        meta["deletion_flags_cleared"] = report.restored
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
