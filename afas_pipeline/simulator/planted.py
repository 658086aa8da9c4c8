"""The planted problems: the ground truth the reconciliation marts are tested against.

The generator records what it planted (`PlantedLog`); `visible()` keeps what the current state
still shows, so a problem the product corrected through FiEntries, or the generator paid or
deleted meanwhile, is no longer part of the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from afas_pipeline.simulator.books import Books


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


@dataclass
class PlantedLog:
    """Every problem as it was planted, whatever happened to it since."""

    suspense: list[SuspenseReceipt] = field(default_factory=list)
    duplicates: list[DuplicateInvoice] = field(default_factory=list)
    vat: list[VatMismatch] = field(default_factory=list)
    rounding: list[RoundingDifference] = field(default_factory=list)


def cents_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def visible(books: Books, log: PlantedLog) -> PlantedProblems:
    """The planted problems that are still visible in the current state."""

    def open_balance(unit: int, debtor: str, invoice: str) -> int | None:
        return books.open_balance(unit, "D", debtor, invoice)

    def alive(unit: int, entry_no: int) -> bool:
        return books.entry_lines(unit, entry_no) is not None

    return PlantedProblems(
        suspense_receipts=_keep(
            log.suspense,
            lambda p: (
                alive(p.unit_id, p.entry_no)
                and open_balance(p.unit_id, p.debtor_id, p.invoice_id) == int(p.amount * 100)
            ),
        ),
        duplicate_invoices=_keep(
            log.duplicates,
            lambda p: (
                alive(p.unit_id, p.original_entry_no) and alive(p.unit_id, p.duplicate_entry_no)
            ),
        ),
        vat_mismatches=_keep(log.vat, lambda p: alive(p.unit_id, p.entry_no)),
        rounding_differences=_keep(
            log.rounding,
            lambda p: (
                alive(p.unit_id, p.entry_no)
                and open_balance(p.unit_id, p.debtor_id, p.invoice_id) == int(p.difference * 100)
            ),
        ),
    )


def _keep(items: list, predicate: Callable) -> tuple:
    return tuple(p for p in items if predicate(p))
