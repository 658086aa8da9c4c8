"""Fiscal years as AFAS keeps them: the first year's opening balance (beginbalans) booked in
period 0, and period 0 of every later year computed by the year end (jaarafsluiting), the
result carried to the result account. Recomputed here from the journal lines and the chart."""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest

from afas_pipeline.simulator import chart
from afas_pipeline.simulator.environment import Environment, FiEntryRejected, SimulatorConfig

# The pipeline tests' clock (two years: 2025 and 2026) and one with two year ends (2024-2026).
CLOCKS = (datetime(2026, 11, 20, 14, 30), datetime(2026, 3, 10, 14, 30))
SEEDS = (42, 7)
KEY = ["UnitId", "Year", "Period", "AccountNr"]


@pytest.fixture(
    scope="module",
    params=[(seed, now) for seed in SEEDS for now in CLOCKS],
    ids=[f"seed{seed}-{now:%Y%m%d}" for seed in SEEDS for now in CLOCKS],
)
def env(request: pytest.FixtureRequest) -> Environment:
    seed, now = request.param
    return Environment(SimulatorConfig(seed=seed, journal_lines=6_000, now=now))


def opening_balances_from_lines(env: Environment) -> pl.DataFrame:
    """Period 0 of each year after the first: per balance-sheet account its balance at the end
    of the year before (every line up to then), the P&L accounts' balances added to 0590;
    zero balances have no row."""
    accounts = env.rows("Profit_Accounts").select(pl.col("Account").alias("AccountNo"), "Type")
    lines = env.rows("DWH_Financiele_mutaties").join(accounts, on="AccountNo")
    closing = []
    for year in range(lines["Year"].min(), env.now().year):
        up_to = lines.filter(pl.col("Year") <= year).with_columns(
            pl.when(pl.col("Type") == "W")
            .then(pl.lit("0590"))
            .otherwise(pl.col("AccountNo"))
            .alias("AccountNr")
        )
        closing.append(
            up_to.group_by("UnitId", "AccountNr")
            .agg((pl.col("AmtDebit") - pl.col("AmtCredit")).sum().alias("Balance"))
            .with_columns(
                pl.lit(year + 1, pl.Int64).alias("Year"), pl.lit(0, pl.Int64).alias("Period")
            )
        )
    return pl.concat(closing).filter(pl.col("Balance") != 0)


def test_the_first_year_opens_with_a_beginbalans_in_period_0(env: Environment) -> None:
    """One entry per administration in the beginbalans journal, period 0 of the first year,
    dated 1 January, booked weeks into the history; balance-sheet accounts only, its contra
    equity: no opening-balance suspense account (tussenrekening) is left over."""
    lines = env.rows("DWH_Financiele_mutaties")
    first_year = lines["Year"].min()
    # The default 456 days span a year end (two at the March clock), with business in each.
    assert set(lines["Year"]) == set(range(first_year, env.now().year + 1))
    assert first_year < env.now().year
    opening = lines.filter(pl.col("Period") == 0)
    per_unit = opening.group_by("UnitId").agg(
        pl.col("EntryNo").unique(),
        pl.col("Created").min(),
        pl.col("AccountNo").unique(),
        pl.col("DebtorId").is_not_null().sum().alias("debtor_items"),
        pl.col("CreditorId").is_not_null().sum().alias("creditor_items"),
    )
    assert per_unit.height == 3
    assert (per_unit["EntryNo"].list.len() == 1).all()
    assert set(opening["JournalId"]) == {"70"}
    assert set(opening.select("Year", "EntryDate").iter_rows()) == {
        (first_year, date(first_year, 1, 1))
    }
    history_start = lines.filter(pl.col("Period") > 0)["EntryDate"].min()
    assert (per_unit["debtor_items"] >= 2).all()
    assert (per_unit["creditor_items"] >= 2).all()
    for unit, (entry_no,), created, accounts, *_ in per_unit.iter_rows():
        assert created.date() > history_start  # created weeks into the history
        earlier = lines.filter((pl.col("UnitId") == unit) & (pl.col("EntryNo") < entry_no))
        assert earlier["EntryNo"].n_unique() >= 10
        assert {"0200", "0210", "1000", "1100", "0500", "0550"} <= set(accounts)
    types = dict(env.rows("Profit_Accounts").select("Account", "Type").iter_rows())
    assert {types[a] for a in opening["AccountNo"]} == {"B"}
    assert lines.filter(pl.col("AccountNo") == chart.OPENING_BALANCE).is_empty()
    # Assets and equity are on their usual sides.
    sides = opening.group_by("UnitId", "AccountNo").agg(
        (pl.col("AmtDebit") - pl.col("AmtCredit")).sum().alias("net")
    )
    debit = sides.filter(pl.col("AccountNo").is_in(["0200", "1000", "1100", "1300", "1310"]))
    credit = sides.filter(pl.col("AccountNo").is_in(["0210", "0500", "0550", "1600", "1610"]))
    assert (debit["net"] > 0).all()
    assert (credit["net"] < 0).all()


def test_the_first_years_period_0_is_the_sum_of_its_lines(env: Environment) -> None:
    lines = env.rows("DWH_Financiele_mutaties")
    first_year = lines["Year"].min()
    from_lines = (
        lines.filter(pl.col("Period") == 0)
        .group_by("UnitId", "Year", "Period", pl.col("AccountNo").alias("AccountNr"))
        .agg(pl.col("AmtDebit").sum().alias("Debit"), pl.col("AmtCredit").sum().alias("Credit"))
    )
    reported = env.rows("Profit_Period_balance").filter(
        (pl.col("Period") == 0) & (pl.col("Year") == first_year)
    )
    assert set(reported.select(*KEY, "Debit", "Credit").iter_rows()) == set(
        from_lines.select(*KEY, "Debit", "Credit").iter_rows()
    )


def test_period_0_of_a_later_year_is_the_closing_balance_with_the_result_on_0590(
    env: Environment,
) -> None:
    reported = env.rows("Profit_Period_balance")
    first_year = reported["Year"].min()
    later = reported.filter((pl.col("Period") == 0) & (pl.col("Year") > first_year))
    expected = opening_balances_from_lines(env)
    assert set(later.select(*KEY, "Balance").iter_rows()) == set(
        expected.select(*KEY, "Balance").iter_rows()
    )
    # A debit balance shows as Debit, a credit balance as Credit.
    assert (later["Debit"] == later["Balance"].clip(lower_bound=0)).all()
    assert (later["Credit"] == (-later["Balance"]).clip(lower_bound=0)).all()
    # Every later year (2026, and 2025 too at the March clock) opens with a result on 0590.
    years = set(range(first_year + 1, env.now().year + 1))
    assert set(later.filter(pl.col("AccountNr") == "0590")["Year"]) == years
    assert set(later["UnitId"]) == {1, 2, 3}


def test_period_0_holds_no_profit_and_loss_account_and_balances(env: Environment) -> None:
    pl_accounts = env.rows("Profit_Accounts").filter(pl.col("Type") == "W")["Account"]
    period_0 = env.rows("Profit_Period_balance").filter(pl.col("Period") == 0)
    assert period_0.filter(pl.col("AccountNr").is_in(pl_accounts.implode())).is_empty()
    per_year = period_0.group_by("UnitId", "Year").agg(pl.col("Balance").sum())
    assert per_year.height == 3 * len(set(period_0["Year"]))
    assert (per_year["Balance"] == Decimal("0.00")).all()


def test_each_years_period_0_and_movements_make_the_next_years_period_0(
    env: Environment,
) -> None:
    """From Profit_Period_balance alone: a year's period 0 plus its periods 1-12, the P&L
    accounts' totals moved to 0590, is the next year's period 0, for every year that ended."""
    pb = env.rows("Profit_Period_balance")
    types = dict(env.rows("Profit_Accounts").select("Account", "Type").iter_rows())
    to_result = (
        pl.when(pl.col("AccountNr").replace_strict(types) == "W")
        .then(pl.lit("0590"))
        .otherwise(pl.col("AccountNr"))
    )
    for year in range(pb["Year"].min(), env.now().year):
        closing = (
            pb.filter(pl.col("Year") == year)
            .group_by("UnitId", to_result.alias("AccountNr"))
            .agg(pl.col("Balance").sum())
            .filter(pl.col("Balance") != 0)
        )
        following = pb.filter((pl.col("Year") == year + 1) & (pl.col("Period") == 0))
        assert set(closing.iter_rows()) == set(
            following.select("UnitId", "AccountNr", "Balance").iter_rows()
        )
        assert closing.filter(pl.col("AccountNr") == "0590").height == 3


def test_periods_include_period_0_of_every_year(env: Environment) -> None:
    periods = env.rows("Profit_periods_per_administration")
    zero = periods.filter(pl.col("Period") == 0)
    assert zero.height == 3 * periods["Year"].n_unique()
    assert (zero["DateFrom"] == zero["DateTo"]).all()
    assert (zero["DateFrom"].dt.strftime("%m-%d") == "01-01").all()
    assert (zero["DateFrom"].dt.year() == zero["Year"]).all()
    first = periods.filter(pl.col("Period") == 1).select("Unit", "Year", "Blocked")
    assert (
        zero.join(first, on=["Unit", "Year"])
        .filter(pl.col("Blocked") != pl.col("Blocked_right"))
        .is_empty()
    )


# ---- a late change, and FiEntries into period 0 ----


def _payload(year: int, period: int, journal: str, lines: list[tuple], unit: int = 1) -> dict:
    """A FiEntries body; `lines` are (account, debit, credit, date)."""
    elements = [
        {"Fields": {"VaAs": "1", "AcNr": acc, "AmDe": d, "AmCr": cr, "EnDa": day, "BpDa": day}}
        for acc, d, cr, day in lines
    ]
    header = {"Year": year, "Peri": period, "UnId": unit, "JoCo": journal}
    return {
        "FiEntryPar": {
            "Element": {"Fields": header, "Objects": [{"FiEntries": {"Element": elements}}]}
        }
    }


def _period_0(env: Environment, unit: int, year: int) -> dict[str, Decimal]:
    rows = env.rows("Profit_Period_balance").filter(
        (pl.col("UnitId") == unit) & (pl.col("Year") == year) & (pl.col("Period") == 0)
    )
    return dict(rows.select("AccountNr", "Balance").iter_rows())


def test_a_late_change_to_last_year_moves_this_years_period_0() -> None:
    """In January the holding still books into December: a cost paid from the bank lowers the
    bank's and the result's opening balance of the new year."""
    env = Environment(SimulatorConfig(journal_lines=3_000, now=datetime(2026, 1, 20, 10)))
    before = _period_0(env, 1, 2026)
    day = "2025-12-31"
    lines = [("4500", "250.00", "0", day), ("1100", "0", "250.00", day)]
    env.post_fi_entry(_payload(2025, 12, "80", lines))
    after = _period_0(env, 1, 2026)
    assert after["1100"] == before["1100"] - Decimal("250.00")
    assert after["0590"] == before["0590"] + Decimal("250.00")
    assert {k: v for k, v in after.items() if k not in ("1100", "0590")} == {
        k: v for k, v in before.items() if k not in ("1100", "0590")
    }


@pytest.fixture
def new_books() -> Environment:
    """Books that started this year: period 0 of the first year is still open."""
    return Environment(
        SimulatorConfig(journal_lines=1_000, now=datetime(2026, 2, 10, 10), history_days=30)
    )


OPENING = [("1100", "1000.00", "0", "2026-01-01"), ("0550", "0", "1000.00", "2026-01-01")]


def test_the_beginbalans_journal_books_into_the_first_years_period_0(
    new_books: Environment,
) -> None:
    before = _period_0(new_books, 1, 2026)
    result = new_books.post_fi_entry(_payload(2026, 0, "70", OPENING))
    entry = new_books.rows("DWH_Financiele_mutaties").filter(
        (pl.col("UnitId") == 1) & (pl.col("EntryNo") == int(result["EnNo"]))
    )
    assert set(entry.select("Year", "Period").iter_rows()) == {(2026, 0)}
    after = _period_0(new_books, 1, 2026)
    assert after["1100"] == before["1100"] + Decimal("1000.00")
    assert after["0550"] == before["0550"] - Decimal("1000.00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"journal": "80"}, r"Period 0 \(beginbalans\) can only be booked in journal 70"),
        ({"account": "4500"}, "Account 4500 is a profit and loss account"),
    ],
)
def test_period_0_refuses_other_journals_and_profit_and_loss(
    new_books: Environment, change: dict, message: str
) -> None:
    lines = copy.deepcopy(OPENING)
    lines[1] = (change.get("account", "0550"), *lines[1][1:])
    count = new_books.rows("DWH_Financiele_mutaties").height
    with pytest.raises(FiEntryRejected, match=message):
        new_books.post_fi_entry(_payload(2026, 0, change.get("journal", "70"), lines))
    assert new_books.rows("DWH_Financiele_mutaties").height == count


def test_period_0_of_a_later_year_is_the_year_ends() -> None:
    env = Environment(SimulatorConfig(journal_lines=1_000, now=datetime(2026, 2, 10, 10)))
    lines = [(acc, d, cr, "2026-01-01") for acc, d, cr, _ in OPENING]
    with pytest.raises(FiEntryRejected, match="period 0 of the year 2026 holds the opening"):
        env.post_fi_entry(_payload(2026, 0, "70", lines))


def test_a_new_year_opens_with_its_period_0_at_midnight() -> None:
    """Before any line of the new year is booked, AFAS already reports its period 0."""
    env = Environment(SimulatorConfig(journal_lines=1_000, now=datetime(2025, 12, 31, 23, 59, 59)))
    assert _period_0(env, 1, 2026) == {}
    lines = env.rows("DWH_Financiele_mutaties").height
    env.advance(to=datetime(2026, 1, 1, 0, 30))
    assert env.rows("DWH_Financiele_mutaties").height == lines
    assert _period_0(env, 1, 2026)["0590"] != 0
