"""The planted problems: the ground truth the reconciliation marts are tested against.

The generator records what it planted (`PlantedLog`); `visible()` keeps what the current state
still shows, so a problem the product corrected through FiEntries, or the generator paid or
deleted meanwhile, is no longer part of the truth. The open suspense items and the
intercompany differences are not recorded at all: they are computed from the current state,
with the product's matching rule and the mirror rule of the current accounts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from afas_pipeline.simulator import chart as c
from afas_pipeline.simulator.books import Books, day_date


@dataclass(frozen=True)
class SuspenseReceipt:
    """(a) A line on the suspense account that is open now: no booking on the suspense
    account of the opposite sign and the same amount (in any journal, in any entry order)
    pairs with it. `amount` is signed as parked: a receipt, a credit on suspense, is positive.
    `debtor_id` / `invoice_id`: the open debtor item that the product's matching rule finds
    for it when that is unique (`_proposals`), else None."""

    unit_id: int
    entry_no: int
    seq_no: int
    entry_date: date
    amount: Decimal
    debtor_id: str | None
    invoice_id: str | None
    description: str


@dataclass(frozen=True)
class DuplicateInvoice:
    """(b) A purchase invoice booked twice at one creditor, visible while both entries are
    alive; the duplicate is the later entry. `kind`: "same_number" (the same InvoiceId: AFAS's
    open list shows one item holding both), "number_format" (the ids are equal once
    everything but letters and digits is dropped, case-blind) or "date_and_amount" (two
    unrelated numbers with the same invoice date and amount)."""

    unit_id: int
    creditor_id: str
    amount: Decimal
    voucher_date: date
    original_entry_no: int
    original_invoice_id: str
    duplicate_entry_no: int
    duplicate_invoice_id: str
    kind: str


@dataclass(frozen=True)
class VatMismatch:
    """(c) An entry whose VAT on a plain-percentage code is not its net at the code's rate.

    Judged per entry and VAT code, on the code's own side (sales: credit - debit, purchases:
    debit - credit): `net` sums the entry's lines with the code off the VAT accounts,
    `booked_vat` its lines with the code on the code's VAT account, `expected_vat` is net *
    rate rounded half away from zero. A mismatch differs from net * rate by more than the
    per-line rounding allows, 0.005 per line with the code (`judge_vat`). `vat_type` is the
    code's: "V" (sales: the remedy is a credit note and a new invoice) or "I" (purchases: a
    journal correction)."""

    unit_id: int
    entry_no: int
    journal_id: str
    vat_code: str
    vat_type: str
    net: Decimal
    expected_vat: Decimal
    booked_vat: Decimal


@dataclass(frozen=True)
class RoundingDifference:
    """(d) A debtor receipt a few cents short of its invoice, leaving a tiny open item."""

    unit_id: int
    debtor_id: str
    invoice_id: str
    entry_no: int  # the receipt
    invoice_amount: Decimal
    paid_amount: Decimal
    difference: Decimal


@dataclass(frozen=True)
class IntercompanyDifference:
    """(e) A period end at which two administrations' current accounts with each other do not
    mirror. `balance` is debit - credit of every live line on `account` in `unit_id` with a
    (Year, Period) up to and including (`year`, `period`), from the first year's period 0 on;
    `counterparty_balance` the same of `counterparty_account` in `counterparty_unit_id`;
    `difference` = balance + counterparty_balance, never zero here. One row per pair
    (`chart.INTERCOMPANY`, `unit_id` the holding) and period 1-12 of every year up to the
    current period; the period 0 of a later year would repeat the period 12 before it."""

    unit_id: int
    counterparty_unit_id: int
    account: str
    counterparty_account: str
    year: int
    period: int
    balance: Decimal
    counterparty_balance: Decimal
    difference: Decimal


@dataclass(frozen=True)
class PlantedProblems:
    suspense_receipts: tuple[SuspenseReceipt, ...] = ()
    duplicate_invoices: tuple[DuplicateInvoice, ...] = ()
    vat_mismatches: tuple[VatMismatch, ...] = ()
    rounding_differences: tuple[RoundingDifference, ...] = ()
    intercompany_differences: tuple[IntercompanyDifference, ...] = ()


@dataclass
class PlantedLog:
    """Every problem as it was planted, whatever happened to it since."""

    duplicates: list[DuplicateInvoice] = field(default_factory=list)
    vat: list[VatMismatch] = field(default_factory=list)
    rounding: list[RoundingDifference] = field(default_factory=list)


def cents_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def visible(books: Books, log: PlantedLog, today: date) -> PlantedProblems:
    """The planted problems that are still visible in the current state, on `today`."""

    def open_balance(unit: int, debtor: str, invoice: str) -> int | None:
        return books.open_balance(unit, "D", debtor, invoice)

    def alive(unit: int, entry_no: int) -> bool:
        return books.entry_lines(unit, entry_no) is not None

    return PlantedProblems(
        suspense_receipts=open_suspense(books),
        duplicate_invoices=_keep(
            log.duplicates,
            lambda p: (
                alive(p.unit_id, p.original_entry_no) and alive(p.unit_id, p.duplicate_entry_no)
            ),
        ),
        vat_mismatches=_keep(log.vat, lambda p: alive(p.unit_id, p.entry_no)),
        rounding_differences=_keep(
            log.rounding,
            lambda p: (
                alive(p.unit_id, p.entry_no)
                and open_balance(p.unit_id, p.debtor_id, p.invoice_id) == int(p.difference * 100)
            ),
        ),
        intercompany_differences=intercompany_differences(books, today),
    )


def judge_vat(books: Books, unit: int, entry_no: int, code: str) -> VatMismatch | None:
    """The entry's VAT on `code` as a mismatch, or None when it is right (or not judged: a
    code that is not a plain percentage of the line, such as reverse charge or exempt)."""
    vc = c.VAT_BY_CODE[code]
    rows = books.entry_lines(unit, entry_no)
    if vc.method != "percentage" or rows is None:
        return None
    st = books.lines
    sign = 1 if vc.type == "V" else -1  # own side: sales credit - debit, purchases the reverse
    net = booked = lines = 0
    for i in rows:
        if st.vat_code[i] != code:
            continue
        own = sign * (st.credit[i] - st.debit[i])
        if st.account[i] == vc.account:
            booked += own
        elif st.account[i] not in c.VAT_ACCOUNTS:
            net, lines = net + own, lines + 1
    # |booked - net * rate| > 0.005 * lines, in cents times 10,000.
    if abs(booked * 10_000 - net * vc.rate_bp) <= 5_000 * lines:
        return None
    return VatMismatch(
        unit,
        entry_no,
        books.entries[(unit, entry_no)].journal,
        code,
        vc.type,
        cents_decimal(net),
        cents_decimal(c.vat_amount(net, vc.rate_bp)),
        cents_decimal(booked),
    )


def intercompany_differences(books: Books, today: date) -> tuple[IntercompanyDifference, ...]:
    """Every period end, up to the current period, at which a pair of current accounts does
    not mirror (`IntercompanyDifference`), in (pair, year, period) order."""
    st = books.lines
    movements: Counter[tuple[int, str, int, int]] = Counter()
    for i in books.intercompany_rows:
        if st.alive[i]:
            movements[(st.unit[i], st.account[i], st.year[i], st.period[i])] += (
                st.debit[i] - st.credit[i]
            )
    if not movements:
        return ()
    first_year = min(year for _, _, year, _ in movements)
    ends = [(y, p) for y in range(first_year, today.year + 1) for p in range(13)]
    ends = [end for end in ends if end <= (today.year, today.month)]
    found = []
    for pair in c.INTERCOMPANY:
        sides = ((pair.unit, pair.account), (pair.counterparty, pair.counterparty_account))
        balances = [0, 0]
        for year, period in ends:
            for k, (unit, account) in enumerate(sides):
                balances[k] += movements[(unit, account, year, period)]
            if period and sum(balances):
                found.append(
                    IntercompanyDifference(
                        pair.unit,
                        pair.counterparty,
                        pair.account,
                        pair.counterparty_account,
                        year,
                        period,
                        cents_decimal(balances[0]),
                        cents_decimal(balances[1]),
                        cents_decimal(sum(balances)),
                    )
                )
    return tuple(found)


def _keep(items: list, predicate: Callable) -> tuple:
    return tuple(p for p in items if predicate(p))


def open_suspense(books: Books) -> tuple[SuspenseReceipt, ...]:
    """Every line on the suspense account that nothing has cleared, in (administration,
    entry date, entry number, line) order.

    Per administration and amount, the parked lines (credit) and the clearing lines (debit)
    pair up in (entry date, entry number, line) order, whatever the journal; what is left over
    is open. The generator never parks two receipts of one amount in an administration, so
    the order only matters for postings from outside (FiEntries)."""
    st = books.lines
    groups: defaultdict[tuple[int, int], tuple[list[int], list[int]]] = defaultdict(
        lambda: ([], [])
    )
    for i in books.suspense_rows:
        if st.alive[i]:
            parked = st.credit[i] - st.debit[i]
            groups[(st.unit[i], abs(parked))][parked < 0].append(i)

    def order(i: int) -> tuple[int, int, int, int]:
        return st.unit[i], st.entry_date[i], st.entry_no[i], st.seq_no[i]

    rows: list[int] = []
    for credits, debits in groups.values():
        credits.sort(key=order)
        debits.sort(key=order)
        paired = min(len(credits), len(debits))
        rows += credits[paired:] + debits[paired:]
    rows.sort(key=order)
    proposals = _proposals(books, rows)

    def receipt(i: int) -> SuspenseReceipt:
        debtor_id, invoice_id = proposals.get(i, (None, None))
        return SuspenseReceipt(
            st.unit[i],
            st.entry_no[i],
            st.seq_no[i],
            day_date(st.entry_date[i]),
            cents_decimal(st.credit[i] - st.debit[i]),
            debtor_id,
            invoice_id,
            st.description[i] or "",
        )

    return tuple(receipt(i) for i in rows)


def _proposals(books: Books, rows: list[int]) -> dict[int, tuple[str, str]]:
    """The product's matching rule: (debtor, invoice) per open suspense line, where unique.

    Candidates are the open debtor items of the line's administration whose open amount
    equals the parked amount. Rule A: the invoice number has at least 4 digits and they occur
    in the digits of the line's description; rule B (only when rule A finds none): the
    debtor's name occurs in the description, case-insensitively. The best rule must find
    exactly one candidate, and no other open line may have that same unique candidate."""
    st = books.lines
    wanted = {(st.unit[i], st.credit[i] - st.debit[i]) for i in rows}
    candidates: defaultdict[tuple[int, int], list[tuple[str, str]]] = defaultdict(list)
    for (unit, side, party, invoice), item in books.open_items.items():
        if side == "D" and (unit, item.balance) in wanted:
            candidates[(unit, item.balance)].append((party, invoice))
    unique: dict[int, tuple[str, str]] = {}
    for i in rows:
        text = st.description[i] or ""
        found = candidates.get((st.unit[i], st.credit[i] - st.debit[i]), [])
        by_number = [m for m in found if len(d := _digits(m[1])) >= 4 and d in _digits(text)]
        by_name = [m for m in found if books.debtors[m[0]].name.lower() in text.lower()]
        best = by_number or by_name
        if len(best) == 1:
            unique[i] = best[0]
    taken = Counter(unique.values())
    return {i: match for i, match in unique.items() if taken[match] == 1}


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)
