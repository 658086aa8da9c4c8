"""Reading the published marts (marts.duckdb) in tests, read-only, as an analyst would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb


@contextmanager
def marts_connection(data_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the analysts' database, with the `marts` schema as default.

    The database file is marts.duckdb, so its catalog is called `marts` too: `marts.x` is
    ambiguous (catalog or schema), hence `use <catalog>.marts` and unqualified table names.
    """
    con = duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True)
    try:
        (catalog,) = con.execute("select current_database()").fetchone() or ("marts",)
        con.execute(f'use "{catalog}".marts')
        yield con
    finally:
        con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def records(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
