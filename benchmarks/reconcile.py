"""The full reconciliation of the journal lines, against an in-process simulator.

`python -m benchmarks.reconcile [--lines 100000] [--latencies 0 300]` builds a simulator with a
ledger of about that many lines (fixed seed and clock), loads the whole history with `load_days`,
then reconciles it once per latency (AFAS-like latency on every request) and prints one JSON
line per run: records compared, records healed (0: nothing differs), API calls, seconds. The
load's and the reconciliation's figures show what the weekly job costs beside a backfill.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from afas_pipeline.afas import AfasSettings
from afas_pipeline.extract.days import DayRange
from afas_pipeline.extract.loader import load_days
from afas_pipeline.extract.reconcile import reconcile
from afas_pipeline.extract.specs import contract_client, spec_by_name
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.simulator.environment import Environment, SimulatorConfig
from afas_pipeline.simulator.faults import FaultConfig
from afas_pipeline.simulator.server import ServerThread

NOW = datetime(2026, 11, 20, 14, 30)
FIRST = date(2025, 1, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--latencies", type=float, nargs="*", default=[0.0, 300.0])
    args = parser.parse_args(argv)
    spec = spec_by_name("DWH_Financiele_mutaties")
    days = DayRange.inclusive(FIRST, NOW.date())
    environment = Environment(SimulatorConfig(journal_lines=args.lines, now=NOW, seed=42))
    with ServerThread(environment) as server, tempfile.TemporaryDirectory() as folder:
        store = RawStore(Path(folder))
        settings = AfasSettings.create(
            token=environment.config.token_data, base_url=server.base_url
        )
        with contract_client(settings) as client:
            started = time.perf_counter()
            loaded = load_days(
                client,
                store,
                spec,
                days,
                administrations=None,
                run_id="load",
                first_partition=FIRST,
            )
            _print("load", 0.0, loaded.rows, 0, loaded.api_calls, started)
        for latency in args.latencies:
            server.app.state.simulator.injector.configure(FaultConfig(latency_ms=latency))
            with contract_client(settings) as client:
                started = time.perf_counter()
                run_id = f"rec-{latency:g}"
                report = reconcile(
                    client,
                    store,
                    spec,
                    days,
                    administrations=None,
                    run_id=run_id,
                    first_partition=FIRST,
                )
            healed = report.changed + report.missing + report.deleted + report.restored
            _print("reconcile", latency, report.keys_compared, healed, report.api_calls, started)
    return 0


def _print(step: str, latency: float, records: int, healed: int, calls: int, since: float) -> None:
    figures = {"step": step, "latency_ms": latency, "records": records, "healed": healed}
    seconds = round(time.perf_counter() - since, 2)
    print(json.dumps({**figures, "api_calls": calls, "seconds": seconds}), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
