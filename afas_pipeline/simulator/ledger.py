"""The simulated ledger: a columnar line store and a deterministic business-activity generator.

Time is integer seconds since 1970-01-01 on the naive Amsterdam wall clock (AFAS writes local
times), days are integer days since 1970-01-01, amounts are integer cents until the frames are
built. Activity is a queue of timestamped events. Each simulated day starts with a "day" event
that decides that day's business from `Random(f"{seed}:{day}")`; events schedule their own
follow-ups (a payment, an edit, a deletion) for later times. Events run strictly in
(time, sequence) order, so the result is the same however the clock is moved forward.
"""

from __future__ import annotations

import heapq
import math
import random
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

import polars as pl

from afas_pipeline.afas.contract import (
    CREDITOR_INVOICES,
    CREDITORS,
    DEBTOR_INVOICES,
    DEBTORS,
    FINANCIAL_MUTATIONS,
    PERIOD_BALANCE,
)
from afas_pipeline.simulator import chart as c

DAY = 86_400
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EPOCH = datetime(1970, 1, 1)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# VatAmt is nullable; the int column marks a null with this sentinel.
NULL_CENTS = -(2**63)
_CENT = pl.lit(Decimal("0.01"), pl.Decimal(3, 2))


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


def cents_to_decimal(expr: pl.Expr) -> pl.Expr:
    """Int64 cents to Decimal(18,2), exactly (a decimal division would truncate the scale)."""
    return (expr.cast(pl.Decimal(18, 0)) * _CENT).cast(pl.Decimal(18, 2))


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
    dim: str | None = None


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
            self.created.append(ts)
            self.modified.append(ts)
            self.alive.append(1)

    def frame(self) -> pl.DataFrame:
        """The live lines, typed exactly as the DWH_Financiele_mutaties contract says."""
        s = pl.Series
        raw = pl.DataFrame(
            [
                s("UnitId", self.unit, pl.Int32),
                s("EntryNo", self.entry_no, pl.Int64),
                s("SeqNo", self.seq_no, pl.Int32),
                s("Year", self.year, pl.Int32),
                s("Period", self.period, pl.Int32),
                s("JournalId", self.journal, pl.String),
                s("AccountNo", self.account, pl.String),
                s("DebtorId", self.debtor, pl.String),
                s("CreditorId", self.creditor, pl.String),
                s("EntryDate", self.entry_date, pl.Int32),
                s("VoucherDate", self.voucher_date, pl.Int32),
                s("VoucherNo", self.voucher_no, pl.String),
                s("InvoiceId", self.invoice, pl.String),
                s("AmtDebit", self.debit, pl.Int64),
                s("AmtCredit", self.credit, pl.Int64),
                s("VatCode", self.vat_code, pl.String),
                s("VatAmt", self.vat_amt, pl.Int64),
                s("Description", self.description, pl.String),
                s("DimAx1", self.dim, pl.String),
                s("Created", self.created, pl.Int64),
                s("Mutatie_datum", self.modified, pl.Int64),
                s("_alive", self.alive, pl.UInt8),
            ]
        )
        col = pl.col
        return (
            raw.filter(col("_alive") == 1)
            .with_columns(
                col("UnitId", "SeqNo", "Year", "Period").cast(pl.Int64),
                col("EntryDate", "VoucherDate").cast(pl.Date),
                cents_to_decimal(col("AmtDebit")),
                cents_to_decimal(col("AmtCredit")),
                pl.when(col("VatAmt") != NULL_CENTS).then(cents_to_decimal(col("VatAmt"))),
                (col("Created", "Mutatie_datum") * 1_000_000).cast(pl.Datetime("us")),
            )
            .select(FINANCIAL_MUTATIONS.field_ids)
        )


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
    """An invoice of a debtor or creditor as AFAS's open-item administration tracks it."""

    balance: int  # debtor: debit - credit; creditor: credit - debit (an unpaid invoice is > 0)
    lines: int
    voucher_day: int
    due_day: int
    amount: int
    description: str | None
    entry_no: int


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
    kvk: str
    collect: str
    term: str
    credit_limit: int
    blocked: bool
    created: int
    modified: int
    prospect: bool
    style: int = 0
    counter: int = 0


# ---- planted problems: raw records, the Environment filters them against the current state ----


@dataclass(frozen=True)
class SuspenseReceipt:
    """(a) A receipt parked on 2999 whose amount equals an open sales invoice."""

    unit_id: int
    entry_no: int
    seq_no: int
    entry_date: date
    amount: Decimal
    debtor_id: str
    invoice_id: str
    description: str


@dataclass(frozen=True)
class DuplicateInvoice:
    """(b) A purchase invoice booked twice, the numbers differing only in formatting."""

    unit_id: int
    creditor_id: str
    amount: Decimal
    voucher_date: date
    original_entry_no: int
    original_invoice_id: str
    duplicate_entry_no: int
    duplicate_invoice_id: str


@dataclass(frozen=True)
class VatMismatch:
    """(c) A revenue or cost line whose VatAmt is not net * rate (the VAT line follows it)."""

    unit_id: int
    entry_no: int
    seq_no: int
    journal_id: str
    vat_code: str
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
class PlantedProblems:
    suspense_receipts: tuple[SuspenseReceipt, ...] = ()
    duplicate_invoices: tuple[DuplicateInvoice, ...] = ()
    vat_mismatches: tuple[VatMismatch, ...] = ()
    rounding_differences: tuple[RoundingDifference, ...] = ()


def _dec(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


# ---- names and numbers for master data ----

_PREFIXES = (
    "Bakkerij",
    "Installatiebedrijf",
    "Transportbedrijf",
    "Drukkerij",
    "Bouwbedrijf",
    "Hoveniersbedrijf",
    "Autobedrijf",
    "Schildersbedrijf",
    "Adviesbureau",
    "Groothandel",
    "Timmerfabriek",
    "Kaashandel",
    "Tandartspraktijk",
    "Architectenbureau",
    "Zeilmakerij",
)
_CORES = (
    "De Vries",
    "Jansen",
    "Van Dijk",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "De Boer",
    "Mulder",
    "De Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Van Leeuwen",
    "Dekker",
    "Brouwer",
    "De Wit",
    "Dijkstra",
    "Smits",
    "De Graaf",
    "Van der Meer",
    "Kok",
    "Jacobs",
    "Van den Berg",
    "Vermeulen",
    "Noorderlicht",
    "Zeeland",
    "Wadden",
    "Polderzicht",
    "Eemland",
    "Kennemer",
    "Veluwe",
)
_SUFFIXES = ("B.V.", "B.V.", "V.O.F.", "", "& Zn.", "Holding B.V.", "Groep B.V.")
_SUPPLIERS = (
    "KPN",
    "Vodafone Zakelijk",
    "Eneco",
    "Vattenfall",
    "Staples",
    "Lyreco",
    "Makro",
    "Sligro",
    "Bol.com Zakelijk",
    "Coolblue Zakelijk",
    "Shell Fleet",
    "LeasePlan",
    "Randstad",
    "Deloitte",
    "PostNL",
    "DHL Express",
    "Exact",
    "Microsoft Ireland",
    "Google Cloud",
    "Vastgoed Beheer",
)
_BANKS = ("ABNA", "INGB", "RABO", "TRIO", "KNAB", "BUNQ", "ASNB", "SNSB")


def _iban(rng: random.Random) -> str:
    bank = rng.choice(_BANKS)
    account = f"{rng.randrange(10**10):010d}"
    digits = "".join(str(int(ch, 36)) for ch in bank + account + "NL00")
    check = 98 - int(digits) % 97
    return f"NL{check:02d}{bank}{account}"


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())[:24] or "bedrijf"


# ---- the generator ----

# What advance() reports, always all of them.
STAT_KEYS = (
    "entries_added", "lines_added", "entries_edited", "entries_deleted",
    "debtors_added", "debtors_changed", "debtors_deleted",
    "creditors_added", "creditors_changed", "creditors_deleted",
)  # fmt: skip

# Relative amount of business per weekday (Mon..Sun), scaled so a week averages 1.0.
_WEEKDAY_WEIGHT = (1.3, 1.3, 1.3, 1.3, 1.3, 0.15, 0.05)
WEEKDAY_FACTOR = tuple(w * 7 / sum(_WEEKDAY_WEIGHT) for w in _WEEKDAY_WEIGHT)
# Lines a sales/purchase invoice adds, its payment included (measured from the generator).
_LINES_PER_SALE = 5.6
_LINES_PER_PURCHASE = 5.2
# Fixed monthly bookings per administration: payroll, depreciation, bank costs, cash top-up.
_FIXED_LINES_PER_DAY = 0.75
# Planted problems: (kind, phase). The phase spreads them over the history; kinds that need a
# later receipt get early phases, so that their receipt lands before `now`.
_PLANTED = (("suspense", 0.9), ("rounding", 0.7), ("duplicate", 0.5), ("vat", 0.3))

_SALES_ACCOUNTS = (
    ((c.REVENUE_HIGH, "1"),) * 14 + ((c.REVENUE_LOW, "2"),) * 4 + ((c.REVENUE_ZERO, "3"),) * 2
)
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
_COST_ACCOUNTS = (
    (c.RENT, "7", "Huur"),
    (c.CAR, "5", "Brandstof en onderhoud"),
    (c.OFFICE, "5", "Kantoorartikelen"),
    (c.OFFICE, "6", "Lectuur en vakliteratuur"),
    (c.TELECOM, "5", "Telefonie en internet"),
    (c.MARKETING, "5", "Advertenties"),
    (c.ADVISORY, "5", "Advieskosten"),
)
_RECLASS = ((c.OFFICE, c.TELECOM), (c.CAR, c.OFFICE), (c.MARKETING, c.ADVISORY))


class Ledger:
    """The whole simulated state: master data, journal lines, open items, and the event queue."""

    def __init__(
        self,
        *,
        seed: int,
        journal_lines: int,
        units: tuple[int, ...],
        start_day: int,
        history_days: int,
    ) -> None:
        self.seed = seed
        self.units = units
        self.start_day = start_day
        self.lines = LineStore()
        self.entries: dict[tuple[int, int], EntryRef] = {}
        self.open_items: dict[tuple[int, str, str, str], OpenItem] = {}
        self.changed_days: dict[int, int] = {}
        self.debtors: dict[str, Party] = {}
        self.creditors: dict[str, Party] = {}
        self.used_parties: set[str] = set()
        self.versions = Counter[str]()
        self.stats = Counter[str]()
        self.planted_raw: dict[str, list] = {k: [] for k, _ in _PLANTED}
        self.clock = start_day * DAY
        self.rng = random.Random(f"{seed}:init")
        self._queue: list[tuple[int, int, str, tuple]] = []
        self._seq = 0
        self._entry_counter = dict.fromkeys(units, 0)
        self._counters: Counter[tuple] = Counter()
        self._purchase_keys: set[tuple[str, int, int]] = set()
        self._debtor_pool: list[str] = []
        self._creditor_pool: list[str] = []
        self._prospects: dict[str, list[str]] = {"D": [], "C": []}
        self._ym: dict[int, tuple[int, int]] = {}
        self._size(journal_lines, history_days)
        self._initial_parties()
        self._push(start_day * DAY, "day", (start_day,))

    # ---- sizing ----

    def _size(self, journal_lines: int, history_days: int) -> None:
        n = len(self.units)
        raw = [0.2] + [1 / i for i in range(1, n)] if n > 1 else [1.0]
        rest = sum(raw[1:])
        weights = [1.0] if n == 1 else [0.2] + [0.8 * w / rest for w in raw[1:]]
        self.weight = dict(zip(self.units, weights, strict=True))
        per_day = journal_lines / max(history_days, 1)
        variable = max(per_day - _FIXED_LINES_PER_DAY * n, 1.0)
        self.sales_rate = {u: variable * 0.56 / _LINES_PER_SALE * w for u, w in self.weight.items()}
        self.purchase_rate = {
            u: variable * 0.40 / _LINES_PER_PURCHASE * w for u, w in self.weight.items()
        }
        self.other_rate = {u: variable * 0.04 / 2.5 * w for u, w in self.weight.items()}
        self.n_debtors = max(25, journal_lines // 60)
        self.n_creditors = max(12, journal_lines // 250)
        self.planted_rate = max(4, journal_lines // 5000) / max(history_days, 1)

    # ---- the event loop ----

    def _push(self, ts: int, kind: str, args: tuple) -> None:
        self._seq += 1
        # AFAS's clock never shows a time of the skipped spring hour, so neither do its records.
        heapq.heappush(self._queue, (real_seconds(ts), self._seq, kind, args))

    def run_until(self, until: int) -> Counter[str]:
        """Apply every event up to and including `until`; returns what happened."""
        before = self.stats.copy()
        queue = self._queue
        while queue and queue[0][0] <= until:
            ts, _, kind, args = heapq.heappop(queue)
            self.clock = ts
            getattr(self, "_ev_" + kind)(ts, *args)
        self.clock = max(self.clock, until)
        return Counter({k: self.stats[k] - before[k] for k in STAT_KEYS})

    def _work_time(self, day: int) -> int:
        """A booking time on `day`: office hours mostly, some evenings, a few just before 24:00."""
        r = self.rng.random()
        if r < 0.03:
            return day * DAY + 23 * 3600 + 50 * 60 + self.rng.randrange(600)
        if r < 0.08:
            return day * DAY + self.rng.randrange(18 * 3600, 23 * 3600 + 50 * 60)
        return day * DAY + self.rng.randrange(8 * 3600, 18 * 3600)

    def _later(self, ts: int, day: int) -> int:
        """A working time on `day` that is strictly after `ts` (follow-ups never go back)."""
        return max(self._work_time(day), ts + 60)

    def _count(self, expected: float) -> int:
        whole = int(expected)
        return whole + (self.rng.random() < expected - whole)

    def _ev_day(self, ts: int, day: int) -> None:
        self.rng = rng = random.Random(f"{self.seed}:{day}")
        self._push((day + 1) * DAY, "day", (day + 1,))
        d = day_date(day)
        factor = WEEKDAY_FACTOR[d.weekday()]
        for u in self.units:
            for kind, rate in (("sale", self.sales_rate), ("purchase", self.purchase_rate)):
                for _ in range(self._count(rate[u] * factor)):
                    self._push(self._work_time(day), kind, (u, None))
            for _ in range(self._count(self.other_rate[u] * factor)):
                kind = "cash" if rng.random() < 0.4 else "reclass"
                self._push(self._work_time(day), kind, (u,))
            self._plan_fixed(u, d, day)
        self._plan_master_data(day, factor)
        self._plan_planted(day)

    def _plan_fixed(self, u: int, d: date, day: int) -> None:
        rng = self.rng
        if d.day == 1:
            self._push(day * DAY + 9 * 3600 + rng.randrange(3600), "cash_topup", (u,))
        if d.day == 25:
            self._push(day * DAY + 10 * 3600 + rng.randrange(3600), "payroll", (u,))
        if d.day == 27:
            self._push(day * DAY + 11 * 3600 + rng.randrange(3600), "payroll_payment", (u,))
        if (d + timedelta(days=1)).day == 1:
            # The month-end depreciation job runs at 23:59, which puts changes in the last
            # minute of the day (the extraction's partition boundary) every month.
            self._push(day * DAY + 23 * 3600 + 59 * 60 + rng.randrange(60), "depreciation", (u,))
        if d.weekday() == 6:
            # The weekly bank-statement job runs at 02:xx wall-clock time, also on the two
            # daylight-saving Sundays: in October that hour comes twice, in March it does not
            # exist and the job runs at 03:xx (`_push`).
            self._push(day * DAY + 2 * 3600 + rng.randrange(3600), "bank_costs", (u,))

    def _plan_master_data(self, day: int, factor: float) -> None:
        for side, n0 in (("D", self.n_debtors), ("C", self.n_creditors)):
            per_day = n0 / 456
            for kind, share in (("new_party", 0.25), ("edit_party", 0.35), ("del_party", 0.06)):
                for _ in range(self._count(per_day * share * factor)):
                    self._push(self._work_time(day), kind, (side,))

    def _plan_planted(self, day: int) -> None:
        i = day - self.start_day
        units = [u for u in self.units if u <= 2]
        for kind, phase in _PLANTED:
            hi = math.floor(i * self.planted_rate + phase)
            lo = math.floor((i - 1) * self.planted_rate + phase)
            for n in range(lo + 1, hi + 1):
                u = units[n % len(units)]
                self._push(self._work_time(day), "planted", (kind, u))

    # ---- booking primitives ----

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
        self.entries[(unit, entry_no)] = EntryRef(
            len(store), len(lines), journal, year, period, lines[0].entry_day
        )
        store.append(unit, entry_no, year, period, journal, lines, ts)
        for i, ln in enumerate(lines):
            self._touch_day(ln.entry_day, ts)
            if ln.invoice is not None and (ln.debtor or ln.creditor):
                self._add_open_item(unit, entry_no, ln, (due_days or {}).get(i))
        self.versions["lines"] += 1
        self.stats["entries_added"] += 1
        self.stats["lines_added"] += len(lines)
        return entry_no

    def next_entry_no(self, unit: int) -> int:
        return self._entry_counter[unit] + 1

    def next_sales_invoice(self, unit: int, invoice_day: int) -> str:
        """The next number of `unit`'s sales invoice counter, which the generator and FiEntries'
        automatic numbering (AuNu) share, as AFAS's counters are shared."""
        return _sales_invoice(*self._next_number(unit, "F", invoice_day))

    def _next_number(self, unit: int, series: str, day: int) -> tuple[int, int]:
        """(year, number): counters run per administration and series, and restart every year
        of the date that picks the series (afas-api.md §8, tellers)."""
        year = self.year_period(day)[0]
        self._counters[(unit, series, year)] += 1
        return year, self._counters[(unit, series, year)]

    def _touch_day(self, day: int, ts: int) -> None:
        if self.changed_days.get(day, -1) < ts:
            self.changed_days[day] = ts

    def _add_open_item(self, unit: int, entry_no: int, ln: Line, due_day: int | None) -> None:
        if ln.debtor:
            key, party, amount = (unit, "D", ln.debtor, ln.invoice), ln.debtor, ln.debit - ln.credit
            term = self.debtors[ln.debtor].term
        else:
            key, party, amount = (
                (unit, "C", ln.creditor, ln.invoice),
                ln.creditor,
                ln.credit - ln.debit,
            )
            term = self.creditors[ln.creditor].term
        self.used_parties.add(party)
        item = self.open_items.get(key)
        if item is None:
            due = due_day if due_day is not None else ln.voucher_day + int(term)
            item = OpenItem(0, 0, ln.voucher_day, due, amount, ln.description, entry_no)
            self.open_items[key] = item
        item.balance += amount
        item.lines += 1

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
            self._touch_day(st.entry_date[i], ts)
            inv = st.invoice[i]
            if inv is not None and (st.debtor[i] or st.creditor[i]):
                key = self.open_item_key(unit, st.debtor[i], st.creditor[i], inv)
                item = self.open_items[key]
                item.balance -= (
                    st.debit[i] - st.credit[i] if st.debtor[i] else st.credit[i] - st.debit[i]
                )
                item.lines -= 1
                if item.lines == 0:
                    del self.open_items[key]
        ref.alive = False
        self.versions["lines"] += 1
        self.stats["entries_deleted"] += 1

    def _edit_entry(self, ts: int, unit: int, entry_no: int) -> None:
        """A user corrects a description or a cost centre; the whole entry gets the new time."""
        rows = self.entry_lines(unit, entry_no)
        if rows is None:
            return
        st, rng = self.lines, self.rng
        cost_rows = [i for i in rows if c.ACCOUNTS_BY_NUMBER[st.account[i]].type == "W"]
        if cost_rows and rng.random() < 0.5:
            i = rng.choice(cost_rows)
            st.dim[i] = rng.choice([cc for cc in c.COST_CENTRES if cc != st.dim[i]])
        else:
            i = rows[0]
            st.description[i] = f"{st.description[i] or ''} (gecorrigeerd)".strip()
        for i in rows:
            st.modified[i] = ts
            self._touch_day(st.entry_date[i], ts)
        self.versions["lines"] += 1
        self.stats["entries_edited"] += 1

    def _voucher(self, unit: int, prefix: str, day: int) -> str:
        year, n = self._next_number(unit, prefix, day)
        return f"{prefix}{year}{n:06d}"

    def _amount(self, median_eur: float) -> int:
        return max(
            2500, min(int(self.rng.lognormvariate(math.log(median_eur), 0.9) * 100), 25_000_000)
        )

    def _dim(self) -> str | None:
        return self.rng.choice(c.COST_CENTRES) if self.rng.random() < 0.4 else None

    # ---- sales ----

    def _ev_sale(self, ts: int, unit: int, planted: str | None) -> None:
        rng = self.rng
        day = ts // DAY
        debtor = self._pick("D")
        inv_day = max(day - (rng.randint(1, 3) if rng.random() < 0.25 else 0), self.start_day)
        year, n = self._next_number(unit, "F", inv_day)
        invoice, voucher = _sales_invoice(year, n), f"V{year}{n:06d}"
        revenue = [rng.choice(_SALES_ACCOUNTS) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
        nets = [self._amount(600) for _ in revenue]
        vats = [
            c.vat_amount(net, c.VAT_BY_CODE[code].rate_bp)
            for net, (_, code) in zip(nets, revenue, strict=True)
        ]
        wrong = planted == "vat"
        if wrong:  # a 21 % line whose VAT was computed at 9 %
            revenue[0], nets[0] = (
                (c.REVENUE_HIGH, "1"),
                max(nets[0], 20_000 + self.rng.randrange(50_000)),
            )
            vats[0] = c.vat_amount(nets[0], 900)
        desc = f"{invoice} {self.debtors[debtor].name}"
        gross = sum(nets) + sum(vats)
        lines = [Line(c.DEBTORS, inv_day, inv_day, voucher, invoice, gross, 0, desc, debtor=debtor)]
        for (acc, code), net, vat in zip(revenue, nets, vats, strict=True):
            lines.append(
                Line(
                    acc,
                    inv_day,
                    inv_day,
                    voucher,
                    invoice,
                    0,
                    net,
                    rng.choice(_PRODUCTS),
                    vat_code=code,
                    vat_amt=vat,
                    dim=self._dim(),
                )
            )
        lines += self._vat_lines(revenue, vats, inv_day, voucher, invoice, sales=True)
        entry_no = self.book(ts, unit, c.SALES, lines)
        if wrong:
            self._plant_vat(unit, entry_no, c.SALES, nets[0], vats[0], "1")
        self._schedule_settlement(ts, unit, "D", debtor, invoice, inv_day, gross, entry_no, planted)

    def _vat_lines(
        self,
        coded: list[tuple[str, str]],
        vats: list[int],
        day: int,
        voucher: str,
        invoice: str | None,
        *,
        sales: bool,
    ) -> list[Line]:
        per_code: dict[str, int] = {}
        for (_, code), vat in zip(coded, vats, strict=True):
            per_code[code] = per_code.get(code, 0) + vat
        out = []
        for code, vat in per_code.items():
            if vat:
                vc = c.VAT_BY_CODE[code]
                debit, credit = (0, vat) if sales else (vat, 0)
                out.append(
                    Line(
                        vc.account,
                        day,
                        day,
                        voucher,
                        invoice,
                        debit,
                        credit,
                        vc.description,
                        vat_code=code,
                    )
                )
        return out

    def _schedule_settlement(
        self,
        ts: int,
        unit: int,
        side: str,
        party: str,
        invoice: str,
        inv_day: int,
        gross: int,
        entry_no: int,
        planted: str | None,
    ) -> None:
        """Decide now when the invoice gets paid, edited or deleted, and queue those events."""
        rng = self.rng
        day = ts // DAY
        term = int((self.debtors if side == "D" else self.creditors)[party].term)
        kind = "receipt" if side == "D" else "payment"
        if planted in ("suspense", "rounding"):
            pay_day = _weekday(max(inv_day + term + rng.randint(0, 10), day + 1))
            self._push(self._later(ts, pay_day), kind, (unit, party, invoice, gross, planted))
            return
        r = rng.random()
        delete_day = None
        if r < 0.015 and planted is None:
            delete_day = day + rng.randint(1, 10)
            self._push(self._later(ts, delete_day), "delete", (unit, entry_no))
        elif r >= 0.035:
            delay = rng.choice(
                (rng.randint(-5, 5),) * 14 + (rng.randint(6, 40),) * 5 + (rng.randint(41, 120),)
            )
            pay_day = _weekday(max(inv_day + term + delay, day + 1))
            self._push(self._later(ts, pay_day), kind, (unit, party, invoice, gross, None))
        if rng.random() < 0.06:
            edit_day = day + rng.randint(0, 12)
            if delete_day is None or edit_day < delete_day:
                self._push(self._later(ts, edit_day), "edit", (unit, entry_no))

    def _ev_receipt(
        self, ts: int, unit: int, debtor: str, invoice: str, gross: int, planted: str | None
    ) -> None:
        item = self.open_items.get((unit, "D", debtor, invoice))
        if item is None or item.balance != gross:
            return  # deleted or settled meanwhile (e.g. through FiEntries)
        day = ts // DAY
        voucher = self._voucher(unit, "B", day)
        name = self.debtors[debtor].name
        if planted == "suspense":
            ref = invoice.replace("F", "fact ").replace("-", " ")
            desc = f"Onbekende betaling {name} {ref}"
            lines = [
                Line(c.BANK, day, day, voucher, None, gross, 0, desc),
                Line(c.SUSPENSE, day, day, voucher, None, 0, gross, desc),
            ]
            entry_no = self.book(ts, unit, c.BANK_BOOK, lines)
            self.planted_raw["suspense"].append(
                SuspenseReceipt(
                    unit, entry_no, 2, day_date(day), _dec(gross), debtor, invoice, desc
                )
            )
            return
        paid = gross - (self.rng.randint(1, 5) if planted == "rounding" else 0)
        desc = f"Ontvangst {invoice} {name}"
        lines = [
            Line(c.BANK, day, day, voucher, None, paid, 0, desc),
            Line(c.DEBTORS, day, day, voucher, invoice, 0, paid, desc, debtor=debtor),
        ]
        entry_no = self.book(ts, unit, c.BANK_BOOK, lines)
        if planted == "rounding":
            self.planted_raw["rounding"].append(
                RoundingDifference(
                    unit, debtor, invoice, entry_no, _dec(gross), _dec(paid), _dec(gross - paid)
                )
            )

    # ---- purchases ----

    def _ev_purchase(self, ts: int, unit: int, planted: str | None) -> None:
        rng = self.rng
        day = ts // DAY
        creditor = self._pick("C")
        cr = self.creditors[creditor]
        inv_day = max(day - rng.randint(0, 3), self.start_day)
        cr.counter += 1
        invoice = _supplier_invoice(cr.style, cr.counter, self.year_period(inv_day)[0])
        coded = [
            (c.COST_OF_SALES, "5", "Inkoop handelsgoederen")
            if unit == 2 and rng.random() < 0.6
            else rng.choice(_COST_ACCOUNTS)
            for _ in range(rng.choice((1, 1, 2)))
        ]
        nets = [self._amount(350) for _ in coded]
        while True:  # no two invoices of one creditor share date and amount unless planted
            vats = [
                c.vat_amount(net, c.VAT_BY_CODE[code].rate_bp)
                for net, (_, code, _) in zip(nets, coded, strict=True)
            ]
            wrong = planted == "vat"
            if wrong:  # a 9 % line whose VAT was computed at 21 %
                coded[0], nets[0] = (
                    (c.OFFICE, "6", "Lectuur en vakliteratuur"),
                    max(nets[0], 20_000 + self.rng.randrange(50_000)),
                )
                vats[0] = c.vat_amount(nets[0], 2100)
            gross = sum(nets) + sum(vats)
            if (creditor, inv_day, gross) not in self._purchase_keys:
                break
            nets[0] += 1
        self._purchase_keys.add((creditor, inv_day, gross))
        entry_no = self._book_purchase(ts, unit, creditor, invoice, inv_day, coded, nets, vats)
        if wrong:
            self._plant_vat(unit, entry_no, c.PURCHASE, nets[0], vats[0], "6")
        if planted == "duplicate":
            dup_ts = self._later(ts, day + rng.randint(1, 5))
            args = (
                unit,
                creditor,
                invoice,
                inv_day,
                tuple(coded),
                tuple(nets),
                tuple(vats),
                entry_no,
            )
            self._push(dup_ts, "duplicate", args)
        self._schedule_settlement(
            ts, unit, "C", creditor, invoice, inv_day, gross, entry_no, planted
        )

    def _book_purchase(
        self,
        ts: int,
        unit: int,
        creditor: str,
        invoice: str,
        inv_day: int,
        coded: list[tuple[str, str, str]],
        nets: list[int],
        vats: list[int],
    ) -> int:
        day = ts // DAY
        desc = f"{invoice} {self.creditors[creditor].name}"
        gross = sum(nets) + sum(vats)
        lines = [
            Line(c.CREDITORS, day, inv_day, invoice, invoice, 0, gross, desc, creditor=creditor)
        ]
        for (acc, code, text), net, vat in zip(coded, nets, vats, strict=True):
            lines.append(
                Line(
                    acc,
                    day,
                    inv_day,
                    invoice,
                    invoice,
                    net,
                    0,
                    text,
                    vat_code=code,
                    vat_amt=vat,
                    dim=self._dim(),
                )
            )
        pairs = [(acc, code) for acc, code, _ in coded]
        lines += [
            ln._replace(entry_day=day, voucher_day=inv_day)
            for ln in self._vat_lines(pairs, vats, day, invoice, invoice, sales=False)
        ]
        return self.book(ts, unit, c.PURCHASE, lines)

    def _ev_duplicate(
        self,
        ts: int,
        unit: int,
        creditor: str,
        invoice: str,
        inv_day: int,
        coded: tuple,
        nets: tuple,
        vats: tuple,
        original: int,
    ) -> None:
        if self.entry_lines(unit, original) is None:
            return
        variant = invoice.replace("-", "") if "-" in invoice else f"{invoice[0]}-{invoice[1:]}"
        entry_no = self._book_purchase(
            ts, unit, creditor, variant, inv_day, list(coded), list(nets), list(vats)
        )
        self.planted_raw["duplicate"].append(
            DuplicateInvoice(
                unit,
                creditor,
                _dec(sum(nets) + sum(vats)),
                day_date(inv_day),
                original,
                invoice,
                entry_no,
                variant,
            )
        )

    def _ev_payment(
        self, ts: int, unit: int, creditor: str, invoice: str, gross: int, planted: str | None
    ) -> None:
        item = self.open_items.get((unit, "C", creditor, invoice))
        if item is None or item.balance != gross:
            return
        day = ts // DAY
        voucher = self._voucher(unit, "B", day)
        desc = f"Betaling {invoice} {self.creditors[creditor].name}"
        lines = [
            Line(c.CREDITORS, day, day, voucher, invoice, gross, 0, desc, creditor=creditor),
            Line(c.BANK, day, day, voucher, None, 0, gross, desc),
        ]
        self.book(ts, unit, c.BANK_BOOK, lines)

    def _plant_vat(
        self, unit: int, entry_no: int, journal: str, net: int, booked: int, code: str
    ) -> None:
        expected = c.vat_amount(net, c.VAT_BY_CODE[code].rate_bp)
        self.planted_raw["vat"].append(
            VatMismatch(unit, entry_no, 2, journal, code, _dec(net), _dec(expected), _dec(booked))
        )

    def _ev_planted(self, ts: int, kind: str, unit: int) -> None:
        if kind in ("suspense", "rounding") or (kind == "vat" and self.rng.random() < 0.5):
            self._ev_sale(ts, unit, kind)
        else:
            self._ev_purchase(ts, unit, kind)

    # ---- other bookings ----

    def _simple(
        self,
        ts: int,
        unit: int,
        journal: str,
        prefix: str,
        desc: str,
        legs: list[tuple[str, int, int]],
    ) -> int:
        day = ts // DAY
        voucher = self._voucher(unit, prefix, day)
        lines = [Line(acc, day, day, voucher, None, d, cr, desc) for acc, d, cr in legs]
        return self.book(ts, unit, journal, lines)

    def _ev_cash(self, ts: int, unit: int) -> None:
        day = ts // DAY
        net = self._amount(40)
        vat = c.vat_amount(net, 2100)
        voucher = self._voucher(unit, "K", day)
        desc = "Kasuitgave kantoorbenodigdheden"
        lines = [
            Line(
                c.OFFICE,
                day,
                day,
                voucher,
                None,
                net,
                0,
                desc,
                vat_code="5",
                vat_amt=vat,
                dim=self._dim(),
            ),
            Line(c.VAT_INPUT, day, day, voucher, None, vat, 0, desc, vat_code="5"),
            Line(c.CASH, day, day, voucher, None, 0, net + vat, desc),
        ]
        self.book(ts, unit, c.CASH_BOOK, lines)

    def _ev_cash_topup(self, ts: int, unit: int) -> None:
        self._simple(
            ts,
            unit,
            c.CASH_BOOK,
            "K",
            "Kasstorting van bank",
            [(c.CASH, 50_000, 0), (c.BANK, 0, 50_000)],
        )

    def _ev_reclass(self, ts: int, unit: int) -> None:
        src, dst = self.rng.choice(_RECLASS)
        amount = self._amount(150)
        desc = f"Herrubricering {src} naar {dst}"
        entry_no = self._simple(
            ts, unit, c.MEMORIAL, "M", desc, [(dst, amount, 0), (src, 0, amount)]
        )
        if self.rng.random() < 0.3:  # a correction that turns out wrong is deleted again
            self._push(
                self._later(ts, ts // DAY + self.rng.randint(1, 12)), "delete", (unit, entry_no)
            )

    def _payroll(self, unit: int, day: int) -> tuple[int, int, int, int, int]:
        """Gross wages, employer social charges and pension, withheld tax, employee pension."""
        rng = random.Random(f"{self.seed}:payroll:{unit}:{self.year_period(day)}")
        gross = int(self.weight[unit] * 18_000_000 * rng.uniform(0.97, 1.03))
        return gross, gross * 19 // 100, gross * 8 // 100, gross * 31 // 100, gross * 6 // 100

    def _ev_payroll(self, ts: int, unit: int) -> None:
        gross, social, pension, tax, emp_pension = self._payroll(unit, ts // DAY)
        net = gross - tax - emp_pension
        legs = [
            (c.SALARIES, gross, 0),
            (c.SOCIAL_CHARGES, social, 0),
            (c.PENSION_COSTS, pension, 0),
            (c.NET_WAGES, 0, net),
            (c.PAYROLL_TAX, 0, tax + social),
            (c.PENSION, 0, pension + emp_pension),
        ]
        self._simple(ts, unit, c.MEMORIAL, "M", "Loonjournaalpost", legs)

    def _ev_payroll_payment(self, ts: int, unit: int) -> None:
        gross, social, pension, tax, emp_pension = self._payroll(unit, ts // DAY)
        net, tax_total, pension_total = (
            gross - tax - emp_pension,
            tax + social,
            pension + emp_pension,
        )
        legs = [
            (c.NET_WAGES, net, 0),
            (c.PAYROLL_TAX, tax_total, 0),
            (c.PENSION, pension_total, 0),
            (c.BANK, 0, net + tax_total + pension_total),
        ]
        self._simple(ts, unit, c.BANK_BOOK, "B", "Betaling salarissen en afdrachten", legs)

    def _ev_depreciation(self, ts: int, unit: int) -> None:
        amount = int(self.weight[unit] * 400_000) + unit * 1_000
        y, m = self.year_period(ts // DAY)
        desc = f"Afschrijving inventaris {m:02d}-{y}"
        self._simple(
            ts,
            unit,
            c.MEMORIAL,
            "M",
            desc,
            [(c.DEPRECIATION_COSTS, amount, 0), (c.DEPRECIATION_ACC, 0, amount)],
        )

    def _ev_bank_costs(self, ts: int, unit: int) -> None:
        amount = self.rng.randint(500, 6_000)
        self._simple(
            ts,
            unit,
            c.BANK_BOOK,
            "B",
            "Bankkosten en rente",
            [(c.BANK_COSTS, amount, 0), (c.BANK, 0, amount)],
        )

    def _ev_delete(self, ts: int, unit: int, entry_no: int) -> None:
        if self.entry_lines(unit, entry_no) is not None and not self.is_matched(unit, entry_no):
            self.delete_entry(ts, unit, entry_no)

    def _ev_edit(self, ts: int, unit: int, entry_no: int) -> None:
        self._edit_entry(ts, unit, entry_no)

    # ---- master data ----

    def _initial_parties(self) -> None:
        for side, count in (("D", self.n_debtors), ("C", self.n_creditors)):
            for _ in range(count):
                created = (self.start_day - self.rng.randint(30, 1500)) * DAY + self.rng.randrange(
                    8 * 3600, 18 * 3600
                )
                modified = (
                    created + self.rng.randrange(0, 20 * DAY)
                    if self.rng.random() < 0.3
                    else created
                )
                self._new_party(
                    side, created, min(modified, self.start_day * DAY - 1), prospect=False
                )

    def _new_party(self, side: str, created: int, modified: int, *, prospect: bool) -> Party:
        rng = self.rng
        book = self.debtors if side == "D" else self.creditors
        number = (10_001 if side == "D" else 60_001) + self._counters[("party", side)]
        self._counters[("party", side)] += 1
        if side == "D":
            name = " ".join(
                p for p in (rng.choice(_PREFIXES), rng.choice(_CORES), rng.choice(_SUFFIXES)) if p
            )
        else:
            legal = rng.choice(("B.V.", "Nederland B.V.", "N.V.", ""))
            name = f"{rng.choice(_SUPPLIERS)} {legal}".strip()
        party = Party(
            id=str(number),
            name=name,
            bcco=f"ORG{number:07d}",
            search=_slug(name)[:10].upper(),
            email=f"{'info' if side == 'D' else 'facturen'}@{_slug(name)}.nl",
            iban=_iban(rng),
            vat_nr=f"NL{rng.randrange(10**9):09d}B01",
            kvk=f"{rng.randrange(10**7, 10**8)}",
            collect=c.DEBTORS if side == "D" else c.CREDITORS,
            term=rng.choice(("14", "30", "30")),
            credit_limit=rng.choice((0, 5, 10, 25, 50)) * 100_000,
            blocked=False,
            created=created,
            modified=modified,
            prospect=prospect,
            style=rng.randrange(4),
            counter=rng.randint(100, 9_000),
        )
        book[party.id] = party
        if prospect:
            self._prospects[side].append(party.id)
        else:
            (self._debtor_pool if side == "D" else self._creditor_pool).append(party.id)
        return party

    def _pick(self, side: str) -> str:
        pool, book = (
            (self._debtor_pool, self.debtors)
            if side == "D"
            else (self._creditor_pool, self.creditors)
        )
        for _ in range(8):  # a few big customers and suppliers get most of the business
            pid = pool[int(len(pool) * self.rng.random() ** 1.6)]
            if not book[pid].blocked:
                return pid
        return next(p for p in pool if not book[p].blocked)

    def _ev_new_party(self, ts: int, side: str) -> None:
        self._new_party(side, ts, ts, prospect=self.rng.random() < 0.3)
        self.versions["debtors" if side == "D" else "creditors"] += 1
        self.stats["debtors_added" if side == "D" else "creditors_added"] += 1

    def _ev_edit_party(self, ts: int, side: str) -> None:
        rng = self.rng
        book = self.debtors if side == "D" else self.creditors
        pool = self._debtor_pool if side == "D" else self._creditor_pool
        party = book[rng.choice(pool)]
        r = rng.random()
        if r < 0.35:
            party.email = (
                f"{rng.choice(('administratie', 'finance', 'boekhouding'))}@{_slug(party.name)}.nl"
            )
        elif r < 0.6:
            party.iban = _iban(rng)
        elif r < 0.95:
            party.credit_limit = rng.choice((0, 5, 10, 25, 50, 100)) * 100_000
        else:
            party.blocked = not party.blocked and sum(not book[p].blocked for p in pool) > 5
        party.modified = ts
        self.versions["debtors" if side == "D" else "creditors"] += 1
        self.stats["debtors_changed" if side == "D" else "creditors_changed"] += 1

    def _ev_del_party(self, ts: int, side: str) -> None:
        prospects = [p for p in self._prospects[side] if p not in self.used_parties]
        if not prospects:
            return
        pid = self.rng.choice(prospects)
        self._prospects[side].remove(pid)
        del (self.debtors if side == "D" else self.creditors)[pid]
        self.versions["debtors" if side == "D" else "creditors"] += 1
        self.stats["debtors_deleted" if side == "D" else "creditors_deleted"] += 1

    # ---- derived frames ----

    def parties_frame(self, side: str) -> pl.DataFrame:
        book = self.debtors if side == "D" else self.creditors
        parties = sorted(book.values(), key=lambda p: (len(p.id), p.id))
        spec = DEBTORS if side == "D" else CREDITORS
        data: dict[str, list] = {
            spec.field_ids[0]: [p.id for p in parties],
            spec.field_ids[1]: [p.name for p in parties],
            "BcCo": [p.bcco for p in parties],
            "SearchName": [p.search for p in parties],
            "Email": [p.email for p in parties],
            "IBAN": [p.iban for p in parties],
            "VatNr": [p.vat_nr for p in parties],
            "ChOfCommNr": [p.kvk for p in parties],
            "CollectAccount": [p.collect for p in parties],
            "PayCon" if side == "D" else "PaymentCondition": [p.term for p in parties],
            "CreditLimit": [p.credit_limit for p in parties],
            "Blocked": [p.blocked for p in parties],
            "CreateDate": [p.created for p in parties],
            "Mutatie_datum": [p.modified for p in parties],
        }
        if side == "D":
            data["CurrencyId"] = ["EUR"] * len(parties)
        col = pl.col
        return (
            pl.DataFrame(
                data,
                schema_overrides={
                    "CreditLimit": pl.Int64,
                    "CreateDate": pl.Int64,
                    "Mutatie_datum": pl.Int64,
                },
            )
            .with_columns(
                cents_to_decimal(col("CreditLimit")),
                (col("CreateDate", "Mutatie_datum") * 1_000_000).cast(pl.Datetime("us")),
            )
            .select(spec.field_ids)
        )

    def open_items_frame(self, side: str) -> pl.DataFrame:
        spec = DEBTOR_INVOICES if side == "D" else CREDITOR_INVOICES
        items = sorted(
            ((k, v) for k, v in self.open_items.items() if k[1] == side and v.balance != 0),
            key=lambda kv: (kv[0][0], len(kv[0][2]), kv[0][2], kv[0][3]),
        )
        f = spec.field_ids
        data = {
            f[0]: [k[0] for k, _ in items],
            f[1]: [k[2] for k, _ in items],
            f[2]: [k[3] for k, _ in items],
            f[3]: [v.voucher_day for _, v in items],
            f[4]: [v.due_day for _, v in items],
            f[5]: ["EUR"] * len(items),
            f[6]: [v.amount for _, v in items],
            f[7]: [v.balance for _, v in items],
            f[8]: [v.description for _, v in items],
        }
        types = {f[0]: pl.Int64, f[3]: pl.Int32, f[4]: pl.Int32, f[6]: pl.Int64, f[7]: pl.Int64}
        return pl.DataFrame(
            data, schema_overrides={**types, f[1]: pl.String, f[2]: pl.String, f[8]: pl.String}
        ).with_columns(
            pl.col(f[3], f[4]).cast(pl.Date),
            cents_to_decimal(pl.col(f[6])),
            cents_to_decimal(pl.col(f[7])),
        )

    def changed_days_frame(self) -> pl.DataFrame:
        days = sorted(self.changed_days)
        return pl.DataFrame(
            {
                "EntryDate": pl.Series(days, dtype=pl.Int32).cast(pl.Date),
                "Modified": (
                    pl.Series([self.changed_days[d] for d in days], dtype=pl.Int64) * 1_000_000
                ).cast(pl.Datetime("us")),
            }
        )

    def planted(self) -> PlantedProblems:
        """The planted problems that are still visible in the current state."""
        raw = self.planted_raw

        def open_balance(unit: int, debtor: str, invoice: str) -> int | None:
            item = self.open_items.get((unit, "D", debtor, invoice))
            return item.balance if item else None

        def alive(unit: int, entry_no: int) -> bool:
            return self.entry_lines(unit, entry_no) is not None

        return PlantedProblems(
            suspense_receipts=_keep(
                raw["suspense"],
                lambda p: (
                    alive(p.unit_id, p.entry_no)
                    and open_balance(p.unit_id, p.debtor_id, p.invoice_id) == int(p.amount * 100)
                ),
            ),
            duplicate_invoices=_keep(
                raw["duplicate"],
                lambda p: (
                    alive(p.unit_id, p.original_entry_no) and alive(p.unit_id, p.duplicate_entry_no)
                ),
            ),
            vat_mismatches=_keep(raw["vat"], lambda p: alive(p.unit_id, p.entry_no)),
            rounding_differences=_keep(
                raw["rounding"],
                lambda p: (
                    alive(p.unit_id, p.entry_no)
                    and open_balance(p.unit_id, p.debtor_id, p.invoice_id)
                    == int(p.difference * 100)
                ),
            ),
        )


def _keep(items: list, predicate: Callable[[object], bool]) -> tuple:
    return tuple(p for p in items if predicate(p))


def period_balance_frame(lines: pl.DataFrame) -> pl.DataFrame:
    """AFAS's movement per administration, period and account, aggregated from the live lines."""
    accounts = pl.DataFrame(
        {"AccountNr": [a.number for a in c.CHART], "AccountDesc": [a.description for a in c.CHART]}
    )
    dec = pl.Decimal(18, 2)
    return (
        lines.group_by("UnitId", "Year", "Period", pl.col("AccountNo").alias("AccountNr"))
        .agg(
            pl.col("AmtDebit").sum().cast(dec).alias("Debit"),
            pl.col("AmtCredit").sum().cast(dec).alias("Credit"),
        )
        .with_columns((pl.col("Debit") - pl.col("Credit")).cast(dec).alias("Balance"))
        .join(accounts, on="AccountNr", how="left")
        .select(PERIOD_BALANCE.field_ids)
        .sort("UnitId", "Year", "Period", "AccountNr")
    )


def _weekday(day: int) -> int:
    """Banks process payments on working days: move a Saturday or Sunday to the Monday."""
    wd = day_date(day).weekday()
    return day + (7 - wd if wd >= 5 else 0)


def _sales_invoice(year: int, n: int) -> str:
    return f"F{year}-{n:05d}"


def _supplier_invoice(style: int, n: int, year: int) -> str:
    """A supplier's own invoice number; each creditor keeps one style, so numbers never collide."""
    if style == 0:
        return f"INV-{n}"
    if style == 1:
        return f"{year}-{n:04d}"
    if style == 2:
        return f"F{n:06d}"
    return f"NL-{n:05d}"
