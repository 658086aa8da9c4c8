"""Three AFAS environments in one deployment, on Dagster's instance in a real PostgreSQL and
their raw layers in a real S3 server: the daemon dequeues every run through the run queue of
deploy/dagster.yaml, one run per environment at a time, and each environment's marts equal what
the same environment gives alone (on a local raw layer)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from datetime import date, datetime
from functools import partial
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.instance.ref import InstanceRef
from dagster_graphql import DagsterGraphQLClient

from afas_pipeline.datadir import MARTS_FILE
from afas_pipeline.defs.scope import ENVIRONMENT_TAG
from afas_pipeline.runner import RANGE_END_TAG, RANGE_START_TAG, run_headless
from afas_pipeline.settings import PipelineSettings
from tests.conftest import NOW, PROJECT_DIR, Simulator
from tests.servers import (
    S3Server,
    default_signals,
    free_port,
    running_s3_server,
    stop_group,
    until,
)

ENVIRONMENTS = {"acme": 11, "globex": 12, "initech": 13}  # name: the simulator's seed
# Small environments: a ledger of 45 days, one administration.
SIMULATOR = {"journal_lines": 600, "history_days": 45, "administrations": 1}
# The whole history: the warehouse's blocking tests compare its balances with AFAS's.
FIRST_DAY, LAST_DAY = date(2026, 10, 1), NOW.date()
# The schedules are on in a deployment: here only the runs the test submits run.
CRONS = ("REFRESH", "DAILY", "RECONCILE")
NEVER_DURING_THE_TEST = "0 0 29 2 *"
BUCKET = "afas-raw"  # each environment's raw layer under its own prefix: s3://afas-raw/<name>


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server of its own (pgserver's binaries from PyPI), on a Unix socket."""
    with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set", on import
        warnings.simplefilter("ignore")
        import pgserver

    folder = Path(tempfile.mkdtemp(prefix="pg"))  # short: a socket path has at most 107 bytes
    server = pgserver.get_server(folder, cleanup_mode="stop")
    try:
        yield f"postgresql+psycopg2://postgres@/postgres?host={folder}"
    finally:
        server.cleanup()
        _kill_postmaster(folder)
        shutil.rmtree(folder, ignore_errors=True)


def _kill_postmaster(folder: Path) -> None:
    """The server is stopped for sure: SIGKILL what `pg_ctl stop` left."""
    pid_file = folder / "postmaster.pid"  # pgserver keeps the data in `folder` itself
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)


@pytest.fixture
def s3_server(tmp_path: Path) -> Iterator[S3Server]:
    folder = tmp_path / "seaweedfs"
    folder.mkdir()
    with running_s3_server(folder, BUCKET) as server:
        yield server


@pytest.fixture
def deployment(
    start_simulator: Callable[..., Simulator],
    tmp_path: Path,
    postgres_url: str,
    s3_server: S3Server,
) -> Iterator[tuple[DagsterGraphQLClient, dict[str, Simulator], dg.DagsterInstance]]:
    """Three simulators, and Dagster's daemon and webserver on deploy/dagster.yaml, started
    as the README deploys them."""
    simulators = {
        name: start_simulator(seed=seed, **SIMULATOR) for name, seed in ENVIRONMENTS.items()
    }
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_DIR / "deploy" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AFAS_")},
        **_deployment_variables(simulators, tmp_path / "data"),
        **s3_server.env(),
        "DAGSTER_HOME": str(home),
        "DAGSTER_POSTGRES_URL": postgres_url,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    port = free_port()
    code = ["-m", "afas_pipeline.definitions", "-a", "defs"]
    services = {
        "daemon": [_bin("dagster-daemon"), "run", *code],
        "webserver": [_bin("dagster-webserver"), *code, "-h", "127.0.0.1", "-p", str(port)],
    }
    with contextlib.ExitStack() as stack:
        for name, command in services.items():
            log = stack.enter_context((tmp_path / f"{name}.log").open("w"))
            process = subprocess.Popen(
                command,
                cwd=home,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the service, its code server and its runs stop together
                preexec_fn=default_signals,
            )
            stack.callback(stop_group, process)
        os.environ["DAGSTER_POSTGRES_URL"] = postgres_url  # for the instance read below
        stack.callback(os.environ.pop, "DAGSTER_POSTGRES_URL", None)
        instance = stack.enter_context(dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))))
        yield DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=30), simulators, instance


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _deployment_variables(simulators: dict[str, Simulator], data_dir: Path) -> dict[str, str]:
    variables = {
        "AFAS_ENVIRONMENTS": ",".join(simulators),
        "AFAS_PIPELINE_DATA_DIR": str(data_dir),  # each environment's: data_dir/<name>
    }
    for name, simulator in simulators.items():
        prefix = f"{name.upper()}__"
        variables |= {
            f"{prefix}AFAS_BASE_URL": simulator.base_url,
            f"{prefix}AFAS_TOKEN": simulator.token,
            f"{prefix}AFAS_PIPELINE_START_DATE": FIRST_DAY.isoformat(),
            f"{prefix}AFAS_PIPELINE_RAW_URL": f"s3://{BUCKET}/{name}",
        } | {f"{prefix}AFAS_PIPELINE_{cron}_CRON": NEVER_DURING_THE_TEST for cron in CRONS}
    return variables


@pytest.mark.timeout(900)  # 6.6 and 9.5 min measured on 2 cores shared with other runs
def test_three_environments_run_side_by_side_one_run_each_at_a_time(
    deployment: tuple[DagsterGraphQLClient, dict[str, Simulator], dg.DagsterInstance],
    s3_server: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, simulators, instance = deployment
    days = {RANGE_START_TAG: FIRST_DAY.isoformat(), RANGE_END_TAG: LAST_DAY.isoformat()}
    # Every run is queued at once: the backfill of each environment, then its warehouse build.
    # Without the queue's limit the build would start beside the backfill it depends on.
    for job, tags in (("afas_extract_job", days), ("afas_warehouse_job", {})):
        for name in simulators:
            until(partial(_submit, client, f"{name}__{job}", tags), timeout=600, interval=2)
    # Meanwhile, the single-environment baselines, in process, from the same simulators.
    for name, simulator in simulators.items():
        _run_alone(simulator, tmp_path / "alone" / name, tmp_path / "alone.log", monkeypatch)

    records = until(lambda: _finished_runs(instance, expected=2 * len(simulators)), timeout=600)

    assert {r.dagster_run.status for r in records} == {dg.DagsterRunStatus.SUCCESS}
    by_environment: dict[str, list[tuple[datetime, datetime]]] = {}
    for record in records:
        span = (_time(record.start_time), _time(record.end_time))
        by_environment.setdefault(record.dagster_run.tags[ENVIRONMENT_TAG], []).append(span)
    assert set(by_environment) == set(simulators)
    for name, spans in by_environment.items():
        spans.sort()
        assert spans[0][1] <= spans[1][0], f"{name}'s runs overlapped: {spans}"
    assert _overlapping_environments(by_environment), by_environment
    prefixes = {key.split("/")[1] for key in s3_server.filesystem().find(BUCKET)}
    assert prefixes == set(simulators)  # every raw layer in object storage, none on disk
    assert not list((tmp_path / "data").glob("*/raw/*/days/*.parquet"))
    for name in simulators:
        deployed = tmp_path / "data" / name / MARTS_FILE
        alone = tmp_path / "alone" / name / MARTS_FILE
        assert _differences(deployed, alone) == {}, name


def _submit(client: DagsterGraphQLClient, job: str, tags: dict[str, str]) -> str | None:
    try:
        return client.submit_job_execution(job, tags=tags)
    except Exception:  # the webserver or the code location is still starting
        return None


def _run_alone(
    simulator: Simulator, data_dir: Path, dbt_output: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment as the only one (AFAS_ENVIRONMENTS unset): extract, then build."""
    monkeypatch.setenv("AFAS_BASE_URL", simulator.base_url)
    monkeypatch.setenv("AFAS_TOKEN", simulator.token)
    settings = PipelineSettings(data_dir=data_dir, start_date=FIRST_DAY)
    with dg.DagsterInstance.ephemeral() as instance:
        results = run_headless(
            FIRST_DAY, LAST_DAY, instance=instance, settings=settings, dbt_output=dbt_output
        )
    assert [r.success for r in results] == [True, True]


def _finished_runs(instance: dg.DagsterInstance, *, expected: int) -> list[dg.RunRecord] | None:
    records = instance.get_run_records()
    done = [r for r in records if r.dagster_run.is_finished]
    return done if len(done) >= expected and len(done) == len(records) else None


def _time(timestamp: float | None) -> datetime:
    assert timestamp is not None
    return datetime.fromtimestamp(timestamp)


def _overlapping_environments(spans: dict[str, list[tuple[datetime, datetime]]]) -> bool:
    """Whether a run of one environment ran while a run of another did."""
    runs = [(name, start, end) for name, each in spans.items() for start, end in each]
    return any(a[0] != b[0] and a[1] < b[2] and b[1] < a[2] for a in runs for b in runs)


def _differences(deployed: Path, alone: Path) -> dict[str, tuple[int, int]]:
    """Per table of the marts: the rows only the deployment has, and those only the
    environment alone has (`EXCEPT ALL` both ways); tables that differ only."""
    with duckdb.connect() as db:
        db.execute(f"ATTACH '{deployed}' AS deployed (READ_ONLY)")
        db.execute(f"ATTACH '{alone}' AS alone (READ_ONLY)")
        tables = _tables(db, "deployed")
        assert tables == _tables(db, "alone")
        assert {"fct_trial_balance", "fct_gl_entries"} <= {t for _, t in tables}
        differences = {}
        for schema, table in tables:
            name = f'"{schema}"."{table}"'
            only = [
                db.execute(
                    f"SELECT count(*) FROM (FROM {a}.{name} EXCEPT ALL FROM {b}.{name})"
                ).fetchone()[0]  # type: ignore[index]
                for a, b in (("deployed", "alone"), ("alone", "deployed"))
            ]
            if any(only):
                differences[f"{schema}.{table}"] = (only[0], only[1])
        return differences


def _tables(db: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    return db.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = ? ORDER BY ALL",
        [catalog],
    ).fetchall()
