"""`afas-pipeline run --environment NAME`: one environment of a deployment of many
(AFAS_ENVIRONMENTS), run headless with its own variables, data directory, jobs and asset keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from afas_pipeline import cli
from afas_pipeline.datadir import MARTS_FILE
from afas_pipeline.defs.scope import ENVIRONMENT_TAG
from tests.conftest import NOW, Simulator
from tests.deploy.test_environments import FIRST_DAY, SIMULATOR

DAYS = ["--start", FIRST_DAY.isoformat(), "--end", NOW.date().isoformat()]


@pytest.fixture
def environments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """AFAS_ENVIRONMENTS=acme,globex and no unprefixed connection; the data directory."""
    for name in ("AFAS_BASE_URL", "AFAS_TOKEN", "AFAS_PIPELINE_START_DATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AFAS_ENVIRONMENTS", "acme,globex")
    monkeypatch.setenv("AFAS_PIPELINE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_the_command_runs_the_environment_it_names_under_that_environments_names(
    environments: Path,
    start_simulator: Callable[..., Simulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    simulator = start_simulator(seed=11, **SIMULATOR)
    monkeypatch.setenv("ACME__AFAS_BASE_URL", simulator.base_url)
    monkeypatch.setenv("ACME__AFAS_TOKEN", simulator.token)
    monkeypatch.setenv("ACME__AFAS_PIPELINE_START_DATE", FIRST_DAY.isoformat())
    home = tmp_path / "dagster_home"  # the runs recorded, as the UI would show them
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    assert cli.main(["run", "--environment", "acme", *DAYS]) == 0

    out = capsys.readouterr().out
    assert "afas/acme/DWH_Financiele_mutaties" in out
    assert "dbt models built and tested" in out
    assert (environments / "acme" / MARTS_FILE).exists()  # the environment's own directory
    assert not (environments / "raw").exists()
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert {run.job_name for run in runs} == {
            "acme__afas_extract_job",
            "acme__afas_warehouse_job",
        }
        assert {run.tags.get(ENVIRONMENT_TAG) for run in runs} == {"acme"}
        key = dg.AssetKey(["afas", "acme", "DWH_Financiele_mutaties"])
        assert instance.get_latest_materialization_event(key) is not None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "AFAS_ENVIRONMENTS names acme, globex: say which to run with --environment"),
        (["--environment", "initech"], "--environment initech is not one of AFAS_ENVIRONMENTS"),
        (["--environment", "globex"], "environment globex: GLOBEX__AFAS_TOKEN is not set"),
    ],
)
def test_an_environment_not_named_or_not_set_up_is_refused_by_name(
    environments: Path,
    arguments: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["run", *arguments, *DAYS]) != 0
    assert message in capsys.readouterr().err
    assert not environments.exists()  # nothing written
