"""`afas-pipeline writeback` and `afas-pipeline corrections`: what an approver types. The
write-back command is `python -m afas_pipeline.writeback` (same output), with exit code 1
when a correction is rejected."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from afas_pipeline.cli import main
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.writeback.__main__ import main as module_main
from tests.conftest import pipeline_env
from tests.writeback.conftest import (
    WritebackEnv,
    correction_rows,
    ledger_entries,
    posts,
    write_corrections,
)


@pytest.fixture
def approver(wb: WritebackEnv, monkeypatch: pytest.MonkeyPatch) -> WritebackEnv:
    """The AFAS_* settings of a shell pointed at the simulator and the data directory."""
    for name, value in pipeline_env(wb.simulator, wb.data_dir).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AFAS_ALLOW_WRITES", raising=False)
    return wb


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    return code, capsys.readouterr().out.splitlines()


def test_writeback_dry_runs_then_sends_with_the_module_s_output(
    approver: WritebackEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corrections(approver.data_dir, correction_rows("W-1") + correction_rows("W-2"))
    approve = ["--approve", "W-1", "--approved-by", "j.jansen"]

    code, dry = run(capsys, "writeback", *approve)
    assert module_main(approve) == 0
    assert capsys.readouterr().out.splitlines() == dry  # the same command, the same output
    assert code == 0
    counts = json.loads(dry[-1])["counts"]
    assert (counts["would_post"], counts["skipped"], counts["posted"]) == (1, 1, 0)
    assert posts(approver.simulator) == 0

    code, sent = run(capsys, "writeback", "--send")
    assert code == 0
    assert sent[:2] == ["sent W-1", "posted W-1"]
    assert json.loads(sent[-1])["states"]["posted"] == 1
    assert len(ledger_entries(approver.simulator, "W-1")) == 1
    assert ledger_entries(approver.simulator, "W-2") == []  # never approved


def test_writeback_exits_1_when_afas_rejects_a_correction(
    approver: WritebackEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    # A stale snapshot shows August open; AFAS has closed it: the pre-check passes, AFAS refuses.
    periods = approver.simulator.environment.rows("Profit_periods_per_administration")
    RawStore(approver.data_dir).write_snapshot(
        "Profit_periods_per_administration", periods.with_columns(pl.lit(False).alias("Blocked"))
    )
    rows = correction_rows("R-1", administration_id=2, day=date(2026, 8, 3))
    write_corrections(approver.data_dir, rows + correction_rows("R-2"))

    code, out = run(
        capsys, "writeback", "--approve", "R-1", "R-2", "--approved-by", "j.jansen", "--send"
    )

    assert code == 1
    assert "rejected R-1" in out
    assert "posted R-2" in out
    assert json.loads(out[-1])["counts"]["rejected"] == 1


def test_writeback_that_cannot_start_says_why_and_exits_1(
    approver: WritebackEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corrections(approver.data_dir, correction_rows("U-1"))

    assert main(["writeback", "--approve", "NOPE-1", "--approved-by", "j.jansen"]) == 1
    assert "not proposed: ['NOPE-1']" in capsys.readouterr().err


def test_corrections_lists_what_is_proposed_with_approval_and_state(
    approver: WritebackEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = correction_rows("L-1", amount="12.34") + correction_rows("L-2", administration_id=3)
    write_corrections(approver.data_dir, rows)
    code, before = run(capsys, "corrections")
    assert code == 0
    assert before[0].split() == [
        "correction",
        "admin",
        "amount",
        "approved",
        "by",
        "state",
        "reason",
    ]
    assert before[1].split()[:4] == ["L-1", "1", "12.34", "new"]

    run(capsys, "writeback", "--approve", "L-1", "--approved-by", "j.jansen", "--send")
    code, after = run(capsys, "corrections")

    listed = {line.split()[0]: line.split() for line in after[1:-1]}
    assert listed["L-1"][:5] == ["L-1", "1", "12.34", "j.jansen", "posted"]
    assert listed["L-2"][:4] == ["L-2", "3", "100.00", "pending"]
    assert " ".join(listed["L-1"][5:]) == "test correction L-1"  # the reason
    assert after[-1].startswith("2 proposed")
