"""The write-back asset and its check in Dagster, against the simulator; and the outbox's
publication to the analysts' database."""

from __future__ import annotations

from datetime import date
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pytest

from afas_pipeline.defs.jobs import writeback_job
from afas_pipeline.defs.resources import AfasResource, StorageResource
from afas_pipeline.defs.writeback import (
    REJECTED_CHECK,
    WRITEBACK_KEY,
    writeback_assets,
    writeback_checks,
)
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.writeback import copy_outbox_schema
from tests.writeback.conftest import (
    WritebackEnv,
    correction_rows,
    ledger_entries,
    posts,
    write_corrections,
)

OP = "writeback__fientries_posted"


def _materialize(wb: WritebackEnv, **config: Any) -> Any:
    resources = {"afas": AfasResource(), "storage": StorageResource(data_dir=str(wb.data_dir))}
    return dg.materialize(
        [*writeback_assets, *writeback_checks],
        resources=resources,
        run_config={"ops": {OP: {"config": config}}},
        raise_on_error=False,
    )


def _metadata(result: Any) -> dict[str, Any]:
    (event,) = result.asset_materializations_for_node(OP)
    return {k: getattr(v, "value", v) for k, v in event.metadata.items()}


def _check(result: Any, name: str = REJECTED_CHECK) -> Any:
    (evaluation,) = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == name
    ]
    return evaluation


def test_the_default_run_is_a_dry_run_that_shows_the_payloads(wb: WritebackEnv) -> None:
    write_corrections(wb.data_dir, correction_rows("D-1") + correction_rows("D-2"))
    result = _materialize(wb, approve=["D-1"], approved_by="operator")
    assert result.success
    meta = _metadata(result)
    assert meta["dry_run"] is True
    assert meta["target_is_simulator"] is True
    assert (meta["would_post"], meta["skipped"], meta["posted"]) == (1, 1, 0)
    assert list(meta["payloads"]) == ["D-1"]
    assert list(meta["payloads_awaiting_approval"]) == ["D-2"]
    assert meta["payloads"]["D-1"]["FiEntryPar"]["Element"]["Fields"]["JoCo"] == "80"
    assert wb.simulator.token not in str(meta)
    assert posts(wb.simulator) == 0
    assert _check(result).passed


def test_approving_and_sending_from_run_config_posts_once(wb: WritebackEnv) -> None:
    write_corrections(wb.data_dir, correction_rows("S-1") + correction_rows("S-2", amount="3.00"))
    result = _materialize(wb, approve=["S-1", "S-2"], approved_by="operator", dry_run=False)
    assert result.success
    meta = _metadata(result)
    assert (meta["posted"], meta["rejected"], meta["outbox_posted"]) == (2, 0, 2)
    assert "payloads" not in meta
    assert [len(ledger_entries(wb.simulator, c)) for c in ("S-1", "S-2")] == [1, 1]
    again = _materialize(wb, dry_run=False)
    assert _metadata(again)["posted"] == 0
    assert posts(wb.simulator) == 2


def test_the_check_fails_while_a_rejected_correction_waits(wb: WritebackEnv) -> None:
    # A stale snapshot shows August open; AFAS has closed it for administration 2.
    periods = wb.simulator.environment.rows("Profit_periods_per_administration")
    RawStore(wb.data_dir).write_snapshot(
        "Profit_periods_per_administration", periods.with_columns(pl.lit(False).alias("Blocked"))
    )
    rows = correction_rows("R-1", administration_id=2, day=date(2026, 8, 3))
    write_corrections(wb.data_dir, rows + correction_rows("R-2"))
    result = _materialize(wb, approve=["R-1", "R-2"], approved_by="operator", dry_run=False)
    assert result.success  # the run did its job; the check carries the bad news
    assert (_metadata(result)["posted"], _metadata(result)["rejected"]) == (1, 1)
    check = _check(result)
    assert check.check_name == REJECTED_CHECK
    assert not check.passed
    assert "period 8 of the year 2026 is blocked" in check.metadata["rejected_corrections"].value


def test_a_real_afas_url_without_the_opt_in_fails_clearly(
    wb: WritebackEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_corrections(wb.data_dir, correction_rows("X-1"))
    monkeypatch.setenv("AFAS_BASE_URL", "https://12345.rest.afas.online/ProfitRestServices")
    result = _materialize(wb, approve=["X-1"], approved_by="operator", dry_run=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "AFAS_ALLOW_WRITES=true" in str(failure.event_specific_data.error)
    assert posts(wb.simulator) == 0


def test_the_job_and_definitions_load(wb: WritebackEnv) -> None:
    defs = dg.Definitions(
        assets=writeback_assets,
        asset_checks=writeback_checks,
        jobs=[writeback_job()],
        resources={"afas": AfasResource(), "storage": StorageResource(data_dir=str(wb.data_dir))},
    )
    job = defs.resolve_job_def("writeback_job")
    assert WRITEBACK_KEY in job.asset_layer.executable_asset_keys
    assert all(a.descriptions_by_key.get(WRITEBACK_KEY) for a in writeback_assets)


def test_the_outbox_is_published_for_analysts(wb: WritebackEnv, tmp_path: Any) -> None:
    target = tmp_path / "published.duckdb"
    with duckdb.connect(str(target)) as con:  # before any write-back: empty tables
        assert copy_outbox_schema(con, wb.data_dir)["writeback.outbox"] == 0
    write_corrections(wb.data_dir, correction_rows("P-1"))
    _materialize(wb, approve=["P-1"], approved_by="operator", dry_run=False)
    with duckdb.connect(str(target)) as con:
        counts = copy_outbox_schema(con, wb.data_dir)
        row = con.execute(
            "select state, en_no, approved_by from writeback.outbox where correction_id = 'P-1'"
        ).fetchone()
    assert counts["writeback.outbox"] == 1
    assert row is not None
    assert row[0] == "posted"
    assert [int(row[1])] == ledger_entries(wb.simulator, "P-1")
    assert row[2] == "operator"
