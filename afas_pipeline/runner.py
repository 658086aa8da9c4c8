"""Running the pipeline without the UI: one Dagster run over a range of partition days."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import dagster as dg

DAILY_JOB = "afas_daily_job"
DBT_STEP = "warehouse_models"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class AssetOutcome:
    """One asset's materialization in a run, as the headless command prints it."""

    asset: str
    metadata: dict[str, object]


def run_range(
    start: date,
    end: date,
    *,
    instance: dg.DagsterInstance | None = None,
    job_name: str = DAILY_JOB,
    log_level: str = "INFO",
    rebuild: bool = False,
) -> dg.ExecuteInProcessResult:
    """Materialize every asset of `job_name` for the days `start..end` (inclusive) in one run.

    The partitioned assets read the whole range in a few filtered, paged calls (the single-run
    backfill policy), exactly as a backfill launched from the UI does. The dbt build is skipped
    when nothing it reads changed since the published marts, unless `rebuild`.
    """
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    from afas_pipeline.definitions import defs

    job = defs.resolve_job_def(job_name)
    tags = {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()}
    run_config: dict[str, object] = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if rebuild:
        run_config["ops"] = {DBT_STEP: {"config": {"rebuild": True}}}
    return job.execute_in_process(
        run_config=run_config,
        instance=instance or _instance(),
        tags=tags,
        raise_on_error=False,
    )


def outcomes(result: dg.ExecuteInProcessResult) -> list[AssetOutcome]:
    """One line per asset: partitioned assets report once for the whole range."""
    seen: dict[str, AssetOutcome] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        name = materialization.asset_key.to_user_string()
        metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        seen.setdefault(name, AssetOutcome(name, metadata))
    return list(seen.values())


def summary_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    """What a run did, for a terminal: each AFAS asset with its figures, dbt and the marts in a
    line each, then any failed step."""
    lines, models = [], 0
    for outcome in outcomes(result):
        if outcome.asset.startswith("warehouse/"):
            models += 1
        elif outcome.asset.startswith("afas/"):
            figures = ", ".join(
                f"{k}={outcome.metadata[k]}" for k in _FIGURES if k in outcome.metadata
            )
            lines.append(f"  {outcome.asset:42} {figures}")
        else:
            lines.append(f"  {outcome.asset:42} {outcome.metadata.get('tables', '')} tables")
    if models:
        lines.append(f"  {'dbt models built and tested':42} {models}")
    elif DBT_STEP in _succeeded_steps(result):
        lines.append(f"  {'dbt build skipped':42} nothing changed since the published marts")
    lines += [f"FAILED {problem}" for problem in failures(result)]
    return lines


_FIGURES = ("rows", "pages", "api_calls", "retries", "duration_s", "deleted")


def _succeeded_steps(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.step_key for event in result.get_step_success_events() if event.step_key}


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """The error message of every failed step, without the stack."""
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            error = event.step_failure_data.error
            cause = error.cause.message.strip() if error.cause else ""
            messages.append(f"{event.step_key}: {cause or error.message.strip()}")
    return messages


def _instance() -> dg.DagsterInstance:
    """The instance of DAGSTER_HOME, so headless runs show in the UI; else a throwaway one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()
