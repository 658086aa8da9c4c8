"""Alerts: a failed run, and a run whose error-severity checks failed (a blocking dbt test,
corrections AFAS rejected, a page AFAS returned twice), reach someone as a message posted to an
incoming webhook. Slack and Teams both accept `{"text": ...}` on theirs.

Off until `AFAS_ALERT_WEBHOOK_URL` is set: the sensors then skip with a reason. The URL is a
secret (whoever has it can post to the channel): it is read at run time through an EnvVar and
never appears in logs, metadata or errors. The sensors run in Dagster's daemon (`dagster dev`,
`dagster-daemon run`), for the runs it launches: schedules, backfills, the UI.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import dagster as dg
import httpx
from pydantic import Field

from afas_pipeline.settings import ALERT_WEBHOOK_VARIABLE as WEBHOOK_VARIABLE

ALERTS_OFF = f"alerts are off: {WEBHOOK_VARIABLE} is not set"
MAX_ITEMS = 10  # lines per alert: the rest is counted, the UI has it all
MAX_LINE = 600  # characters: an AFAS error with its hint fits


class AlertDeliveryError(RuntimeError):
    """The webhook did not take the alert (the message says why, never the URL)."""


class AlertWebhookResource(dg.ConfigurableResource):
    """Where alerts go: an incoming-webhook URL. A secret: pass an EnvVar."""

    url: str = Field(default="", description="Incoming webhook (Slack, Teams); empty: alerts off.")
    timeout_s: float = Field(default=10.0, description="Seconds to wait for the webhook.")

    @property
    def enabled(self) -> bool:
        return bool(self.url.strip())

    def post(self, text: str) -> None:
        """Post `text`; raises AlertDeliveryError if the webhook does not accept it."""
        timeout = {"timeout": httpx.Timeout(self.timeout_s).as_dict()}
        request = httpx.Request("POST", self.url.strip(), json={"text": text}, extensions=timeout)
        # A bare transport: httpx's Client logs every request's URL (at INFO).
        try:
            with httpx.HTTPTransport() as transport:
                response = transport.handle_request(request)
                response.read()
        except httpx.HTTPError as exc:
            # httpx's messages can carry the URL; only the kind of failure is told.
            raise AlertDeliveryError(f"alert webhook unreachable ({type(exc).__name__})") from None
        if not response.is_success:
            raise AlertDeliveryError(f"alert webhook answered HTTP {response.status_code}")


def alert_webhook(configured: bool) -> AlertWebhookResource:
    """The webhook: its URL read at run time through an EnvVar when `configured` (the variable
    is set), so it never is config; else alerts off (an EnvVar of an unset variable fails)."""
    if not configured:
        return AlertWebhookResource()
    return AlertWebhookResource(url=dg.EnvVar(WEBHOOK_VARIABLE))


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The checks of severity ERROR that failed in the run, one line each."""
    records = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    data = (r.dagster_event.event_specific_data for r in records if r.dagster_event)
    return check_failures(e for e in data if isinstance(e, dg.AssetCheckEvaluation))


def check_failures(evaluations: Iterable[dg.AssetCheckEvaluation]) -> list[str]:
    """The failed checks of severity ERROR among `evaluations` (a finding, severity WARN, is
    published, not a failure): asset, check, whether it blocks, and why."""
    lines = []
    for evaluation in evaluations:
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        kind = "blocking" if evaluation.blocking else "error"
        name = f"{evaluation.asset_key.to_user_string()} {evaluation.check_name} ({kind})"
        lines.append(f"{name}: {evaluation.description}" if evaluation.description else name)
    return lines


def alert_text(headline: str, run: dg.DagsterRun, problems: list[str]) -> str:
    """The message: what happened to which run, then a bounded list of problems."""
    lines = [f"AFAS pipeline: {headline} (job {run.job_name}, run {run.run_id})"]
    lines += [f"- {_one_line(p)}" for p in problems[:MAX_ITEMS]]
    if len(problems) > MAX_ITEMS:
        lines.append(f"- and {len(problems) - MAX_ITEMS} more: see the run in the Dagster UI")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def _step_failures(context: dg.RunFailureSensorContext) -> Iterator[str]:
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        message = ""
        if error is not None:
            message = (error.cause.message if error.cause else error.message).strip()
        yield f"step {event.step_key} failed: {message}"


@dg.run_failure_sensor(
    name="afas_alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Posts every failed run to the webhook of {WEBHOOK_VARIABLE} (off if unset).",
)
def alert_on_run_failure(
    context: dg.RunFailureSensorContext, alerts: AlertWebhookResource
) -> dg.SkipReason | None:
    if not alerts.enabled:
        return dg.SkipReason(ALERTS_OFF)
    run = context.dagster_run
    problems = [*_step_failures(context), *failed_checks(context.instance, run.run_id)]
    alerts.post(alert_text("run FAILED", run, problems or [context.failure_event.message or ""]))
    context.log.info(f"alert posted for failed run {run.run_id}")
    return None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="afas_alert_on_failed_checks",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts a successful run whose error-severity checks failed (rejected "
    f"corrections, for one) to the webhook of {WEBHOOK_VARIABLE} (off if unset).",
)
def alert_on_failed_checks(
    context: dg.RunStatusSensorContext, alerts: AlertWebhookResource
) -> dg.SkipReason | None:
    if not alerts.enabled:
        return dg.SkipReason(ALERTS_OFF)
    run = context.dagster_run
    problems = failed_checks(context.instance, run.run_id)
    if not problems:
        return dg.SkipReason(f"run {run.run_id}: every check passed")
    alerts.post(alert_text(f"{len(problems)} check(s) failed", run, problems))
    context.log.info(f"alert posted for the failed checks of run {run.run_id}")
    return None


alert_sensors = [alert_on_run_failure, alert_on_failed_checks]
