"""Running the pipeline without the UI: a range of partition days as one Dagster run of a job,
or, as the headless command does, the extraction and then the warehouse build if needed."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg

from afas_pipeline.afas import AfasSettings
from afas_pipeline.datadir import BUILDS_DIR, DBT_OUTPUT_FILE
from afas_pipeline.definitions import definitions_for
from afas_pipeline.defs.alerts import check_failures
from afas_pipeline.defs.extract import reconciliation_key
from afas_pipeline.defs.jobs import Job
from afas_pipeline.defs.scope import SINGLE, Scope
from afas_pipeline.extract.days import amsterdam_today
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.settings import PipelineSettings
from afas_pipeline.usage import RunRequestError
from afas_pipeline.warehouse import up_to_date

DBT_STEP = "warehouse_models"  # the dbt build's op, of the single environment
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
    instance: dg.DagsterInstance,
    job_name: str = Job.DAILY,
    log_level: str = "INFO",
    rebuild: bool = False,
    dbt_output: Path | None = None,
    settings: PipelineSettings | None = None,
    afas: AfasSettings | None = None,
    scope: Scope = SINGLE,
) -> dg.ExecuteInProcessResult:
    """Materialize every asset of `job_name` for the days `start..end` (inclusive) in one run.

    The partitioned assets read the whole range in a few filtered, paged calls (the single-run
    backfill policy), exactly as a backfill launched from the UI does. The dbt build is skipped
    when nothing it reads changed since the published marts, unless `rebuild`. dbt's own
    output (a line per model and test) goes to the file `dbt_output`, if given, else to stdout.
    `settings`: the pipeline's (default: the environment's, now); `afas`: the connection
    (default: the environment's, when the run starts); `scope`: which environment of many
    (`AFAS_ENVIRONMENTS`) the run is, under its own job and asset names.
    """
    run = _Run.of(settings, instance, log_level, afas=afas, scope=scope)
    check_range(start, end, run.settings)
    tags = {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()}
    with _stdout_to(dbt_output):
        return run.execute(job_name, rebuild=rebuild, tags=tags)


def check_range(start: date, end: date, settings: PipelineSettings | None = None) -> None:
    """Refuse a range of days that is empty or outside the partitions (first day:
    AFAS_PIPELINE_START_DATE; last: today in Amsterdam)."""
    first = (settings or PipelineSettings.from_env()).start_date
    last = amsterdam_today()
    if end < start:
        raise RunRequestError(f"--end {end} is before --start {start}")
    if start < first or end > last:
        raise RunRequestError(
            f"the days {start}..{end} are not all partitions: they run from {first} "
            f"(AFAS_PIPELINE_START_DATE) to today, {last} (Amsterdam time)"
        )


def run_headless(
    start: date,
    end: date,
    *,
    instance: dg.DagsterInstance,
    log_level: str = "INFO",
    rebuild: bool = False,
    dbt_output: Path | None = None,
    settings: PipelineSettings | None = None,
    scope: Scope = SINGLE,
) -> list[dg.ExecuteInProcessResult]:
    """What `afas-pipeline run` does: extract the days `start..end` in one run, then build the
    warehouse and publish the marts in a second run, unless nothing the build reads changed
    (and not `rebuild`). `dbt_output`: see `run_range`.

    The outcome is the daily job's, which skips an unchanged build within its one run; but here
    a run that finds nothing new never imports dbt (3.5 s, a third of such a run).
    """
    run = _Run.of(settings, instance, log_level, scope=scope)
    extracted = run_range(
        start,
        end,
        instance=run.instance,
        job_name=Job.EXTRACT,
        log_level=log_level,
        settings=run.settings,
        scope=scope,
    )
    stopped = not succeeded(extracted)  # a blocking check stops the line before the build
    if stopped or (not rebuild and _marts_current(run.settings)):
        return [extracted]
    with _stdout_to(dbt_output):
        built = run.execute(Job.WAREHOUSE, rebuild=rebuild)
    return [extracted, built]


def _marts_current(settings: PipelineSettings) -> bool:
    """Whether the published marts were built from what a build would read now."""
    return up_to_date(RawStore(settings.data_path, settings.raw_url or None))


@contextlib.contextmanager
def _stdout_to(path: Path | None) -> Iterator[None]:
    """Send what is printed meanwhile to `path` (None: leave stdout alone). dagster-dbt echoes
    every line of dbt's output to stdout, ~260 lines a build; the UI keeps them per step."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as log, contextlib.redirect_stdout(log):
        yield


def run_reconciliation(
    *,
    instance: dg.DagsterInstance,
    log_level: str = "INFO",
    accept_mass_deletions: bool = False,
    dbt_output: Path | None = None,
    settings: PipelineSettings | None = None,
    scope: Scope = SINGLE,
) -> list[dg.ExecuteInProcessResult]:
    """What `afas-pipeline reconcile` does: the full reconciliation in one run, then the
    warehouse build and the marts in a second, unless it healed nothing (dbt's output as in
    `run_range`)."""
    run = _Run.of(settings, instance, log_level, scope=scope)
    reconcile_step = reconciliation_key(scope).to_python_identifier()
    ops: dict[str, object] = {
        reconcile_step: {"config": {"accept_mass_deletions": accept_mass_deletions}}
    }
    reconciled = run.execute(Job.RECONCILE, rebuild=False, ops=ops)
    if not succeeded(reconciled) or _marts_current(run.settings):
        return [reconciled]
    with _stdout_to(dbt_output):
        built = run.execute(Job.WAREHOUSE, rebuild=False)
    return [reconciled, built]


@dataclass(frozen=True)
class _Run:
    """What the runs of one command share: the settings they run with, the instance, the log
    level, and the environment (`scope`) whose jobs they run."""

    settings: PipelineSettings
    afas: AfasSettings | None
    instance: dg.DagsterInstance
    log_level: str
    scope: Scope = SINGLE

    @classmethod
    def of(
        cls,
        settings: PipelineSettings | None,
        instance: dg.DagsterInstance,
        log_level: str,
        *,
        afas: AfasSettings | None = None,
        scope: Scope = SINGLE,
    ) -> _Run:
        """The runs of a command, with the environment's settings where none are given."""
        settings = settings or PipelineSettings.from_env()
        return cls(settings, afas, instance, log_level, scope)

    def execute(
        self,
        job_name: str,
        *,
        rebuild: bool,
        tags: dict[str, str] | None = None,
        ops: dict[str, object] | None = None,
    ) -> dg.ExecuteInProcessResult:
        definitions = definitions_for(
            Job(job_name), self.settings, afas=self.afas, scope=self.scope
        )
        job = definitions.resolve_job_def(self.scope.name(job_name))
        logging = {"console": {"config": {"log_level": self.log_level}}}
        run_config: dict[str, object] = {"loggers": logging}
        if rebuild:
            ops = {**(ops or {}), self.scope.name(DBT_STEP): {"config": {"rebuild": True}}}
        if ops:
            run_config["ops"] = ops
        return job.execute_in_process(
            run_config=run_config,
            instance=self.instance,
            tags={**self.scope.tags, **(tags or {})},
            raise_on_error=False,
        )


def quiet_dbt_output(settings: PipelineSettings | None = None) -> Path:
    """Where a quiet headless run keeps dbt's output (`dbt_output`): under the data folder."""
    return (settings or PipelineSettings.from_env()).data_path / BUILDS_DIR / DBT_OUTPUT_FILE


def outcomes(result: dg.ExecuteInProcessResult) -> list[AssetOutcome]:
    """One line per asset: partitioned assets report once for the whole range."""
    seen: dict[str, AssetOutcome] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        name = materialization.asset_key.to_user_string()
        metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        seen.setdefault(name, AssetOutcome(name, metadata))
    return list(seen.values())


def summary_lines(*results: dg.ExecuteInProcessResult) -> list[str]:
    """What the runs did, for a terminal: each AFAS asset with its figures, dbt and the marts
    in a line each, then any failed step."""
    lines, models = [], 0
    for outcome in (o for result in results for o in outcomes(result)):
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
    elif all(succeeded(result) for result in results):
        lines.append(f"  {'dbt build skipped':42} nothing changed since the published marts")
    lines += [f"FAILED {problem}" for result in results for problem in failures(result)]
    lines += [
        f"FAILED CHECK {problem}"
        for result in results
        for problem in check_failures(result.get_asset_check_evaluations())
    ]
    return lines


_FIGURES = (
    "rows", "pages", "api_calls", "retries", "duration_s", "deleted", "deletion_flags_cleared",
    "records_compared", "records_changed", "records_missing", "records_deleted",
    "records_restored", "days_reloaded",
)  # fmt: skip


def succeeded(result: dg.ExecuteInProcessResult) -> bool:
    """The run succeeded and no blocking asset check failed in it (a blocking check stops what
    is downstream, yet the run itself counts as a success in Dagster)."""
    blocked = any(c.blocking and not c.passed for c in result.get_asset_check_evaluations())
    return result.success and not blocked


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """The error message of every failed step, without the stack."""
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            error = event.step_failure_data.error
            cause = error.cause.message.strip() if error.cause else ""
            messages.append(f"{event.step_key}: {cause or error.message.strip()}")
    return messages


@contextlib.contextmanager
def command_instance() -> Iterator[dg.DagsterInstance]:
    """The instance a command records its runs in, closed when it ends: DAGSTER_HOME's, so
    headless runs show in the UI; else a throwaway one."""
    home = os.environ.get("DAGSTER_HOME")
    if home and not Path(home).is_dir():
        raise RunRequestError(
            f"DAGSTER_HOME is {home}, which is not a directory: create it (mkdir -p {home}) "
            "to record the runs there, or unset DAGSTER_HOME to run without recording them"
        )
    with dg.DagsterInstance.get() if home else dg.DagsterInstance.ephemeral() as instance:
        yield instance
