"""Intercompany: the holding's management fees mirrored in its subsidiaries, the quarterly
settlements, and the planted differences (`Environment.planted.intercompany_differences`),
recomputed here from the journal lines alone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import polars as pl
import pytest

from afas_pipeline.simulator.environment import Environment, SimulatorConfig

NOW = datetime(2026, 11, 20, 14, 30)
SEEDS = (42, 7, 2024)
# (administration, its account with the other, the other, the other's account with it): what
# the consolidation's seed of intercompany accounts says.
PAIRS = pl.DataFrame(
    {
        "UnitId": [1, 1],
        "AccountNo": ["1410", "1420"],
        "other": [2, 3],
        "other_account": ["1750"] * 2,
    }
)
FEE = r"^Management fee (\d{2})-(\d{4}) "


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def env(request: pytest.FixtureRequest) -> Environment:
    return Environment(SimulatorConfig(seed=request.param, journal_lines=6_000, now=NOW))


def _periods(env: Environment, lines: pl.DataFrame, *, with_0: bool = False) -> pl.DataFrame:
    """Every period 1-12 (and 0, if asked) from the first year up to the current period."""
    now = env.now()
    return pl.DataFrame(
        [
            (y, p)
            for y in range(lines["Year"].min(), now.year + 1)
            for p in range(0 if with_0 else 1, 13)
            if (y, p) <= (now.year, now.month)
        ],
        schema={"Year": pl.Int64, "Period": pl.Int64},
        orient="row",
    )


def differences_from_rows(env: Environment) -> set[tuple]:
    """Per pair and period end: the cumulative balance (debit - credit, from the first period
    0 on) of each side's account with the other, where the two do not add up to zero."""
    lines = env.rows("DWH_Financiele_mutaties")
    periods = _periods(env, lines, with_0=True)
    key = ["UnitId", "AccountNo", "Year", "Period"]

    def cumulative(unit: str, account: str) -> pl.DataFrame:
        accounts = PAIRS.select(pl.col(unit).alias("UnitId"), pl.col(account).alias("AccountNo"))
        moved = (
            lines.join(accounts, on=["UnitId", "AccountNo"])
            .group_by(key)
            .agg((pl.col("AmtDebit") - pl.col("AmtCredit")).sum().alias("moved"))
        )
        return (
            accounts.join(periods, how="cross")
            .join(moved, on=key, how="left")
            .sort("Year", "Period")
            .with_columns(
                pl.col("moved").fill_null(0).cum_sum().over("UnitId", "AccountNo").alias("balance")
            )
            .rename({"UnitId": unit, "AccountNo": account})
            .drop("moved")
        )

    own = cumulative("UnitId", "AccountNo")
    other = cumulative("other", "other_account").rename({"balance": "other_balance"})
    both = (
        PAIRS.join(own, on=["UnitId", "AccountNo"])
        .join(other, on=["other", "other_account", "Year", "Period"])
        .with_columns((pl.col("balance") + pl.col("other_balance")).alias("difference"))
        .filter((pl.col("difference") != 0) & (pl.col("Period") > 0))
    )
    return set(
        both.select(
            "UnitId", "other", "AccountNo", "other_account", "Year", "Period", "balance",
            "other_balance", "difference",
        ).iter_rows()
    )  # fmt: skip


def _truth(env: Environment) -> set[tuple]:
    return {
        (d.unit_id, d.counterparty_unit_id, d.account, d.counterparty_account, d.year, d.period,
         d.balance, d.counterparty_balance, d.difference)
        for d in env.planted.intercompany_differences
    }  # fmt: skip


def test_intercompany_differences_are_what_the_rows_show(env: Environment) -> None:
    truth = _truth(env)
    assert truth == differences_from_rows(env)
    assert {(d[1], d[4]) for d in truth} >= {(2, 2026)}  # differences in 2026, and more
    assert len(truth) >= 3


def _fees(lines: pl.DataFrame) -> pl.DataFrame:
    """The fee entries of journal 85 on the current accounts: who booked which month's fee
    for which subsidiary, when (Year, Period) and for how much."""
    subsidiary = pl.when(pl.col("UnitId") == 1).then(pl.col("other")).otherwise(pl.col("UnitId"))
    return (
        lines.filter(
            (pl.col("JournalId") == "85") & pl.col("AccountNo").is_in(["1410", "1420", "1750"])
        )
        .with_columns(
            pl.col("Description").str.extract(FEE, 1).cast(pl.Int64).alias("month"),
            pl.col("Description").str.extract(FEE, 2).cast(pl.Int64).alias("fee_year"),
            pl.col("AccountNo").replace_strict({"1410": 2, "1420": 3, "1750": 1}).alias("other"),
            (pl.col("AmtDebit") + pl.col("AmtCredit")).alias("gross"),
        )
        .with_columns(subsidiary.alias("subsidiary"))
    )


def test_each_planted_kind_once_and_the_rest_mirrors(env: Environment) -> None:
    """Every monthly fee of the holding is booked by its subsidiary in the same period for the
    same amount, except three: one never booked, one booked in the next period, one booked
    with another amount. The differences over time change exactly where those are."""
    fees = _fees(env.rows("DWH_Financiele_mutaties"))
    key = ["subsidiary", "fee_year", "month"]
    holding = fees.filter(pl.col("UnitId") == 1).select(*key, "Year", "Period", "gross")
    booked = fees.filter(pl.col("UnitId") != 1).select(*key, "Year", "Period", "gross")
    assert holding.height >= 2 * 14  # every month of the history, both subsidiaries
    assert holding.select("fee_year", "month").rows() == holding.select("Year", "Period").rows()
    joined = holding.join(booked, on=key, how="left", suffix="_sub")
    missing = joined.filter(pl.col("gross_sub").is_null())
    late = joined.filter(
        pl.col("gross_sub").is_not_null()
        & ((pl.col("Year_sub") != pl.col("Year")) | (pl.col("Period_sub") != pl.col("Period")))
    )
    other_amount = joined.filter(pl.col("gross_sub") != pl.col("gross"))
    assert (missing.height, late.height, other_amount.height) == (1, 1, 1)
    assert (late["Period_sub"] == late["Period"] % 12 + 1).all()
    # Where the difference of a pair changes from one period end to the next, and by how much.
    expected = {}
    for row in missing.iter_rows(named=True):
        expected[(row["subsidiary"], row["Year"], row["Period"])] = row["gross"]
    for row in late.iter_rows(named=True):
        expected[(row["subsidiary"], row["Year"], row["Period"])] = row["gross"]
        expected[(row["subsidiary"], row["Year_sub"], row["Period_sub"])] = -row["gross"]
    for row in other_amount.iter_rows(named=True):
        expected[(row["subsidiary"], row["Year"], row["Period"])] = row["gross"] - row["gross_sub"]
    assert _steps(env) == expected


def _steps(env: Environment) -> dict[tuple[int, int, int], Decimal]:
    """(subsidiary, year, period): how much the pair's difference changed at that period end
    against the one before (none in the current period here: its fees are booked in both)."""
    by_period: dict[tuple[int, int, int], Decimal] = {
        (d.counterparty_unit_id, d.year, d.period): d.difference
        for d in env.planted.intercompany_differences
    }
    periods = _periods(env, env.rows("DWH_Financiele_mutaties")).rows()
    steps = {}
    for subsidiary in (2, 3):
        before = Decimal("0.00")
        for year, period in periods:
            now = by_period.get((subsidiary, year, period), Decimal("0.00"))
            if now != before:
                steps[(subsidiary, year, period)] = now - before
            before = now
    return steps


def test_fees_carry_vat_and_settle_quarterly(env: Environment) -> None:
    """The holding charges 21 % VAT (code 1 on 8200, 1510), the subsidiary reclaims it (code 5
    on 4800, 1500); each quarter the subsidiary pays its balance, booked in both the same day."""
    lines = env.rows("DWH_Financiele_mutaties")
    fees = lines.filter(pl.col("JournalId") == "85")
    codes = fees.group_by("UnitId", "AccountNo").agg(pl.col("VatCode").unique())
    assert {(u, a, tuple(v)) for u, a, v in codes.iter_rows()} == {
        (1, "1410", (None,)), (1, "1420", (None,)), (1, "8200", ("1",)), (1, "1510", ("1",)),
        (2, "1750", (None,)), (2, "4800", ("5",)), (2, "1500", ("5",)),
        (3, "1750", (None,)), (3, "4800", ("5",)), (3, "1500", ("5",)),
    }  # fmt: skip
    revenue = fees.filter(pl.col("VatAmt").is_not_null())
    assert (revenue["VatAmt"] == ((revenue["AmtDebit"] + revenue["AmtCredit"]) * Decimal("0.21"))
            .round(2)).all()  # fmt: skip
    bank = lines.filter(
        (pl.col("JournalId") == "50") & pl.col("AccountNo").is_in(["1410", "1420", "1750"])
    ).with_columns(
        pl.when(pl.col("UnitId") == 1)
        .then(pl.col("AccountNo").replace_strict({"1410": 2, "1420": 3}, default=None))
        .otherwise(pl.col("UnitId"))
        .alias("subsidiary")
    )
    paid = bank.group_by("subsidiary", "EntryDate").agg(
        pl.col("AmtDebit").filter(pl.col("UnitId") != 1).sum().alias("paid"),
        pl.col("AmtCredit").filter(pl.col("UnitId") == 1).sum().alias("received"),
    )
    assert paid.height >= 2 * 4
    assert (paid["paid"] == paid["received"]).all()
    assert set(paid["EntryDate"].dt.month()) == {1, 4, 7, 10}
    # Only the holding has accounts with its subsidiaries, only they have one with it.
    users = lines.filter(pl.col("AccountNo").is_in(["1410", "1420", "1750", "4800", "8200"]))
    used = users.group_by("AccountNo").agg(pl.col("UnitId").unique().sort())
    assert dict(used.iter_rows()) == {
        "1410": [1], "1420": [1], "8200": [1], "1750": [2, 3], "4800": [2, 3]
    }  # fmt: skip


def test_the_truth_follows_a_correction_posted_through_fientries(env: Environment) -> None:
    """The subsidiary books the fee it missed, now: the difference is gone from the current
    period on, and stays in the periods before."""
    fresh = Environment(env.config)
    fees = _fees(fresh.rows("DWH_Financiele_mutaties"))
    key = ["subsidiary", "fee_year", "month"]
    holding = fees.filter(pl.col("UnitId") == 1)
    missing = holding.join(fees.filter(pl.col("UnitId") != 1), on=key, how="anti").row(
        0, named=True
    )
    gross = missing["gross"]
    net = (gross / Decimal("1.21")).quantize(Decimal("0.01"))
    day = {"EnDa": "2026-11-20", "BpDa": "2026-11-20", "Ds": "Management fee gemist"}
    lines = [
        {"Fields": {"VaAs": "1", "AcNr": "4800", "AmDe": str(net), "VaId": "5", **day}},
        {"Fields": {"VaAs": "1", "AcNr": "1500", "AmDe": str(gross - net), "VaId": "5", **day}},
        {"Fields": {"VaAs": "1", "AcNr": "1750", "AmCr": str(gross), **day}},
    ]
    subsidiary, current = missing["subsidiary"], (2026, 11)
    header = {"Year": 2026, "Peri": 11, "UnId": subsidiary, "JoCo": "85"}
    objects = [{"FiEntries": {"Element": lines}}]
    before = _differences_of(fresh, subsidiary)
    fresh.post_fi_entry({"FiEntryPar": {"Element": {"Fields": header, "Objects": objects}}})
    after = _differences_of(fresh, subsidiary)
    assert _truth(fresh) == differences_from_rows(fresh)
    assert after.pop(current, Decimal("0.00")) == before.pop(current) - gross
    assert after == before


def _differences_of(env: Environment, subsidiary: int) -> dict[tuple[int, int], Decimal]:
    return {
        (d.year, d.period): d.difference
        for d in env.planted.intercompany_differences
        if d.counterparty_unit_id == subsidiary
    }


@pytest.mark.parametrize(("administrations", "pairs"), [(1, set()), (2, {(1, 2)})])
def test_only_the_administrations_that_exist_trade(administrations: int, pairs: set) -> None:
    env = Environment(
        SimulatorConfig(journal_lines=3_000, now=NOW, administrations=administrations)
    )
    lines = env.rows("DWH_Financiele_mutaties")
    accounts = lines.filter(pl.col("AccountNo").is_in(["1410", "1420", "1750"]))
    assert set(accounts["AccountNo"]) == ({"1410", "1750"} if pairs else set())
    assert {
        (d.unit_id, d.counterparty_unit_id) for d in env.planted.intercompany_differences
    } == pairs
