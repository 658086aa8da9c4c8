"""Sales in the history: invoices in the sales journal and the receipts that settle them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from afas_pipeline.simulator import chart as c
from afas_pipeline.simulator.books import DAY, Line, day_date, sales_invoice, vat_lines
from afas_pipeline.simulator.parties import is_abroad, pick
from afas_pipeline.simulator.planted import RoundingDifference, SuspenseReceipt, cents_decimal

if TYPE_CHECKING:
    from afas_pipeline.simulator.history import History

_SALES_ACCOUNTS = (
    ((c.REVENUE_HIGH, "1"),) * 14
    + ((c.REVENUE_LOW, "2"),) * 4
    + ((c.REVENUE_ZERO, "3"),) * 2
    + ((c.REVENUE_EXEMPT, "9"),)  # courses: education is exempt from VAT
)
_SALES_ABROAD = ((c.REVENUE_ZERO, "3"),)
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


def ev_sale(h: History, ts: int, unit: int, planted: str | None) -> None:
    rng = h.rng
    day = ts // DAY
    debtor = pick(h, "D")
    if planted is None and rng.random() < _PREPAID_SHARE:
        _prepay(h, ts, unit, debtor, inv_day=day + rng.randint(2, 10))
        return
    inv_day = max(day - (rng.randint(1, 3) if rng.random() < 0.25 else 0), h.start_day)
    lines = draft_invoice(h, unit, debtor, inv_day, wrong_vat=planted == "vat")
    entry_no = h.books.book(ts, unit, c.SALES, lines)
    if planted == "vat":
        h.plant_vat(unit, entry_no, c.SALES, lines[1].credit, lines[1].vat_amt, "1")
    gross, invoice = lines[0].debit, lines[0].invoice
    h.schedule_settlement(ts, unit, "D", debtor, invoice, inv_day, gross, entry_no, planted)


def draft_invoice(
    h: History, unit: int, debtor: str, inv_day: int, *, wrong_vat: bool = False
) -> list[Line]:
    """The lines of a new sales invoice dated `inv_day`, numbered by the sales counter: the
    debtor line first, then revenue lines with their VAT, then a VAT line per code.
    `wrong_vat`: the first line is at 21 % but its VAT was computed at 9 % (planted)."""
    rng = h.rng
    year, n = h.books.next_number(unit, "F", inv_day)
    invoice, voucher = sales_invoice(year, n), f"V{year}{n:06d}"
    party = h.books.debtors[debtor]
    # Deliveries to businesses abroad in the EU are intra-community supplies at 0 %.
    choices = _SALES_ABROAD if is_abroad(party) else _SALES_ACCOUNTS
    revenue = [rng.choice(choices) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
    nets = [h.amount(600) for _ in revenue]
    vats = [
        c.vat_amount(net, c.VAT_BY_CODE[code].rate_bp)
        for net, (_, code) in zip(nets, revenue, strict=True)
    ]
    if wrong_vat:
        revenue[0], nets[0] = (
            (c.REVENUE_HIGH, "1"),
            max(nets[0], 20_000 + rng.randrange(50_000)),
        )
        vats[0] = c.vat_amount(nets[0], 900)
    desc = f"{invoice} {party.name}"
    gross = sum(nets) + sum(vats)
    lines = [Line(party.collect, inv_day, inv_day, voucher, invoice, gross, 0, desc, debtor=debtor)]
    for (acc, code), net, vat in zip(revenue, nets, vats, strict=True):
        text = "Opleiding" if code == "9" else rng.choice(_PRODUCTS)
        line = Line(acc, inv_day, inv_day, voucher, invoice, 0, net, text, vat_code=code)
        lines.append(line._replace(vat_amt=vat, dim=h.dim()))
    return lines + vat_lines(revenue, vats, inv_day, voucher, invoice, credit=True)


def _prepay(h: History, ts: int, unit: int, debtor: str, inv_day: int) -> None:
    """The customer pays now, with the number of the invoice still to come (a pro forma): the
    receipt's entry number is lower than the invoice's, and until the invoice is booked AFAS
    lists the item with a credit balance. Most pay in full, some a deposit of 30-50 %."""
    lines = draft_invoice(h, unit, debtor, inv_day)
    gross, invoice = lines[0].debit, lines[0].invoice
    paid = gross if h.rng.random() < 0.7 else gross * h.rng.randint(30, 50) // 10_000 * 100
    name = h.books.debtors[debtor].name
    receive(h, ts, unit, debtor, invoice, paid, f"Vooruitbetaling {invoice} {name}")
    h.push(h.later(ts, inv_day), ev_prepaid_invoice, (unit, debtor, tuple(lines), paid))


def ev_prepaid_invoice(
    h: History, ts: int, unit: int, debtor: str, lines: tuple[Line, ...], paid: int
) -> None:
    h.books.book(ts, unit, c.SALES, list(lines))
    gross, invoice, inv_day = lines[0].debit, lines[0].invoice, lines[0].voucher_day
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
    revenue = [
        (st.account[i], st.vat_code[i], st.credit[i], st.dim[i])
        for i in rows
        if st.vat_code[i] is not None and st.account[i] not in c.VAT_ACCOUNTS
    ]
    if share < 100:
        account, code, net, dim = revenue[0]
        revenue = [(account, code, max(net * share // 100, 1), dim)]
    vats = [c.vat_amount(net, c.VAT_BY_CODE[code].rate_bp) for _, code, net, _ in revenue]
    credited = sum(net for _, _, net, _ in revenue) + sum(vats)
    day = ts // DAY
    voucher = h.voucher(unit, "VC", day)
    party = books.debtors[debtor]
    desc = f"Creditnota {invoice} {party.name}"
    lines = [Line(party.collect, day, day, voucher, invoice, 0, credited, desc, debtor=debtor)]
    for (account, code, net, dim), vat in zip(revenue, vats, strict=True):
        # VatAmt is kept on the code's own side (sales: credit - debit), negative here.
        line = Line(account, day, day, voucher, invoice, net, 0, desc, vat_code=code, vat_amt=-vat)
        lines.append(line._replace(dim=dim))
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
    h: History, ts: int, unit: int, debtor: str, invoice: str, gross: int, planted: str | None
) -> None:
    if h.books.open_balance(unit, "D", debtor, invoice) != gross:
        return  # deleted or settled meanwhile (e.g. through FiEntries)
    name = h.books.debtors[debtor].name
    if planted == "suspense":
        day = ts // DAY
        voucher = h.voucher(unit, "B", day)
        ref = invoice.replace("F", "fact ").replace("-", " ")
        desc = f"Onbekende betaling {name} {ref}"
        lines = [
            Line(c.BANK, day, day, voucher, None, gross, 0, desc),
            Line(c.SUSPENSE, day, day, voucher, None, 0, gross, desc),
        ]
        entry_no = h.books.book(ts, unit, c.BANK_BOOK, lines)
        h.log.suspense.append(
            SuspenseReceipt(
                unit, entry_no, 2, day_date(day), cents_decimal(gross), debtor, invoice, desc
            )
        )
        return
    paid = gross - (h.rng.randint(1, 5) if planted == "rounding" else 0)
    entry_no = receive(h, ts, unit, debtor, invoice, paid, f"Ontvangst {invoice} {name}")
    if planted == "rounding":
        h.log.rounding.append(
            RoundingDifference(
                unit,
                debtor,
                invoice,
                entry_no,
                cents_decimal(gross),
                cents_decimal(paid),
                cents_decimal(gross - paid),
            )
        )
