"""What analysts open the marts with: the DuckDB CLI that the set-up installs, running the
README's own queries, and a file that DuckDB 1.x reads."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from afas_pipeline.datadir import MARTS_FILE, WAREHOUSE_FILE
from tests.conftest import PROJECT_DIR, Pipeline

DUCKDB_CLI = Path(sys.executable).with_name("duckdb")  # what the README's command runs
# DuckDB writes its storage version as a little-endian integer after the magic bytes "DUCK".
DUCKDB_1_0_STORAGE = 64  # read by every DuckDB since 0.10, the CLI 1.5 on PyPI included
CLI_READABLE = range(64, 69)  # duckdb-cli 1.5.6: "can only read versions between 64 and 68"


def readme_queries() -> list[str]:
    """The statements of the README's SQL block under "Querying the marts"."""
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("## Querying the marts", 1)[1]
    block = re.search(r"```sql\n(.*?)```", section, re.S)
    assert block, "the README has no SQL block under 'Querying the marts'"
    return [s.strip() for s in block.group(1).split(";") if s.strip()]


def run_cli(marts: Path, sql: str) -> subprocess.CompletedProcess[str]:
    command = [str(DUCKDB_CLI), "-readonly", "-csv", str(marts), "-c", sql]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def storage_version(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[8:12] == b"DUCK", f"{path} is not a DuckDB file"
    return int.from_bytes(header[12:20], "little")


def test_the_installed_duckdb_cli_runs_the_readme_queries_on_the_published_marts(
    loaded_pipeline: Pipeline,
) -> None:
    assert DUCKDB_CLI.exists(), "the set-up installs the DuckDB CLI into the venv"
    marts = loaded_pipeline.data_dir / MARTS_FILE
    queries = readme_queries()
    assert len(queries) >= 4

    listing = run_cli(marts, "show tables")
    assert listing.returncode == 0, listing.stderr
    assert "fct_trial_balance" in listing.stdout
    with duckdb.connect(str(marts), read_only=True) as con:
        for sql in queries:
            answer = run_cli(marts, sql)
            assert answer.returncode == 0, f"{sql}\n{answer.stderr}"
            rows = list(csv.reader(io.StringIO(answer.stdout)))[1:]  # without the header
            expected = con.execute(sql).fetchall()
            assert expected, f"the README's query finds nothing on the demo ledger:\n{sql}"
            assert len(rows) == len(expected), sql
            # Amounts travel as exact decimals: the CLI prints what Python reads.
            assert [r[-1] for r in rows] == [str(e[-1]) for e in expected], sql


def test_the_marts_are_published_in_a_storage_version_older_duckdb_reads(
    loaded_pipeline: Pipeline,
) -> None:
    marts = storage_version(loaded_pipeline.data_dir / MARTS_FILE)
    warehouse = storage_version(loaded_pipeline.data_dir / WAREHOUSE_FILE)

    assert marts == DUCKDB_1_0_STORAGE
    assert marts in CLI_READABLE
    assert warehouse > max(CLI_READABLE)  # the warehouse stays in DuckDB 2.0's own format


def test_the_demo_ends_with_the_findings_and_a_query_that_runs(loaded_pipeline: Pipeline) -> None:
    from afas_pipeline.demo import marts_summary

    lines = marts_summary(loaded_pipeline.data_dir)

    marts = loaded_pipeline.data_dir / MARTS_FILE
    assert f"The marts: {marts}" in lines
    heading = lines.index("What the reconciliation found:")
    shown = {line.split()[0]: int(line.split()[1]) for line in lines[heading + 1 : -2]}
    with duckdb.connect(str(marts), read_only=True) as con:
        open_vat = con.execute(
            "select count(*) from rec_vat_mismatches where status = 'open'"
        ).fetchone()
        checks = con.execute("select count(distinct check_name) from rpt_reconciliation_status")
        assert len(shown) == checks.fetchone()[0]  # type: ignore[index]
    assert open_vat is not None
    assert shown["vat_mismatches"] == open_vat[0] > 0  # the simulator plants them
    assert shown["gl_vs_afas_closed_periods"] == shown["gl_vs_afas_open_periods"] == 0
    query = lines[-1].split(' -c "', 1)[1].rstrip('"')
    tried = run_cli(marts, query)
    assert tried.returncode == 0, tried.stderr
    assert len(tried.stdout.splitlines()) > 1
