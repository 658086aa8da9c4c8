"""The simulated books: journal lines, entries, open items, parties and counters.

Everything that books, deletes or edits an entry goes through `Books`, the generator
(`history.py`) and FiEntries (`environment.py`) alike, so open items, changed entry dates and
the versions that invalidate cached frames can never drift from the lines.

Time is integer seconds since 1970-01-01 on the naive Amsterdam wall clock (AFAS writes local
times), days are integer days since 1970-01-01, amounts are integer cents until the frames are
built (`projections.py`).
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from afas_pipeline.simulator import chart as c

DAY = 86_400
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EPOCH = datetime(1970, 1, 1)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# VatAmt is nullable; the int column marks a null with this sentinel.
NULL_CENTS = -(2**63)

# What a move of the clock reports, always all of them.
STAT_KEYS = (
    "entries_added", "lines_added", "entries_edited", "entries_deleted",
    "debtors_added", "debtors_changed", "debtors_deleted",
    "creditors_added", "creditors_changed", "creditors_deleted",
)  # fmt: skip


def to_seconds(dt: datetime) -> int:
    return int((dt - EPOCH).total_seconds())


def from_seconds(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def real_wall_clock(moment: datetime) -> datetime:
    """`moment` as a real Amsterdam clock shows it: a time in the hour skipped when summer time
    starts (02:00-03:00 on the last Sunday of March) does not exist, so it becomes the same
    minute an hour later; the October hour that repeats is kept as it is."""
    aware = moment.replace(tzinfo=AMSTERDAM)
    return aware.astimezone(UTC).astimezone(AMSTERDAM).replace(tzinfo=None)


def real_seconds(ts: int) -> int:
    """`real_wall_clock` for a timestamp in seconds; cheap outside the 02:00 hour."""
    if ts % DAY // 3600 != 2:
        return ts
    return to_seconds(real_wall_clock(from_seconds(ts)))


def day_number(d: date) -> int:
    return d.toordinal() - EPOCH_ORDINAL


def day_date(day: int) -> date:
    return date.fromordinal(day + EPOCH_ORDINAL)


def weekday(day: int) -> int:
    """Banks process payments on working days: move a Saturday or Sunday to the Monday."""
    wd = day_date(day).weekday()
    return day + (7 - wd if wd >= 5 else 0)


class Line(NamedTuple):
    """One journal line as the generator and FiEntries hand it to the store."""

    account: str
    entry_day: int
    voucher_day: int
    voucher_no: str | None
    invoice: str | None
    debit: int
    credit: int
    description: str | None
    debtor: str | None = None
    creditor: str | None = None
    vat_code: str | None = None
    vat_amt: int = NULL_CENTS  # VatAmt is null
    dim: str | None = None  # cost centre (DimAx1)
    dim2: str | None = None  # cost carrier (DimAx2)


class LineStore:
    """All journal lines ever booked, one array or list per column; deleted lines stay, flagged."""

    def __init__(self) -> None:
        self.unit = array("i")
        self.entry_no = array("q")
        self.seq_no = array("i")
        self.year = array("i")
        self.period = array("i")
        self.journal: list[str] = []
        self.account: list[str] = []
        self.debtor: list[str | None] = []
        self.creditor: list[str | None] = []
        self.entry_date = array("i")
        self.voucher_date = array("i")
        self.voucher_no: list[str | None] = []
        self.invoice: list[str | None] = []
        self.debit = array("q")
        self.credit = array("q")
        self.vat_code: list[str | None] = []
        self.vat_amt = array("q")
        self.description: list[str | None] = []
        self.dim: list[str | None] = []
        self.dim2: list[str | None] = []
        self.created = array("q")
        self.modified = array("q")
        self.alive = bytearray()

    def __len__(self) -> int:
        return len(self.alive)

    def append(
        self,
        unit: int,
        entry_no: int,
        year: int,
        period: int,
        journal: str,
        lines: list[Line],
        ts: int,
    ) -> None:
        for seq, ln in enumerate(lines, 1):
            self.unit.append(unit)
            self.entry_no.append(entry_no)
            self.seq_no.append(seq)
            self.year.append(year)
            self.period.append(period)
            self.journal.append(journal)
            self.account.append(ln.account)
            self.debtor.append(ln.debtor)
            self.creditor.append(ln.creditor)
            self.entry_date.append(ln.entry_day)
            self.voucher_date.append(ln.voucher_day)
            self.voucher_no.append(ln.voucher_no)
            self.invoice.append(ln.invoice)
            self.debit.append(ln.debit)
            self.credit.append(ln.credit)
            self.vat_code.append(ln.vat_code)
            self.vat_amt.append(ln.vat_amt)
            self.description.append(ln.description)
            self.dim.append(ln.dim)
            self.dim2.append(ln.dim2)
            self.created.append(ts)
            self.modified.append(ts)
            self.alive.append(1)


@dataclass(slots=True)
class EntryRef:
    start: int
    count: int
    journal: str
    year: int
    period: int
    entry_day: int
    alive: bool = True


@dataclass(slots=True)
class OpenItem:
    """The running state of an invoice of a debtor or creditor (its AFAS attributes are
    projected from the lines, `projections.open_items_frame`)."""

    balance: int  # debtor: debit - credit; creditor: credit - debit (an unpaid invoice is > 0)
    lines: int


@dataclass(slots=True)
class Party:
    """A debtor or creditor. `prospect` ones are never invoiced (and may be deleted)."""

    id: str
    name: str
    bcco: str
    search: str
    email: str
    iban: str
    vat_nr: str
    kvk: str | None  # Chamber of Commerce number: Dutch parties only
    collect: str
    term: str
    credit_limit: int
    blocked: bool
    created: int
    modified: int
    prospect: bool
    country: str = "NL"  # ISO 3166 code of where the party is established
    style: int = 0  # how a creditor numbers its invoices (`purchases.supplier_invoice`)
    counter: int = 0  # a creditor's last invoice number (of its first year, if yearly)
    yearly: dict[int, int] = field(default_factory=dict)  # last number per year, if yearly


OpenItemKey = tuple[int, str, str, str]  # (unit, "D" or "C", party id, invoice number)


class Books:
    """The whole booked state of one environment: lines, entries, open items and parties."""

    def __init__(self, units: tuple[int, ...]) -> None:
        self.units = units
        self.lines = LineStore()
        self.entries: dict[tuple[int, int], EntryRef] = {}
        self.open_items: dict[OpenItemKey, OpenItem] = {}
        # How many debtor items have a given open balance, per (unit, balance); 0 is left out.
        self.open_debtor_amounts: Counter[tuple[int, int]] = Counter()
        # Where the lines on the suspense account are (few, and the truth needs all of them).
        self.suspense_rows: list[int] = []
        # Where the lines on the intercompany current accounts are (as few, as needed).
        self.intercompany_rows: list[int] = []
        self.changed_days: dict[int, int] = {}
        # Due dates given explicitly (FiEntries' DaEx), per (unit, entry number, line number).
        self.due_days: dict[tuple[int, int, int], int] = {}
        self.debtors: dict[str, Party] = {}
        self.creditors: dict[str, Party] = {}
        self.used_parties: set[str] = set()
        self.versions = Counter[str]()
        self.stats = Counter[str]()
        self._entry_counter = dict.fromkeys(units, 0)
        self._counters: Counter[tuple] = Counter()
        self._ym: dict[int, tuple[int, int]] = {}

    def year_period(self, day: int) -> tuple[int, int]:
        ym = self._ym.get(day)
        if ym is None:
            d = day_date(day)
            ym = self._ym[day] = (d.year, d.month)
        return ym

    def book(
        self,
        ts: int,
        unit: int,
        journal: str,
        lines: list[Line],
        *,
        year: int | None = None,
        period: int | None = None,
        due_days: dict[int, int] | None = None,
    ) -> int:
        """Add an entry with the next entry number of `unit`; returns that number."""
        self._entry_counter[unit] += 1
        entry_no = self._entry_counter[unit]
        if year is None or period is None:
            year, period = self.year_period(lines[0].entry_day)
        store = self.lines
        start = len(store)
        self.entries[(unit, entry_no)] = EntryRef(
            start, len(lines), journal, year, period, lines[0].entry_day
        )
        store.append(unit, entry_no, year, period, journal, lines, ts)
        suspense, intercompany = c.SUSPENSE, c.INTERCOMPANY_ACCOUNTS
        for i, ln in enumerate(lines):
            self.touch_day(ln.entry_day, ts)
            if ln.invoice is not None and (ln.debtor or ln.creditor):
                self._post_to_item(unit, ln.debtor, ln.creditor, ln.invoice, ln.debit - ln.credit)
            elif ln.account == suspense:
                self.suspense_rows.append(start + i)
            elif ln.account in intercompany:
                self.intercompany_rows.append(start + i)
        for i, due_day in (due_days or {}).items():
            self.due_days[(unit, entry_no, i + 1)] = due_day
        self.versions["lines"] += 1
        self.stats["entries_added"] += 1
        self.stats["lines_added"] += len(lines)
        return entry_no

    def next_entry_no(self, unit: int) -> int:
        return self._entry_counter[unit] + 1

    def next_sales_invoice(self, unit: int, invoice_day: int) -> str:
        """The next number of `unit`'s sales invoice counter, which the generator and FiEntries'
        automatic numbering (AuNu) share, as AFAS's counters are shared."""
        return sales_invoice(*self.next_number(unit, "F", invoice_day))

    def next_number(self, unit: int, series: str, day: int) -> tuple[int, int]:
        """(year, number): counters run per administration and series, and restart every year
        of the date that picks the series (afas-api.md §8, tellers)."""
        year = self.year_period(day)[0]
        self._counters[(unit, series, year)] += 1
        return year, self._counters[(unit, series, year)]

    def next_party_number(self, side: str) -> int:
        self._counters[("party", side)] += 1
        return (10_000 if side == "D" else 60_000) + self._counters[("party", side)]

    def touch_day(self, day: int, ts: int) -> None:
        if self.changed_days.get(day, -1) < ts:
            self.changed_days[day] = ts

    def _post_to_item(
        self,
        unit: int,
        debtor: str | None,
        creditor: str | None,
        invoice: str,
        net: int,
        lines: int = 1,
    ) -> None:
        """Add (or, with negative `net` and `lines`, take back) a line's debit - credit."""
        party = debtor or creditor
        assert party, "the callers post only lines that name a debtor or a creditor"
        kind, amount = ("D", net) if debtor else ("C", -net)
        key = (unit, kind, party, invoice)
        self.used_parties.add(party)
        item = self.open_items.get(key)
        if item is None:
            item = self.open_items[key] = OpenItem(0, 0)
        if debtor:
            self._count_debtor_amount(unit, item.balance, -1)
            self._count_debtor_amount(unit, item.balance + amount, 1)
        item.balance += amount
        item.lines += lines
        if item.lines == 0:
            del self.open_items[key]

    def _count_debtor_amount(self, unit: int, balance: int, step: int) -> None:
        if balance:
            amounts, k = self.open_debtor_amounts, (unit, balance)
            amounts[k] += step
            if not amounts[k]:
                del amounts[k]

    def has_open_debtor_amount(self, unit: int, balance: int) -> bool:
        """Whether an open debtor item of `unit` has exactly this balance."""
        return (unit, balance) in self.open_debtor_amounts

    @staticmethod
    def open_item_key(unit: int, debtor: str | None, creditor: str | None, invoice: str) -> tuple:
        return (unit, "D", debtor, invoice) if debtor else (unit, "C", creditor, invoice)

    def entry_lines(self, unit: int, entry_no: int) -> range | None:
        ref = self.entries.get((unit, entry_no))
        return range(ref.start, ref.start + ref.count) if ref and ref.alive else None

    def invoice_entries(self, unit: int, journal: str, invoice: str) -> list[int]:
        """The live entries of `journal` in `unit` with a line carrying invoice number `invoice`."""
        st = self.lines
        return [
            entry_no
            for (u, entry_no), ref in self.entries.items()
            if u == unit
            and ref.alive
            and ref.journal == journal
            and invoice in st.invoice[ref.start : ref.start + ref.count]
        ]

    def is_matched(self, unit: int, entry_no: int) -> bool:
        """Whether a debtor/creditor line of the entry shares its invoice with another entry."""
        rows = self.entry_lines(unit, entry_no)
        own: Counter[tuple] = Counter()
        for i in rows or ():
            inv = self.lines.invoice[i]
            if inv is not None and (self.lines.debtor[i] or self.lines.creditor[i]):
                own[
                    self.open_item_key(unit, self.lines.debtor[i], self.lines.creditor[i], inv)
                ] += 1
        return any(self.open_items[k].lines > n for k, n in own.items())

    def delete_entry(self, ts: int, unit: int, entry_no: int) -> None:
        ref = self.entries[(unit, entry_no)]
        st = self.lines
        for i in range(ref.start, ref.start + ref.count):
            st.alive[i] = 0
            self.touch_day(st.entry_date[i], ts)
            inv = st.invoice[i]
            if inv is not None and (st.debtor[i] or st.creditor[i]):
                net = st.debit[i] - st.credit[i]
                self._post_to_item(unit, st.debtor[i], st.creditor[i], inv, -net, lines=-1)
        ref.alive = False
        self.versions["lines"] += 1
        self.stats["entries_deleted"] += 1

    def mark_edited(self, ts: int, unit: int, entry_no: int) -> None:
        """A user changed a line of the entry: AFAS gives the whole entry the new time."""
        st = self.lines
        for i in self.entry_lines(unit, entry_no) or ():
            st.modified[i] = ts
            self.touch_day(st.entry_date[i], ts)
        self.versions["lines"] += 1
        self.stats["entries_edited"] += 1

    def intercompany_balance(self, unit: int, account: str) -> int:
        """Debit - credit of the live lines on an intercompany account of `unit`."""
        st = self.lines
        return sum(
            st.debit[i] - st.credit[i]
            for i in self.intercompany_rows
            if st.alive[i] and st.unit[i] == unit and st.account[i] == account
        )

    def open_balance(self, unit: int, side: str, party: str, invoice: str) -> int | None:
        item = self.open_items.get((unit, side, party, invoice))
        return item.balance if item else None

    def parties(self, side: str) -> dict[str, Party]:
        """The debtors (side "D") or the creditors ("C")."""
        return self.debtors if side == "D" else self.creditors

    def party(self, side: str, party_id: str) -> Party:
        return self.parties(side)[party_id]


def sales_invoice(year: int, n: int) -> str:
    return f"F{year}-{n:05d}"


def vat_lines(
    coded: list[tuple[str, str]],
    vats: list[int],
    day: int,
    voucher: str,
    invoice: str | None,
    *,
    credit: bool,
    voucher_day: int | None = None,
) -> list[Line]:
    """The VAT lines of an entry booked on `day` (its voucher dated `voucher_day`, default
    the same): per VAT code its total on the code's account, on the credit side (a sales
    invoice) or the debit side (a purchase, a sales credit note); a reverse charge code books
    it once more on the other side, payable on VAT_REVERSE_CHARGE."""
    per_code: dict[str, int] = {}
    for (_, code), vat in zip(coded, vats, strict=True):
        per_code[code] = per_code.get(code, 0) + vat
    out = []
    for code, vat in per_code.items():
        if not vat:
            continue
        vc = c.VAT_BY_CODE[code]
        legs = [(vc.account, (0, vat) if credit else (vat, 0))]
        if vc.method == "reverse_charge":
            legs.append((c.VAT_REVERSE_CHARGE, (vat, 0) if credit else (0, vat)))
        dated = day if voucher_day is None else voucher_day
        text = vc.description
        for account, (amt_debit, amt_credit) in legs:
            out.append(
                Line(
                    account,
                    day,
                    dated,
                    voucher,
                    invoice,
                    amt_debit,
                    amt_credit,
                    text,
                    vat_code=code,
                )
            )
    return out


def charged_vat(codes: list[str], vats: list[int]) -> int:
    """The VAT the party pays on top of the net: none under reverse charge."""
    return sum(
        vat
        for code, vat in zip(codes, vats, strict=True)
        if c.VAT_BY_CODE[code].method != "reverse_charge"
    )
