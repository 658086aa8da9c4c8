"""Static reference data of the simulated AFAS environment.

The chart of accounts, the VAT codes and the journals follow a common Dutch SME set-up (the
account numbers of the AFAS examples: 1100 bank, 1300 debtors, 1500 input VAT, 1510 output VAT,
8000 revenue). Periods are monthly, with a period 0 per year for the opening balance (AFAS's
beginbalans); which of them are blocked depends on the simulated date, see `period_blocked`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

import polars as pl

from afas_pipeline.contract import (
    ACCOUNTS,
    ADMINISTRATIONS,
    JOURNALS,
    PERIODS,
    VAT_CODES,
    ConnectorSpec,
)


@dataclass(frozen=True)
class Administration:
    id: int
    name: str
    code: str


@dataclass(frozen=True)
class Account:
    number: str
    description: str
    type: str  # B balance sheet, W profit and loss
    sort: str
    blocked: bool = False
    collect: bool = False
    vat_allowed: bool = False
    vat_code: str | None = None


@dataclass(frozen=True)
class VatCode:
    code: str
    description: str
    account: str
    rate_bp: int  # rate in basis points: 2100 = 21 %
    type: str  # V sales, I purchase
    blocked: bool = False
    # How the VAT follows from the line (AFAS's "berekeningsmethode", not in the contract):
    # "percentage" (net * rate on the code's account), "reverse_charge" (net * rate both
    # receivable on the code's account and payable on VAT_REVERSE_CHARGE; the party owes the
    # net only) or "exempt" (no VAT at all).
    method: str = "percentage"

    @property
    def percentage(self) -> Decimal:
        return Decimal(self.rate_bp) / 100


@dataclass(frozen=True)
class Journal:
    id: str
    description: str
    type: str  # I purchase, V sales, K cash, B bank, M memorial
    blocked: bool = False


_ADMIN_NAMES = (
    ("Noordhaven Holding B.V.", "NHHOLD"),
    ("Noordhaven Handel B.V.", "NHHANDEL"),
    ("Noordhaven Services B.V.", "NHSERV"),
    ("Noordhaven Logistiek B.V.", "NHLOG"),
    ("Noordhaven Vastgoed B.V.", "NHVAST"),
    ("Noordhaven Techniek B.V.", "NHTECH"),
    ("Noordhaven Retail B.V.", "NHRETAIL"),
    ("Noordhaven Advies B.V.", "NHADVIES"),
    ("Noordhaven Zorg B.V.", "NHZORG"),
)
MAX_ADMINISTRATIONS = len(_ADMIN_NAMES)


def administrations(count: int) -> tuple[Administration, ...]:
    """The first `count` administrations of the group (1 is the holding)."""
    if not 1 <= count <= MAX_ADMINISTRATIONS:
        raise ValueError(f"administrations must be 1..{MAX_ADMINISTRATIONS}, got {count}")
    return tuple(Administration(i + 1, n, c) for i, (n, c) in enumerate(_ADMIN_NAMES[:count]))


# Account numbers the generator books on; named so that a typo fails at import, not in the data.
FIXED_ASSETS, DEPRECIATION_ACC, EQUITY, RESERVES = "0200", "0210", "0500", "0550"
# Where the year end (jaarafsluiting) carries each year's result, in every administration.
RESULT = "0590"
CASH, BANK, DEBTORS, DEBTORS_ABROAD = "1000", "1100", "1300", "1310"
CREDITORS, CREDITORS_ABROAD = "1600", "1610"
VAT_INPUT, VAT_HIGH, VAT_LOW, VAT_REVERSE_CHARGE = "1500", "1510", "1520", "1530"
NET_WAGES, PAYROLL_TAX, PENSION = "1700", "1710", "1720"
# Current accounts (rekening-courant) between the holding and its subsidiaries.
RC_HANDEL, RC_SERVICES, RC_HOLDING = "1410", "1420", "1750"
OPENING_BALANCE, SUSPENSE = "2900", "2999"
SALARIES, SOCIAL_CHARGES, PENSION_COSTS = "4000", "4010", "4020"
RENT, CAR, OFFICE, TELECOM, MARKETING, ADVISORY = "4100", "4200", "4300", "4310", "4400", "4500"
SOFTWARE = "4320"
DEPRECIATION_COSTS, BANK_COSTS, PAYMENT_DIFFERENCES = "4600", "4900", "4990"
MANAGEMENT_FEE_COSTS = "4800"
COST_OF_SALES, REVENUE_HIGH, REVENUE_LOW, REVENUE_ZERO = "7000", "8000", "8010", "8020"
REVENUE_EXEMPT, REVENUE_EU, MANAGEMENT_FEE = "8030", "8040", "8200"

_A, _P, _K, _O = "Activa", "Passiva", "Kosten", "Opbrengst"
CHART: tuple[Account, ...] = (
    Account(FIXED_ASSETS, "Inventaris", "B", _A),
    Account(DEPRECIATION_ACC, "Afschrijving inventaris", "B", _A),
    Account(EQUITY, "Geplaatst kapitaal", "B", _P),
    Account(RESERVES, "Overige reserves", "B", _P),
    Account(RESULT, "Resultaat boekjaar", "B", _P),
    Account(CASH, "Kas", "B", _A),
    Account(BANK, "Bank", "B", _A),
    Account(DEBTORS, "Debiteuren", "B", _A, collect=True),
    Account(DEBTORS_ABROAD, "Debiteuren buitenland", "B", _A, collect=True),
    Account(RC_HANDEL, "R/C Noordhaven Handel", "B", _A),
    Account(RC_SERVICES, "R/C Noordhaven Services", "B", _A),
    Account(VAT_INPUT, "Te vorderen btw", "B", _A),
    Account(VAT_HIGH, "Af te dragen btw hoog", "B", _P),
    Account(VAT_LOW, "Af te dragen btw laag", "B", _P),
    Account(VAT_REVERSE_CHARGE, "Af te dragen btw verlegd", "B", _P),
    Account(CREDITORS, "Crediteuren", "B", _P, collect=True),
    Account(CREDITORS_ABROAD, "Crediteuren buitenland", "B", _P, collect=True),
    Account(NET_WAGES, "Te betalen nettolonen", "B", _P),
    Account(PAYROLL_TAX, "Af te dragen loonheffing", "B", _P),
    Account(PENSION, "Af te dragen pensioenpremies", "B", _P),
    Account(RC_HOLDING, "R/C Noordhaven Holding", "B", _P),
    Account(OPENING_BALANCE, "Tussenrekening beginbalans", "B", _P),
    Account(SUSPENSE, "Vraagposten", "B", _P),
    Account(SALARIES, "Salarissen", "W", _K),
    Account(SOCIAL_CHARGES, "Sociale lasten", "W", _K),
    Account(PENSION_COSTS, "Pensioenlasten", "W", _K),
    Account(RENT, "Huur bedrijfsruimte", "W", _K, vat_allowed=True, vat_code="7"),
    Account(CAR, "Autokosten", "W", _K, vat_allowed=True, vat_code="5"),
    Account(OFFICE, "Kantoorkosten", "W", _K, vat_allowed=True, vat_code="5"),
    Account(TELECOM, "Telefoon en internet", "W", _K, vat_allowed=True, vat_code="5"),
    Account(SOFTWARE, "Automatiseringskosten", "W", _K, vat_allowed=True, vat_code="5"),
    Account(MARKETING, "Reclame en advertenties", "W", _K, vat_allowed=True, vat_code="5"),
    Account(ADVISORY, "Advies- en accountantskosten", "W", _K, vat_allowed=True, vat_code="5"),
    Account(DEPRECIATION_COSTS, "Afschrijvingskosten", "W", _K),
    Account(
        MANAGEMENT_FEE_COSTS, "Management fee holding", "W", _K, vat_allowed=True, vat_code="5"
    ),
    Account(BANK_COSTS, "Bankkosten", "W", _K),
    Account(PAYMENT_DIFFERENCES, "Betalingsverschillen", "W", _K),
    Account("4999", "Overige kosten (vervallen)", "W", _K, blocked=True),
    Account(COST_OF_SALES, "Inkoopwaarde omzet", "W", _K, vat_allowed=True, vat_code="5"),
    Account(REVENUE_HIGH, "Omzet hoog tarief", "W", _O, vat_allowed=True, vat_code="1"),
    Account(REVENUE_LOW, "Omzet laag tarief", "W", _O, vat_allowed=True, vat_code="2"),
    Account(REVENUE_ZERO, "Omzet export buiten EU", "W", _O, vat_allowed=True, vat_code="3"),
    Account(REVENUE_EXEMPT, "Omzet vrijgesteld van btw", "W", _O, vat_allowed=True, vat_code="9"),
    Account(REVENUE_EU, "Omzet binnen EU (ICP)", "W", _O, vat_allowed=True, vat_code="10"),
    Account(MANAGEMENT_FEE, "Management fee", "W", _O, vat_allowed=True, vat_code="1"),
)
ACCOUNTS_BY_NUMBER: dict[str, Account] = {a.number: a for a in CHART}
VAT_ACCOUNTS = frozenset({VAT_INPUT, VAT_HIGH, VAT_LOW, VAT_REVERSE_CHARGE})

VAT_TABLE: tuple[VatCode, ...] = (
    VatCode("1", "Btw verkoop hoog 21%", VAT_HIGH, 2100, "V"),
    VatCode("2", "Btw verkoop laag 9%", VAT_LOW, 900, "V"),
    VatCode("3", "Btw export buiten EU 0%", VAT_HIGH, 0, "V"),
    VatCode("4", "Btw verkoop laag 6% (vervallen)", VAT_LOW, 600, "V", blocked=True),
    VatCode("5", "Btw inkoop hoog 21%", VAT_INPUT, 2100, "I"),
    VatCode("6", "Btw inkoop laag 9%", VAT_INPUT, 900, "I"),
    VatCode("7", "Btw inkoop 0% / vrijgesteld", VAT_INPUT, 0, "I"),
    VatCode("8", "Btw verlegd inkoop binnen EU 21%", VAT_INPUT, 2100, "I", method="reverse_charge"),
    VatCode("9", "Vrijgesteld van btw", VAT_HIGH, 0, "V", method="exempt"),
    # Supplies of goods and services to businesses in another EU country (ICP, 0 %).
    VatCode("10", "ICP levering 0%", VAT_HIGH, 0, "V"),
    VatCode(
        "11", "Btw verlegd inkoop buiten EU 21%", VAT_INPUT, 2100, "I", method="reverse_charge"
    ),
)
VAT_BY_CODE: dict[str, VatCode] = {v.code: v for v in VAT_TABLE}

JOURNAL_TABLE: tuple[Journal, ...] = (
    Journal("10", "Inkoop", "I"),
    Journal("20", "Verkoop", "V"),
    Journal("40", "Kas", "K"),
    Journal("50", "Bank", "B"),
    # Where the opening balance of the previous system was migrated (AFAS's "beginbalans").
    Journal("70", "Memoriaal beginbalans", "M"),
    Journal("80", "Memoriaal", "M"),
    # The holding's management fees and their mirror in the subsidiaries, on current accounts.
    Journal("85", "Memoriaal intercompany", "M"),
    # An old bank account's journal, kept for history and blocked: postings to it must fail.
    Journal("90", "Bank (oude rekening)", "B", blocked=True),
)
JOURNALS_BY_ID: dict[str, Journal] = {j.id: j for j in JOURNAL_TABLE}
PURCHASE, SALES, CASH_BOOK, BANK_BOOK, MEMORIAL = "10", "20", "40", "50", "80"
OPENING_BOOK, INTERCOMPANY_BOOK = "70", "85"


class CurrentAccounts(NamedTuple):
    """Two administrations' current accounts with each other, which must mirror: the balance
    of `account` in `unit` plus that of `counterparty_account` in `counterparty` is zero."""

    unit: int
    account: str
    counterparty: int
    counterparty_account: str


# The holding (1) and each subsidiary it charges a management fee.
INTERCOMPANY = (
    CurrentAccounts(1, RC_HANDEL, 2, RC_HOLDING),
    CurrentAccounts(1, RC_SERVICES, 3, RC_HOLDING),
)
INTERCOMPANY_ACCOUNTS = frozenset(
    account for pair in INTERCOMPANY for account in (pair.account, pair.counterparty_account)
)

COST_CENTRES = ("100", "200", "300", "400", "500")
# Cost carriers (kostendragers): the product lines that revenue and direct costs are booked on.
COST_CARRIERS = ("P100", "P200", "P300", "P400")


def vat_amount(net_cents: int, rate_bp: int) -> int:
    """VAT in cents on a net amount, rounded half away from zero as AFAS does."""
    sign = -1 if net_cents < 0 else 1
    return sign * ((abs(net_cents) * rate_bp + 5000) // 10000)


def period_blocked(unit_id: int, year: int, period: int, today: date) -> bool:
    """Whether a period is closed, as seen on `today`.

    Administration 1 (the holding) closes a whole year once February of the next year has begun;
    the others close each month once it is more than two months ago. Periods that the generator
    still books into (the current and the previous month) are therefore never blocked. Period 0
    is blocked with the year's first period.
    """
    months_back = (today.year * 12 + today.month) - (year * 12 + max(period, 1))
    if unit_id == 1:
        return year < today.year and months_back >= 2
    return months_back >= 3


def period_exists(year: int, period: int, first_year: int, today: date) -> bool:
    """Periods exist for every month of every year from the start of the history to today, and
    a period 0 (the opening balance) in each of those years."""
    return first_year <= year <= today.year and 0 <= period <= 12


def administrations_frame(admins: tuple[Administration, ...]) -> pl.DataFrame:
    return _frame(ADMINISTRATIONS, [(a.id, a.name, a.code) for a in admins])


def accounts_frame() -> pl.DataFrame:
    rows = [
        (a.number, a.description, a.type, a.sort, a.blocked, a.collect, a.vat_allowed, a.vat_code)
        for a in CHART
    ]
    return _frame(ACCOUNTS, rows)


def vat_codes_frame() -> pl.DataFrame:
    rows = [(v.code, v.description, v.account, v.percentage, v.type, v.blocked) for v in VAT_TABLE]
    return _frame(VAT_CODES, rows, {"VatPerc": pl.Decimal(5, 2)})


def journals_frame(admins: tuple[Administration, ...]) -> pl.DataFrame:
    rows = [(a.id, j.id, j.description, j.type, j.blocked) for a in admins for j in JOURNAL_TABLE]
    return _frame(JOURNALS, rows)


def periods_frame(admins: tuple[Administration, ...], first_year: int, today: date) -> pl.DataFrame:
    """Every period of every year; period 0 runs from 1 January to 1 January."""
    rows = [
        (
            a.id,
            y,
            m,
            date(y, max(m, 1), 1),
            date(y, 1, 1) if m == 0 else date(y, m, calendar.monthrange(y, m)[1]),
            period_blocked(a.id, y, m, today),
        )
        for a in admins
        for y in range(first_year, today.year + 1)
        for m in range(13)
    ]
    return _frame(PERIODS, rows)


_POLARS_TYPES: dict[str, pl.DataType] = {
    "int": pl.Int64(),
    "string": pl.String(),
    "decimal": pl.Decimal(18, 2),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "boolean": pl.Boolean(),
}


def polars_type(data_type: str) -> pl.DataType:
    """The polars dtype the simulator serves for a contract data type."""
    return _POLARS_TYPES[data_type]


def _frame(
    spec: ConnectorSpec, rows: list[tuple], overrides: dict[str, pl.DataType] | None = None
) -> pl.DataFrame:
    schema = {f.id: (overrides or {}).get(f.id, polars_type(f.data_type)) for f in spec.fields}
    return pl.DataFrame(rows, schema=schema, orient="row")
