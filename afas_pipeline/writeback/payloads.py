"""FiEntries payloads: one journal entry per correction, the correction id in `BpNr`.

The body is built from plain JSON values only (amounts as strings with two decimals, as in AFAS's
own examples), so the text stored in the outbox is byte for byte the text that is sent.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from afas_pipeline.writeback.corrections import Correction, CorrectionLine

FI_ENTRIES = "FiEntries"
CENT = Decimal("0.01")


def build_payload(correction: Correction) -> dict[str, Any]:
    """The FiEntries POST body for a correction (afas-connectors.md, "Write-back")."""
    header = {
        "Year": correction.fiscal_year,
        "Peri": correction.period,
        "UnId": correction.administration_id,
        "JoCo": correction.journal_id,
    }
    lines = [_line_fields(correction, line) for line in correction.lines]
    return {
        "FiEntryPar": {
            "Element": {
                "Fields": header,
                "Objects": [{"FiEntries": {"Element": [{"Fields": f} for f in lines]}}],
            }
        }
    }


def _line_fields(correction: Correction, line: CorrectionLine) -> dict[str, Any]:
    day = correction.entry_date.isoformat()
    fields: dict[str, Any] = {
        "VaAs": line.account_kind,
        "AcNr": line.account_code,
        "EnDa": day,
        "BpDa": day,
        # The correction id as voucher number: how a crashed run finds the entry in AFAS again.
        "BpNr": correction.correction_id,
        "Ds": line.description or correction.reason or correction.correction_id,
        "AmDe": money(line.debit),
        "AmCr": money(line.credit),
    }
    if line.vat_code:
        fields["VaId"] = line.vat_code
    if line.invoice_id:
        fields["InId"] = line.invoice_id
    return fields


def money(value: Decimal) -> str:
    """An amount as AFAS reads it: a string with exactly two decimals."""
    return format(value.quantize(CENT), "f")


def payload_text(payload: dict[str, Any]) -> str:
    """The request body exactly as the client serialises it (`json.dumps`, UTF-8)."""
    return json.dumps(payload, ensure_ascii=False)


def line_fields(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The `Fields` of every line of a payload built by `build_payload`."""
    objects = payload["FiEntryPar"]["Element"]["Objects"]
    return [element["Fields"] for obj in objects for element in obj["FiEntries"]["Element"]]


def header_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The header `Fields` of a payload built by `build_payload`."""
    return dict(payload["FiEntryPar"]["Element"]["Fields"])
