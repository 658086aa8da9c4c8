"""Fixtures of the write-back tests: proposed corrections in a hand-made `marts.duckdb`, a
simulator with a small ledger, a client on it, and a loopback proxy standing for real AFAS."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx
import polars as pl
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from afas_pipeline.afas import AfasClient, AfasSettings, RetryPolicy
from tests.conftest import NOW, Simulator, pipeline_env

# Small: these tests post a few entries; the ledger only has to exist.
WRITEBACK_LINES = 400
ENTRY_DATE = NOW.date()  # 2026-11-20: period 11 of 2026 is open in every administration

_DDL = """
create schema if not exists marts;
-- The published warehouse equals AFAS (no rows that differ): the write-back's gate is open.
create or replace table marts.rec_gl_vs_afas (
    administration_id integer, difference decimal(18, 2), status varchar
);
create or replace table marts.corrections_proposed (
    correction_id varchar, correction_type varchar, reason varchar, source_ref varchar,
    administration_id integer, journal_id varchar, fiscal_year integer, period integer,
    entry_date date, line_no integer, account_kind varchar, account_code varchar,
    debit decimal(18, 2), credit decimal(18, 2), vat_code varchar, invoice_id varchar,
    description varchar
)
"""


def correction_rows(
    cid: str,
    *,
    amount: str = "100.00",
    administration_id: int = 1,
    day: date = ENTRY_DATE,
    debit_account: tuple[str, str] = ("1", "2999"),
    credit_account: tuple[str, str] = ("2", "10001"),
    journal_id: str | None = "80",
    correction_type: str = "suspense_clearing",
    credit_amount: str | None = None,
) -> list[dict[str, Any]]:
    """The two lines of a simple correction: debit one account, credit another."""
    base = {
        "correction_id": cid,
        "correction_type": correction_type,
        "reason": f"test correction {cid}",
        "source_ref": f"finding-{cid}",
        "administration_id": administration_id,
        "journal_id": journal_id,
        "fiscal_year": day.year,
        "period": day.month,
        "entry_date": day,
        "vat_code": None,
        "invoice_id": None,
    }
    return [
        {
            **base,
            "line_no": 1,
            "account_kind": debit_account[0],
            "account_code": debit_account[1],
            "debit": Decimal(amount),
            "credit": Decimal("0"),
            "description": f"{cid} debit",
        },
        {
            **base,
            "line_no": 2,
            "account_kind": credit_account[0],
            "account_code": credit_account[1],
            "debit": Decimal("0"),
            "credit": Decimal(credit_amount or amount),
            "description": f"{cid} credit",
        },
    ]


def write_corrections(data_dir: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Replace `marts.corrections_proposed` in `data_dir/marts.duckdb` with `rows`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        # An alias: a file named marts.duckdb is a catalog "marts", clashing with the schema.
        con.execute(f"attach '{data_dir / 'marts.duckdb'}' as analysts")
        con.execute("use analysts")
        con.execute(_DDL)
        columns = (
            "correction_id, correction_type, reason, source_ref, administration_id, journal_id, "
            "fiscal_year, period, entry_date, line_no, account_kind, account_code, debit, "
            "credit, vat_code, invoice_id, description"
        )
        names = [c.strip() for c in columns.split(",")]
        for row in rows:
            con.execute(
                f"insert into marts.corrections_proposed ({columns}) values "
                f"({', '.join('?' for _ in names)})",
                [row[n] for n in names],
            )


def write_gl_difference(data_dir: Path, administration_id: int, difference: str) -> None:
    """Make the published warehouse differ from AFAS in one account-period of an administration."""
    with duckdb.connect() as con:
        con.execute(f"attach '{data_dir / 'marts.duckdb'}' as analysts")
        con.execute(
            "insert into analysts.marts.rec_gl_vs_afas values (?, ?, 'difference')",
            [administration_id, Decimal(difference)],
        )


def ledger_entries(simulator: Simulator, cid: str) -> list[int]:
    """Distinct EntryNo in the simulator's ground truth whose VoucherNo is `cid`."""
    rows = simulator.environment.rows("DWH_Financiele_mutaties")
    hits = rows.filter(pl.col("VoucherNo") == cid)
    return sorted(set(hits["EntryNo"].to_list()))


def fast_retry() -> RetryPolicy:
    """Retries without real waiting (503 and locked-layout faults in tests)."""
    return RetryPolicy(max_attempts=8, initial_backoff=0.0, max_backoff=0.0, sleep=lambda _s: None)


@dataclass
class WritebackEnv:
    simulator: Simulator
    data_dir: Path

    def client(self, **kwargs: Any) -> AfasClient:
        settings = AfasSettings.create(token=self.simulator.token, base_url=self.simulator.base_url)
        return AfasClient(settings, **kwargs)


@pytest.fixture
def wb(
    start_simulator: Callable[..., Simulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> WritebackEnv:
    """A fresh small simulator and an empty data directory, with the AFAS_* settings (the
    deployment's environment, where the Dagster resource reads them) pointing at it."""
    simulator = start_simulator(journal_lines=WRITEBACK_LINES)
    for name, value in pipeline_env(simulator, tmp_path / "data").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AFAS_ALLOW_WRITES", raising=False)
    return WritebackEnv(simulator, tmp_path / "data")


def request_counts(simulator: Simulator) -> dict[str, int]:
    """Requests the simulator answered, by kind (e.g. "POST connectors/FiEntries")."""
    return dict(simulator.admin("GET", "requests")["by_kind"])


def posts(simulator: Simulator) -> int:
    """How many FiEntries POSTs reached the simulator (whatever their answer)."""
    return request_counts(simulator).get("POST connectors/FiEntries", 0)


def set_faults(simulator: Simulator, **config: Any) -> None:
    """Replace the simulator's fault injection (see FaultConfig)."""
    simulator.set_faults(**config)


class LoopbackProxy:
    """A proxy on 127.0.0.1 in front of the simulator, standing for a sidecar, an egress proxy
    or a tunnel to real AFAS: it forwards every request, and answers `/ProfitVersion` as AFAS
    does, without the simulator's word that it is one."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        app = Starlette(routes=[Route("/{path:path}", self._forward, methods=_METHODS)])
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    async def _forward(self, request: Request) -> Response:
        path = request.url.path.split("/ProfitRestServices", 1)[1]
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.request(
                request.method,
                f"{self.target}{path}",
                params=request.query_params,
                content=await request.body(),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            )
        body = answer.content
        if path.lower() == "/profitversion" and answer.status_code == 200:
            body = json.dumps({"version": answer.json()["version"]}).encode()
        return Response(body, status_code=answer.status_code, media_type="application/json")

    @property
    def base_url(self) -> str:
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/ProfitRestServices"

    def __enter__(self) -> LoopbackProxy:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)


_METHODS = ["GET", "POST", "PUT", "DELETE"]
