"""The FiEntries UpdateConnector: parse and validate a journal entry as AFAS does.

Texts follow the messages AFAS is documented to give (`afas-api.md` §5.4); where no text is
documented, the message is written in the same style. Every rejection carries AFAS's validation
error number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from afas_pipeline.simulator import chart as c

VALIDATION_ERROR = -2147220469
MAX_LINES = 1000

# Dutch labels AFAS names in "mandatory field" messages.
_HEADER_REQUIRED = (("Year", "Boekjaar"), ("Peri", "Periode"), ("JoCo", "Dagboek"))
_LINE_REQUIRED = (
    ("VaAs", "Kenmerk rekening"),
    ("AcNr", "Rekeningnummer"),
    ("EnDa", "Datum boeking"),
    ("BpDa", "Boekstukdatum"),
)


class FiEntryRejected(Exception):
    """AFAS refused the entry; `message` is the externalMessage of the HTTP 500 body."""

    def __init__(self, message: str, error_number: int = VALIDATION_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.error_number = error_number


class BookingContext(Protocol):
    """What validation needs to know about the environment at the moment of posting."""

    def has_unit(self, unit_id: int) -> bool: ...
    # "ok", "blocked", "missing", or "year_end": a period 0 that the year end computes.
    def period_state(self, unit_id: int, year: int, period: int) -> str: ...
    def period_of(self, unit_id: int, day: date) -> tuple[int, int] | None: ...
    def collect_account(self, side: str, party_id: str) -> str | None: ...


@dataclass(frozen=True)
class PostedLine:
    account: str
    debtor: str | None
    creditor: str | None
    entry_date: date
    voucher_date: date
    voucher_no: str | None
    invoice: str | None
    debit: int  # cents
    credit: int
    vat_code: str | None
    vat_amt: int | None
    description: str | None
    due_date: date | None


@dataclass(frozen=True)
class PreparedEntry:
    unit_id: int
    journal_id: str
    year: int
    period: int
    lines: tuple[PostedLine, ...]
    # AuNu on a sales journal: debtor lines without InId get the next invoice number.
    auto_number: bool = False


def reject(message: str) -> FiEntryRejected:
    return FiEntryRejected(message, VALIDATION_ERROR)


def prepare(payload: Any, ctx: BookingContext) -> PreparedEntry:
    """Validate a FiEntries POST body; returns the entry to book or raises FiEntryRejected."""
    element = _one(_get(_get(payload, "FiEntryPar"), "Element"))
    header = _fields(element)
    for field, label in _HEADER_REQUIRED:
        if _blank(header.get(field)):
            raise _missing(field, label)
    year, period = _int(header["Year"]), _int(header["Peri"])
    unit = _int(header["UnId"]) if not _blank(header.get("UnId")) else 1
    journal = _text(header["JoCo"])
    if not ctx.has_unit(unit):
        raise reject("No unit available")
    _check_journal(journal, unit)
    _check_period(ctx, unit, year, period)
    raw_lines = _line_elements(element)
    if not raw_lines:
        raise reject("A financial entry must contain at least one entry line.")
    if len(raw_lines) > MAX_LINES:
        raise reject(f"A financial entry can contain at most {MAX_LINES:,} lines.")
    lines = tuple(_line(_fields(el), unit, ctx) for el in raw_lines)
    if period == 0:
        _check_opening_balance(journal, lines)
    _check_balanced(lines)
    auto_number = _bool(header.get("AuNu")) and c.JOURNALS_BY_ID[journal].type == "V"
    return PreparedEntry(unit, journal, year, period, lines, auto_number)


# ---- envelope ----


def _get(obj: Any, key: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise reject(f"Invalid request: '{key}' is missing.")
    return obj[key]


def _one(element: Any) -> dict:
    if isinstance(element, list) and len(element) == 1:
        element = element[0]
    if not isinstance(element, dict):
        raise reject("Invalid request: 'FiEntryPar.Element' must be one object.")
    return element


def _fields(element: Any) -> dict:
    fields = element.get("Fields", {}) if isinstance(element, dict) else None
    # One AFAS example wraps Fields in a one-element array; accept that too.
    if isinstance(fields, list) and len(fields) == 1:
        fields = fields[0]
    if not isinstance(fields, dict):
        raise reject("Invalid request: 'Fields' must be an object.")
    return fields


def _line_elements(element: dict) -> list:
    objects = element.get("Objects", [])
    # Objects comes both as a list of single-key objects and as a plain object.
    objects = objects if isinstance(objects, list) else [objects]
    out: list = []
    for obj in objects:
        if isinstance(obj, dict) and "FiEntries" in obj:
            sub = _get(obj["FiEntries"], "Element")
            out.extend(sub if isinstance(sub, list) else [sub])
    return out


# ---- values ----


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _missing(field: str, label: str) -> FiEntryRejected:
    return reject(f"(AntaObject) There is no value entered in mandatory field '{label}' ({field}).")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise reject("Type mismatch")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise reject("Type mismatch") from None


def _bool(value: Any) -> bool:
    """A boolean field as AFAS's examples write them: true, 1, "1", "true"."""
    if _blank(value):
        return False
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("1", "true"):
        return True
    if text in ("0", "false"):
        return False
    raise reject("Type mismatch")


def _text(value: Any) -> str:
    if isinstance(value, bool | dict | list):
        raise reject("Type mismatch")
    return str(value).strip()


def _opt_text(fields: dict, key: str, max_len: int) -> str | None:
    value = fields.get(key)
    if _blank(value):
        return None
    text = _text(value)
    if len(text) > max_len:
        raise reject(f"The value for field '{key}' is longer than {max_len} characters.")
    return text


def _date(value: Any) -> date:
    text = _text(value)
    # Dates are YYYY-MM-DD; a midnight datetime is accepted as AFAS does for date fields.
    if len(text) > 10 and text[10] == "T" and text[11:19] in ("00:00:00", ""):
        text = text[:10]
    try:
        return date.fromisoformat(text) if len(text) == 10 else _bad()
    except ValueError:
        raise reject("Type mismatch") from None


def _bad() -> date:
    raise ValueError


def cents(value: Any) -> int:
    """An amount as exact integer cents; floats go through their shortest repr, never binary."""
    if _blank(value):
        return 0
    if isinstance(value, bool):
        raise reject("Type mismatch")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise reject("Type mismatch") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise reject("Type mismatch")
    if abs(amount) >= Decimal(10) ** 16:
        raise reject("Type mismatch")
    return int(amount * 100)


# ---- checks ----


def _check_journal(journal: str, unit: int) -> None:
    spec = c.JOURNALS_BY_ID.get(journal)
    if spec is None:
        raise reject("The entered value for 'Journal' (JoCo) does not exist.")
    if spec.blocked:
        raise reject(f"Journal {journal} is blocked in administration {unit}.")


def _check_period(ctx: BookingContext, unit: int, year: int, period: int) -> None:
    state = ctx.period_state(unit, year, period)
    if state == "missing":
        raise reject(f"For this administration, period {period} of the year {year} does not exist.")
    if state == "blocked":
        raise reject(f"For this administration, period {period} of the year {year} is blocked.")
    if state == "year_end":
        raise reject(
            f"For this administration, period 0 of the year {year} holds the opening balance "
            f"that the year end computes; book in the year {year - 1} instead."
        )


def _check_opening_balance(journal: str, lines: tuple[PostedLine, ...]) -> None:
    """Period 0 of the first year is the opening balance (beginbalans): only its journal
    books there, and only on balance-sheet accounts."""
    if journal != c.OPENING_BOOK:
        name = c.JOURNALS_BY_ID[c.OPENING_BOOK].description
        raise reject(
            f"Period 0 (beginbalans) can only be booked in journal {c.OPENING_BOOK} ({name})."
        )
    for ln in lines:
        if c.ACCOUNTS_BY_NUMBER[ln.account].type != "B":
            raise reject(
                f"Account {ln.account} is a profit and loss account; the opening balance "
                "(period 0) holds balance-sheet accounts only."
            )


def _line(fields: dict, unit: int, ctx: BookingContext) -> PostedLine:
    if not _blank(fields.get("EnNo")):
        raise reject("When adding a journal entry, the journal entry number may not be specified.")
    for field, label in _LINE_REQUIRED:
        if _blank(fields.get(field)):
            raise _missing(field, label)
    kind, number = _text(fields["VaAs"]), _text(fields["AcNr"])
    account, debtor, creditor = _account(kind, number, ctx)
    net = cents(fields.get("AmDe")) - cents(fields.get("AmCr"))
    if net == 0:
        raise reject(
            "An entry line must have a debit or credit amount (eErrFiEntryNoAmountOnEntryLine)."
        )
    vat_code = _opt_text(fields, "VaId", 3)
    vat_amt = _vat_amount(vat_code, kind, account, net)
    entry_date, voucher_date = _date(fields["EnDa"]), _date(fields["BpDa"])
    for day in (entry_date, voucher_date):
        _check_date_period(ctx, unit, day)
    due = fields.get("DaEx")
    return PostedLine(
        account=account,
        debtor=debtor,
        creditor=creditor,
        entry_date=entry_date,
        voucher_date=voucher_date,
        voucher_no=_opt_text(fields, "BpNr", 32),
        invoice=_opt_text(fields, "InId", 12),
        debit=max(net, 0),
        credit=max(-net, 0),
        vat_code=vat_code,
        vat_amt=vat_amt,
        description=_opt_text(fields, "Ds", 255),
        due_date=None if _blank(due) else _date(due),
    )


def _account(kind: str, number: str, ctx: BookingContext) -> tuple[str, str | None, str | None]:
    if kind == "1":
        acc = c.ACCOUNTS_BY_NUMBER.get(number)
        if acc is None:
            raise reject("The entered value for 'Account Number' does not exist.")
        if acc.blocked:
            raise reject(f"Account {number} is blocked.")
        if acc.collect:
            raise reject(
                f"Account {number} is a collective account; book on a debtor or creditor instead."
            )
        return number, None, None
    if kind in ("2", "3"):
        side = "D" if kind == "2" else "C"
        collect = ctx.collect_account(side, number)
        if collect is None:
            label = "Debtor" if kind == "2" else "Creditor"
            raise reject(f"The entered value for '{label}' does not exist.")
        return (collect, number, None) if kind == "2" else (collect, None, number)
    raise reject("The entered value for 'Kenmerk rekening' (VaAs) is not valid.")


def _check_date_period(ctx: BookingContext, unit: int, day: date) -> None:
    """Profit takes a line's period from its dates too: a date in a blocked period is refused
    even under an open header (afas-api.md §5.4, BpDa; §4 error texts)."""
    found = ctx.period_of(unit, day)
    shown = f"{day.day}-{day.month}-{day.year}"
    if found is None:
        raise reject(f"Date '{shown}' does not belong to a period of this administration.")
    if ctx.period_state(unit, *found) == "blocked":
        raise reject(f"Date '{shown}' belongs to a blocked period.")


def _vat_amount(vat_code: str | None, kind: str, account: str, net: int) -> int | None:
    """VatAmt of a revenue/cost line: net * rate, positive on the code's own side.

    VAT lines themselves (on the code's VAT account) carry no VatAmt, as in the generated data.
    A GL account that does not allow VAT refuses a VAT code.
    """
    if vat_code is None:
        return None
    vc = c.VAT_BY_CODE.get(vat_code)
    if vc is None:
        raise reject(
            "(AntaObject) The foreignkey does not exist in the database. "
            "FieldId=Btw-code, ForeignkeyId=KnVat"
        )
    if vc.blocked:
        raise reject(f"VAT code {vat_code} is blocked.")
    if account in c.VAT_ACCOUNTS:
        return None
    if kind == "1" and not c.ACCOUNTS_BY_NUMBER[account].vat_allowed:
        raise reject(f"(AFASFiEntry) VAT is not allowed for account {account}.")
    own_side = -net if vc.type == "V" else net
    return c.vat_amount(own_side, vc.rate_bp)


def _check_balanced(lines: tuple[PostedLine, ...]) -> None:
    debit = sum(ln.debit for ln in lines)
    credit = sum(ln.credit for ln in lines)
    if debit != credit:
        raise reject(
            "A financial entry must be balanced. This means debit and credit totals are equal. "
            f"Debit: {Decimal(debit).scaleb(-2)}, credit: {Decimal(credit).scaleb(-2)}."
        )
