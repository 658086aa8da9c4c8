"""AFAS's open-item lists (Profit_Debtor_Invoices / Profit_Creditor_Invoices) on entries typed
out through FiEntries: the invoice of an item is what the sales or purchase journal booked on
the invoice's side, whatever the entry numbers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest

from afas_pipeline.simulator.environment import Environment, SimulatorConfig

NOW = datetime(2026, 3, 10, 14, 30)


@pytest.fixture
def env() -> Environment:
    return Environment(SimulatorConfig(journal_lines=1500, now=NOW))


def _line(vaas: str, account: str, debit: str, credit: str, entry: str, **fields: str) -> dict:
    """A FiEntries line; `entry` is its entry date, BpDa defaults to it."""
    values = {"VaAs": vaas, "AcNr": account, "AmDe": debit, "AmCr": credit, "EnDa": entry}
    return {"Fields": {**values, "BpDa": entry, **fields}}


def _post(env: Environment, journal: str, *lines: dict) -> int:
    """Post one entry in administration 1; returns its EnNo."""
    header = {"Year": 2026, "Peri": 3, "UnId": 1, "JoCo": journal}
    objects = [{"FiEntries": {"Element": list(lines)}}]
    return int(
        env.post_fi_entry({"FiEntryPar": {"Element": {"Fields": header, "Objects": objects}}})[
            "EnNo"
        ]
    )


def _item(env: Environment, connector: str, invoice: str) -> dict | None:
    rows = env.rows(connector).filter(pl.col("InvoiceNr") == invoice)
    assert rows.height <= 1
    return rows.row(0, named=True) if rows.height else None


def _term(env: Environment, debtor: str) -> int:
    debtors = env.rows("DWH_Debiteuren")
    return int(debtors.filter(pl.col("DebtorId") == debtor)["PayCon"].item())


def test_a_prepayment_is_a_credit_item_until_its_invoice_is_booked(env: Environment) -> None:
    debtor, day = "10001", "2026-03-10"
    term = _term(env, debtor)
    receipt = _post(
        env,
        "50",
        _line("1", "1100", "100.00", "0", day),
        _line("2", debtor, "0", "100.00", day, InId="PRE-1", Ds="Vooruitbetaling"),
    )
    item = _item(env, "Profit_Debtor_Invoices", "PRE-1")
    assert item is not None
    assert (item["Balance"], item["AmtInvoice"]) == (Decimal("-100.00"), Decimal("-100.00"))
    assert item["NookPieceDate"] == date(2026, 3, 10)
    assert item["ExpDate"] == date(2026, 3, 10) + timedelta(days=term)
    assert item["Description"] == "Vooruitbetaling"

    # A credit note on the number, dated before the invoice, is not the invoice.
    _post(
        env,
        "20",
        _line("2", debtor, "0", "30.00", "2026-03-02", InId="PRE-1"),
        _line("1", "8000", "30.00", "0", "2026-03-02"),
    )
    # The invoice: a higher entry number than the receipt, an earlier entry date.
    invoice = _post(
        env,
        "20",
        _line("2", debtor, "150.00", "0", "2026-03-09", BpDa="2026-03-05", InId="PRE-1", Ds="F"),
        _line("1", "8000", "0", "150.00", "2026-03-09", BpDa="2026-03-05"),
    )
    assert invoice > receipt
    item = _item(env, "Profit_Debtor_Invoices", "PRE-1")
    assert item is not None
    assert (item["Balance"], item["AmtInvoice"]) == (Decimal("20.00"), Decimal("150.00"))
    assert item["NookPieceDate"] == date(2026, 3, 5)
    assert item["ExpDate"] == date(2026, 3, 5) + timedelta(days=term)
    assert item["Description"] == "F"


def test_a_given_due_date_wins_and_a_settled_item_leaves_the_list(env: Environment) -> None:
    creditor, day = env.rows("DWH_Crediteuren")["CreditorId"][0], "2026-03-10"
    _post(
        env,
        "10",
        _line("3", creditor, "0", "242.00", day, BpDa="2026-03-08", InId="S-7", DaEx="2026-04-30"),
        _line("1", "4300", "200.00", "0", day, BpDa="2026-03-08", VaId="5"),
        _line("1", "1500", "42.00", "0", day, BpDa="2026-03-08", VaId="5"),
    )
    item = _item(env, "Profit_Creditor_Invoices", "S-7")
    assert item is not None
    assert (item["Balance"], item["AmtInvoice"]) == (Decimal("242.00"), Decimal("242.00"))
    assert (item["BookPieceDate"], item["ExpDate"]) == (date(2026, 3, 8), date(2026, 4, 30))
    _post(
        env,
        "50",
        _line("3", creditor, "242.00", "0", day, InId="S-7"),
        _line("1", "1100", "0", "242.00", day),
    )
    assert _item(env, "Profit_Creditor_Invoices", "S-7") is None
