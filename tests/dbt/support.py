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


def fi_entry_payloads(corrections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """FiEntries POST bodies built from corrections_proposed rows, one per correction_id.

    This is the mapping the write-back relies on: header Year/Peri/UnId/JoCo, lines
    VaAs/AcNr/EnDa/BpDa/BpNr/InId/Ds/AmDe/AmCr/VaId.
    """
    by_id: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(corrections, key=lambda r: (r["correction_id"], r["line_no"])):
        by_id.setdefault(row["correction_id"], []).append(row)
    payloads = []
    for correction_id, lines in by_id.items():
        head = lines[0]
        fi_lines = []
        for line in lines:
            fields = {
                "VaAs": line["account_kind"],
                "AcNr": line["account_code"],
                "EnDa": line["entry_date"].isoformat(),
                "BpDa": line["entry_date"].isoformat(),
                "BpNr": correction_id,
                "Ds": line["description"],
                "AmDe": str(line["debit"]),
                "AmCr": str(line["credit"]),
            }
            if line["invoice_id"] is not None:
                fields["InId"] = line["invoice_id"]
            if line["vat_code"] is not None:
                fields["VaId"] = line["vat_code"]
            fi_lines.append({"Fields": fields})
        payloads.append(
            {
                "FiEntryPar": {
                    "Element": {
                        "Fields": {
                            "Year": head["fiscal_year"],
                            "Peri": head["period"],
                            "UnId": head["administration_id"],
                            "JoCo": head["journal_id"],
                        },
                        "Objects": [{"FiEntries": {"Element": fi_lines}}],
                    }
                }
            }
        )
    return payloads
