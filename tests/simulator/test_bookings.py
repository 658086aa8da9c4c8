"""The awkward things real books contain, each present in the generated history and booked as
AFAS books it: collect accounts abroad, numbers that recur, credit notes, payments before their
invoices, migrated opening items, suspense cleared by hand, reverse charge and exempt VAT."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

import polars as pl
import pytest

from afas_pipeline.simulator import chart
from afas_pipeline.simulator.environment import Environment, SimulatorConfig

# The size and clock of the pipeline tests (tests/conftest.py).
NOW = datetime(2026, 11, 20, 14, 30)


class Side(NamedTuple):
    """Where debtors and creditors differ in AFAS's connectors."""

    items: str  # the open-item list
    parties: str
    party: str
    date: str  # the open item's voucher date
    term: str
    journal: str  # the invoices' journal
    invoice_side: str  # the amount column of an invoice's party line


DEBTORS = Side(
    "Profit_Debtor_Invoices",
    "DWH_Debiteuren",
    "DebtorId",
    "NookPieceDate",
    "PayCon",
    "20",
    "AmtDebit",
)
CREDITORS = Side(
    "Profit_Creditor_Invoices",
    "DWH_Crediteuren",
    "CreditorId",
    "BookPieceDate",
    "PaymentCondition",
    "10",
    "AmtCredit",
)
SIDES = pytest.mark.parametrize("side", [DEBTORS, CREDITORS], ids=["debtors", "creditors"])


@pytest.fixture(scope="module")
def env() -> Environment:
    return Environment(SimulatorConfig(journal_lines=6_000, now=NOW))


@pytest.fixture(scope="module")
def lines(env: Environment) -> pl.DataFrame:
    return env.rows("DWH_Financiele_mutaties")


def test_a_supplier_invoice_number_recurs_at_other_creditors(lines: pl.DataFrame) -> None:
    """Two suppliers that number per year both send a "2026-0001": not a duplicate."""
    purchases = lines.filter((pl.col("JournalId") == "10") & pl.col("CreditorId").is_not_null())
    shared = purchases.group_by("UnitId", "InvoiceId").agg(pl.col("CreditorId").n_unique())
    assert shared.filter(pl.col("CreditorId") > 1).height >= 3


@pytest.mark.parametrize(("code", "countries"), [("8", {"IE"}), ("11", {"CH", "GB"})])
def test_services_from_abroad_are_reverse_charged(
    env: Environment, lines: pl.DataFrame, code: str, countries: set[str]
) -> None:
    """Code 8 (from the EU, rubriek 4b) and 11 (from outside it, 4a): the cost line carries the
    code and its VAT; the VAT is booked both receivable (1500) and payable (1530), both with
    the code; the creditor is owed the net only."""
    entries = lines.filter(
        pl.struct("UnitId", "EntryNo").is_in(
            lines.filter(pl.col("VatCode") == code)
            .select(pl.struct("UnitId", "EntryNo"))
            .to_series()
        )
    )
    assert entries.select("UnitId", "EntryNo").n_unique() >= 5
    creditors = entries.join(env.rows("DWH_Crediteuren"), on="CreditorId")
    assert set(creditors["VatNr"].str.slice(0, 2)) == countries
    per_entry = entries.group_by("UnitId", "EntryNo").agg(
        pl.col("AmtCredit").filter(pl.col("CreditorId").is_not_null()).sum().alias("owed"),
        pl.col("AccountNo").filter(pl.col("CreditorId").is_not_null()).first().alias("collect"),
        pl.col("AmtDebit").filter(pl.col("AccountNo") == "4320").sum().alias("net"),
        pl.col("VatAmt").filter(pl.col("AccountNo") == "4320").sum().alias("vat"),
        pl.col("AmtDebit").filter(pl.col("AccountNo") == "1500").sum().alias("receivable"),
        pl.col("AmtCredit").filter(pl.col("AccountNo") == "1530").sum().alias("payable"),
        pl.col("VatCode").filter(pl.col("AccountNo").is_in(["1500", "1530"])).unique(),
    )
    assert (per_entry["owed"] == per_entry["net"]).all()
    assert (per_entry["receivable"] == per_entry["vat"]).all()
    assert (per_entry["payable"] == per_entry["vat"]).all()
    assert (per_entry["vat"] > 0).all()
    assert set(per_entry["collect"]) == {"1610"}
    assert per_entry["VatCode"].to_list() == [[code]] * per_entry.height


def test_sales_codes_follow_where_the_customer_is(env: Environment, lines: pl.DataFrame) -> None:
    """At home 21 % and 9 % (and exempt); to a business in another EU country with its VAT
    number an intra-community supply at 0 % (code 10 on 8040: rubriek 3b and the ICP
    listing); outside the EU an export at 0 % (code 3 on 8020: 3a). Neither books VAT."""
    debtors = env.rows("DWH_Debiteuren").select(
        "DebtorId", "VatNr", pl.col("IBAN").str.slice(0, 2).alias("country")
    )
    invoices = lines.filter((pl.col("JournalId") == "20") & pl.col("DebtorId").is_not_null())
    revenue = (
        lines.filter(pl.col("VatAmt").is_not_null() & (pl.col("JournalId") == "20"))
        .join(invoices.select("UnitId", "EntryNo", "DebtorId").unique(), on=["UnitId", "EntryNo"])
        .join(debtors, left_on="DebtorId_right", right_on="DebtorId")
    )
    planted = {(p.unit_id, p.entry_no) for p in env.planted.vat_mismatches}
    fair = revenue.filter(
        ~pl.struct("UnitId", "EntryNo").is_in([{"UnitId": u, "EntryNo": e} for u, e in planted])
    )
    per_country = fair.group_by("country").agg(pl.col("VatCode").unique().sort())
    assert dict(per_country.iter_rows()) == {
        "NL": ["1", "2", "9"],
        "BE": ["10"],
        "DE": ["10"],
        "GB": ["3"],
        "CH": ["3"],
    }
    icp = fair.filter(pl.col("VatCode") == "10")
    assert icp.select("UnitId", "EntryNo").n_unique() >= 10
    assert set(icp["AccountNo"]) == {"8040"}
    assert icp["VatNr"].str.contains(r"^(BE0\d{9}|DE\d{9})$").all()
    exports = fair.filter(pl.col("VatCode") == "3")
    assert exports.select("UnitId", "EntryNo").n_unique() >= 3
    assert set(exports["AccountNo"]) == {"8020"}
    assert (pl.concat([icp, exports])["VatAmt"] == 0).all()
    entries = pl.concat([icp, exports]).select("UnitId", "EntryNo").unique()
    vat_lines = lines.join(entries, on=["UnitId", "EntryNo"]).filter(
        pl.col("AccountNo").is_in(list(chart.VAT_ACCOUNTS))
    )
    assert vat_lines.is_empty()
    for code in ("1", "2", "5", "6"):  # 21 % and 9 %, sold and bought
        assert lines.filter(pl.col("VatCode") == code).height >= 20


def test_exempt_sales_carry_the_code_and_no_vat(lines: pl.DataFrame) -> None:
    exempt = lines.filter(pl.col("VatCode") == "9")
    assert exempt.height >= 5
    assert set(exempt["AccountNo"]) == {"8030"}
    assert (exempt["VatAmt"] == 0).all()


def _debtor_lines(lines: pl.DataFrame, journal: str, side: str) -> pl.DataFrame:
    return lines.filter(
        (pl.col("JournalId") == journal) & pl.col("DebtorId").is_not_null() & (pl.col(side) > 0)
    )


def test_credit_notes_are_booked_on_their_invoice_number(
    env: Environment, lines: pl.DataFrame
) -> None:
    notes = _debtor_lines(lines, "20", "AmtCredit")
    invoices = _debtor_lines(lines, "20", "AmtDebit")
    key = ["UnitId", "DebtorId", "InvoiceId"]
    joined = notes.join(invoices, on=key, suffix="_invoice")
    assert joined.height == notes.height  # each is on the number of an invoice of its debtor
    assert (joined["EntryNo"] > joined["EntryNo_invoice"]).all()
    full = joined.filter(pl.col("AmtCredit") == pl.col("AmtDebit_invoice"))
    partial = joined.filter(pl.col("AmtCredit") < pl.col("AmtDebit_invoice"))
    assert full.height >= 3
    assert partial.height >= 3
    assert full.height + partial.height == joined.height
    items = env.rows("Profit_Debtor_Invoices").rename({"InvoiceNr": "InvoiceId"})
    # A full credit note closes the item: it leaves AFAS's open list.
    assert full.join(items, on=key).is_empty()
    # A partial one lowers the balance, not the invoice amount; the rest is paid later.
    still_open = partial.join(items, on=key)
    assert (still_open["AmtInvoice"] == still_open["AmtDebit_invoice"]).all()
    rest = still_open["AmtDebit_invoice"] - still_open["AmtCredit"]
    assert (still_open["Balance"] == rest).all()
    receipts = _debtor_lines(lines, "50", "AmtCredit").join(partial, on=key, suffix="_note")
    assert (
        receipts["AmtCredit"] == receipts["AmtDebit_invoice"] - receipts["AmtCredit_note"]
    ).all()
    assert receipts.height >= 1


@pytest.mark.parametrize(("convention", "sign"), [("unsigned", 1), ("own_side", -1)])
def test_credit_note_lines_reverse_revenue_and_vat(convention: str, sign: int) -> None:
    env = Environment(SimulatorConfig(journal_lines=6_000, now=NOW, vat_amount_sign=convention))
    lines = env.rows("DWH_Financiele_mutaties")
    notes = _debtor_lines(lines, "20", "AmtCredit").select("UnitId", "EntryNo")
    note_lines = lines.join(notes, on=["UnitId", "EntryNo"]).filter(pl.col("DebtorId").is_null())
    revenue = note_lines.filter(pl.col("VatAmt").is_not_null())
    assert revenue.height >= 6
    assert (revenue["AmtCredit"] == 0).all()  # revenue debit, VAT debit
    assert (note_lines["AmtCredit"] == 0).all()
    rates = {v.code: v.rate_bp for v in chart.VAT_TABLE}
    for row in revenue.iter_rows(named=True):
        vat = chart.vat_amount(int(row["AmtDebit"] * 100), rates[row["VatCode"]])
        assert row["VatAmt"] == sign * Decimal(vat).scaleb(-2)


@SIDES
def test_payments_are_booked_before_their_invoices(lines: pl.DataFrame, side: Side) -> None:
    """Sales prepayments and purchases entered late: a lower entry number and an earlier
    entry date than the invoice they pay."""
    key = ["UnitId", side.party, "InvoiceId"]
    invoices = (
        lines.filter((pl.col("JournalId") == side.journal) & (pl.col(side.invoice_side) > 0))
        .group_by(key)
        .agg(pl.col("EntryNo").min().alias("invoice_entry"), pl.col("EntryDate").min().alias("on"))
    )
    bank = lines.filter((pl.col("JournalId") == "50") & pl.col(side.party).is_not_null())
    early = bank.join(invoices, on=key).filter(pl.col("EntryNo") < pl.col("invoice_entry"))
    assert early.height >= 5
    assert (early["EntryDate"] < early["on"]).all()


@SIDES
def test_the_open_list_shows_a_payment_before_its_invoice_as_a_credit_item(side: Side) -> None:
    """Until the invoice is booked, AFAS lists the item with the payment's attributes and a
    negative balance; then with the invoice's attributes, whatever the entry numbers."""
    env = Environment(SimulatorConfig(journal_lines=20_000, now=NOW, history_days=120))

    def item_lines(item: dict) -> pl.DataFrame:
        return env.rows("DWH_Financiele_mutaties").filter(
            (pl.col("UnitId") == item["UnitId"])
            & (pl.col(side.party) == item[side.party])
            & (pl.col("InvoiceId") == item["InvoiceNr"])
        )

    def listed(item: dict) -> pl.DataFrame:
        return env.rows(side.items).filter(
            (pl.col("UnitId") == item["UnitId"])
            & (pl.col(side.party) == item[side.party])
            & (pl.col("InvoiceNr") == item["InvoiceNr"])
        )

    item: dict | None = None
    for _ in range(60):
        env.advance(days=1)
        if item is None:
            credit_items = env.rows(side.items).filter(pl.col("Balance") < 0)
            if credit_items.height:
                item = credit_items.row(0, named=True)
                payment = item_lines(item)
                assert payment["JournalId"].to_list() == ["50"]
                assert item["AmtInvoice"] == item["Balance"]
                assert item[side.date] == payment["VoucherDate"].item()
        elif not (
            invoice := item_lines(item).filter(pl.col("JournalId") == side.journal)
        ).is_empty():
            break
    else:
        pytest.fail("no payment booked before its invoice in 60 days")
    gross = invoice[side.invoice_side].item()
    if gross == -item["Balance"]:
        assert listed(item).is_empty()  # paid in full: the invoice settles it
    else:
        after = listed(item).row(0, named=True)
        assert after["Balance"] == gross + item["Balance"]
        assert after["AmtInvoice"] == gross
        assert after[side.date] == invoice["VoucherDate"].item()


@SIDES
def test_opening_items_are_migrated_after_the_fact(
    env: Environment, lines: pl.DataFrame, side: Side
) -> None:
    """One entry per administration in the opening-balance journal, in period 0 of the first
    year and dated 1 January but booked weeks into the history, under the previous system's
    numbers and their invoice dates before 1 January."""
    migration = lines.filter(pl.col("JournalId") == "70")
    entries = migration.group_by("UnitId").agg(
        pl.col("EntryNo").n_unique().alias("entries"), pl.col("EntryNo").first()
    )
    assert entries.height == 3
    assert (entries["entries"] == 1).all()
    first_year = lines["Year"].min()
    assert set(migration.select("Year", "Period", "EntryDate").iter_rows()) == {
        (first_year, 0, date(first_year, 1, 1))
    }
    for unit, _, entry_no in entries.iter_rows():
        before = lines.filter((pl.col("UnitId") == unit) & (pl.col("EntryNo") < entry_no))
        assert before["EntryNo"].n_unique() >= 10  # the first weeks are numbered lower
    items = migration.filter(pl.col(side.party).is_not_null())
    assert (items[side.invoice_side] > 0).all()
    assert items["InvoiceId"].str.contains(r"^OB-\d{4}-\d{4}$").all()
    invoices = lines.filter(pl.col("JournalId").is_in(["10", "20"]))
    assert invoices.filter(pl.col("InvoiceId").is_in(items["InvoiceId"].implode())).is_empty()
    # The old numbers recur in each administration.
    assert items.group_by("InvoiceId").agg(pl.col("UnitId").n_unique())["UnitId"].max() == 3
    # Most are paid later; some stay open, listed with the migration line's attributes.
    listed = env.rows(side.items).join(
        items.rename({"InvoiceId": "InvoiceNr"}), on=["UnitId", side.party, "InvoiceNr"]
    )
    assert 3 <= listed.height < items.height / 2
    assert (listed["Balance"] == listed[side.invoice_side]).all()
    assert (listed["AmtInvoice"] == listed[side.invoice_side]).all()
    assert (listed[side.date] == listed["VoucherDate"]).all()
    assert (listed[side.date] < listed["EntryDate"]).all()
    assert (items["VoucherDate"] < date(first_year, 1, 1)).all()
    due = pl.col(side.date) + pl.duration(days=pl.col(side.term).cast(pl.Int64))
    terms = listed.join(env.rows(side.parties), on=side.party).with_columns(due.alias("due"))
    assert (terms["ExpDate"] == terms["due"]).all()


def test_suspense_is_cleared_by_hand_before_and_after_the_receipt(lines: pl.DataFrame) -> None:
    """Receipts parked on suspense and cleared by a memorial entry onto the debtor's invoice:
    some days later (a higher entry number), some before the bank statement was imported (a
    lower entry number, dated on the receipt's date). They are closed, not planted."""
    suspense = lines.filter(pl.col("AccountNo") == "2999")
    parked = suspense.filter((pl.col("JournalId") == "50") & (pl.col("AmtCredit") > 0))
    clearings = suspense.filter((pl.col("JournalId") == "80") & (pl.col("AmtDebit") > 0))
    pairs = parked.join(
        clearings, left_on=["UnitId", "AmtCredit"], right_on=["UnitId", "AmtDebit"], suffix="_clr"
    )
    later = pairs.filter(pl.col("EntryNo_clr") > pl.col("EntryNo"))
    first = pairs.filter(pl.col("EntryNo_clr") < pl.col("EntryNo"))
    assert later.height >= 3
    assert first.height >= 3
    assert (first["EntryDate_clr"] == first["EntryDate"]).all()
    assert (later["EntryDate_clr"] > later["EntryDate"]).all()
    assert set(pairs["UnitId"]) == {1, 2, 3}
    # The clearing's other line credits the debtor's invoice, which closes.
    entries = pairs.select("UnitId", pl.col("EntryNo_clr").alias("EntryNo"))
    to_debtor = lines.join(entries, on=["UnitId", "EntryNo"]).filter(
        pl.col("DebtorId").is_not_null()
    )
    assert to_debtor.height == pairs.height
    assert to_debtor["InvoiceId"].str.starts_with("F").all()


def test_cost_carriers_on_revenue_and_direct_costs(lines: pl.DataFrame) -> None:
    """DimAx2 (kostendrager): a product line on most revenue and cost-of-sales lines, on few
    overheads, never on the balance sheet; a credit note keeps its invoice line's carrier."""
    carried = lines.filter(pl.col("DimAx2").is_not_null())
    assert set(carried["DimAx2"]) == set(chart.COST_CARRIERS)
    assert {chart.ACCOUNTS_BY_NUMBER[a].type for a in carried["AccountNo"]} == {"W"}

    def share(frame: pl.DataFrame) -> float:
        assert frame.height >= 20
        return frame["DimAx2"].is_not_null().mean()  # type: ignore[return-value]

    revenue = lines.filter(
        pl.col("AccountNo").str.starts_with("80") & (pl.col("JournalId") == "20")
    )
    cost_of_sales = lines.filter(pl.col("AccountNo") == chart.COST_OF_SALES)
    overheads = lines.filter(pl.col("AccountNo").is_in(["4100", "4200", "4300", "4400", "4500"]))
    assert 0.45 < share(revenue) < 0.75
    assert 0.45 < share(cost_of_sales) < 0.75
    assert 0.02 < share(overheads) < 0.2
    notes = _debtor_lines(lines, "20", "AmtCredit").select("UnitId", "EntryNo")
    key = ["UnitId", "InvoiceId", "AccountNo", "DimAx2"]
    note_lines = lines.join(notes, on=["UnitId", "EntryNo"]).filter(pl.col("VatAmt").is_not_null())
    invoice_lines = revenue.filter(pl.col("AmtCredit") > 0).select(key).unique()
    assert note_lines["DimAx2"].drop_nulls().len() >= 2
    assert note_lines.join(invoice_lines, on=key, how="anti", nulls_equal=True).is_empty()
