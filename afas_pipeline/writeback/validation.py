"""Check a correction as AFAS would, before anything is sent.

The rules follow what the FiEntries UpdateConnector rejects (afas-api.md §5.4, the simulator's
`fientries.py`): a balanced entry, known and open accounts, debtors, creditors, journal, VAT code
and period, the period of the lines' date as well as the header's, VAT codes only on accounts
that allow VAT, and every field the connector's metainfo marks mandatory.
`tests/writeback/test_dry_run_agrees.py` holds both to the same verdicts. Reference data comes from
what the pipeline already loaded (`LoadedReference`, the raw layer's: no extra load on AFAS) and,
where it has nothing or does not know a debtor or creditor (created since the last load), from
a read of AFAS itself.
A correction that passes can still be refused by AFAS (the data may have changed since); then
AFAS's own message is recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import polars as pl

from afas_pipeline.afas import AfasClient, F, UpdateConnectorMeta
from afas_pipeline.afas.filters import any_of
from afas_pipeline.writeback.corrections import Correction, CorrectionLine
from afas_pipeline.writeback.payloads import FI_ENTRIES, header_fields, line_fields

logger = logging.getLogger("afas_pipeline.writeback")

MAX_ID_LENGTH = 32  # BpNr is string(32)
MAX_LINES = 1000  # AFAS advises at most 1,000 lines per entry
_FIELD_LIMITS = {"InId": 12, "Ds": 255, "AcNr": 16, "VaId": 3}
_KINDS = {"1": "GL account", "2": "debtor", "3": "creditor"}
_PARTY_CONNECTORS = {"2": ("DWH_Debiteuren", "DebtorId"), "3": ("DWH_Crediteuren", "CreditorId")}


class LoadedReference(Protocol):
    """What the pipeline already loaded from AFAS (`extract.reference.RawReference`)."""

    def snapshot(self, connector_id: str) -> pl.DataFrame | None:
        """A reference connector as last loaded, or None."""
        ...

    def newest_records(
        self, connector_id: str, key: str, ids: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """The newest loaded, not deleted, version of each of `ids`, by key as text."""
        ...


@dataclass
class ReferenceData:
    """What AFAS knows that a correction refers to; `source` says where each part came from."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    journals: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    periods: dict[tuple[int, int, int], dict[str, Any]] = field(default_factory=dict)
    vat_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    parties: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"2": {}, "3": {}}
    )
    mandatory_header: tuple[str, ...] = ("Year", "Peri", "JoCo")
    mandatory_line: tuple[str, ...] = ("VaAs", "AcNr", "EnDa", "BpDa")
    source: dict[str, str] = field(default_factory=dict)


def load_reference(
    loaded: LoadedReference, client: AfasClient | None, corrections: Iterable[Correction]
) -> ReferenceData:
    """Reference data for validating `corrections`: what was loaded first, AFAS reads for the
    rest."""
    ref = ReferenceData()
    tables = {
        "Profit_Accounts": ("Account",),
        "Profit_Journals": ("UnitId", "JournalId"),
        "Profit_periods_per_administration": ("Unit", "Year", "Period"),
        "Profit_VAT_code": ("VatCode",),
    }
    frames = {
        name: _reference_frame(loaded, client, name, key, ref) for name, key in tables.items()
    }
    ref.accounts = _by_key(frames["Profit_Accounts"], ("Account",))
    ref.journals = _by_key(frames["Profit_Journals"], ("UnitId", "JournalId"))
    ref.periods = _by_key(frames["Profit_periods_per_administration"], ("Unit", "Year", "Period"))
    ref.vat_codes = _by_key(frames["Profit_VAT_code"], ("VatCode",))
    wanted: dict[str, set[str]] = {"2": set(), "3": set()}
    for correction in corrections:
        for line in correction.lines:
            if line.account_kind in wanted:
                wanted[line.account_kind].add(line.account_code)
    for kind, ids in wanted.items():
        ref.parties[kind] = _parties(loaded, client, kind, ids, ref)
    if client is not None:
        _mandatory_fields(client, ref)
    return ref


def _reference_frame(
    loaded: LoadedReference,
    client: AfasClient | None,
    name: str,
    key: tuple[str, ...],
    ref: ReferenceData,
) -> pl.DataFrame | None:
    snapshot = loaded.snapshot(name)
    if snapshot is not None:
        ref.source[name] = "raw snapshot"
        return snapshot
    if client is None:
        ref.source[name] = "unavailable"
        return None
    ref.source[name] = "AFAS"
    pages = [page.frame for page in client.iter_pages(name, order_by=key)]
    return pl.concat(pages) if pages else None


def _by_key(frame: pl.DataFrame | None, key: tuple[str, ...]) -> dict[Any, dict[str, Any]]:
    if frame is None:
        return {}
    out: dict[Any, dict[str, Any]] = {}
    for row in frame.iter_rows(named=True):
        values = tuple(_norm(row[k]) for k in key)
        out[values[0] if len(values) == 1 else values] = row
    return out


def _norm(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _parties(
    loaded: LoadedReference,
    client: AfasClient | None,
    kind: str,
    ids: set[str],
    ref: ReferenceData,
) -> dict[str, dict[str, Any]]:
    """Debtors (kind 2) or creditors (kind 3) among `ids`: newest raw version, else AFAS."""
    if not ids:
        return {}
    connector, key = _PARTY_CONNECTORS[kind]
    found = loaded.newest_records(connector, key, ids)
    missing = sorted(ids - set(found))
    ref.source[connector] = "raw days" if found else "none"
    if missing and client is not None:
        # Created since the last load, or never loaded: ask AFAS, a few ids per request.
        for chunk in _chunks(missing, 20):
            condition = any_of(*(F(key) == party_id for party_id in chunk))
            for page in client.iter_pages(connector, filter=condition, order_by=(key,)):
                for row in page.frame.iter_rows(named=True):
                    found[str(row[key])] = row
        ref.source[connector] += " + AFAS"
    return found


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _mandatory_fields(client: AfasClient, ref: ReferenceData) -> None:
    """The fields FiEntries' metainfo marks mandatory (the documented ones if it says none)."""
    try:
        meta = client.describe_update_connector(FI_ENTRIES)
    except Exception as exc:  # metainfo is a help, not a requirement
        logger.warning("could not read FiEntries metainfo, using the documented fields: %s", exc)
        ref.source["FiEntries metainfo"] = "documented defaults"
        return
    header = _mandatory(meta)
    lines = meta.find("FiEntries")
    if header:
        ref.mandatory_header = tuple(sorted(set(ref.mandatory_header) | set(header)))
    if lines is not None:
        line_fields_ = _mandatory(lines)
        # EnNo is a key AFAS assigns; it must never be sent, whatever metainfo says.
        line_fields_ = [f for f in line_fields_ if f != "EnNo"]
        ref.mandatory_line = tuple(sorted(set(ref.mandatory_line) | set(line_fields_)))
    ref.source["FiEntries metainfo"] = "AFAS"


def _mandatory(meta: UpdateConnectorMeta) -> list[str]:
    return [f.field_id for f in meta.fields if f.mandatory]


# -- the checks -------------------------------------------------------------------------------


def validate(correction: Correction, payload: Mapping[str, Any], ref: ReferenceData) -> list[str]:
    """Everything AFAS would refuse in this correction, as messages; empty when it looks fine."""
    problems: list[str] = []
    problems += _check_identity(correction)
    problems += _check_header(correction, ref)
    problems += _check_lines(correction, ref)
    problems += _check_mandatory(payload, ref)
    return problems


def _check_identity(c: Correction) -> list[str]:
    problems = []
    if not c.correction_id.strip():
        problems.append("correction_id is empty")
    if len(c.correction_id) > MAX_ID_LENGTH:
        problems.append(
            f"correction_id is {len(c.correction_id)} characters; BpNr holds {MAX_ID_LENGTH}"
        )
    if c.inconsistent_fields:
        problems.append(
            "lines disagree on " + ", ".join(c.inconsistent_fields) + " (one entry per correction)"
        )
    if not c.lines:
        problems.append("no lines")
    if len(c.lines) > MAX_LINES:
        problems.append(f"{len(c.lines)} lines; AFAS takes at most {MAX_LINES} per entry")
    if c.total_debit != c.total_credit:
        problems.append(
            f"not balanced: debit {c.total_debit} != credit {c.total_credit} "
            "(AFAS: a financial entry must be balanced)"
        )
    return problems


def _check_header(c: Correction, ref: ReferenceData) -> list[str]:
    problems = []
    unit, journal_key = c.administration_id, (c.administration_id, c.journal_id)
    if not c.fiscal_year or not c.period:
        return [f"entry_date {c.entry_date} falls in no booking period of administration {unit}"]
    if ref.journals:
        journal = ref.journals.get(journal_key)
        if journal is None:
            problems.append(f"journal {c.journal_id} does not exist in administration {unit}")
        elif journal.get("Blocked"):
            problems.append(f"journal {c.journal_id} is blocked in administration {unit}")
    period = ref.periods.get((unit, c.fiscal_year, c.period)) if ref.periods else None
    if ref.periods and period is None:
        problems.append(
            f"period {c.period} of {c.fiscal_year} does not exist in administration {unit}"
        )
    elif period is not None:
        if period.get("Blocked"):
            problems.append(
                f"period {c.period} of {c.fiscal_year} is blocked in administration {unit}"
            )
        start, end = period.get("DateFrom"), period.get("DateTo")
        if isinstance(start, date) and isinstance(end, date) and not start <= c.entry_date <= end:
            problems.append(
                f"entry_date {c.entry_date} is outside period {c.period} of {c.fiscal_year} "
                f"({start} to {end})"
            )
    return problems + _check_date_period(c, ref)


def _check_date_period(c: Correction, ref: ReferenceData) -> list[str]:
    """AFAS also takes each line's period from its dates (EnDa, BpDa: the entry date here):
    a date in a blocked period is refused whatever the header says."""
    if not ref.periods:
        return []
    unit, day = c.administration_id, c.entry_date
    shown = f"{day.day}-{day.month}-{day.year}"
    for (period_unit, year, number), period in ref.periods.items():
        start, end = period.get("DateFrom"), period.get("DateTo")
        if period_unit != unit or not isinstance(start, date) or not isinstance(end, date):
            continue
        if start <= day <= end:
            if not period.get("Blocked"):
                return []
            return [
                f"Date '{shown}' belongs to a blocked period (period {number} of {year} "
                f"in administration {unit})"
            ]
    return [f"Date '{shown}' does not belong to a period of administration {unit}"]


def _check_lines(c: Correction, ref: ReferenceData) -> list[str]:
    problems = []
    for line in c.lines:
        where = f"line {line.line_no}"
        problems += [f"{where}: {p}" for p in _check_amounts(line.debit, line.credit)]
        problems += [
            f"{where}: {p}" for p in _check_account(line.account_kind, line.account_code, ref)
        ]
        if line.vat_code and ref.vat_codes:
            problems += [f"{where}: {p}" for p in _check_vat(line.vat_code, line, ref)]
        if line.invoice_id and len(line.invoice_id) > _FIELD_LIMITS["InId"]:
            problems.append(
                f"{where}: invoice_id is longer than {_FIELD_LIMITS['InId']} characters"
            )
        if line.description and len(line.description) > _FIELD_LIMITS["Ds"]:
            problems.append(f"{where}: description is longer than {_FIELD_LIMITS['Ds']} characters")
    return problems


def _check_vat(code: str, line: CorrectionLine, ref: ReferenceData) -> list[str]:
    vat = ref.vat_codes.get(code)
    if vat is None:
        return [f"VAT code {code} does not exist"]
    if vat.get("Blocked"):
        return [f"VAT code {code} is blocked"]
    account = ref.accounts.get(line.account_code) if line.account_kind == "1" else None
    # A VAT code's own account carries the code on its VAT line without "allowing VAT".
    vat_accounts = {str(v.get("AccountNr")) for v in ref.vat_codes.values()}
    if (
        account is not None
        and not account.get("VatAllowed")
        and line.account_code not in vat_accounts
    ):
        return [f"VAT is not allowed for account {line.account_code} (it takes no VAT code)"]
    return []


def _check_amounts(debit: Decimal, credit: Decimal) -> list[str]:
    problems = []
    if debit < 0 or credit < 0:
        problems.append("negative amount (put it on the other side)")
    if debit != 0 and credit != 0:
        problems.append("both debit and credit are filled")
    if debit == 0 and credit == 0:
        problems.append("no amount (AFAS: eErrFiEntryNoAmountOnEntryLine)")
    for amount in (debit, credit):
        if amount != amount.quantize(Decimal("0.01")):
            problems.append(f"amount {amount} has more than 2 decimals")
    return problems


def _check_account(kind: str, code: str, ref: ReferenceData) -> list[str]:
    if kind not in _KINDS:
        return [f"account_kind {kind!r} is not 1 (GL), 2 (debtor) or 3 (creditor)"]
    if not code:
        return ["account_code is empty"]
    if len(code) > _FIELD_LIMITS["AcNr"]:
        return [f"account_code {code} is longer than {_FIELD_LIMITS['AcNr']} characters"]
    if kind == "1":
        if not ref.accounts:
            return []
        account = ref.accounts.get(code)
        if account is None:
            return [f"GL account {code} does not exist"]
        if account.get("Blocked"):
            return [f"GL account {code} is blocked"]
        if account.get("CollectAccount"):
            return [
                f"GL account {code} is a collect account: book on the debtor or creditor "
                "(account_kind 2 or 3) instead"
            ]
        return []
    party = ref.parties.get(kind, {}).get(code)
    if party is None:
        return [f"{_KINDS[kind]} {code} does not exist"]
    return []


def _check_mandatory(payload: Mapping[str, Any], ref: ReferenceData) -> list[str]:
    problems = []
    header = header_fields(dict(payload))
    for name in ref.mandatory_header:
        if _blank(header.get(name)):
            problems.append(f"mandatory header field {name} is empty")
    for number, fields in enumerate(line_fields(dict(payload)), start=1):
        for name in ref.mandatory_line:
            if _blank(fields.get(name)):
                problems.append(f"line {number}: mandatory field {name} is empty")
    return problems


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
