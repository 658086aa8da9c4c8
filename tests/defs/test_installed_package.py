"""An installed package runs: a wheel built from the repository, installed (not editable) into
a fresh virtualenv, runs the whole pipeline against the simulator from outside the repository,
preparing its dbt project on first use."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb

from tests.conftest import HISTORY_START, NOW, PROJECT_DIR, Simulator, pipeline_env

UV = shutil.which("uv", path=str(Path(sys.executable).parent))  # the set-up installs it


def build_wheel(out: Path) -> Path:
    """sdist, then the wheel from it (uv), as a release would: what a user's pip gets."""
    if UV:
        _run([UV, "build", "--quiet", "--out-dir", str(out), str(PROJECT_DIR)])
    else:
        _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), "."])
    (wheel,) = out.glob("afas_pipeline-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    """A fresh venv with the wheel and its pinned dependencies (from the installer's cache)."""
    if UV:
        _run([UV, "venv", "--quiet", "--python", sys.executable, str(venv)])
        _run([UV, "pip", "install", "--quiet", "--python", str(venv / "bin/python"), str(wheel)])
    else:
        _run([sys.executable, "-m", "venv", str(venv)])
        _run([str(venv / "bin/python"), "-m", "pip", "install", "-q", str(wheel)])
    return venv / "bin"


def _run(command: list[str]) -> None:
    done = subprocess.run(
        command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"


def test_a_wheel_installed_in_a_fresh_venv_runs_the_pipeline(
    start_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    bin_dir = install(build_wheel(tmp_path / "dist"), tmp_path / "venv")
    simulator = start_simulator(journal_lines=400)
    data_dir = tmp_path / "data"
    elsewhere = tmp_path / "elsewhere"  # not the repository: nothing of it can be found
    elsewhere.mkdir()
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        **pipeline_env(simulator, data_dir),
    }

    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import afas_pipeline.warehouse as w; print(w.__file__)"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(tmp_path / "venv")), where.stdout
    command = [str(bin_dir / "afas-pipeline"), "run"]
    command += ["--start", str(HISTORY_START), "--end", str(NOW.date())]
    done = subprocess.run(
        command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600, check=False
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "DagsterDbtManifestNotFoundError" not in done.stdout + done.stderr
    assert "Preparing the dbt project" in done.stderr  # the manifest, made on first use
    assert "dbt models built and tested" in done.stdout
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as con:
        row = con.execute("select count(*) from fct_trial_balance").fetchone()
    assert row is not None
    assert row[0] > 0
