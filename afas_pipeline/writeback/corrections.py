"""Proposed corrections as the analysts' database holds them, grouped into one entry each.

`marts.corrections_proposed` has one row per journal line; every correction becomes one FiEntries
entry. The file is opened read-only and closed at once: it is swapped by atomic rename on every
publish, and an open handle must never hold on to an old copy for longer than one read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from afas_pipeline.datadir import MARTS_FILE, sql_string

CORRECTIONS_TABLE = "marts.corrections_proposed"
GL_VS_AFAS = "marts.rec_gl_vs_afas"
# The voucher prefix of corrections (dbt var correction_voucher_prefix): reversals carry it too,
# so the marts count them as the pipeline's own postings.
CORRECTION_PREFIX = "COR-"
REVERSAL_TYPE = "duplicate_reversal"
MAX_DESCRIPTION = 255  # FiEntries `Ds`
DEFAULT_JOURNAL = "80"  # memoriaal in the AFAS examples and in the simulator
CORRECTION_COLUMNS = (
    "correction_id",
    "correction_type",
    "reason",
    "source_ref",
    "administration_id",
    "journal_id",
    "fiscal_year",
    "period",
    "entry_date",
    "line_no",
    "account_kind",
    "account_code",
    "debit",
    "credit",
    "vat_code",
    "invoice_id",
    "description",
)
# The fields that must agree on every line of one correction: they form the entry's header.
_HEADER_COLUMNS = (
    "correction_type",
    "reason",
    "source_ref",
    "administration_id",
    "journal_id",
    "fiscal_year",
    "period",
    "entry_date",
)


class CorrectionsUnavailableError(RuntimeError):
    """The analysts' database or its `corrections_proposed` table is not there (yet)."""


@dataclass(frozen=True)
class CorrectionLine:
    """One journal line of a correction; amounts are exact decimals, one side is zero."""

    line_no: int
    account_kind: str
    account_code: str
    debit: Decimal
    credit: Decimal
    vat_code: str | None
    invoice_id: str | None
    description: str | None


@dataclass(frozen=True)
class Correction:
    """One proposed correction: the header of a FiEntries entry and its lines."""

    correction_id: str
    correction_type: str
    reason: str | None
    source_ref: str | None
    administration_id: int
    journal_id: str
    fiscal_year: int
    period: int
    entry_date: date
    lines: tuple[CorrectionLine, ...]
    # Lines that disagree on a header field; validation reports them, nothing is guessed.
    inconsistent_fields: tuple[str, ...] = ()

    @property
    def total_debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), Decimal("0"))

    @property
    def total_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), Decimal("0"))

    def content(self) -> dict[str, Any]:
        """Everything that defines the correction, as plain JSON values (for hashing, audit)."""
        return {
            "correction_id": self.correction_id,
            "correction_type": self.correction_type,
            "reason": self.reason,
            "source_ref": self.source_ref,
            "administration_id": self.administration_id,
            "journal_id": self.journal_id,
            "fiscal_year": self.fiscal_year,
            "period": self.period,
            "entry_date": self.entry_date.isoformat(),
            "lines": [
                {
                    "line_no": line.line_no,
                    "account_kind": line.account_kind,
                    "account_code": line.account_code,
                    "debit": format(line.debit, "f"),
                    "credit": format(line.credit, "f"),
                    "vat_code": line.vat_code,
                    "invoice_id": line.invoice_id,
                    "description": line.description,
                }
                for line in self.lines
            ],
        }

    @property
    def content_hash(self) -> str:
        """A fingerprint of the content: an approval holds only for the content it saw."""
        canonical = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @classmethod
    def from_content(cls, content: Mapping[str, Any]) -> Correction:
        """The correction `content()` describes (as the outbox keeps it)."""
        lines = tuple(
            CorrectionLine(
                line_no=int(line["line_no"]),
                account_kind=str(line["account_kind"]),
                account_code=str(line["account_code"]),
                debit=Decimal(line["debit"]),
                credit=Decimal(line["credit"]),
                vat_code=line.get("vat_code"),
                invoice_id=line.get("invoice_id"),
                description=line.get("description"),
            )
            for line in content["lines"]
        )
        return cls(
            correction_id=str(content["correction_id"]),
            correction_type=str(content["correction_type"]),
            reason=content.get("reason"),
            source_ref=content.get("source_ref"),
            administration_id=int(content["administration_id"]),
            journal_id=str(content["journal_id"]),
            fiscal_year=int(content["fiscal_year"]),
            period=int(content["period"]),
            entry_date=date.fromisoformat(str(content["entry_date"])),
            lines=lines,
        )

    def reversal(self, en_no: str) -> Correction:
        """A correction that reverses entry `en_no`, a second booking of this one: the same
        lines with debit and credit swapped, in the same journal and period."""
        # Deterministic, like the marts' ids: found again, never proposed twice.
        digest = hashlib.md5(f"reversal:{self.correction_id}:{en_no}".encode()).hexdigest()
        why = f"reverses EnNo {en_no}, a second booking of {self.correction_id}"
        lines = tuple(
            replace(
                line,
                debit=line.credit,
                credit=line.debit,
                description=f"{why}: {line.description or ''}"[:MAX_DESCRIPTION],
            )
            for line in self.lines
        )
        return replace(
            self,
            correction_id=f"{CORRECTION_PREFIX}{digest[:20].upper()}",
            correction_type=REVERSAL_TYPE,
            reason=why,
            source_ref=self.correction_id,
            lines=lines,
            inconsistent_fields=(),
        )


def marts_path(data_dir: Path) -> Path:
    return Path(data_dir) / MARTS_FILE


def read_corrections(data_dir: Path, *, default_journal: str = DEFAULT_JOURNAL) -> list[Correction]:
    """All proposed corrections in `marts.duckdb`, ordered by id. Opens the file read-only."""
    columns = ", ".join(CORRECTION_COLUMNS)
    query = f"select {columns} from analysts.{CORRECTIONS_TABLE} order by correction_id, line_no"
    rows = [dict(zip(CORRECTION_COLUMNS, row, strict=True)) for row in _query(data_dir, query)]
    return group_corrections(rows, default_journal=default_journal)


def read_warehouse_gaps(data_dir: Path) -> dict[int, str]:
    """The administrations whose published warehouse does not equal AFAS (rec_gl_vs_afas has a
    difference, which in an open period is a finding, not a stop), with what differs."""
    query = (
        f"select administration_id, count(*), sum(abs(difference)) from analysts.{GL_VS_AFAS} "
        "where status <> 'ok' group by all order by all"
    )
    return {
        int(unit): f"{count} account-periods differ from AFAS's balances by {total} in total"
        for unit, count, total in _query(data_dir, query)
    }


def _query(data_dir: Path, query: str) -> list[tuple[Any, ...]]:
    """Rows of one query on `marts.duckdb`, opened read-only and closed at once."""
    path = marts_path(data_dir)
    if not path.exists():
        raise CorrectionsUnavailableError(
            f"{path} does not exist: build and publish the marts first (analysts/marts_database)"
        )
    # Attached under an alias: a file named marts.duckdb is itself a catalog called "marts",
    # which would make the schema name `marts` ambiguous.
    with duckdb.connect() as con:
        con.execute(f"attach '{sql_string(path)}' as analysts (read_only)")
        try:
            return con.execute(query).fetchall()
        except duckdb.CatalogException as exc:
            raise CorrectionsUnavailableError(
                f"{path} lacks a mart this needs ({exc}): the marts are not built yet"
            ) from exc


def group_corrections(
    rows: Iterable[Mapping[str, Any]], *, default_journal: str = DEFAULT_JOURNAL
) -> list[Correction]:
    """Group line rows (dicts with the columns of `corrections_proposed`) per correction."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(str(row["correction_id"]), []).append(row)
    return [_correction(cid, lines, default_journal) for cid, lines in sorted(grouped.items())]


def _correction(cid: str, rows: Sequence[Mapping[str, Any]], default_journal: str) -> Correction:
    rows = sorted(rows, key=lambda r: (r["line_no"] is None, r["line_no"] or 0))
    first = rows[0]
    inconsistent = tuple(
        column for column in _HEADER_COLUMNS if len({repr(r.get(column)) for r in rows}) > 1
    )
    return Correction(
        correction_id=cid,
        correction_type=str(first.get("correction_type") or ""),
        reason=_opt(first.get("reason")),
        source_ref=_opt(first.get("source_ref")),
        administration_id=int(first["administration_id"]),
        journal_id=_opt(first.get("journal_id")) or default_journal,
        # 0 when the mart found no period for the date: validation refuses it with that reason.
        fiscal_year=int(first.get("fiscal_year") or 0),
        period=int(first.get("period") or 0),
        entry_date=_date(first["entry_date"]),
        lines=tuple(_line(i, r) for i, r in enumerate(rows, start=1)),
        inconsistent_fields=inconsistent,
    )


def _line(position: int, row: Mapping[str, Any]) -> CorrectionLine:
    return CorrectionLine(
        line_no=int(row["line_no"]) if row.get("line_no") is not None else position,
        account_kind=str(row.get("account_kind") or "").strip(),
        account_code=str(row.get("account_code") or "").strip(),
        debit=_amount(row.get("debit")),
        credit=_amount(row.get("credit")),
        vat_code=_opt(row.get("vat_code")),
        invoice_id=_opt(row.get("invoice_id")),
        description=_opt(row.get("description")),
    )


def _opt(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _amount(value: object) -> Decimal:
    if value is None:
        return Decimal("0.00")
    # Never through a float: DuckDB hands DECIMAL columns over as Decimal already.
    return Decimal(str(value))


def _date(value: object) -> date:
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    return date.fromisoformat(str(value)[:10])
