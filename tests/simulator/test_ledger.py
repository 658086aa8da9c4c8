"""Accounting invariants of the generated ledger: what every reconciliation relies on."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest

from afas_pipeline.simulator import chart
from afas_pipeline.simulator.environment import Environment, SimulatorConfig

NOW = datetime(2026, 3, 10, 14, 30)


@pytest.fixture(scope="module")
def env() -> Environment:
    return Environment(SimulatorConfig(journal_lines=3000, now=NOW))


@pytest.fixture(scope="module")
def lines(env: Environment) -> pl.DataFrame:
    return env.rows("DWH_Financiele_mutaties")


def test_size_is_roughly_as_configured(lines: pl.DataFrame) -> None:
    assert 2400 <= lines.height <= 3600


def test_every_entry_balances_and_one_side_is_zero(lines: pl.DataFrame) -> None:
    per_entry = lines.group_by("UnitId", "EntryNo").agg(
        pl.col("AmtDebit").sum().alias("d"), pl.col("AmtCredit").sum().alias("c")
    )
    assert per_entry.filter(pl.col("d") != pl.col("c")).is_empty()
    zero = Decimal("0.00")
    both = lines.filter((pl.col("AmtDebit") != zero) & (pl.col("AmtCredit") != zero))
    neither = lines.filter((pl.col("AmtDebit") == zero) & (pl.col("AmtCredit") == zero))
    assert both.is_empty()
    assert neither.is_empty()


def test_keys_unique_and_seq_numbers_contiguous(lines: pl.DataFrame) -> None:
    assert lines.select("UnitId", "EntryNo", "SeqNo").is_duplicated().sum() == 0
    seqs = lines.group_by("UnitId", "EntryNo").agg(pl.col("SeqNo").max(), pl.len())
    assert seqs.filter(pl.col("SeqNo") != pl.col("len")).is_empty()
    # Entry numbers repeat across administrations.
    assert lines.filter(pl.col("EntryNo") == 1)["UnitId"].n_unique() == 3


def test_year_and_period_follow_the_entry_date(lines: pl.DataFrame) -> None:
    """Except the opening balance: period 0 of the first year, dated 1 January."""
    opening = pl.col("Period") == 0
    wrong = lines.filter(
        ~opening
        & (
            (pl.col("Year") != pl.col("EntryDate").dt.year())
            | (pl.col("Period") != pl.col("EntryDate").dt.month())
        )
    )
    assert wrong.is_empty()
    first_year = lines["Year"].min()
    in_period_0 = lines.filter(opening)
    assert set(in_period_0["JournalId"]) == {chart.OPENING_BOOK}
    assert set(in_period_0["Year"]) == {first_year}
    assert set(in_period_0["EntryDate"]) == {date(first_year, 1, 1)}


def test_period_balance_is_the_aggregation_of_lines(env: Environment, lines: pl.DataFrame) -> None:
    """Every period's movement, the first year's period 0 included; the periods 0 that the
    year end computes are tested in test_year_end.py."""
    first_year = lines["Year"].min()
    pb = env.rows("Profit_Period_balance")
    trial = pb.group_by("UnitId", "Year", "Period").agg(pl.col("Balance").sum())
    assert (trial["Balance"] == Decimal("0.00")).all()
    pb = pb.filter((pl.col("Period") > 0) | (pl.col("Year") == first_year))
    direct = (
        lines.group_by("UnitId", "Year", "Period", pl.col("AccountNo").alias("AccountNr"))
        .agg(pl.col("AmtDebit").sum().alias("D"), pl.col("AmtCredit").sum().alias("C"))
        .join(pb, on=["UnitId", "Year", "Period", "AccountNr"], how="full", coalesce=True)
    )
    assert direct.filter(
        (pl.col("D") != pl.col("Debit")) | (pl.col("C") != pl.col("Credit"))
    ).is_empty()
    assert direct.filter(pl.col("Debit").is_null() | pl.col("D").is_null()).is_empty()
    assert (pb["Balance"] == pb["Debit"] - pb["Credit"]).all()
    assert pb["AccountDesc"].null_count() == 0


@pytest.mark.parametrize(
    ("connector", "parties", "party", "sign"),
    [
        ("Profit_Debtor_Invoices", "DWH_Debiteuren", "DebtorId", 1),
        ("Profit_Creditor_Invoices", "DWH_Crediteuren", "CreditorId", -1),
    ],
)
def test_open_items_match_the_lines(
    env: Environment, lines: pl.DataFrame, connector: str, parties: str, party: str, sign: int
) -> None:
    items = env.rows(connector)
    direct = (
        lines.filter(pl.col(party).is_not_null())
        .group_by("UnitId", party, pl.col("InvoiceId").alias("InvoiceNr"))
        .agg(((pl.col("AmtDebit") - pl.col("AmtCredit")).sum() * sign).alias("B"))
        .filter(pl.col("B") != Decimal("0"))
    )
    joined = direct.join(items, on=["UnitId", party, "InvoiceNr"], how="full", coalesce=True)
    assert joined.height == items.height == direct.height
    assert (joined["B"] == joined["Balance"]).all()
    # Each party's lines book on its own collect account; several exist on each side.
    collect = env.rows(parties).select(party, pl.col("CollectAccount"))
    party_lines = lines.filter(pl.col(party).is_not_null()).join(collect, on=party)
    assert (party_lines["AccountNo"] == party_lines["CollectAccount"]).all()
    accounts = env.rows("Profit_Accounts").filter(pl.col("CollectAccount"))["Account"]
    used = set(party_lines["AccountNo"])
    assert len(used) == 2
    assert used <= set(accounts)
    # The sub-ledger equals its control account, per administration and collect account.
    control = (
        lines.filter(pl.col("AccountNo").is_in(list(used)))
        .group_by("UnitId", "AccountNo")
        .agg(((pl.col("AmtDebit") - pl.col("AmtCredit")).sum() * sign).alias("control"))
    )
    subledger = (
        items.join(collect, on=party)
        .group_by("UnitId", pl.col("CollectAccount").alias("AccountNo"))
        .agg(pl.col("Balance").sum().alias("open"))
    )
    both = control.join(subledger, on=["UnitId", "AccountNo"], how="full", coalesce=True)
    assert both.filter(pl.col("control") != pl.col("open").fill_null(0)).is_empty()
    assert both.filter(pl.col("AccountNo").is_in(["1310", "1610"])).height >= 2


def test_vat_is_exact_except_where_planted(env: Environment, lines: pl.DataFrame) -> None:
    rates = {v.code: v.rate_bp for v in chart.VAT_TABLE}
    planted = {(p.unit_id, p.entry_no) for p in env.planted.vat_mismatches}
    wrong = set()
    for row in lines.filter(pl.col("VatAmt").is_not_null()).iter_rows(named=True):
        net = int((row["AmtDebit"] + row["AmtCredit"]) * 100)
        if chart.vat_amount(net, rates[row["VatCode"]]) != int(row["VatAmt"] * 100):
            wrong.add((row["UnitId"], row["EntryNo"]))
    assert wrong == planted
    # The VAT lines carry exactly the sum of their entry's line VAT per code, on the code's
    # account; a reverse charge code books the same amount as payable too.
    vat_lines = lines.filter(pl.col("AccountNo").is_in(list(chart.VAT_ACCOUNTS)))
    assert vat_lines["VatAmt"].null_count() == vat_lines.height
    own_account = pl.col("VatCode").replace_strict(
        {v.code: v.account for v in chart.VAT_TABLE}, default=None
    )
    keys = ["UnitId", "EntryNo", "VatCode"]
    per_code = (
        lines.filter(pl.col("VatAmt").is_not_null())
        .group_by(keys)
        .agg(pl.col("VatAmt").sum())
        .filter(pl.col("VatAmt") != 0)
        .join(
            vat_lines.filter(pl.col("AccountNo") == own_account)
            .group_by(keys)
            .agg((pl.col("AmtDebit") + pl.col("AmtCredit")).sum().alias("V")),
            on=keys,
            how="full",
        )
    )
    assert (per_code["VatAmt"] == per_code["V"]).all()
    reverse = vat_lines.filter(pl.col("VatCode") == "8")
    payable = reverse.filter(pl.col("AccountNo") == chart.VAT_REVERSE_CHARGE)
    receivable = reverse.filter(pl.col("AccountNo") == chart.VAT_INPUT)
    assert payable.height == receivable.height > 0
    assert payable["AmtCredit"].sum() == receivable["AmtDebit"].sum()


def test_suspense_holds_the_planted_receipts_and_cleared_pairs(
    env: Environment, lines: pl.DataFrame
) -> None:
    """The open suspense items sum to the suspense account's balance in every administration;
    every other line on it is a receipt and its clearing, one of each, of the same amount."""
    planted = env.planted.suspense_receipts
    on_suspense = lines.filter(pl.col("AccountNo") == chart.SUSPENSE).with_columns(
        (pl.col("AmtCredit") - pl.col("AmtDebit")).alias("parked")
    )
    balance = on_suspense.group_by("UnitId").agg(pl.col("parked").sum())
    open_sum = {u: sum(p.amount for p in planted if p.unit_id == u) for u in (1, 2, 3)}
    assert dict(balance.iter_rows()) == open_sum
    assert open_sum[3] == 0  # administration 3 has only receipts cleared by hand
    open_keys = pl.DataFrame(
        [(p.unit_id, p.entry_no, p.seq_no) for p in planted],
        schema=["UnitId", "EntryNo", "SeqNo"],
        orient="row",
    )
    cleared = on_suspense.join(open_keys, on=["UnitId", "EntryNo", "SeqNo"], how="anti")
    assert cleared.height + open_keys.height == on_suspense.height
    pairs = cleared.group_by("UnitId", pl.col("parked").abs().alias("amount")).agg(
        (pl.col("parked") > 0).sum().alias("parked"), (pl.col("parked") < 0).sum().alias("cleared")
    )
    assert pairs.height >= 8
    assert (pairs["parked"] == 1).all()
    assert (pairs["cleared"] == 1).all()
    items = env.rows("Profit_Debtor_Invoices")
    named = [p for p in planted if p.invoice_id is not None]
    assert {p.unit_id for p in named} == {1, 2}
    for p in named:
        item = items.filter(
            (pl.col("UnitId") == p.unit_id)
            & (pl.col("DebtorId") == p.debtor_id)
            & (pl.col("InvoiceNr") == p.invoice_id)
        )
        assert item["Balance"].item() == p.amount == item["AmtInvoice"].item()
        assert p.description.startswith("Onbekende betaling")
    unmatched = [p for p in planted if p.invoice_id is None]
    assert all(p.debtor_id is None for p in unmatched)
    assert len(unmatched) >= 8  # no reference at all, or only the debtor's name


def test_tiny_open_items_are_the_planted_rounding_differences(env: Environment) -> None:
    planted = env.planted.rounding_differences
    assert len(planted) >= 2
    items = env.rows("Profit_Debtor_Invoices")
    tiny = items.filter(pl.col("Balance").abs() <= Decimal("0.05"))
    assert {(r["UnitId"], r["InvoiceNr"]) for r in tiny.iter_rows(named=True)} == {
        (p.unit_id, p.invoice_id) for p in planted
    }
    for p in planted:
        assert Decimal("0.01") <= p.difference <= Decimal("0.05")
        assert p.invoice_amount - p.paid_amount == p.difference
    assert env.rows("Profit_Creditor_Invoices")["Balance"].abs().min() > Decimal("1")


def test_planted_problems_sit_in_administrations_one_and_two(env: Environment) -> None:
    p = env.planted
    for group in (p.suspense_receipts, p.duplicate_invoices, p.rounding_differences):
        assert {x.unit_id for x in group} == {1, 2}
    for vat_type, journal in (("V", "20"), ("I", "10")):  # both sides, in both
        found = [x for x in p.vat_mismatches if x.vat_type == vat_type]
        assert {x.unit_id for x in found} == {1, 2}
        assert {x.journal_id for x in found} == {journal}


def test_payments_match_invoices_to_the_cent(env: Environment, lines: pl.DataFrame) -> None:
    """A receipt after its invoice pays the item's open amount at that moment (the invoice less
    its credit notes and deposits), except the planted rounding differences."""
    key = ["UnitId", "DebtorId", "InvoiceId"]
    history = (
        lines.filter(pl.col("DebtorId").is_not_null())
        .sort("EntryNo")
        .with_columns(
            (pl.col("AmtDebit") - pl.col("AmtCredit")).cum_sum().over(key).alias("after"),
            pl.col("EntryNo")
            .filter((pl.col("JournalId") == "20") & (pl.col("AmtDebit") > 0))
            .min()
            .over(key)
            .alias("invoice_entry"),
        )
    )
    receipts = history.filter(
        (pl.col("JournalId") == "50") & (pl.col("EntryNo") > pl.col("invoice_entry"))
    )
    assert receipts.height > 100
    short = receipts.filter(pl.col("after") != 0)
    assert set(short.select("UnitId", "EntryNo").iter_rows()) == {
        (p.unit_id, p.entry_no) for p in env.planted.rounding_differences
    }
