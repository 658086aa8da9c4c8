"""Corrections that AFAS rejected reach someone: the write-back run succeeds, its check fails,
and the alert sensor posts that to the webhook (tests/defs/test_alerts.py: failed runs)."""

from __future__ import annotations

from datetime import date

import dagster as dg
import polars as pl

from afas_pipeline.defs.alerts import AlertWebhookResource, alert_on_failed_checks
from afas_pipeline.defs.resources import AfasResource, StorageResource
from afas_pipeline.defs.writeback import writeback_assets, writeback_checks
from afas_pipeline.extract.storage import RawStore
from tests.conftest import Webhook
from tests.writeback.conftest import WritebackEnv, correction_rows, write_corrections


def test_rejected_corrections_are_posted_to_the_webhook(wb: WritebackEnv, webhook: Webhook) -> None:
    # As in test_defs: a stale snapshot shows August open; AFAS has closed it.
    periods = wb.simulator.environment.rows("Profit_periods_per_administration")
    RawStore(wb.data_dir).write_snapshot(
        "Profit_periods_per_administration", periods.with_columns(pl.lit(False).alias("Blocked"))
    )
    write_corrections(
        wb.data_dir, correction_rows("R-1", administration_id=2, day=date(2026, 8, 3))
    )
    config = {"approve": ["R-1"], "approved_by": "operator", "dry_run": False}
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [*writeback_assets, *writeback_checks],
            resources={
                "afas": AfasResource(token=wb.simulator.token, base_url=wb.simulator.base_url),
                "storage": StorageResource(data_dir=str(wb.data_dir)),
            },
            run_config={"ops": {"writeback__fientries_posted": {"config": config}}},
            instance=instance,
        )
        assert result.success  # the run did its job; the check carries the bad news
        (success,) = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)
        alert_on_failed_checks(
            dg.build_run_status_sensor_context(
                sensor_name=alert_on_failed_checks.name,
                dagster_instance=instance,
                dagster_run=result.dagster_run,
                dagster_event=success.dagster_event,
                resources={"alerts": AlertWebhookResource(url=webhook.url)},
            )
        )

    (text,) = webhook.texts()
    assert "1 check(s) failed" in text
    assert "writeback/fientries_posted no_rejected_corrections" in text
    assert "1 rejected correction(s) waiting" in text
    assert wb.simulator.token not in text
