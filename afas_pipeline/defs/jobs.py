"""Every job of the pipeline, by name: defined here once, built from the selections they run.

No dbt here: the extraction's jobs are built without it, and the warehouse's are handed the
dbt assets' selection (`definitions.py` composes them). In a deployment of many environments
each has every job, named `<environment>__<job>`, and tags its runs with the environment.
"""

from __future__ import annotations

from enum import StrEnum

import dagster as dg

from afas_pipeline.defs.extract import GROUP as EXTRACT_GROUP
from afas_pipeline.defs.extract import app_connector_key, reconciliation_key
from afas_pipeline.defs.scope import SINGLE, Scope
from afas_pipeline.defs.writeback import writeback_key


class Job(StrEnum):
    """The jobs' names, as the UI, the schedules and `afas-pipeline` know them."""

    # The extraction's own: their definitions import no dbt.
    EXTRACT = "afas_extract_job"
    RECONCILE = "afas_reconcile_job"
    # With the warehouse build and the marts.
    REFRESH = "afas_refresh_job"
    DAILY = "afas_daily_job"
    FULL_RECONCILIATION = "afas_full_reconciliation_job"
    WAREHOUSE = "afas_warehouse_job"
    WRITEBACK = "writeback_job"


EXTRACTION_JOBS = frozenset({Job.EXTRACT, Job.RECONCILE})


def extraction_jobs(
    partitions: dg.PartitionsDefinition, scope: Scope = SINGLE
) -> list[dg.UnresolvedAssetJobDefinition]:
    """The extraction without the warehouse build: a range of days, or the reconciliation."""
    return [
        _job(
            scope,
            Job.EXTRACT,
            selection=dg.AssetSelection.groups(scope.name(EXTRACT_GROUP)),
            partitions_def=partitions,
            description="A day (or range) of changes, the reference data and the deletion "
            "checks, without the warehouse build.",
        ),
        _job(
            scope,
            Job.RECONCILE,
            selection=dg.AssetSelection.assets(reconciliation_key(scope)),
            description="The full reconciliation alone, without the warehouse build.",
        ),
    ]


def warehouse_jobs(
    partitions: dg.PartitionsDefinition,
    *,
    partitioned_keys: list[dg.AssetKey],
    downstream: dg.AssetSelection,
    scope: Scope = SINGLE,
) -> dict[Job, dg.UnresolvedAssetJobDefinition]:
    """The jobs that end in the marts (`downstream`: the dbt build and the publication), and
    the write-back, which an operator launches (it is never scheduled)."""
    jobs = [
        _job(
            scope,
            Job.REFRESH,
            selection=dg.AssetSelection.assets(app_connector_key(scope), *partitioned_keys)
            | downstream,
            partitions_def=partitions,
            description="Re-read one day (or a range) of the change-tracked connectors; rebuild "
            "the marts.",
        ),
        _job(
            scope,
            Job.DAILY,
            selection=dg.AssetSelection.groups(scope.name(EXTRACT_GROUP)) | downstream,
            partitions_def=partitions,
            description="A day of changes, the reference data, the deletion checks, and the marts.",
        ),
        _job(
            scope,
            Job.FULL_RECONCILIATION,
            selection=dg.AssetSelection.assets(reconciliation_key(scope)) | downstream,
            description="Compare every record with AFAS, heal what differs, rebuild the marts "
            "(weekly, and on demand: the way out of damage a bad day left).",
        ),
        _job(
            scope,
            Job.WAREHOUSE,
            selection=downstream,
            description="Build and test the warehouse and publish the marts (skipped when "
            "nothing it reads changed, unless launched with rebuild: true).",
        ),
        writeback_job(scope),
    ]
    return {job: d for job in Job for d in jobs if d.name == scope.name(job.value)}


def writeback_job(scope: Scope = SINGLE) -> dg.UnresolvedAssetJobDefinition:
    return _job(
        scope,
        Job.WRITEBACK,
        selection=dg.AssetSelection.assets(writeback_key(scope)),
        description="Write approved corrections back to AFAS (a dry run unless dry_run is false).",
    )


def _job(
    scope: Scope, job: Job, *, selection: dg.AssetSelection, description: str, **options: object
) -> dg.UnresolvedAssetJobDefinition:
    """`job` of the environment `scope`, its runs tagged with the environment."""
    return dg.define_asset_job(
        scope.name(job.value),
        selection=selection,
        description=description,
        tags=scope.tags or None,
        **options,  # type: ignore[arg-type]
    )
