"""A quarter of VAT typed out by hand, for the Dutch VAT return: a 21 % and a 9 % sale, two ICP
supplies (one to a customer whose VAT number AFAS lacks), an export, a 21 % purchase, reverse
charge from within and from outside the EU, a credit note, and the VAT payment of the previous
quarter (a line without a VAT code: it settles VAT and is part of no return). The second quarter
has one sale; everything is paid in it.

The truth of the return and of the ICP listing is typed out below the books (EXPECTED_*),
worked out by hand.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from tests.books.afas import Books, Entry, Party, cred, deb, gl

D = Decimal

ACCOUNTS = [
    # Account, Description, Type, Sort, Blocked, CollectAccount, VatAllowed, VatCode
    ("0500", "Geplaatst kapitaal", "B", "Passiva", False, False, False, None),
    ("0590", "Resultaat boekjaar", "B", "Passiva", False, False, False, None),
    ("1100", "Bank", "B", "Activa", False, False, False, None),
    ("1300", "Debiteuren", "B", "Activa", False, True, False, None),
    ("1310", "Debiteuren buitenland", "B", "Activa", False, True, False, None),
    ("1500", "Te vorderen btw", "B", "Activa", False, False, False, None),
    ("1510", "Af te dragen btw hoog", "B", "Passiva", False, False, False, None),
    ("1520", "Af te dragen btw laag", "B", "Passiva", False, False, False, None),
    ("1530", "Af te dragen btw verlegd", "B", "Passiva", False, False, False, None),
    ("1600", "Crediteuren", "B", "Passiva", False, True, False, None),
    ("1610", "Crediteuren buitenland", "B", "Passiva", False, True, False, None),
    ("4300", "Kantoorkosten", "W", "Kosten", False, False, True, "5"),
    ("4320", "Automatiseringskosten", "W", "Kosten", False, False, True, "5"),
    ("8000", "Omzet hoog tarief", "W", "Opbrengst", False, False, True, "1"),
    ("8010", "Omzet laag tarief", "W", "Opbrengst", False, False, True, "2"),
    ("8020", "Omzet export buiten EU", "W", "Opbrengst", False, False, True, "3"),
    ("8040", "Omzet binnen EU (ICP)", "W", "Opbrengst", False, False, True, "10"),
]
VAT_CODES = [
    # VatCode, Description, AccountNr, VatPerc, VatType, Blocked: the simulator's codes.
    ("1", "Btw verkoop hoog 21%", "1510", D("21.00"), "V", False),
    ("2", "Btw verkoop laag 9%", "1520", D("9.00"), "V", False),
    ("3", "Btw export buiten EU 0%", "1510", D("0.00"), "V", False),
    ("5", "Btw inkoop hoog 21%", "1500", D("21.00"), "I", False),
    ("8", "Btw verlegd inkoop binnen EU 21%", "1500", D("21.00"), "I", False),
    ("10", "ICP levering 0%", "1510", D("0.00"), "V", False),
    ("11", "Btw verlegd inkoop buiten EU 21%", "1500", D("21.00"), "I", False),
]
JOURNALS = [
    ("10", "Inkoop", "I"),
    ("20", "Verkoop", "V"),
    ("50", "Bank", "B"),
    ("80", "Memoriaal", "M"),
]
DEBTORS = [
    Party("D100", "Bakkerij Jansen B.V.", 14, "1300", vat_nr="NL001234567B01"),
    Party("D200", "Maschinenbau Köln GmbH", 30, "1310", vat_nr="DE123456789"),
    # An EU customer whose VAT number was never entered in AFAS.
    Party("D210", "Boulangerie Dupont SPRL", 30, "1310"),
    Party("D400", "Maple Trading Inc.", 30, "1310"),
]
CREDITORS = [
    Party("C100", "Kantoorhuis B.V.", 30, "1600"),
    Party("C200", "Software GmbH Berlin", 30, "1610"),
    Party("C300", "Cloud Services Inc.", 30, "1610"),
]


def _reverse_charge(invoice: str, creditor: str, net: str, vat: str, code: str) -> tuple:
    """A reverse-charge purchase: the supplier charges the net only; the VAT is booked both
    receivable (1500) and payable (1530)."""
    return (
        cred(creditor, credit=net, invoice=invoice),
        gl("4320", net, vat=code, vat_amt=vat),
        gl("1500", vat, vat=code),
        gl("1530", credit=vat, vat=code),
    )


ENTRIES = [
    Entry(1, 1, "20", "2026-01-10", "2026-01-10T10:00", (deb("D100", "1210.00", invoice="F2026-001"), gl("8000", credit="1000.00", vat="1", vat_amt="210.00"), gl("1510", credit="210.00", vat="1")), "F2026-001"),
    Entry(1, 2, "20", "2026-01-20", "2026-01-20T10:00", (deb("D100", "545.60", invoice="F2026-002"), gl("8010", credit="500.55", vat="2", vat_amt="45.05"), gl("1520", credit="45.05", vat="2")), "F2026-002"),
    Entry(1, 3, "20", "2026-02-05", "2026-02-05T10:00", (deb("D200", "4000.00", invoice="F2026-003"), gl("8040", credit="4000.00", vat="10", vat_amt="0.00")), "F2026-003"),
    Entry(1, 4, "20", "2026-02-12", "2026-02-12T10:00", (deb("D400", "2500.00", invoice="F2026-004"), gl("8020", credit="2500.00", vat="3", vat_amt="0.00")), "F2026-004"),
    Entry(1, 5, "10", "2026-02-15", "2026-02-15T10:00", (cred("C100", credit="605.12", invoice="K-100"), gl("4300", "500.10", vat="5", vat_amt="105.02"), gl("1500", "105.02", vat="5")), "K-100"),
    Entry(1, 6, "10", "2026-02-20", "2026-02-20T10:00", _reverse_charge("K-200", "C200", "1000.00", "210.00", "8"), "K-200"),
    Entry(1, 7, "10", "2026-03-03", "2026-03-03T10:00", _reverse_charge("K-300", "C300", "300.00", "63.00", "11"), "K-300"),
    # A credit note on part of the first sale.
    Entry(1, 8, "20", "2026-03-10", "2026-03-10T10:00", (deb("D100", credit="242.00", invoice="F2026-005"), gl("8000", "200.00", vat="1", vat_amt="-42.00"), gl("1510", "42.00", vat="1")), "F2026-005"),
    Entry(1, 9, "20", "2026-03-15", "2026-03-15T10:00", (deb("D210", "1500.00", invoice="F2026-006"), gl("8040", credit="1500.00", vat="10", vat_amt="0.00")), "F2026-006"),
    # The VAT of the last quarter of 2025 paid: no VAT code, part of no return.
    Entry(1, 10, "50", "2026-03-31", "2026-03-31T10:00", (gl("1510", "300.00"), gl("1100", credit="300.00")), "B2026-001"),
    Entry(1, 11, "20", "2026-04-10", "2026-04-10T10:00", (deb("D100", "605.00", invoice="F2026-007"), gl("8000", credit="500.00", vat="1", vat_amt="105.00"), gl("1510", credit="105.00", vat="1")), "F2026-007"),
    # Everything paid, so AFAS's open-item lists are empty.
    Entry(1, 12, "50", "2026-04-15", "2026-04-15T10:00", (
        gl("1100", "10118.60"),
        deb("D100", credit="1210.00", invoice="F2026-001"), deb("D100", credit="545.60", invoice="F2026-002"),
        deb("D100", "242.00", invoice="F2026-005"), deb("D100", credit="605.00", invoice="F2026-007"),
        deb("D200", credit="4000.00", invoice="F2026-003"), deb("D400", credit="2500.00", invoice="F2026-004"),
        deb("D210", credit="1500.00", invoice="F2026-006"),
    ), "B2026-002"),
    Entry(1, 13, "50", "2026-04-16", "2026-04-16T10:00", (
        cred("C100", "605.12", invoice="K-100"), cred("C200", "1000.00", invoice="K-200"),
        cred("C300", "300.00", invoice="K-300"), gl("1100", credit="1905.12"),
    ), "B2026-003"),
]  # fmt: skip


def vat_quarter_books() -> Books:
    return Books(
        administrations=[(1, "Btw Handel B.V.", "BTWHAN")],
        accounts=ACCOUNTS,
        journals=JOURNALS,
        vat_codes=VAT_CODES,
        years=(2026,),
        blocked_periods=set(),
        debtors=DEBTORS,
        creditors=CREDITORS,
        entries=ENTRIES,
        debtor_items=[],
        creditor_items=[],
        now=datetime(2026, 7, 2, 9, 0),
    )


# -- the truth, worked out by hand ----------------------------------------------------------

# rpt_vat_return, the first quarter of 2026: rubriek -> (base, VAT); None where the form has no
# such box. 1a: 1000.00 sold less the 200.00 credited; 5a: 168.00 + 45.05 + 63.00 + 210.00; 5b:
# 105.02 + 210.00 + 63.00; 5g: 486.05 - 378.02, which is the quarter's movement on 1500, 1510,
# 1520 and 1530 with a VAT code (the 300.00 paid on 1510 has none).
EXPECTED_Q1 = {
    "1a": (D("800.00"), D("168.00")),
    "1b": (D("500.55"), D("45.05")),
    "1c": (D("0.00"), D("0.00")),
    "1d": (D("0.00"), D("0.00")),
    "1e": (D("0.00"), None),
    "2a": (D("0.00"), D("0.00")),
    "3a": (D("2500.00"), None),
    "3b": (D("5500.00"), None),
    "3c": (D("0.00"), None),
    "4a": (D("300.00"), D("63.00")),
    "4b": (D("1000.00"), D("210.00")),
    "5a": (None, D("486.05")),
    "5b": (None, D("378.02")),
    "5c": (None, D("108.03")),
    "5d": (None, D("0.00")),
    "5e": (None, D("0.00")),
    "5f": (None, D("0.00")),
    "5g": (None, D("108.03")),
    "NI": (D("0.00"), D("0.00")),
}
# The same return as filed, in whole euros in the taxpayer's favour: base and VAT owed rounded
# down, voorbelasting up, 5a-5g from the rounded rubrieken (168 + 45 + 63 + 210; 379).
EXPECTED_Q1_ROUNDED = {
    "1a": (D("800"), D("168")),
    "1b": (D("500"), D("45")),
    "1c": (D("0"), D("0")),
    "1d": (D("0"), D("0")),
    "1e": (D("0"), None),
    "2a": (D("0"), D("0")),
    "3a": (D("2500"), None),
    "3b": (D("5500"), None),
    "3c": (D("0"), None),
    "4a": (D("300"), D("63")),
    "4b": (D("1000"), D("210")),
    "5a": (None, D("486")),
    "5b": (None, D("379")),
    "5c": (None, D("107")),
    "5d": (None, D("0")),
    "5e": (None, D("0")),
    "5f": (None, D("0")),
    "5g": (None, D("107")),
    "NI": (D("0"), D("0")),
}
# The second quarter: one 21 % sale; every other rubriek zero.
EXPECTED_Q2_NON_ZERO = {
    "1a": (D("500.00"), D("105.00")),
    "5a": (None, D("105.00")),
    "5c": (None, D("105.00")),
    "5g": (None, D("105.00")),
}

# rpt_icp_listing, the first quarter: (VAT number, country, debtor, status, amount).
EXPECTED_ICP_Q1 = {
    ("DE123456789", "DE", "D200", "ok", D("4000.00")),
    (None, None, "D210", "no_vat_number", D("1500.00")),
}
