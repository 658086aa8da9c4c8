"""The embedded default: the whole pipeline against the bundled simulator, then the Dagster UI."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from afas_pipeline.datadir import DAGSTER_HOME_DIR, MARTS_FILE
from afas_pipeline.extract.days import amsterdam_today
from afas_pipeline.settings import DATA_DIR_VARIABLE, PipelineSettings

# The deployment's instance settings (the repository's dagster.yaml; a wheel carries a copy):
# the pools that keep one extract step at a time, run retries, monitoring, no pop-up.
DAGSTER_YAML = (Path(__file__).resolve().parent / "dagster.yaml").resolve()


def prepare_dagster_home(data_dir: Path) -> Path:
    """A DAGSTER_HOME under the data directory, with the repository's dagster.yaml."""
    home = data_dir / DAGSTER_HOME_DIR
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_bytes() != DAGSTER_YAML.read_bytes():
        shutil.copyfile(DAGSTER_YAML, config)
    return home


def run_demo(*, port: int, scale: str, ui: bool, verbose: bool = False) -> int:
    import dagster as dg

    from afas_pipeline.afas import AfasSettings
    from afas_pipeline.runner import quiet_dbt_output, run_range, summary_lines
    from afas_pipeline.simulator.process import SimulatorProcess

    settings = PipelineSettings.from_env()
    settings = replace(settings, data_dir=settings.data_path)
    data_dir = settings.data_dir
    home = prepare_dagster_home(data_dir)
    print(f"Starting the AFAS simulator ({scale}) ...", flush=True)
    with SimulatorProcess(args=["--scale", scale, "--live-clock"]) as simulator:
        afas = AfasSettings.create(token=simulator.token_data, base_url=simulator.base_url)
        print(f"Simulator at {simulator.base_url}", flush=True)
        start, end = settings.start_date, amsterdam_today()
        print(f"Loading {start}..{end} into {data_dir} ...", flush=True)
        dbt_output = None if verbose else quiet_dbt_output(settings)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            result = run_range(
                start,
                end,
                instance=instance,
                log_level="WARNING",
                dbt_output=dbt_output,
                settings=settings,
                afas=afas,
            )
        print("\n".join(summary_lines(result)))
        if not result.success:
            if dbt_output is not None and dbt_output.exists():
                print(f"dbt's output: {dbt_output}")
            return 1
        print("\n".join(marts_summary(data_dir)), flush=True)
        if not ui:
            return 0
        # The UI's processes read the settings from their environment, as a deployment's do.
        environment = {
            **os.environ,
            DATA_DIR_VARIABLE: str(data_dir),
            "DAGSTER_HOME": str(home),
            "AFAS_BASE_URL": simulator.base_url,
            "AFAS_TOKEN": simulator.token_data,
        }
        return _dagster_dev(port, environment)


def marts_summary(data_dir: Path) -> list[str]:
    """Where the marts are, what the reconciliation found, and a query to try on them."""
    from afas_pipeline.warehouse import STATUS_MART, findings

    marts = data_dir / MARTS_FILE
    found = findings(data_dir)
    lines = ["", f"The marts: {_shown(marts)}", "What the reconciliation found:"]
    lines += [f"  {check:42} {count}" for check, count in found.items()]
    query = (
        f"select check_name, administration_id, fiscal_year, period, findings, mart "
        f"from {STATUS_MART} where findings > 0 order by all"
    )
    duckdb_cli = Path(sys.executable).with_name("duckdb")
    cli = _shown(duckdb_cli) if duckdb_cli.exists() else "duckdb"
    lines += ["Try:", f'  {cli} -readonly {_shown(marts)} -c "{query}"']
    return lines


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is below it, as a person types it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def dagster_dev_command(port: int) -> list[str]:
    """`dagster dev` on the pipeline's definitions: the module, not workspace.yaml, so that an
    installed package runs it too."""
    return [
        sys.executable, "-m", "dagster", "dev", "-m", "afas_pipeline.definitions", "-a", "defs",
        "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip


def _dagster_dev(port: int, environment: dict[str, str]) -> int:
    """`dagster dev` in the foreground until Ctrl-C; the simulator stays up meanwhile. It runs in
    DAGSTER_HOME: from the repository's folder it would warn that its dagster.yaml is not used."""
    print(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C stops it and the simulator)")
    process = subprocess.Popen(
        dagster_dev_command(port),
        cwd=environment["DAGSTER_HOME"],
        env=environment,
        preexec_fn=_default_signals,
    )
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            return 130


def _default_signals() -> None:
    # A process started here may inherit SIGINT/SIGTERM as ignored; dagster dev needs them.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
