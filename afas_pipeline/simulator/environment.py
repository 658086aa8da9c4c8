"""One simulated AFAS Profit environment: its data, its clock and its FiEntries logic.

The HTTP layer (`app.py`) serves `Environment.rows()` and forwards FiEntries calls here. All state
sits behind one lock; `rows()` hands out immutable polars frames, so a reader keeps a consistent
snapshot while the clock moves on.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from afas_pipeline.contract import CONNECTORS, ConnectorSpec
from afas_pipeline.simulator import chart as c
from afas_pipeline.simulator import projections as frames
from afas_pipeline.simulator.books import (
    AMSTERDAM,
    NULL_CENTS,
    STAT_KEYS,
    Books,
    Line,
    day_date,
    day_number,
    real_wall_clock,
    to_seconds,
)
from afas_pipeline.simulator.fientries import (
    FiEntryRejected,
    PreparedEntry,
    prepare,
    reject,
)
from afas_pipeline.simulator.history import History
from afas_pipeline.simulator.planted import PlantedProblems, visible

__all__ = [
    "DEFAULT_TOKEN_DATA",
    "Environment",
    "FiEntryRejected",
    "PlantedProblems",
    "SimulatorConfig",
    "UnknownConnectorError",
]

# How often a live clock catches up with the wall clock (seconds).
LIVE_CLOCK_STEP_S = 60.0
DATETIME_DATA_TYPES = ("date", "datetime")
VAT_AMOUNT_SIGNS = ("unsigned", "own_side")
DEFAULT_TOKEN_DATA = "949C1A9CD9AE4797950D94F55A7A4D056770472D4963CB9A8D3800BEE0CCE6A2"
_LINE_CONNECTORS = (
    "DWH_Financiele_mutaties",
    "Profit_Period_balance",
    "Profit_Debtor_Invoices",
    "Profit_Creditor_Invoices",
    "Profit_Fin_ChangedEntrydate",
)
# AFAS deletes only invoice entries (purchase, sales) and memorial entries [h-070].
_DELETABLE_JOURNAL_TYPES = frozenset({"I", "V", "M"})


class UnknownConnectorError(KeyError):
    """The connector id is not part of the contract (the HTTP layer answers 401/500)."""

    def __init__(self, connector_id: str) -> None:
        super().__init__(connector_id)
        self.connector_id = connector_id


def amsterdam_now() -> datetime:
    """The current Europe/Amsterdam wall-clock time, naive, whole seconds."""
    return datetime.now(AMSTERDAM).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 42
    journal_lines: int = 20_000  # approximate size of the generated history
    administrations: int = 3
    now: datetime | None = None  # naive Amsterdam wall clock; None: the current time
    history_days: int = 456  # about 15 months: the previous and the current year
    live_clock: bool = False  # True: the clock follows wall time while a server runs
    token_data: str = DEFAULT_TOKEN_DATA  # 64 upper-case hex characters
    environment_id: str = "O12345AA"
    # The dataType metainfo gives the contract's datetime fields: "date", as AFAS does (it has
    # no datetime type), or "datetime", the simulator's old answer, kept for tests.
    datetime_data_type: str = "date"
    # VatAmt on revenue and cost lines: "unsigned", the line's VAT as a positive number on
    # invoices and credit notes alike (what an independent AFAS environment showed), or
    # "own_side", signed on the VAT code's side (sales credit - debit, purchases debit - credit).
    vat_amount_sign: str = "unsigned"
    # Whether DWH_Financiele_mutaties has the contract's optional DimAx2 (cost carrier), in its
    # metainfo and rows; off, like an environment whose connector lacks it.
    cost_carrier_field: bool = True

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9A-F]{64}", self.token_data):
            raise ValueError("token_data must be 64 upper-case hexadecimal characters")
        if self.datetime_data_type not in DATETIME_DATA_TYPES:
            raise ValueError(f"datetime_data_type must be one of {DATETIME_DATA_TYPES}")
        if self.vat_amount_sign not in VAT_AMOUNT_SIGNS:
            raise ValueError(f"vat_amount_sign must be one of {VAT_AMOUNT_SIGNS}")
        if self.journal_lines < 1 or self.history_days < 1:
            raise ValueError("journal_lines and history_days must be positive")
        c.administrations(self.administrations)  # validates the count


class Environment:
    """A deterministic AFAS environment: same config, same rows, however the clock is moved."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config = config or SimulatorConfig()
        self._lock = threading.RLock()
        self._admins = c.administrations(config.administrations)
        now = real_wall_clock((config.now or amsterdam_now()).replace(microsecond=0))
        start_day = day_number(now.date()) - config.history_days
        self._first_year = day_date(start_day).year
        self._ledger = Books(tuple(a.id for a in self._admins))
        self._history = History(
            self._ledger,
            seed=config.seed,
            journal_lines=config.journal_lines,
            start_day=start_day,
            history_days=config.history_days,
        )
        self._history.run_until(to_seconds(now))
        self._now = now
        self._followed_at = float("-inf")
        self._cache: dict[str, tuple[object, pl.DataFrame]] = {}
        # Per connector: the edited frame it was made from, its fields, the served rows.
        self._served: dict[str, tuple[pl.DataFrame, tuple[str, ...], pl.DataFrame]] = {}
        self._edits = _Edits()

    # ---- clock ----

    def now(self) -> datetime:
        """The current simulated Amsterdam wall-clock time (naive)."""
        with self._lock:
            self._follow_wall_clock()
            return self._now

    def advance(self, *, days: float = 0, to: datetime | None = None) -> dict[str, int]:
        """Move the clock forward, applying the business activity in between; returns counts."""
        with self._lock:
            target = to if to is not None else self._now + timedelta(days=days)
            return self._advance_to(target)

    def _advance_to(self, target: datetime) -> dict[str, int]:
        target = real_wall_clock(target.replace(microsecond=0))
        if target <= self._now:
            return dict.fromkeys(STAT_KEYS, 0)
        counts = self._history.run_until(to_seconds(target))
        self._now = target
        return dict(counts)

    def _follow_wall_clock(self) -> None:
        # Never backwards: in the October DST hour the wall clock repeats an hour. At most once
        # per LIVE_CLOCK_STEP_S, so a paged read does not rebuild frames on every request.
        if not self.config.live_clock:
            return
        moment = time.monotonic()
        if moment - self._followed_at >= LIVE_CLOCK_STEP_S:
            self._followed_at = moment
            self._advance_to(amsterdam_now())

    # ---- reading ----

    def rows(self, connector_id: str) -> pl.DataFrame:
        """The connector's current rows: the fields it serves (`served_spec`), typed exactly as
        the contract says, after any silent edits."""
        with self._lock:
            served = self.served_spec(connector_id)
            frame = self._edited_rows(connector_id)
            cached = self._served.get(connector_id)
            if cached is not None and cached[0] is frame and cached[1] == served.field_ids:
                return cached[2]
            rows = frame.select(served.field_ids)
            self._served[connector_id] = (frame, served.field_ids, rows)
            return rows

    def served_spec(self, connector_id: str) -> ConnectorSpec:
        """The contract of the connector as this environment serves it: with the optional
        fields only if configured, without the fields an administrator removed."""
        contract = CONNECTORS.get(connector_id)
        if contract is None:
            raise UnknownConnectorError(connector_id)
        optional = contract.optional_fields if self.config.cost_carrier_field else ()
        removed = self._edits.removed_fields.get(connector_id, frozenset())
        fields = tuple(f for f in contract.fields + optional if f.id not in removed)
        return replace(contract, fields=fields, optional_fields=())

    def _edited_rows(self, connector_id: str) -> pl.DataFrame:
        """Every contract field of the connector, after the silent edits (cached)."""
        with self._lock:
            self._follow_wall_clock()
            version = (self._version(connector_id), self._edits.version)
            cached = self._cache.get(connector_id)
            if cached is not None and cached[0] == version:
                return cached[1]
            frame = self._edits.apply(connector_id, self._build(connector_id))
            self._cache[connector_id] = (version, frame)
            return frame

    # ---- bad days: what an AFAS administrator (or AFAS itself) does behind the pipeline's back

    def remove_fields(self, connector_id: str, field_ids: Sequence[str]) -> None:
        """Serve the connector without these fields, in metainfo and rows, as after an AFAS
        administrator edited the GetConnector; an empty list restores them."""
        contract = CONNECTORS.get(connector_id)
        if contract is None:
            raise UnknownConnectorError(connector_id)
        unknown = sorted(set(field_ids) - {f.id for f in contract.all_fields})
        if unknown:
            raise ValueError(f"{connector_id} has no fields {unknown}")
        with self._lock:
            self._edits.removed_fields[connector_id] = frozenset(field_ids)
            self._edits.version += 1

    def silent_edit(
        self, connector_id: str, key: Mapping[str, Any], values: Mapping[str, Any] | None
    ) -> int:
        """Change fields of the records matching `key` (or, with `values` None, delete them)
        without moving `Mutatie_datum` and without reporting the booking date in
        `Profit_Fin_ChangedEntrydate`: the changes an incremental read cannot see. Open items
        are not touched, so edit lines that are no debtor or creditor lines. Returns how many
        records matched; the edit stays in force as the clock moves."""
        contract = CONNECTORS.get(connector_id)
        if contract is None or not contract.partitioned:
            raise ValueError(
                f"silent edits are for the change-tracked connectors, not {connector_id}"
            )
        edit = _SilentEdit(connector_id, dict(key), None if values is None else dict(values))
        with self._lock:
            frame = self._edited_rows(connector_id)
            try:
                edit.apply(contract, frame)  # refuse a bad edit now, not at the next read
                matched = frame.filter(edit.matches(contract)).height
            except pl.exceptions.PolarsError as exc:
                raise ValueError(f"cannot apply the silent edit: {exc}") from exc
            self._edits.silent.append(edit)
            self._edits.version += 1
        return matched

    def undo_silent_edits(self) -> int:
        """Take every silent edit back (the records are as the ledger has them); returns how
        many there were."""
        with self._lock:
            count = len(self._edits.silent)
            self._edits.silent.clear()
            self._edits.version += 1
        return count

    def _version(self, connector_id: str) -> object:
        v = self._ledger.versions
        if connector_id == "Profit_Period_balance":  # a new year brings its period 0
            return (v["lines"], self._now.year)
        if connector_id in _LINE_CONNECTORS:
            return v["lines"]
        if connector_id == "DWH_Debiteuren":
            return v["debtors"]
        if connector_id == "DWH_Crediteuren":
            return v["creditors"]
        if connector_id == "Profit_periods_per_administration":
            return (self._now.year, self._now.month)
        return 0

    def _build(self, connector_id: str) -> pl.DataFrame:
        ledger = self._ledger
        builders = {
            "DWH_Financiele_mutaties": lambda: frames.journal_lines_frame(
                ledger.lines, unsigned_vat=self.config.vat_amount_sign == "unsigned"
            ),
            "DWH_Debiteuren": lambda: frames.parties_frame(ledger, "D"),
            "DWH_Crediteuren": lambda: frames.parties_frame(ledger, "C"),
            "Profit_Administrations": lambda: c.administrations_frame(self._admins),
            "Profit_Accounts": c.accounts_frame,
            "Profit_Journals": lambda: c.journals_frame(self._admins),
            "Profit_VAT_code": c.vat_codes_frame,
            "Profit_periods_per_administration": lambda: c.periods_frame(
                self._admins, self._first_year, self._now.date()
            ),
            "Profit_Period_balance": lambda: frames.period_balance_frame(
                self._edited_rows("DWH_Financiele_mutaties"), self._first_year, self._now.year
            ),
            "Profit_Debtor_Invoices": lambda: frames.open_items_frame(
                self._edited_rows("DWH_Financiele_mutaties"), ledger, "D"
            ),
            "Profit_Creditor_Invoices": lambda: frames.open_items_frame(
                self._edited_rows("DWH_Financiele_mutaties"), ledger, "C"
            ),
            "Profit_Fin_ChangedEntrydate": lambda: frames.changed_days_frame(ledger),
        }
        return builders[connector_id]()

    @property
    def planted(self) -> PlantedProblems:
        """Ground truth of the planted problems that are visible now."""
        with self._lock:
            self._follow_wall_clock()
            return visible(self._ledger, self._history.log, self._now.date())

    def summary(self) -> dict:
        """Counts per connector, the clock and the seed (for /_simulator/state and logs)."""
        with self._lock:
            planted = self.planted
            return {
                "environment_id": self.config.environment_id,
                "seed": self.config.seed,
                "now": self.now().isoformat(),
                "connectors": {cid: self.rows(cid).height for cid in CONNECTORS},
                "planted": {
                    "suspense_receipts": len(planted.suspense_receipts),
                    "duplicate_invoices": len(planted.duplicate_invoices),
                    "vat_mismatches": len(planted.vat_mismatches),
                    "rounding_differences": len(planted.rounding_differences),
                    "intercompany_differences": len(planted.intercompany_differences),
                },
                "removed_fields": {
                    cid: sorted(ids) for cid, ids in self._edits.removed_fields.items() if ids
                },
                "silent_edits": len(self._edits.silent),
            }

    # ---- FiEntries ----

    def post_fi_entry(self, payload: dict) -> dict[str, str]:
        """Book a FiEntries POST body; returns {"UnId", "EnNo", "InId"} as strings."""
        with self._lock:
            self._follow_wall_clock()
            entry = _auto_numbered(prepare(payload, _Context(self)), self._ledger)
            entry_no = self._book(entry)
            first_invoice = next((ln.invoice for ln in entry.lines if ln.invoice), "")
            return {"UnId": str(entry.unit_id), "EnNo": str(entry_no), "InId": first_invoice}

    def _book(self, entry: PreparedEntry) -> int:
        ledger = self._ledger
        next_no = str(ledger.next_entry_no(entry.unit_id))
        lines, due_days = [], {}
        for i, pl_ in enumerate(entry.lines):
            invoice = pl_.invoice
            if invoice is None and (pl_.debtor or pl_.creditor):
                # An open item needs an invoice number; without InId AFAS falls back to the
                # voucher number, and we to the entry number when that is missing too.
                invoice = pl_.voucher_no[:12] if pl_.voucher_no else next_no
            if pl_.due_date is not None:
                due_days[i] = day_number(pl_.due_date)
            lines.append(
                Line(
                    pl_.account,
                    day_number(pl_.entry_date),
                    day_number(pl_.voucher_date),
                    pl_.voucher_no,
                    invoice,
                    pl_.debit,
                    pl_.credit,
                    pl_.description,
                    debtor=pl_.debtor,
                    creditor=pl_.creditor,
                    vat_code=pl_.vat_code,
                    vat_amt=NULL_CENTS if pl_.vat_amt is None else pl_.vat_amt,
                )
            )
        ts = to_seconds(self._now)
        return ledger.book(
            ts, entry.unit_id, entry.journal_id, lines,
            year=entry.year, period=entry.period, due_days=due_days,
        )  # fmt: skip

    def delete_fi_entry(self, unit_id: int, journal_id: str, entry_no: int) -> None:
        """Delete a whole entry, as DELETE .../FiEntryPar/UnId,JoCo/{u},{j}/FiEntries/@EnNo/{n}."""
        with self._lock:
            self._follow_wall_clock()
            self._check_unit(unit_id)
            ref = self._ledger.entries.get((unit_id, entry_no))
            if ref is None or not ref.alive or ref.journal != str(journal_id):
                raise reject(
                    f"Journal entry {entry_no} does not exist in journal {journal_id} "
                    f"of administration {unit_id}."
                )
            self._delete_entries(unit_id, [entry_no])

    def delete_fi_invoice(self, unit_id: int, journal_id: str, invoice_id: str) -> None:
        """Delete the entries of an invoice, as DELETE .../FiEntries/InId/{invoice} [fie-del]."""
        with self._lock:
            self._follow_wall_clock()
            self._check_unit(unit_id)
            entries = self._ledger.invoice_entries(unit_id, str(journal_id), invoice_id)
            if not entries:
                raise reject(
                    f"Invoice {invoice_id} does not exist in journal {journal_id} "
                    f"of administration {unit_id}."
                )
            self._delete_entries(unit_id, entries)

    def _check_unit(self, unit_id: int) -> None:
        if not any(a.id == unit_id for a in self._admins):
            raise reject("No unit available")

    def _delete_entries(self, unit_id: int, entry_nos: list[int]) -> None:
        """Check every entry first, then delete them all: a refused one deletes none."""
        ledger = self._ledger
        for entry_no in entry_nos:
            ref = ledger.entries[(unit_id, entry_no)]
            if c.JOURNALS_BY_ID[ref.journal].type not in _DELETABLE_JOURNAL_TYPES:
                raise reject(
                    "Only entries of a sales or purchase invoice or memorial entries can be "
                    "deleted."
                )
            if c.period_blocked(unit_id, ref.year, ref.period, self._now.date()):
                raise reject(
                    f"For this administration, period {ref.period} of the year {ref.year} "
                    "is blocked."
                )
            if ledger.is_matched(unit_id, entry_no):
                raise reject(
                    f"Journal entry {entry_no} cannot be deleted because it has been matched "
                    "(afgeletterd)."
                )
        for entry_no in entry_nos:
            ledger.delete_entry(to_seconds(self._now), unit_id, entry_no)


@dataclass(frozen=True)
class _SilentEdit:
    connector_id: str
    key: dict[str, Any]
    values: dict[str, Any] | None  # None: delete

    def matches(self, spec: ConnectorSpec) -> pl.Expr:
        missing = sorted(set(spec.key) - set(self.key))
        if missing or set(self.key) - set(spec.key):
            raise ValueError(f"a silent edit needs exactly the key {list(spec.key)}")
        return pl.all_horizontal(pl.col(k) == v for k, v in self.key.items())

    def apply(self, spec: ConnectorSpec, frame: pl.DataFrame) -> pl.DataFrame:
        match = self.matches(spec)
        if self.values is None:
            return frame.filter(~match)
        changes = []
        for name, value in self.values.items():
            if name in (*spec.key, spec.modification_field) or name not in frame.columns:
                raise ValueError(f"a silent edit cannot set {name!r} of {spec.id}")
            literal = pl.lit(value).cast(frame.schema[name], strict=True)
            changes.append(pl.when(match).then(literal).otherwise(pl.col(name)).alias(name))
        return frame.with_columns(changes)


@dataclass
class _Edits:
    """The bad-day edits in force: fields removed per connector, and silent edits in order."""

    removed_fields: dict[str, frozenset[str]] = field(default_factory=dict)
    silent: list[_SilentEdit] = field(default_factory=list)
    version: int = 0

    def apply(self, connector_id: str, frame: pl.DataFrame) -> pl.DataFrame:
        spec = CONNECTORS[connector_id]
        for edit in self.silent:
            if edit.connector_id == connector_id:
                frame = edit.apply(spec, frame)
        return frame


def _auto_numbered(entry: PreparedEntry, ledger: Books) -> PreparedEntry:
    """With AuNu, every debtor line without an invoice number gets the next one of the sales
    counter (by its voucher date); AFAS returns it as `InId`."""
    if not entry.auto_number:
        return entry
    lines = tuple(
        replace(ln, invoice=ledger.next_sales_invoice(entry.unit_id, day_number(ln.voucher_date)))
        if ln.debtor and ln.invoice is None
        else ln
        for ln in entry.lines
    )
    return replace(entry, lines=lines)


class _Context:
    """What FiEntries validation asks of the environment, at the environment's `now`."""

    def __init__(self, env: Environment) -> None:
        self._env = env

    def has_unit(self, unit_id: int) -> bool:
        return any(a.id == unit_id for a in self._env._admins)

    def period_state(self, unit_id: int, year: int, period: int) -> str:
        today: date = self._env._now.date()
        if not c.period_exists(year, period, self._env._first_year, today):
            return "missing"
        if c.period_blocked(unit_id, year, period, today):
            return "blocked"
        return "year_end" if period == 0 and year > self._env._first_year else "ok"

    def period_of(self, unit_id: int, day: date) -> tuple[int, int] | None:
        # Monthly periods (chart.periods_frame); the administration does not change them.
        today: date = self._env._now.date()
        if not c.period_exists(day.year, day.month, self._env._first_year, today):
            return None
        return day.year, day.month

    def collect_account(self, side: str, party_id: str) -> str | None:
        ledger = self._env._ledger
        party = (ledger.debtors if side == "D" else ledger.creditors).get(party_id)
        return party.collect if party else None
