"""The composition root: the pipeline's Dagster definitions, built from its settings.

Dagster loads `defs` (workspace.yaml; `dagster dev -m afas_pipeline.definitions -a defs`), built
from the environment's settings when first asked for. A headless command builds the definitions
of the job it runs with the settings it read (`definitions_for`): the extraction's jobs get the
extraction's own, which import no dbt, so a run that finds nothing new never pays for importing
it (~3.5 s of its start-up). dbt is imported by `pipeline_definitions` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import dagster as dg

from afas_pipeline.afas import AfasSettings
from afas_pipeline.defs.alerts import alert_sensors, alert_webhook
from afas_pipeline.defs.extract import asset_key, build_extract_assets, build_reconciliation_asset
from afas_pipeline.defs.freshness import with_freshness_policy
from afas_pipeline.defs.jobs import EXTRACTION_JOBS, Job, extraction_jobs, warehouse_jobs
from afas_pipeline.defs.partitions import daily_partitions
from afas_pipeline.defs.resources import pipeline_resources
from afas_pipeline.defs.schedules import build_schedules, reconciliation_schedule
from afas_pipeline.defs.writeback import writeback_assets, writeback_checks
from afas_pipeline.extract.specs import extract_specs
from afas_pipeline.settings import PipelineSettings


def __getattr__(name: str) -> dg.Definitions:
    # `defs` on first use, not at import: the extraction's runs import this module too.
    if name == "defs":
        return _environment_definitions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _environment_definitions() -> dg.Definitions:
    return pipeline_definitions(PipelineSettings.from_env())


def definitions_for(
    job: Job, settings: PipelineSettings, *, afas: AfasSettings | None = None
) -> dg.Definitions:
    """The definitions that run `job` with `settings` (`afas`: see `pipeline_resources`): the
    extraction's own for its jobs, else all of them."""
    if job in EXTRACTION_JOBS:
        return extraction_definitions(settings, afas=afas)
    return pipeline_definitions(settings, afas=afas)


def extraction_definitions(
    settings: PipelineSettings, *, afas: AfasSettings | None = None
) -> dg.Definitions:
    """The extract assets, the full reconciliation and their jobs, without the warehouse."""
    extraction = _extraction(settings.start_date)
    return dg.Definitions(
        assets=extraction.assets,
        jobs=extraction_jobs(extraction.partitions),
        resources=pipeline_resources(settings, afas=afas),
    )


def pipeline_definitions(
    settings: PipelineSettings, *, afas: AfasSettings | None = None
) -> dg.Definitions:
    """Everything the UI shows: the extraction, the warehouse build and the marts, the
    write-back, the schedules and the alerts."""
    from afas_pipeline.defs import dbt  # the one import of dbt (see the module's docstring)

    dbt.dbt_project.prepare_if_dev()  # only under `dagster dev`; the set-up runs `dbt parse`
    extraction = _extraction(settings.start_date)
    jobs = warehouse_jobs(
        extraction.partitions,
        partitioned_keys=extraction.partitioned_keys,
        downstream=dg.AssetSelection.assets(dbt.warehouse_models, dbt.marts_database),
    )
    schedules = build_schedules(
        refresh_job=jobs[Job.REFRESH],
        daily_job=jobs[Job.DAILY],
        refresh_cron=settings.refresh_cron,
        daily_cron=settings.daily_cron,
    )
    schedules.append(
        reconciliation_schedule(jobs[Job.FULL_RECONCILIATION], settings.reconcile_cron)
    )
    return dg.Definitions(
        assets=[*extraction.assets, dbt.warehouse_models, dbt.marts_database, *writeback_assets],
        asset_checks=writeback_checks,
        # The write-back is never scheduled: an operator launches it, approving corrections.
        jobs=[*extraction_jobs(extraction.partitions), *jobs.values()],
        schedules=schedules,
        sensors=alert_sensors,
        resources={
            **pipeline_resources(settings, afas=afas),
            "dbt": dbt.dbt_resource(),
            "alerts": alert_webhook(settings.alert_webhook_set),
        },
    )


@dataclass(frozen=True)
class _Extraction:
    partitions: dg.PartitionsDefinition
    assets: list[dg.AssetsDefinition]
    partitioned_keys: list[dg.AssetKey]


@cache
def _extraction(start_date: date) -> _Extraction:
    """The extraction's assets, built once per first partition day (the graph's shape)."""
    partitions = daily_partitions(start_date)
    specs = extract_specs()
    # Every connector must have been read within a day: a policy per connector asset.
    extract_assets = with_freshness_policy(
        build_extract_assets(specs, partitions), [asset_key(spec) for spec in specs]
    )
    reconciliation = build_reconciliation_asset(specs, partitions)
    partitioned = [key for a in extract_assets if a.partitions_def for key in a.keys]
    return _Extraction(partitions, [*extract_assets, reconciliation], partitioned)
