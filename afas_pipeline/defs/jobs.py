"""Every job of the pipeline, by name: defined here once, built from the selections they run.

No dbt here: the extraction's jobs are built without it, and the warehouse's are handed the
dbt assets' selection (`definitions.py` composes them).
"""

from __future__ import annotations

from enum import StrEnum

import dagster as dg

from afas_pipeline.defs.extract import APP_CONNECTOR_KEY, RECONCILIATION_KEY
from afas_pipeline.defs.extract import GROUP as EXTRACT_GROUP
from afas_pipeline.defs.writeback import WRITEBACK_KEY


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


def extraction_jobs(partitions: dg.PartitionsDefinition) -> list[dg.UnresolvedAssetJobDefinition]:
    """The extraction without the warehouse build: a range of days, or the reconciliation."""
    return [
        dg.define_asset_job(
            Job.EXTRACT.value,
            selection=dg.AssetSelection.groups(EXTRACT_GROUP),
            partitions_def=partitions,
            description="A day (or range) of changes, the reference data and the deletion "
            "checks, without the warehouse build.",
        ),
        dg.define_asset_job(
            Job.RECONCILE.value,
            selection=dg.AssetSelection.assets(RECONCILIATION_KEY),
            description="The full reconciliation alone, without the warehouse build.",
        ),
    ]


def warehouse_jobs(
    partitions: dg.PartitionsDefinition,
    *,
    partitioned_keys: list[dg.AssetKey],
    downstream: dg.AssetSelection,
) -> dict[Job, dg.UnresolvedAssetJobDefinition]:
    """The jobs that end in the marts (`downstream`: the dbt build and the publication), and
    the write-back, which an operator launches (it is never scheduled)."""
    jobs = [
        dg.define_asset_job(
            Job.REFRESH.value,
            selection=dg.AssetSelection.assets(APP_CONNECTOR_KEY, *partitioned_keys) | downstream,
            partitions_def=partitions,
            description="Re-read one day (or a range) of the change-tracked connectors; rebuild "
            "the marts.",
        ),
        dg.define_asset_job(
            Job.DAILY.value,
            selection=dg.AssetSelection.groups(EXTRACT_GROUP) | downstream,
            partitions_def=partitions,
            description="A day of changes, the reference data, the deletion checks, and the marts.",
        ),
        dg.define_asset_job(
            Job.FULL_RECONCILIATION.value,
            selection=dg.AssetSelection.assets(RECONCILIATION_KEY) | downstream,
            description="Compare every record with AFAS, heal what differs, rebuild the marts "
            "(weekly, and on demand: the way out of damage a bad day left).",
        ),
        dg.define_asset_job(
            Job.WAREHOUSE.value,
            selection=downstream,
            description="Build and test the warehouse and publish the marts (skipped when "
            "nothing it reads changed, unless launched with rebuild: true).",
        ),
        writeback_job(),
    ]
    return {Job(job.name): job for job in jobs}


def writeback_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        Job.WRITEBACK.value,
        selection=dg.AssetSelection.assets(WRITEBACK_KEY),
        description="Write approved corrections back to AFAS (a dry run unless dry_run is false).",
    )
