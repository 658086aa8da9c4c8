"""The ground truth (`Environment.planted`) is consistent with the rows: each kind is computed
here again from the served frames alone, with the definitions the reconciliation marts are
tested against, at several seeds, and must equal the truth exactly."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest

from afas_pipeline.simulator import chart
from afas_pipeline.simulator.environment import Environment, SimulatorConfig

NOW = datetime(2026, 11, 20, 14, 30)
SEEDS = (42, 7, 2024)
DUPLICATE_KINDS = ("same_number", "number_format", "date_and_amount")


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def env(request: pytest.FixtureRequest) -> Environment:
    return Environment(SimulatorConfig(seed=request.param, journal_lines=6_000, now=NOW))


def _digits(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(r"\D", "")


def open_suspense_from_rows(env: Environment) -> set[tuple]:
    """Open suspense lines and their unique match, from DWH_Financiele_mutaties,
    Profit_Debtor_Invoices and DWH_Debiteuren only."""
    order = ["EntryDate", "EntryNo", "SeqNo"]
    lines = (
        env.rows("DWH_Financiele_mutaties")
        .filter(pl.col("AccountNo") == "2999")
        .with_columns(
            (pl.col("AmtCredit") - pl.col("AmtDebit")).cast(pl.Decimal(18, 2)).alias("parked")
        )
        .with_columns(pl.col("parked").abs().alias("size"), (pl.col("parked") > 0).alias("in"))
    )
    # Receipts and clearings of one amount pair up in date order; the rest is open.
    ranked = lines.with_columns(
        pl.int_range(pl.len()).over(["UnitId", "size", "in"], order_by=order).alias("rank"),
        pl.col("in").sum().over(["UnitId", "size"]).alias("ins"),
        (~pl.col("in")).sum().over(["UnitId", "size"]).alias("outs"),
    )
    open_lines = ranked.filter(
        pl.when(pl.col("in"))
        .then(pl.col("rank") >= pl.col("outs"))
        .otherwise(pl.col("rank") >= pl.col("ins"))
    )
    names = env.rows("DWH_Debiteuren").select("DebtorId", "DebtorName")
    candidates = (
        open_lines.select("UnitId", "EntryNo", "SeqNo", "parked", "Description")
        .join(
            env.rows("Profit_Debtor_Invoices").select(
                "UnitId", pl.col("DebtorId").alias("debtor"), "InvoiceNr", "Balance"
            ),
            left_on=["UnitId", "parked"],
            right_on=["UnitId", "Balance"],
        )
        .join(names, left_on="debtor", right_on="DebtorId")
        .with_columns(
            (
                (_digits("InvoiceNr").str.len_chars() >= 4)
                & _digits("Description").str.contains(_digits("InvoiceNr"), literal=True)
            ).alias("by_number"),
            pl.col("Description")
            .str.to_lowercase()
            .str.contains(pl.col("DebtorName").str.to_lowercase(), literal=True)
            .alias("by_name"),
        )
        .with_columns(pl.col("by_number").any().over("UnitId", "EntryNo", "SeqNo").alias("a"))
        .filter(pl.when(pl.col("a")).then(pl.col("by_number")).otherwise(pl.col("by_name")))
    )
    unique = candidates.filter(pl.len().over("UnitId", "EntryNo", "SeqNo") == 1).filter(
        pl.len().over("UnitId", "debtor", "InvoiceNr") == 1
    )
    matched = open_lines.join(
        unique.select("UnitId", "EntryNo", "SeqNo", "debtor", "InvoiceNr"),
        on=["UnitId", "EntryNo", "SeqNo"],
        how="left",
    )
    return set(
        matched.select(
            "UnitId",
            "EntryNo",
            "SeqNo",
            "EntryDate",
            "parked",
            "debtor",
            "InvoiceNr",
            "Description",
        ).iter_rows()
    )


def _truth_suspense(env: Environment) -> set[tuple]:
    return {
        (p.unit_id, p.entry_no, p.seq_no, p.entry_date, p.amount, p.debtor_id, p.invoice_id,
         p.description)
        for p in env.planted.suspense_receipts
    }  # fmt: skip


def test_open_suspense_items_are_what_the_rows_show(env: Environment) -> None:
    truth = _truth_suspense(env)
    assert truth == open_suspense_from_rows(env)
    named = [p for p in env.planted.suspense_receipts if p.invoice_id is not None]
    unmatched = [p for p in env.planted.suspense_receipts if p.invoice_id is None]
    assert len(named) >= 4
    assert len(unmatched) >= 8


def test_the_truth_follows_a_clearing_posted_through_fientries(env: Environment) -> None:
    """The product's own clearing (any journal) pairs with the receipt: it is no longer open,
    and the open items still sum to the suspense balance."""
    fresh = Environment(env.config)
    receipt = next(p for p in fresh.planted.suspense_receipts if p.invoice_id is not None)
    day = {"EnDa": "2026-11-20", "BpDa": "2026-11-20", "Ds": "Vraagpost naar debiteur"}
    lines = [
        {"Fields": {"VaAs": "1", "AcNr": "2999", "AmDe": str(receipt.amount), **day}},
        {
            "Fields": {
                "VaAs": "2",
                "AcNr": receipt.debtor_id,
                "AmCr": str(receipt.amount),
                "InId": receipt.invoice_id,
                **day,
            }
        },
    ]
    header = {"Year": 2026, "Peri": 11, "UnId": receipt.unit_id, "JoCo": "50"}
    body = {
        "FiEntryPar": {
            "Element": {"Fields": header, "Objects": [{"FiEntries": {"Element": lines}}]}
        }
    }
    fresh.post_fi_entry(body)
    after = fresh.planted.suspense_receipts
    assert receipt not in after
    assert len(after) == len(fresh.planted.suspense_receipts) == len(_truth_suspense(env)) - 1
    assert _truth_suspense(fresh) == open_suspense_from_rows(fresh)
    suspense = fresh.rows("DWH_Financiele_mutaties").filter(pl.col("AccountNo") == "2999")
    balance = suspense.filter(pl.col("UnitId") == receipt.unit_id).select(
        (pl.col("AmtCredit") - pl.col("AmtDebit")).sum()
    )
    assert balance.item() == sum(
        (p.amount for p in after if p.unit_id == receipt.unit_id), Decimal("0.00")
    )


def duplicates_from_rows(env: Environment) -> set[tuple]:
    """Pairs of purchase-journal invoices of one creditor: the same number, the same number
    but for formatting, or the same invoice date and amount; the duplicate is the later."""
    invoices = (
        env.rows("DWH_Financiele_mutaties")
        .filter(
            (pl.col("JournalId") == "10")
            & pl.col("CreditorId").is_not_null()
            & (pl.col("AmtCredit") > 0)
        )
        .select(
            "UnitId",
            "CreditorId",
            "EntryNo",
            "InvoiceId",
            "VoucherDate",
            "AmtCredit",
            pl.col("InvoiceId").str.replace_all(r"[^0-9A-Za-z]", "").str.to_uppercase().alias("n"),
        )
    )
    pairs = invoices.join(invoices, on=["UnitId", "CreditorId"], suffix="_d").filter(
        pl.col("EntryNo") < pl.col("EntryNo_d")
    )
    kind = (
        pl.when(pl.col("InvoiceId") == pl.col("InvoiceId_d"))
        .then(pl.lit("same_number"))
        .when(pl.col("n") == pl.col("n_d"))
        .then(pl.lit("number_format"))
        .when(
            (pl.col("VoucherDate") == pl.col("VoucherDate_d"))
            & (pl.col("AmtCredit") == pl.col("AmtCredit_d"))
        )
        .then(pl.lit("date_and_amount"))
    )
    found = pairs.with_columns(kind.alias("kind")).filter(pl.col("kind").is_not_null())
    return set(
        found.select(
            "UnitId", "CreditorId", "AmtCredit_d", "VoucherDate_d", "EntryNo", "InvoiceId",
            "EntryNo_d", "InvoiceId_d", "kind",
        ).iter_rows()
    )  # fmt: skip


def test_duplicate_invoices_are_what_the_rows_show(env: Environment) -> None:
    planted = env.planted.duplicate_invoices
    truth = {
        (p.unit_id, p.creditor_id, p.amount, p.voucher_date, p.original_entry_no,
         p.original_invoice_id, p.duplicate_entry_no, p.duplicate_invoice_id, p.kind)
        for p in planted
    }  # fmt: skip
    assert truth == duplicates_from_rows(env)
    kinds = {kind: {p.unit_id for p in planted if p.kind == kind} for kind in DUPLICATE_KINDS}
    assert kinds == {kind: {1, 2} for kind in DUPLICATE_KINDS}
    # A number booked twice is one open item holding both: here paid once, the other open.
    items = env.rows("Profit_Creditor_Invoices")
    for p in planted:
        if p.kind == "same_number":
            item = items.filter(
                (pl.col("UnitId") == p.unit_id)
                & (pl.col("CreditorId") == p.creditor_id)
                & (pl.col("InvoiceNr") == p.original_invoice_id)
            )
            assert item["Balance"].item() in (p.amount, 2 * p.amount)
            assert item["AmtInvoice"].item() == p.amount


def test_numbers_recur_at_other_creditors_and_administrations(env: Environment) -> None:
    """Not duplicates: a number at two creditors, or in two administrations."""
    party_lines = env.rows("DWH_Financiele_mutaties").filter(pl.col("CreditorId").is_not_null())
    per_number = party_lines.group_by("InvoiceId").agg(
        pl.col("CreditorId").n_unique(), pl.col("UnitId").n_unique()
    )
    assert per_number.filter(pl.col("CreditorId") > 1).height >= 3
    assert per_number.filter(pl.col("UnitId") > 1).height >= 3


def vat_per_entry_and_code(env: Environment) -> pl.DataFrame:
    """Per entry and plain-percentage code, on the code's own side: the net of its lines off
    the VAT accounts, the VAT booked on the code's account, and whether that differs from
    net * rate by more than 0.005 per line (`mismatch`)."""
    codes = env.rows("Profit_VAT_code")
    plain = [v.code for v in chart.VAT_TABLE if v.method == "percentage"]
    vat_accounts = codes["AccountNr"].unique().implode()
    lines = env.rows("DWH_Financiele_mutaties").join(
        codes.select("VatCode", "AccountNr", "VatPerc", "VatType"), on="VatCode"
    )
    own = (
        pl.when(pl.col("VatType") == "V")
        .then(pl.col("AmtCredit") - pl.col("AmtDebit"))
        .otherwise(pl.col("AmtDebit") - pl.col("AmtCredit"))
    )
    base = ~pl.col("AccountNo").is_in(vat_accounts)
    cents = {c: (pl.col(c) * 100).cast(pl.Int64) for c in ("net", "booked", "VatPerc")}
    return (
        lines.filter(pl.col("VatCode").is_in(plain))
        .group_by("UnitId", "EntryNo", "JournalId", "VatCode", "VatType", "VatPerc")
        .agg(
            own.filter(base).sum().alias("net"),
            own.filter(pl.col("AccountNo") == pl.col("AccountNr")).sum().alias("booked"),
            base.sum().alias("lines"),
        )
        .with_columns(
            # |booked - net * rate| > 0.005 * lines, exactly: in cents times 10,000.
            (
                (cents["booked"] * 10_000 - cents["net"] * cents["VatPerc"]).abs()
                > pl.col("lines") * 5_000
            ).alias("mismatch")
        )
    )


def _expected(net: Decimal, percentage: Decimal) -> Decimal:
    """net * rate, rounded half away from zero to the cent."""
    return (net * percentage / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _mismatches(judged: pl.DataFrame) -> set[tuple]:
    found = judged.filter(pl.col("mismatch")).select(
        "UnitId", "EntryNo", "JournalId", "VatCode", "VatType", "net", "VatPerc", "booked"
    )
    return {(*row[:6], _expected(row[5], row[6]), row[7]) for row in found.iter_rows()}


@pytest.mark.parametrize("convention", ["unsigned", "own_side"])
def test_vat_mismatches_are_what_the_rows_show(env: Environment, convention: str) -> None:
    """Credit notes, reverse charge, exempt sales and multi-line invoices are right by the
    rule, in either VatAmt convention; only the planted errors are not."""
    other = Environment(replace(env.config, vat_amount_sign=convention))
    planted = other.planted.vat_mismatches
    truth = {
        (p.unit_id, p.entry_no, p.journal_id, p.vat_code, p.vat_type, p.net, p.expected_vat,
         p.booked_vat)
        for p in planted
    }  # fmt: skip
    judged = vat_per_entry_and_code(other)
    assert truth == _mismatches(judged)
    assert {(p.vat_type, p.unit_id) for p in planted} == {("V", 1), ("V", 2), ("I", 1), ("I", 2)}
    # Invoices of several lines whose per-line rounding is not net * rate rounded are right.
    right = judged.filter(~pl.col("mismatch")).select("net", "VatPerc", "booked", "lines")
    rounded_per_line = [r for r in right.iter_rows() if r[2] != _expected(r[0], r[1])]
    assert len(rounded_per_line) >= 10
    assert all(lines > 1 for *_, lines in rounded_per_line)


def test_rounding_differences_are_what_the_rows_show(env: Environment) -> None:
    """The tiny open debtor items, each left by a receipt a few cents short of its invoice."""
    items = env.rows("Profit_Debtor_Invoices").filter(pl.col("Balance").abs() <= Decimal("0.05"))
    receipts = env.rows("DWH_Financiele_mutaties").filter(
        (pl.col("JournalId") == "50") & pl.col("DebtorId").is_not_null()
    )
    found = items.join(
        receipts.select("UnitId", "DebtorId", pl.col("InvoiceId").alias("InvoiceNr"), "EntryNo",
                        "AmtCredit"),
        on=["UnitId", "DebtorId", "InvoiceNr"],
    )  # fmt: skip
    assert set(
        found.select(
            "UnitId", "DebtorId", "InvoiceNr", "EntryNo", "AmtInvoice", "AmtCredit", "Balance"
        ).iter_rows()
    ) == {
        (p.unit_id, p.debtor_id, p.invoice_id, p.entry_no, p.invoice_amount, p.paid_amount,
         p.difference)
        for p in env.planted.rounding_differences
    }  # fmt: skip
    assert {p.unit_id for p in env.planted.rounding_differences} == {1, 2}
