"""Shared pieces of the reliability suite: comparisons of whole data directories, an analyst
querying the marts in a loop, simulator controls and secret scans.

The suite compares against `loaded_pipeline` (seed 7, whole history, no faults): a simulator
started with the same seed holds the same ledger, so its run must end in the same data.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from tests.conftest import Pipeline, Simulator
from tests.extract.support import file_contents

# -- the state a run leaves behind ---------------------------------------------------------------


def raw_state(data_dir: Path) -> dict[str, Any]:
    """Every raw Parquet file's data (load columns aside), by relative path."""
    return file_contents(data_dir / "raw")


def marts_state(data_dir: Path) -> dict[str, list[tuple]]:
    """The sorted rows of every mart table in `marts.duckdb`."""
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as con:
        tables = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' order by 1"
        ).fetchall()
        return {
            t: con.execute(f'select * from main."{t}" order by all').fetchall() for (t,) in tables
        }


def assert_same_state(data_dir: Path, reference: Path) -> None:
    """The raw layer and the marts equal the reference's: nothing lost, nothing duplicated."""
    raw, expected_raw = raw_state(data_dir), raw_state(reference)
    assert sorted(raw) == sorted(expected_raw)  # the same partitions, none half-written
    for name, contents in expected_raw.items():
        assert raw[name] == contents, name
    marts, expected_marts = marts_state(data_dir), marts_state(reference)
    assert sorted(marts) == sorted(expected_marts)
    for table, rows in expected_marts.items():
        assert marts[table] == rows, table


def fingerprint(folder: Path) -> dict[str, str]:
    """The SHA-256 of every file under `folder`, by relative path: byte-identical or not."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def record_count(data_dir: Path) -> int:
    return sum(len(rows) for _, rows in raw_state(data_dir).values())


# -- the simulator's admin endpoints -------------------------------------------------------------


def set_faults(simulator: Simulator, **faults: object) -> None:
    simulator.set_faults(**faults)


def request_counts(simulator: Simulator) -> dict[str, Any]:
    return simulator.admin("GET", "requests")


def injected_faults(counts: dict[str, Any]) -> int:
    """Answers that were faults: 5xx statuses plus drops (the counter records those as 'drop')."""
    by_status = counts["by_status"]
    return sum(n for status, n in by_status.items() if not str(status).startswith(("2", "4")))


# -- secrets --------------------------------------------------------------------------------------


def secret_forms(token_data: str) -> list[bytes]:
    """Every form in which the token could leak: the data part (any case), the XML, the header."""
    xml = f"<token><version>1</version><data>{token_data}</data></token>"
    encoded = base64.b64encode(xml.encode())
    return [token_data.encode(), token_data.lower().encode(), xml.encode(), encoded]


def leaks_in(blob: bytes, token_data: str) -> list[str]:
    return [form.decode()[:12] + "…" for form in secret_forms(token_data) if form in blob]


def files_leaking(folder: Path, token_data: str) -> dict[str, list[str]]:
    """Files under `folder` (DuckDB, Parquet, logs, state: every byte) that hold the token."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        leaks = leaks_in(path.read_bytes(), token_data)
        if leaks:
            found[str(path.relative_to(folder))] = leaks
    return found


# -- an analyst on the marts ----------------------------------------------------------------------

_UNBALANCED = """
select administration_id, fiscal_year, period, sum(debit) - sum(credit), sum(movement)
from fct_trial_balance
group by all
having sum(debit) <> sum(credit) or sum(movement) <> 0
"""


@dataclass
class Analyst:
    """Queries `marts.duckdb` read-only in a loop while runs go on: one connection held open the
    whole time, and a fresh connection per read (which sees each newly published build)."""

    marts: Path
    reads: int = 0
    problems: list[str] = field(default_factory=list)
    snapshots: set[int] = field(default_factory=set)  # distinct row counts of fct_gl_entries
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        held = duckdb.connect(str(self.marts), read_only=True)
        try:
            while not self._stop.is_set():
                self._read(held)
                with duckdb.connect(str(self.marts), read_only=True) as fresh:
                    self._read(fresh)
                # An analyst's pace, not a busy loop: the runs share the machine's cores.
                self._stop.wait(0.05)
        finally:
            held.close()

    def _read(self, con: duckdb.DuckDBPyConnection) -> None:
        try:
            unbalanced = con.execute(_UNBALANCED).fetchall()
            lines = con.execute("select count(*) from fct_gl_entries").fetchone()
        except duckdb.Error as exc:  # a failed read is what the analyst would see: record it
            self.problems.append(f"query failed: {exc}")
            return
        self.reads += 1
        self.snapshots.add(int(lines[0]) if lines else -1)
        if unbalanced:
            self.problems.append(f"trial balance off in {unbalanced[:3]}")

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture
def analyst_on() -> Iterator[Any]:
    """`analyst_on(marts_path)` starts an analyst thread; it is stopped and joined afterwards."""
    started: list[tuple[Analyst, threading.Thread]] = []

    def start(marts: Path) -> Analyst:
        analyst = Analyst(marts)
        thread = threading.Thread(target=analyst.run, name="analyst", daemon=True)
        thread.start()
        started.append((analyst, thread))
        return analyst

    yield start
    for analyst, thread in started:
        analyst.stop()
        thread.join(timeout=30)


@pytest.fixture
def pipeline_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Simulator, Path], Pipeline]]:
    """`pipeline_on(simulator, data_dir)`: a `Pipeline` (in-process runs) on them; its Dagster
    instance is disposed of after the test."""
    instances: list[dg.DagsterInstance] = []

    def make(simulator: Simulator, data_dir: Path) -> Pipeline:
        for name, value in child_env(simulator, data_dir).items():
            if name.startswith("AFAS_"):
                monkeypatch.setenv(name, value)
        instances.append(dg.DagsterInstance.ephemeral())
        return Pipeline(simulator, data_dir, instances[-1])

    yield make
    for instance in instances:
        instance.dispose()


# -- child processes ------------------------------------------------------------------------------


def child_env(simulator: Simulator, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "AFAS_ALLOW_WRITES")}
    env.update(
        AFAS_BASE_URL=simulator.base_url,
        AFAS_TOKEN=simulator.token,
        AFAS_PIPELINE_DATA_DIR=str(data_dir),
        AFAS_ENVIRONMENT="",
        AFAS_ENVIRONMENT_TYPE="",
        AFAS_ADMINISTRATIONS="",
    )
    return env


def processes_using(data_dir: Path) -> list[int]:
    """Live processes (other than this one) whose environment points at `data_dir`."""
    marker = f"AFAS_PIPELINE_DATA_DIR={data_dir}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            state = (proc / "stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if marker in environ.split(b"\0") and state != "Z":
            pids.append(int(proc.name))
    return pids


def kill_all(pids: list[int], grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL what is left after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except OSError:
        return False
    return state != "Z"


def dump(value: Any) -> bytes:
    return json.dumps(value, default=str).encode()
