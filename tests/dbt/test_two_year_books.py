"""The reporting marts on two hand-written years across a year end (tests/books/two_years.py):
the opening balance of each year, the statements, the cash flow statement, the consolidation and
the intercompany check, row by row against a truth typed out by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.books import two_years
from tests.books.afas import Books
from tests.books.pipeline import Loaded, load_books
from tests.dbt.support import marts_connection, rows

END = date(2026, 4, 1)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    return load_books(
        two_years.two_year_books(), tmp_path_factory.mktemp("two_years") / "data", END
    )


@pytest.fixture(scope="module")
def marts(run: Loaded) -> Iterator[duckdb.DuckDBPyConnection]:
    with marts_connection(run.data_dir) as con:
        yield con


def test_each_year_opens_where_afas_opens_it(marts: duckdb.DuckDBPyConnection) -> None:
    # 2025 from its beginbalans lines in period 0; 2026 from what the year end carried forward,
    # which is AFAS's own period 0 account by account, the result on 0590.
    opening_2026 = {
        (u, a): b
        for u, a, b in rows(
            marts,
            "select administration_id, account_code, closing_balance from fct_trial_balance "
            "where fiscal_year = 2026 and period = 0 and closing_balance <> 0",
        )
    }
    assert opening_2026 == {k[:1] + k[2:]: Decimal(v) for k, v in two_years.AFAS_OPENINGS.items()}
    assert rows(
        marts,
        "select count(*) from rec_gl_vs_afas where status <> 'ok'",
    ) == [(0,)]
    [(opening_2025,)] = rows(
        marts,
        "select closing_balance from fct_trial_balance where administration_id = 1 "
        "and fiscal_year = 2025 and period = 0 and account_code = '1100'",
    )
    assert opening_2025 == Decimal("10000.00")
    # A P&L account starts the year at zero.
    assert rows(
        marts,
        "select opening_balance, closing_balance from fct_trial_balance "
        "where administration_id = 1 and fiscal_year = 2026 and period = 1 "
        "and account_code = '8000'",
    ) == [(Decimal("0.00"), Decimal("0.00"))]


def test_the_profit_and_loss_reads_as_a_statement(marts: duckdb.DuckDBPyConnection) -> None:
    found = {
        (u, line): ytd
        for u, line, ytd in rows(
            marts,
            "select administration_id, line_code, ytd_result from rpt_profit_and_loss "
            "where line_type = 'line' and fiscal_year = 2025 and period = 12",
        )
    }
    assert {k: found[k] for k in two_years.EXPECTED_PNL_2025} == two_years.EXPECTED_PNL_2025


def test_the_balance_sheet_balances_in_both_years(marts: duckdb.DuckDBPyConnection) -> None:
    found = {
        (u, y, p, line): amount
        for u, y, p, line, amount in rows(
            marts,
            "select administration_id, fiscal_year, period, line_code, presented_amount "
            "from rpt_balance_sheet where line_type = 'line'",
        )
    }
    expected = two_years.EXPECTED_BALANCE_SHEET
    assert {k: found[k] for k in expected} == expected
    unbalanced = [k for k, v in found.items() if k[3] == "ACT" and v != found[(*k[:3], "PAS")]]
    assert unbalanced == []
    assert len([k for k in found if k[3] == "ACT"]) == 2 * 2 * 13  # both years, periods 0..12


def test_the_cash_flow_statement_ties_opening_to_closing_cash(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    found = dict(
        rows(
            marts,
            "select line_code, ytd_amount from rpt_cash_flow "
            "where administration_id = 1 and fiscal_year = 2025 and period = 12",
        )
    )
    assert found == two_years.EXPECTED_CASH_FLOW_2025


def test_the_group_is_consolidated_without_intercompany(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    found = {
        (y, p, line): ytd
        for y, p, line, ytd in rows(
            marts,
            "select fiscal_year, period, line_code, ytd_result "
            "from rpt_consolidated_profit_and_loss where line_type = 'line'",
        )
    }
    expected = two_years.EXPECTED_CONSOLIDATED_PNL
    assert {k: found[k] for k in expected} == expected
    assert rows(
        marts,
        "select count(*) from (select fiscal_year, period from fct_consolidated_trial_balance "
        "group by all having sum(closing_balance) <> 0)",
    ) == [(0,)]


def test_intercompany_differences_are_findings(marts: duckdb.DuckDBPyConnection) -> None:
    found = set(
        rows(
            marts,
            "select administration_id, counterparty_administration_id, fiscal_year, period, "
            "balance, counterparty_balance, difference from rec_intercompany "
            "where status <> 'ok'",
        )
    )
    assert found == two_years.EXPECTED_INTERCOMPANY
    assert rows(
        marts,
        "select findings, severity from rpt_reconciliation_status "
        "where check_name = 'intercompany' and administration_id = 1 and findings > 0",
    ) == [(1, "warn")]


def test_an_account_no_range_places_is_a_finding_and_still_counts(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    assert rows(
        marts,
        "select administration_id, line_code, period_result, ytd_result from rpt_profit_and_loss "
        "where account_code = '5100' and fiscal_year = 2026 and period = 3",
    ) == [(2, "NI_PL", Decimal("-40.00"), Decimal("-40.00"))]
    [(result,)] = rows(
        marts,
        "select ytd_result from rpt_profit_and_loss where administration_id = 2 "
        "and fiscal_year = 2026 and period = 3 and line_type = 'line' and line_code = 'RES'",
    )
    assert result == Decimal("-340.00")  # the fee 300.00 and the 40.00 not placed


def test_the_unmapped_account_fails_its_finding(run: Loaded) -> None:
    [evaluation] = [
        e
        for e in run.result.get_asset_check_evaluations()
        if e.check_name == "finding_unmapped_accounts"
    ]
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN


def test_the_gl_runs_each_account_balance_from_its_opening(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    # 2026 has no beginbalans entry: the bank's running balance starts from AFAS's period 0.
    # A line's period opening is the balance before its period's first line.
    assert rows(
        marts,
        "select fiscal_year, period, entry_no, period_opening_balance, running_balance "
        "from fct_gl_entries where administration_id = 1 and account_code = '1100' order by all",
    ) == [
        (2025, 0, 1, Decimal("0.00"), Decimal("10000.00")),
        (2025, 3, 3, Decimal("10000.00"), Decimal("11210.00")),
        (2025, 10, 6, Decimal("11210.00"), Decimal("8790.00")),
        (2025, 12, 8, Decimal("8790.00"), Decimal("8390.00")),
        (2026, 3, 11, Decimal("8390.00"), Decimal("10810.00")),
        (2026, 3, 13, Decimal("8390.00"), Decimal("11110.00")),
    ]
    assert rows(
        marts,
        "select administration_name, journal_name, account_name from fct_gl_entries "
        "where administration_id = 2 and entry_no = 7 and account_code = '1750'",
    ) == [("Boekhoud Handel B.V.", "Bank", "R/C Boekhoud Holding B.V.")]


def test_the_profit_and_loss_per_cost_centre_adds_up_to_the_statement(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    assert rows(
        marts,
        "select fiscal_year, period, cost_centre, line_code, account_code, period_result, "
        "ytd_result from rpt_profit_and_loss_by_cost_centre "
        "where administration_id = 1 and cost_centre is not null and period_result <> 0 "
        "order by all",
    ) == [
        (2025, 6, "200", "AFS", "4600", Decimal("-500.00"), Decimal("-500.00")),
        (2025, 12, "100", "OBK", "4100", Decimal("-400.00"), Decimal("-400.00")),
        (2026, 3, "200", "AFS", "4600", Decimal("-250.00"), Decimal("-250.00")),
    ]
    # Every period has its year to date, also where the cost centre booked nothing.
    assert rows(
        marts,
        "select fiscal_year, period, cost_centre, ytd_result "
        "from rpt_profit_and_loss_by_cost_centre where administration_id = 1 "
        "and account_code = '4600' and period in (5, 7, 12) order by all",
    ) == [
        (2025, 5, "200", Decimal("0.00")),
        (2025, 7, "200", Decimal("-500.00")),
        (2025, 12, "200", Decimal("-500.00")),
        (2026, 5, "200", Decimal("-250.00")),
        (2026, 7, "200", Decimal("-250.00")),
        (2026, 12, "200", Decimal("-250.00")),
    ]
    # Revenue carries no cost centre: its own group, so the split adds up to the statement
    # (2026: revenue 2,000.00 and fee 300.00, depreciation 250.00).
    for query in (
        "select sum(period_result) from rpt_profit_and_loss_by_cost_centre "
        "where administration_id = 1 and fiscal_year = 2026",
        "select sum(period_result) from rpt_profit_and_loss where administration_id = 1 "
        "and fiscal_year = 2026 and line_type = 'line' and line_code = 'RES'",
    ):
        assert rows(marts, query) == [(Decimal("2050.00"),)]


def _without_beginbalans_lines() -> Books:
    """The books with the 2025 opening as AFAS's own period 0 instead of a beginbalans entry,
    and an empty year 2024 in AFAS's period list before it."""
    books = two_years.two_year_books()
    openings = {
        (1, 2025, "1100"): "10000.00",
        (1, 2025, "0200"): "5000.00",
        (1, 2025, "0500"): "-15000.00",
        (2, 2025, "1100"): "2000.00",
        (2, 2025, "0500"): "-2000.00",
    }
    return replace(
        books,
        years=(2024, *books.years),
        entries=[e for e in books.entries if e.period != 0],
        afas_openings={**books.afas_openings, **openings},
    )


@pytest.mark.parametrize(
    "books",
    [
        pytest.param(
            lambda: replace(two_years.two_year_books(), years=(2025,)), id="2026-unlisted"
        ),
        pytest.param(_without_beginbalans_lines, id="afas-opening-after-an-empty-year"),
    ],
)
def test_the_years_open_alike_whatever_afas_lists(
    books: Callable[[], Books], marts: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A year missing from AFAS's period list still opens from the year before; an empty year
    listed before the first booked one does not hide AFAS's opening of that first year."""
    query = (
        "select administration_id, account_code, closing_balance from fct_trial_balance "
        "where fiscal_year = 2026 and period = 3 and closing_balance <> 0 order by all"
    )
    load_books(books(), tmp_path / "data", END)
    with marts_connection(tmp_path / "data") as other:
        assert rows(other, query) == rows(marts, query)
