"""When extraction runs: a frequent refresh of today and a daily close of yesterday."""

from __future__ import annotations

import dagster as dg

from afas_pipeline.defs.scope import SINGLE, Scope
from afas_pipeline.extract.days import AMSTERDAM, amsterdam_today

TIMEZONE = str(AMSTERDAM)


def build_schedules(
    *,
    refresh_job: dg.UnresolvedAssetJobDefinition,
    daily_job: dg.UnresolvedAssetJobDefinition,
    refresh_cron: str,
    daily_cron: str,
    scope: Scope = SINGLE,
) -> list[dg.ScheduleDefinition]:
    """Today's partition every few minutes (near-real-time); once a night, yesterday again for
    late commits, plus the reference data and the deletion checks."""

    @dg.schedule(
        name=scope.name("afas_refresh_today"),
        job=refresh_job,
        cron_schedule=refresh_cron,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Re-reads today's changes from AFAS (Amsterdam time).",
    )
    def refresh_today(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = amsterdam_today(context.scheduled_execution_time).isoformat()
        return dg.RunRequest(partition_key=day, tags={"afas/trigger": "refresh_today"})

    @dg.schedule(
        name=scope.name("afas_daily_close"),
        job=daily_job,
        cron_schedule=daily_cron,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="After midnight: yesterday once more, reference data and deletion checks.",
    )
    def daily_close(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        today = amsterdam_today(context.scheduled_execution_time)
        day = today.fromordinal(today.toordinal() - 1).isoformat()
        return dg.RunRequest(partition_key=day, tags={"afas/trigger": "daily_close"})

    return [refresh_today, daily_close]


def reconciliation_schedule(
    job: dg.UnresolvedAssetJobDefinition, cron: str, scope: Scope = SINGLE
) -> dg.ScheduleDefinition:
    """The full reconciliation, weekly by default (Sunday 03:00 Amsterdam time)."""
    return dg.ScheduleDefinition(
        name=scope.name("afas_full_reconciliation_weekly"),
        job=job,
        cron_schedule=cron,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Compares every record with AFAS and heals what incremental reads missed.",
    )
