"""Every finding in the published marts against the simulator's ground truth of planted
problems: what was missed, what was flagged that is not a problem, and what was proposed for
correction that should not be. A perfect score is zero everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from afas_pipeline.simulator.environment import PlantedProblems
from tests.dbt.support import rows


@dataclass
class Scorecard:
    """Per kind of finding: the truth's records the marts lack, and the marts' extra rows."""

    misses: dict[str, set[tuple]] = field(default_factory=dict)
    false_alarms: dict[str, set[tuple]] = field(default_factory=dict)

    def compare(self, kind: str, truth: set[tuple], found: set[tuple]) -> None:
        self.misses[kind] = truth - found
        self.false_alarms[kind] = found - truth

    @property
    def counts(self) -> dict[str, tuple[int, int]]:
        """(misses, false alarms) per kind."""
        return {k: (len(self.misses[k]), len(self.false_alarms[k])) for k in self.misses}

    @property
    def perfect(self) -> bool:
        return not any(self.misses.values()) and not any(self.false_alarms.values())


def score(
    marts: duckdb.DuckDBPyConnection, planted: PlantedProblems, simulator_today: date
) -> Scorecard:
    """`simulator_today`: the simulator's clock, up to whose month the truth lists period ends
    (the build's today, from the machine's clock, may be later)."""
    card = Scorecard()
    card.compare(
        "suspense_items",
        {
            (p.unit_id, p.entry_no, p.seq_no, p.amount, p.debtor_id, p.invoice_id)
            for p in planted.suspense_receipts
        },
        set(
            rows(
                marts,
                "select administration_id, entry_no, seq_no, parked_amount, matched_debtor_id, "
                "matched_invoice_id from rec_suspense_items where status = 'open'",
            )
        ),
    )
    card.compare(
        "duplicate_invoices",
        {
            (
                p.unit_id,
                p.creditor_id,
                p.original_entry_no,
                p.original_invoice_id,
                p.duplicate_entry_no,
                p.duplicate_invoice_id,
                p.amount,
                p.kind,
            )
            for p in planted.duplicate_invoices
        },
        set(
            rows(
                marts,
                "select administration_id, creditor_id, original_entry_no, original_invoice_id, "
                "duplicate_entry_no, duplicate_invoice_id, duplicate_amount, matched_on "
                "from rec_duplicate_invoices",
            )
        ),
    )
    card.compare(
        "vat_mismatches",
        {
            (
                p.unit_id,
                p.entry_no,
                p.journal_id,
                p.vat_code,
                p.vat_type,
                p.net,
                p.expected_vat,
                p.booked_vat,
            )
            for p in planted.vat_mismatches
        },
        set(
            rows(
                marts,
                "select administration_id, entry_no, journal_id, vat_code, vat_type, net_amount, "
                "expected_vat, booked_vat from rec_vat_mismatches where status = 'open'",
            )
        ),
    )
    card.compare(
        "rounding_differences",
        {
            (p.unit_id, "debtor", p.debtor_id, p.invoice_id, p.invoice_amount, p.difference)
            for p in planted.rounding_differences
        },
        set(
            rows(
                marts,
                "select administration_id, party_type, party_id, invoice_id, invoice_amount, "
                "difference from rec_rounding_differences where status = 'open'",
            )
        ),
    )
    card.compare(
        "intercompany_differences",
        {
            (
                p.unit_id,
                p.counterparty_unit_id,
                p.year,
                p.period,
                p.balance,
                p.counterparty_balance,
                p.difference,
            )
            for p in planted.intercompany_differences
        },
        # Period 0 of a later year repeats the period 12 before it; the truth lists 1-12.
        set(
            rows(
                marts,
                "select administration_id, counterparty_administration_id, fiscal_year, period, "
                "balance, counterparty_balance, difference from rec_intercompany "
                "where status <> 'ok' and period > 0 and fiscal_year * 100 + period <= ?",
                simulator_today.year * 100 + simulator_today.month,
            )
        ),
    )
    # Nothing is planted in these: every row that is not 'ok' is a false alarm.
    for kind, query in (
        ("gl_vs_afas", "select * from rec_gl_vs_afas where status <> 'ok'"),
        ("open_items_vs_afas", "select * from rec_open_items_vs_afas where status <> 'ok'"),
        ("subledger_vs_control", "select * from rec_subledger_vs_control where status <> 'ok'"),
        ("unbalanced_entries", "select * from rec_unbalanced_entries"),
    ):
        card.compare(kind, set(), set(rows(marts, query)))
    card.compare(
        "corrections",
        {
            ("suspense_clearing", f"{p.unit_id}/{p.entry_no}/{p.seq_no}")
            for p in planted.suspense_receipts
            if p.invoice_id is not None
        }
        | {
            ("vat_correction", f"{p.unit_id}/{p.entry_no}/{p.vat_code}")
            for p in planted.vat_mismatches
            if p.vat_type == "I"
        }
        | {
            ("rounding_write_off", f"{p.unit_id}/{p.debtor_id}/{p.invoice_id}")
            for p in planted.rounding_differences
        },
        set(rows(marts, "select distinct correction_type, source_ref from corrections_proposed")),
    )
    return card
