"""The warehouse DuckDB file that dbt builds, and the analysts' copy of its marts.

DuckDB allows one writer per file and an open reader blocks a writer. So dbt alone writes
`warehouse.duckdb`, one build at a time (a file lock, whatever runs it: a schedule, a backfill,
the headless command), and analysts read `marts.duckdb`: a copy of the `marts` schema written
under a temporary name and renamed into place. A query open on the old copy goes on undisturbed,
and nobody ever sees half a build.

A build costs tens of seconds whatever changed, so the published marts carry a digest of
everything a build reads (`build_inputs`), and a build whose inputs equal the published ones is
skipped. dbt's folders live under the data folder, one per build, with dbt's parse kept between
builds (its partial parsing) instead of reparsing the project every time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path

import duckdb

from afas_pipeline.extract.days import amsterdam_today
from afas_pipeline.extract.storage import write_bytes_atomically

# afas_pipeline/dbt_project links to the repository's dbt_project (a wheel carries its files).
DBT_PROJECT_DIR = (Path(__file__).resolve().parent / "dbt_project").resolve()
WAREHOUSE_FILE = "warehouse.duckdb"
MARTS_FILE = "marts.duckdb"
MARTS_SCHEMA = "marts"
# DuckDB 2.0 writes storage version 69, which the DuckDB CLI on PyPI (duckdb-cli 1.5.6) and BI
# tools built on DuckDB 1.x refuse ("can only read versions between 64 and 68"). The analysts'
# copy is written as DuckDB 1.0 did (version 64): DuckDB 0.10 and every later version read it.
# The warehouse, read by this pipeline alone, keeps the current format.
MARTS_STORAGE_VERSION = "v1.0.0"
BUILD_PID_FILE = "dbt-build.pid"
BUILDS_DIR = "dbt"  # dbt's target folders, one per build, and the kept parse
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
BUILT_INPUTS_FILE = "built.inputs"  # in BUILDS_DIR: the inputs of the last complete build
PUBLISHED_INPUTS_FILE = "marts.inputs"  # beside marts.duckdb: the inputs it was built from
DBT_OUTPUT_FILE = "output.log"  # in BUILDS_DIR: dbt's output of the last quiet headless run
# A reconciliation row whose status is one of these needs nothing; every other row is a finding.
STATUS_MART = "rpt_reconciliation_status"  # where the reconciliation stands, per check
KEPT_BUILDS = 3
_DBT_PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")
_VERSIONED = ("dbt-core", "dbt-duckdb", "duckdb")


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
    with _flock(manifest_path().parent / "prepare.lock", fcntl.LOCK_EX):
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
def warehouse_lock(data_dir: Path) -> Iterator[None]:
    """Hold the warehouse for one build (or publish); others wait instead of failing."""
    with _flock(data_dir / "warehouse.lock", fcntl.LOCK_EX):
        yield


@contextmanager
def raw_lock(data_dir: Path, *, shared: bool) -> Iterator[None]:
    """Readers of the raw layer (dbt builds: shared) against writers (extraction: exclusive).

    A rename is atomic, but DuckDB opens a Parquet file more than once during a scan (footer at
    bind time, data at execution), so a day file replaced in between fails the build with "Could
    not read enough bytes" (found by tests/reliability: a backfill overlapping another run's
    dbt build). Holding this lock while extracting keeps a build's raw layer still.
    """
    with _flock(data_dir / "raw.lock", fcntl.LOCK_SH if shared else fcntl.LOCK_EX):
        yield


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


@contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    # flock dies with the process, so a killed run never leaves a lock behind.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_inputs(data_dir: Path, *, today: date | None = None) -> str:
    """A digest of everything a dbt build reads: the raw layer, the write-back outbox (published
    beside the marts), the dbt project, the versions of dbt and DuckDB, and Amsterdam's date
    (the marts age open items and cut off future entries as of today). Call holding the raw
    lock (shared).
    """
    digest = hashlib.sha256(str(today or amsterdam_today()).encode())
    for package in _VERSIONED:
        digest.update(f"\0{package}={metadata.version(package)}".encode())
    files = [*_files(data_dir / "raw"), data_dir / "writeback.duckdb"]
    files += [f for part in _DBT_PROJECT_PARTS for f in _files(DBT_PROJECT_DIR / part)]
    for path in files:
        if path.is_file():
            digest.update(f"\0{path}\0".encode())
            with path.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _files(root: Path) -> list[Path]:
    return [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())


def up_to_date(data_dir: Path, inputs: str | None = None) -> bool:
    """True if the published marts were built from exactly what a build would read now
    (`inputs`, if the caller already has them), and are there to be read: a deleted or
    damaged marts.duckdb is built and published again."""
    return published_inputs(data_dir) == (inputs or build_inputs(data_dir)) and marts_readable(
        data_dir
    )


def marts_readable(data_dir: Path) -> bool:
    """Whether marts.duckdb opens as a DuckDB database that holds tables."""
    try:
        with duckdb.connect(str(data_dir / MARTS_FILE), read_only=True) as con:
            row = con.execute("select count(*) from duckdb_tables()").fetchone()
    except duckdb.Error:
        return False
    return bool(row and row[0])


def published_inputs(data_dir: Path) -> str | None:
    """The inputs of the build that `marts.duckdb` holds, if it was a complete one."""
    with contextlib.suppress(OSError):
        return (data_dir / PUBLISHED_INPUTS_FILE).read_text().strip() or None
    return None


def record_built_inputs(data_dir: Path, inputs: str | None) -> None:
    """Note what the warehouse was built from; None while a build (or a partial one) changes it."""
    record = data_dir / BUILDS_DIR / BUILT_INPUTS_FILE
    if inputs is None:
        record.unlink(missing_ok=True)
    else:
        write_bytes_atomically(inputs.encode(), record)


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


def publish_marts(data_dir: Path) -> dict[str, int]:
    """Copy the mart tables to a new `marts.duckdb` and swap it in atomically.

    A file named marts.duckdb is the DuckDB catalog `marts`, so a schema `marts` inside it makes
    `marts.x` ambiguous. The tables therefore go to `main` (`select * from fct_gl_entries`),
    and schema `marts` holds a view of each (`marts.marts.fct_gl_entries`, or
    `<alias>.marts.fct_gl_entries` when attached under another name). The write-back's
    outbox is published beside them, as schema `writeback`.
    The inputs of the build (`record_built_inputs`) are published with the marts.
    Call while holding `warehouse_lock`. Returns the row count of every published table.
    """
    from afas_pipeline.writeback.outbox import copy_outbox_schema

    warehouse = data_dir / WAREHOUSE_FILE
    target = data_dir / MARTS_FILE
    temporary = data_dir / f"publish-{uuid.uuid4().hex}.duckdb.tmp"
    try:
        with duckdb.connect() as con:
            con.execute(
                f"attach '{_sql(temporary)}' as published "
                f"(storage_version '{MARTS_STORAGE_VERSION}')"
            )
            con.execute("use published")
            con.execute(f"attach '{_sql(warehouse)}' as warehouse (read_only)")
            counts = _copy_marts(con)
            con.execute("detach warehouse")
            counts.update(copy_outbox_schema(con, data_dir))
            con.execute("checkpoint published")
            con.execute("use memory")
            con.execute("detach published")
        built = data_dir / BUILDS_DIR / BUILT_INPUTS_FILE
        inputs = built.read_bytes() if built.exists() else b""
        (data_dir / PUBLISHED_INPUTS_FILE).unlink(missing_ok=True)  # never vouch for old marts
        os.replace(temporary, target)
        write_bytes_atomically(inputs, data_dir / PUBLISHED_INPUTS_FILE)
    finally:
        temporary.unlink(missing_ok=True)
    return counts


def _copy_marts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = con.execute(
        "select table_name from duckdb_tables() where database_name = 'warehouse' "
        "and schema_name = ? order by table_name",
        [MARTS_SCHEMA],
    ).fetchall()
    con.execute(f"create schema {MARTS_SCHEMA}")
    counts = {}
    for (table,) in tables:
        con.execute(
            f'create table main."{table}" as select * from warehouse.{MARTS_SCHEMA}."{table}"'
        )
        con.execute(f'create view {MARTS_SCHEMA}."{table}" as select * from main."{table}"')
        row = con.execute(f'select count(*) from main."{table}"').fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")


def findings(data_dir: Path) -> dict[str, int]:
    """What the published reconciliation found: per check of `rpt_reconciliation_status`, the
    findings in every administration (identities first; published, they read 0)."""
    with duckdb.connect(str(data_dir / MARTS_FILE), read_only=True) as con:
        rows = con.execute(
            f"select check_name, sum(findings) from main.{STATUS_MART} "
            "group by check_name order by min(severity), check_name"
        ).fetchall()
    return {str(check): int(count) for check, count in rows}
