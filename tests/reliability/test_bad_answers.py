"""Bad answers from AFAS never become permanent data: a connector that lost a contract field,
empty or implausible deletion answers, keys that are null or repeated with other content, and an
administrations setting that does not match AFAS. Each is refused (the run fails or a blocking
check fails, saying what and where) and the raw layer stays as it was, or it is healed by the
next good answer."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from afas_pipeline.extract.specs import spec_by_name
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.runner import failures
from tests.conftest import HISTORY_START, NOW, Pipeline, Simulator
from tests.extract.support import load_range, raw_days, without_load_columns

LINES = spec_by_name("DWH_Financiele_mutaties")
FIRST = date(2026, 11, 1)
EXTRACT = "afas_extract_job"


def fingerprint(raw: Path) -> dict[str, str]:
    """The SHA-256 of every file of the raw layer, by relative path."""
    return {
        str(p.relative_to(raw)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(raw.rglob("*"))
        if p.is_file()
    }


# -- 1. the connector contract -----------------------------------------------------------------


def test_a_connector_that_lost_a_contract_field_is_refused_by_name(pipeline: Pipeline) -> None:
    """An AFAS administrator removes VatAmt from the custom connector (metainfo and rows agree):
    the extraction stops before reading a row, and nothing loaded before changes."""
    pipeline.run_ok(FIRST, NOW.date(), job=EXTRACT)
    raw = pipeline.data_dir / "raw"
    before = fingerprint(raw)
    pipeline.simulator.admin(
        "PUT", "fields", {"connector": LINES.connector_id, "removed": ["VatAmt"]}
    )

    result = pipeline.run(FIRST, NOW.date(), job=EXTRACT)

    assert not result.success
    problems = "\n".join(failures(result))
    assert "connector DWH_Financiele_mutaties does not match the contract" in problems
    assert "field 'VatAmt' (decimal) is missing" in problems
    assert fingerprint(raw) == before
    pipeline.simulator.admin("PUT", "fields", {"connector": LINES.connector_id, "removed": []})
    pipeline.run_ok(FIRST, NOW.date(), job=EXTRACT)  # restored: loads as before
    assert fingerprint(raw) == before


def test_the_optional_cost_carrier_loads_when_present_and_is_null_when_not(
    start_simulator: Callable[..., Simulator], tmp_path: Path, loaded_pipeline: Pipeline
) -> None:
    with_it = start_simulator(optional_fields=True)
    store = RawStore(tmp_path / "with")
    load_range(with_it, store, LINES, HISTORY_START, NOW.date(), "with")
    lines = without_load_columns(raw_days(store, LINES))
    truth = with_it.environment.rows(LINES.name)
    assert truth["DimAx2"].drop_nulls().len() > 0
    assert lines.equals(truth.sort(LINES.key))

    # The simulator of `loaded_pipeline` has no DimAx2, like many real environments: the raw
    # files hold what AFAS served, the schema file declares the field, staging has it as null.
    assert "DimAx2" not in loaded_pipeline.simulator.environment.served_spec(LINES.name).field_ids
    schema = pl.read_parquet_schema(
        loaded_pipeline.data_dir / "raw" / LINES.name / "days" / "_schema.parquet"
    )
    assert schema["DimAx2"] == pl.String
    warehouse = loaded_pipeline.data_dir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lines_total, carriers = con.execute(
            "select count(*), count(cost_carrier) from staging.stg_afas__journal_lines"
        ).fetchone()
    assert (lines_total > 0, carriers) == (True, 0)
