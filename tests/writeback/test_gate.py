"""The write-back's own gate: nothing is posted for an administration whose published warehouse
does not equal AFAS, whatever is approved; the other administrations' corrections go ahead."""

from __future__ import annotations

from afas_pipeline.extract.reference import RawReference
from afas_pipeline.writeback import WritebackOptions, run_writeback
from afas_pipeline.writeback.outbox import POSTED, Outbox
from tests.writeback.conftest import (
    WritebackEnv,
    correction_rows,
    fast_retry,
    ledger_entries,
    posts,
    write_corrections,
    write_gl_difference,
)


def _send(wb: WritebackEnv, approve: tuple[str, ...]) -> object:
    options = WritebackOptions(
        dry_run=False, approve=approve, approved_by="tester", settle_seconds=0.2
    )
    with wb.client(retry=fast_retry()) as client:
        return run_writeback(
            client, wb.data_dir, options, loaded=RawReference(wb.data_dir), run_id="gate"
        )


def test_an_administration_that_differs_from_afas_gets_nothing_posted(wb: WritebackEnv) -> None:
    write_corrections(
        wb.data_dir,
        correction_rows("GATE-1", administration_id=1)
        + correction_rows("GATE-2", administration_id=2),
    )
    write_gl_difference(wb.data_dir, 2, "10.00")

    report = _send(wb, ("GATE-1", "GATE-2"))

    outcomes = {o.correction_id: o for o in report.outcomes}  # type: ignore[attr-defined]
    assert outcomes["GATE-1"].outcome == "posted"
    assert outcomes["GATE-2"].outcome == "held"
    assert outcomes["GATE-2"].detail.startswith(
        "held: administration 2's warehouse does not equal AFAS (1 account-periods differ from "
        "AFAS's balances by 10.00 in total; see rec_gl_vs_afas)"
    )
    assert posts(wb.simulator) == 1
    assert ledger_entries(wb.simulator, "GATE-2") == []
    states = {r["correction_id"]: r["state"] for r in Outbox(wb.data_dir).table()}
    assert states["GATE-1"] == POSTED
    assert states["GATE-2"] != POSTED  # still approved, waiting for the books to agree
