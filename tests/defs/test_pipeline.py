"""The Dagster definitions against the simulator: what operators see and rely on."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as dt_time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from afas_pipeline.extract.specs import EXTRACT_SPECS, spec_by_name
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.runner import failures, outcomes
from tests.conftest import HISTORY_START, LOADED_SIMULATOR, NOW, Pipeline, Simulator, pipeline_env
from tests.dbt.support import marts_connection
from tests.extract.support import raw_days, without_load_columns

LINES_KEY = dg.AssetKey(["afas", "DWH_Financiele_mutaties"])


def test_a_bad_token_fails_the_run_at_once_and_writes_nothing(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFAS_TOKEN", "0" * 64)
    result = pipeline.run(date(2026, 11, 1), NOW.date())

    assert not result.success
    problems = failures(result)
    assert len(problems) == 1, problems  # one step, one request: the App Connector check
    assert "afas__app_connector" in problems[0]
    assert "HTTP 401" in problems[0]
    assert pipeline.simulator.base_url in problems[0]  # names the environment
    assert "0" * 64 not in problems[0]
    assert not (pipeline.data_dir / "raw").exists()


def test_every_extract_materialization_reports_its_figures(loaded_pipeline: Pipeline) -> None:
    event = loaded_pipeline.instance.get_latest_materialization_event(LINES_KEY)
    assert event is not None
    metadata = {k: v.value for k, v in event.asset_materialization.metadata.items()}
    for name in ("rows", "pages", "api_calls", "duration_s", "retries"):
        assert isinstance(metadata[name], int | float), name
    assert metadata["rows"] == loaded_pipeline.simulator.environment.rows(LINES_KEY.path[-1]).height
    assert metadata["api_calls"] >= metadata["pages"] > 0
    assert datetime.fromisoformat(metadata["mutatie_datum_max"]) <= NOW
    assert metadata["partition"] == f"{HISTORY_START}..{NOW.date()}"
    checks = loaded_pipeline.instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(LINES_KEY, "unique_key_per_day"), limit=1
    )
    assert checks[0].status.value == "SUCCEEDED"


def test_connectors_read_together_fail_alone_and_count_their_own_calls(
    pipeline: Pipeline,
) -> None:
    """The reference connectors are read at the same time in one step: one that AFAS answers
    with garbage is named, the others land with their own figures, nothing downstream runs."""
    journals = "/connectors/Profit_Journals"
    pipeline.simulator.set_faults(hostile="invalid_json", only_paths=[journals])
    result = pipeline.run(NOW.date(), NOW.date())

    assert not result.success
    problems = failures(result)
    assert len(problems) == 1, problems
    assert "afas_reference_data" in problems[0]
    assert "afas/Profit_Journals" in problems[0]
    assert "not valid JSON" in problems[0]
    landed = {o.asset: o.metadata for o in outcomes(result)}
    reference = {f"afas/{s.name}" for s in EXTRACT_SPECS if not s.partitioned}
    assert landed.keys() & reference == reference - {"afas/Profit_Journals"}
    assert not (pipeline.data_dir / "raw" / "Profit_Journals").exists()
    assert not any(a.endswith("_deletions") or a.startswith("warehouse/") for a in landed)
    # Each read counts its own calls: the metainfo and one page, not the step's total.
    assert landed["afas/Profit_Accounts"]["api_calls"] == 2
    assert landed["afas/Profit_VAT_code"]["api_calls"] == 2


@pytest.mark.parametrize(
    ("moment", "schedule", "partition"),
    [
        # 00:15 in Amsterdam is still the previous day in UTC: the partition is Amsterdam's day.
        (datetime(2026, 3, 29, 0, 15), "afas_refresh_today", "2026-03-29"),
        (datetime(2026, 10, 25, 23, 45), "afas_refresh_today", "2026-10-25"),
        (datetime(2026, 3, 29, 0, 30), "afas_daily_close", "2026-03-28"),
        (datetime(2026, 1, 1, 0, 30), "afas_daily_close", "2025-12-31"),
    ],
)
def test_schedules_pick_the_amsterdam_day(moment: datetime, schedule: str, partition: str) -> None:
    from afas_pipeline.definitions import defs
    from afas_pipeline.extract.days import AMSTERDAM

    definition = defs.resolve_schedule_def(schedule)
    context = dg.build_schedule_context(
        scheduled_execution_time=moment.replace(tzinfo=AMSTERDAM),
        repository_def=defs.get_repository_def(),
    )
    requests = definition.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == [partition]


def test_the_headless_command_waits_for_the_warehouse_and_reports_what_it_did(
    pipeline: Pipeline,
) -> None:
    """Another process holding the warehouse build lock delays the dbt step; it does not fail.

    Overlapping runs with an analyst reading the marts throughout: tests/reliability.
    """
    from afas_pipeline.datadir import warehouse_lock

    held, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with warehouse_lock(pipeline.data_dir):
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    held.wait(10)
    threading.Timer(3, release.set).start()
    command = [sys.executable, "-m", "afas_pipeline.cli", "run"]
    command += ["--start", str(HISTORY_START), "--end", str(NOW.date())]
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    holder.join()

    assert done.returncode == 0, done.stderr[-3000:]
    assert time.monotonic() - started >= 3
    # Quiet: a line per asset, not dbt's line per model and test (kept in a file instead).
    assert len(done.stdout.splitlines()) < 30, done.stdout
    assert " START test " not in done.stdout
    assert (pipeline.data_dir / "dbt" / "output.log").read_text().count(" PASS ") > 100
    for expected in (
        "afas/DWH_Financiele_mutaties",
        "rows=",
        "api_calls=",
        "dbt models built and tested",
        "analysts/marts_database",
        f"succeeded: {HISTORY_START}..{NOW.date()}",
    ):
        assert expected in done.stdout, expected
    store = RawStore(pipeline.data_dir)
    truth = pipeline.simulator.environment.rows("DWH_Financiele_mutaties")
    from afas_pipeline.extract.specs import spec_by_name

    lines = spec_by_name("DWH_Financiele_mutaties")
    assert without_load_columns(raw_days(store, lines)).equals(truth.sort(lines.key))


def test_metainfo_as_afas_gives_it_and_the_old_answer_build_identical_marts(
    loaded_pipeline: Pipeline,
    start_simulator: Callable[..., Simulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AFAS reports datetimes as "date" (the default simulator, as `loaded_pipeline` uses);
    the simulator's old answer said "datetime". The pipeline types both by meaning."""
    assert loaded_pipeline.simulator.environment.config.datetime_data_type == "date"
    old = start_simulator(**{**LOADED_SIMULATOR, "datetime_data_type": "datetime"})
    for name, value in pipeline_env(old, tmp_path / "data").items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.ephemeral() as instance:
        Pipeline(old, tmp_path / "data", instance).run_ok(HISTORY_START, NOW.date())

    store = RawStore(loaded_pipeline.data_dir)
    lines = without_load_columns(raw_days(store, spec_by_name(LINES_KEY.path[-1])))
    assert lines.schema["Mutatie_datum"] == lines.schema["Created"] == pl.Datetime("us")
    assert (lines["Mutatie_datum"].dt.time() != dt_time(0)).any()  # times kept, not truncated
    with (
        marts_connection(loaded_pipeline.data_dir) as afas,
        marts_connection(tmp_path / "data") as previous,
    ):
        listing = "select schema_name, table_name from duckdb_tables() order by all"
        tables = afas.execute(listing).fetchall()
        assert len(tables) >= 15
        assert tables == previous.execute(listing).fetchall()
        for schema, table in tables:
            query = f'select * from "{schema}"."{table}" order by all'
            assert afas.execute(query).fetchall() == previous.execute(query).fetchall(), table


@pytest.mark.parametrize(
    "override",
    [
        {"base_url": "http://evil.invalid/ProfitRestServices"},
        {"token": "0" * 64},
        {"environment": "99999", "environment_type": "test"},
    ],
)
def test_run_config_cannot_repoint_afas(pipeline: Pipeline, override: dict[str, str]) -> None:
    """A Launchpad run overriding resources.afas.config.base_url sent the real token to an
    arbitrary URL. Connection settings are the deployment's environment, not config: such a
    run is refused before it starts (the UI launch: tests/defs/test_dagster_dev.py)."""
    from afas_pipeline.definitions import defs

    pipeline.simulator.admin("DELETE", "requests")
    run_config = {"resources": {"afas": {"config": override}}}
    for job in ("afas_extract_job", "writeback_job"):
        with pytest.raises(dg.DagsterInvalidConfigError, match=next(iter(override))):
            defs.resolve_job_def(job).execute_in_process(
                run_config=run_config, instance=pipeline.instance
            )
    assert pipeline.simulator.admin("GET", "requests")["total"] == 0
