"""Incremental dbt builds equal a full rebuild, row for row, after every kind of change the raw
layer sees: a new day's business, deletions, late edits to old periods and the year before, a
re-read of an old day, a full reconciliation that heals, and deletions taken back."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from afas_pipeline import warehouse
from afas_pipeline.dbt_build import DBT_PROJECT_DIR, dbt_executable
from afas_pipeline.defs.jobs import Job
from afas_pipeline.extract.days import amsterdam_today
from afas_pipeline.simulator import chart
from tests.conftest import HISTORY_START, NOW, Pipeline

LINES = "DWH_Financiele_mutaties"
KEY = ("UnitId", "EntryNo", "SeqNo")
SCHEMAS = ("staging", "intermediate", "marts")
# What an incremental build redoes: differs from a full build's by design.
CHANGES = "stg_afas__journal_line_changes"


# Nine dbt builds in a row: over the suite's 600 s on a machine shared by several suites.
@pytest.mark.timeout(1200)
def test_incremental_builds_equal_a_full_rebuild_after_every_kind_of_change(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    env = pipeline.simulator.environment
    first = pipeline.run_ok(HISTORY_START, NOW.date())
    assert _build_kind(pipeline, first) == "full refresh, no complete build is recorded"
    lines = env.rows(LINES)

    # A new day's business (the simulator's edits, payments and deletions among it), an entry
    # deleted in AFAS, and an entry booked late into a period two months back (administration
    # 2 still books there), which moves the openings of every period after it.
    env.advance(days=2)
    recent = lines.filter((pl.col("Year") == NOW.year) & (pl.col("JournalId") == "80"))
    env.delete_fi_entry(recent["UnitId"][-1], "80", recent["EntryNo"][-1])
    late = f"{NOW.year}-{NOW.month - 2:02d}-15"
    memo = [_line(late, "4300", "12.50", "0"), _line(late, "4310", "0", "12.50")]
    env.post_fi_entry(_payload(memo, Year=str(NOW.year), Peri=str(NOW.month - 2), UnId="2"))
    _step_equals_full_rebuild(pipeline, tmp_path, NOW.date(), env.now().date())
    # The deleted entry stays visible in staging, flagged, with when it was seen gone.
    with duckdb.connect(str(pipeline.data_dir / "warehouse.duckdb"), read_only=True) as con:
        flags = con.execute(
            "select is_deleted, deleted_seen_at is not null from staging.stg_afas__journal_lines "
            "where administration_id = ? and entry_no = ?",
            [recent["UnitId"][-1], recent["EntryNo"][-1]],
        ).fetchall()
    assert flags
    assert set(flags) == {(True, True)}

    # Late edits to the year before, found by a re-read of their day (with the reference data,
    # so AFAS's own balances of the closed year agree): a P&L line and a
    # balance-sheet line of one entry re-posted to other accounts (Mutatie_datum unmoved), so
    # the result carried to the result account and the openings of this year move.
    depreciation = lines.filter(
        (pl.col("Year") == NOW.year - 1) & (pl.col("AccountNo") == chart.DEPRECIATION_COSTS)
    ).row(0, named=True)
    other_side = lines.filter(
        (pl.col("UnitId") == depreciation["UnitId"])
        & (pl.col("EntryNo") == depreciation["EntryNo"])
        & (pl.col("AccountNo") != chart.DEPRECIATION_COSTS)
    ).row(0, named=True)
    _edit(env, depreciation, AccountNo=chart.OFFICE)
    _edit(env, other_side, AccountNo=chart.FIXED_ASSETS)
    day = depreciation["Mutatie_datum"].date()
    _step_equals_full_rebuild(pipeline, tmp_path, day, day)

    # A full reconciliation heals what incremental reads cannot see: a whole entry deleted and
    # a line changed, neither moving Mutatie_datum (in open periods, memorial lines without
    # open items: AFAS's own balances and open items of them are not kept by the edit).
    memorial = lines.filter(
        (pl.col("UnitId") != 1)
        & (pl.col("Year") == NOW.year)
        & (pl.col("Period") >= NOW.month - 1)
        & (pl.col("JournalId") == "80")
        & pl.col("DebtorId").is_null()
        & pl.col("CreditorId").is_null()
        & (pl.col("EntryNo") != recent["EntryNo"][-1])
    )
    gone = memorial.row(0, named=True)
    for row in lines.filter(
        (pl.col("UnitId") == gone["UnitId"]) & (pl.col("EntryNo") == gone["EntryNo"])
    ).iter_rows(named=True):
        _edit(env, row)
    changed = memorial.filter(pl.col("EntryNo") != gone["EntryNo"]).row(-1, named=True)
    _edit(env, changed, Description="Stil gewijzigd")
    # And a debtor's payment moved to another of its invoices (AFAS's open items untouched, the
    # debtor's total unmoved): the open item it left is redone as well as the one it joined.
    paid = lines.filter(
        pl.col("DebtorId").is_not_null()
        & pl.col("InvoiceId").is_not_null()
        & (pl.col("AmtCredit") > 0)
    )
    payment = paid.row(0, named=True)
    other_invoice = lines.filter(
        (pl.col("UnitId") == payment["UnitId"])
        & (pl.col("DebtorId") == payment["DebtorId"])
        & pl.col("InvoiceId").is_not_null()
        & (pl.col("InvoiceId") != payment["InvoiceId"])
    )["InvoiceId"][0]
    _edit(env, payment, InvoiceId=other_invoice)
    today = env.now().date()
    _step_equals_full_rebuild(pipeline, tmp_path, today, today, job=Job.FULL_RECONCILIATION)

    # AFAS has them again (the deletion was a bad answer, and last year's edits are undone): a
    # reconciliation without a build takes the deletion flags back, the lines' versions on file
    # unchanged; the next day's run (AFAS's own balances read again) builds both runs' changes.
    env.undo_silent_edits()
    pipeline.run_ok(today, today, job=Job.RECONCILE)
    _step_equals_full_rebuild(pipeline, tmp_path, today, today)


def test_a_build_runs_from_scratch_when_asked_or_when_what_builds_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(warehouse, "DBT_PROJECT_DIR", project)
    data = tmp_path / "data"
    (data / "dbt").mkdir(parents=True)
    dbt_vars = {"today": "2026-11-20", "data_dir": str(data)}

    assert warehouse.plan_build(data, dbt_vars).full_refresh  # nothing recorded yet
    built = warehouse.plan_build(data, dbt_vars)
    warehouse.record_build(data, built)
    again = warehouse.plan_build(data, dbt_vars | {"today": "2026-11-21"})
    assert not again.full_refresh  # another day: what changed since that build began
    assert again.changed_since == built.started_at
    assert again.dbt_vars() == {"changed_since": built.started_at.isoformat()}
    # `again` failed (nothing recorded): the next build redoes everything since `built` began.
    assert warehouse.plan_build(data, dbt_vars).changed_since == built.started_at
    assert warehouse.plan_build(data, dbt_vars, rebuild=True).dbt_args() == ["--full-refresh"]
    assert warehouse.plan_build(data, dbt_vars | {"data_dir": "elsewhere"}).full_refresh

    model = project / "models" / "marts" / "finance" / "fct_gl_entries.sql"
    model.write_text(model.read_text() + "\n-- a changed model\n")
    changed = warehouse.plan_build(data, dbt_vars)
    assert changed.full_refresh
    assert "dbt project" in changed.reason
    warehouse.record_build(data, changed)
    assert not warehouse.plan_build(data, dbt_vars).full_refresh

    real_version = warehouse.metadata.version
    monkeypatch.setattr(
        warehouse.metadata,
        "version",
        lambda name: "9.9.9" if name == "duckdb" else real_version(name),
    )
    assert warehouse.plan_build(data, dbt_vars).full_refresh


def _line(day: str, account: str, debit: str, credit: str) -> dict[str, Any]:
    fields = {"VaAs": "1", "AcNr": account, "EnDa": day, "BpDa": day}
    return {"Fields": {**fields, "AmDe": debit, "AmCr": credit, "Ds": "Late boeking"}}


def _payload(lines: list[dict[str, Any]], **header: str) -> dict[str, Any]:
    """A FiEntries POST body: a memorial entry (journal 80) of `lines`."""
    fields = {"JoCo": "80", **header}
    entries = {"FiEntries": {"Element": lines}}
    return {"FiEntryPar": {"Element": {"Fields": fields, "Objects": [entries]}}}


def _edit(env: Any, row: dict[str, Any], **values: Any) -> None:
    """Change (or, without values, delete) a record in AFAS behind the pipeline's back."""
    assert env.silent_edit(LINES, {k: row[k] for k in KEY}, values or None) == 1


def _step_equals_full_rebuild(
    pipeline: Pipeline, tmp_path: Path, start: date, end: date, *, job: str = Job.DAILY
) -> None:
    result = pipeline.run_ok(start, end, job=job)
    assert _build_kind(pipeline, result) == "incremental"
    full = _full_rebuild(pipeline.data_dir, tmp_path / "full")
    with duckdb.connect() as con:
        con.execute(f"attach '{pipeline.data_dir / 'warehouse.duckdb'}' as inc (read_only)")
        con.execute(f"attach '{full}' as full_build (read_only)")
        tables = _tables(con, "inc")
        assert tables == _tables(con, "full_build")
        assert {"stg_afas__journal_lines", "fct_gl_entries", "fct_trial_balance"} <= {
            t for _, t in tables
        }
        differing = {
            f"{schema}.{table}": counts
            for schema, table in tables
            if (counts := _differences(con, schema, table)) != (0, 0)
        }
    assert differing == {}, f"{job} {start}..{end}: rows only in (incremental, full): {differing}"


def _build_kind(pipeline: Pipeline, result: Any) -> str:
    messages = [
        log.user_message
        for log in pipeline.instance.all_logs(result.run_id)
        if log.user_message.startswith("dbt build: ")
    ]
    assert len(messages) == 1, messages
    return messages[0].removeprefix("dbt build: ")


def _full_rebuild(data_dir: Path, folder: Path) -> Path:
    """The same raw layer (and outbox) built from scratch into a warehouse of its own."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in ("raw", "writeback.duckdb"):
        if (data_dir / name).exists():
            (folder / name).symlink_to(data_dir / name)
    dbt_vars = {"today": amsterdam_today().isoformat(), "data_dir": str(folder)}
    command = [dbt_executable(), "build", "--full-refresh", "--quiet"]
    command += ["--resource-type", "seed", "--resource-type", "model"]
    command += ["--vars", json.dumps(dbt_vars), "--project-dir", str(DBT_PROJECT_DIR)]
    command += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(folder / "target")]
    command += ["--log-path", str(folder / "logs")]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return folder / "warehouse.duckdb"


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    return con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = ? and schema_name in ? and table_name <> ? order by all",
        [catalog, list(SCHEMAS), CHANGES],
    ).fetchall()


def _differences(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> tuple[int, int]:
    """Rows (with their multiplicity) only in the incremental build, and only in the full one."""
    inc, full = f'inc.{schema}."{table}"', f'full_build.{schema}."{table}"'
    counts = con.execute(
        f"select (select count(*) from (from {inc} except all from {full})), "
        f"(select count(*) from (from {full} except all from {inc}))"
    ).fetchone()
    assert counts is not None
    return int(counts[0]), int(counts[1])
