"""Intercompany in the history: the holding's monthly management fee to its subsidiaries.

The holding (administration 1) books the fee in its intercompany journal on a current account
with the subsidiary against revenue; the subsidiary books the same invoice a few days later,
in the same month, on its current account with the holding against costs. Each quarter the
subsidiary pays what it owes by its own books, a bank transfer booked in both on the same day.
So the current accounts mirror at every period end, except where a difference was planted
(`plan`): one side booked with another amount, booked a month late, or not at all.
"""

from __future__ import annotations

import calendar
import random
from datetime import date
from typing import TYPE_CHECKING

from afas_pipeline.simulator import chart as c
from afas_pipeline.simulator.books import DAY, Line, day_date, day_number, vat_lines, weekday

if TYPE_CHECKING:
    from afas_pipeline.simulator.history import History

# The monthly fee (net, cents) per subsidiary in the first year; 3 % more every later year.
_MONTHLY_FEE = {2: 1_250_000, 3: 750_000}
_INDEXATION_PCT = 3
_FEE_DAY = 15  # the holding invoices on the first working day from the 15th
_SETTLEMENT_DAY, _SETTLEMENT_MONTHS = 10, (1, 4, 7, 10)  # the month after each quarter
# The planted kinds, once each per history (where its months allow): the subsidiary books
# another amount (two digits swapped), books a month late, or never books the fee.
PLANTED_KINDS = ("amount", "late", "missing")
# Lines a pair adds per day: a fee of 3 lines on each side monthly, a settlement of 2 lines on
# each side quarterly.
LINES_PER_DAY = (6 * 12 + 4 * 4) / 365


def pairs(units: tuple[int, ...]) -> tuple[c.CurrentAccounts, ...]:
    """The current-account pairs between the administrations that exist."""
    return tuple(p for p in c.INTERCOMPANY if p.unit in units and p.counterparty in units)


def plan(h: History, history_days: int) -> dict[tuple[int, int, int], str]:
    """The planted differences: {(subsidiary, year, month) of a fee: kind}. Their months lie
    inside the history with their month end at least ten days before its end, so each is
    visible at a period end; the subsidiaries take turns."""
    found = pairs(h.units)
    end = h.start_day + history_days - 10
    months = []
    day = h.start_day
    while day <= end:
        d = day_date(day)
        last = day_number(date(d.year, d.month, calendar.monthrange(d.year, d.month)[1]))
        if day_number(date(d.year, d.month, _FEE_DAY)) >= h.start_day and last <= end:
            months.append((d.year, d.month))
        day = last + 1
    if not found or not months:
        return {}
    rng = random.Random(f"{h.seed}:intercompany")
    chosen = sorted(rng.sample(months, min(len(PLANTED_KINDS), len(months))))
    kinds = rng.sample(PLANTED_KINDS, len(chosen))
    return {
        (found[i % len(found)].counterparty, *month): kind
        for i, (month, kind) in enumerate(zip(chosen, kinds, strict=True))
    }


def plan_day(h: History, d: date, day: int) -> None:
    """Queue the day's intercompany bookings: the fees and the quarterly settlements."""
    if d.day == _FEE_DAY:
        for pair in pairs(h.units):
            ts = weekday(day) * DAY + 10 * 3600 + h.rng.randrange(3600)
            h.push(ts, ev_management_fee, (pair, d.year, d.month))
    if d.day == _SETTLEMENT_DAY and d.month in _SETTLEMENT_MONTHS:
        for pair in pairs(h.units):
            ts = weekday(day) * DAY + 11 * 3600 + h.rng.randrange(3600)
            h.push(ts, ev_settlement, (pair,))


def fee(h: History, subsidiary: int, year: int) -> int:
    """The net monthly fee of `subsidiary` in `year`, in whole euros."""
    indexed = _MONTHLY_FEE[subsidiary] * (100 + _INDEXATION_PCT * (year - h.first_year)) // 100
    return indexed // 100 * 100


def ev_management_fee(h: History, ts: int, pair: c.CurrentAccounts, year: int, month: int) -> None:
    """The holding invoices the month's fee; the subsidiary books it a few days later (in the
    same month), a month late, with two digits of the amount swapped, or never (planted)."""
    day = ts // DAY
    net = fee(h, pair.counterparty, year)
    period = f"{month:02d}-{year}"
    _book_fee(
        h, ts, pair.unit, pair.account, net, f"Management fee {period} {_name(pair.counterparty)}"
    )
    kind = h.intercompany_plan.get((pair.counterparty, year, month))
    if kind == "missing":
        return
    if kind == "late":
        next_month = date(year + month // 12, month % 12 + 1, 1)
        booking_day = day_number(next_month) + h.rng.randint(1, 5)
    else:
        month_end = day_number(date(year, month, calendar.monthrange(year, month)[1]))
        booking_day = min(day + h.rng.randint(0, 3), month_end)
    booked = _mistyped(net) if kind == "amount" else net
    desc = f"Management fee {period} {_name(pair.unit)}"
    args = (pair.counterparty, pair.counterparty_account, booked, desc)
    h.push(h.later(ts, booking_day), ev_book_fee, args)


def ev_book_fee(h: History, ts: int, unit: int, account: str, net: int, desc: str) -> None:
    _book_fee(h, ts, unit, account, net, desc)


def _book_fee(h: History, ts: int, unit: int, account: str, net: int, desc: str) -> None:
    """The fee in `unit`'s intercompany journal with 21 % VAT: in the holding the current
    account debit against revenue (code 1), in a subsidiary against costs (code 5)."""
    day = ts // DAY
    voucher = h.voucher(unit, "IC", day)
    holding = unit == c.INTERCOMPANY[0].unit
    code = "1" if holding else "5"
    vat = c.vat_amount(net, c.VAT_BY_CODE[code].rate_bp)
    gross = net + vat
    party = (gross, 0) if holding else (0, gross)
    line = (0, net) if holding else (net, 0)
    income = c.MANAGEMENT_FEE if holding else c.MANAGEMENT_FEE_COSTS
    lines = [
        Line(account, day, day, voucher, None, *party, desc),
        Line(income, day, day, voucher, None, *line, desc, None, None, code, vat),
    ]
    lines += vat_lines([(income, code)], [vat], day, voucher, None, credit=holding)
    h.books.book(ts, unit, c.INTERCOMPANY_BOOK, lines)


def ev_settlement(h: History, ts: int, pair: c.CurrentAccounts) -> None:
    """The subsidiary pays what its current account says it owes the holding; the transfer
    is booked in both administrations the same day."""
    owed = -h.books.intercompany_balance(pair.counterparty, pair.counterparty_account)
    if owed <= 0:
        return
    day = ts // DAY
    payer = (pair.counterparty, [(pair.counterparty_account, owed, 0), (c.BANK, 0, owed)])
    payee = (pair.unit, [(c.BANK, owed, 0), (pair.account, 0, owed)])
    for (unit, legs), other in ((payer, pair.unit), (payee, pair.counterparty)):
        voucher = h.voucher(unit, "B", day)
        desc = f"Afrekening rekening-courant {_name(other)}"
        lines = [Line(acc, day, day, voucher, None, d, cr, desc) for acc, d, cr in legs]
        h.books.book(ts, unit, c.BANK_BOOK, lines)
        ts += 60


def _name(unit: int) -> str:
    return c.administrations(unit)[-1].name


def _mistyped(cents: int) -> int:
    """`cents` with two adjacent digits of its euros swapped (12,875 -> 18,275)."""
    digits = list(str(cents // 100))
    for i in range(1, len(digits) - 1):
        if digits[i] != digits[i + 1]:
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
            return int("".join(digits)) * 100 + cents % 100
    return cents + 10_000
