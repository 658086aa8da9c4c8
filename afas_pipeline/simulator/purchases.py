"""Purchases in the history: supplier invoices in the purchase journal and their payments."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, NamedTuple

from afas_pipeline.simulator import chart as c
from afas_pipeline.simulator.books import (
    DAY,
    Line,
    Party,
    charged_vat,
    day_date,
    vat_lines,
    weekday,
)
from afas_pipeline.simulator.parties import YEARLY_NUMBERING, pick, region
from afas_pipeline.simulator.planted import DuplicateInvoice, cents_decimal

if TYPE_CHECKING:
    from afas_pipeline.simulator.history import History

_COST_ACCOUNTS = (
    (c.RENT, "7", "Huur"),
    (c.CAR, "5", "Brandstof en onderhoud"),
    (c.OFFICE, "5", "Kantoorartikelen"),
    (c.OFFICE, "6", "Lectuur en vakliteratuur"),
    (c.TELECOM, "5", "Telefonie en internet"),
    (c.MARKETING, "5", "Advertenties"),
    (c.ADVISORY, "5", "Advieskosten"),
)
_BOOKS = (c.OFFICE, "6", "Lectuur en vakliteratuur")  # the 9 % line of a planted VAT error


# The planted duplicate cases (history._CASES) and the DuplicateInvoice kind each plants.
DUPLICATE_KINDS = {
    "duplicate_number": "same_number",
    "duplicate_format": "number_format",
    "duplicate_twins": "date_and_amount",
}
# Share of purchase invoices paid before they are entered in the books.
_ENTERED_LATE_SHARE = 0.04
# Share of cost lines booked on a cost carrier: most goods for resale, few overheads.
_CARRIED_GOODS_SHARE, _CARRIED_OVERHEAD_SHARE = 0.6, 0.1


class Draft(NamedTuple):
    """A supplier's invoice as it arrives, before it is booked (once, late, or twice)."""

    creditor: str
    invoice: str
    inv_day: int
    costs: tuple[tuple[str, str, str], ...]  # (account, VAT code, text) per cost line
    nets: tuple[int, ...]
    vats: tuple[int, ...]
    gross: int  # what the creditor is owed: the nets and the VAT charged (none if reverse)


def ev_purchase(h: History, ts: int, unit: int, planted: str | None) -> None:
    rng = h.rng
    day = ts // DAY
    draft = _draft(h, unit, day, wrong_vat=planted == "vat_purchase")
    if planted is None and rng.random() < _ENTERED_LATE_SHARE:
        # Paid straight from the PDF (or collected by direct debit) and entered days later:
        # the payment's entry number is lower than the invoice's.
        pay(h, ts, unit, draft.creditor, draft.invoice, draft.gross)
        h.push(h.later(ts, day + rng.randint(3, 15)), ev_book_purchase, (unit, draft))
        return
    entry_no = book_purchase(h, ts, unit, draft)
    if planted == "vat_purchase":
        h.plant_vat(unit, entry_no, "6")
    creditor, invoice, inv_day, gross = draft.creditor, draft.invoice, draft.inv_day, draft.gross
    if planted in DUPLICATE_KINDS:
        dup_day = day + rng.randint(1, 5)
        kind = DUPLICATE_KINDS[planted]
        h.push(h.later(ts, dup_day), ev_duplicate, (unit, draft, entry_no, kind))
        if kind == "same_number":
            # One item now holds both entries; the invoice is paid once, after the second.
            term = int(h.books.creditors[creditor].term)
            pay_day = weekday(max(inv_day + term + rng.randint(0, 10), dup_day + 1))
            args = (unit, creditor, invoice, gross, 2 * gross)
            h.push(h.later(ts, pay_day), ev_payment, args)
            return
    h.schedule_settlement(ts, unit, "C", creditor, invoice, inv_day, gross, entry_no, planted)


def _draft(h: History, unit: int, day: int, *, wrong_vat: bool) -> Draft:
    """A new invoice of a creditor, dated up to three days before `day`. `wrong_vat`: its
    first line is at 9 % but its VAT was computed at 21 % (planted)."""
    rng = h.rng
    creditor = pick(h, "C")
    party = h.books.creditors[creditor]
    inv_day = max(day - rng.randint(0, 3), h.start_day)
    invoice = next_supplier_invoice(party, h.books.year_period(inv_day)[0])
    costs = [_cost_line(rng, unit, region(party)) for _ in range(rng.choice((1, 1, 2)))]
    nets = [h.amount(350) for _ in costs]
    rates = [c.VAT_BY_CODE[code].rate_bp for _, code, _ in costs]
    if wrong_vat:
        costs[0], nets[0] = _BOOKS, max(nets[0], 20_000 + rng.randrange(50_000))
        rates[0] = 2100
    while True:  # no two invoices of one creditor share date and amount unless planted
        vats = [c.vat_amount(net, rate) for net, rate in zip(nets, rates, strict=True)]
        gross = sum(nets) + charged_vat([code for _, code, _ in costs], vats)
        if (creditor, inv_day, gross) not in h.purchase_keys:
            break
        nets[0] += 1
    h.purchase_keys.add((creditor, inv_day, gross))
    return Draft(creditor, invoice, inv_day, tuple(costs), tuple(nets), tuple(vats), gross)


def _cost_line(rng: random.Random, unit: int, where: str) -> tuple[str, str, str]:
    """(account, VAT code, text) of a cost line: services from abroad are reverse charged,
    from inside the EU (code 8) or outside it (code 11); the trading company (administration
    2) mostly buys goods for resale."""
    if where != "domestic":
        return c.SOFTWARE, "8" if where == "eu" else "11", "Cloudabonnement"
    if unit == 2 and rng.random() < 0.6:
        return c.COST_OF_SALES, "5", "Inkoop handelsgoederen"
    return rng.choice(_COST_ACCOUNTS)


def book_purchase(h: History, ts: int, unit: int, draft: Draft) -> int:
    """Book the invoice in the purchase journal today, dated on its invoice date."""
    day = ts // DAY
    party = h.books.creditors[draft.creditor]
    invoice, inv_day = draft.invoice, draft.inv_day
    desc, gross, creditor = f"{invoice} {party.name}", draft.gross, draft.creditor
    lines = [Line(party.collect, day, inv_day, invoice, invoice, 0, gross, desc, creditor=creditor)]
    for (acc, code, text), net, vat in zip(draft.costs, draft.nets, draft.vats, strict=True):
        share = _CARRIED_GOODS_SHARE if acc == c.COST_OF_SALES else _CARRIED_OVERHEAD_SHARE
        dims = h.dim(), h.cost_carrier(share)
        lines.append(
            Line(acc, day, inv_day, invoice, invoice, net, 0, text, None, None, code, vat, *dims)
        )
    coded = [(acc, code) for acc, code, _ in draft.costs]
    vats = list(draft.vats)
    lines += vat_lines(coded, vats, day, invoice, invoice, credit=False, voucher_day=inv_day)
    return h.books.book(ts, unit, c.PURCHASE, lines)


def ev_book_purchase(h: History, ts: int, unit: int, draft: Draft) -> None:
    book_purchase(h, ts, unit, draft)


def ev_duplicate(h: History, ts: int, unit: int, draft: Draft, original: int, kind: str) -> None:
    """Planted: the invoice booked once more, under its own number (`same_number`), under
    the number written differently (`number_format`), or an unrelated invoice of the same
    creditor with the same date and amount (`date_and_amount`, paid as any other)."""
    if h.books.entry_lines(unit, original) is None:
        return
    invoice = draft.invoice
    if kind == "same_number":
        number = invoice
    elif kind == "number_format":
        number = invoice.replace("-", "") if "-" in invoice else f"{invoice[0]}-{invoice[1:]}"
    else:
        creditor = h.books.creditors[draft.creditor]
        number = next_supplier_invoice(creditor, h.books.year_period(draft.inv_day)[0])
    entry_no = book_purchase(h, ts, unit, draft._replace(invoice=number))
    h.log.duplicates.append(
        DuplicateInvoice(
            unit,
            draft.creditor,
            cents_decimal(draft.gross),
            day_date(draft.inv_day),
            original,
            invoice,
            entry_no,
            number,
            kind,
        )
    )
    if kind == "date_and_amount":
        h.schedule_payment(ts, unit, "C", draft.creditor, number, draft.inv_day, draft.gross)


def ev_payment(
    h: History,
    ts: int,
    unit: int,
    creditor: str,
    invoice: str,
    amount: int,
    expected: int | None,
) -> None:
    """Pay `amount` if the item's open balance is still `expected` (default: the amount)."""
    if h.books.open_balance(unit, "C", creditor, invoice) != (
        amount if expected is None else expected
    ):
        return  # deleted or settled meanwhile
    pay(h, ts, unit, creditor, invoice, amount)


def pay(h: History, ts: int, unit: int, creditor: str, invoice: str, amount: int) -> int:
    """Book a bank payment of `amount` on the creditor's item `invoice`; returns the entry."""
    day = ts // DAY
    voucher = h.voucher(unit, "B", day)
    party = h.books.creditors[creditor]
    desc = f"Betaling {invoice} {party.name}"
    lines = [
        Line(party.collect, day, day, voucher, invoice, amount, 0, desc, creditor=creditor),
        Line(c.BANK, day, day, voucher, None, 0, amount, desc),
    ]
    return h.books.book(ts, unit, c.BANK_BOOK, lines)


def next_supplier_invoice(creditor: Party, year: int) -> str:
    """The creditor's next own invoice number, dated in `year`. Each creditor keeps one style,
    so its numbers never collide; one that numbers per year starts again at 1 in January,
    and its series of a year continues when a late invoice of the old year comes in."""
    if creditor.style != YEARLY_NUMBERING:
        creditor.counter += 1
        return supplier_invoice(creditor.style, creditor.counter, year)
    last = creditor.yearly.get(year, 0 if creditor.yearly else creditor.counter)
    creditor.yearly[year] = last + 1
    return supplier_invoice(creditor.style, last + 1, year)


def supplier_invoice(style: int, n: int, year: int) -> str:
    """A supplier's own invoice number in its style."""
    if style == 0:
        return f"INV-{n}"
    if style == YEARLY_NUMBERING:
        return f"{year}-{n:04d}"
    if style == 2:
        return f"F{n:06d}"
    return f"NL-{n:05d}"
