"""A dry run refuses what AFAS refuses, for the same reason: each correction is sent to the
simulator (AFAS's rules) and checked by the write-back's own validation (the dry run)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from afas_pipeline.extract.reference import RawReference
from afas_pipeline.simulator.environment import FiEntryRejected
from afas_pipeline.writeback.corrections import group_corrections
from afas_pipeline.writeback.payloads import build_payload
from afas_pipeline.writeback.validation import load_reference, validate
from tests.writeback.conftest import WritebackEnv, correction_rows

# NOW is 2026-11-20: administration 2 has closed August 2026 (two months back and more), the
# holding (1) the whole of 2025.


def _dated_in_closed_month(cid: str) -> list[dict[str, Any]]:
    # The header's period (November) is open; the lines' date (August) is not.
    rows = correction_rows(cid, administration_id=2, day=date(2026, 8, 10))
    for row in rows:
        row["fiscal_year"], row["period"] = 2026, 11
    return rows


def _with_vat(cid: str, account: str, code: str) -> list[dict[str, Any]]:
    rows = correction_rows(cid, debit_account=("1", account), credit_account=("1", "1100"))
    rows[0]["vat_code"] = code
    return rows


CASES = [
    (
        _dated_in_closed_month("P-LINE"),
        "Date '10-8-2026' belongs to a blocked period",
        "Date '10-8-2026' belongs to a blocked period",
    ),
    (
        correction_rows("P-HEAD", administration_id=2, day=date(2026, 8, 10)),
        "period 8 of the year 2026 is blocked",
        "period 8 of 2026 is blocked",
    ),
    (
        correction_rows("P-OLD", administration_id=1, day=date(2025, 12, 31)),
        "period 12 of the year 2025 is blocked",
        "period 12 of 2025 is blocked",
    ),
    (
        _with_vat("V-NONE", "4600", "5"),
        "VAT is not allowed for account 4600",
        "VAT is not allowed for account 4600",
    ),
    (_with_vat("V-BLOCK", "4300", "4"), "VAT code 4 is blocked", "VAT code 4 is blocked"),
    (_with_vat("V-GONE", "4300", "99"), "ForeignkeyId=KnVat", "VAT code 99 does not exist"),
    (
        correction_rows("A-BLOCK", debit_account=("1", "4999")),
        "Account 4999 is blocked",
        "GL account 4999 is blocked",
    ),
    (
        correction_rows("A-COLL", credit_account=("1", "1300")),
        "collective account",
        "collect account",
    ),
    (
        correction_rows("D-GONE", credit_account=("2", "99999")),
        "'Debtor' does not exist",
        "debtor 99999 does not exist",
    ),
    (correction_rows("J-BLOCK", journal_id="90"), "Journal 90 is blocked", "journal 90 is blocked"),
    (
        correction_rows("UNBAL", credit_amount="99.99"),
        "must be balanced",
        "not balanced",
    ),
]


@pytest.mark.parametrize(
    ("rows", "afas_says", "dry_run_says"), CASES, ids=[c[0][0]["correction_id"] for c in CASES]
)
def test_the_dry_run_refuses_what_afas_refuses(
    wb: WritebackEnv, rows: list[dict[str, Any]], afas_says: str, dry_run_says: str
) -> None:
    (correction,) = group_corrections(rows)
    payload = build_payload(correction)
    with wb.client() as client:
        problems = validate(
            correction, payload, load_reference(RawReference(wb.data_dir), client, [correction])
        )
    with pytest.raises(FiEntryRejected) as refused:
        wb.simulator.environment.post_fi_entry(payload)
    assert afas_says in refused.value.message
    assert any(dry_run_says in p for p in problems), problems


@pytest.mark.parametrize(
    "rows",
    [
        correction_rows("OK-PLAIN"),
        _with_vat("OK-VAT", "4300", "5"),
        correction_rows("OK-OPEN", administration_id=2, day=date(2026, 9, 30)),
    ],
)
def test_what_the_dry_run_passes_afas_books(wb: WritebackEnv, rows: list[dict[str, Any]]) -> None:
    (correction,) = group_corrections(rows)
    payload = build_payload(correction)
    with wb.client() as client:
        assert (
            validate(
                correction, payload, load_reference(RawReference(wb.data_dir), client, [correction])
            )
            == []
        )
    assert wb.simulator.environment.post_fi_entry(payload)["EnNo"].isdigit()
