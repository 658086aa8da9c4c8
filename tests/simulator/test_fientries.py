"""FiEntries write-back: posting, every rejection reason, and deleting entries."""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal

import polars as pl
import pytest

from afas_pipeline.simulator.environment import Environment, FiEntryRejected, SimulatorConfig
from afas_pipeline.simulator.fientries import VALIDATION_ERROR

NOW = datetime(2026, 3, 10, 14, 30)


@pytest.fixture
def env() -> Environment:
    return Environment(SimulatorConfig(journal_lines=3000, now=NOW))


def _line(vaas: str, acnr: str, debit: object = "0", credit: object = "0", **extra: object) -> dict:
    fields = {"VaAs": vaas, "AcNr": acnr, "EnDa": "2026-03-10", "BpDa": "2026-03-10"}
    return {"Fields": {**fields, "AmDe": debit, "AmCr": credit, **extra}}


def _payload(lines: list[dict], *, plain_objects: bool = False, **header: object) -> dict:
    fields = {"Year": "2026", "Peri": "3", "UnId": "1", "JoCo": "80", **header}
    sub = {"FiEntries": {"Element": lines}}
    return {
        "FiEntryPar": {"Element": {"Fields": fields, "Objects": sub if plain_objects else [sub]}}
    }


MEMO = [
    _line("1", "4300", "12.50", "0", BpNr="CORR-1", Ds="Correctie"),
    _line("1", "4310", 0, 12.5),
]


def test_post_books_an_entry_everywhere(env: Environment) -> None:
    before = env.rows("Profit_Period_balance")
    result = env.post_fi_entry(_payload(MEMO))
    assert result["UnId"] == "1"
    assert result["EnNo"].isdigit()
    assert result["InId"] == ""
    lines = env.rows("DWH_Financiele_mutaties").filter(
        (pl.col("UnitId") == 1) & (pl.col("EntryNo") == int(result["EnNo"]))
    )
    assert lines["SeqNo"].to_list() == [1, 2]
    assert lines["VoucherNo"].to_list() == ["CORR-1", None]
    assert lines["AmtDebit"].to_list() == [Decimal("12.50"), Decimal("0.00")]
    assert set(lines["Created"]) == set(lines["Mutatie_datum"]) == {NOW}
    assert lines["JournalId"].to_list() == ["80", "80"]
    after = env.rows("Profit_Period_balance")
    key = (pl.col("UnitId") == 1) & (pl.col("Year") == 2026) & (pl.col("Period") == 3)
    moved = after.filter(key & (pl.col("AccountNr") == "4300"))["Debit"].item()
    was = before.filter(key & (pl.col("AccountNr") == "4300"))["Debit"]
    assert moved - (was.item() if was.len() else 0) == Decimal("12.50")
    changed = env.rows("Profit_Fin_ChangedEntrydate")
    assert changed.filter(pl.col("EntryDate") == NOW.date())["Modified"].item() == NOW


def test_entry_numbers_continue_per_administration(env: Environment) -> None:
    top2 = env.rows("DWH_Financiele_mutaties").filter(pl.col("UnitId") == 2)["EntryNo"].max()
    first = int(env.post_fi_entry(_payload(MEMO))["EnNo"])
    second = int(env.post_fi_entry(_payload(MEMO, plain_objects=True))["EnNo"])
    assert second == first + 1
    other = int(env.post_fi_entry(_payload(MEMO, UnId=2, Year=2026, Peri=3))["EnNo"])
    assert other == top2 + 1  # every administration has its own counter
    lines = env.rows("DWH_Financiele_mutaties")
    assert lines.filter((pl.col("UnitId") == 2) & (pl.col("EntryNo") == other)).height == 2


def test_suspense_correction_settles_the_planted_invoice(env: Environment) -> None:
    p = next(p for p in env.planted.suspense_receipts if p.invoice_id is not None)
    assert p.debtor_id is not None
    amount = str(p.amount)
    lines = [
        _line("1", "2999", amount, "0", Ds="Vraagpost naar debiteur"),
        _line("2", p.debtor_id, "0", amount, InId=p.invoice_id, Ds="Vraagpost naar debiteur"),
    ]
    result = env.post_fi_entry(_payload(lines, UnId=p.unit_id, JoCo="80"))
    assert result["InId"] == p.invoice_id
    items = env.rows("Profit_Debtor_Invoices")
    assert items.filter(
        (pl.col("UnitId") == p.unit_id) & (pl.col("InvoiceNr") == p.invoice_id)
    ).is_empty()
    assert p not in env.planted.suspense_receipts
    booked = env.rows("DWH_Financiele_mutaties").filter(
        (pl.col("UnitId") == p.unit_id) & (pl.col("EntryNo") == int(result["EnNo"]))
    )
    assert booked["AccountNo"].to_list() == ["2999", "1300"]
    assert booked["DebtorId"].to_list() == [None, p.debtor_id]


def test_sales_invoice_with_vat_creates_an_open_item(env: Environment) -> None:
    lines = [
        _line("2", "10001", "121.00", "0", InId="X-1", DaEx="2026-04-10"),
        _line("1", "8000", "0", "100.00", VaId="1"),
        _line("1", "1510", "0", "21.00", VaId="1"),
    ]
    env.post_fi_entry(_payload(lines, JoCo="20"))
    item = env.rows("Profit_Debtor_Invoices").filter(pl.col("InvoiceNr") == "X-1")
    assert item["Balance"].item() == item["AmtInvoice"].item() == Decimal("121.00")
    assert item["ExpDate"].item().isoformat() == "2026-04-10"
    booked = env.rows("DWH_Financiele_mutaties").filter(pl.col("InvoiceId") == "X-1")
    assert booked.height == 1  # InId only on the line that carries it
    rev = env.rows("DWH_Financiele_mutaties").filter(
        (pl.col("UnitId") == 1) & (pl.col("AccountNo") == "8000") & (pl.col("Created") == NOW)
    )
    assert rev["VatAmt"].item() == Decimal("21.00")


REJECTIONS = [
    ({"header": {"Year": None}}, "mandatory field 'Boekjaar' (Year)"),
    ({"header": {"Peri": ""}}, "mandatory field 'Periode' (Peri)"),
    ({"header": {"JoCo": None}}, "mandatory field 'Dagboek' (JoCo)"),
    (
        {"line": {"AcNr": None}},
        "(AntaObject) There is no value entered in mandatory field 'Rekeningnummer' (AcNr).",
    ),
    ({"line": {"VaAs": None}}, "mandatory field 'Kenmerk rekening' (VaAs)"),
    ({"line": {"EnDa": None}}, "mandatory field 'Datum boeking' (EnDa)"),
    ({"line": {"BpDa": None}}, "mandatory field 'Boekstukdatum' (BpDa)"),
    (
        {"line": {"EnNo": "5"}},
        "When adding a journal entry, the journal entry number may not be specified.",
    ),
    ({"header": {"UnId": 9}}, "No unit available"),
    ({"header": {"JoCo": "77"}}, "'Journal' (JoCo) does not exist"),
    ({"header": {"JoCo": "90"}}, "Journal 90 is blocked"),
    ({"line": {"AcNr": "9998"}}, "The entered value for 'Account Number' does not exist."),
    ({"line": {"AcNr": "4999"}}, "Account 4999 is blocked."),
    ({"line": {"AcNr": "1300"}}, "collective account"),
    ({"line": {"VaAs": "2", "AcNr": "99999"}}, "The entered value for 'Debtor' does not exist."),
    ({"line": {"VaAs": "3", "AcNr": "99999"}}, "The entered value for 'Creditor' does not exist."),
    ({"line": {"VaAs": "4"}}, "(VaAs) is not valid"),
    ({"line": {"AmDe": "12.49"}}, "A financial entry must be balanced."),
    ({"line": {"AmDe": "0"}, "other": {"AmCr": "0"}}, "eErrFiEntryNoAmountOnEntryLine"),
    ({"line": {"AmDe": "12.501"}}, "Type mismatch"),
    ({"line": {"AmDe": "abc"}}, "Type mismatch"),
    ({"line": {"EnDa": "10-03-2026"}}, "Type mismatch"),
    ({"header": {"Year": "twee"}}, "Type mismatch"),
    ({"line": {"VaId": "99"}}, "ForeignkeyId=KnVat"),
    ({"line": {"VaId": "4"}}, "VAT code 4 is blocked."),
    ({"header": {"Year": 2025, "Peri": 8}}, "period 8 of the year 2025 is blocked."),
    ({"header": {"UnId": 2, "Year": 2025, "Peri": 11}}, "period 11 of the year 2025 is blocked."),
    ({"header": {"Peri": 13}}, "period 13 of the year 2026 does not exist"),
    # Period 0 of a year after the first is the year end's, not anyone's to book in.
    ({"header": {"Peri": 0}}, "period 0 of the year 2026 holds the opening balance"),
    ({"header": {"Year": 2031}}, "of the year 2031 does not exist"),
    # The open header does not help a line whose dates fall in a blocked period.
    ({"line": {"EnDa": "2025-08-10"}}, "Date '10-8-2025' belongs to a blocked period."),
    ({"line": {"BpDa": "2025-12-31"}}, "Date '31-12-2025' belongs to a blocked period."),
    ({"header": {"UnId": 2}, "line": {"BpDa": "2025-11-30"}}, "Date '30-11-2025' belongs to a"),
    ({"line": {"EnDa": "2019-01-02"}}, "Date '2-1-2019' does not belong to a period"),
    ({"line": {"AcNr": "4600", "VaId": "5"}}, "(AFASFiEntry) VAT is not allowed for account 4600."),
]


@pytest.mark.parametrize(("change", "message"), REJECTIONS)
def test_rejections(env: Environment, change: dict, message: str) -> None:
    lines = copy.deepcopy(MEMO)
    lines[0]["Fields"].update(change.get("line", {}))
    lines[1]["Fields"].update(change.get("other", {}))
    payload = _payload(lines, **change.get("header", {}))
    count = env.rows("DWH_Financiele_mutaties").height
    with pytest.raises(FiEntryRejected) as err:
        env.post_fi_entry(payload)
    assert message in err.value.message
    assert err.value.error_number == VALIDATION_ERROR
    assert env.rows("DWH_Financiele_mutaties").height == count


@pytest.mark.parametrize("unit", [1, 2, 3])
def test_a_line_dated_in_another_open_period_is_booked(env: Environment, unit: int) -> None:
    # January is still open everywhere in March (administrations 2 and 3 close a month after
    # two months, the holding whole years in February of the next).
    lines = copy.deepcopy(MEMO)
    lines[0]["Fields"]["BpDa"] = "2026-01-31"
    assert env.post_fi_entry(_payload(lines, UnId=unit))["EnNo"].isdigit()


def test_vat_lines_on_the_vat_account_carry_the_code(env: Environment) -> None:
    # The VAT account itself does not "allow VAT", yet its line carries the code (AFAS's own
    # sales example): only other accounts refuse a VAT code.
    lines = [
        _line("1", "4300", "100.00", "0", VaId="5"),
        _line("1", "1500", "21.00", "0", VaId="5"),
        _line("1", "1100", "0", "121.00"),
    ]
    assert env.post_fi_entry(_payload(lines, JoCo="80"))["EnNo"].isdigit()


def test_automatic_invoice_numbering_on_a_sales_journal(env: Environment) -> None:
    lines = [
        _line("2", "10001", "121.00", "0", BpDa="2026-03-09"),
        _line("1", "8000", "0", "100.00", VaId="1"),
        _line("1", "1510", "0", "21.00", VaId="1"),
    ]
    booked = env.rows("DWH_Financiele_mutaties").filter(pl.col("UnitId") == 1)
    existing = set(booked["InvoiceId"].drop_nulls())
    first = env.post_fi_entry(_payload(lines, JoCo="20", AuNu="1"))["InId"]
    second = env.post_fi_entry(_payload(lines, JoCo="20", AuNu=True))["InId"]
    assert first.startswith("F2026-")
    assert first not in existing
    assert int(second[6:]) == int(first[6:]) + 1  # the sales counter, shared with all invoices
    items = env.rows("Profit_Debtor_Invoices")
    item = items.filter((pl.col("UnitId") == 1) & (pl.col("InvoiceNr") == second))
    assert item["Balance"].item() == Decimal("121.00")
    # Without AuNu, or with an InId given, nothing is numbered.
    assert env.post_fi_entry(_payload(lines, JoCo="20"))["InId"] == ""
    given = [_line("2", "10001", "121.00", "0", InId="EIGEN-1"), *lines[1:]]
    assert env.post_fi_entry(_payload(given, JoCo="20", AuNu="1"))["InId"] == "EIGEN-1"


def test_delete_an_open_invoice_by_its_number(env: Environment) -> None:
    lines = [
        _line("2", "10001", "121.00", "0", InId="DEL-1"),
        _line("1", "8000", "0", "100.00", VaId="1"),
        _line("1", "1510", "0", "21.00", VaId="1"),
    ]
    env.post_fi_entry(_payload(lines, JoCo="20"))
    with pytest.raises(FiEntryRejected, match="Invoice DEL-1 does not exist in journal 10"):
        env.delete_fi_invoice(1, "10", "DEL-1")
    env.delete_fi_invoice(1, "20", "DEL-1")
    booked = env.rows("DWH_Financiele_mutaties")
    assert booked.filter(pl.col("InvoiceId") == "DEL-1").is_empty()
    assert env.rows("Profit_Debtor_Invoices").filter(pl.col("InvoiceNr") == "DEL-1").is_empty()
    with pytest.raises(FiEntryRejected, match="does not exist"):
        env.delete_fi_invoice(1, "20", "DEL-1")


def _recent_paid_invoice(lines: pl.DataFrame, unit: int) -> dict:
    """The sales invoice line of the most recent paid invoice of `unit`: its period is still
    open, so only its being matched stops a delete."""
    debtor_lines = lines.filter((pl.col("UnitId") == unit) & pl.col("DebtorId").is_not_null())
    receipts = debtor_lines.filter(pl.col("JournalId") == "50").select("InvoiceId")
    invoices = debtor_lines.filter((pl.col("JournalId") == "20") & (pl.col("AmtDebit") > 0))
    return invoices.join(receipts, on="InvoiceId").sort("EntryDate").row(-1, named=True)


def test_a_paid_invoice_cannot_be_deleted_by_its_number(env: Environment) -> None:
    lines = env.rows("DWH_Financiele_mutaties")
    count = lines.height
    with pytest.raises(FiEntryRejected, match="matched"):
        env.delete_fi_invoice(2, "20", _recent_paid_invoice(lines, 2)["InvoiceId"])
    assert env.rows("DWH_Financiele_mutaties").height == count


def test_too_many_lines(env: Environment) -> None:
    lines = [_line("1", "4300", "1.00")] * 1000 + [_line("1", "4310", "0", "1000.00")]
    with pytest.raises(FiEntryRejected, match="at most 1,000 lines"):
        env.post_fi_entry(_payload(lines))


def test_one_element_and_native_values_are_accepted(env: Environment) -> None:
    payload = _payload(MEMO, Year=2026, Peri=3, UnId=1)
    payload["FiEntryPar"]["Element"] = [payload["FiEntryPar"]["Element"]]
    assert env.post_fi_entry(payload)["UnId"] == "1"
    single = _payload([_line("1", "4300", 5, 0), _line("1", "4310", 0, "5.00")])
    single["FiEntryPar"]["Element"]["Objects"][0]["FiEntries"]["Element"][0]["Fields"]["DaEx"] = (
        "2026-04-01"
    )
    assert env.post_fi_entry(single)["EnNo"].isdigit()


def test_delete_posted_memorial_entry(env: Environment) -> None:
    entry_no = int(env.post_fi_entry(_payload(MEMO))["EnNo"])
    env.advance(days=1)
    env.delete_fi_entry(1, "80", entry_no)
    lines = env.rows("DWH_Financiele_mutaties")
    assert lines.filter((pl.col("UnitId") == 1) & (pl.col("EntryNo") == entry_no)).is_empty()
    changed = env.rows("Profit_Fin_ChangedEntrydate")
    assert changed.filter(pl.col("EntryDate") == NOW.date())["Modified"].item() == env.now()
    with pytest.raises(FiEntryRejected, match="does not exist"):
        env.delete_fi_entry(1, "80", entry_no)


def test_delete_rejections(env: Environment) -> None:
    lines = env.rows("DWH_Financiele_mutaties")
    entry_no = int(env.post_fi_entry(_payload(MEMO))["EnNo"])
    with pytest.raises(FiEntryRejected, match="does not exist in journal 50"):
        env.delete_fi_entry(1, "50", entry_no)
    with pytest.raises(FiEntryRejected, match="No unit available"):
        env.delete_fi_entry(7, "80", entry_no)
    bank = lines.filter((pl.col("UnitId") == 2) & (pl.col("JournalId") == "50"))["EntryNo"][-1]
    with pytest.raises(FiEntryRejected, match="Only entries of a sales or purchase"):
        env.delete_fi_entry(2, "50", bank)
    with pytest.raises(FiEntryRejected, match="matched"):
        env.delete_fi_entry(2, "20", _recent_paid_invoice(lines, 2)["EntryNo"])
    old = lines.filter(
        (pl.col("UnitId") == 1) & (pl.col("JournalId") == "80") & (pl.col("Year") == 2025)
    )
    with pytest.raises(FiEntryRejected, match="is blocked"):
        env.delete_fi_entry(1, "80", old["EntryNo"][0])


def test_delete_open_sales_invoice_updates_open_items(env: Environment) -> None:
    items = env.rows("Profit_Debtor_Invoices").filter(
        (pl.col("UnitId") == 3)
        & (pl.col("Balance") == pl.col("AmtInvoice"))
        & pl.col("InvoiceNr").str.starts_with("F")  # a sales invoice, not an opening item
    )
    invoice = items.sort("NookPieceDate").row(-1, named=True)  # in a period still open
    lines = env.rows("DWH_Financiele_mutaties")
    entry_no = lines.filter(
        (pl.col("UnitId") == 3) & (pl.col("InvoiceId") == invoice["InvoiceNr"])
    )["EntryNo"][0]
    env.delete_fi_entry(3, "20", entry_no)
    after = env.rows("Profit_Debtor_Invoices")
    assert after.filter(
        (pl.col("UnitId") == 3) & (pl.col("InvoiceNr") == invoice["InvoiceNr"])
    ).is_empty()
