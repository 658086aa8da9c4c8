"""The full reconciliation finds what incremental reads cannot see (a change that did not move
Mutatie_datum, a deletion AFAS did not report in Profit_Fin_ChangedEntrydate), heals it, says
what it healed, and undoes the damage a bad day left; an implausible answer changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from afas_pipeline import cli, runner
from afas_pipeline.extract.days import DayRange
from afas_pipeline.extract.deletions import ImplausibleDeletionsError, live_versions
from afas_pipeline.extract.reconcile import reconcile
from afas_pipeline.extract.specs import ExtractSpec, spec_by_name
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.simulator import chart
from tests.conftest import HISTORY_START, NOW, Pipeline, Simulator
from tests.extract.support import client_for, load_range, without_load_columns
from tests.reliability.conftest import fingerprint
from tests.reliability.test_bad_answers import flags_from_an_accepted_empty_answer

LINES = spec_by_name("DWH_Financiele_mutaties")
DEBTORS = spec_by_name("DWH_Debiteuren")
EXTRACT = "afas_extract_job"


def _live(store: RawStore, spec: ExtractSpec) -> pl.DataFrame:
    return without_load_columns(live_versions(store, spec)).sort(spec.key)


def _truth(simulator: Simulator, spec: ExtractSpec) -> pl.DataFrame:
    return simulator.environment.rows(spec.name).sort(spec.key)


def _silently(simulator: Simulator, spec: ExtractSpec, row: dict[str, Any], **values: Any) -> None:
    """Change (or, without values, delete) a record in AFAS without a trace an incremental
    read could see."""
    edit: dict[str, Any] = {"connector": spec.name, "key": {k: row[k] for k in spec.key}}
    edit.update({"set": values} if values else {"delete": True})
    assert simulator.admin("POST", "silent_edit", edit) == {"matched": 1}


def test_the_full_reconciliation_heals_what_incremental_reads_cannot_see(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner, "command_instance", lambda: nullcontext(pipeline.instance))
    simulator = pipeline.simulator
    pipeline.run_ok(HISTORY_START, NOW.date())
    lines = simulator.environment.rows(LINES.name)
    depreciation = lines.filter(
        (pl.col("JournalId") == "80") & (pl.col("AccountNo") == chart.DEPRECIATION_COSTS)
    )
    moved = depreciation.row(0, named=True)
    gone = lines.filter(pl.col("EntryNo") == depreciation["EntryNo"][-1])
    assert gone.height >= 2
    assert gone["EntryNo"][0] != moved["EntryNo"]
    # An AFAS consultant re-posts a line to another account in the database, and deletes a
    # whole entry: Mutatie_datum does not move, Profit_Fin_ChangedEntrydate says nothing.
    _silently(simulator, LINES, moved, AccountNo=chart.OFFICE)
    for row in gone.iter_rows(named=True):
        _silently(simulator, LINES, row)
    debtor = simulator.environment.rows(DEBTORS.name).row(5, named=True)
    _silently(simulator, DEBTORS, debtor, Email="stil@voorbeeld.nl")

    pipeline.run_ok(NOW.date(), NOW.date(), job=EXTRACT)  # the incremental cycle misses them
    store = RawStore(pipeline.data_dir)
    assert not _live(store, LINES).equals(_truth(simulator, LINES))
    assert not _live(store, DEBTORS).equals(_truth(simulator, DEBTORS))

    assert cli.main(["reconcile"]) == 0  # on demand; the schedule runs it weekly

    out = capsys.readouterr().out
    assert "afas/full_reconciliations" in out
    assert f"records_deleted={gone.height}" in out
    assert "records_changed=2" in out  # the line and the debtor
    assert "dbt models built and tested" in out
    assert _live(store, LINES).equals(_truth(simulator, LINES))
    assert _live(store, DEBTORS).equals(_truth(simulator, DEBTORS))
    warehouse = pipeline.data_dir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        healed = con.execute(
            "select connector, administration_id, healed_day, changed_records, "
            "missing_records, deleted_records, restored_records "
            "from staging.stg_afas__full_reconciliations order by all"
        ).fetchall()
        (account,) = con.execute(
            "select account_code from staging.stg_afas__journal_lines "
            "where administration_id = ? and entry_no = ? and seq_no = ?",
            [moved["UnitId"], moved["EntryNo"], moved["SeqNo"]],
        ).fetchone()
        (flagged,) = con.execute(
            "select count(*) from staging.stg_afas__journal_lines "
            "where is_deleted and administration_id = ? and entry_no = ?",
            [gone["UnitId"][0], gone["EntryNo"][0]],
        ).fetchone()
    assert account == chart.OFFICE
    assert flagged == gone.height
    by_connector: dict[str, list[tuple]] = {}
    for row in healed:
        by_connector.setdefault(row[0], []).append(row[1:])
    assert by_connector["DWH_Crediteuren"] == [(None, None, 0, 0, 0, 0)]  # checked, all well
    assert [r[2:] for r in by_connector["DWH_Debiteuren"]] == [(1, 0, 0, 0)]
    counts = [sum(r[i] for r in by_connector[LINES.name]) for i in (2, 3, 4, 5)]
    assert counts == [1, 0, gone.height, 0]
    assert {r[0] for r in by_connector[LINES.name]} == {moved["UnitId"], gone["UnitId"][0]}


def test_the_reconciliation_undoes_flags_a_bad_day_left(
    start_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    """The documented way out: an empty answer accepted by an operator flagged hundreds of
    lines deleted; the full reconciliation takes back every flag AFAS contradicts."""
    simulator = start_simulator(seed=21)
    store = RawStore(tmp_path / "data")
    wrong = flags_from_an_accepted_empty_answer(simulator, store)
    assert wrong.deleted > 100

    report = _reconcile(simulator, store)

    assert _live(store, LINES).equals(_truth(simulator, LINES))
    truly_gone = wrong.deleted - report.restored
    assert report.restored > 100
    assert (report.changed, report.missing, report.deleted) == (0, 0, 0)
    kept = pl.read_parquet(store.history_files(LINES.name, "deleted"))
    assert kept.height == truly_gone  # only the lines AFAS really deleted stay flagged
    assert report.api_calls < 40  # the whole ledger in a few pages; no day needed re-reading
    assert report.days_reloaded == 0


def test_an_empty_answer_to_the_reconciliation_changes_nothing(
    start_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    simulator = start_simulator()
    store = RawStore(tmp_path / "data")
    load_range(simulator, store, LINES, HISTORY_START, NOW.date(), "first")
    before = fingerprint(store.raw_dir)
    simulator.set_faults(empty_page_rate=1.0, only_paths=[f"/connectors/{LINES.connector_id}"])
    with pytest.raises(ImplausibleDeletionsError, match="refused to flag deletions"):
        _reconcile(simulator, store)
    assert fingerprint(store.raw_dir) == before


def _reconcile(simulator: Simulator, store: RawStore) -> Any:
    days = DayRange.inclusive(HISTORY_START, simulator.environment.now().date())
    with client_for(simulator) as client:
        return reconcile(
            client,
            store,
            LINES,
            days,
            administrations=None,
            run_id="reconcile",
            first_partition=HISTORY_START,
        )


def test_the_reconciliation_runs_weekly_and_rebuilds_the_marts() -> None:
    from afas_pipeline.definitions import defs

    schedule = defs.resolve_schedule_def("afas_full_reconciliation_weekly")
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        "0 3 * * 0",
        "Europe/Amsterdam",
    )
    job = defs.resolve_job_def(schedule.job_name)
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert {"afas/full_reconciliations", "analysts/marts_database"} <= keys
    assert not {k for k in keys if k.startswith("afas/DWH_")}  # no incremental read in it
