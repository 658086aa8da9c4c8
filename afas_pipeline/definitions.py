"""The one entry point Dagster loads (see workspace.yaml)."""

import os

import dagster as dg

from afas_pipeline.defs.alerts import WEBHOOK_VARIABLE, AlertWebhookResource, alert_sensors
from afas_pipeline.defs.dbt import dbt_project, dbt_resource, marts_database, warehouse_models
from afas_pipeline.defs.extract import APP_CONNECTOR_KEY, RECONCILIATION_KEY
from afas_pipeline.defs.extract import GROUP as EXTRACT_GROUP
from afas_pipeline.defs.schedules import build_schedules, reconciliation_schedule
from afas_pipeline.defs.writeback import writeback_assets, writeback_checks, writeback_job
from afas_pipeline.extract_definitions import extract_defs, partitioned_keys, partitions

# Structure, not secrets: the schedules' cron strings shape the definitions, so they are read
# when the definitions load.
REFRESH_CRON = os.environ.get("AFAS_PIPELINE_REFRESH_CRON", "*/15 * * * *")
DAILY_CRON = os.environ.get("AFAS_PIPELINE_DAILY_CRON", "30 0 * * *")
# Read at run time through an EnvVar, which fails when unset: empty means alerts are off.
os.environ.setdefault(WEBHOOK_VARIABLE, "")
RECONCILE_CRON = os.environ.get("AFAS_PIPELINE_RECONCILE_CRON", "0 3 * * 0")

dbt_project.prepare_if_dev()  # only under `dagster dev`; the set-up command runs `dbt parse`
downstream = dg.AssetSelection.assets(warehouse_models, marts_database)
refresh_job = dg.define_asset_job(
    "afas_refresh_job",
    selection=dg.AssetSelection.assets(APP_CONNECTOR_KEY, *partitioned_keys) | downstream,
    partitions_def=partitions,
    description="Re-read one day (or a range) of the change-tracked connectors; rebuild the marts.",
)
daily_job = dg.define_asset_job(
    "afas_daily_job",
    selection=dg.AssetSelection.groups(EXTRACT_GROUP) | downstream,
    partitions_def=partitions,
    description="A day of changes, the reference data, the deletion checks, and the marts.",
)

full_reconciliation_job = dg.define_asset_job(
    "afas_full_reconciliation_job",
    selection=dg.AssetSelection.assets(RECONCILIATION_KEY) | downstream,
    description="Compare every record with AFAS, heal what differs, rebuild the marts (weekly, "
    "and on demand: the way out of damage a bad day left).",
)

warehouse_job = dg.define_asset_job(
    "afas_warehouse_job",
    selection=downstream,
    description="Build and test the warehouse and publish the marts (skipped when nothing it "
    "reads changed, unless launched with rebuild: true).",
)

warehouse_and_writeback = dg.Definitions(
    assets=[warehouse_models, marts_database, *writeback_assets],
    asset_checks=writeback_checks,
    # The write-back is never scheduled: an operator launches it, approving corrections.
    jobs=[refresh_job, daily_job, full_reconciliation_job, warehouse_job, writeback_job],
    schedules=[
        *build_schedules(
            refresh_job=refresh_job,
            daily_job=daily_job,
            refresh_cron=REFRESH_CRON,
            daily_cron=DAILY_CRON,
        ),
        reconciliation_schedule(full_reconciliation_job, RECONCILE_CRON),
    ],
    sensors=alert_sensors,
    resources={
        "dbt": dbt_resource(),
        "alerts": AlertWebhookResource(url=dg.EnvVar(WEBHOOK_VARIABLE)),
    },
)
defs = dg.Definitions.merge(extract_defs, warehouse_and_writeback)
