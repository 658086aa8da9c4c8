"""The command line answers a mistake with what to fix, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from afas_pipeline import cli


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--start", "2026-11-20", "--end", "2026-11-01"], "--end 2026-11-01 is before --start"),
        (
            ["--start", "2024-06-01", "--end", "2024-06-30"],
            "they run from 2025-01-01 (AFAS_PIPELINE_START_DATE) to today",
        ),
        (["--start", "2025-01-01", "--end", "2999-01-01"], "are not all partitions"),
    ],
)
def test_an_impossible_range_is_refused_clearly(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AFAS_PIPELINE_START_DATE", raising=False)
    assert cli.main(["run", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("afas-pipeline run: ")
    assert said in err
    assert "Traceback" not in err


def test_a_missing_dagster_home_is_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("DAGSTER_HOME", str(missing))
    assert cli.main(["run", "--start", "2026-11-20", "--end", "2026-11-20"]) == 2
    err = capsys.readouterr().err
    assert f"DAGSTER_HOME is {missing}, which is not a directory: create it" in err
    assert not missing.exists()


def test_missing_afas_settings_are_refused_clearly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AFAS_TOKEN", raising=False)
    assert cli.main(["connectors"]) == 2
    assert "afas-pipeline connectors: AFAS_TOKEN is not set" in capsys.readouterr().err
