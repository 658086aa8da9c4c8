"""Closing the loop: the pipeline proposes corrections, the write-back assets post them to AFAS,
the next extraction brings the entries back, and their findings are resolved, never proposed
again, and nothing new is flagged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest

from afas_pipeline.defs.resources import AfasResource, StorageResource
from afas_pipeline.defs.writeback import writeback_assets, writeback_checks
from tests.conftest import HISTORY_START, NOW, Pipeline, Simulator, pipeline_env
from tests.dbt.support import marts_connection, records, rows
from tests.writeback.conftest import ledger_entries

FINDINGS = ("rec_suspense_items", "rec_vat_mismatches", "rec_rounding_differences")
POST = "writeback__fientries_posted"


@pytest.fixture
def small_pipeline(
    start_simulator: Callable[..., Simulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    """As conftest's `pipeline`, on a smaller ledger (it still has every kind of problem)."""
    simulator = start_simulator(journal_lines=1_500)
    data_dir = tmp_path / "data"
    for name, value in pipeline_env(simulator, data_dir).items():
        monkeypatch.setenv(name, value)
    # Disposed explicitly: an ephemeral instance left to the garbage collector cleans up its
    # temporary directory with a ResourceWarning, which the test settings turn into an error.
    with dg.DagsterInstance.ephemeral() as instance:
        yield Pipeline(simulator, data_dir, instance)


def test_posted_corrections_resolve_their_findings(small_pipeline: Pipeline) -> None:
    pipeline = small_pipeline
    environment = pipeline.simulator.environment
    pipeline.run_ok(HISTORY_START, NOW.date())
    with marts_connection(pipeline.data_dir) as con:
        proposed = records(con, "select * from corrections_proposed")
        duplicates = set(rows(con, "select * from rec_duplicate_invoices"))
        before = {t: dict(rows(con, f"select source_ref, status from {t}")) for t in FINDINGS}
    assert {r["correction_type"] for r in proposed} == {
        "suspense_clearing",
        "vat_correction",
        "rounding_write_off",
    }
    planted = environment.planted
    assert planted.suspense_receipts
    assert planted.rounding_differences

    # Every proposal approved and sent through the write-back assets: one FiEntries entry
    # each in AFAS, its voucher number the correction id.
    posted = _post_through_the_writeback(pipeline, sorted({r["correction_id"] for r in proposed}))
    # AFAS's own view: the receipts matched to one invoice and the rounding differences are
    # settled now; receipts nobody can place stay on suspense.
    unplaced = tuple(p for p in planted.suspense_receipts if p.invoice_id is None)
    assert unplaced
    assert environment.planted.suspense_receipts == unplaced
    assert environment.planted.rounding_differences == ()

    # The posts are stamped with the simulator's (frozen) now: today's partition brings them in.
    pipeline.run_ok(NOW.date(), NOW.date())

    with marts_connection(pipeline.data_dir) as con:
        assert rows(con, "select count(*) from corrections_proposed") == [(0,)]
        resolved = {}
        for table in FINDINGS:
            findings = rows(
                con, f"select source_ref, correction_id, correction_entry_no, status from {table}"
            )
            assert len(findings) == len(before[table]), table
            for ref, cid, entry_no, status in findings:
                # Posted ones are resolved; the rest (what no journal entry may fix, what was
                # cleared in AFAS already) is as it was.
                assert status == ("resolved" if cid in posted else before[table][ref]), ref
                if status == "resolved":
                    resolved[cid] = entry_no
        assert resolved == posted
        # The cleared and written-off items are settled in the warehouse as in AFAS.
        for p in planted.suspense_receipts:
            if p.invoice_id is None:
                continue
            assert rows(
                con,
                "select count(*) from fct_ar_open_items where administration_id = ? "
                "and debtor_id = ? and invoice_id = ?",
                p.unit_id,
                p.debtor_id,
                p.invoice_id,
            ) == [(0,)]
        for p in planted.rounding_differences:
            assert rows(
                con,
                "select count(*) from fct_ar_open_items where administration_id = ? "
                "and debtor_id = ? and invoice_id = ?",
                p.unit_id,
                p.debtor_id,
                p.invoice_id,
            ) == [(0,)]
        # Nothing new is flagged, and what was not corrected is still there.
        assert set(rows(con, "select * from rec_duplicate_invoices")) == duplicates
        assert rows(con, "select count(*) from rec_unbalanced_entries") == [(0,)]
        for table in ("rec_gl_vs_afas", "rec_open_items_vs_afas", "rec_subledger_vs_control"):
            assert rows(con, f"select distinct status from {table}") == [("ok",)], table
        # The corrections are in the ledger as memorial entries, flagged as such.
        assert rows(
            con,
            "select count(distinct voucher_no), bool_and(journal_id = '80') from fct_gl_entries "
            "where is_correction_posting",
        ) == [(len(posted), True)]


def _post_through_the_writeback(pipeline: Pipeline, ids: list[str]) -> dict[str, int]:
    """Approve and send `ids` as the Launchpad would; their AFAS entry numbers, by id."""
    result = dg.materialize(
        [*writeback_assets, *writeback_checks],
        resources={
            "afas": AfasResource(),  # the fixture's AFAS_* settings
            "storage": StorageResource(data_dir=str(pipeline.data_dir)),
        },
        run_config={
            "ops": {POST: {"config": {"approve": ids, "approved_by": "loop", "dry_run": False}}}
        },
        instance=pipeline.instance,
    )
    (event,) = result.asset_materializations_for_node(POST)
    assert event.metadata["posted"].value == len(ids), event.metadata["outcomes"].value
    entries = {cid: ledger_entries(pipeline.simulator, cid) for cid in ids}
    assert all(len(numbers) == 1 for numbers in entries.values()), entries
    return {cid: numbers[0] for cid, numbers in entries.items()}
