"""The dbt build is skipped when nothing it reads changed, and only then."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from afas_pipeline.datadir import BUILDS_DIR, MARTS_FILE, PUBLISHED_INPUTS_FILE
from afas_pipeline.dbt_build import KEPT_BUILDS
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.runner import run_range, summary_lines
from afas_pipeline.warehouse import build_inputs, up_to_date
from tests.conftest import NOW, Pipeline

MARTS_STEP = "analysts__marts_database"


def _warehouse_materializations(result) -> list[str]:
    return [
        event.asset_key.to_user_string()
        for event in result.get_asset_materialization_events()
        if event.asset_key.path[0] == "warehouse"
    ]


def _marts_rows(data_dir: Path) -> dict[str, int]:
    with duckdb.connect(str(data_dir / MARTS_FILE), read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        return {
            f"{schema}.{table}": con.execute(f'select count(*) from {schema}."{table}"').fetchall()[
                0
            ][0]
            for schema, table in tables
        }


def test_a_run_with_nothing_new_skips_the_build_and_rebuild_forces_it(
    loaded_pipeline: Pipeline,
) -> None:
    data = loaded_pipeline.data_dir
    marts = data / MARTS_FILE
    published = marts.stat()
    rows = _marts_rows(data)

    quiet = loaded_pipeline.run_ok(NOW.date(), NOW.date())

    assert _warehouse_materializations(quiet) == []
    assert quiet.is_node_skipped(MARTS_STEP)
    assert (marts.stat().st_ino, marts.stat().st_mtime_ns) == (
        published.st_ino,
        published.st_mtime_ns,
    )
    assert any("dbt build skipped" in line for line in summary_lines(quiet))

    forced = run_range(NOW.date(), NOW.date(), instance=loaded_pipeline.instance, rebuild=True)

    assert forced.success
    assert len(_warehouse_materializations(forced)) > 30
    assert forced.is_node_success(MARTS_STEP)
    assert marts.stat().st_ino != published.st_ino
    assert _marts_rows(data) == rows
    builds = [p for p in (data / BUILDS_DIR).iterdir() if p.is_dir()]
    assert 0 < len(builds) <= KEPT_BUILDS  # dbt's target folders do not pile up
    assert (data / BUILDS_DIR / "partial_parse.msgpack").exists()  # dbt's parse is kept


def test_the_headless_command_builds_only_when_something_changed_and_never_loads_dbt_else(
    loaded_pipeline: Pipeline,
) -> None:
    """`afas-pipeline run` extracts in one run and builds in a second only if what the build
    reads changed: a run that finds nothing new does not even import dbt (3.5 s of start-up)."""
    day = NOW.date().isoformat()
    command = [sys.executable, "-c", _CLI_REPORTING_DBT, "run", "--start", day, "--end", day]
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stderr[-3000:]
    assert "afas/DWH_Financiele_mutaties" in run.stdout
    assert "dbt build skipped" in run.stdout
    assert "dbt imported: False" in run.stdout
    assert re.search(r"^run [0-9a-f-]{36} succeeded", run.stdout, re.MULTILINE)  # one run


_CLI_REPORTING_DBT = """
import sys
from afas_pipeline.cli import main
code = main(sys.argv[1:])
dbt = [m for m in sys.modules if m == "dbt" or m.startswith(("dbt.", "dagster_dbt"))]
print("dbt imported:", bool(dbt))
sys.exit(code)
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    day = tmp_path / "data" / "raw" / "DWH_Financiele_mutaties" / "days"
    day.mkdir(parents=True)
    pl.DataFrame({"EntryNo": [1, 2], "AmtDebit": ["10.00", "0.00"]}).write_parquet(
        day / "day=2026-11-20.parquet"
    )
    return tmp_path / "data"


def test_build_inputs_follow_the_raw_data_the_outbox_and_the_date(data_dir: Path) -> None:
    today = date(2026, 11, 21)
    raw = RawStore(data_dir)
    first = build_inputs(raw, today=today)
    assert build_inputs(raw, today=today) == first

    copy = data_dir.parent / "copy"
    shutil.copytree(data_dir, copy)
    # Another data folder is another build.
    assert build_inputs(RawStore(copy), today=today) != first

    assert build_inputs(raw, today=date(2026, 11, 22)) != first  # aging moves daily

    (data_dir / "writeback.duckdb").write_bytes(b"outbox")
    with_outbox = build_inputs(raw, today=today)
    assert with_outbox != first

    day = next((data_dir / "raw").rglob("*.parquet"))
    pl.DataFrame({"EntryNo": [1, 2], "AmtDebit": ["10.00", "0.01"]}).write_parquet(day)
    assert build_inputs(raw, today=today) != with_outbox


def test_a_deleted_or_damaged_marts_file_is_not_up_to_date(data_dir: Path) -> None:
    """A deleted or corrupt marts.duckdb counted as "nothing changed", so it stayed missing."""
    (data_dir / PUBLISHED_INPUTS_FILE).write_text(build_inputs(RawStore(data_dir)))
    with duckdb.connect(str(data_dir / MARTS_FILE)) as con:
        con.execute("create table fct_gl_entries as select 1 as entry_no")
    assert up_to_date(RawStore(data_dir))
    marts = data_dir / MARTS_FILE
    good = marts.read_bytes()
    marts.write_bytes(good[: len(good) // 3])  # a copy cut short (a full disk, a bad restore)
    assert not up_to_date(RawStore(data_dir))
    marts.write_bytes(b"not a database" * 100)
    assert not up_to_date(RawStore(data_dir))
    marts.unlink()
    assert not up_to_date(RawStore(data_dir))
