"""The warehouse DuckDB file that dbt builds, and the analysts' copy of its marts.

DuckDB allows one writer per file and an open reader blocks a writer. So dbt alone writes
`warehouse.duckdb`, one build at a time (a file lock, whatever runs it: a schedule, a backfill,
the headless command), and analysts read `marts.duckdb`: a copy of the `marts` schema written
under a temporary name and renamed into place. A query open on the old copy goes on undisturbed,
and nobody ever sees half a build.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
WAREHOUSE_FILE = "warehouse.duckdb"
MARTS_FILE = "marts.duckdb"
MARTS_SCHEMA = "marts"


@contextmanager
def warehouse_lock(data_dir: Path) -> Iterator[None]:
    """Hold the warehouse for one build (or publish); others wait instead of failing."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "warehouse.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish_marts(data_dir: Path) -> dict[str, int]:
    """Copy the mart tables to a new `marts.duckdb` and swap it in atomically.

    A file named marts.duckdb is the DuckDB catalog `marts`, so a schema `marts` inside it makes
    `marts.x` ambiguous. The tables therefore go to `main` (`select * from fct_gl_entries`),
    and schema `marts` holds a view of each (`marts.marts.fct_gl_entries`, or
    `<alias>.marts.fct_gl_entries` when attached under another name). The write-back's
    outbox is published beside them, as schema `writeback`.
    Call while holding `warehouse_lock`. Returns the row count of every published table.
    """
    from afas_pipeline.writeback.outbox import copy_outbox_schema

    warehouse = data_dir / WAREHOUSE_FILE
    target = data_dir / MARTS_FILE
    temporary = data_dir / f"publish-{uuid.uuid4().hex}.duckdb.tmp"
    try:
        with duckdb.connect(str(temporary)) as con:
            con.execute(f"attach '{_sql(warehouse)}' as warehouse (read_only)")
            counts = _copy_marts(con)
            con.execute("detach warehouse")
            counts.update(copy_outbox_schema(con, data_dir))
            con.execute("checkpoint")
        os.replace(temporary, target)
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
