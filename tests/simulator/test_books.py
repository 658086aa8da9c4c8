"""Booking primitives: the VAT lines of an entry."""

from __future__ import annotations

from afas_pipeline.simulator.books import charged_vat, vat_lines


def test_vat_lines_per_code_and_side_with_reverse_charge_first() -> None:
    coded = [("4320", "8"), ("4300", "5"), ("4300", "5"), ("4100", "7")]
    vats = [2100, 420, 21, 0]
    lines = vat_lines(coded, vats, 20_000, "INV-1", "INV-1", credit=False, voucher_day=19_998)
    booked = [(ln.account, ln.debit, ln.credit, ln.vat_code) for ln in lines]
    # Reverse charge: receivable and payable; code 5 summed on its account; 0 % books nothing.
    assert booked == [("1500", 2100, 0, "8"), ("1530", 0, 2100, "8"), ("1500", 441, 0, "5")]
    assert {(ln.entry_day, ln.voucher_day) for ln in lines} == {(20_000, 19_998)}
    assert all(ln.vat_amt == -(2**63) for ln in lines)  # VAT lines carry no VatAmt
    assert charged_vat([code for _, code in coded], vats) == 441


def test_vat_lines_of_a_sales_invoice_and_its_credit_note() -> None:
    coded = [("8000", "1"), ("8010", "2")]
    invoice = vat_lines(coded, [2100, 900], 20_000, "V1", "F1", credit=True)
    note = vat_lines(coded, [2100, 900], 20_001, "VC1", "F1", credit=False)
    assert [(ln.account, ln.debit, ln.credit) for ln in invoice] == [
        ("1510", 0, 2100),
        ("1520", 0, 900),
    ]
    assert [(ln.account, ln.debit, ln.credit) for ln in note] == [
        ("1510", 2100, 0),
        ("1520", 900, 0),
    ]
