"""The embedded default: the whole pipeline against the bundled simulator, then the Dagster UI."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from afas_pipeline.extract.days import amsterdam_today, parse_day

# The deployment's instance settings (the repository's dagster.yaml; a wheel carries a copy):
# the pools that keep one extract step at a time, run retries, monitoring, no pop-up.
DAGSTER_YAML = (Path(__file__).resolve().parent / "dagster.yaml").resolve()
DEFINITIONS_MODULE = "afas_pipeline.definitions"


def prepare_dagster_home(data_dir: Path) -> Path:
    """A DAGSTER_HOME under the data directory, with the repository's dagster.yaml."""
    home = data_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_bytes() != DAGSTER_YAML.read_bytes():
        shutil.copyfile(DAGSTER_YAML, config)
    return home


def run_demo(*, port: int, scale: str, ui: bool) -> int:
    from afas_pipeline.runner import run_range, summary_lines
    from afas_pipeline.simulator.process import SimulatorProcess

    data_dir = Path(os.environ.get("AFAS_PIPELINE_DATA_DIR", "data")).resolve()
    os.environ["AFAS_PIPELINE_DATA_DIR"] = str(data_dir)
    os.environ["DAGSTER_HOME"] = str(prepare_dagster_home(data_dir))
    print(f"Starting the AFAS simulator ({scale}) ...", flush=True)
    with SimulatorProcess(args=["--scale", scale, "--live-clock"]) as simulator:
        os.environ["AFAS_BASE_URL"] = simulator.base_url
        os.environ["AFAS_TOKEN"] = simulator.token_data
        print(f"Simulator at {simulator.base_url}", flush=True)
        start = parse_day(os.environ.get("AFAS_PIPELINE_START_DATE", "2025-01-01"))
        end = amsterdam_today()
        print(f"Loading {start}..{end} into {data_dir} ...", flush=True)
        result = run_range(start, end, log_level="WARNING")
        print("\n".join(summary_lines(result)))
        if not result.success:
            return 1
        if not ui:
            return 0
        return _dagster_dev(port)


def _dagster_dev(port: int) -> int:
    """`dagster dev` in the foreground until Ctrl-C; the simulator stays up meanwhile."""
    command = [
        sys.executable, "-m", "dagster", "dev", "-m", DEFINITIONS_MODULE,
        "-p", str(port), "-h", "127.0.0.1",
    ]  # fmt: skip
    print(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C stops it and the simulator)")
    process = subprocess.Popen(command, preexec_fn=_default_signals)
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
