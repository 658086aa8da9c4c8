"""Reverse ETL: approved corrections posted back to AFAS through FiEntries, exactly once.

Plain Python, no Dagster: `corrections` reads the proposals, `payloads` builds FiEntries bodies,
`validation` checks them as AFAS would, `outbox` keeps the durable per-correction state,
`safety` keeps writes away from real AFAS without an opt-in, and `posting` runs it all.
"""

from __future__ import annotations

from afas_pipeline.writeback.corrections import (
    Correction,
    CorrectionLine,
    CorrectionsUnavailableError,
    read_corrections,
)
from afas_pipeline.writeback.outbox import OUTBOX_FILE, Outbox, copy_outbox_schema
from afas_pipeline.writeback.payloads import build_payload
from afas_pipeline.writeback.posting import (
    Outcome,
    WritebackOptions,
    WritebackReport,
    run_writeback,
)
from afas_pipeline.writeback.safety import (
    ALLOW_WRITES_VARIABLE,
    WritesNotAllowedError,
    guarded_http_client,
    target_is_simulator,
)

__all__ = [
    "ALLOW_WRITES_VARIABLE",
    "OUTBOX_FILE",
    "Correction",
    "CorrectionLine",
    "CorrectionsUnavailableError",
    "Outbox",
    "Outcome",
    "WritebackOptions",
    "WritebackReport",
    "WritesNotAllowedError",
    "build_payload",
    "copy_outbox_schema",
    "guarded_http_client",
    "read_corrections",
    "run_writeback",
    "target_is_simulator",
]
