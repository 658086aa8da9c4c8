"""Alerts reach a webhook: a failed run is posted to a local HTTP server standing in for Slack
or Teams; without a URL nothing is sent, and a failing webhook says so without showing its URL.
Rejected corrections: tests/writeback/test_alerts.py."""

from __future__ import annotations

import logging

import dagster as dg
import pytest

from afas_pipeline.defs.alerts import AlertDeliveryError, AlertWebhookResource, alert_on_run_failure
from tests.conftest import NOW, Pipeline, Webhook

BAD_TOKEN = "0" * 64


def failed_run(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> dg.ExecuteInProcessResult:
    monkeypatch.setenv("AFAS_TOKEN", BAD_TOKEN)
    result = pipeline.run(NOW.date(), NOW.date())
    assert not result.success
    return result


def failure_context(
    result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance, url: str
) -> dg.RunFailureSensorContext:
    (failure,) = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    return dg.build_run_status_sensor_context(
        sensor_name=alert_on_run_failure.name,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=failure.dagster_event,
        resources={"alerts": AlertWebhookResource(url=url)},
    ).for_run_failure()


def test_a_failed_run_is_posted_to_the_webhook(
    pipeline: Pipeline, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = failed_run(pipeline, monkeypatch)

    alert_on_run_failure(failure_context(result, pipeline.instance, webhook.url))

    (text,) = webhook.texts()
    assert "run FAILED" in text
    assert f"job afas_daily_job, run {result.run_id}" in text
    assert "step afas__app_connector failed" in text
    assert "HTTP 401" in text
    assert BAD_TOKEN not in text


def test_without_a_url_nothing_is_sent(
    pipeline: Pipeline, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = failed_run(pipeline, monkeypatch)

    skipped = alert_on_run_failure(failure_context(result, pipeline.instance, ""))

    assert isinstance(skipped, dg.SkipReason)
    assert "AFAS_ALERT_WEBHOOK_URL" in (skipped.skip_message or "")
    assert webhook.posted == []


def test_a_failing_webhook_fails_the_tick_without_showing_its_url(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    result = failed_run(pipeline, monkeypatch)
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log requests at INFO and DEBUG
    with Webhook(status=500) as refusing, pytest.raises(AlertDeliveryError) as refused:
        alert_on_run_failure(failure_context(result, pipeline.instance, refusing.url))
    gone = AlertWebhookResource(url=refusing.url)  # the server is stopped now
    with pytest.raises(AlertDeliveryError) as unreachable:
        gone.post("test")

    assert len(refusing.posted) == 1
    assert "HTTP 500" in str(refused.value)
    assert "unreachable" in str(unreachable.value)
    assert unreachable.value.__cause__ is None  # httpx's error (with the URL) is not chained
    assert unreachable.value.__suppress_context__
    for shown in (str(refused.value), str(unreachable.value), caplog.text):
        assert "s3cr3t" not in shown
