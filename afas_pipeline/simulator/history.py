"""The deterministic business history that fills the books.

Activity is a queue of timestamped events. Each simulated day starts with a "day" event that
decides that day's business from `Random(f"{seed}:{day}")`; events schedule their own
follow-ups (a payment, an edit, a deletion) for later times. Events run strictly in
(time, sequence) order, so the result is the same however the clock is moved forward.

Sales live in `sales.py`, purchases in `purchases.py`, master data in `parties.py`; this module
runs the clock, plans each day, books the fixed monthly entries and plants the problems.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

from afas_pipeline.simulator import chart as c
from afas_pipeline.simulator import intercompany, parties, purchases, sales
from afas_pipeline.simulator.books import (
    DAY,
    STAT_KEYS,
    Books,
    Line,
    day_date,
    day_number,
    real_seconds,
    weekday,
)
from afas_pipeline.simulator.planted import PlantedLog, judge_vat

# Relative amount of business per weekday (Mon..Sun), scaled so a week averages 1.0.
_WEEKDAY_WEIGHT = (1.3, 1.3, 1.3, 1.3, 1.3, 0.15, 0.05)
WEEKDAY_FACTOR = tuple(w * 7 / sum(_WEEKDAY_WEIGHT) for w in _WEEKDAY_WEIGHT)
# Lines a sales/purchase invoice adds, its payment included (measured from the generator).
_LINES_PER_SALE = 5.6
_LINES_PER_PURCHASE = 5.2
# Fixed monthly bookings per administration: payroll, depreciation, bank costs, cash top-up.
_FIXED_LINES_PER_DAY = 0.75
_RECLASS = ((c.OFFICE, c.TELECOM), (c.CAR, c.OFFICE), (c.MARKETING, c.ADVISORY))
# The opening balance of the previous system is migrated this many days into the history.
_MIGRATION_AFTER_DAYS = 21
# Of the migrated items, every sixth (the first of each side included) stays open.
_MIGRATED_UNPAID_EVERY = 6
# The share capital (geplaatst kapitaal) of every administration, in cents.
_SHARE_CAPITAL = 1_800_000

Event = Callable[..., None]

# Cases that happen a fixed number of times over the history, max(4, lines // 5000): a few at
# the test size, more at larger sizes. (case, phase, planted, event): the phase spreads them
# over the history (a case paid later has a higher phase, so that its last one is paid
# before `now`); planted problems alternate between administrations 1 and 2, the correct but
# awkward bookings rotate over all administrations. `event(history, ts, unit, case)`.
_CASES: tuple[tuple[str, float, bool, Event], ...] = (
    ("suspense_named", 0.95, True, sales.ev_case_invoice),
    ("suspense_name_only", 0.9, True, sales.ev_twin_invoices),
    ("suspense_unknown", 0.8, True, sales.ev_unknown_receipt),
    ("rounding", 0.7, True, sales.ev_case_invoice),
    ("suspense_cleared_later", 0.65, False, sales.ev_case_invoice),
    ("suspense_cleared_first", 0.6, False, sales.ev_case_invoice),
    ("duplicate_number", 0.5, True, purchases.ev_purchase),
    ("duplicate_format", 0.45, True, purchases.ev_purchase),
    ("duplicate_twins", 0.4, True, purchases.ev_purchase),
    ("vat_sales", 0.3, True, sales.ev_sale),
    ("vat_purchase", 0.25, True, purchases.ev_purchase),
)


class History:
    """Generates the business of `books`' administrations from a seed, event by event."""

    def __init__(
        self,
        books: Books,
        *,
        seed: int,
        journal_lines: int,
        start_day: int,
        history_days: int,
    ) -> None:
        self.books = books
        self.seed = seed
        self.units = books.units
        self.start_day = start_day
        self.first_year = day_date(start_day).year
        # 1 January of the first year: the opening balance's date, in period 0.
        self.opening_day = day_number(date(self.first_year, 1, 1))
        self.log = PlantedLog()
        self.clock = start_day * DAY
        self.rng = random.Random(f"{seed}:init")
        self.pools: dict[str, list[str]] = {"D": [], "C": []}
        self.prospects: dict[str, list[str]] = {"D": [], "C": []}
        self.purchase_keys: set[tuple[str, int, int]] = set()
        # Amounts booked on the suspense account per unit: no two receipts share one, so a
        # receipt and its clearing always pair up unambiguously.
        self.suspense_amounts: dict[int, set[int]] = {u: set() for u in self.units}
        self._queue: list[tuple[int, int, Event, tuple]] = []
        self._seq = 0
        self._size(journal_lines, history_days)
        self.intercompany_plan = intercompany.plan(self, history_days)
        parties.initial_parties(self)
        self.push(start_day * DAY, History._ev_day, (start_day,))

    # ---- sizing ----

    def _size(self, journal_lines: int, history_days: int) -> None:
        n = len(self.units)
        raw = [0.2] + [1 / i for i in range(1, n)] if n > 1 else [1.0]
        rest = sum(raw[1:])
        weights = [1.0] if n == 1 else [0.2] + [0.8 * w / rest for w in raw[1:]]
        self.weight = dict(zip(self.units, weights, strict=True))
        per_day = journal_lines / max(history_days, 1)
        fixed = _FIXED_LINES_PER_DAY * n + intercompany.LINES_PER_DAY * len(
            intercompany.pairs(self.units)
        )
        variable = max(per_day - fixed, 1.0)
        self.sales_rate = {u: variable * 0.56 / _LINES_PER_SALE * w for u, w in self.weight.items()}
        self.purchase_rate = {
            u: variable * 0.40 / _LINES_PER_PURCHASE * w for u, w in self.weight.items()
        }
        self.other_rate = {u: variable * 0.04 / 2.5 * w for u, w in self.weight.items()}
        self.n_debtors = max(25, journal_lines // 60)
        self.n_creditors = max(12, journal_lines // 250)
        self.case_rate = max(4, journal_lines // 5000) / max(history_days, 1)

    # ---- the event loop ----

    def push(self, ts: int, event: Event, args: tuple) -> None:
        """Queue `event(history, ts, *args)` for time `ts`."""
        self._seq += 1
        # AFAS's clock never shows a time of the skipped spring hour, so neither do its records.
        heapq.heappush(self._queue, (real_seconds(ts), self._seq, event, args))

    def run_until(self, until: int) -> Counter[str]:
        """Apply every event up to and including `until`; returns what happened."""
        stats = self.books.stats
        before = stats.copy()
        queue = self._queue
        while queue and queue[0][0] <= until:
            ts, _, event, args = heapq.heappop(queue)
            self.clock = ts
            event(self, ts, *args)
        self.clock = max(self.clock, until)
        return Counter({k: stats[k] - before[k] for k in STAT_KEYS})

    def work_time(self, day: int) -> int:
        """A booking time on `day`: office hours mostly, some evenings, a few just before 24:00."""
        r = self.rng.random()
        if r < 0.03:
            return day * DAY + 23 * 3600 + 50 * 60 + self.rng.randrange(600)
        if r < 0.08:
            return day * DAY + self.rng.randrange(18 * 3600, 23 * 3600 + 50 * 60)
        return day * DAY + self.rng.randrange(8 * 3600, 18 * 3600)

    def later(self, ts: int, day: int) -> int:
        """A working time on `day` that is strictly after `ts` (follow-ups never go back)."""
        return max(self.work_time(day), ts + 60)

    def _count(self, expected: float) -> int:
        whole = int(expected)
        return whole + (self.rng.random() < expected - whole)

    def _ev_day(self, ts: int, day: int) -> None:
        self.rng = rng = random.Random(f"{self.seed}:{day}")
        self.push((day + 1) * DAY, History._ev_day, (day + 1,))
        d = day_date(day)
        factor = WEEKDAY_FACTOR[d.weekday()]
        for u in self.units:
            for event, rate in (
                (sales.ev_sale, self.sales_rate),
                (purchases.ev_purchase, self.purchase_rate),
            ):
                for _ in range(self._count(rate[u] * factor)):
                    self.push(self.work_time(day), event, (u, None))
            for _ in range(self._count(self.other_rate[u] * factor)):
                other = History._ev_cash if rng.random() < 0.4 else History._ev_reclass
                self.push(self.work_time(day), other, (u,))
            self._plan_fixed(u, d, day)
        intercompany.plan_day(self, d, day)
        self._plan_master_data(day, factor)
        self._plan_cases(day)
        if day == self.start_day + _MIGRATION_AFTER_DAYS:
            for u in self.units:
                ts = day * DAY + 10 * 3600 + rng.randrange(3600)
                self.push(ts, History._ev_opening_balance, (u,))

    def _plan_fixed(self, u: int, d: date, day: int) -> None:
        rng = self.rng
        if d.day == 1:
            self.push(day * DAY + 9 * 3600 + rng.randrange(3600), History._ev_cash_topup, (u,))
        if d.day == 25:
            self.push(day * DAY + 10 * 3600 + rng.randrange(3600), History._ev_payroll, (u,))
        if d.day == 27:
            self.push(
                day * DAY + 11 * 3600 + rng.randrange(3600), History._ev_payroll_payment, (u,)
            )
        if (d + timedelta(days=1)).day == 1:
            # The month-end depreciation job runs at 23:59, which puts changes in the last
            # minute of the day (the extraction's partition boundary) every month.
            ts = day * DAY + 23 * 3600 + 59 * 60 + rng.randrange(60)
            self.push(ts, History._ev_depreciation, (u,))
        if d.weekday() == 6:
            # The weekly bank-statement job runs at 02:xx wall-clock time, also on the two
            # daylight-saving Sundays: in October that hour comes twice, in March it does not
            # exist and the job runs at 03:xx (`push`).
            self.push(day * DAY + 2 * 3600 + rng.randrange(3600), History._ev_bank_costs, (u,))

    def _plan_master_data(self, day: int, factor: float) -> None:
        for side, n0 in (("D", self.n_debtors), ("C", self.n_creditors)):
            per_day = n0 / 456
            for event, share in (
                (parties.ev_new_party, 0.25),
                (parties.ev_edit_party, 0.35),
                (parties.ev_del_party, 0.06),
            ):
                for _ in range(self._count(per_day * share * factor)):
                    self.push(self.work_time(day), event, (side,))

    def _plan_cases(self, day: int) -> None:
        i = day - self.start_day
        planted_units = [u for u in self.units if u <= 2]
        for case, phase, planted, event in _CASES:
            hi = math.floor(i * self.case_rate + phase)
            lo = math.floor((i - 1) * self.case_rate + phase)
            units = planted_units if planted else self.units
            for n in range(lo + 1, hi + 1):
                self.push(self.work_time(day), event, (units[n % len(units)], case))

    # ---- helpers of the bookings ----

    def voucher(self, unit: int, prefix: str, day: int) -> str:
        year, n = self.books.next_number(unit, prefix, day)
        return f"{prefix}{year}{n:06d}"

    def amount(self, median_eur: float) -> int:
        return max(
            2500, min(int(self.rng.lognormvariate(math.log(median_eur), 0.9) * 100), 25_000_000)
        )

    def dim(self) -> str | None:
        return self.rng.choice(c.COST_CENTRES) if self.rng.random() < 0.4 else None

    def cost_carrier(self, share: float) -> str | None:
        """A product line (DimAx2) on `share` of the lines asked for, else None."""
        return self.rng.choice(c.COST_CARRIERS) if self.rng.random() < share else None

    def schedule_settlement(
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
        r = rng.random()
        delete_day = None
        if r < 0.015 and planted is None:
            delete_day = day + rng.randint(1, 10)
            self.push(self.later(ts, delete_day), History._ev_delete, (unit, entry_no))
        elif r < 0.035:
            pass  # never paid: disputed, or the party went bankrupt
        elif r < 0.075 and side == "D" and planted is None:
            # A credit note on the invoice's number: in full (a cancelled order) or a part of
            # one line (a price reduction), before the rest is paid.
            share = 100 if rng.random() < 0.4 else rng.randint(10, 50)
            args = (unit, party, invoice, inv_day, entry_no, gross, share)
            self.push(self.later(ts, day + rng.randint(2, 20)), sales.ev_credit_note, args)
        else:
            self.schedule_payment(ts, unit, side, party, invoice, inv_day, gross)
        if rng.random() < 0.06:
            edit_day = day + rng.randint(0, 12)
            if delete_day is None or edit_day < delete_day:
                self.push(self.later(ts, edit_day), History._ev_edit, (unit, entry_no))

    def schedule_payment(
        self, ts: int, unit: int, side: str, party: str, invoice: str, inv_day: int, amount: int
    ) -> None:
        """Queue the payment of the open `amount`: mostly around the due date, some late."""
        rng = self.rng
        term = int(self.books.party(side, party).term)
        delay = rng.choice(
            (rng.randint(-5, 5),) * 14 + (rng.randint(6, 40),) * 5 + (rng.randint(41, 120),)
        )
        pay_day = weekday(max(inv_day + term + delay, ts // DAY + 1))
        event = sales.ev_receipt if side == "D" else purchases.ev_payment
        self.push(self.later(ts, pay_day), event, (unit, party, invoice, amount, None))

    def plant_vat(self, unit: int, entry_no: int, code: str) -> None:
        """Record the booked entry's VAT on `code`, which was planted wrong."""
        mismatch = judge_vat(self.books, unit, entry_no, code)
        assert mismatch is not None, "a planted VAT error must be a mismatch"
        self.log.vat.append(mismatch)

    # ---- fixed and other bookings ----

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
        voucher = self.voucher(unit, prefix, day)
        lines = [Line(acc, day, day, voucher, None, d, cr, desc) for acc, d, cr in legs]
        return self.books.book(ts, unit, journal, lines)

    def _ev_cash(self, ts: int, unit: int) -> None:
        day = ts // DAY
        net = self.amount(40)
        vat = c.vat_amount(net, 2100)
        voucher = self.voucher(unit, "K", day)
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
                dim=self.dim(),
            ),
            Line(c.VAT_INPUT, day, day, voucher, None, vat, 0, desc, vat_code="5"),
            Line(c.CASH, day, day, voucher, None, 0, net + vat, desc),
        ]
        self.books.book(ts, unit, c.CASH_BOOK, lines)

    def _ev_cash_topup(self, ts: int, unit: int) -> None:
        legs = [(c.CASH, 50_000, 0), (c.BANK, 0, 50_000)]
        self._simple(ts, unit, c.CASH_BOOK, "K", "Kasstorting van bank", legs)

    def _ev_reclass(self, ts: int, unit: int) -> None:
        src, dst = self.rng.choice(_RECLASS)
        amount = self.amount(150)
        desc = f"Herrubricering {src} naar {dst}"
        legs = [(dst, amount, 0), (src, 0, amount)]
        entry_no = self._simple(ts, unit, c.MEMORIAL, "M", desc, legs)
        if self.rng.random() < 0.3:  # a correction that turns out wrong is deleted again
            delete_at = self.later(ts, ts // DAY + self.rng.randint(1, 12))
            self.push(delete_at, History._ev_delete, (unit, entry_no))

    def _ev_opening_balance(self, ts: int, unit: int) -> None:
        """The opening balance sheet of the first year (AFAS's beginbalans), migrated from the
        previous system weeks into the history: one entry in the opening-balance journal, in
        period 0 of the first year and dated 1 January, whose entry number is higher than those
        of the first weeks. Fixed assets and their depreciation, bank and cash, the debtor and
        creditor items open at 1 January, the share capital, and the reserves that balance it."""
        rng, jan_1 = self.rng, self.opening_day
        year = day_date(jan_1).year
        voucher = self.voucher(unit, "BB", jan_1)
        depreciation = self._monthly_depreciation(unit)
        desc = f"Beginbalans {year}"
        legs = [
            (c.FIXED_ASSETS, 60 * depreciation, 0),
            (c.DEPRECIATION_ACC, 0, rng.randint(6, 24) * depreciation),
            (c.BANK, int(self.weight[unit] * 15_000_000 * rng.uniform(0.8, 1.2)), 0),
            (c.CASH, rng.randint(500, 2_000) * 100, 0),
        ]
        lines = [Line(acc, jan_1, jan_1, voucher, None, d, cr, desc) for acc, d, cr in legs]
        items, to_pay = self._opening_items(unit, voucher)
        lines += items
        reserves = sum(ln.debit - ln.credit for ln in lines) - _SHARE_CAPITAL
        for account, amount in ((c.EQUITY, _SHARE_CAPITAL), (c.RESERVES, reserves)):
            debit, credit = (0, amount) if amount >= 0 else (-amount, 0)
            lines.append(Line(account, jan_1, jan_1, voucher, None, debit, credit, desc))
        self.books.book(ts, unit, c.OPENING_BOOK, lines, year=year, period=0)
        for side, party_id, number, amount in to_pay:
            pay_day = weekday(ts // DAY + rng.randint(1, 60))
            event = sales.ev_receipt if side == "D" else purchases.ev_payment
            self.push(self.later(ts, pay_day), event, (unit, party_id, number, amount, None))

    def _opening_items(
        self, unit: int, voucher: str
    ) -> tuple[list[Line], list[tuple[str, str, str, int]]]:
        """The debtor (debit) and creditor (credit) items open at 1 January, under the old
        system's numbers (OB-2024-0012) and their invoice dates in the last months before; they
        have no sales or purchase entry. Returns the lines and the items that will be paid."""
        rng, books, jan_1 = self.rng, self.books, self.opening_day
        lines, to_pay = [], []
        for side, count, median in (
            ("D", self.n_debtors // 10, 700),
            ("C", self.n_creditors // 5, 400),
        ):
            for k in range(max(2, round(count * self.weight[unit] * len(self.units)))):
                party = books.party(side, parties.pick(self, side))
                voucher_day = jan_1 - rng.randint(1, 75)
                year, n = books.next_number(unit, f"OB{side}", voucher_day)
                number, amount = f"OB-{year}-{n:04d}", self.amount(median)
                debtor, creditor = (party.id, None) if side == "D" else (None, party.id)
                debit, credit = (amount, 0) if side == "D" else (0, amount)
                desc = f"Beginbalans {number} {party.name}"
                line = Line(party.collect, jan_1, voucher_day, voucher, number, debit, credit, desc)
                lines.append(line._replace(debtor=debtor, creditor=creditor))
                if k % _MIGRATED_UNPAID_EVERY:
                    to_pay.append((side, party.id, number, amount))
        return lines, to_pay

    def _payroll(self, unit: int, day: int) -> tuple[int, int, int, int, int]:
        """Gross wages, employer social charges and pension, withheld tax, employee pension."""
        rng = random.Random(f"{self.seed}:payroll:{unit}:{self.books.year_period(day)}")
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

    def _monthly_depreciation(self, unit: int) -> int:
        return int(self.weight[unit] * 400_000) + unit * 1_000

    def _ev_depreciation(self, ts: int, unit: int) -> None:
        amount = self._monthly_depreciation(unit)
        y, m = self.books.year_period(ts // DAY)
        legs = [(c.DEPRECIATION_COSTS, amount, 0), (c.DEPRECIATION_ACC, 0, amount)]
        self._simple(ts, unit, c.MEMORIAL, "M", f"Afschrijving inventaris {m:02d}-{y}", legs)

    def _ev_bank_costs(self, ts: int, unit: int) -> None:
        amount = self.rng.randint(500, 6_000)
        legs = [(c.BANK_COSTS, amount, 0), (c.BANK, 0, amount)]
        self._simple(ts, unit, c.BANK_BOOK, "B", "Bankkosten en rente", legs)

    def _ev_delete(self, ts: int, unit: int, entry_no: int) -> None:
        books = self.books
        if books.entry_lines(unit, entry_no) is not None and not books.is_matched(unit, entry_no):
            books.delete_entry(ts, unit, entry_no)

    def _ev_edit(self, ts: int, unit: int, entry_no: int) -> None:
        """A user corrects a description or a cost centre; the whole entry gets the new time."""
        rows = self.books.entry_lines(unit, entry_no)
        if rows is None:
            return
        st, rng = self.books.lines, self.rng
        cost_rows = [i for i in rows if c.ACCOUNTS_BY_NUMBER[st.account[i]].type == "W"]
        if cost_rows and rng.random() < 0.5:
            i = rng.choice(cost_rows)
            st.dim[i] = rng.choice([cc for cc in c.COST_CENTRES if cc != st.dim[i]])
        else:
            i = rows[0]
            st.description[i] = f"{st.description[i] or ''} (gecorrigeerd)".strip()
        self.books.mark_edited(ts, unit, entry_no)
