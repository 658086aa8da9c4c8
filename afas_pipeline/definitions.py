"""The composition root: the pipeline's Dagster definitions, built from its settings.

Dagster loads `defs` (workspace.yaml; `dagster dev -m afas_pipeline.definitions -a defs`), built
from the environment's settings when first asked for. A headless command builds the definitions
of the job it runs with the settings it read (`definitions_for`): the extraction's jobs get the
extraction's own, which import no dbt, so a run that finds nothing new never pays for importing
it (~3.5 s of its start-up). dbt is imported by `pipeline_definitions` alone.

With `AFAS_ENVIRONMENTS` set, `defs` holds every environment's definitions, each built by the
same factories under its own names (`Scope`: asset keys afas/<env>/…, jobs <env>__…, pools,
resource keys) from its own variables (`ACME__AFAS_TOKEN`…), and one set of alert sensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from types import ModuleType

import dagster as dg

from afas_pipeline.afas import AfasSettings
from afas_pipeline.afas.errors import AfasConfigError
from afas_pipeline.defs.alerts import alert_sensors, alert_webhook
from afas_pipeline.defs.extract import asset_key, build_extract_assets, build_reconciliation_asset
from afas_pipeline.defs.freshness import with_freshness_policy
from afas_pipeline.defs.jobs import EXTRACTION_JOBS, Job, extraction_jobs, warehouse_jobs
from afas_pipeline.defs.partitions import daily_partitions
from afas_pipeline.defs.resources import environment_afas_settings, pipeline_resources
from afas_pipeline.defs.schedules import build_schedules, reconciliation_schedule
from afas_pipeline.defs.scope import SINGLE, Scope
from afas_pipeline.defs.writeback import writeback_definitions
from afas_pipeline.extract.specs import extract_specs
from afas_pipeline.settings import PipelineSettings, environment_names, environment_settings
from afas_pipeline.usage import RunRequestError


def __getattr__(name: str) -> dg.Definitions:
    # `defs` on first use, not at import: the extraction's runs import this module too.
    if name == "defs":
        return _environment_definitions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _environment_definitions() -> dg.Definitions:
    names = environment_names()
    if names:
        return environments_definitions(names)
    return pipeline_definitions(PipelineSettings.from_env())


def environments_definitions(names: list[str]) -> dg.Definitions:
    """The definitions of many AFAS environments in one deployment, each from its own
    variables. Every environment's connection is checked first: one error names each
    environment whose variables are wrong (its token missing: `ACME__AFAS_TOKEN`)."""
    problems = []
    for name in names:
        try:
            environment_afas_settings(name)
        except (AfasConfigError, RunRequestError) as error:
            problems.append(str(error))
    if problems:
        raise RunRequestError("\n".join(problems))
    environments = [
        _environment_part(environment_settings(name), scope=Scope(name)) for name in names
    ]
    # Steps run in their run's process: a process per step would load every environment's
    # definitions again, and an environment's steps run one at a time anyway (its pools).
    in_process = dg.Definitions(executor=dg.in_process_executor)
    return dg.Definitions.merge(
        *environments, _deployment_part(PipelineSettings.from_env()), in_process
    )


def definitions_for(
    job: Job,
    settings: PipelineSettings,
    *,
    afas: AfasSettings | None = None,
    scope: Scope = SINGLE,
) -> dg.Definitions:
    """The definitions that run `job` with `settings` (`afas`: see `pipeline_resources`) for
    the environment of `scope`: the extraction's own for its jobs, else all of them."""
    if job in EXTRACTION_JOBS:
        return extraction_definitions(settings, afas=afas, scope=scope)
    return pipeline_definitions(settings, afas=afas, scope=scope)


def extraction_definitions(
    settings: PipelineSettings, *, afas: AfasSettings | None = None, scope: Scope = SINGLE
) -> dg.Definitions:
    """The extract assets, the full reconciliation and their jobs, without the warehouse."""
    extraction = _extraction(settings.start_date, scope)
    return dg.Definitions(
        assets=extraction.assets,
        jobs=extraction_jobs(extraction.partitions, scope),
        resources=pipeline_resources(settings, afas=afas, scope=scope),
    )


def pipeline_definitions(
    settings: PipelineSettings, *, afas: AfasSettings | None = None, scope: Scope = SINGLE
) -> dg.Definitions:
    """Everything the UI shows: the extraction, the warehouse build and the marts, the
    write-back, the schedules and the alerts."""
    return dg.Definitions.merge(
        _environment_part(settings, afas=afas, scope=scope), _deployment_part(settings)
    )


def _environment_part(
    settings: PipelineSettings, *, afas: AfasSettings | None = None, scope: Scope
) -> dg.Definitions:
    """One environment's extraction, warehouse build and marts, write-back and schedules."""
    dbt = _dbt()
    extraction = _extraction(settings.start_date, scope)
    if scope == SINGLE:
        models, marts = dbt.warehouse_models, dbt.marts_database
    else:
        models = dbt.warehouse_models_for(scope)
        marts = dbt.marts_database_for(scope, models)
    writeback_assets, writeback_checks = writeback_definitions(scope)
    jobs = warehouse_jobs(
        extraction.partitions,
        partitioned_keys=extraction.partitioned_keys,
        downstream=dg.AssetSelection.assets(models, marts),
        scope=scope,
    )
    schedules = build_schedules(
        refresh_job=jobs[Job.REFRESH],
        daily_job=jobs[Job.DAILY],
        refresh_cron=settings.refresh_cron,
        daily_cron=settings.daily_cron,
        scope=scope,
    )
    schedules.append(
        reconciliation_schedule(jobs[Job.FULL_RECONCILIATION], settings.reconcile_cron, scope)
    )
    return dg.Definitions(
        assets=[*extraction.assets, models, marts, *writeback_assets],
        asset_checks=writeback_checks,
        # The write-back is never scheduled: an operator launches it, approving corrections.
        jobs=[*extraction_jobs(extraction.partitions, scope), *jobs.values()],
        schedules=schedules,
        resources={
            **pipeline_resources(settings, afas=afas, scope=scope),
            scope.name("dbt"): dbt.dbt_resource(),
        },
    )


def _deployment_part(settings: PipelineSettings) -> dg.Definitions:
    """What a deployment has once, whatever its environments: the alerts on every run."""
    return dg.Definitions(
        sensors=alert_sensors,
        resources={"alerts": alert_webhook(settings.alert_webhook_set)},
    )


@cache
def _dbt() -> ModuleType:
    from afas_pipeline.defs import dbt  # the one import of dbt (see the module's docstring)

    dbt.dbt_project.prepare_if_dev()  # only under `dagster dev`, once; the set-up runs `dbt parse`
    return dbt


@dataclass(frozen=True)
class _Extraction:
    partitions: dg.PartitionsDefinition
    assets: list[dg.AssetsDefinition]
    partitioned_keys: list[dg.AssetKey]


@cache
def _extraction(start_date: date, scope: Scope = SINGLE) -> _Extraction:
    """The extraction's assets, built once per first partition day (the graph's shape) and
    environment."""
    partitions = daily_partitions(start_date)
    specs = extract_specs()
    # Every connector must have been read within a day: a policy per connector asset.
    extract_assets = with_freshness_policy(
        build_extract_assets(specs, partitions, scope),
        [asset_key(spec, scope=scope) for spec in specs],
    )
    reconciliation = build_reconciliation_asset(specs, partitions, scope)
    partitioned = [key for a in extract_assets if a.partitions_def for key in a.keys]
    return _Extraction(partitions, [*extract_assets, reconciliation], partitioned)
