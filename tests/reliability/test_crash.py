"""Crashes and overlap: the headless command is SIGKILLed at seeded random moments of extraction
and of the dbt build, then run to completion while another backfill overlaps it and an analyst
queries the marts; the end state equals an uninterrupted run's. (Write-back crashes: see
tests/writeback/test_crash.py, which kills `--send` children mid-batch.)"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from afas_pipeline.datadir import BUILD_PID_FILE, warehouse_lock
from afas_pipeline.dbt_build import recorded_build, stop_orphaned_build
from afas_pipeline.runner import failures
from tests.conftest import HISTORY_START, LOADED_SIMULATOR, NOW, Pipeline, Simulator
from tests.reliability.conftest import (
    Analyst,
    assert_same_state,
    child_env,
    kill_all,
    leaks_in,
    processes_using,
    request_counts,
)
from tests.servers import default_signals

SEED = int(os.environ.get("RELIABILITY_CRASH_SEED", "20261121"))  # vary it to soak
CHILD_TIMEOUT = 420.0


@dataclass
class Kills:
    """What the kill loop did, for the figures."""

    landed: int = 0
    in_extract: int = 0
    in_dbt: int = 0
    orphans_seen: int = 0


class HeadlessRun:
    """`python -m afas_pipeline.cli run` as a child, its output in files (never pipes: a child
    blocked on a full pipe would hold the warehouse lock forever)."""

    def __init__(self, simulator: Simulator, data_dir: Path, first: date, last: date) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.out, self.err = data_dir.parent / "child.out", data_dir.parent / "child.err"
        command = [sys.executable, "-m", "afas_pipeline.cli", "run"]
        command += ["--start", str(first), "--end", str(last)]
        with self.out.open("a") as stdout, self.err.open("a") as stderr:
            self.process = subprocess.Popen(
                command,
                env=child_env(simulator, data_dir),
                stdout=stdout,
                stderr=stderr,
                preexec_fn=default_signals,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def children(tmp_path: Path) -> Iterator[list[HeadlessRun]]:
    """Headless runs started by a test; each one, and anything left using its data directory
    (an orphaned dbt), is gone for sure afterwards."""
    started: list[HeadlessRun] = []
    yield started
    for child in started:
        child.kill()
    kill_all(processes_using(tmp_path / "data"))


def _wait_for(condition: Callable[[], bool], child: HeadlessRun, timeout: float = 240) -> bool:
    deadline = time.monotonic() + timeout
    while child.alive() and time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _dbt_building(child: HeadlessRun) -> Callable[[], bool]:
    """Whether the child's `dbt build` runs (not its start-up `dbt --version` or `parse`)."""

    def building() -> bool:
        for proc in Path("/proc").iterdir():
            try:
                stat = (proc / "stat").read_text().split(") ", 1)[1].split()
                command = (proc / "cmdline").read_bytes().split(b"\0")
            except (OSError, IndexError):
                continue
            if int(stat[1]) == child.process.pid and b"build" in command:
                return True
        return False

    return building


def _kill_rounds(
    simulator: Simulator, data_dir: Path, rounds: int, rng: random.Random, started: list
) -> Kills:
    kills = Kills()
    for n in range(rounds):
        child = HeadlessRun(simulator, data_dir, HISTORY_START, NOW.date())
        started.append(child)
        in_dbt = n % 2 == 1  # alternate: extraction, then the dbt build (and publication)
        if in_dbt:
            reached = _wait_for(_dbt_building(child), child)
            time.sleep(rng.uniform(0.0, 6.0))
        else:
            calls = request_counts(simulator)["total"] + rng.randint(3, 60)
            reached = _wait_for(lambda c=calls: request_counts(simulator)["total"] >= c, child)
        if reached and child.alive():
            kills.landed += 1
            kills.in_dbt += in_dbt
            kills.in_extract += not in_dbt
        child.kill()
        # A dbt whose parent died is left running (its stdout pipe is gone); the re-run
        # must cope with it. Counted, not killed.
        kills.orphans_seen += len(processes_using(data_dir))
    return kills


def _crash_then_complete(
    rounds: int,
    start_simulator: Callable[..., Simulator],
    loaded_pipeline: Pipeline,
    tmp_path: Path,
    pipeline_on: Callable[[Simulator, Path], Pipeline],
    analyst_on: Callable[[Path], Analyst],
    children: list[HeadlessRun],
    overlap: tuple[date, date],
) -> Kills:
    simulator = start_simulator(**LOADED_SIMULATOR)
    data_dir = tmp_path / "data"
    kills = _kill_rounds(simulator, data_dir, rounds, random.Random(SEED), children)

    # The analyst holds an earlier build open (as if from yesterday) through what follows.
    shutil.copy(loaded_pipeline.data_dir / "marts.duckdb", data_dir / "marts.duckdb")
    analyst = analyst_on(data_dir / "marts.duckdb")
    final = HeadlessRun(simulator, data_dir, HISTORY_START, NOW.date())
    children.append(final)
    # Once the re-run's extraction is done and its dbt build started, another backfill (as from
    # the UI) over an overlapping range starts: it replaces raw days the build is reading.
    assert _wait_for(_dbt_building(final), final), final.err.read_text()[-3000:]
    pipeline = pipeline_on(simulator, data_dir)
    overlapping = pipeline.run(*overlap)
    code = final.process.wait(timeout=CHILD_TIMEOUT)

    assert code == 0, final.err.read_text()[-3000:]
    assert "succeeded:" in final.out.read_text().splitlines()[-1]
    assert leaks_in(final.out.read_bytes() + final.err.read_bytes(), simulator.token) == []
    assert overlapping.success, failures(overlapping)
    assert_same_state(data_dir, loaded_pipeline.data_dir)
    analyst.stop()
    assert analyst.reads > 0
    assert analyst.problems == []
    print(f"\ncrash rounds {rounds}: {kills}; analyst reads {analyst.reads}")
    return kills


@pytest.mark.parametrize(
    ("rounds", "overlap_from", "must_land"),
    [
        pytest.param(2, date(2026, 11, 1), 2, id="ci"),
        # The soak: more kills, a longer overlapping backfill; only with `-m slow`.
        pytest.param(
            8,
            date(2026, 6, 1),
            6,
            id="soak",
            marks=[pytest.mark.slow, pytest.mark.timeout(1800)],
        ),
    ],
)
def test_killed_runs_then_a_rerun_end_like_an_uninterrupted_run(
    rounds: int,
    overlap_from: date,
    must_land: int,
    start_simulator: Callable[..., Simulator],
    loaded_pipeline: Pipeline,
    tmp_path: Path,
    pipeline_on: Callable[[Simulator, Path], Pipeline],
    analyst_on: Callable[[Path], Analyst],
    children: list[HeadlessRun],
) -> None:
    kills = _crash_then_complete(
        rounds,
        start_simulator,
        loaded_pipeline,
        tmp_path,
        pipeline_on,
        analyst_on,
        children,
        overlap=(overlap_from, NOW.date()),
    )
    assert kills.landed >= must_land, kills


def test_a_build_left_running_by_a_killed_run_is_stopped_by_the_next(tmp_path: Path) -> None:
    """The product side of the orphaned dbt: the next builder (holding the warehouse lock) stops
    a build whose run was killed, and never a process that merely reuses its pid."""
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], preexec_fn=default_signals
    )
    try:
        with warehouse_lock(tmp_path):
            record = recorded_build(tmp_path, orphan.pid)
            record.__enter__()  # its run died: the record stays (kept referenced: no cleanup)
            stranger = subprocess.Popen(
                [sys.executable, "-c", "import time; time.sleep(600)"], preexec_fn=default_signals
            )
            try:
                assert stop_orphaned_build(tmp_path) == orphan.pid
                assert orphan.wait(timeout=15) == -signal.SIGTERM
                # A record naming a pid with another start time (reused) stops nothing.
                (tmp_path / BUILD_PID_FILE).write_text(f"{stranger.pid} 1\n")
                assert stop_orphaned_build(tmp_path) is None
                assert stranger.poll() is None
            finally:
                stranger.kill()
                stranger.wait(timeout=15)
    finally:
        orphan.kill()
        orphan.wait(timeout=15)
