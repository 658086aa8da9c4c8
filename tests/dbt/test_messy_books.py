"""Every reconciliation mart on hand-written messy books (tests/books/messy.py), row by row,
against a truth typed out by hand: the second source of truth beside the simulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from afas_pipeline.afas import AfasClient, AfasSettings
from afas_pipeline.dbt_build import DBT_PROJECT_DIR, dbt_executable
from afas_pipeline.extract.reference import RawReference
from afas_pipeline.extract.specs import field_meanings
from afas_pipeline.runner import failures
from afas_pipeline.writeback import WritebackOptions, run_writeback
from afas_pipeline.writeback.posting import HELD, WOULD_POST
from tests.books import messy
from tests.books.afas import Entry, gl
from tests.books.pipeline import Loaded, load, serving
from tests.conftest import Simulator
from tests.dbt.support import marts_connection, records, rows

END = date(2026, 3, 20)


@pytest.fixture(scope="module")
def books() -> Iterator[Simulator]:
    with serving(messy.messy_books()) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def run(books: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    data_dir = tmp_path_factory.mktemp("messy") / "data"
    with dg.DagsterInstance.ephemeral() as instance:
        result = load(books, data_dir, instance, END)
        assert result.success, failures(result)
        yield Loaded(data_dir, result)


@pytest.fixture(scope="module")
def loaded(run: Loaded) -> Path:
    return run.data_dir


@pytest.fixture(scope="module")
def marts(loaded: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with marts_connection(loaded) as con:
        yield con


def test_suspense_items_that_are_open_and_what_they_match(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    found = set(
        rows(
            marts,
            "select administration_id, entry_no, seq_no, parked_amount, matched_debtor_id, "
            "matched_invoice_id, match_basis, is_clearing_proposed "
            "from rec_suspense_items where status = 'open'",
        )
    )
    assert found == messy.EXPECTED_OPEN_SUSPENSE
    cleared = set(
        rows(
            marts,
            "select administration_id, entry_no, seq_no from rec_suspense_items "
            "where status = 'cleared'",
        )
    )
    assert cleared == messy.EXPECTED_CLEARED_SUSPENSE


def test_open_suspense_items_sum_to_the_suspense_balance(marts: duckdb.DuckDBPyConnection) -> None:
    open_sum = dict(
        rows(
            marts,
            "select administration_id, sum(parked_amount) from rec_suspense_items "
            "where status = 'open' group by all",
        )
    )
    balance = dict(
        rows(
            marts,
            "select administration_id, -sum(amount) from fct_gl_entries "
            "where account_code = '2999' group by all",
        )
    )
    assert open_sum == balance == messy.SUSPENSE_BALANCE


def test_duplicate_invoices_as_they_happen(marts: duckdb.DuckDBPyConnection) -> None:
    found = set(
        rows(
            marts,
            "select administration_id, creditor_id, original_invoice_id, duplicate_invoice_id, "
            "original_entry_no, duplicate_entry_no, duplicate_amount, matched_on "
            "from rec_duplicate_invoices",
        )
    )
    assert found == messy.EXPECTED_DUPLICATES


def test_vat_findings_per_voucher_and_code(marts: duckdb.DuckDBPyConnection) -> None:
    found = set(
        rows(
            marts,
            "select administration_id, entry_no, vat_code, vat_type, net_amount, expected_vat, "
            "booked_vat, difference, remedy from rec_vat_mismatches",
        )
    )
    assert found == messy.EXPECTED_VAT


def test_rounding_differences(marts: duckdb.DuckDBPyConnection) -> None:
    found = set(
        rows(
            marts,
            "select administration_id, party_type, party_id, invoice_id, invoice_amount, "
            "difference from rec_rounding_differences where status = 'open'",
        )
    )
    assert found == messy.EXPECTED_ROUNDING


def test_open_items_reconcile_with_afas_semantics(marts: duckdb.DuckDBPyConnection) -> None:
    findings = set(
        rows(
            marts,
            "select administration_id, party_type, party_id, invoice_id, status "
            "from rec_open_items_vs_afas where status <> 'ok'",
        )
    )
    assert findings == messy.EXPECTED_OPEN_ITEM_FINDINGS
    # Every item AFAS lists is in the warehouse with AFAS's amounts and dates.
    afas = {
        (i.unit, i.party, i.invoice): (
            date.fromisoformat(i.voucher_date),
            date.fromisoformat(i.due_date),
            Decimal(i.amount_invoice),
            Decimal(i.balance),
        )
        for i in messy.DEBTOR_ITEMS
    }
    warehouse = {
        (u, p, i): (invoice_date, due_date, amount, open_amount)
        for u, p, i, invoice_date, due_date, amount, open_amount in rows(
            marts,
            "select administration_id, debtor_id, invoice_id, invoice_date, due_date, "
            "invoice_amount, open_amount from fct_ar_open_items",
        )
    }
    assert warehouse == afas


def test_the_gl_against_afas(marts: duckdb.DuckDBPyConnection) -> None:
    found = set(
        rows(
            marts,
            "select administration_id, fiscal_year, period, account_code, difference, "
            "is_period_closed from rec_gl_vs_afas where status <> 'ok'",
        )
    )
    assert found == messy.EXPECTED_GL_FINDINGS


def test_each_subledger_equals_its_collect_account(marts: duckdb.DuckDBPyConnection) -> None:
    found = rows(
        marts,
        "select administration_id, party_type, control_account_code, subledger_open_amount, "
        "control_balance, status from rec_subledger_vs_control",
    )
    assert {(u, t, a, s) for u, t, a, s, _, _ in found} == messy.EXPECTED_SUBLEDGERS
    assert all(s == c and status == "ok" for *_, s, c, status in found)


def test_corrections_only_for_what_a_journal_entry_may_fix(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    lines = records(marts, "select * from corrections_proposed order by correction_id, line_no")
    found: dict[tuple[str, str], list[tuple]] = {}
    for line in lines:
        found.setdefault((line["correction_type"], line["source_ref"]), []).append(
            (
                line["account_kind"],
                line["account_code"],
                line["debit"],
                line["credit"],
                line["invoice_id"],
            )
        )
    assert found == messy.EXPECTED_CORRECTIONS


def test_the_reconciliation_status_shows_where_things_stand(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    status = {
        (check, unit): (findings, severity)
        for check, unit, findings, severity in rows(
            marts,
            "select check_name, administration_id, sum(findings), min(severity) "
            "from rpt_reconciliation_status group by all",
        )
    }
    assert status[("suspense_items", 1)] == (4, "warn")
    assert status[("suspense_items", 2)] == (1, "warn")
    assert status[("duplicate_invoices", 1)] == (3, "warn")
    assert status[("vat_mismatches", 1)] == (2, "warn")
    assert status[("rounding_differences", 1)] == (1, "warn")
    assert status[("open_item_differences", 1)] == (1, "warn")
    assert status[("gl_vs_afas_open_periods", 2)] == (1, "warn")
    for identity in ("gl_vs_afas_closed_periods", "subledger_vs_control", "unbalanced_entries"):
        assert status[(identity, 1)] == status[(identity, 2)] == (0, "error")
    assert status[("vat_mismatches", 2)] == (0, "warn")
    # Both VAT findings are February's; the older was booked on 18 February at 10:00.
    vat = rows(
        marts,
        "select fiscal_year, period, findings, total_difference, first_seen_at "
        "from rpt_reconciliation_status "
        "where check_name = 'vat_mismatches' and administration_id = 1",
    )
    assert vat == [(2026, 2, 2, Decimal("36.00"), datetime(2026, 2, 18, 10, 0))]


def test_the_aging_uses_afas_due_dates(marts: duckdb.DuckDBPyConnection) -> None:
    found = set(
        rows(
            marts,
            "select administration_id, debtor_id, not_due, days_1_30, days_31_60, days_61_90, "
            "days_over_90, total_open from rpt_ar_aging",
        )
    )
    assert found == messy.EXPECTED_AR_AGING


def _rebuild(warehouse_dir: Path, model: str, dbt_vars: dict) -> subprocess.CompletedProcess:
    """`model` rebuilt with `dbt_vars` in the warehouse of `warehouse_dir` (dbt's own files
    there too, so the project's manifest stays as the pipeline parsed it)."""
    return subprocess.run(
        [
            dbt_executable(), "run", "--select", model, "--vars", json.dumps(dbt_vars),
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(warehouse_dir / "target"),
            "--log-path", str(warehouse_dir / "logs"),
        ],
        env={**os.environ, "AFAS_PIPELINE_DATA_DIR": str(warehouse_dir)},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip


def test_the_aging_by_invoice_date_in_buckets_of_ones_choice(loaded: Path, tmp_path: Path) -> None:
    shutil.copy(loaded / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    dbt_vars = {"aging_basis": "invoice_date", "aging_bucket_days": [10, 40]}
    build = _rebuild(tmp_path, "rpt_ar_aging", dbt_vars)
    assert build.returncode == 0, build.stdout
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        aging = records(con, "select * from marts.rpt_ar_aging")
        items = rows(
            con,
            "select administration_id, debtor_id, as_of_date - invoice_date, open_amount "
            "from marts.fct_ar_open_items",
        )
    # The same open items, aged by hand from their invoice dates.
    buckets = ("days_0_10", "days_11_40", "days_over_40")
    expected: dict[tuple, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(buckets, Decimal("0.00"))
    )
    for unit, debtor, age, amount in items:
        bucket = buckets[0] if age <= 10 else buckets[1] if age <= 40 else buckets[2]
        expected[(unit, debtor)][bucket] += amount
    assert list(aging[0]) == [
        "administration_id", "debtor_id", "debtor_name", "as_of_date", *buckets,
        "total_open", "open_items",
    ]  # fmt: skip
    found = {(r["administration_id"], r["debtor_id"]): {b: r[b] for b in buckets} for r in aging}
    assert found == expected
    assert any(v["days_over_40"] for v in found.values())  # all three buckets are used
    assert any(v["days_11_40"] for v in found.values())


def test_an_aging_basis_it_does_not_know_is_refused_by_name(loaded: Path, tmp_path: Path) -> None:
    shutil.copy(loaded / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    build = _rebuild(tmp_path, "rpt_ar_aging", {"aging_basis": "vervaldatum"})
    assert build.returncode != 0
    assert "var aging_basis must be 'due_date' or 'invoice_date', not 'vervaldatum'" in build.stdout


def test_trial_balance_closing_balances(marts: duckdb.DuckDBPyConnection) -> None:
    found = {
        (u, a): b
        for u, a, b in rows(
            marts,
            "select administration_id, account_code, closing_balance from fct_trial_balance "
            "where fiscal_year = 2026 and period = 3",
        )
    }
    assert {k: found[k] for k in messy.EXPECTED_CLOSING} == messy.EXPECTED_CLOSING


def test_a_broken_identity_publishes_nothing_and_says_which(tmp_path: Path) -> None:
    books = messy.messy_books()
    unbalanced = Entry(1, 42, "80", "2026-03-12", "2026-03-12T10:00", (gl("4300", "10.00"),))
    books = replace(books, entries=[*books.entries, unbalanced])
    with serving(books) as simulator, dg.DagsterInstance.ephemeral() as instance:
        result = load(simulator, tmp_path / "data", instance, END)
    assert not result.success
    problems = "\n".join(failures(result))
    assert "assert_every_entry_balances" in problems, problems
    assert not (tmp_path / "data" / "marts.duckdb").exists()


def test_nothing_is_posted_where_the_warehouse_differs_from_afas(
    books: Simulator, loaded: Path, marts: duckdb.DuckDBPyConnection
) -> None:
    """Administration 2's March revenue differs from AFAS's balance (an open period): its
    corrections are held, administration 1's go ahead."""
    ids = dict(rows(marts, "select distinct source_ref, correction_id from corrections_proposed"))
    approve = (ids["1/28/2"], ids["2/5/2"])
    options = WritebackOptions(dry_run=True, approve=approve, approved_by="test")
    settings = AfasSettings.create(token=books.token, base_url=books.base_url)
    with AfasClient(settings, field_meanings=field_meanings()) as client:
        report = run_writeback(client, loaded, options, loaded=RawReference(loaded), run_id="gate")
    outcomes = {o.correction_id: o for o in report.outcomes}
    assert outcomes[ids["1/28/2"]].outcome == WOULD_POST
    held = outcomes[ids["2/5/2"]]
    assert held.outcome == HELD
    assert "administration 2's warehouse does not equal AFAS" in (held.detail or "")
    assert "1 account-periods differ from AFAS's balances by 10.00" in (held.detail or "")


def test_findings_are_warnings_in_dagster_and_identities_block(run: Loaded) -> None:
    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in run.result.get_asset_check_evaluations()
    }
    findings = {k: e for k, e in evaluations.items() if k[1].startswith("finding_")}
    failed = {asset for (asset, _), e in findings.items() if not e.passed}
    assert failed == {
        "warehouse/rec_suspense_items",
        "warehouse/rec_vat_mismatches",
        "warehouse/rec_duplicate_invoices",
        "warehouse/rec_rounding_differences",
        "warehouse/rec_open_items_vs_afas",
        "warehouse/rec_gl_vs_afas",
        # VAT code 12 (reverse charge as some set it up) is not in vat_return_rubrieken.
        "warehouse/rpt_vat_return",
    }
    # dagster-dbt gives a passing test severity ERROR; a finding that fails is a warning.
    assert {e.severity for e in findings.values() if not e.passed} == {dg.AssetCheckSeverity.WARN}
    identity = evaluations[("warehouse/rec_unbalanced_entries", "assert_every_entry_balances")]
    assert identity.passed
    assert identity.severity == dg.AssetCheckSeverity.ERROR
