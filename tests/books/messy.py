"""Messy books, typed out by hand: what real AFAS administrations contain and a generator that
books every invoice before its payment never shows.

Two administrations, January to March 2026, "now" 2026-03-20; January is closed in
administration 1. Entry numbers follow the order the entries were made (`created`), not their
dates: a prepayment comes before its invoice, a migration of opening items comes weeks after the
first entries, a hand-made suspense clearing comes before the bank receipt it clears.

The truth of every reconciliation mart on these books is typed out below the books (EXPECTED_*),
worked out by hand from the entries, not computed.
"""

from __future__ import annotations

from decimal import Decimal

from tests.books.afas import Books, Entry, OpenItem, Party, cred, deb, gl

D = Decimal

ACCOUNTS = [
    # Account, Description, Type, Sort, Blocked, CollectAccount, VatAllowed, VatCode
    ("0500", "Eigen vermogen", "B", "Passiva", False, False, False, None),
    ("1100", "Bank", "B", "Activa", False, False, False, None),
    ("1300", "Debiteuren", "B", "Activa", False, True, False, None),
    ("1310", "Debiteuren buitenland", "B", "Activa", False, True, False, None),
    ("1500", "Te vorderen btw", "B", "Activa", False, False, False, None),
    ("1510", "Af te dragen btw hoog", "B", "Passiva", False, False, False, None),
    ("1530", "Af te dragen btw verlegd", "B", "Passiva", False, False, False, None),
    ("1600", "Crediteuren", "B", "Passiva", False, True, False, None),
    ("2999", "Vraagposten", "B", "Passiva", False, False, False, None),
    ("4300", "Kantoorkosten", "W", "Kosten", False, False, True, "5"),
    ("4500", "Advieskosten", "W", "Kosten", False, False, True, "5"),
    ("4990", "Betalingsverschillen", "W", "Kosten", False, False, False, None),
    ("8000", "Omzet hoog tarief", "W", "Opbrengst", False, False, True, "1"),
    ("8100", "Omzet vrijgesteld", "W", "Opbrengst", False, False, True, "9"),
]
VAT_CODES = [
    # VatCode, Description, AccountNr, VatPerc, VatType, Blocked
    ("1", "Btw verkoop hoog 21%", "1510", D("21.00"), "V", False),
    ("5", "Btw inkoop hoog 21%", "1500", D("21.00"), "I", False),
    # Reverse charge as some administrators set it up: 0 % charged by the supplier, 21 % booked
    # both as receivable and as payable. Not a plain percentage of the line.
    ("12", "Btw verlegd inkoop", "1500", D("0.00"), "I", False),
    ("9", "Vrijgesteld van btw", "1510", D("0.00"), "V", False),
]
JOURNALS = [
    ("10", "Inkoop", "I"),
    ("20", "Verkoop", "V"),
    ("50", "Bank", "B"),
    ("70", "Memoriaal beginbalans", "M"),
    ("80", "Memoriaal", "M"),
]
DEBTORS = [
    Party("D100", "Bakkerij Jansen B.V.", 14, "1300"),
    Party("D101", "Drukkerij De Vries", 30, "1300"),
    Party("D102", "Autobedrijf Smit", 30, "1300"),
    Party("D103", "Kaashandel Bos", 14, "1300"),
    Party("D104", "Hoveniersbedrijf Visser", 30, "1300"),
    Party("D105", "Export GmbH Köln", 30, "1310"),
    Party("D106", "Tandartspraktijk Mulder", 14, "1300"),
]
CREDITORS = [
    Party("C200", "KPN B.V.", 30, "1600"),
    Party("C201", "Staples Nederland B.V.", 30, "1600"),
    Party("C202", "Deloitte Accountants B.V.", 30, "1600"),
    Party("C203", "Microsoft Ireland", 30, "1600"),
    Party("C204", "Eneco B.V.", 30, "1600"),
]


def _sale(invoice: str, debtor: str, net: str, vat: str, code: str = "1") -> tuple:
    """Lines of a plain sales invoice: debtor gross, revenue net with its code, VAT."""
    gross = str(D(net) + D(vat))
    revenue = "8000" if code == "1" else "8100"
    lines = [deb(debtor, gross, invoice=invoice), gl(revenue, credit=net, vat=code, vat_amt=vat)]
    if D(vat):
        lines.append(gl("1510", credit=vat, vat=code))
    return tuple(lines)


def _purchase(invoice: str, creditor: str, account: str, net: str, vat: str) -> tuple:
    gross = str(D(net) + D(vat))
    return (
        cred(creditor, credit=gross, invoice=invoice),
        gl(account, net, vat="5", vat_amt=vat),
        gl("1500", vat, vat="5"),
    )


def _bank(amount: str, other: object) -> tuple:
    return (gl("1100", amount), other)


ADMINISTRATION_1 = [
    Entry(1, 1, "20", "2026-01-05", "2026-01-05T10:00", _sale("F2026-0001", "D100", "100.00", "21.00"), "V2026-0001"),
    # A prepayment: the receipt for an invoice still to come (its entry 7 has a higher number).
    Entry(1, 2, "50", "2026-01-06", "2026-01-06T09:00", _bank("242.00", deb("D101", credit="242.00", invoice="F2026-0003")), "B2026-0001"),
    Entry(1, 3, "50", "2026-01-07", "2026-01-07T09:10", _bank("100.00", deb("D102", credit="100.00", invoice="F2026-0004")), "B2026-0002"),
    Entry(1, 4, "10", "2026-01-08", "2026-01-08T11:00", _purchase("INV-1001", "C201", "4300", "500.00", "105.00"), "INV-1001"),
    # The same purchase invoice entered twice under the same number at the same creditor.
    Entry(1, 5, "10", "2026-01-09", "2026-01-09T14:00", _purchase("INV-1001", "C201", "4300", "500.00", "105.00"), "INV-1001", "2026-01-08"),
    Entry(1, 6, "50", "2026-01-12", "2026-01-12T10:00", _bank("121.00", deb("D100", credit="121.00", invoice="F2026-0001")), "B2026-0003"),
    Entry(1, 7, "20", "2026-01-14", "2026-01-14T10:00", _sale("F2026-0003", "D101", "200.00", "42.00"), "V2026-0003"),
    Entry(1, 8, "20", "2026-01-15", "2026-01-15T10:00", _sale("F2026-0004", "D102", "100.00", "21.00"), "V2026-0004"),
    Entry(1, 9, "50", "2026-01-16", "2026-01-16T10:00", (cred("C201", "605.00", invoice="INV-1001"), gl("1100", credit="605.00")), "B2026-0004"),
    # The same number at another creditor: not a duplicate.
    Entry(1, 10, "10", "2026-01-19", "2026-01-19T10:00", _purchase("INV-1001", "C202", "4500", "1000.00", "210.00"), "INV-1001"),
    # Opening items migrated from the previous system weeks after the first entries.
    Entry(1, 11, "70", "2026-01-01", "2026-01-20T16:00", (
        deb("D103", "500.00", invoice="OB-2025-017", description="Beginbalans"),
        deb("D104", "250.00", invoice="OB-2025-021", description="Beginbalans"),
        cred("C204", credit="300.00", invoice="E-88231", description="Beginbalans"),
        gl("0500", credit="450.00", description="Beginbalans"),
    ), "MIG-2026-01", "2025-12-31"),
    Entry(1, 12, "50", "2026-02-02", "2026-02-02T10:00", _bank("500.00", deb("D103", credit="500.00", invoice="OB-2025-017")), "B2026-0005"),
    # A debtor on the second collect account (1310); exempt revenue.
    Entry(1, 13, "20", "2026-02-03", "2026-02-03T10:00", _sale("F2026-0005", "D105", "1000.00", "0.00", "9"), "V2026-0005"),
    # One invoice, two debtor lines (instalments).
    Entry(1, 14, "20", "2026-02-04", "2026-02-04T10:00", (
        deb("D106", "121.00", invoice="F2026-0006", description="Termijn 1"),
        deb("D106", "121.00", invoice="F2026-0006", description="Termijn 2"),
        gl("8000", credit="200.00", vat="1", vat_amt="42.00"),
        gl("1510", credit="42.00", vat="1"),
    ), "V2026-0006"),
    Entry(1, 15, "20", "2026-02-05", "2026-02-05T10:00", _sale("F2026-0007", "D100", "200.00", "42.00"), "V2026-0007", modified="2026-02-06T08:00"),
    Entry(1, 16, "20", "2026-02-09", "2026-02-09T10:00", _sale("F2026-0010", "D103", "300.00", "63.00"), "V2026-0010"),
    # A credit note for half of F2026-0007, on the same number; VatAmt positive, as on invoices.
    Entry(1, 17, "20", "2026-02-10", "2026-02-10T10:00", (
        deb("D100", credit="121.00", invoice="F2026-0007", description="Creditnota"),
        gl("8000", "100.00", vat="1", vat_amt="21.00"),
        gl("1510", "21.00", vat="1"),
    ), "V2026-0007C"),
    # Reverse charge: the VAT is both receivable and payable.
    Entry(1, 18, "10", "2026-02-11", "2026-02-11T10:00", (
        cred("C203", credit="100.00", invoice="E0300012345"),
        gl("4500", "100.00", vat="12", vat_amt="21.00"),
        gl("1500", "21.00", vat="12"),
        gl("1530", credit="21.00", vat="12"),
    ), "E0300012345"),
    Entry(1, 19, "10", "2026-02-12", "2026-02-12T10:00", _purchase("2026-0042", "C200", "4300", "100.00", "21.00"), "2026-0042"),
    # The same invoice entered again, its number written without the dash.
    Entry(1, 20, "10", "2026-02-13", "2026-02-13T10:00", _purchase("20260042", "C200", "4300", "100.00", "21.00"), "20260042", "2026-02-12"),
    Entry(1, 21, "10", "2026-02-16", "2026-02-16T10:00", _purchase("ST-551", "C201", "4300", "50.00", "10.50"), "ST-551"),
    # Another number, same creditor, date and amount: a suspected duplicate.
    Entry(1, 22, "10", "2026-02-17", "2026-02-17T10:00", _purchase("ST-552", "C201", "4300", "50.00", "10.50"), "ST-552", "2026-02-16"),
    # Input VAT booked wrong: 18.00 where 21 % of 200.00 is 42.00.
    Entry(1, 23, "10", "2026-02-18", "2026-02-18T10:00", _purchase("D-7781", "C202", "4500", "200.00", "18.00"), "D-7781"),
    # Sales VAT stated wrong on the invoice: 9.00 where 21 % of 100.00 is 21.00.
    Entry(1, 24, "20", "2026-02-19", "2026-02-19T10:00", _sale("F2026-0008", "D104", "100.00", "9.00"), "V2026-0008"),
    # VAT per line (0.03 each) is 0.09, 21 % of the total 0.36 is 0.0756: within AFAS's rounding.
    Entry(1, 25, "20", "2026-02-20", "2026-02-20T10:00", (
        deb("D100", "0.45", invoice="F2026-0009"),
        gl("8000", credit="0.12", vat="1", vat_amt="0.03"),
        gl("8000", credit="0.12", vat="1", vat_amt="0.03"),
        gl("8000", credit="0.12", vat="1", vat_amt="0.03"),
        gl("1510", credit="0.09", vat="1"),
    ), "V2026-0009"),
    Entry(1, 26, "20", "2026-02-23", "2026-02-23T10:00", _sale("F2026-0011", "D101", "150.00", "0.00", "9"), "V2026-0011"),
    Entry(1, 27, "20", "2026-02-23", "2026-02-23T10:05", _sale("F2026-0012", "D101", "150.00", "0.00", "9"), "V2026-0012"),
    # Suspense: a receipt naming its invoice (open, clearing proposed) ...
    Entry(1, 28, "50", "2026-02-24", "2026-02-24T10:00", (
        gl("1100", "363.00", description="Onbekende betaling Kaashandel Bos fact 2026 0010"),
        gl("2999", credit="363.00", description="Onbekende betaling Kaashandel Bos fact 2026 0010"),
    ), "B2026-0006"),
    # ... one nobody can place (open, nothing proposed) ...
    Entry(1, 29, "50", "2026-02-24", "2026-02-24T10:01", (
        gl("1100", "57.35", description="Storting"),
        gl("2999", credit="57.35", description="Storting"),
    ), "B2026-0007"),
    # ... one that fits two open invoices of the debtor it names (open, nothing proposed) ...
    Entry(1, 30, "50", "2026-02-25", "2026-02-25T10:00", (
        gl("1100", "150.00", description="Betaling Drukkerij De Vries"),
        gl("2999", credit="150.00", description="Betaling Drukkerij De Vries"),
    ), "B2026-0008"),
    Entry(1, 31, "20", "2026-02-25", "2026-02-25T11:00", _sale("F2026-0013", "D102", "80.00", "0.00", "9"), "V2026-0013"),
    # ... one cleared by hand days later (both closed) ...
    Entry(1, 32, "50", "2026-02-26", "2026-02-26T10:00", (
        gl("1100", "80.00", description="Ontvangst Autobedrijf Smit"),
        gl("2999", credit="80.00", description="Ontvangst Autobedrijf Smit"),
    ), "B2026-0009"),
    Entry(1, 33, "80", "2026-02-26", "2026-03-02T09:00", (
        gl("2999", "80.00", description="Vraagpost naar F2026-0013"),
        deb("D102", credit="80.00", invoice="F2026-0013"),
    ), "M2026-0001"),
    Entry(1, 34, "20", "2026-03-02", "2026-03-02T09:30", _sale("F2026-0014", "D106", "99.00", "0.00", "9"), "V2026-0014"),
    # ... and one cleared by hand before the bank receipt was even imported (both closed) ...
    Entry(1, 35, "80", "2026-03-03", "2026-03-03T09:00", (
        gl("2999", "99.00", description="Betaling Mulder volgens klant"),
        deb("D106", credit="99.00", invoice="F2026-0014"),
    ), "M2026-0002"),
    Entry(1, 36, "50", "2026-03-03", "2026-03-04T10:00", (
        gl("1100", "99.00", description="Ontvangst Tandartspraktijk Mulder"),
        gl("2999", credit="99.00", description="Ontvangst Tandartspraktijk Mulder"),
    ), "B2026-0010"),
    # ... and a payment out nobody can place (open, a debit on suspense).
    Entry(1, 37, "50", "2026-03-05", "2026-03-05T10:00", (
        gl("2999", "45.00", description="Onbekende afschrijving"),
        gl("1100", credit="45.00", description="Onbekende afschrijving"),
    ), "B2026-0011"),
    Entry(1, 38, "20", "2026-03-06", "2026-03-06T10:00", _sale("F2026-0015", "D104", "100.00", "0.00", "9"), "V2026-0015"),
    # Paid three cents short.
    Entry(1, 39, "50", "2026-03-09", "2026-03-09T10:00", _bank("99.97", deb("D104", credit="99.97", invoice="F2026-0015")), "B2026-0012"),
    Entry(1, 40, "10", "2026-03-10", "2026-03-10T10:00", _purchase("2026-0050", "C200", "4300", "200.00", "42.00"), "2026-0050"),
    # A purchase credit note on the same number: not a duplicate, it closes the item.
    Entry(1, 41, "10", "2026-03-11", "2026-03-11T10:00", (
        cred("C200", "242.00", invoice="2026-0050"),
        gl("4300", credit="200.00", vat="5", vat_amt="42.00"),
        gl("1500", credit="42.00", vat="5"),
    ), "2026-0050C"),
]  # fmt: skip

ADMINISTRATION_2 = [
    # The numbers of administration 1 recur here: not duplicates.
    Entry(2, 1, "10", "2026-01-12", "2026-01-12T10:00", _purchase("INV-1001", "C201", "4300", "500.00", "105.00"), "INV-1001"),
    Entry(2, 2, "20", "2026-02-02", "2026-02-02T10:00", _sale("F2026-0001", "D100", "200.00", "42.00"), "V2026-0001"),
    # A full credit note whose VatAmt is signed the other way (negative): also right.
    Entry(2, 3, "20", "2026-02-06", "2026-02-06T10:00", (
        deb("D100", credit="242.00", invoice="F2026-0001", description="Creditnota"),
        gl("8000", "200.00", vat="1", vat_amt="-42.00"),
        gl("1510", "42.00", vat="1"),
    ), "V2026-0001C"),
    Entry(2, 4, "20", "2026-03-02", "2026-03-02T10:00", _sale("F2026-0002", "D101", "400.00", "84.00"), "V2026-0002"),
    Entry(2, 5, "50", "2026-03-09", "2026-03-09T10:00", (
        gl("1100", "484.00", description="Betaling fact 2026-0002 Drukkerij De Vries"),
        gl("2999", credit="484.00", description="Betaling fact 2026-0002 Drukkerij De Vries"),
    ), "B2026-0001"),
]  # fmt: skip


def _items(rows: list[tuple]) -> list[OpenItem]:
    return [OpenItem(*row) for row in rows]


# AFAS's own open-item lists, as Profit shows them on 2026-03-20 (worked out by hand).
DEBTOR_ITEMS = _items([
    (1, "D102", "F2026-0004", "2026-01-15", "2026-02-14", "121.00", "21.00"),
    # The migration gave this item its due date: not the voucher date plus the payment term.
    (1, "D104", "OB-2025-021", "2025-12-31", "2026-02-15", "250.00", "250.00"),
    (1, "D105", "F2026-0005", "2026-02-03", "2026-03-05", "1000.00", "1000.00"),
    (1, "D106", "F2026-0006", "2026-02-04", "2026-02-18", "242.00", "242.00"),
    (1, "D100", "F2026-0007", "2026-02-05", "2026-02-19", "242.00", "121.00"),
    (1, "D103", "F2026-0010", "2026-02-09", "2026-02-23", "363.00", "363.00"),
    (1, "D104", "F2026-0008", "2026-02-19", "2026-03-21", "109.00", "109.00"),
    (1, "D100", "F2026-0009", "2026-02-20", "2026-03-06", "0.45", "0.45"),
    (1, "D101", "F2026-0011", "2026-02-23", "2026-03-25", "150.00", "150.00"),
    (1, "D101", "F2026-0012", "2026-02-23", "2026-03-25", "150.00", "150.00"),
    (1, "D104", "F2026-0015", "2026-03-06", "2026-04-05", "100.00", "0.03"),
    (2, "D101", "F2026-0002", "2026-03-02", "2026-04-01", "484.00", "484.00"),
])  # fmt: skip
CREDITOR_ITEMS = _items([
    # Both entries of the duplicate hold this one item; AmtInvoice is the first entry's.
    (1, "C201", "INV-1001", "2026-01-08", "2026-02-07", "605.00", "605.00"),
    (1, "C202", "INV-1001", "2026-01-19", "2026-02-18", "1210.00", "1210.00"),
    (1, "C204", "E-88231", "2025-12-31", "2026-01-30", "300.00", "300.00"),
    (1, "C203", "E0300012345", "2026-02-11", "2026-03-13", "100.00", "100.00"),
    (1, "C200", "2026-0042", "2026-02-12", "2026-03-14", "121.00", "121.00"),
    (1, "C200", "20260042", "2026-02-12", "2026-03-14", "121.00", "121.00"),
    (1, "C201", "ST-551", "2026-02-16", "2026-03-18", "60.50", "60.50"),
    (1, "C201", "ST-552", "2026-02-16", "2026-03-18", "60.50", "60.50"),
    (1, "C202", "D-7781", "2026-02-18", "2026-03-20", "218.00", "218.00"),
    (2, "C201", "INV-1001", "2026-01-12", "2026-02-11", "605.00", "605.00"),
])  # fmt: skip


def messy_books() -> Books:
    return Books(
        administrations=[
            (1, "Boekhoud Holding B.V.", "BHHOLD"),
            (2, "Boekhoud Handel B.V.", "BHHAN"),
        ],
        accounts=ACCOUNTS,
        journals=JOURNALS,
        vat_codes=VAT_CODES,
        years=(2026,),
        blocked_periods={(1, 2026, 1)},
        debtors=DEBTORS,
        creditors=CREDITORS,
        entries=ADMINISTRATION_1 + ADMINISTRATION_2,
        debtor_items=DEBTOR_ITEMS,
        creditor_items=CREDITOR_ITEMS,
        # AFAS's own balance of revenue in March (an open period) of administration 2 holds
        # 10.00 more credit than its lines: a difference the warehouse must show, not hide.
        balance_overrides={(2, 2026, 3, "8000"): ("0", "10.00")},
    )


# -- the truth, worked out by hand ----------------------------------------------------------

# rec_suspense_items where status = 'open': (administration, entry, seq, parked amount,
# matched debtor, matched invoice, match basis, clearing proposed). They sum to the suspense
# account's balance: administration 1 credits 749.35 - debits 224.00 = 525.35.
EXPECTED_OPEN_SUSPENSE = {
    (1, 28, 2, D("363.00"), "D103", "F2026-0010", "invoice_and_amount", True),
    (1, 29, 2, D("57.35"), None, None, "no_match", False),
    (1, 30, 2, D("150.00"), None, None, "ambiguous", False),
    (1, 37, 1, D("-45.00"), None, None, "no_match", False),
    (2, 5, 2, D("484.00"), "D101", "F2026-0002", "invoice_and_amount", True),
}
# rec_suspense_items whose status is 'cleared': cleared by hand, in either entry order.
EXPECTED_CLEARED_SUSPENSE = {(1, 32, 2), (1, 33, 1), (1, 35, 1), (1, 36, 2)}
SUSPENSE_BALANCE = {1: D("525.35"), 2: D("484.00")}

# rec_duplicate_invoices: (administration, creditor, original invoice, duplicate invoice,
# original entry, duplicate entry, amount, matched on).
EXPECTED_DUPLICATES = {
    (1, "C201", "INV-1001", "INV-1001", 4, 5, D("605.00"), "same_number"),
    (1, "C200", "2026-0042", "20260042", 19, 20, D("121.00"), "number_format"),
    (1, "C201", "ST-551", "ST-552", 21, 22, D("60.50"), "date_and_amount"),
}

# rec_vat_mismatches: (administration, entry, VAT code, VAT type, net, expected, booked,
# difference, remedy). Credit notes, reverse charge, exempt codes and per-line rounding: none.
EXPECTED_VAT = {
    (1, 23, "5", "I", D("200.00"), D("42.00"), D("18.00"), D("-24.00"), "journal_correction"),
    (1, 24, "1", "V", D("100.00"), D("21.00"), D("9.00"), D("-12.00"), "credit_note"),
}

# rec_rounding_differences where open: (administration, party type, party, invoice, invoice
# amount, difference).
EXPECTED_ROUNDING = {(1, "debtor", "D104", "F2026-0015", D("100.00"), D("0.03"))}

# rec_open_items_vs_afas rows that are not 'ok': (administration, party type, party, invoice,
# status). The open amounts of every party equal AFAS's.
EXPECTED_OPEN_ITEM_FINDINGS = {(1, "debtor", "D104", "OB-2025-021", "due_date_difference")}

# rec_gl_vs_afas rows that are not 'ok': (administration, year, period, account, difference,
# period closed).
EXPECTED_GL_FINDINGS = {(2, 2026, 3, "8000", D("10.00"), False)}

# rec_subledger_vs_control: (administration, party type, collect account, open amount), all ok.
EXPECTED_SUBLEDGERS = {
    (1, "debtor", "1300", D("1406.48")),
    (1, "debtor", "1310", D("1000.00")),
    (1, "creditor", "1600", D("2796.00")),
    (2, "debtor", "1300", D("484.00")),
    (2, "creditor", "1600", D("605.00")),
}

# corrections_proposed: (correction type, source ref) -> its lines (account kind, account,
# debit, credit, invoice).
EXPECTED_CORRECTIONS = {
    ("suspense_clearing", "1/28/2"): [
        ("1", "2999", D("363.00"), D("0.00"), None),
        ("2", "D103", D("0.00"), D("363.00"), "F2026-0010"),
    ],
    ("suspense_clearing", "2/5/2"): [
        ("1", "2999", D("484.00"), D("0.00"), None),
        ("2", "D101", D("0.00"), D("484.00"), "F2026-0002"),
    ],
    # Too little input VAT: 24.00 from the cost account to the VAT account.
    ("vat_correction", "1/23/5"): [
        ("1", "4500", D("0.00"), D("24.00"), None),
        ("1", "1500", D("24.00"), D("0.00"), None),
    ],
    ("rounding_write_off", "1/D104/F2026-0015"): [
        ("2", "D104", D("0.00"), D("0.03"), "F2026-0015"),
        ("1", "4990", D("0.03"), D("0.00"), None),
    ],
}

# rpt_ar_aging on the data's as-of date 2026-03-11 (the newest booking date): (administration,
# debtor, not due, 1-30, 31-60, 61-90, over 90, total). D104's migrated item is due on AFAS's
# 2026-02-15 (24 days), not the 2026-01-30 its voucher date and term would give (40 days).
EXPECTED_AR_AGING = {
    (1, "D100", D("0.00"), D("121.45"), D("0.00"), D("0.00"), D("0.00"), D("121.45")),
    (1, "D101", D("300.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("300.00")),
    (1, "D102", D("0.00"), D("21.00"), D("0.00"), D("0.00"), D("0.00"), D("21.00")),
    (1, "D103", D("0.00"), D("363.00"), D("0.00"), D("0.00"), D("0.00"), D("363.00")),
    (1, "D104", D("109.03"), D("250.00"), D("0.00"), D("0.00"), D("0.00"), D("359.03")),
    (1, "D105", D("0.00"), D("1000.00"), D("0.00"), D("0.00"), D("0.00"), D("1000.00")),
    (1, "D106", D("0.00"), D("242.00"), D("0.00"), D("0.00"), D("0.00"), D("242.00")),
    (2, "D101", D("484.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("484.00")),
}

# fct_trial_balance closing balances at the end of March 2026 (debit - credit).
EXPECTED_CLOSING = {
    (1, "2999"): D("-525.35"),
    (1, "1300"): D("1406.48"),
    (1, "1310"): D("1000.00"),
    (1, "1600"): D("-2796.00"),
    (1, "1530"): D("-21.00"),
    (2, "2999"): D("-484.00"),
}
