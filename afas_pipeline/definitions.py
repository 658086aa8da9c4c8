"""The one entry point Dagster loads (see workspace.yaml)."""

import dagster as dg

from afas_pipeline.defs.alerts import alert_sensors, alert_webhook
from afas_pipeline.defs.dbt import dbt_project, dbt_resource, marts_database, warehouse_models
from afas_pipeline.defs.extract import APP_CONNECTOR_KEY, RECONCILIATION_KEY
from afas_pipeline.defs.extract import GROUP as EXTRACT_GROUP
from afas_pipeline.defs.schedules import build_schedules, reconciliation_schedule
from afas_pipeline.defs.writeback import writeback_assets, writeback_checks, writeback_job
from afas_pipeline.extract_definitions import extract_defs, partitioned_keys, partitions, settings

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
            refresh_cron=settings.refresh_cron,
            daily_cron=settings.daily_cron,
        ),
        reconciliation_schedule(full_reconciliation_job, settings.reconcile_cron),
    ],
    sensors=alert_sensors,
    resources={
        "dbt": dbt_resource(),
        "alerts": alert_webhook(settings.alert_webhook_set),
    },
)
defs = dg.Definitions.merge(extract_defs, warehouse_and_writeback)
