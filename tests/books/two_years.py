"""Two years of a small group's books, typed out by hand, across a year end: AFAS's opening
balance entry in period 0 of the first year, AFAS's own period 0 of the second (computed at the
year end: no lines), a fixed asset bought and depreciated (on cost centre 200; the rent on 100),
and a management fee between the two administrations that the subsidiary books a month late.

The truth of the statements, the cash flow, the consolidation and the intercompany check is
typed out below the books (EXPECTED_*), worked out by hand.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from tests.books.afas import Books, Entry, Party, cred, deb, gl

D = Decimal

ACCOUNTS = [
    # Account, Description, Type, Sort, Blocked, CollectAccount, VatAllowed, VatCode
    ("0200", "Inventaris", "B", "Activa", False, False, True, "5"),
    ("0210", "Afschrijving inventaris", "B", "Activa", False, False, False, None),
    ("0500", "Geplaatst kapitaal", "B", "Passiva", False, False, False, None),
    ("0590", "Resultaat boekjaar", "B", "Passiva", False, False, False, None),
    ("1100", "Bank", "B", "Activa", False, False, False, None),
    ("1300", "Debiteuren", "B", "Activa", False, True, False, None),
    ("1410", "R/C Boekhoud Handel B.V.", "B", "Activa", False, False, False, None),
    ("1500", "Te vorderen btw", "B", "Activa", False, False, False, None),
    ("1510", "Af te dragen btw hoog", "B", "Passiva", False, False, False, None),
    ("1600", "Crediteuren", "B", "Passiva", False, True, False, None),
    ("1750", "R/C Boekhoud Holding B.V.", "B", "Passiva", False, False, False, None),
    ("4100", "Huur", "W", "Kosten", False, False, True, "5"),
    ("4600", "Afschrijvingskosten", "W", "Kosten", False, False, False, None),
    ("4800", "Management fee holding", "W", "Kosten", False, False, False, None),
    ("4900", "Bankkosten", "W", "Kosten", False, False, False, None),
    # Outside every range of the seed report_account_ranges: the statements cannot place it.
    ("5100", "Diverse lasten", "W", "Kosten", False, False, False, None),
    ("8000", "Omzet hoog tarief", "W", "Opbrengst", False, False, True, "1"),
    ("8200", "Management fee", "W", "Opbrengst", False, False, False, None),
]
VAT_CODES = [
    ("1", "Btw verkoop hoog 21%", "1510", D("21.00"), "V", False),
    ("5", "Btw inkoop hoog 21%", "1500", D("21.00"), "I", False),
]
JOURNALS = [
    ("10", "Inkoop", "I"),
    ("20", "Verkoop", "V"),
    ("50", "Bank", "B"),
    ("70", "Memoriaal beginbalans", "M"),
    ("80", "Memoriaal", "M"),
]


def _sale(invoice: str, debtor: str, net: str, vat: str) -> tuple:
    gross = str(D(net) + D(vat))
    return (
        deb(debtor, gross, invoice=invoice),
        gl("8000", credit=net, vat="1", vat_amt=vat),
        gl("1510", credit=vat, vat="1"),
    )


ENTRIES = [
    # Administration 1, the holding. 2025 opens with AFAS's beginbalans entry in period 0.
    Entry(1, 1, "70", "2025-01-01", "2025-01-02T09:00", (gl("1100", "10000.00"), gl("0200", "5000.00"), gl("0500", credit="15000.00")), "BB2025", period=0),
    Entry(1, 2, "20", "2025-03-10", "2025-03-10T10:00", _sale("F2025-001", "D100", "1000.00", "210.00"), "V2025-001"),
    Entry(1, 3, "50", "2025-03-20", "2025-03-20T10:00", (gl("1100", "1210.00"), deb("D100", credit="1210.00", invoice="F2025-001")), "B2025-001"),
    Entry(1, 4, "80", "2025-06-30", "2025-06-30T16:00", (gl("4600", "500.00", cost_centre="200"), gl("0210", credit="500.00")), "M2025-001"),
    Entry(1, 5, "10", "2025-09-15", "2025-09-15T10:00", (cred("C200", credit="2420.00", invoice="K-77"), gl("0200", "2000.00", vat="5", vat_amt="420.00"), gl("1500", "420.00", vat="5")), "K-77"),
    Entry(1, 6, "50", "2025-10-01", "2025-10-01T10:00", (cred("C200", "2420.00", invoice="K-77"), gl("1100", credit="2420.00")), "B2025-002"),
    Entry(1, 7, "80", "2025-11-30", "2025-11-30T12:00", (gl("1410", "300.00"), gl("8200", credit="300.00")), "M2025-002"),
    Entry(1, 8, "50", "2025-12-31", "2025-12-31T12:00", (gl("4100", "400.00", cost_centre="100"), gl("1100", credit="400.00")), "B2025-003"),
    # 2026: no beginbalans entry; AFAS computed period 0 at the year end (AFAS_OPENINGS).
    Entry(1, 9, "20", "2026-02-10", "2026-02-10T10:00", _sale("F2026-001", "D100", "2000.00", "420.00"), "V2026-001"),
    Entry(1, 10, "80", "2026-02-28", "2026-02-28T12:00", (gl("1410", "300.00"), gl("8200", credit="300.00")), "M2026-001"),
    Entry(1, 11, "50", "2026-03-05", "2026-03-05T10:00", (gl("1100", "2420.00"), deb("D100", credit="2420.00", invoice="F2026-001")), "B2026-001"),
    Entry(1, 12, "80", "2026-03-31", "2026-03-31T16:00", (gl("4600", "250.00", cost_centre="200"), gl("0210", credit="250.00")), "M2026-002"),
    Entry(1, 13, "50", "2026-03-31", "2026-03-31T17:00", (gl("1100", "300.00"), gl("1410", credit="300.00")), "B2026-002"),
    # Administration 2, the subsidiary.
    Entry(2, 1, "70", "2025-01-01", "2025-01-02T09:30", (gl("1100", "2000.00"), gl("0500", credit="2000.00")), "BB2025", period=0),
    Entry(2, 2, "20", "2025-05-05", "2025-05-05T10:00", _sale("F2025-001", "D200", "500.00", "105.00"), "V2025-001"),
    Entry(2, 3, "50", "2025-06-01", "2025-06-01T10:00", (gl("1100", "605.00"), deb("D200", credit="605.00", invoice="F2025-001")), "B2025-001"),
    Entry(2, 4, "80", "2025-11-30", "2025-11-30T12:00", (gl("4800", "300.00"), gl("1750", credit="300.00")), "M2025-001"),
    Entry(2, 5, "50", "2025-12-15", "2025-12-15T10:00", (gl("4900", "20.00"), gl("1100", credit="20.00")), "B2025-002"),
    # February's fee, booked in March: a timing difference at the end of February.
    Entry(2, 6, "80", "2026-03-02", "2026-03-02T12:00", (gl("4800", "300.00"), gl("1750", credit="300.00")), "M2026-001"),
    Entry(2, 7, "50", "2026-03-31", "2026-03-31T17:00", (gl("1750", "300.00"), gl("1100", credit="300.00")), "B2026-001"),
    Entry(2, 8, "50", "2026-03-31", "2026-03-31T18:00", (gl("5100", "40.00"), gl("1100", credit="40.00")), "B2026-002"),
]  # fmt: skip

# AFAS's period 0 of 2026, as its year end computed it: every balance-sheet account's closing
# balance of 2025, and 2025's result on 0590 (administration 1: 400.00 profit; 2: 180.00).
AFAS_OPENINGS = {
    (1, 2026, "0200"): "7000.00",
    (1, 2026, "0210"): "-500.00",
    (1, 2026, "0500"): "-15000.00",
    (1, 2026, "0590"): "-400.00",
    (1, 2026, "1100"): "8390.00",
    (1, 2026, "1410"): "300.00",
    (1, 2026, "1500"): "420.00",
    (1, 2026, "1510"): "-210.00",
    (2, 2026, "0500"): "-2000.00",
    (2, 2026, "0590"): "-180.00",
    (2, 2026, "1100"): "2585.00",
    (2, 2026, "1510"): "-105.00",
    (2, 2026, "1750"): "-300.00",
}


def two_year_books() -> Books:
    closed = {(unit, 2025, period) for unit in (1, 2) for period in range(13)}
    return Books(
        administrations=[
            (1, "Boekhoud Holding B.V.", "BHHOLD"),
            (2, "Boekhoud Handel B.V.", "BHHAN"),
        ],
        accounts=ACCOUNTS,
        journals=JOURNALS,
        vat_codes=VAT_CODES,
        years=(2025, 2026),
        blocked_periods=closed,
        debtors=[
            Party("D100", "Bakkerij Jansen B.V.", 14, "1300"),
            Party("D200", "Kaashandel Bos", 30, "1300"),
        ],
        creditors=[Party("C200", "Kantoormeubel B.V.", 30, "1600")],
        entries=ENTRIES,
        debtor_items=[],
        creditor_items=[],
        afas_openings=AFAS_OPENINGS,
        now=datetime(2026, 4, 2, 9, 0),
    )


# -- the truth, worked out by hand ----------------------------------------------------------

# rpt_profit_and_loss, statement lines, year to date at the end of 2025:
# (administration, line) -> ytd_result.
EXPECTED_PNL_2025 = {
    (1, "OMZ"): D("1300.00"),
    (1, "BRM"): D("1300.00"),
    (1, "AFS"): D("-500.00"),
    (1, "OBK"): D("-400.00"),
    (1, "BEDR"): D("400.00"),
    (1, "FIN"): D("0.00"),
    (1, "RES"): D("400.00"),
    (2, "OMZ"): D("500.00"),
    (2, "OBK"): D("-300.00"),
    (2, "BEDR"): D("200.00"),
    (2, "FIN"): D("-20.00"),
    (2, "RES"): D("180.00"),
}

# rpt_balance_sheet, statement lines as presented: (administration, year, period, line) ->
# presented amount. 2025's result sits in Resultaat lopend boekjaar until the year end moves it
# to 0590, in Eigen vermogen.
EXPECTED_BALANCE_SHEET = {
    (1, 2025, 0, "ACT"): D("15000.00"),
    (1, 2025, 0, "EV"): D("15000.00"),
    (1, 2025, 12, "MVA"): D("6500.00"),
    (1, 2025, 12, "VOR"): D("720.00"),
    (1, 2025, 12, "LIQ"): D("8390.00"),
    (1, 2025, 12, "ACT"): D("15610.00"),
    (1, 2025, 12, "EV"): D("15000.00"),
    (1, 2025, 12, "RES_LOPEND"): D("400.00"),
    (1, 2025, 12, "KS"): D("210.00"),
    (1, 2025, 12, "PAS"): D("15610.00"),
    (1, 2026, 0, "EV"): D("15400.00"),
    (1, 2026, 0, "RES_LOPEND"): D("0.00"),
    (1, 2026, 0, "PAS"): D("15610.00"),
    (2, 2026, 0, "ACT"): D("2585.00"),
    (2, 2026, 0, "EV"): D("2180.00"),
}

# rpt_cash_flow, year to date at the end of 2025, administration 1: line -> ytd_amount.
EXPECTED_CASH_FLOW_2025 = {
    "RES": D("400.00"),
    "AFS": D("500.00"),
    "WK": D("-510.00"),
    "OPER": D("390.00"),
    "INV": D("-2000.00"),
    "FIN": D("0.00"),
    "MUT": D("-1610.00"),
    "BEGIN": D("10000.00"),
    "EIND": D("8390.00"),
}

# rpt_consolidated_profit_and_loss, year to date: (year, period, line) -> ytd_result. The fee
# cancels in 2025; in February 2026 the subsidiary has not booked it yet (what is left of the
# elimination is not a line of the chart: Niet ingedeeld). In March 2026 the subsidiary's 40.00
# on 5100, an account no range places, is Niet ingedeeld too.
EXPECTED_CONSOLIDATED_PNL = {
    (2025, 12, "OMZ"): D("1500.00"),
    (2025, 12, "RES"): D("580.00"),
    (2026, 2, "OMZ"): D("2000.00"),
    (2026, 2, "NI_PL"): D("300.00"),
    (2026, 2, "RES"): D("2300.00"),
    (2026, 3, "NI_PL"): D("-40.00"),
    (2026, 3, "RES"): D("1710.00"),
}

# rec_intercompany rows that differ: (administration, counterparty, year, period, balance,
# counterparty balance, difference).
EXPECTED_INTERCOMPANY = {(1, 2, 2026, 2, D("600.00"), D("-300.00"), D("300.00"))}
