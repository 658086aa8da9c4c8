"""The warehouse DuckDB file that dbt builds: the digest of what a build reads, and the
analysts' copy of its marts.

DuckDB allows one writer per file and an open reader blocks a writer. So dbt alone writes
`warehouse.duckdb`, one build at a time (a file lock, whatever runs it: a schedule, a backfill,
the headless command), and analysts read `marts.duckdb`: a copy of the `marts` schema written
under a temporary name and renamed into place. A query open on the old copy goes on undisturbed,
and nobody ever sees half a build.

The published marts carry a digest of everything a build reads (`build_inputs`), and a build
whose inputs equal the published ones is skipped. A build that runs is incremental (the models
redo what changed in the raw layer since the last complete build began) unless it is asked to
rebuild or the dbt project, dbt's or DuckDB's version or the vars changed since
(`plan_build`, `record_build`). Running the build itself is `dbt_build.py`'s; where the files
are, `datadir.py`'s.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path

import duckdb

from afas_pipeline.datadir import (
    BUILDS_DIR,
    BUILT_INPUTS_FILE,
    INCREMENTAL_STATE_FILE,
    MARTS_FILE,
    OUTBOX_FILE,
    PUBLISHED_INPUTS_FILE,
    WAREHOUSE_FILE,
    replace_with,
    sql_string,
    write_bytes_atomically,
)
from afas_pipeline.dbt_build import DBT_PROJECT_DIR
from afas_pipeline.extract.days import amsterdam_today
from afas_pipeline.extract.storage import RawStore

MARTS_SCHEMA = "marts"
# DuckDB 2.0 writes storage version 69, which the DuckDB CLI on PyPI (duckdb-cli 1.5.6) and BI
# tools built on DuckDB 1.x refuse ("can only read versions between 64 and 68"). The analysts'
# copy is written as DuckDB 1.0 did (version 64): DuckDB 0.10 and every later version read it.
# The warehouse, read by this pipeline alone, keeps the current format.
MARTS_STORAGE_VERSION = "v1.0.0"
STATUS_MART = "rpt_reconciliation_status"  # where the reconciliation stands, per check
_DBT_PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")
_VERSIONED = ("dbt-core", "dbt-duckdb", "duckdb")
# Vars that change without changing what an incremental model holds: the business date (no
# incremental model reads it; the models that do are rebuilt every time).
_DAILY_VARS = frozenset({"today"})
CHANGED_SINCE_VAR = "changed_since"
# Copies tables into the new marts file (connection on it, data directory): row count per table.
SchemaCopier = Callable[[duckdb.DuckDBPyConnection, Path], Mapping[str, int]]


def build_inputs(raw: RawStore, *, today: date | None = None) -> str:
    """A digest of everything a dbt build reads: the raw layer (`RawStore.digest`), the
    write-back outbox (published beside the marts), the dbt project, the versions of dbt and
    DuckDB, and Amsterdam's date (the marts age open items and cut off future entries as of
    today). Call holding the raw lock (shared).
    """
    digest = hashlib.sha256(str(today or amsterdam_today()).encode())
    digest.update(b"\0raw\0" + raw.digest())
    _add_files(digest, [raw.data_dir / OUTBOX_FILE])
    _add_project(digest)
    return digest.hexdigest()


def _add_project(digest: hashlib._Hash) -> None:
    """The dbt project's files and the versions of dbt and DuckDB that run it."""
    for package in _VERSIONED:
        digest.update(f"\0{package}={metadata.version(package)}".encode())
    _add_files(digest, [f for part in _DBT_PROJECT_PARTS for f in _files(DBT_PROJECT_DIR / part)])


def _add_files(digest: hashlib._Hash, files: list[Path]) -> None:
    for path in files:
        if path.is_file():
            digest.update(f"\0{path}\0".encode())
            with path.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())


def _files(root: Path) -> list[Path]:
    return [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())


def project_digest(dbt_vars: Mapping[str, object]) -> str:
    """A digest of what decides how the models are built, the raw layer and the date aside: the
    dbt project, the versions of dbt and DuckDB, and the vars passed (the daily ones aside)."""
    digest = hashlib.sha256()
    _add_project(digest)
    kept = {name: value for name, value in dbt_vars.items() if name not in _DAILY_VARS}
    digest.update(json.dumps(kept, sort_keys=True, default=str).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class BuildPlan:
    """How the next dbt build runs: from scratch (`full_refresh`), or incremental over what
    the raw layer gained since `changed_since`, the start of the last complete build.
    `started_at` and `project` are recorded for the build after this one if it completes."""

    full_refresh: bool
    changed_since: datetime | None
    started_at: datetime
    project: str
    reason: str

    def dbt_args(self) -> list[str]:
        return ["--full-refresh"] if self.full_refresh else []

    def dbt_vars(self) -> dict[str, str]:
        since = self.changed_since
        return {} if since is None else {CHANGED_SINCE_VAR: since.isoformat()}


def plan_build(
    data_dir: Path, dbt_vars: Mapping[str, object], *, rebuild: bool = False
) -> BuildPlan:
    """Incremental when the last complete build was built by this very project, dbt, DuckDB
    and vars; else (or with `rebuild`) from scratch. Call holding the raw lock (shared): the
    build redoes what was written after the last one began, and nothing is written while it
    reads. A build that fails records nothing, so the next one redoes at least as much."""
    started_at = datetime.now(UTC)
    project = project_digest(dbt_vars)
    last = _last_build(data_dir)
    if rebuild:
        reason = "a rebuild was asked for"
    elif last is None:
        reason = "no complete build is recorded"
    elif last[1] != project:
        reason = "the dbt project, dbt, DuckDB or the vars changed since the last build"
    else:
        return BuildPlan(False, last[0], started_at, project, "incremental")
    return BuildPlan(True, None, started_at, project, reason)


def record_build(data_dir: Path, plan: BuildPlan) -> None:
    """Note that a build planned as `plan` completed: the next one redoes what came after."""
    state = {"started_at": plan.started_at.isoformat(), "project": plan.project}
    write_bytes_atomically(json.dumps(state).encode(), _state_file(data_dir))


def _last_build(data_dir: Path) -> tuple[datetime, str] | None:
    """When the last complete build began and its project digest; None if unknown."""
    try:
        state = json.loads(_state_file(data_dir).read_text())
        return datetime.fromisoformat(state["started_at"]), str(state["project"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _state_file(data_dir: Path) -> Path:
    return data_dir / BUILDS_DIR / INCREMENTAL_STATE_FILE


def up_to_date(raw: RawStore, inputs: str | None = None) -> bool:
    """True if the published marts of `raw`'s data directory were built from exactly what a
    build would read now (`inputs`, if the caller already has them; else `build_inputs`), and
    are there to be read: a deleted or damaged marts.duckdb is built and published again."""
    inputs = inputs or build_inputs(raw)
    return published_inputs(raw.data_dir) == inputs and marts_readable(raw.data_dir)


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


def publish_marts(data_dir: Path, *, copy_beside: SchemaCopier) -> dict[str, int]:
    """Copy the mart tables to a new `marts.duckdb` and swap it in atomically.

    A file named marts.duckdb is the DuckDB catalog `marts`, so a schema `marts` inside it makes
    `marts.x` ambiguous. The tables therefore go to `main` (`select * from fct_gl_entries`),
    and schema `marts` holds a view of each (`marts.marts.fct_gl_entries`, or
    `<alias>.marts.fct_gl_entries` when attached under another name). `copy_beside` copies
    what is published beside them into the new file (the write-back's outbox, as schema
    `writeback`), returning its row counts. The inputs of the build (`record_built_inputs`)
    are published with the marts.
    Call while holding `warehouse_lock`. Returns the row count of every published table.
    """
    warehouse = data_dir / WAREHOUSE_FILE
    counts: dict[str, int] = {}

    def write(temporary: Path) -> None:
        with duckdb.connect() as con:
            con.execute(
                f"attach '{sql_string(temporary)}' as published "
                f"(storage_version '{MARTS_STORAGE_VERSION}')"
            )
            con.execute("use published")
            con.execute(f"attach '{sql_string(warehouse)}' as warehouse (read_only)")
            counts.update(_copy_marts(con))
            con.execute("detach warehouse")
            counts.update(copy_beside(con, data_dir))
            con.execute("checkpoint published")
            con.execute("use memory")
            con.execute("detach published")
        (data_dir / PUBLISHED_INPUTS_FILE).unlink(missing_ok=True)  # never vouch for old marts

    built = data_dir / BUILDS_DIR / BUILT_INPUTS_FILE
    inputs = built.read_bytes() if built.exists() else b""
    replace_with(data_dir / MARTS_FILE, write)
    write_bytes_atomically(inputs, data_dir / PUBLISHED_INPUTS_FILE)
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


def findings(data_dir: Path) -> dict[str, int]:
    """What the published reconciliation found: per check of `rpt_reconciliation_status`, the
    findings in every administration (identities first; published, they read 0)."""
    with duckdb.connect(str(data_dir / MARTS_FILE), read_only=True) as con:
        rows = con.execute(
            f"select check_name, sum(findings) from main.{STATUS_MART} "
            "group by check_name order by min(severity), check_name"
        ).fetchall()
    return {str(check): int(count) for check, count in rows}
