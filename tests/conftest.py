"""Shared fixtures: a simulated AFAS environment on a real loopback socket, and pipeline runs
against it into a temporary data directory."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from afas_pipeline.afas import AfasToken
from afas_pipeline.simulator.environment import Environment, SimulatorConfig
from afas_pipeline.simulator.server import ServerThread

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the repository
# A fixed "now" keeps every test deterministic; the history reaches back ~15 months from it.
NOW = datetime(2026, 11, 20, 14, 30)
HISTORY_START = date(2025, 1, 1)
TEST_LINES = 6_000


# The modules that take longest (each over ~50 s; `pytest --durations=80` measures them),
# longest first. Collected first, they start first on the workers of scripts/test.sh, so that no
# worker is left running a long one while the other has finished.
LONG_MODULES = (
    "tests/deploy/test_environments.py",
    "tests/defs/test_pipeline.py",
    "tests/reliability/test_crash.py",
    "tests/dbt/test_marts.py",
    "tests/defs/test_dagster_dev.py",
    "tests/reliability/test_reconciliation.py",
    "tests/reliability/test_object_storage.py",
    "tests/dbt/test_corrections_loop.py",
    "tests/dbt/test_incremental.py",
    "tests/dbt/test_two_year_books.py",
    "tests/reliability/test_faults.py",
    "tests/dbt/test_messy_books.py",
    "tests/reliability/test_bad_answers.py",
    "tests/dbt/test_dates.py",
    "tests/defs/test_installed_package.py",
    "tests/defs/test_warehouse_build.py",
    "tests/writeback/test_races.py",
    "tests/dbt/test_vat_return.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long modules first, in LONG_MODULES' order; the rest as collected. Tests marked
    `slow` (soaks, benchmarks) run only when asked for with `-m slow`."""
    rank = {module: n for n, module in enumerate(LONG_MODULES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
    if "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="soak test: run with `-m slow`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@dataclass
class Simulator:
    """A running simulator: its environment (the ground truth) and how to reach it."""

    environment: Environment
    base_url: str

    @property
    def token(self) -> str:
        return self.environment.config.token_data

    def admin(self, method: str, what: str, body: Any = None) -> Any:
        """Call one of the simulator's `/_simulator/` endpoints (faults, clock, requests…)."""
        headers = {"Authorization": AfasToken(self.token).authorization_header()}
        url = f"{self.base_url}/_simulator/{what}"
        response = httpx.request(method, url, json=body, headers=headers, timeout=10)
        response.raise_for_status()
        return response.json()

    def set_faults(self, **faults: object) -> None:
        """Replace the simulator's fault injection (see FaultConfig); none: no faults."""
        self.admin("PUT", "faults", faults)


@dataclass
class Pipeline:
    """The pipeline's settings for one test: where it reads from and where its files go."""

    simulator: Simulator
    data_dir: Path
    instance: dg.DagsterInstance

    def run(
        self, start: date, end: date, *, job: str = "afas_daily_job"
    ) -> dg.ExecuteInProcessResult:
        from afas_pipeline.runner import run_range

        return run_range(start, end, instance=self.instance, job_name=job)

    def run_ok(
        self, start: date, end: date, *, job: str = "afas_daily_job"
    ) -> dg.ExecuteInProcessResult:
        from afas_pipeline.runner import failures

        result = self.run(start, end, job=job)
        assert result.success, failures(result)
        return result


# The simulator `loaded_pipeline` loads (its connector without the optional cost carrier, like
# many real environments); a test that rebuilds that state starts the same one.
LOADED_SIMULATOR: dict[str, object] = {"seed": 7, "cost_carrier_field": False}


def make_environment(**overrides: object) -> Environment:
    config = {"journal_lines": TEST_LINES, "now": NOW, **overrides}
    return Environment(SimulatorConfig(**config))  # type: ignore[arg-type]


@pytest.fixture
def start_simulator() -> Iterator[Callable[..., Simulator]]:
    """Start simulators (stopped after the test); keyword arguments go to SimulatorConfig."""
    servers: list[ServerThread] = []

    def start(environment: Environment | None = None, **overrides: object) -> Simulator:
        environment = environment or make_environment(**overrides)
        server = ServerThread(environment)
        server.start()
        servers.append(server)
        return Simulator(environment, server.base_url)

    yield start
    for server in servers:
        server.stop()


def pipeline_env(simulator: Simulator, data_dir: Path) -> dict[str, str]:
    """The AFAS_* settings that point the pipeline at `simulator` and `data_dir`."""
    return {
        "AFAS_BASE_URL": simulator.base_url,
        "AFAS_TOKEN": simulator.token,
        "AFAS_PIPELINE_DATA_DIR": str(data_dir),
        "AFAS_ENVIRONMENT": "",
        "AFAS_ENVIRONMENT_TYPE": "",
        "AFAS_ADMINISTRATIONS": "",
    }


@pytest.fixture
def pipeline(
    start_simulator: Callable[..., Simulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    """A fresh simulator and an empty data directory, with the AFAS_* settings pointing at it."""
    simulator = start_simulator()
    for name, value in pipeline_env(simulator, tmp_path / "data").items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.ephemeral() as instance:
        yield Pipeline(simulator, tmp_path / "data", instance)


@pytest.fixture(scope="session")
def loaded_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """One simulator whose whole history was loaded and built once, shared by read-only tests.

    Tests using it must not change the environment or the data directory.
    """
    environment = make_environment(**LOADED_SIMULATOR)
    server = ServerThread(environment)
    server.start()
    simulator = Simulator(environment, server.base_url)
    data_dir = tmp_path_factory.mktemp("loaded") / "data"
    with pytest.MonkeyPatch.context() as patch, dg.DagsterInstance.ephemeral() as instance:
        for name, value in pipeline_env(simulator, data_dir).items():
            patch.setenv(name, value)
        pipeline = Pipeline(simulator, data_dir, instance)
        pipeline.run_ok(HISTORY_START, NOW.date())
        yield pipeline
    server.stop()


class Webhook:
    """An incoming webhook (Slack's, Teams') on loopback: keeps what was posted, answers
    `status`. Its URL has a secret-looking path, as theirs do: it must never be shown."""

    def __init__(self, status: int = 200) -> None:
        self.posted: list[dict[str, Any]] = []
        posted = self.posted

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T0/B0/s3cr3t-path"

    def texts(self) -> list[str]:
        return [body["text"] for body in self.posted]

    def __enter__(self) -> Webhook:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A webhook that accepts everything posted to it."""
    with Webhook() as hook:
        yield hook
