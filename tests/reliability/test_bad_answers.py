"""Bad answers from AFAS never become permanent data: a connector that lost a contract field,
empty or implausible deletion answers, keys that are null or repeated with other content, and an
administrations setting that does not match AFAS. Each is refused (the run fails or a blocking
check fails, saying what and where) and the raw layer stays as it was, or it is healed by the
next good answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from datetime import date
from pathlib import Path

import duckdb
import httpx
import polars as pl
import pytest

from afas_pipeline import cli, runner
from afas_pipeline.extract.days import DayRange
from afas_pipeline.extract.deletions import (
    MIN_IMPLAUSIBLE,
    DeletionReport,
    ImplausibleDeletionsError,
    detect_deleted_by_key_scan,
    detect_deleted_journal_lines,
    live_versions,
)
from afas_pipeline.extract.loader import load_days, load_snapshot
from afas_pipeline.extract.specs import spec_by_name
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.runner import failures
from tests.conftest import HISTORY_START, NOW, Pipeline, Simulator
from tests.extract.support import client_for, load_range, raw_days, without_load_columns
from tests.reliability.conftest import fingerprint

LINES = spec_by_name("DWH_Financiele_mutaties")
DEBTORS = spec_by_name("DWH_Debiteuren")
CHANGED = spec_by_name("Profit_Fin_ChangedEntrydate")
FIRST = date(2026, 11, 1)
EXTRACT = "afas_extract_job"


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
    with_it = start_simulator()
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


# -- 2. one bad answer never becomes permanent ---------------------------------------------------


def test_an_empty_answer_to_the_debtor_scan_is_refused_and_the_command_says_so(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One empty 200 on the debtor key scan flagged all debtors deleted, and `afas-pipeline
    run` exited 0. Now the check refuses, the run says why and exits 1, nothing is built."""
    monkeypatch.setattr(runner, "command_instance", lambda: nullcontext(pipeline.instance))
    pipeline.run_ok(HISTORY_START, NOW.date(), job=EXTRACT)
    store = RawStore(pipeline.data_dir)
    debtors = pipeline.simulator.environment.rows(DEBTORS.name).height
    pipeline.simulator.set_faults(empty_page_rate=1.0, only_paths=["/connectors/DWH_Debiteuren"])

    code = cli.main(["run", "--start", str(NOW.date()), "--end", str(NOW.date())])

    out, err = capsys.readouterr()
    assert code == 1
    assert (
        "FAILED CHECK afas/DWH_Debiteuren_deletions deletions_plausible (blocking): "
        f"DWH_Debiteuren: refused to flag deletions: the answer would flag {debtors} of the "
        f"{debtors} records"
    ) in err
    assert "FAILED" in out.splitlines()[-1]
    assert not store.history_files(DEBTORS.name, "deleted")
    assert not (pipeline.data_dir / "marts.duckdb").exists()  # the line stopped before dbt
    truth = pipeline.simulator.environment.rows(DEBTORS.name)
    assert without_load_columns(live_versions(store, DEBTORS)).sort("DebtorId").equals(truth)

    pipeline.simulator.set_faults()
    pipeline.run_ok(NOW.date(), NOW.date(), job=EXTRACT)  # AFAS is sane again: the check passes
    assert not store.history_files(DEBTORS.name, "deleted")


def test_an_empty_answer_to_the_journal_line_check_is_refused_and_asked_again(
    start_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    simulator = start_simulator(seed=21)  # within 20 days: new, edited and deleted entries
    store = RawStore(tmp_path / "data")
    _load_lines(simulator, store, "first")
    _check_lines(simulator, store, "first")  # the first check records what it saw
    happened = simulator.environment.advance(days=20)
    assert happened["entries_deleted"]
    _load_lines(simulator, store, "later")
    simulator.set_faults(empty_page_rate=1.0, only_paths=[f"/connectors/{LINES.connector_id}"])

    with pytest.raises(ImplausibleDeletionsError, match="refused to flag deletions") as refused:
        _check_lines(simulator, store, "bad")

    assert refused.value.report.checked_keys > MIN_IMPLAUSIBLE
    assert not store.history_files(LINES.name, "deleted")
    simulator.set_faults()
    report = _check_lines(simulator, store, "good")  # the same dates are checked again
    assert report.checked_dates > 0
    live = without_load_columns(live_versions(store, LINES)).sort(LINES.key)
    assert live.equals(simulator.environment.rows(LINES.name).sort(LINES.key))
    assert report.deleted > 0  # the real deletions, and only those


def test_flags_a_bad_answer_left_are_cleared_when_the_keys_are_seen_again(
    start_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    """The permanent damage of before: flags from an answer that was accepted (an operator's
    accept_mass_deletions, or a plausible but wrong answer) stayed for ever, because an
    unchanged re-read keeps its old `_loaded_at`. A key seen again now loses its flag."""
    simulator = start_simulator(seed=21)
    store = RawStore(tmp_path / "data")
    wrong = flags_from_an_accepted_empty_answer(simulator, store)
    assert wrong.deleted > MIN_IMPLAUSIBLE
    truth = simulator.environment.rows(LINES.name).sort(LINES.key)
    assert live_versions(store, LINES).height < truth.height  # the damage

    before = fingerprint(store.raw_dir / LINES.name / "days")
    _load_lines(simulator, store, "again")

    assert fingerprint(store.raw_dir / LINES.name / "days") == before  # an unchanged re-read
    live = without_load_columns(live_versions(store, LINES)).sort(LINES.key)
    assert live.equals(truth)
    cleared = pl.read_parquet(store.history_files(LINES.name, "cleared"))
    assert cleared["_cleared_at"].null_count() == 0  # kept for the audit, with when
    kept = pl.read_parquet(store.history_files(LINES.name, "deleted"))
    assert cleared.height + kept.height == wrong.deleted
    assert kept.join(truth, on=LINES.key, how="semi").height == 0  # only real deletions stay

    # Master data the same way: a debtor missing from one scan, back in the next.
    load_range(simulator, store, DEBTORS, HISTORY_START, simulator.environment.now().date(), "d")
    gone = {"DebtorId": simulator.environment.rows(DEBTORS.name)["DebtorId"][3]}
    edit = {"connector": DEBTORS.name, "key": gone, "delete": True}
    assert simulator.admin("POST", "silent_edit", edit) == {"matched": 1}
    with client_for(simulator) as client:
        assert detect_deleted_by_key_scan(client, store, DEBTORS, run_id="miss").deleted == 1
        simulator.admin("DELETE", "silent_edit")
        scan = detect_deleted_by_key_scan(client, store, DEBTORS, run_id="back")
    assert (scan.deleted, scan.restored) == (0, 1)
    debtors = without_load_columns(live_versions(store, DEBTORS)).sort("DebtorId")
    assert debtors.equals(simulator.environment.rows(DEBTORS.name).sort("DebtorId"))


def test_identical_rows_twice_are_kept_once_and_the_day_is_unique(
    start_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    simulator = start_simulator(journal_lines=1_500)
    store = RawStore(tmp_path / "data")
    transport = _RepeatLastRow()
    with client_for(simulator, http_client=httpx.Client(transport=transport)) as client:
        load_days(
            client, store, LINES, DayRange.inclusive(FIRST, NOW.date()),
            administrations=None, run_id="twice", first_partition=HISTORY_START,
        )  # fmt: skip
    assert transport.repeated > 0
    lines = without_load_columns(raw_days(store, LINES))
    truth = simulator.environment.rows(LINES.name)
    assert lines.equals(truth.filter(pl.col("Mutatie_datum") >= FIRST).sort(LINES.key))


class _RepeatLastRow(httpx.BaseTransport):
    """Sends the last row of every part-filled journal-line page twice (AFAS repeating a row)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.repeated = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith(f"/connectors/{LINES.connector_id}"):
            return response
        body = json.loads(response.read())
        if 0 < len(body["rows"]) < body["take"]:
            body["rows"].append(dict(body["rows"][-1]))
            self.repeated += 1
        return httpx.Response(response.status_code, headers=response.headers, json=body)

    def close(self) -> None:
        self.inner.close()


def test_the_administrations_setting_is_checked_and_others_are_left_alone(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AFAS_ADMINISTRATIONS=99 was accepted and emptied the snapshots; =1 on a warehouse of
    three flagged the other two's lines deleted."""
    pipeline.run_ok(HISTORY_START, NOW.date(), job=EXTRACT)
    raw = pipeline.data_dir / "raw"
    before = fingerprint(raw)
    monkeypatch.setenv("AFAS_ADMINISTRATIONS", "1,99")
    result = pipeline.run(NOW.date(), NOW.date(), job=EXTRACT)
    assert not result.success
    expected = "AFAS_ADMINISTRATIONS names 99, which this AFAS environment does not have"
    assert f"{expected} (Profit_Administrations: 1, 2, 3)" in "\n".join(failures(result))
    assert fingerprint(raw) == before

    store = RawStore(pipeline.data_dir)
    balances_before = _others(store.snapshot_path("Profit_Period_balance"))
    day_before = _others(store.day_path(LINES.name, NOW.date()))
    assert balances_before
    assert day_before
    env = pipeline.simulator.environment
    env.advance(days=3)  # changes in every administration, checked by the next run
    monkeypatch.setenv("AFAS_ADMINISTRATIONS", "1")
    pipeline.run_ok(NOW.date(), env.now().date(), job=EXTRACT)

    flagged = {u for f in store.history_files(LINES.name, "deleted") for u in _units(f)}
    assert flagged <= {1}
    assert _others(store.snapshot_path("Profit_Period_balance")) == balances_before
    assert _others(store.day_path(LINES.name, NOW.date())) == day_before
    assert not store.history_files(LINES.name, "displaced")  # nothing of theirs moved


def _units(path: Path) -> set[int]:
    return set(pl.read_parquet(path, columns=["UnitId"])["UnitId"])


def _others(path: Path) -> list[tuple]:
    """The rows of administrations 2 and 3 in a raw file (load columns aside), sorted."""
    frame = without_load_columns(pl.read_parquet(path)).filter(pl.col("UnitId") != 1)
    return sorted(frame.rows())


def flags_from_an_accepted_empty_answer(simulator: Simulator, store: RawStore) -> DeletionReport:
    """The damage of a bad day: lines loaded and checked, 20 days of changes, then an empty
    answer to the journal-line check, accepted by hand (accept_mass_deletions)."""
    _load_lines(simulator, store, "first")
    _check_lines(simulator, store, "first")  # the first check records what it saw
    simulator.environment.advance(days=20)
    _load_lines(simulator, store, "later")
    simulator.set_faults(empty_page_rate=1.0, only_paths=[f"/connectors/{LINES.connector_id}"])
    wrong = _check_lines(simulator, store, "wrong", accept_mass_deletions=True)
    simulator.set_faults()
    return wrong


def _check_lines(
    simulator: Simulator, store: RawStore, run_id: str, **options: bool
) -> DeletionReport:
    with client_for(simulator) as client:
        load_snapshot(client, store, CHANGED, administrations=None, run_id=run_id)
        changed = pl.read_parquet(store.snapshot_path(CHANGED.name))
        return detect_deleted_journal_lines(
            client, store, LINES, changed, administrations=None, run_id=run_id, **options
        )


def _load_lines(simulator: Simulator, store: RawStore, run_id: str) -> None:
    load_range(simulator, store, LINES, HISTORY_START, simulator.environment.now().date(), run_id)
