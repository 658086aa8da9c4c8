"""A backfill on a bad day at AFAS (500s, 503s with Retry-After, dropped connections, slow pages,
a blocked booking layout) ends with exactly the data of a good day, while an analyst queries the
marts throughout; and the token shows up nowhere: output, event log, run config, files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from dagster._serdes import serialize_value

from afas_pipeline.afas import AfasClient, AfasSettings
from afas_pipeline.dbt_build import DBT_PROJECT_DIR
from afas_pipeline.extract.reference import RawReference
from afas_pipeline.runner import failures
from afas_pipeline.writeback import WritebackOptions, run_writeback
from tests.conftest import HISTORY_START, LOADED_SIMULATOR, NOW, Pipeline, Simulator
from tests.reliability.conftest import (
    Analyst,
    assert_same_state,
    files_leaking,
    injected_faults,
    leaks_in,
    record_count,
    request_counts,
    set_faults,
)
from tests.writeback.conftest import ledger_entries

# Small rates and Retry-After: the Dagster client's default retry budget (300 s) must hold.
READ_FAULTS = {
    "error_500_rate": 0.1,
    "error_503_rate": 0.08,
    "retry_after_seconds": 1,
    "drop_rate": 0.05,
    "slow_page_rate": 0.05,
    "slow_page_ms": 300,
    "latency_ms": 2,
    "seed": 2026,
}
WRITE_FAULTS = {
    "error_503_rate": 0.2,
    "booking_layout_locked_rate": 0.3,
    "drop_rate": 0.1,
    "retry_after_seconds": 1,
    "methods": ["POST"],
    "seed": 7,
}
POSTED = 4  # corrections approved and posted under faults


def test_a_backfill_under_faults_ends_like_one_without(
    start_simulator: Callable[..., Simulator],
    loaded_pipeline: Pipeline,
    tmp_path: Path,
    pipeline_on: Callable[[Simulator, Path], Pipeline],
    analyst_on: Callable[[Path], Analyst],
    capfd: pytest.CaptureFixture[str],
) -> None:
    simulator = start_simulator(**LOADED_SIMULATOR)
    pipeline = pipeline_on(simulator, tmp_path / "data")
    # The analyst starts on an earlier build and holds it open during the whole backfill.
    pipeline.data_dir.mkdir(parents=True)
    shutil.copy(loaded_pipeline.data_dir / "marts.duckdb", pipeline.data_dir / "marts.duckdb")
    analyst = analyst_on(pipeline.data_dir / "marts.duckdb")
    set_faults(simulator, **READ_FAULTS)

    result = pipeline.run(HISTORY_START, NOW.date())

    counts = request_counts(simulator)
    assert result.success, failures(result)
    assert injected_faults(counts) >= 10, counts  # the faults really happened
    # The backfill only reads; writes are the write-back's alone (opt-in for a real AFAS URL:
    # tests/writeback/test_posting.py::test_without_the_opt_in_nothing_is_written_to_a_real_...).
    assert {kind.split()[0] for kind in counts["by_kind"]} == {"GET"}
    assert_same_state(pipeline.data_dir, loaded_pipeline.data_dir)
    analyst.stop()
    assert analyst.reads > 0
    assert analyst.problems == []

    posted_faults, runs = _post_corrections_under_faults(simulator, pipeline.data_dir)
    _assert_no_secret_anywhere(pipeline, capfd)
    with capfd.disabled():  # the figures of the README's reliability section
        records = record_count(pipeline.data_dir)
        print(
            f"\nfaults injected: backfill {injected_faults(counts)} of {counts['total']} requests,"
            f" write-back {posted_faults} in {runs} runs; records {records}, lost 0,"
            f" duplicated 0; analyst reads {analyst.reads}"
        )


def _post_corrections_under_faults(simulator: Simulator, data_dir: Path) -> tuple[int, int]:
    """Approve and post the pipeline's own corrections through 503s, locks and drops: each lands
    in the ledger exactly once, as it would without faults."""
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as con:
        ids = [
            r[0]
            for r in con.execute(
                "select distinct correction_id from corrections_proposed order by 1 limit ?",
                [POSTED],
            ).fetchall()
        ]
    assert len(ids) == POSTED
    before = request_counts(simulator)
    set_faults(simulator, **WRITE_FAULTS)
    settings = AfasSettings.create(token=simulator.token, base_url=simulator.base_url)
    options = WritebackOptions(approve=tuple(ids), approved_by="reliability", dry_run=False)
    with AfasClient(settings) as client:
        # A correction left `sent` by a drop or a 503 (which may come after AFAS booked it) is
        # looked up by a later run, never posted again blindly; a 503 stops a run's batch.
        for attempt in range(20):
            report = run_writeback(
                client, data_dir, options, loaded=RawReference(data_dir), run_id=f"post-{attempt}"
            )
            if report.state_counts.get("posted") == POSTED:
                break
    set_faults(simulator)
    assert report.state_counts.get("posted") == POSTED, report.state_counts
    assert {cid: len(ledger_entries(simulator, cid)) for cid in ids} == dict.fromkeys(ids, 1)
    return injected_faults(request_counts(simulator)) - injected_faults(before), attempt + 1


def _assert_no_secret_anywhere(pipeline: Pipeline, capfd: pytest.CaptureFixture[str]) -> None:
    token = pipeline.simulator.token
    out, err = capfd.readouterr()
    assert leaks_in(out.encode() + err.encode(), token) == []
    instance = pipeline.instance
    for run in instance.get_runs():
        assert leaks_in(serialize_value(run).encode(), token) == [], "run config or tags"
        for record in instance.all_logs(run.run_id):
            assert leaks_in(serialize_value(record).encode(), token) == [], record.message
    assert files_leaking(pipeline.data_dir, token) == {}
    for run in instance.get_runs():  # dbt's own logs and artifacts of these runs
        for target in (DBT_PROJECT_DIR / "target").glob(f"*-{run.run_id[:7]}-*"):
            assert files_leaking(target, token) == {}, target
