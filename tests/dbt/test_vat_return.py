"""The Dutch VAT return and the ICP listing: every rubriek of a hand-written quarter against a
truth typed out by hand (tests/books/vat_quarter.py), and on the shared simulator the return's
identity (5g is the movement on the VAT accounts) in every return period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from afas_pipeline.simulator import chart
from tests.books import vat_quarter
from tests.books.pipeline import Loaded, load_books
from tests.conftest import Pipeline
from tests.dbt.support import marts_connection, rows

END = date(2026, 7, 1)
RUBRIEKEN = list(vat_quarter.EXPECTED_Q1)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    return load_books(vat_quarter.vat_quarter_books(), tmp_path_factory.mktemp("vat") / "data", END)


@pytest.fixture(scope="module")
def marts(run: Loaded) -> Iterator[duckdb.DuckDBPyConnection]:
    with marts_connection(run.data_dir) as con:
        yield con


def _return(marts: duckdb.DuckDBPyConnection, quarter: int, suffix: str = "") -> dict[str, tuple]:
    return {
        rubriek: (base, vat)
        for rubriek, base, vat in rows(
            marts,
            f"select rubriek, base_amount{suffix}, vat_amount{suffix} from rpt_vat_return "
            "where administration_id = 1 and fiscal_year = 2026 and return_period = ? "
            "order by sort_order",
            quarter,
        )
    }


def test_every_rubriek_of_the_quarter_is_right(marts: duckdb.DuckDBPyConnection) -> None:
    found = _return(marts, 1)
    assert list(found) == RUBRIEKEN  # every rubriek, in the form's order
    assert found == vat_quarter.EXPECTED_Q1


def test_the_return_as_filed_is_rounded_in_the_taxpayers_favour(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    assert _return(marts, 1, "_rounded") == vat_quarter.EXPECTED_Q1_ROUNDED


def test_the_vat_summary_takes_the_reverse_charge_payable_out_of_the_base(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    # The VAT owed on 1530 is neither base nor the code's booked VAT: the base is the net.
    assert rows(
        marts,
        "select vat_code, taxable_base, vat_amount, vat_difference from rpt_vat_summary "
        "where vat_code in ('8', '11') order by vat_code",
    ) == [
        ("11", Decimal("300.00"), Decimal("63.00"), Decimal("0.00")),
        ("8", Decimal("1000.00"), Decimal("210.00"), Decimal("0.00")),
    ]


def test_each_quarter_holds_only_its_own_periods(marts: duckdb.DuckDBPyConnection) -> None:
    zero = {
        r: (None if base is None else Decimal("0.00"), None if vat is None else Decimal("0.00"))
        for r, (base, vat) in vat_quarter.EXPECTED_Q1.items()
    }
    assert _return(marts, 2) == zero | vat_quarter.EXPECTED_Q2_NON_ZERO
    assert _return(marts, 3) == zero
    assert _return(marts, 4) == zero
    assert rows(
        marts,
        "select distinct return_period_type, return_period, period_from, period_to, date_from, "
        "date_to from rpt_vat_return where return_period = 1",
    ) == [("quarter", 1, 1, 3, date(2026, 1, 1), date(2026, 3, 31))]


def test_the_icp_listing_names_each_customer_and_the_one_without_a_number(
    marts: duckdb.DuckDBPyConnection,
) -> None:
    found = set(
        rows(
            marts,
            "select vat_number, country_code, debtor_id, listing_status, icp_amount "
            "from rpt_icp_listing where fiscal_year = 2026 and return_period = 1",
        )
    )
    assert found == vat_quarter.EXPECTED_ICP_Q1
    assert rows(marts, "select count(*) from rpt_icp_listing where return_period <> 1") == [(0,)]


def test_the_return_checks_pass_and_the_missing_vat_number_is_a_finding(run: Loaded) -> None:
    evaluations = {e.check_name: e for e in run.result.get_asset_check_evaluations()}
    assert evaluations["assert_vat_return_equals_vat_accounts"].passed
    assert evaluations["assert_icp_listing_equals_rubriek_3b"].passed
    assert evaluations["finding_unmapped_vat_codes"].passed  # every code of the books mapped
    missing = evaluations["finding_icp_without_vat_number"]
    assert not missing.passed
    assert missing.severity == dg.AssetCheckSeverity.WARN


# -- on the shared simulator -------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulator_marts(loaded_pipeline: Pipeline) -> Iterator[duckdb.DuckDBPyConnection]:
    with marts_connection(loaded_pipeline.data_dir) as con:
        yield con


def test_5g_is_the_movement_on_the_vat_accounts_in_every_return_period(
    simulator_marts: duckdb.DuckDBPyConnection,
) -> None:
    # The simulator's own VAT accounts (chart.VAT_ACCOUNTS, 1530 the reverse-charge payable
    # among them), credit - debit of the lines with a VAT code: a line without one settles VAT.
    movement = dict(
        (key[:3], key[3])
        for key in rows(
            simulator_marts,
            "select administration_id, fiscal_year, (period - 1) // 3 + 1, "
            "sum(credit - debit) from fct_gl_entries where vat_code is not null "
            "and period > 0 and list_contains(?, account_code) group by all",
            sorted(chart.VAT_ACCOUNTS),
        )
    )
    declared = {
        (u, y, q): total
        for u, y, q, total in rows(
            simulator_marts,
            "select administration_id, fiscal_year, return_period, vat_amount "
            "from rpt_vat_return where rubriek = '5g'",
        )
    }
    assert len(movement) >= 5 * 3  # administrations x the quarters of the loaded history
    assert {k: declared[k] for k in movement} == movement
    assert all(v == 0 for k, v in declared.items() if k not in movement)
    # Every code of the simulator is placed: nothing niet ingedeeld.
    assert rows(
        simulator_marts,
        "select count(*) from rpt_vat_return where rubriek = 'NI' "
        "and (base_amount <> 0 or vat_amount <> 0)",
    ) == [(0,)]


def test_the_simulator_supplies_to_the_eu_and_reverse_charges(
    simulator_marts: duckdb.DuckDBPyConnection,
) -> None:
    totals = dict(
        (r, (b, v))
        for r, b, v in rows(
            simulator_marts,
            "select rubriek, sum(base_amount), sum(vat_amount) from rpt_vat_return "
            "where rubriek in ('1a', '3b', '4a', '4b') group by all",
        )
    )
    assert all(base > 0 for base, _ in totals.values()), totals
    assert totals["4a"][1] > 0  # reverse-charge VAT owed
    assert totals["4b"][1] > 0
    # Reverse charge is owed and deducted alike: 21 % of the base, per line rounded.
    for rubriek in ("4a", "4b"):
        base, vat = totals[rubriek]
        assert abs(vat - base * Decimal("0.21")) < base / 100
    [(listed, declared)] = rows(
        simulator_marts,
        "select (select sum(icp_amount) from rpt_icp_listing), "
        "(select sum(base_amount) from rpt_vat_return where rubriek = '3b')",
    )
    assert listed == declared
