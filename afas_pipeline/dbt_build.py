"""The dbt build: the project, the dbt that runs it, each build's folder under the data
directory, and a build that a killed run left running.

dbt's folders live under the data folder, one per build, with dbt's parse kept between builds
(its partial parsing) instead of reparsing the project every time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from afas_pipeline.datadir import (
    BUILD_PID_FILE,
    BUILDS_DIR,
    PARTIAL_PARSE_FILE,
    file_lock,
    write_bytes_atomically,
)

# afas_pipeline/dbt_project links to the repository's dbt_project (a wheel carries its files).
DBT_PROJECT_DIR = (Path(__file__).resolve().parent / "dbt_project").resolve()
KEPT_BUILDS = 3


class DbtProjectNotPreparedError(RuntimeError):
    """dbt could not parse the project, so the asset graph cannot be built from its manifest."""


def dbt_executable() -> str:
    """The dbt installed beside this Python (the pinned one), else the one on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def manifest_path() -> Path:
    return DBT_PROJECT_DIR / "target" / "manifest.json"


def parse_dbt_project(*, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Write dbt's manifest (`dbt parse`), which Dagster reads to build the asset graph."""
    command = [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR)]
    command += ["--profiles-dir", str(DBT_PROJECT_DIR)]
    return subprocess.run(command, check=False, capture_output=capture, text=True)


def ensure_manifest() -> None:
    """Parse the dbt project if it has no manifest yet: a fresh install (`pip install .`) runs
    without the set-up's `afas-pipeline prepare`. Costs a stat when the manifest is there."""
    if manifest_path().exists():
        return
    manifest_path().parent.mkdir(parents=True, exist_ok=True)
    # Processes starting together (the UI's code server and daemon) parse once, not at once.
    with file_lock(manifest_path().parent / "prepare.lock"):
        if manifest_path().exists():
            return
        # On stderr: a headless run sends stdout to a log file while dbt runs.
        print(
            f"Preparing the dbt project in {DBT_PROJECT_DIR} (dbt parse, once) ...", file=sys.stderr
        )
        parsed = parse_dbt_project(capture=True)
    if parsed.returncode != 0 or not manifest_path().exists():
        answer = (parsed.stdout + parsed.stderr).strip()[-2000:]
        raise DbtProjectNotPreparedError(
            f"dbt could not parse the project in {DBT_PROJECT_DIR} (exit code "
            f"{parsed.returncode}): run `afas-pipeline prepare` to try again\n{answer}"
        )


@contextmanager
def recorded_build(data_dir: Path, pid: int) -> Iterator[None]:
    """Record the running dbt build's process for the next builder (see `stop_orphaned_build`)."""
    record = data_dir / BUILD_PID_FILE
    record.write_text(f"{pid} {_start_time(pid)}\n")
    try:
        yield
    finally:
        record.unlink(missing_ok=True)


def stop_orphaned_build(data_dir: Path, *, grace: float = 10.0) -> int | None:
    """Stop a dbt build left running by a killed run; returns its pid if there was one.

    Call holding `warehouse_lock`. The lock dies with the run that held it, but its dbt child
    does not: it goes on writing the warehouse (Python ignores SIGPIPE, so losing its parent's
    pipe does not stop it) and a new build then fails on DuckDB's file lock (found by
    tests/reliability: SIGKILL of `afas-pipeline run` during `dbt build`). Holding the lock
    means no live run owns that build, so it is safe to stop; DuckDB's WAL keeps the file sound.
    """
    record = data_dir / BUILD_PID_FILE
    try:
        pid_text, _, started = record.read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    record.unlink(missing_ok=True)
    if not _alive(pid) or _start_time(pid) != started:  # gone, or the pid was reused
        return None
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _alive(pid):
            break
    return pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its new parent) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        return stat.read_text().rsplit(") ", 1)[1][0] != "Z"
    return True


def _start_time(pid: int) -> str:
    # The process's start time (Linux), so a reused pid is never mistaken for the old build.
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[19]
    return ""


def new_build_folder(data_dir: Path, run_id: str) -> Path:
    """A fresh dbt target folder for one build, seeded with the last build's parse.

    dbt reparses the whole project when its target folder has no `partial_parse.msgpack`
    (seconds per build); dagster-dbt gives every build a fresh folder and seeds it only from the
    project's own target folder, which `afas-pipeline prepare` parsed for another data folder.
    """
    builds = data_dir / BUILDS_DIR
    folder = builds / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{run_id[:8]}"
    folder.mkdir(parents=True)
    kept = builds / PARTIAL_PARSE_FILE
    if kept.exists():
        shutil.copyfile(kept, folder / PARTIAL_PARSE_FILE)
    return folder


def keep_build_folder(data_dir: Path, folder: Path) -> None:
    """Keep this build's parse for the next build and drop all but the newest build folders."""
    builds = data_dir / BUILDS_DIR
    parsed = folder / PARTIAL_PARSE_FILE
    if parsed.exists():
        write_bytes_atomically(parsed.read_bytes(), builds / PARTIAL_PARSE_FILE)
    folders = sorted(p for p in builds.iterdir() if p.is_dir())
    for old in folders[:-KEPT_BUILDS]:
        shutil.rmtree(old, ignore_errors=True)
