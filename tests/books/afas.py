"""A small AFAS environment written by hand: books as typed-out entries, served by the
simulator's HTTP layer (`create_app` over any environment), so the real pipeline extracts them.

Only the journal lines, master data and AFAS's own open-item lists are typed; the connectors that
AFAS itself derives from the lines (Profit_Period_balance, Profit_Fin_ChangedEntrydate) are
derived here the way AFAS defines them, with explicit overrides where a test needs AFAS to
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import polars as pl

from afas_pipeline.contract import CONNECTORS, ConnectorSpec
from afas_pipeline.simulator.environment import DEFAULT_TOKEN_DATA, FiEntryRejected

_TYPES: dict[str, pl.DataType] = {
    "int": pl.Int64(),
    "string": pl.String(),
    "decimal": pl.Decimal(18, 2),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "boolean": pl.Boolean(),
}


def frame(spec: ConnectorSpec, rows: list[tuple]) -> pl.DataFrame:
    """Rows in the contract's field order, typed as the contract says."""
    schema = {f.id: _TYPES[f.data_type] for f in spec.fields}
    return pl.DataFrame(rows, schema=schema, orient="row")


def d(text: str) -> date:
    return date.fromisoformat(text)


def money(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Line:
    """One journal line. A debtor or creditor line books on the party's collect account."""

    account: str | None = None
    debit: str = "0"
    credit: str = "0"
    debtor: str | None = None
    creditor: str | None = None
    invoice: str | None = None
    vat: str | None = None
    vat_amt: str | None = None
    description: str | None = None
    voucher_date: str | None = None
    cost_centre: str | None = None  # DimAx1


def gl(account: str, debit: str = "0", credit: str = "0", **more: Any) -> Line:
    return Line(account, debit, credit, **more)


def deb(debtor: str, debit: str = "0", credit: str = "0", **more: Any) -> Line:
    return Line(None, debit, credit, debtor=debtor, **more)


def cred(creditor: str, debit: str = "0", credit: str = "0", **more: Any) -> Line:
    return Line(None, debit, credit, creditor=creditor, **more)


@dataclass(frozen=True)
class Entry:
    """A journal entry as AFAS numbers it: `no` in the order it was entered (`created`)."""

    unit: int
    no: int
    journal: str
    entry_date: str
    created: str  # "YYYY-MM-DDTHH:MM", Amsterdam wall clock
    lines: tuple[Line, ...]
    voucher_no: str | None = None
    voucher_date: str | None = None
    modified: str | None = None  # a later edit; default: created
    period: int | None = None  # default: the month of entry_date (0: the year's opening)


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    term_days: int
    collect_account: str
    vat_nr: str | None = None  # btw-identificatienummer (VatNr)


@dataclass(frozen=True)
class OpenItem:
    """One row of AFAS's own open-item list (Profit_Debtor_Invoices / _Creditor_Invoices)."""

    unit: int
    party: str
    invoice: str
    voucher_date: str
    due_date: str
    amount_invoice: str
    balance: str
    description: str | None = None


@dataclass
class Books:
    """Everything an AFAS environment holds, typed out."""

    administrations: list[tuple[int, str, str]]
    accounts: list[tuple]  # Profit_Accounts rows
    journals: list[tuple[str, str, str]]  # (id, description, type), in every administration
    vat_codes: list[tuple]  # Profit_VAT_code rows
    years: tuple[int, ...]
    blocked_periods: set[tuple[int, int, int]]  # (unit, year, period)
    debtors: list[Party]
    creditors: list[Party]
    entries: list[Entry]
    debtor_items: list[OpenItem]
    creditor_items: list[OpenItem]
    # AFAS's period balance where it disagrees with the lines: (unit, year, period, account)
    # -> (extra debit, extra credit).
    balance_overrides: dict[tuple[int, int, int, str], tuple[str, str]] = field(
        default_factory=dict
    )
    # AFAS's period 0 of a year it computed at the year end (no lines): (unit, year, account)
    # -> balance, typed out as AFAS reports it.
    afas_openings: dict[tuple[int, int, str], str] = field(default_factory=dict)
    now: datetime = datetime(2026, 3, 20, 9, 0)

    def collect_account(self, line: Line) -> str:
        if line.account is not None:
            return line.account
        parties = self.debtors if line.debtor else self.creditors
        wanted = line.debtor or line.creditor
        return next(p.collect_account for p in parties if p.id == wanted)

    # -- connectors --------------------------------------------------------------------------

    def lines_frame(self) -> pl.DataFrame:
        rows = []
        for e in self.entries:
            entry_day = d(e.entry_date)
            created = datetime.fromisoformat(e.created)
            modified = datetime.fromisoformat(e.modified or e.created)
            for seq, ln in enumerate(e.lines, start=1):
                voucher_day = d(ln.voucher_date or e.voucher_date or e.entry_date)
                period = entry_day.month if e.period is None else e.period
                rows.append(
                    (
                        e.unit, e.no, seq, entry_day.year, period, e.journal,
                        self.collect_account(ln), ln.debtor, ln.creditor, entry_day,
                        voucher_day, e.voucher_no, ln.invoice, money(ln.debit),
                        money(ln.credit), ln.vat, money(ln.vat_amt), ln.description,
                        ln.cost_centre, created, modified,
                    )
                )  # fmt: skip
        return frame(CONNECTORS["DWH_Financiele_mutaties"], rows)

    def parties_frame(self, connector: str) -> pl.DataFrame:
        debtors = connector == "DWH_Debiteuren"
        rows = []
        for p in self.debtors if debtors else self.creditors:
            created = datetime(2024, 5, 1, 9, 30)
            common = (
                p.id, p.name, f"ORG{p.id}", p.name[:10].upper(), None, None, p.vat_nr, None,
                p.collect_account, str(p.term_days), Decimal("0.00"),
            )  # fmt: skip
            rest = ("EUR", False, created, created) if debtors else (False, created, created)
            rows.append(common + rest)
        return frame(CONNECTORS[connector], rows)

    def open_items_frame(self, connector: str) -> pl.DataFrame:
        items = self.debtor_items if connector == "Profit_Debtor_Invoices" else self.creditor_items
        rows = [
            (
                i.unit, i.party, i.invoice, d(i.voucher_date), d(i.due_date), "EUR",
                money(i.amount_invoice), money(i.balance), i.description,
            )
            for i in items
        ]  # fmt: skip
        return frame(CONNECTORS[connector], rows)

    def period_balance_frame(self) -> pl.DataFrame:
        names = {a[0]: a[1] for a in self.accounts}
        totals: dict[tuple[int, int, int, str], list[Decimal]] = {}
        for r in self.lines_frame().iter_rows(named=True):
            key = (r["UnitId"], r["Year"], r["Period"], r["AccountNo"])
            total = totals.setdefault(key, [Decimal(0), Decimal(0)])
            total[0] += r["AmtDebit"]
            total[1] += r["AmtCredit"]
        for key, (debit, credit) in self.balance_overrides.items():
            total = totals.setdefault(key, [Decimal(0), Decimal(0)])
            total[0] += Decimal(debit)
            total[1] += Decimal(credit)
        for (unit, year, account), balance in self.afas_openings.items():
            amount = Decimal(balance)
            # AFAS shows an opening balance on the side of its sign.
            totals[(unit, year, 0, account)] = [max(amount, Decimal(0)), max(-amount, Decimal(0))]
        rows = [
            (u, y, p, a, names.get(a), dr, cr, dr - cr)
            for (u, y, p, a), (dr, cr) in sorted(totals.items())
        ]
        return frame(CONNECTORS["Profit_Period_balance"], rows)

    def changed_dates_frame(self) -> pl.DataFrame:
        latest: dict[date, datetime] = {}
        for e in self.entries:
            moment = datetime.fromisoformat(e.modified or e.created)
            day = d(e.entry_date)
            latest[day] = max(latest.get(day, moment), moment)
        return frame(CONNECTORS["Profit_Fin_ChangedEntrydate"], sorted(latest.items()))

    def periods_frame(self) -> pl.DataFrame:
        rows = []
        for unit, _, _ in self.administrations:
            for year in self.years:
                # Period 0, the opening balance, is one day: 1 January.
                opening = date(year, 1, 1)
                rows.append(
                    (unit, year, 0, opening, opening, (unit, year, 0) in self.blocked_periods)
                )
                for month in range(1, 13):
                    start = date(year, month, 1)
                    end = date(year + month // 12, month % 12 + 1, 1)
                    rows.append(
                        (
                            unit, year, month, start, date.fromordinal(end.toordinal() - 1),
                            (unit, year, month) in self.blocked_periods,
                        )
                    )  # fmt: skip
        return frame(CONNECTORS["Profit_periods_per_administration"], rows)

    def connector(self, connector_id: str) -> pl.DataFrame:
        units = [a[0] for a in self.administrations]
        builders = {
            "DWH_Financiele_mutaties": self.lines_frame,
            "DWH_Debiteuren": lambda: self.parties_frame("DWH_Debiteuren"),
            "DWH_Crediteuren": lambda: self.parties_frame("DWH_Crediteuren"),
            "Profit_Administrations": lambda: frame(
                CONNECTORS["Profit_Administrations"], self.administrations
            ),
            "Profit_Accounts": lambda: frame(CONNECTORS["Profit_Accounts"], self.accounts),
            "Profit_Journals": lambda: frame(
                CONNECTORS["Profit_Journals"],
                [(u, j, name, kind, False) for u in units for j, name, kind in self.journals],
            ),
            "Profit_VAT_code": lambda: frame(CONNECTORS["Profit_VAT_code"], self.vat_codes),
            "Profit_periods_per_administration": self.periods_frame,
            "Profit_Period_balance": self.period_balance_frame,
            "Profit_Debtor_Invoices": lambda: self.open_items_frame("Profit_Debtor_Invoices"),
            "Profit_Creditor_Invoices": lambda: self.open_items_frame("Profit_Creditor_Invoices"),
            "Profit_Fin_ChangedEntrydate": self.changed_dates_frame,
        }
        return builders[connector_id]()


@dataclass
class BooksConfig:
    token_data: str = DEFAULT_TOKEN_DATA
    environment_id: str = "O99999AA"
    datetime_data_type: str = "date"
    seed: int = 0


class BooksEnvironment:
    """The simulator's environment interface over hand-written books (read-only)."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self.config = BooksConfig()
        self._frames: dict[str, pl.DataFrame] = {}

    def now(self) -> datetime:
        return self.books.now

    def advance(self, *, days: float = 0, to: datetime | None = None) -> dict[str, Any]:
        return {}

    def served_spec(self, connector_id: str) -> ConnectorSpec:
        """These books keep no optional fields (no cost carrier): the connector without them."""
        return replace(CONNECTORS[connector_id], optional_fields=())

    def rows(self, connector_id: str) -> pl.DataFrame:
        if connector_id not in self._frames:
            self._frames[connector_id] = self.books.connector(connector_id)
        return self._frames[connector_id]

    def post_fi_entry(self, payload: dict[str, Any]) -> dict[str, Any]:
        raise FiEntryRejected("These hand-written books take no postings.")

    def delete_fi_entry(self, unit_id: int, journal_id: str, entry_no: int) -> None:
        raise FiEntryRejected("These hand-written books take no deletions.")

    def delete_fi_invoice(self, unit_id: int, journal_id: str, invoice_id: str) -> None:
        raise FiEntryRejected("These hand-written books take no deletions.")

    def summary(self) -> dict[str, Any]:
        return {"now": self.books.now.isoformat(), "entries": len(self.books.entries)}
