"""The loop closes: the pipeline proposes corrections, the write-back posts them, the next
extraction brings the entries back, and the findings they corrected are resolved."""

from __future__ import annotations

from typing import Any

import dagster as dg
import duckdb
import pytest

from afas_pipeline.dbt_build import DBT_PROJECT_DIR
from afas_pipeline.defs.resources import AfasResource, StorageResource
from afas_pipeline.defs.writeback import writeback_assets, writeback_checks
from tests.conftest import HISTORY_START, NOW, Pipeline
from tests.writeback.conftest import ledger_entries

CORRECTIONS_MODEL = DBT_PROJECT_DIR / "models/marts/reconciliation/corrections_proposed.sql"
OP = "writeback__fientries_posted"

pytestmark = [
    pytest.mark.slow,  # two whole pipeline runs (~2 minutes)
    pytest.mark.skipif(
        not CORRECTIONS_MODEL.exists(), reason="marts.corrections_proposed is not built yet"
    ),
]


def _query(pipeline: Pipeline, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect() as con:
        con.execute(f"attach '{pipeline.data_dir / 'marts.duckdb'}' as analysts (read_only)")
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _open_suspense_findings(pipeline: Pipeline) -> set[str]:
    rows = _query(
        pipeline,
        "select correction_id from analysts.marts.rec_suspense_items where status = 'open' "
        "and correction_id is not null",
    )
    return {r["correction_id"] for r in rows}


def test_posted_corrections_come_back_and_resolve_their_findings(pipeline: Pipeline) -> None:
    pipeline.run_ok(HISTORY_START, NOW.date())
    proposed = _query(
        pipeline,
        "select correction_id, correction_type from analysts.marts.corrections_proposed "
        "where correction_type = 'suspense_clearing' group by all order by correction_id",
    )
    assert proposed, "the simulator plants suspense receipts: some clearing must be proposed"
    ids = [r["correction_id"] for r in proposed][:5]
    assert set(ids) <= _open_suspense_findings(pipeline)

    simulator = pipeline.simulator
    result = dg.materialize(
        [*writeback_assets, *writeback_checks],
        resources={
            "afas": AfasResource(),  # the pipeline fixture's AFAS_* settings
            "storage": StorageResource(data_dir=str(pipeline.data_dir)),
        },
        run_config={
            "ops": {OP: {"config": {"approve": ids, "approved_by": "loop", "dry_run": False}}}
        },
        instance=pipeline.instance,
    )
    (event,) = result.asset_materializations_for_node(OP)
    assert event.metadata["posted"].value == len(ids), event.metadata["outcomes"].value
    assert all(len(ledger_entries(simulator, cid)) == 1 for cid in ids)

    # The next extraction of today brings the new entries in; the marts resolve the findings.
    pipeline.run_ok(NOW.date(), NOW.date())
    still_proposed = _query(
        pipeline, "select distinct correction_id from analysts.marts.corrections_proposed"
    )
    assert not set(ids) & {r["correction_id"] for r in still_proposed}
    assert not set(ids) & _open_suspense_findings(pipeline)
