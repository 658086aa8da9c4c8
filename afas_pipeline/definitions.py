"""The one entry point Dagster loads (see workspace.yaml)."""

import os
from datetime import timedelta

import dagster as dg

from afas_pipeline.defs.checks import build_freshness_checks
from afas_pipeline.defs.dbt import dbt_project, dbt_resource, marts_database, warehouse_models
from afas_pipeline.defs.extract import APP_CONNECTOR_KEY, build_extract_assets, daily_partitions
from afas_pipeline.defs.extract import GROUP as EXTRACT_GROUP
from afas_pipeline.defs.resources import DEFAULT_DATA_DIR, AfasResource, StorageResource
from afas_pipeline.defs.schedules import build_schedules
from afas_pipeline.defs.writeback import writeback_assets, writeback_checks, writeback_job
from afas_pipeline.extract.specs import extract_specs

# Structure, not secrets: the partition start date and the schedules' cron strings shape the
# asset graph, so they are read when the definitions load. Secrets and connection settings are
# EnvVars on the resources, read at run time.
START_DATE = os.environ.get("AFAS_PIPELINE_START_DATE", "2025-01-01")
REFRESH_CRON = os.environ.get("AFAS_PIPELINE_REFRESH_CRON", "*/15 * * * *")
DAILY_CRON = os.environ.get("AFAS_PIPELINE_DAILY_CRON", "30 0 * * *")
# The resources read these through EnvVars, which fail when a variable is unset: give the
# optional ones their documented defaults (empty means "not given"). AFAS_TOKEN stays required.
for _name, _default in {
    "AFAS_PIPELINE_DATA_DIR": DEFAULT_DATA_DIR,
    "AFAS_BASE_URL": "",
    "AFAS_ENVIRONMENT": "",
    "AFAS_ENVIRONMENT_TYPE": "",
    "AFAS_ADMINISTRATIONS": "",
}.items():
    os.environ.setdefault(_name, _default)

partitions = daily_partitions(START_DATE)
specs = extract_specs()
extract_assets = build_extract_assets(specs, partitions)
partitioned_keys = [key for a in extract_assets if a.partitions_def for key in a.keys]

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

freshness_checks = build_freshness_checks(specs, max_age=timedelta(hours=26))
freshness_job = dg.define_asset_job(
    "afas_freshness_job",
    selection=dg.AssetSelection.checks(freshness_checks),
    description="Checks that every connector was loaded recently.",
)

defs = dg.Definitions(
    assets=[*extract_assets, warehouse_models, marts_database, *writeback_assets],
    asset_checks=[freshness_checks, *writeback_checks],
    # The write-back is never scheduled: an operator launches it, approving corrections.
    jobs=[refresh_job, daily_job, freshness_job, writeback_job],
    schedules=[
        *build_schedules(
            refresh_job=refresh_job,
            daily_job=daily_job,
            refresh_cron=REFRESH_CRON,
            daily_cron=DAILY_CRON,
        ),
        dg.ScheduleDefinition(
            name="afas_freshness_hourly",
            job=freshness_job,
            cron_schedule="5 * * * *",
            default_status=dg.DefaultScheduleStatus.RUNNING,
        ),
    ],
    resources={
        "afas": AfasResource(
            token=dg.EnvVar("AFAS_TOKEN"),
            base_url=dg.EnvVar("AFAS_BASE_URL"),
            environment=dg.EnvVar("AFAS_ENVIRONMENT"),
            environment_type=dg.EnvVar("AFAS_ENVIRONMENT_TYPE"),
            administrations=dg.EnvVar("AFAS_ADMINISTRATIONS"),
        ),
        "storage": StorageResource(data_dir=dg.EnvVar("AFAS_PIPELINE_DATA_DIR")),
        "dbt": dbt_resource(),
    },
)
