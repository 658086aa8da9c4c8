"""The marts on the shared, fully loaded simulator: right to the cent, every planted problem
found and nothing else, exact types, and the analysts' contract."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from afas_pipeline.datadir import WAREHOUSE_FILE
from afas_pipeline.dbt_build import DBT_PROJECT_DIR, dbt_executable
from tests.conftest import HISTORY_START, NOW, Pipeline, Simulator, pipeline_env
from tests.dbt.scorecard import score
from tests.dbt.support import marts_connection, records, rows

# The analysts' contract: these columns (at least) in these marts.
CONTRACT = {
    "fct_gl_entries": (
        "administration_id entry_no seq_no fiscal_year period journal_id account_code debtor_id "
        "creditor_id entry_date voucher_date voucher_no invoice_id debit credit amount vat_code "
        "vat_amount cost_centre description created_at modified_at"
    ),
    "fct_trial_balance": (
        "administration_id fiscal_year period account_code account_name account_type "
        "opening_balance debit credit closing_balance"
    ),
    "rpt_profit_and_loss": (
        "administration_id fiscal_year period line_type line_code line_name account_code "
        "period_result ytd_result"
    ),
    "rpt_balance_sheet": (
        "administration_id fiscal_year period line_type line_code line_name account_code "
        "balance presented_amount"
    ),
    "rpt_cash_flow": "administration_id fiscal_year period line_code amount ytd_amount",
    "fct_consolidated_trial_balance": "fiscal_year period account_code closing_balance",
    "rpt_consolidated_profit_and_loss": "fiscal_year period line_code ytd_result",
    "rec_intercompany": "administration_id counterparty_administration_id difference status",
    "fct_ar_open_items": (
        "administration_id debtor_id invoice_id invoice_date due_date invoice_amount open_amount"
    ),
    "fct_ap_open_items": (
        "administration_id creditor_id invoice_id invoice_date due_date invoice_amount open_amount"
    ),
    "rpt_ar_aging": (
        "administration_id debtor_id as_of_date not_due days_1_30 days_31_60 days_61_90 "
        "days_over_90 total_open"
    ),
    "rpt_ap_aging": (
        "administration_id creditor_id as_of_date not_due days_1_30 days_31_60 days_61_90 "
        "days_over_90 total_open"
    ),
    "rpt_vat_summary": "administration_id fiscal_year period vat_code taxable_base vat_amount",
    "rec_gl_vs_afas": "administration_id fiscal_year period account_code difference status",
    "rec_subledger_vs_control": "administration_id control_account_code difference status",
    "rec_open_items_vs_afas": "administration_id invoice_id difference status",
    "rec_unbalanced_entries": "administration_id entry_no difference status",
    "rec_duplicate_invoices": "administration_id creditor_id difference status",
    "rec_suspense_items": "administration_id entry_no seq_no age_days difference status",
    "rec_vat_mismatches": "administration_id entry_no vat_code difference remedy status",
    "rec_rounding_differences": "administration_id invoice_id difference status",
    "rpt_reconciliation_status": (
        "check_name severity mart administration_id fiscal_year period findings "
        "total_difference first_seen_at status"
    ),
}
# corrections_proposed, exactly: the write-back is built against it.
CORRECTIONS_CONTRACT = {
    "correction_id": "VARCHAR",
    "correction_type": "VARCHAR",
    "reason": "VARCHAR",
    "source_ref": "VARCHAR",
    "administration_id": "INTEGER",
    "journal_id": "VARCHAR",
    "fiscal_year": "INTEGER",
    "period": "INTEGER",
    "entry_date": "DATE",
    "line_no": "INTEGER",
    "account_kind": "VARCHAR",
    "account_code": "VARCHAR",
    "debit": "DECIMAL(18,2)",
    "credit": "DECIMAL(18,2)",
    "vat_code": "VARCHAR",
    "invoice_id": "VARCHAR",
    "description": "VARCHAR",
}
MONEY_COLUMNS = frozenset(
    [
        "debit",
        "credit",
        "amount",
        "vat_amount",
        "opening_balance",
        "movement",
        "closing_balance",
        "invoice_amount",
        "settled_amount",
        "open_amount",
        "not_due",
        "days_1_30",
        "days_31_60",
        "days_61_90",
        "days_over_90",
        "total_open",
        "taxable_base",
        "difference",
        "balance",
        "presented_amount",
        "period_result",
        "ytd_result",
        "carried_forward",
        "ytd_amount",
        "total_difference",
    ]
)


@pytest.fixture(scope="module")
def marts(loaded_pipeline: Pipeline) -> Iterator[duckdb.DuckDBPyConnection]:
    with marts_connection(loaded_pipeline.data_dir) as con:
        yield con


def test_marts_hold_the_contract_columns(marts: duckdb.DuckDBPyConnection) -> None:
    columns: dict[str, set[str]] = {}
    for table, column in rows(
        marts, "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts'"
    ):  # fmt: skip
        columns.setdefault(table, set()).add(column)
    for table, names in CONTRACT.items():
        assert set(names.split()) <= columns.get(table, set()), table
    assert "corrections_proposed" in columns


def test_corrections_proposed_has_exactly_the_contract_columns(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    found = dict(
        rows(
            marts,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'corrections_proposed' "
            "order by ordinal_position",
        )
    )
    assert found == CORRECTIONS_CONTRACT
    assert list(found) == list(CORRECTIONS_CONTRACT)


def test_a_null_in_a_column_that_must_hold_one_fails_the_build_and_names_it(
    loaded_pipeline: Pipeline, tmp_path: Path
) -> None:
    """The not_null_columns test checks a model's columns in one query and names each column
    that holds nulls, with how many."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(loaded_pipeline.data_dir / WAREHOUSE_FILE, data / WAREHOUSE_FILE)
    with duckdb.connect(str(data / WAREHOUSE_FILE)) as con:
        con.execute(
            "update marts.fct_gl_entries set account_code = null where entry_no in "
            "(select min(entry_no) from marts.fct_gl_entries)"
        )
        (broken,) = con.execute(
            "select count(*) from marts.fct_gl_entries where account_code is null"
        ).fetchone()  # type: ignore[misc]
    dbt_vars = json.dumps({"data_dir": str(data)})
    command = [dbt_executable(), "test", "--select", "not_null_fct_gl_entries", "--store-failures"]
    command += ["--vars", dbt_vars, "--target-path", str(tmp_path / "target")]
    command += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    command += ["--log-path", str(tmp_path / "logs")]
    done = subprocess.run(command, capture_output=True, text=True)

    assert done.returncode == 1, done.stdout[-2000:]
    assert "Failure in test not_null_fct_gl_entries" in done.stdout
    with duckdb.connect(str(data / WAREHOUSE_FILE), read_only=True) as con:
        failures = con.execute("from dbt_test__audit.not_null_fct_gl_entries").fetchall()
    assert broken > 0
    assert failures == [("account_code", broken)]


def test_amounts_are_exact_decimals_never_double(marts: duckdb.DuckDBPyConnection) -> None:
    types = rows(
        marts,
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'marts'",
    )
    assert types
    floating = [t for t in types if t[2] in ("DOUBLE", "FLOAT", "REAL")]
    assert floating == []
    decimals = {(t, c): d for t, c, d in types if d.startswith("DECIMAL")}
    assert all(d == "DECIMAL(18,2)" for (_, c), d in decimals.items() if c != "vat_percentage")
    # The contract's money columns, wherever they occur, are DECIMAL(18,2).
    money = [(t, c, d) for t, c, d in types if c in MONEY_COLUMNS]
    assert len(money) > 40
    assert [m for m in money if m[2] != "DECIMAL(18,2)"] == []


def _planted(loaded_pipeline: Pipeline):
    return loaded_pipeline.simulator.environment.planted


def test_every_planted_problem_is_found_and_nothing_else(
    loaded_pipeline: Pipeline, marts: duckdb.DuckDBPyConnection
) -> None:
    planted = _planted(loaded_pipeline)
    for kind in ("suspense_receipts", "duplicate_invoices", "vat_mismatches"):
        assert getattr(planted, kind), kind
    assert planted.rounding_differences
    card = score(marts, planted, loaded_pipeline.simulator.environment.now().date())
    assert card.perfect, (card.counts, card.misses, card.false_alarms)


def test_corrections_balance_and_have_the_fientries_shape(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    lines = records(marts, "select * from corrections_proposed")
    assert lines
    by_id: dict[str, list[dict]] = {}
    for line in lines:
        by_id.setdefault(line["correction_id"], []).append(line)
    for correction_id, entry in by_id.items():
        assert len(correction_id) <= 32
        assert sum(r["debit"] for r in entry) == sum(r["credit"] for r in entry) > 0
        assert sorted(r["line_no"] for r in entry) == list(range(1, len(entry) + 1))
        assert len({(r["administration_id"], r["fiscal_year"], r["period"]) for r in entry}) == 1
        for r in entry:
            assert (r["debit"] > 0) != (r["credit"] > 0)
            assert r["journal_id"] == "80"
            assert r["entry_date"] == _data_as_of(marts)
            assert not (r["account_kind"] == "1" and r["account_code"] in ("1300", "1600"))
            if r["account_kind"] in ("2", "3"):
                assert r["invoice_id"]


def _data_as_of(marts: duckdb.DuckDBPyConnection):
    [(as_of,)] = rows(
        marts, "select max(entry_date) from fct_gl_entries where entry_date <= current_date"
    )
    return as_of


def test_suspense_clearing_settles_the_matched_invoice(
    loaded_pipeline: Pipeline, marts: duckdb.DuckDBPyConnection
) -> None:
    for p in _planted(loaded_pipeline).suspense_receipts:
        if p.invoice_id is None:  # nothing to clear it to: not proposed (see the scorecard)
            continue
        lines = records(
            marts,
            "select * from corrections_proposed where source_ref = ? order by line_no",
            f"{p.unit_id}/{p.entry_no}/{p.seq_no}",
        )
        assert [(r["account_kind"], r["account_code"], r["debit"], r["credit"], r["invoice_id"])
                for r in lines] == [
            ("1", "2999", p.amount, Decimal("0.00"), None),
            ("2", p.debtor_id, Decimal("0.00"), p.amount, p.invoice_id),
        ]  # fmt: skip


def test_correction_ids_are_deterministic(marts: duckdb.DuckDBPyConnection) -> None:
    for correction_id, correction_type, source_ref in rows(
        marts, "select distinct correction_id, correction_type, source_ref "
        "from corrections_proposed"
    ):  # fmt: skip
        if correction_type == "rounding_write_off":
            unit, party, invoice = source_ref.split("/", 2)
            keys = [unit, "debtor", party, invoice]
        else:
            keys = source_ref.split("/")
        digest = hashlib.md5("|".join([correction_type, *keys]).encode()).hexdigest()
        assert correction_id == "COR-" + digest[:20].upper()


def test_gl_matches_afas_to_the_cent(
    loaded_pipeline: Pipeline, marts: duckdb.DuckDBPyConnection
) -> None:
    afas = loaded_pipeline.simulator.environment.rows("Profit_Period_balance")
    expected = {
        (r["UnitId"], r["Year"], r["Period"], r["AccountNr"]): (r["Debit"], r["Credit"])
        for r in afas.iter_rows(named=True)
    }
    found = {
        (u, y, p, a): (d, c)
        for u, y, p, a, d, c in rows(
            marts,
            "select administration_id, fiscal_year, period, account_code, warehouse_debit, "
            "warehouse_credit from rec_gl_vs_afas",
        )
    }
    assert found == expected
    totals = rows(
        marts,
        "select sum(warehouse_debit), sum(afas_debit), sum(warehouse_credit), sum(afas_credit), "
        "sum(abs(difference)) from rec_gl_vs_afas",
    )[0]
    assert totals[0] == totals[1] == sum(afas["Debit"])
    assert totals[2] == totals[3] == sum(afas["Credit"])
    assert totals[4] == 0


def _result_accounts(pipeline: Pipeline) -> dict[int, str]:
    """Each administration's result account, as the build chose it (an intermediate view)."""
    with duckdb.connect(str(pipeline.data_dir / WAREHOUSE_FILE), read_only=True) as con:
        return dict(con.execute("select * from intermediate.int_result_accounts").fetchall())


def test_trial_balance_per_account_equals_the_afas_lines(
    loaded_pipeline: Pipeline, marts: duckdb.DuckDBPyConnection
) -> None:
    lines = loaded_pipeline.simulator.environment.rows("DWH_Financiele_mutaties")
    direct = lines.group_by("UnitId", "AccountNo").agg(
        pl.col("AmtDebit").sum(), pl.col("AmtCredit").sum()
    )
    expected = {
        (r["UnitId"], r["AccountNo"]): (r["AmtDebit"], r["AmtCredit"])
        for r in direct.iter_rows(named=True)
    }
    found = {
        (u, a): (d, c)
        for u, a, d, c in rows(
            marts,
            "select administration_id, account_code, sum(debit), sum(credit) "
            "from fct_trial_balance group by all having sum(debit) <> 0 or sum(credit) <> 0",
        )
    }
    assert found == expected
    # The last closing balance of a balance-sheet account is everything ever booked on it; the
    # result account's also holds the results of every year before the last (the year end).
    last_year = lines.group_by("UnitId").agg(pl.col("Year").max().alias("last_year"))
    earlier_results = dict(
        rows(
            marts,
            "select administration_id, sum(debit - credit) from fct_trial_balance "
            "where account_type = 'profit_and_loss' and fiscal_year < ("
            "select max(fiscal_year) from fct_trial_balance as latest "
            "where latest.administration_id = fct_trial_balance.administration_id) "
            "group by all",
        )
    )
    result_accounts = _result_accounts(loaded_pipeline)
    closing = rows(
        marts,
        "select administration_id, account_code, closing_balance from fct_trial_balance "
        "where account_type = 'balance_sheet' "
        "qualify row_number() over (partition by administration_id, account_code "
        "order by fiscal_year desc, period desc) = 1",
    )
    assert last_year.height == len(result_accounts)
    for unit, account, balance in closing:
        debit, credit = expected.get((unit, account), (0, 0))
        carried = earlier_results.get(unit, 0) if account == result_accounts[unit] else 0
        assert balance == debit - credit + carried, (unit, account)


def test_trial_balance_has_every_period_for_every_account(
    loaded_pipeline: Pipeline, marts: duckdb.DuckDBPyConnection
) -> None:
    # Every listed period and each year's period 0 (the opening), for every account with lines
    # and the administration's result account.
    environment = loaded_pipeline.simulator.environment
    periods = environment.rows("Profit_periods_per_administration")
    lines = environment.rows("DWH_Financiele_mutaties")
    result_accounts = _result_accounts(loaded_pipeline)
    for unit in periods["Unit"].unique().to_list():
        listed = periods.filter(pl.col("Unit") == unit)
        n_periods = listed.height + listed.filter(pl.col("Period") != 0)["Year"].n_unique()
        n_periods -= listed.filter(pl.col("Period") == 0).height
        accounts = set(lines.filter(pl.col("UnitId") == unit)["AccountNo"].to_list())
        accounts.add(result_accounts[unit])
        [(count,)] = rows(
            marts,
            "select count(*) from fct_trial_balance where administration_id = ?",
            unit,
        )
        assert count == n_periods * len(accounts)


def test_balance_sheet_balances_and_pnl_is_the_result(marts: duckdb.DuckDBPyConnection) -> None:
    # The accounts and the current year's result sum to zero; the statement's two totals agree.
    assert rows(
        marts,
        "select count(*) from (select sum(balance) as total from rpt_balance_sheet "
        "where line_type = 'account' or line_code = 'RES_LOPEND' "
        "group by administration_id, fiscal_year, period) where total <> 0",
    ) == [(0,)]
    assert rows(
        marts,
        "select count(*) from (select administration_id, fiscal_year, period from "
        "rpt_balance_sheet where line_type = 'line' group by all having "
        "sum(presented_amount) filter (where line_code = 'ACT') "
        "<> sum(presented_amount) filter (where line_code = 'PAS'))",
    ) == [(0,)]
    mismatches = rows(
        marts,
        """
        select pnl.administration_id, pnl.fiscal_year, pnl.period
        from (
            select administration_id, fiscal_year, period, sum(ytd_result) as result
            from rpt_profit_and_loss where line_type = 'account' group by all
        ) as pnl
        join rpt_profit_and_loss as statement
            on statement.administration_id = pnl.administration_id
            and statement.fiscal_year = pnl.fiscal_year
            and statement.period = pnl.period
            and statement.line_type = 'line'
            and statement.line_code = 'RES'
        join rpt_balance_sheet as bs
            on bs.administration_id = pnl.administration_id
            and bs.fiscal_year = pnl.fiscal_year
            and bs.period = pnl.period
            and bs.line_type = 'line'
            and bs.line_code = 'RES_LOPEND'
        where pnl.result <> bs.presented_amount or pnl.result <> statement.ytd_result
        """,
    )
    assert mismatches == []


def test_open_items_and_aging_match_afas(
    loaded_pipeline: Pipeline, marts: duckdb.DuckDBPyConnection
) -> None:
    environment = loaded_pipeline.simulator.environment
    for side, connector, party in (
        ("ar", "Profit_Debtor_Invoices", "DebtorId"),
        ("ap", "Profit_Creditor_Invoices", "CreditorId"),
    ):
        party_column = "debtor_id" if side == "ar" else "creditor_id"
        afas = {
            (r["UnitId"], r[party], r["InvoiceNr"]): (r["AmtInvoice"], r["Balance"])
            for r in environment.rows(connector).iter_rows(named=True)
        }
        found = {
            (u, p, i): (amount, open_amount)
            for u, p, i, amount, open_amount in rows(
                marts,
                f"select administration_id, {party_column}, invoice_id, invoice_amount, "
                f"open_amount from fct_{side}_open_items",
            )
        }
        assert found == afas, side
        [(total,)] = rows(marts, f"select sum(total_open) from rpt_{side}_aging")
        assert total == sum(balance for _, balance in afas.values())


@pytest.mark.parametrize(("seed", "vat_amount_sign"), [(11, "unsigned"), (23, "own_side")])
def test_other_seeds_and_vat_sign_conventions_score_perfectly(
    start_simulator: Callable[..., Simulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    vat_amount_sign: str,
) -> None:
    """With `loaded_pipeline` (seed 7) three seeds in all, both signs of VatAmt: every planted
    problem found with its difference, no false alarm, no correction for anything else."""
    # A quarter of the usual ledger: every kind of problem is still planted (asserted below).
    simulator = start_simulator(seed=seed, vat_amount_sign=vat_amount_sign, journal_lines=1_500)
    for name, value in pipeline_env(simulator, tmp_path / "data").items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.ephemeral() as instance:
        Pipeline(simulator, tmp_path / "data", instance).run_ok(HISTORY_START, NOW.date())
    planted = simulator.environment.planted
    kinds = (
        "suspense_receipts",
        "duplicate_invoices",
        "vat_mismatches",
        "rounding_differences",
        "intercompany_differences",
    )
    assert all(getattr(planted, kind) for kind in kinds)  # something to find, of every kind
    lines = simulator.environment.rows("DWH_Financiele_mutaties")
    with marts_connection(tmp_path / "data") as con:
        card = score(con, planted, simulator.environment.now().date())
        carriers = rows(
            con,
            "select cost_carrier, count(*) from fct_gl_entries where cost_carrier is not null "
            "group by all",
        )
    # This simulator serves the optional DimAx2: every cost carrier reaches the GL.
    assert dict(carriers) == dict(lines.group_by("DimAx2").len().drop_nulls().iter_rows())
    assert sum(len(found) for found in card.misses.values()) == 0, card.misses
    assert sum(len(found) for found in card.false_alarms.values()) == 0, card.false_alarms
