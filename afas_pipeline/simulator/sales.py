"""Sales in the history: invoices in the sales journal and the receipts that settle them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from afas_pipeline.simulator import chart as c
from afas_pipeline.simulator.books import DAY, Line, sales_invoice, vat_lines, weekday
from afas_pipeline.simulator.parties import pick, region
from afas_pipeline.simulator.planted import RoundingDifference, cents_decimal

if TYPE_CHECKING:
    from afas_pipeline.simulator.history import History

# (revenue account, VAT code) per region of the debtor: at home 21 %, 9 % or exempt (courses:
# education is exempt from VAT); to businesses in another EU country an intra-community
# supply at 0 % (ICP); outside the EU an export at 0 %.
_SALES_ACCOUNTS = {
    "domestic": ((c.REVENUE_HIGH, "1"),) * 14
    + ((c.REVENUE_LOW, "2"),) * 4
    + ((c.REVENUE_EXEMPT, "9"),),
    "eu": ((c.REVENUE_EU, "10"),),
    "non_eu": ((c.REVENUE_ZERO, "3"),),
}
_PRODUCTS = (
    "Levering goederen",
    "Dienstverlening",
    "Onderhoudscontract",
    "Advieswerkzaamheden",
    "Installatie",
    "Verzendkosten",
    "Licenties",
    "Detachering",
)


# Share of sales paid before the invoice is booked (a web order, a deposit on an order).
_PREPAID_SHARE = 0.04
# Share of revenue lines booked on a cost carrier (a product line).
_CARRIED_SHARE = 0.6


def ev_sale(h: History, ts: int, unit: int, planted: str | None) -> None:
    rng = h.rng
    day = ts // DAY
    debtor = pick(h, "D")
    if planted is None and rng.random() < _PREPAID_SHARE:
        _prepay(h, ts, unit, debtor, inv_day=day + rng.randint(2, 10))
        return
    inv_day = max(day - (rng.randint(1, 3) if rng.random() < 0.25 else 0), h.start_day)
    lines = draft_invoice(h, unit, debtor, inv_day, wrong_vat=planted == "vat_sales")
    entry_no = h.books.book(ts, unit, c.SALES, lines)
    if planted == "vat_sales":
        h.plant_vat(unit, entry_no, "1")
    gross, invoice = lines[0].debit, _invoice(lines[0])
    h.schedule_settlement(ts, unit, "D", debtor, invoice, inv_day, gross, entry_no, planted)


def draft_invoice(
    h: History,
    unit: int,
    debtor: str,
    inv_day: int,
    *,
    wrong_vat: bool = False,
    avoid: set[int] | None = None,
) -> list[Line]:
    """The lines of a new sales invoice dated `inv_day`, numbered by the sales counter: the
    debtor line first, then revenue lines with their VAT, then a VAT line per code.
    `wrong_vat`: the first line is at 21 % but its VAT was computed at 9 % (planted).
    `avoid`: amounts the invoice's total must not have."""
    rng = h.rng
    year, n = h.books.next_number(unit, "F", inv_day)
    invoice, voucher = sales_invoice(year, n), f"V{year}{n:06d}"
    party = h.books.debtors[debtor]
    choices = _SALES_ACCOUNTS[region(party)]
    revenue = [rng.choice(choices) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
    nets = [h.amount(600) for _ in revenue]
    if wrong_vat:
        revenue[0], nets[0] = (c.REVENUE_HIGH, "1"), max(nets[0], 20_000 + rng.randrange(50_000))
    rates = [c.VAT_BY_CODE[code].rate_bp for _, code in revenue]
    if wrong_vat:
        rates[0] = 900
    while True:
        vats = [c.vat_amount(net, rate) for net, rate in zip(nets, rates, strict=True)]
        gross = sum(nets) + sum(vats)
        if not avoid or gross not in avoid:
            break
        nets[0] += 1
    desc = f"{invoice} {party.name}"
    lines = [Line(party.collect, inv_day, inv_day, voucher, invoice, gross, 0, desc, debtor=debtor)]
    for (acc, code), net, vat in zip(revenue, nets, vats, strict=True):
        text = "Opleiding" if code == "9" else rng.choice(_PRODUCTS)
        lines.append(
            Line(
                acc,
                inv_day,
                inv_day,
                voucher,
                invoice,
                0,
                net,
                text,
                None,
                None,
                code,
                vat,
                h.dim(),
                h.cost_carrier(_CARRIED_SHARE),
            )
        )
    return lines + vat_lines(revenue, vats, inv_day, voucher, invoice, credit=True)


def _prepay(h: History, ts: int, unit: int, debtor: str, inv_day: int) -> None:
    """The customer pays now, with the number of the invoice still to come (a pro forma): the
    receipt's entry number is lower than the invoice's, and until the invoice is booked AFAS
    lists the item with a credit balance. Most pay in full, some a deposit of 30-50 %."""
    lines = draft_invoice(h, unit, debtor, inv_day)
    gross, invoice = lines[0].debit, _invoice(lines[0])
    paid = gross if h.rng.random() < 0.7 else gross * h.rng.randint(30, 50) // 10_000 * 100
    name = h.books.debtors[debtor].name
    receive(h, ts, unit, debtor, invoice, paid, f"Vooruitbetaling {invoice} {name}")
    h.push(h.later(ts, inv_day), ev_prepaid_invoice, (unit, debtor, tuple(lines), paid))


def ev_prepaid_invoice(
    h: History, ts: int, unit: int, debtor: str, lines: tuple[Line, ...], paid: int
) -> None:
    h.books.book(ts, unit, c.SALES, list(lines))
    gross, invoice, inv_day = lines[0].debit, _invoice(lines[0]), lines[0].voucher_day
    if paid < gross:
        h.schedule_payment(ts, unit, "D", debtor, invoice, inv_day, gross - paid)


def ev_credit_note(
    h: History,
    ts: int,
    unit: int,
    debtor: str,
    invoice: str,
    inv_day: int,
    entry_no: int,
    gross: int,
    share: int,
) -> None:
    """Credit `share` % of the invoice (100: every line; else a part of its first revenue
    line) in the sales journal under the invoice's own number: debtor credit, revenue debit
    with its VAT code, VAT debit. A partial credit note leaves the rest to be paid."""
    books = h.books
    rows = books.entry_lines(unit, entry_no)
    if rows is None or books.open_balance(unit, "D", debtor, invoice) != gross:
        return  # deleted or paid meanwhile
    st = books.lines
    revenue: list[tuple[str, str, int, tuple[str | None, str | None]]] = []
    for i in rows:
        vat_code = st.vat_code[i]
        if vat_code is not None and st.account[i] not in c.VAT_ACCOUNTS:
            revenue.append((st.account[i], vat_code, st.credit[i], (st.dim[i], st.dim2[i])))
    if share < 100:
        account, code, net, dims = revenue[0]
        revenue = [(account, code, max(net * share // 100, 1), dims)]
    vats = [c.vat_amount(net, c.VAT_BY_CODE[code].rate_bp) for _, code, net, _ in revenue]
    credited = sum(net for _, _, net, _ in revenue) + sum(vats)
    day = ts // DAY
    voucher = h.voucher(unit, "VC", day)
    party = books.debtors[debtor]
    desc = f"Creditnota {invoice} {party.name}"
    lines = [Line(party.collect, day, day, voucher, invoice, 0, credited, desc, debtor=debtor)]
    for (account, code, net, (dim, dim2)), vat in zip(revenue, vats, strict=True):
        # VatAmt is kept on the code's own side (sales: credit - debit), negative here.
        line = Line(account, day, day, voucher, invoice, net, 0, desc, vat_code=code, vat_amt=-vat)
        lines.append(line._replace(dim=dim, dim2=dim2))
    coded = [(account, code) for account, code, _, _ in revenue]
    lines += vat_lines(coded, vats, day, voucher, invoice, credit=False)
    books.book(ts, unit, c.SALES, lines)
    if credited < gross:
        h.schedule_payment(ts, unit, "D", debtor, invoice, inv_day, gross - credited)


def receive(
    h: History, ts: int, unit: int, debtor: str, invoice: str, amount: int, desc: str
) -> int:
    """Book a bank receipt of `amount` on the debtor's item `invoice`; returns the entry."""
    day = ts // DAY
    voucher = h.voucher(unit, "B", day)
    collect = h.books.debtors[debtor].collect
    lines = [
        Line(c.BANK, day, day, voucher, None, amount, 0, desc),
        Line(collect, day, day, voucher, invoice, 0, amount, desc, debtor=debtor),
    ]
    return h.books.book(ts, unit, c.BANK_BOOK, lines)


def ev_receipt(
    h: History, ts: int, unit: int, debtor: str, invoice: str, amount: int, case: str | None
) -> None:
    """The debtor pays the item's open `amount`; a `case` pays it awkwardly (ev_case_invoice)."""
    if h.books.open_balance(unit, "D", debtor, invoice) != amount:
        return  # deleted or settled meanwhile (e.g. through FiEntries)
    name, day = h.books.debtors[debtor].name, ts // DAY
    if case == "rounding":
        paid = amount - h.rng.randint(1, 5)
        entry_no = receive(h, ts, unit, debtor, invoice, paid, f"Ontvangst {invoice} {name}")
        difference = RoundingDifference(
            unit,
            debtor,
            invoice,
            entry_no,
            cents_decimal(amount),
            cents_decimal(paid),
            cents_decimal(amount - paid),
        )
        h.log.rounding.append(difference)
    elif case == "suspense_named":
        ref = invoice.replace("F", "fact ").replace("-", " ")
        park(h, ts, unit, amount, f"Onbekende betaling {name} {ref}")
    elif case == "suspense_cleared_later":
        # The bank import could not match the reference; a week later someone clears it.
        park(h, ts, unit, amount, f"{name} {invoice.replace('-', '')}")
        args = (unit, debtor, invoice, amount)
        h.push(h.later(ts, day + h.rng.randint(2, 7)), ev_clear_suspense, args)
    elif case == "suspense_cleared_first":
        # Seen in online banking and cleared at once; the statement is imported a day or two
        # later, its receipt dated on the day of payment, and parked as it cannot be matched.
        clear_suspense(h, ts, unit, debtor, invoice, amount)
        parked = (unit, amount, f"{name} {invoice.replace('-', '')}", day)
        h.push(h.later(ts, day + h.rng.randint(1, 2)), ev_park, parked)
    else:
        receive(h, ts, unit, debtor, invoice, amount, f"Ontvangst {invoice} {name}")


# ---- the suspense account (vraagposten) ----

_UNKNOWN_SENDERS = (
    "Ontvangst onbekende afzender",
    "Storting zonder omschrijving",
    "Bijschrijving onbekend",
)


def ev_case_invoice(h: History, ts: int, unit: int, case: str) -> None:
    """An invoice whose receipt is a case: parked on suspense and never cleared (planted,
    naming the invoice), parked and cleared by hand later, cleared by hand before the bank
    import parks it, or a few cents short (planted rounding difference)."""
    day = ts // DAY
    debtor = pick(h, "D")
    avoid = None if case == "rounding" else h.suspense_amounts[unit]
    lines = draft_invoice(h, unit, debtor, day, avoid=avoid)
    gross, invoice = lines[0].debit, lines[0].invoice
    if avoid is not None:
        avoid.add(gross)
    h.books.book(ts, unit, c.SALES, lines)
    term = int(h.books.debtors[debtor].term)
    pay_day = weekday(day + term + h.rng.randint(0, 10))
    h.push(h.later(ts, pay_day), ev_receipt, (unit, debtor, invoice, gross, case))


def ev_twin_invoices(h: History, ts: int, unit: int, case: str) -> None:
    """Planted: two unpaid invoices of one debtor with the same amount (a recurring fee), and
    a receipt on suspense with the debtor's name but no reference: it pays one of the two,
    and nothing tells which."""
    day = ts // DAY
    debtor = pick(h, "D")
    lines = draft_invoice(h, unit, debtor, day, avoid=h.suspense_amounts[unit])
    h.suspense_amounts[unit].add(lines[0].debit)
    h.books.book(ts, unit, c.SALES, lines)
    h.push(h.later(ts, day + h.rng.randint(7, 21)), ev_repeat_invoice, (unit, debtor, tuple(lines)))


def ev_repeat_invoice(h: History, ts: int, unit: int, debtor: str, lines: tuple[Line, ...]) -> None:
    """The same invoice once more, under the next number and today's date."""
    day = ts // DAY
    year, n = h.books.next_number(unit, "F", day)
    invoice, voucher = sales_invoice(year, n), f"V{year}{n:06d}"
    repeat = [
        ln._replace(entry_day=day, voucher_day=day, voucher_no=voucher, invoice=invoice)
        for ln in lines
    ]
    name = h.books.debtors[debtor].name
    repeat[0] = repeat[0]._replace(description=f"{invoice} {name}")
    h.books.book(ts, unit, c.SALES, repeat)
    pay_day = weekday(day + h.rng.randint(3, 14))
    h.push(h.later(ts, pay_day), ev_park, (unit, lines[0].debit, f"Betaling {name}", None))


def ev_unknown_receipt(h: History, ts: int, unit: int, case: str) -> None:
    """Planted: a receipt on suspense with no name, no reference and an amount that no open
    debtor item has."""
    amount = h.amount(300)
    while amount in h.suspense_amounts[unit] or h.books.has_open_debtor_amount(unit, amount):
        amount += 1
    h.suspense_amounts[unit].add(amount)
    desc = h.rng.choice(_UNKNOWN_SENDERS)
    h.push(h.later(ts, weekday(ts // DAY)), ev_park, (unit, amount, desc, None))


def park(
    h: History, ts: int, unit: int, amount: int, desc: str, entry_day: int | None = None
) -> int:
    """A bank receipt of `amount` that cannot be matched, parked on the suspense account."""
    day = ts // DAY if entry_day is None else entry_day
    voucher = h.voucher(unit, "B", day)
    lines = [
        Line(c.BANK, day, day, voucher, None, amount, 0, desc),
        Line(c.SUSPENSE, day, day, voucher, None, 0, amount, desc),
    ]
    return h.books.book(ts, unit, c.BANK_BOOK, lines)


def ev_park(h: History, ts: int, unit: int, amount: int, desc: str, entry_day: int | None) -> None:
    park(h, ts, unit, amount, desc, entry_day)


def clear_suspense(h: History, ts: int, unit: int, debtor: str, invoice: str, amount: int) -> None:
    """A memorial entry by hand: off the suspense account, onto the debtor's invoice."""
    day = ts // DAY
    voucher = h.voucher(unit, "M", day)
    desc = f"Vraagpost {invoice} naar debiteur"
    collect = h.books.debtors[debtor].collect
    lines = [
        Line(c.SUSPENSE, day, day, voucher, None, amount, 0, desc),
        Line(collect, day, day, voucher, invoice, 0, amount, desc, debtor=debtor),
    ]
    h.books.book(ts, unit, c.MEMORIAL, lines)


def ev_clear_suspense(
    h: History, ts: int, unit: int, debtor: str, invoice: str, amount: int
) -> None:
    if h.books.open_balance(unit, "D", debtor, invoice) == amount:  # else cleared meanwhile
        clear_suspense(h, ts, unit, debtor, invoice, amount)


def _invoice(line: Line) -> str:
    """The invoice number of a line of an invoice (every line of one carries it)."""
    assert line.invoice is not None
    return line.invoice
